import { z } from 'zod';
import { MAX_PIN_DIGITS, MIN_PIN_DIGITS } from './credentials.js';

export const MAX_PRESET_REASONS = 20;
export const MAX_PRESET_REASON_LENGTH = 100;
export const DEFAULT_TASK_CODE_PATTERN = '^WO-';

/** A task-code pattern as a RegExp, or null when it does not compile. */
export function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'i');
  } catch {
    return null;
  }
}

/** Site-wide rule settings. The server owns them and sends them to terminals. */
export const siteConfigSchema = z
  .object({
    /** CAP-1: default number of active tasks an operator may hold. */
    defaultTaskLimit: z.number().int().min(1).max(1000),
    /** COOL-1: minutes an operator must wait before re-claiming a task they released or rejected. */
    cooldownMinutes: z.number().int().min(0).max(7 * 24 * 60),
    /** EXP-1: minutes an assignment may stay unstarted before it expires; 0 disables expiry. */
    assignmentExpiryMinutes: z.number().int().min(0).max(30 * 24 * 60),
    /** CLM-13: a queued claim older than this is rejected as stale. */
    claimMaxAgeMinutes: z.number().int().min(1).max(30 * 24 * 60),
    /** XSTEP-1: pairs of step codes one person may not both do on the same work order. */
    exclusionPairs: z.array(z.tuple([z.string().min(1).max(64), z.string().min(1).max(64)])).max(200),
    /**
     * KIO-6: the reasons a kiosk offers when an operator rejects a task, in the plant's own words
     * (free text stays possible). Empty: the kiosk offers its built-in list in the screen's language.
     */
    rejectReasons: z.array(z.string().trim().min(1, 'must not be empty').max(MAX_PRESET_REASON_LENGTH)).max(MAX_PRESET_REASONS).default([]),
    /**
     * KIO-3: what a scanned work-order or task barcode looks like, as a regular expression; anything
     * else a scanner sends is a badge. The default takes codes that start with "WO-".
     */
    taskCodePattern: z
      .string()
      .min(1)
      .max(200)
      .refine((p) => compilePattern(p) !== null, 'must be a valid regular expression')
      .default(DEFAULT_TASK_CODE_PATTERN),
    /**
     * SEC-32: the fewest digits a PIN may have, wherever one is set (admin API, CLI, demo). PINs
     * are checked offline by kiosks, so a longer one is what makes a copied kiosk database slow to
     * guess. Existing shorter PINs keep working until they are changed. Not sent to terminals.
     */
    pinMinLength: z
      .number()
      .int()
      .min(MIN_PIN_DIGITS, `must be at least ${MIN_PIN_DIGITS}`)
      .max(MAX_PIN_DIGITS, `must be at most ${MAX_PIN_DIGITS} (the longest PIN a kiosk takes)`)
      .default(MIN_PIN_DIGITS),
  })
  .strict();

export type SiteConfig = z.infer<typeof siteConfigSchema>;

export const DEFAULT_SITE_CONFIG: SiteConfig = {
  defaultTaskLimit: 10,
  cooldownMinutes: 15,
  assignmentExpiryMinutes: 120,
  claimMaxAgeMinutes: 8 * 60,
  exclusionPairs: [['make', 'inspect']],
  rejectReasons: [],
  taskCodePattern: DEFAULT_TASK_CODE_PATTERN,
  pinMinLength: MIN_PIN_DIGITS,
};

export const MINUTE_MS = 60_000;
