/**
 * Settings and pure helpers of the supervisors' overview: the plant's time zone and shifts (what
 * "this shift" means for counts and charts), when an offline terminal with queued work is worth a
 * notification, and how an operator's performance is computed from their own history (PERF-1).
 * The server owns the settings; they are not part of the terminals' protocol.
 */
import { z } from 'zod';
import { MINUTE_MS } from './config.js';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Names already checked (isTimeZone): making a DateTimeFormat to check one costs 0.4 ms on a quiet
 * machine, and the settings are checked each time a reader loads them. The server's read thread
 * does that for every page read after another connection committed: in a profile of an overview's
 * first render under the kiosks' load, 120 ms of the thread's 1.5 s.
 */
const checkedTimeZones = new Map<string, boolean>();

/** True for a time zone name this runtime's Intl knows (IANA, e.g. "Europe/Berlin", or "UTC"). */
export function isTimeZone(name: string): boolean {
  // IANA names are short; a long string is no time zone, and is not remembered.
  if (name.length > 64) return false;
  const known = checkedTimeZones.get(name);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    valid = true;
  } catch {
    valid = false;
  }
  // Bounded: at most 256 names of at most 64 characters.
  if (checkedTimeZones.size >= 256) checkedTimeZones.clear();
  checkedTimeZones.set(name, valid);
  return valid;
}

export const supervisionSettingsSchema = z
  .object({
    /** The plant's time zone: shifts, "this shift" and chart axes are in it. */
    timeZone: z.string().min(1).max(64).refine(isTimeZone, 'is not a time zone name (e.g. Europe/Berlin or UTC)'),
    /** Local start times of the shifts, "HH:MM"; a shift lasts until the next one starts. */
    shiftStarts: z
      .array(z.string().regex(HH_MM, 'must be a time of day as HH:MM'))
      .min(1, 'needs at least one shift')
      .max(12)
      .refine((a) => new Set(a).size === a.length, 'must not list a time twice'),
    /** SUP-5: supervisors are told when a terminal with queued work has been offline this long. */
    terminalOfflineAlertMinutes: z.number().int().min(1).max(24 * 60),
    /** PERF-1: the window of history an operator's performance is computed over. */
    performanceWindowDays: z.number().int().min(1).max(365),
  })
  .strict();

export type SupervisionSettings = z.infer<typeof supervisionSettingsSchema>;

export const DEFAULT_SUPERVISION_SETTINGS: SupervisionSettings = {
  timeZone: 'UTC',
  shiftStarts: ['06:00', '14:00', '22:00'],
  terminalOfflineAlertMinutes: 10,
  performanceWindowDays: 30,
};

// ---------------------------------------------------------------------------------------------
// Time zones and shifts

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time in `timeZone` at instant `t`. */
export function localTime(t: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** How far `timeZone` is ahead of UTC at instant `t`, in ms. */
export function zoneOffset(t: number, timeZone: string): number {
  const l = localTime(t, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `timeZone` shows this local time: the earlier one in a
 * fold; for a time skipped by a jump forward, the instant it would be by the offset before the jump.
 */
export function fromLocalTime(l: Omit<LocalTime, 'second'> & { second?: number }, timeZone: string): number {
  const guess = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0);
  // The offsets in force around that day (zone transitions are more than a day apart).
  const before = guess - zoneOffset(guess - 24 * 60 * MINUTE_MS, timeZone);
  const after = guess - zoneOffset(guess + 24 * 60 * MINUTE_MS, timeZone);
  const shows = [before, after].filter((t) => t + zoneOffset(t, timeZone) === guess);
  return shows.length > 0 ? Math.min(...shows) : before;
}

export interface ShiftBounds {
  /** When the current shift started (epoch ms). */
  start: number;
  /** When the next one starts. */
  end: number;
  /** "HH:MM" of the current shift's start, in the plant's time zone. */
  label: string;
}

/** SUP-2: the shift `now` falls in, from the plant's local shift start times. */
export function shiftBounds(now: number, settings: Pick<SupervisionSettings, 'timeZone' | 'shiftStarts'>): ShiftBounds {
  const today = localTime(now, settings.timeZone);
  const starts: Array<{ t: number; label: string }> = [];
  for (const dayOffset of [-1, 0, 1]) {
    // Noon UTC of the local calendar day, moved by whole days, gives that day's date safely.
    const noon = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset, 12));
    for (const label of settings.shiftStarts) {
      const [h, m] = label.split(':').map(Number) as [number, number];
      starts.push({
        t: fromLocalTime({ year: noon.getUTCFullYear(), month: noon.getUTCMonth() + 1, day: noon.getUTCDate(), hour: h, minute: m }, settings.timeZone),
        label,
      });
    }
  }
  starts.sort((a, b) => a.t - b.t);
  let current = starts[0]!;
  let next = starts[starts.length - 1]!;
  for (let i = 0; i < starts.length; i++) {
    if (starts[i]!.t <= now) {
      current = starts[i]!;
      next = starts[i + 1] ?? { t: current.t + 24 * 60 * MINUTE_MS, label: current.label };
    }
  }
  return { start: current.t, end: next.t, label: current.label };
}

// ---------------------------------------------------------------------------------------------
// Performance (PERF-1)

/** How many finished assignments the configured starting score counts for. */
export const PERFORMANCE_PRIOR_WEIGHT = 5;

export interface PerformanceCounts {
  submitted: number;
  rejected: number;
  expired: number;
}

/**
 * PERF-1: an operator's performance over the window: the share of their finished assignments that
 * were submitted rather than rejected or expired, blended with their starting score (set by an
 * administrator, 0.8 by default) as if it were PERFORMANCE_PRIOR_WEIGHT assignments, so one bad day
 * of a new operator does not make them the last choice forever. In [0, 1], rounded to 3 places.
 */
export function performanceScore(counts: PerformanceCounts, prior: number): number {
  const finished = counts.submitted + counts.rejected + counts.expired;
  const score = (counts.submitted + PERFORMANCE_PRIOR_WEIGHT * prior) / (finished + PERFORMANCE_PRIOR_WEIGHT);
  return Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000;
}

/** Whole days since the epoch (UTC) of instant `t`: the key of the daily performance counters. */
export function epochDay(t: number): number {
  return Math.floor(t / (24 * 60 * MINUTE_MS));
}
