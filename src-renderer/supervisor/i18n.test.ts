/**
 * Every string the overview shows exists in English and in Simplified Chinese: the keys written
 * out in its sources, and every member of the families built at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_ASSIGN_STRATEGIES } from '../../src-shared/domain/autoassign.js';
import { BOARD_STATES, TASK_FLAGS } from '../../src-shared/domain/board.js';
import { messagesEn, messagesZh } from '../../src-shared/domain/i18n.js';
import { EXCEPTION_KINDS } from '../../src-shared/domain/rules.js';
import { ASSIGNMENT_STATUSES } from '../../src-shared/domain/types.js';
import { uiEn, uiZh } from '../i18n/ui.js';
import { supervisorEn, supervisorZh } from './i18n.js';
import { VIEWS } from './stores/view.js';

const en = { ...messagesEn, ...uiEn, ...supervisorEn };
const zh = { ...messagesZh, ...uiZh, ...supervisorZh };

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const dynamic = [
  ...VIEWS.map((v) => `sv.view.${v}`),
  ...BOARD_STATES.map((s) => `sv.state.${s}`),
  ...TASK_FLAGS.map((f) => `sv.flag.${f}`),
  ...EXCEPTION_KINDS.flatMap((k) => [`sv.exception.kind.${k}`, `sv.exception.text.${k}`]),
  ...['acknowledged', 'claimed', 'assigned', 'cancelled'].map((r) => `sv.exception.resolution.${r}`),
  ...['claim', 'start', 'complete', 'release', 'reject', 'accept'].map((o) => `sv.op.${o}`),
  // ERR-3: refusals in the exceptions feed whose message would need numbers it does not keep.
  ...['capacity_reached', 'cooldown_active', 'cross_step_excluded', 'claim_stale', 'not_in_department', 'not_signed_in', 'user_inactive'].map((c) => `sv.exception.code.${c}`),
  // Every action the server writes to the audit trail (engine, HTTP routes, CLI): named in words.
  ...[
    ...['claim', 'accept', 'start', 'complete', 'release', 'reject', 'assign', 'reassign', 'unassign', 'cancel', 'auto_assign', 'expire'],
    ...['signIn', 'signOut', 'sign_in', 'readNotifications', 'import', 'exception_acknowledge'],
    ...['department_create', 'department_update', 'user_create', 'user_update', 'terminal_create', 'terminal_update', 'terminal_reenroll'],
    ...['token_create', 'token_revoke', 'config_update', 'supervision_update'],
  ].map((a) => `sv.audit.action.${a}`),
  ...AUTO_ASSIGN_STRATEGIES.flatMap((s) => [`sv.auto.strategy.${s}`, `sv.auto.strategyHelp.${s}`]),
  ...['capacity_reached', 'cooldown_active', 'cross_step_excluded', 'no_eligible_operator'].map((c) => `sv.auto.reason.${c}`),
  ...['pending', 'claimed', 'inProgress', 'completedThisShift', 'overdue', 'rejected', 'expired'].map((c) => `sv.summary.${c}`),
  ...['live', 'connecting', 'reconnecting', 'stale', 'stopped'].map((k) => `sv.live.${k}`),
  ...['signedOut', 'expired', 'revoked', 'inactive', 'forbidden', 'incompatible'].map((r) => `sv.signin.ended.${r}`),
  ...['password', 'badge'].map((m) => `sv.signin.method.${m}`),
  ...ASSIGNMENT_STATUSES.map((s) => `sv.assignment.${s}`),
  ...['terminal', 'http', 'cli', 'system'].map((v) => `sv.via.${v}`),
  ...['conflicts', 'refusals', 'rejections', 'expiries'].map((s) => `sv.charts.series.${s}`),
  ...['task_rejected', 'terminal_offline'].map((e) => `notification.${e}`),
  ...['locale.en', 'locale.zh', 'page.prev', 'page.next', 'page.range'],
];

describe('ERR-1 SUP-1 the overview in English and Chinese', () => {
  it('ERR-1 a refusal of a task that is finished or cancelled says so, in Chinese too, whatever the operation (not "cannot be claimed")', () => {
    for (const code of ['task_completed', 'task_cancelled', 'task_draft']) {
      expect(zh[`error.${code}`]).not.toMatch(/认领/);
      expect(zh[`suggestion.${code}`]).toBeDefined();
    }
  });

  it('has every key its sources use, in both languages', () => {
    const used = new Set<string>(dynamic);
    for (const file of sources(import.meta.dirname)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/['`]((?:sv|sv\.toast|notification)\.[A-Za-z0-9_.]+)['`]/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(200);
    const missing = [...used].filter((k) => !(k in en) || !(k in zh));
    expect(missing).toEqual([]);
  });

  it('has the same keys in both languages, with the same placeholders', () => {
    expect(Object.keys(supervisorZh).sort()).toEqual(Object.keys(supervisorEn).sort());
    const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(supervisorEn)) expect([key, placeholders(supervisorZh[key]!)]).toEqual([key, placeholders(supervisorEn[key]!)]);
  });
});
