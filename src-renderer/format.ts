/** Dates and times for the screen, in the screen's language. */
import type { Locale } from '../src-shared/domain/i18n.js';

const tag = (locale: Locale) => (locale === 'zh' ? 'zh-CN' : 'en-GB');

export function formatTime(ms: number, locale: Locale): string {
  return new Date(ms).toLocaleTimeString(tag(locale), { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDue(ms: number, locale: Locale): string {
  return new Date(ms).toLocaleString(tag(locale), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
