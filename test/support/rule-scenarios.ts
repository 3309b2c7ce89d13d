/**
 * Every SPEC rule as a scenario against a running server, written once and run through each
 * route a user has: the WebSocket protocol (test/ws-rules.test.ts) and the HTTP API
 * (test/http-rules.test.ts). A driver performs operations as a named user.
 */
import { expect } from 'vitest';
import { MINUTE_MS } from '../../src-shared/domain/config.js';
import type { SyncTask } from '../../src-shared/protocol/terminal.js';
import type { TaskOperation } from '../../src-server/engine/mutations.js';
import { taskRow } from './plant.js';
import type { ServerStore } from '../../src-server/store/types.js';
import type { TestServer } from './server.js';

export type ActResult =
  | { ok: true; value: Record<string, unknown>; task: SyncTask | null }
  | {
      ok: false;
      code: string;
      message: string;
      details: Record<string, unknown>;
      retry: { canRetry: boolean; suggestion: string; actionText: string };
      task: SyncTask | null;
    };

export interface RuleDriver {
  /** 'terminal' (WebSocket) or 'http'. */
  route: 'terminal' | 'http';
  server: TestServer<ServerStore>;
  act(actor: string, op: TaskOperation): Promise<ActResult>;
  /** A claim that waited in a terminal outbox since `clientTime` (terminal route only). */
  queuedClaim?(actor: string, taskId: string, clientTime: number): Promise<ActResult>;
}

export interface Scenario {
  rule: string;
  title: string;
  /** Needs supervisor operations (HTTP only) or queued claims (terminal only). */
  only?: 'http' | 'terminal';
  run(d: RuleDriver): Promise<void>;
}

function expectError(r: ActResult, code: string): Extract<ActResult, { ok: false }> {
  if (r.ok) throw new Error(`expected ${code}, but the operation succeeded: ${JSON.stringify(r.value)}`);
  expect(r.code).toBe(code);
  expect(r.message.length).toBeGreaterThan(0);
  expect(typeof r.retry.canRetry).toBe('boolean');
  return r;
}

