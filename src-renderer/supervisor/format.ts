/**
 * Times and durations as the overview shows them: in the plant's time zone (the supervision
 * settings), in the page's language.
 */
import { fromLocalTime, localTime } from '../../src-shared/domain/supervision.js';
import type { Locale } from '../../src-shared/domain/i18n.js';

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: Locale, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : 'en-GB', { timeZone, ...options });
    cache.set(key, f);
  }
  return f;
}

/** 14:05 */
export function formatClock(t: number, timeZone: string, locale: Locale): string {
  return formatter(locale, timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
}

/** 26 Nov, 14:05 (the date only when it is not today in the plant). */
export function formatWhen(t: number, now: number, timeZone: string, locale: Locale): string {
  const a = localTime(t, timeZone);
  const b = localTime(now, timeZone);
  if (a.year === b.year && a.month === b.month && a.day === b.day) return formatClock(t, timeZone, locale);
  return formatter(locale, timeZone, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
}

/** 2026-11-26 14:05:09 in the plant's time zone (the audit trail on screen; its CSV export writes UTC, ISO 8601). */
export function formatStamp(t: number, timeZone: string): string {
  const l = localTime(t, timeZone);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${p(l.month)}-${p(l.day)} ${p(l.hour)}:${p(l.minute)}:${p(l.second)}`;
}

/** 1 h 05 min, 12 min, 40 s */
export function formatDuration(ms: number, locale: Locale): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const zh = locale === 'zh';
  if (h > 0) return zh ? `${h} 小时 ${m} 分` : `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return zh ? `${m} 分钟` : `${m} min`;
  return zh ? `${s} 秒` : `${s} s`;
}

/** An <input type="datetime-local"> value (plant time) as an instant, or null. */
export function localInputToInstant(value: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  return fromLocalTime({ year: y, month: mo, day: d, hour: h, minute: mi }, timeZone);
}

const collators = new Map<Locale, Intl.Collator>();

/** The order of names in the screen's language (Chinese by pinyin, not by code point). */
export function nameCollator(locale: Locale): Intl.Collator {
  let c = collators.get(locale);
  if (!c) {
    c = new Intl.Collator(locale === 'zh' ? 'zh-CN' : 'en');
    collators.set(locale, c);
  }
  return c;
}

/** Names in the screen's language's order (Chinese by pinyin, not by code point). */
export function compareNames(a: string, b: string, locale: Locale): number {
  return nameCollator(locale).compare(a, b);
}

/**
 * `collator`'s order as a comparison that looks each of `known` up by its rank (a sort of 50,000
 * rows by a few hundred names costs what a code point sort does); names not known are compared by
 * the collator, which agrees with the ranks.
 */
export function rankedOrder(known: Iterable<string>, collator: Intl.Collator): (a: string, b: string) => number {
  const rank = new Map([...new Set(known)].sort(collator.compare).map((name, i) => [name, i]));
  return (a, b) => {
    const ra = rank.get(a);
    const rb = rank.get(b);
    return ra !== undefined && rb !== undefined ? ra - rb : collator.compare(a, b);
  };
}
