/**
 * KIO-8: every string the kiosk shows exists in English and in Simplified Chinese: the keys
 * written out in its sources, and every member of the families built at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { messagesEn, messagesZh } from '../../src-shared/domain/i18n.js';
import { OPERATOR_NOTIFICATION_EVENTS } from '../../src-shared/protocol/terminal.js';
import { TASK_STATUSES } from '../../src-shared/domain/types.js';
import { ACTOR_EVENTS } from '../stores/notifications.js';
import { uiEn, uiZh } from './ui.js';

const en = { ...messagesEn, ...uiEn };
const zh = { ...messagesZh, ...uiZh };
const ROOT = path.resolve(import.meta.dirname, '..');

function kioskSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'supervisor' ? [] : kioskSources(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const dynamic = [
  ...OPERATOR_NOTIFICATION_EVENTS.map((e) => `ntf.${e}`),
  ...ACTOR_EVENTS.map((e) => `ntf.${e}_noActor`),
  ...TASK_STATUSES.map((s) => `task.status.${s}`),
  ...['claim', 'accept', 'start', 'complete', 'release', 'reject'].flatMap((o) => [`task.${o}`, `op.${o}`, `done.${o}`]),
  ...['online', 'offline', 'syncing', 'connecting'].map((s) => `status.${s}`),
  ...[1, 2, 3, 4, 5].map((i) => `reject.preset.${i}`),
  ...['offlineTitle', 'offlineTaken', 'offlineRefused', 'takenTitle', 'onlineTaken', 'refusedTitle', 'onlineRefused'].map((k) => `conflict.${k}`),
  ...['unknown_badge', 'wrong_pin', 'pin_required', 'pin_not_set'].map((r) => `error.sign_in_failed.${r}`),
];

describe('KIO-8 the kiosk in English and Chinese', () => {
  it('has every key its sources use, in both languages', () => {
    const used = new Set<string>(dynamic);
    for (const file of kioskSources(ROOT)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/['`]((?:app|link|status|locale|enroll|badge|pin|work|filter|task|done|scan|ntf|reject|keyboard|conflict|op|idle|error)\.[A-Za-z0-9_.]+)['`]/g)) {
        used.add(m[1]!);
      }
    }
    expect(used.size).toBeGreaterThan(120);
    const missing = [...used].filter((k) => !(k in en) || !(k in zh));
    expect(missing).toEqual([]);
  });

  it('has the same keys in both languages, with the same placeholders', () => {
    expect(Object.keys(uiZh).sort()).toEqual(Object.keys(uiEn).sort());
    const placeholders = (s: string) => [...new Set([...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]))].sort();
    for (const key of Object.keys(uiEn)) expect([key, placeholders(uiZh[key]!)]).toEqual([key, placeholders(uiEn[key]!)]);
  });
});
