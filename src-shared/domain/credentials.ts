/**
 * The one rule for what a badge number and a PIN may be, used wherever one is given: the admin
 * API and CLI that set them, and the terminal's sign-in that checks them.
 */
import { z } from 'zod';
import { normalizeBadge } from '../crypto/hash.js';

export const MAX_BADGE_LENGTH = 64;
export const MIN_PIN_DIGITS = 4;
export const MAX_PIN_DIGITS = 12;
export const PIN_PATTERN = /^\d{4,12}$/;
export const PIN_RULE = 'must be 4 to 12 digits';

export const pinSchema = z.string().regex(PIN_PATTERN, PIN_RULE);

/**
 * SEC-32: a PIN being set must also have the site's minimum length (`pinMinLength`); null when
 * it has, else what is wrong. Checking a PIN at sign-in never applies this (old PINs keep working).
 */
export function pinPolicyProblem(pin: string, pinMinLength: number): string | null {
  if (!PIN_PATTERN.test(pin)) return PIN_RULE;
  if (pin.length < pinMinLength) return `must have at least ${pinMinLength} digits (the site's pinMinLength)`;
  return null;
}

/** As typed or scanned; spaces are ignored and letters upper-cased when it is hashed. */
export const badgeSchema = z
  .string()
  .max(MAX_BADGE_LENGTH, `must be at most ${MAX_BADGE_LENGTH} characters`)
  .refine((s) => normalizeBadge(s).length > 0, 'must not be empty');