function expectOk(r: ActResult): Extract<ActResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message}`);
  return r;
}

const task = async (d: RuleDriver, id: string) => (await d.server.store.getTask(id, d.server.clock.now()))!;

export const scenarios: Scenario[] = [
  {
    rule: 'CLM-1',
    title: 'an unknown task is task_not_found',
    async run(d) {
      expectError(await d.act('ann', { name: 'claim', taskId: 'no-such-task' }), 'task_not_found');
    },
  },
  {
    rule: 'CLM-2',
    title: 'a task without a department cannot be claimed',
    async run(d) {
      await d.server.store.importTasks([taskRow('nodept', { departmentId: null })], d.server.clock.now());
      expectError(await d.act('ann', { name: 'claim', taskId: 'nodept' }), 'task_no_department');
    },
  },
  {
    rule: 'CLM-3',
    title: 'an operator outside the task department is refused, naming the department',
    async run(d) {
      const r = expectError(await d.act('qin', { name: 'claim', taskId: 't1' }), 'not_in_department');
      expect(r.message).toContain('Cutting');
    },
  },
  {
    rule: 'CLM-4',
    title: 'an operator at their limit is refused with the count and the limit',
    async run(d) {
      await d.server.store.updateUser('ann', { taskLimit: 1 }, d.server.clock.now());
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      const r = expectError(await d.act('ann', { name: 'claim', taskId: 't2' }), 'capacity_reached');
      expect(r.details).toMatchObject({ count: 1, limit: 1 });
      expect(r.message).toContain('1');
    },
  },
  {
    rule: 'CLM-5',
    title: 'draft, completed and cancelled tasks cannot be claimed, each with its own code',
    async run(d) {
      expectError(await d.act('ann', { name: 'claim', taskId: 'draft1' }), 'task_draft');
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
      expectOk(await d.act('bob', { name: 'start', taskId: 't1' }));
      expectOk(await d.act('bob', { name: 'complete', taskId: 't1' }));
      expectError(await d.act('ann', { name: 'claim', taskId: 't1' }), 'task_completed');
      await d.server.store.importTasks([taskRow('t2', { status: 'cancelled' })], d.server.clock.now());
      expectError(await d.act('ann', { name: 'claim', taskId: 't2' }), 'task_cancelled');
    },
  },
  {
    rule: 'CLM-6',
    title: 're-claiming one own task succeeds with alreadyClaimed and changes nothing',
    async run(d) {
      const first = expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expect(first.value.alreadyClaimed).toBe(false);
      const again = expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expect(again.value.alreadyClaimed).toBe(true);
      expect((await task(d, 't1')).version).toBe(2);
      expect(await d.server.store.listAssignments('t1')).toHaveLength(1);
      expect((await d.server.store.listNotifications('ann', 10)).filter((n) => n.taskId === 't1')).toHaveLength(1);
    },
  },
  {
    rule: 'CLM-7',
    title: 'a task held by someone else is a conflict naming them, with a retry suggestion',
    async run(d) {
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
      const r = expectError(await d.act('ann', { name: 'claim', taskId: 't1' }), 'task_conflict');
      expect(r.details).toMatchObject({ taskId: 't1', currentOwner: { id: 'bob', name: 'Name bob' } });
      expect(r.message).toContain('Name bob');
      expect(r.retry).toMatchObject({ canRetry: true, actionText: 'Refresh' });
    },
  },
  {
    rule: 'CLM-8',
    title: 'a claim records the assignment, a notification and an audit event naming the route',
    async run(d) {
      const r = expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expect(r.task).toMatchObject({ id: 't1', operatorId: 'ann', version: 2 });
      expect(await d.server.store.listAssignments('t1')).toEqual([expect.objectContaining({ userId: 'ann', status: 'accepted' })]);
      expect((await d.server.store.listNotifications('ann', 5))[0]).toMatchObject({ event: 'task_claimed', taskId: 't1' });
      const audit = await d.server.store.listAudit({ taskId: 't1', limit: 5 });
      expect(audit[0]).toMatchObject({ action: 'claim', outcome: 'applied', actorId: 'ann', via: d.route, at: d.server.clock.now() });
      if (d.route === 'terminal') expect(audit[0]!.terminalId).toBeTruthy();
    },
  },
  {
    rule: 'CLM-10',
    title: 'a deactivated operator can no longer claim',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't2' }));
      await d.server.store.updateUser('ann', { active: false }, d.server.clock.now());
      const r = await d.act('ann', { name: 'claim', taskId: 't1' });
      expect(r.ok).toBe(false);
      expect(['user_inactive', 'unauthenticated']).toContain(!r.ok && r.code);
      expect((await task(d, 't1')).operatorId).toBeNull();
    },
  },
  {
    rule: 'CLM-11',
    title: 'after a release the same operator waits out the cooldown on the server clock',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expectOk(await d.act('ann', { name: 'release', taskId: 't1' }));
      const r = expectError(await d.act('ann', { name: 'claim', taskId: 't1' }), 'cooldown_active');
      expect(r.details.minutesLeft).toBe(15);
      d.server.clock.advance(15 * MINUTE_MS);
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
    },
  },
  {
    rule: 'CLM-12',
    title: 'the maker of a work order may not claim its inspection',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 'make1' }));
      const r = expectError(await d.act('ann', { name: 'claim', taskId: 'insp1' }), 'cross_step_excluded');
      expect(r.details).toMatchObject({ step: 'make', conflictingStep: 'inspect' });
      expectOk(await d.act('bob', { name: 'claim', taskId: 'insp1' }));
    },
  },
  {
    rule: 'CLM-13',
    title: 'a claim queued longer than a shift is rejected as stale',
    only: 'terminal',
    async run(d) {
      const now = d.server.clock.now();
      const r = expectError(await d.queuedClaim!('ann', 't1', now - 9 * 60 * MINUTE_MS), 'claim_stale');
      expect(r.details).toMatchObject({ maxAgeMinutes: 480 });
      expect((await task(d, 't1')).operatorId).toBeNull();
      expectOk(await d.queuedClaim!('ann', 't2', now - 7 * 60 * MINUTE_MS));
    },
  },
  {
    rule: 'HLD-1',
    title: 'only the holder may act on a task; others get a conflict naming the holder',
    async run(d) {
      expectError(await d.act('ann', { name: 'start', taskId: 't1' }), 'task_not_claimed');
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      for (const name of ['start', 'complete', 'release'] as const) {
        const r = expectError(await d.act('bob', { name, taskId: 't1' }), 'task_conflict');
        expect(r.details.currentOwner).toMatchObject({ id: 'ann' });
      }
      expectError(await d.act('bob', { name: 'reject', taskId: 't1', reason: 'mine now' }), 'task_conflict');
    },
  },
  {
    rule: 'STA-1',
    title: 'start moves the task to in_progress; starting again is idempotent',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expect(expectOk(await d.act('ann', { name: 'start', taskId: 't1' })).value.alreadyStarted).toBe(false);
      expect(expectOk(await d.act('ann', { name: 'start', taskId: 't1' })).value.alreadyStarted).toBe(true);
      expect(await task(d, 't1')).toMatchObject({ status: 'in_progress', version: 3 });
    },
  },
  {
    rule: 'CMP-1',
    title: 'complete needs a started task and frees capacity',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expectError(await d.act('ann', { name: 'complete', taskId: 't1' }), 'task_not_started');
      expectOk(await d.act('ann', { name: 'start', taskId: 't1' }));
      expectOk(await d.act('ann', { name: 'complete', taskId: 't1' }));
      expect(await task(d, 't1')).toMatchObject({ status: 'completed', operatorId: 'ann' });
      expect((await d.server.store.listAssignments('t1'))[0]!.status).toBe('submitted');
    },
  },
  {
    rule: 'REL-1',
    title: 'release returns the task to the pool with a cooldown',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expectOk(await d.act('ann', { name: 'release', taskId: 't1' }));
      const t = await task(d, 't1');
      expect(t).toMatchObject({ operatorId: null, status: 'pending' });
      expect(t.cooldowns).toEqual([{ userId: 'ann', until: d.server.clock.now() + 15 * MINUTE_MS }]);
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
    },
  },
  {
    rule: 'REJ-1',
    title: 'reject needs a reason and records it',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expectError(await d.act('ann', { name: 'reject', taskId: 't1', reason: '  ' }), 'reason_required');
      expectOk(await d.act('ann', { name: 'reject', taskId: 't1', reason: 'drawing is missing' }));
      expect((await d.server.store.listAssignments('t1'))[0]).toMatchObject({ status: 'rejected', reason: 'drawing is missing' });
    },
  },
  {
    rule: 'EXP-1',
    title: 'an unstarted assignment expires on the server clock',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      d.server.clock.advance(120 * MINUTE_MS);
      await d.server.ctx.committer.submit({ kind: 'expire' });
      expect((await task(d, 't1')).operatorId).toBeNull();
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
    },
  },
  {
    rule: 'ASG-1',
    title: 'only supervisors of the department (or admins) assign',
    only: 'http',
    async run(d) {
      expectError(await d.act('bob', { name: 'assign', taskId: 't1', userId: 'ann' }), 'permission_denied');
      expectOk(await d.act('sue', { name: 'assign', taskId: 't1', userId: 'ann' }));
    },
  },
  {
    rule: 'ASG-2',
    title: 'the assign target passes the department and capacity checks',
    only: 'http',
    async run(d) {
      expectError(await d.act('sue', { name: 'assign', taskId: 't1', userId: 'qin' }), 'not_in_department');
      await d.server.store.updateUser('ann', { taskLimit: 0 }, d.server.clock.now());
      expectError(await d.act('sue', { name: 'assign', taskId: 't1', userId: 'ann' }), 'capacity_reached');
    },
  },
  {
    rule: 'ASG-3',
    title: 'assigning a held task is a conflict naming the holder',
    only: 'http',
    async run(d) {
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
      const r = expectError(await d.act('sue', { name: 'assign', taskId: 't1', userId: 'ann' }), 'task_conflict');
      expect(r.details.currentOwner).toMatchObject({ id: 'bob' });
    },
  },
  {
    rule: 'ASG-4',
    title: 'assigning a task to its holder is a duplicate (DUP-1)',
    only: 'http',
    async run(d) {
      expectOk(await d.act('ann', { name: 'claim', taskId: 't1' }));
      expectError(await d.act('sue', { name: 'assign', taskId: 't1', userId: 'ann' }), 'duplicate_assignment');
    },
  },
  {
    rule: 'RSG-1',
    title: 'reassign moves a held task and notifies both people',
    only: 'http',
    async run(d) {
      expectError(await d.act('sue', { name: 'reassign', taskId: 't1', userId: 'ann' }), 'task_not_claimed');
      expectOk(await d.act('bob', { name: 'claim', taskId: 't1' }));
      expectOk(await d.act('sue', { name: 'reassign', taskId: 't1', userId: 'ann' }));
      expect((await task(d, 't1')).operatorId).toBe('ann');
      expect((await d.server.store.listNotifications('bob', 5))[0]).toMatchObject({ event: 'task_reassigned_away' });
      expect((await d.server.store.listNotifications('ann', 5))[0]).toMatchObject({ event: 'task_assigned' });
    },
  },
];
