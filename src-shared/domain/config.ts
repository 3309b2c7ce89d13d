import { z } from 'zod';

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
  })
  .strict();

export type SiteConfig = z.infer<typeof siteConfigSchema>;

export const DEFAULT_SITE_CONFIG: SiteConfig = {
  defaultTaskLimit: 10,
  cooldownMinutes: 15,
  assignmentExpiryMinutes: 120,
  claimMaxAgeMinutes: 8 * 60,
  exclusionPairs: [['make', 'inspect']],
};

export const MINUTE_MS = 60_000;
