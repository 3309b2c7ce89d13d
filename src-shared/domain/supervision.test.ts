import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SUPERVISION_SETTINGS,
  PERFORMANCE_PRIOR_WEIGHT,
  epochDay,
  fromLocalTime,
  isTimeZone,
  localTime,
  performanceScore,
  shiftBounds,
  supervisionSettingsSchema,
  zoneOffset,
} from './supervision.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3600_000;
const THREE = ['06:00', '14:00', '22:00'];

function bounds(iso: string, timeZone: string, shiftStarts = THREE) {
  const b = shiftBounds(at(iso), { timeZone, shiftStarts });
  return { start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString(), label: b.label, hours: (b.end - b.start) / HOUR };
}

describe('shift bounds', () => {
  it('SUP-2 the shift "now" falls in, in UTC; a start time belongs to the shift it starts', () => {
    expect(bounds('2026-01-05T07:30:00Z', 'UTC')).toEqual({ start: '2026-01-05T06:00:00.000Z', end: '2026-01-05T14:00:00.000Z', label: '06:00', hours: 8 });
    expect(bounds('2026-01-05T13:59:59.999Z', 'UTC').label).toBe('06:00');
    expect(bounds('2026-01-05T14:00:00Z', 'UTC')).toMatchObject({ start: '2026-01-05T14:00:00.000Z', end: '2026-01-05T22:00:00.000Z', label: '14:00' });
  });

  it('SUP-2 a night shift crosses midnight: before and after midnight it is the same shift', () => {
    const before = bounds('2026-01-05T23:10:00Z', 'UTC');
    const after = bounds('2026-01-06T02:00:00Z', 'UTC');
    expect(before).toEqual({ start: '2026-01-05T22:00:00.000Z', end: '2026-01-06T06:00:00.000Z', label: '22:00', hours: 8 });
    expect(after).toEqual(before);
    // Just after midnight on the first day of a month and of a year.
    expect(bounds('2026-01-01T00:30:00Z', 'UTC')).toMatchObject({ start: '2025-12-31T22:00:00.000Z', end: '2026-01-01T06:00:00.000Z' });
  });

  it('SUP-2 shift times are the plant\u2019s local times: Berlin in winter (UTC+1) and summer (UTC+2), Kolkata (UTC+5:30)', () => {
    expect(bounds('2026-01-05T05:30:00Z', 'Europe/Berlin')).toMatchObject({ start: '2026-01-05T05:00:00.000Z', end: '2026-01-05T13:00:00.000Z', label: '06:00' });
    expect(bounds('2026-07-01T05:00:00Z', 'Europe/Berlin')).toMatchObject({ start: '2026-07-01T04:00:00.000Z', end: '2026-07-01T12:00:00.000Z', label: '06:00' });
    // 04:45 UTC is 22:45 the evening before in Chicago (UTC-6): the night shift of the 4th.
    expect(bounds('2026-01-05T04:45:00Z', 'America/Chicago')).toMatchObject({ start: '2026-01-05T04:00:00.000Z', end: '2026-01-05T12:00:00.000Z', label: '22:00' });
    expect(bounds('2026-01-05T01:00:00Z', 'Asia/Kolkata')).toMatchObject({ start: '2026-01-05T00:30:00.000Z', end: '2026-01-05T08:30:00.000Z', label: '06:00' });
  });

  it('SUP-2 the night the clocks go forward in Berlin the night shift lasts 7 hours; the next shift starts at 06:00 summer time', () => {
    // 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST.
    const night = bounds('2026-03-29T02:00:00Z', 'Europe/Berlin');
    expect(night).toEqual({ start: '2026-03-28T21:00:00.000Z', end: '2026-03-29T04:00:00.000Z', label: '22:00', hours: 7 });
    expect(bounds('2026-03-29T00:59:59Z', 'Europe/Berlin')).toEqual(night);
    expect(bounds('2026-03-29T04:00:00Z', 'Europe/Berlin')).toEqual({ start: '2026-03-29T04:00:00.000Z', end: '2026-03-29T12:00:00.000Z', label: '06:00', hours: 8 });
  });

  it('SUP-2 the night the clocks go back in Berlin the night shift lasts 9 hours, both passes through 02:30 included', () => {
    // 2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    const night = { start: '2026-10-24T20:00:00.000Z', end: '2026-10-25T05:00:00.000Z', label: '22:00', hours: 9 };
    expect(bounds('2026-10-25T00:30:00Z', 'Europe/Berlin')).toEqual(night);
    expect(bounds('2026-10-25T01:30:00Z', 'Europe/Berlin')).toEqual(night);
    expect(bounds('2026-10-25T05:00:00Z', 'Europe/Berlin')).toMatchObject({ start: '2026-10-25T05:00:00.000Z', label: '06:00', hours: 8 });
  });

  it('SUP-2 a shift starting at a time the clocks pass twice starts at its first pass; one in the skipped hour starts when the clocks jump past it', () => {
    // 02:30 on 2026-10-25 in Berlin is first 00:30 UTC (CEST), then 01:30 UTC (CET): the earlier one.
    expect(fromLocalTime({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
    const fold = bounds('2026-10-25T00:45:00Z', 'Europe/Berlin', ['02:30', '14:00']);
    expect(fold).toMatchObject({ start: '2026-10-25T00:30:00.000Z', label: '02:30' });
    // 02:30 on 2026-03-29 never shows on a Berlin clock; it is never before the jump (01:00 UTC, when clocks show 02:00 CET).
    const gap = fromLocalTime({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin');
    expect(gap).toBeGreaterThanOrEqual(at('2026-03-29T01:00:00Z'));
    expect(localTime(gap, 'Europe/Berlin').hour).toBe(3);
    expect(bounds('2026-03-29T00:45:00Z', 'Europe/Berlin', ['02:30', '14:00']).label).toBe('14:00');
  });

  it('SUP-2 one shift a day lasts 24 hours; shift starts given out of order still work', () => {
    expect(bounds('2026-01-05T12:00:00Z', 'UTC', ['00:00'])).toEqual({ start: '2026-01-05T00:00:00.000Z', end: '2026-01-06T00:00:00.000Z', label: '00:00', hours: 24 });
    expect(bounds('2026-01-05T12:00:00Z', 'UTC', ['22:00', '06:00'])).toMatchObject({ start: '2026-01-05T06:00:00.000Z', end: '2026-01-05T22:00:00.000Z', label: '06:00' });
    expect(bounds('2026-01-05T03:00:00Z', 'UTC', ['22:00', '06:00'])).toMatchObject({ start: '2026-01-04T22:00:00.000Z', end: '2026-01-05T06:00:00.000Z', label: '22:00' });
  });

  it('SUP-2 local time and zone offset helpers agree with the zone rules', () => {
    expect(localTime(at('2026-07-01T22:30:15Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 7, day: 2, hour: 0, minute: 30, second: 15 });
    expect(zoneOffset(at('2026-01-05T12:00:00Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(zoneOffset(at('2026-07-05T12:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(zoneOffset(at('2026-01-05T12:00:00Z'), 'America/New_York')).toBe(-5 * HOUR);
    expect(fromLocalTime({ year: 2026, month: 1, day: 5, hour: 6, minute: 0 }, 'America/New_York')).toBe(at('2026-01-05T11:00:00Z'));
  });
});

describe('supervision settings', () => {
  it('SUP-2 settings need a known time zone name and distinct HH:MM shift starts', () => {
    expect(supervisionSettingsSchema.parse(DEFAULT_SUPERVISION_SETTINGS)).toEqual(DEFAULT_SUPERVISION_SETTINGS);
    const field = (over: Record<string, unknown>) => {
      const r = supervisionSettingsSchema.safeParse({ ...DEFAULT_SUPERVISION_SETTINGS, ...over });
      return r.success ? null : r.error.issues[0]!.path.join('.');
    };
    expect(field({ timeZone: 'Europe/Berlin' })).toBeNull();
    expect(field({ timeZone: 'Mars/Olympus_Mons' })).toBe('timeZone');
    expect(field({ timeZone: '' })).toBe('timeZone');
    expect(field({ shiftStarts: ['6:00'] })).toBe('shiftStarts.0');
    expect(field({ shiftStarts: ['24:00'] })).toBe('shiftStarts.0');
    expect(field({ shiftStarts: ['06:60'] })).toBe('shiftStarts.0');
    expect(field({ shiftStarts: ['06:00', '06:00'] })).toBe('shiftStarts');
    expect(field({ shiftStarts: [] })).toBe('shiftStarts');
    expect(field({ terminalOfflineAlertMinutes: 0 })).toBe('terminalOfflineAlertMinutes');
    expect(field({ performanceWindowDays: 366 })).toBe('performanceWindowDays');
    expect(field({ extra: true })).toBe('');
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Not/AZone')).toBe(false);
  });
});

describe('performance', () => {
  it('PERF-1 with no history the score is the starting score', () => {
    expect(performanceScore({ submitted: 0, rejected: 0, expired: 0 }, 0.8)).toBe(0.8);
    expect(performanceScore({ submitted: 0, rejected: 0, expired: 0 }, 0.35)).toBe(0.35);
  });

  it('PERF-1 the score is (submitted + 5 × prior) / (finished + 5), rounded to 3 places', () => {
    expect(PERFORMANCE_PRIOR_WEIGHT).toBe(5);
    expect(performanceScore({ submitted: 2, rejected: 0, expired: 0 }, 0.8)).toBe(0.857);
    expect(performanceScore({ submitted: 0, rejected: 2, expired: 0 }, 0.8)).toBe(0.571);
    // Rejections and expiries weigh the same.
    expect(performanceScore({ submitted: 0, rejected: 1, expired: 1 }, 0.8)).toBe(performanceScore({ submitted: 0, rejected: 2, expired: 0 }, 0.8));
    expect(performanceScore({ submitted: 8, rejected: 1, expired: 1 }, 0.8)).toBe(0.8);
    expect(performanceScore({ submitted: 2, rejected: 1, expired: 0 }, 0.7)).toBe(0.688);
  });

  it('PERF-1 one bad day does not sink a new operator; a long record outweighs the starting score', () => {
    expect(performanceScore({ submitted: 0, rejected: 1, expired: 0 }, 0.8)).toBeGreaterThan(0.6);
    expect(performanceScore({ submitted: 0, rejected: 100, expired: 0 }, 0.8)).toBeLessThan(0.05);
    expect(performanceScore({ submitted: 100, rejected: 0, expired: 0 }, 0.2)).toBeGreaterThan(0.95);
  });

  it('PERF-1 the score stays within 0..1 whatever the starting score', () => {
    expect(performanceScore({ submitted: 3, rejected: 0, expired: 0 }, 1.5)).toBe(1);
    expect(performanceScore({ submitted: 0, rejected: 3, expired: 0 }, -1)).toBe(0);
  });

  it('PERF-1 history is kept per UTC day', () => {
    expect(epochDay(at('2026-01-05T00:00:00Z'))).toBe(epochDay(at('2026-01-05T23:59:59.999Z')));
    expect(epochDay(at('2026-01-06T00:00:00Z')) - epochDay(at('2026-01-05T23:59:59.999Z'))).toBe(1);
    expect(epochDay(0)).toBe(0);
  });
});
