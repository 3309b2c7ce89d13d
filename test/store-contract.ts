/**
 * The contract every server store backend must pass. SQLite runs it in store-sqlite.test.ts;
 * a PostgreSQL backend will run the same suite with its own factory.
 */
import { afterEach, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import { compareClaimable, isClaimableBy } from '../src-shared/domain/rules.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import type { Task } from '../src-shared/domain/types.js';
import { autoAssign, expireDue, terminalMutation, userOperation, type TaskOperation } from '../src-server/engine/mutations.js';
import { ask, type Eng } from '../src-server/engine/ports.js';
import { TerminalOrder, unitFor, unitHint, type UnitDescriptor } from '../src-server/engine/units.js';
import type { ServerStore } from '../src-server/store/types.js';
import { T0, newUser, seedPlant, taskRow } from './support/plant.js';

export interface StoreFactory {
  name: string;
  create(): Promise<ServerStore>;
  /** Close and open the same store again (a restart). */
  reopen(store: ServerStore): Promise<ServerStore>;
  cleanup(): Promise<void>;
  /** Only the tests whose names match (a variant of a backend that differs in these alone). */
  only?: RegExp;
}

export function storeContract(factory: StoreFactory): void {
  describe(`server store contract: ${factory.name}`, () => {
    const it = (name: string, fn: () => Promise<void>) => {
      if (!factory.only || factory.only.test(name)) vitestIt(name, fn);
    };
    let store: ServerStore;
    beforeEach(async () => {
      store = await factory.create();
      await seedPlant(store);
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup();
    });

    async function one<T>(unit: () => Eng<T>): Promise<T> {
      const g = await store.runGroup([unit]);
      const r = g.results[0]!;
      if (!r.ok) throw r.error;
      return r.value;
    }
    const op = (o: TaskOperation, actor: string, now = T0) => one(() => userOperation(o, actor, now));
    const signIn = (terminalId: string, id: number, operatorId: string, now = T0) =>
      one(() => terminalMutation({ terminalId, id, raw: { id, name: 'signIn', args: { method: 'badge' }, operatorId, clientTime: now } }, now));
    const mutate = (terminalId: string, id: number, name: string, args: unknown, operatorId: string, now = T0, clientTime = now) =>
      one(() => terminalMutation({ terminalId, id, raw: { id, name, args, operatorId, clientTime } }, now));

    it('CLM-8 a claim through the store sets the holder, bumps the version, writes an assignment, a notification and an audit event', async () => {
      const r = await op({ name: 'claim', taskId: 't1' }, 'ann');
      expect(r.ok).toBe(true);
      expect(r.task).toMatchObject({ id: 't1', operatorId: 'ann', operatorName: 'Name ann', version: 2, workedBy: ['ann'] });
      expect(await store.listAssignments('t1')).toEqual([expect.objectContaining({ userId: 'ann', status: 'accepted', step: 'cut' })]);
      expect(await store.listNotifications('ann', 10)).toEqual([expect.objectContaining({ event: 'task_claimed', taskId: 't1' })]);
      expect(await store.listAudit({ taskId: 't1', limit: 10 })).toEqual([
        expect.objectContaining({ action: 'claim', outcome: 'applied', actorId: 'ann', via: 'http', at: T0 }),
      ]);
    });

    it('SUP-6 a sign-in at a kiosk of two departments is filed under the department its operator belongs to', async () => {
      await store.updateTerminal('k1', { departments: ['cut', 'qa'] }, T0);
      await signIn('k1', 1, 'qin');
      await mutate('k1', 2, 'signOut', {}, 'qin');
      await signIn('k1', 3, 'ann');
      const signIns = await store.searchAudit({ departmentIds: null, action: 'signIn' }, { limit: 10, offset: 0 });
      expect(signIns.items.map((e) => [e.actorId, e.departmentId]).sort()).toEqual([
        ['ann', 'cut'],
        ['qin', 'qa'],
      ]);
    });

    it('CLM-7 CLM-9 two claims of one task in one group: exactly one wins, the other names the winner', async () => {
      const g = await store.runGroup([
        () => userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0),
        () => userOperation({ name: 'claim', taskId: 't2' }, 'ann', T0),
      ]);
      const [a, b] = g.results.map((r) => (r.ok ? r.value : null));
      expect(a!.ok).toBe(true);
      expect(b!.ok).toBe(false);
      expect(b!.error!.code).toBe('task_conflict');
      expect(b!.error!.details.currentOwner).toEqual({ id: 'bob', name: 'Name bob' });
      expect((await store.getTask('t2', T0))!.operatorId).toBe('bob');
    });

    it('ERR-2 a unit that throws is rolled back alone; the rest of its group commits', async () => {
      function* boom(): Eng<never> {
        yield* userOperation({ name: 'claim', taskId: 't3' }, 'bob', T0);
        throw new Error('disk on fire');
      }
      const g = await store.runGroup<unknown>([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0), boom]);
      expect(g.results.map((r) => r.ok)).toEqual([true, false]);
      expect((await store.getTask('t1', T0))!.operatorId).toBe('ann');
      expect((await store.getTask('t3', T0))!.operatorId).toBeNull();
      expect(g.changedDepartments.has('cut')).toBe(true);
    });

    it('PROTO-15 every answer of a group carries the task as the group left it; a unit rolled back leaves no trace in them', async () => {
      function* releaseThenFail(): Eng<never> {
        yield* userOperation({ name: 'release', taskId: 't1' }, 'ann', T0);
        throw new Error('disk on fire');
      }
      const g = await store.runGroup<unknown>([
        () => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0),
        () => userOperation({ name: 'start', taskId: 't1' }, 'ann', T0),
        releaseThenFail,
        () => userOperation({ name: 'claim', taskId: 't1' }, 'bob', T0),
      ]);
      expect(g.results.map((r) => r.ok)).toEqual([true, true, false, true]);
      const [claim, start, , conflict] = g.results.map((r) => (r.ok ? (r.value as { ok: boolean; task: unknown; error: { code: string } | null }) : null));
      expect([claim!.ok, start!.ok, conflict!.ok]).toEqual([true, true, false]);
      expect(conflict!.error!.code).toBe('task_conflict');
      const stored = await store.getTask('t1', T0);
      expect(stored).toMatchObject({ operatorId: 'ann', status: 'in_progress', version: 3, workedBy: ['ann'] });
      expect(stored!.assignment).toMatchObject({ status: 'in_progress' });
      // The claim's answer is not the task half-way through its group, and the release that was
      // rolled back shows nowhere.
      for (const answer of [claim, start, conflict]) expect(answer!.task).toEqual(stored);
    });

    it('PROTO-7 a committed group survives a restart', async () => {
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      store = await factory.reopen(store);
      expect((await store.getTask('t1', T0))!.operatorId).toBe('ann');
    });

    /**
     * A group as the committer runs it: units from descriptors, with their hints (a store may read
     * what they ask about ahead for the whole group: store/pg Tx.readAhead). Each unit's answer.
     */
    async function group(descs: UnitDescriptor[], now = T0): Promise<Array<Record<string, unknown>>> {
      const order = new TerminalOrder();
      const g = await store.runGroup(
        descs.map((d) => () => unitFor(d, order)(now)),
        descs.map((d) => unitHint(d)),
      );
      return g.results.map((r) => {
        if (!r.ok) throw r.error;
        return r.value as Record<string, unknown>;
      });
    }
    const claimBy = (taskId: string, actorId: string): UnitDescriptor => ({ kind: 'operation', op: { name: 'claim', taskId }, actorId, via: 'http' });
    const fromK1 = (id: number, name: string, args: unknown, operatorId: string): UnitDescriptor => ({
      kind: 'terminal',
      terminalId: 'k1',
      connection: 1,
      id,
      raw: { id, name, args, operatorId, clientTime: T0 },
    });

    it('CLM-4 CAP-1 INST-1 in a group read ahead, an operator\'s second claim counts the first (limit 1)', async () => {
      await store.createUser(newUser('one', { taskLimit: 1 }), T0);
      const [first, second] = await group([claimBy('t1', 'one'), claimBy('t2', 'one')]);
      expect(first!.ok).toBe(true);
      expect(second!).toMatchObject({ ok: false, error: { code: 'capacity_reached', details: { count: 1, limit: 1 } } });
      expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
    });

    it('CLM-7 CLM-9 INST-1 in a group read ahead, the second claim of one task names the first claimant', async () => {
      const [a, b, c] = await group([claimBy('t2', 'bob'), claimBy('t2', 'ann'), claimBy('t1', 'ann')]);
      expect(a!.ok).toBe(true);
      expect(b!).toMatchObject({ ok: false, error: { code: 'task_conflict', details: { currentOwner: { id: 'bob', name: 'Name bob' } } } });
      expect(c!.ok).toBe(true);
      expect(await store.listAssignments('t2')).toEqual([expect.objectContaining({ userId: 'bob' })]);
    });

    it('PROTO-5 PROTO-8 INST-1 in a group read ahead, a terminal\'s claim sees its sign-in, and a mutation sent twice applies once', async () => {
      const [signedIn, claim, again, start] = await group([
        fromK1(1, 'signIn', { method: 'badge' }, 'ann'),
        fromK1(2, 'claim', { taskId: 't1' }, 'ann'),
        fromK1(2, 'claim', { taskId: 't1' }, 'ann'),
        fromK1(3, 'start', { taskId: 't1' }, 'ann'),
      ]);
      expect(signedIn!.status).toBe('applied');
      expect(claim!.status).toBe('applied');
      // The same stored decision, with the task as the group leaves it (PROTO-15), as every answer.
      expect(again).toEqual(claim);
      expect(again).toMatchObject({ task: { status: 'in_progress', operatorId: 'ann' } });
      expect(start!.status).toBe('applied');
      expect(await store.listAssignments('t1')).toEqual([expect.objectContaining({ userId: 'ann', status: 'in_progress' })]);
      expect((await store.getTerminal('k1'))!.lastMutationId).toBe(3);
    });

    it('SEC-7 PROTO-6 a terminal mutation naming a task or operator with a NUL is refused alone; the rest of its group read ahead commits', async () => {
      await signIn('k1', 1, 'ann');
      const [bad, worse, good] = await group([
        fromK1(2, 'claim', { taskId: 't1\u0000' }, 'ann'),
        fromK1(3, 'claim', { taskId: 't2' }, 'ann\u0000'),
        claimBy('t3', 'bob'),
      ]);
      expect(bad!).toMatchObject({ status: 'rejected', error: { code: 'invalid_input' } });
      expect(worse!).toMatchObject({ status: 'rejected', error: { code: 'invalid_input' } });
      expect(good!.ok).toBe(true);
      expect((await store.getTerminal('k1'))!.lastMutationId).toBe(3);
    });

    it('PROTO-5 a terminal mutation applies once; re-sent, it gets the same stored outcome with its task as it is now', async () => {
      await signIn('k1', 1, 'ann');
      const first = await mutate('k1', 2, 'claim', { taskId: 't1' }, 'ann');
      expect(first).toMatchObject({ status: 'applied', task: { id: 't1', operatorId: 'ann', version: 2 } });
      expect(await mutate('k1', 2, 'claim', { taskId: 't1' }, 'ann')).toEqual(first);
      const started = await mutate('k1', 3, 'start', { taskId: 't1' }, 'ann', T0 + 1000);
      expect(started).toMatchObject({ status: 'applied', task: { status: 'in_progress', version: 3 } });
      // Sent again later, the same decision carries the task as it is then, never the older row
      // the answer was first given with (a terminal would fall back to it).
      const late = await mutate('k1', 2, 'claim', { taskId: 't1' }, 'ann', T0 + 2000);
      expect(late).toEqual({ ...first, task: (started as { task: unknown }).task });
      expect(late).toMatchObject({ task: { status: 'in_progress', version: 3, assignment: { status: 'in_progress' } } });
      expect(await store.listAssignments('t1')).toHaveLength(1);
      expect((await store.getTerminal('k1'))!.lastMutationId).toBe(3);
      // The outcomes re-sent after a reconnect carry it too; a sign-in has no task.
      const resent = await store.outcomesAfter('k1', 0, 10, T0 + 2000);
      expect(resent.map((o) => o.id)).toEqual([1, 2, 3]);
      expect(resent[0]).toMatchObject({ status: 'applied', task: null });
      expect(resent[1]).toEqual(late);
      expect(resent[2]).toEqual(started);
      await store.recordHandshake('k1', { now: T0, clockOffsetMs: 0, ackedMutationId: 1, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      expect((await store.outcomesAfter('k1', 0, 10, T0)).map((o) => o.id)).toEqual([2, 3]);
    });

    it('PROTO-6 a malformed or refused terminal mutation is rejected alone and consumes its id', async () => {
      await signIn('k1', 1, 'ann');
      const bad = await mutate('k1', 2, 'claim', { taskId: '' }, 'ann');
      expect(bad).toMatchObject({ status: 'rejected', error: { code: 'invalid_input', details: { field: 'args.taskId' } } });
      const unknown = await mutate('k1', 3, 'teleport', {}, 'ann');
      expect(unknown).toMatchObject({ status: 'rejected', error: { code: 'invalid_input', details: { field: 'name' } } });
      const next = await mutate('k1', 4, 'claim', { taskId: 't1' }, 'ann');
      expect(next.status).toBe('applied');
      expect((await store.getTerminal('k1'))!.lastMutationId).toBe(4);
      const reused = await mutate('k1', 3, 'claim', { taskId: 't2' }, 'ann');
      expect(reused.status).toBe('rejected'); // stored outcome of 3
      expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
    });

    it('PROTO-8 a terminal cannot act for an operator who is not signed in at it', async () => {
      const forged = await mutate('k1', 1, 'claim', { taskId: 't1' }, 'ann');
      expect(forged).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in' } });
      await signIn('k2', 2, 'ann');
      const elsewhere = await mutate('k1', 2, 'claim', { taskId: 't1' }, 'ann');
      expect(elsewhere).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in' } });
      const qin = await signIn('k1', 3, 'qin');
      expect(qin).toMatchObject({ status: 'rejected', error: { code: 'not_in_department' } });
      await store.updateUser('bob', { active: false }, T0);
      expect(await signIn('k1', 4, 'bob')).toMatchObject({ status: 'rejected', error: { code: 'user_inactive' } });
      expect(await signIn('k1', 5, 'ann')).toMatchObject({ status: 'applied' });
      expect((await store.getTerminal('k1'))!.signedInUserId).toBe('ann');
      await mutate('k1', 6, 'signOut', {}, 'ann');
      expect((await store.getTerminal('k1'))!.signedInUserId).toBeNull();
    });

    it('CLM-13 a queued claim older than the maximum age is rejected as stale, judged with the clock offset', async () => {
      await signIn('k1', 1, 'ann');
      const now = T0 + 9 * 60 * MINUTE_MS;
      const stale = await mutate('k1', 2, 'claim', { taskId: 't1' }, 'ann', now, T0);
      expect(stale).toMatchObject({ status: 'rejected', error: { code: 'claim_stale', details: { ageMinutes: 540 } } });
      // The terminal's clock runs 2 hours behind: a claim stamped 9 h ago by it is only 7 h old.
      await store.recordHandshake('k1', { now, clockOffsetMs: 2 * 60 * MINUTE_MS, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      const ok = await mutate('k1', 3, 'claim', { taskId: 't1' }, 'ann', now, T0);
      expect(ok.status).toBe('applied');
    });

    it('REL-1 COOL-1 release frees the task and blocks the releaser until the cooldown ends (server clock)', async () => {
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'release', taskId: 't1' }, 'ann', T0 + 1000);
      const blocked = await op({ name: 'claim', taskId: 't1' }, 'ann', T0 + 2000);
      expect(blocked.error!.code).toBe('cooldown_active');
      expect((await store.getTask('t1', T0 + 2000))!.cooldowns).toEqual([{ userId: 'ann', until: T0 + 1000 + 15 * MINUTE_MS }]);
      expect((await op({ name: 'claim', taskId: 't1' }, 'ann', T0 + 1000 + 15 * MINUTE_MS)).ok).toBe(true);
    });

    it('XSTEP-1 the store reports worked steps per work order', async () => {
      await op({ name: 'claim', taskId: 'make1' }, 'ann');
      const r = await op({ name: 'claim', taskId: 'insp1' }, 'ann');
      expect(r.error!.code).toBe('cross_step_excluded');
      expect((await op({ name: 'claim', taskId: 'insp1' }, 'bob')).ok).toBe(true);
    });

    it('CAP-2 active tasks are counted across the store', async () => {
      await store.updateUser('ann', { taskLimit: 2 }, T0);
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'claim', taskId: 't2' }, 'ann');
      const r = await op({ name: 'claim', taskId: 't3' }, 'ann');
      expect(r.error!.code).toBe('capacity_reached');
      expect(r.error!.details).toMatchObject({ count: 2, limit: 2 });
    });

    it('ASG-1 RSG-1 assign and reassign by a supervisor; an operator may not', async () => {
      expect((await op({ name: 'assign', taskId: 't1', userId: 'ann' }, 'bob')).error!.code).toBe('permission_denied');
      expect((await op({ name: 'assign', taskId: 't1', userId: 'ann' }, 'sue')).ok).toBe(true);
      const re = await op({ name: 'reassign', taskId: 't1', userId: 'bob' }, 'sue');
      expect(re.value).toEqual({ previousOwner: { id: 'ann', name: 'Name ann' } });
      expect((await store.listAssignments('t1')).map((a) => [a.userId, a.status])).toEqual([
        ['ann', 'reassigned'],
        ['bob', 'assigned'],
      ]);
      expect((await store.listNotifications('ann', 5))[0]).toMatchObject({ event: 'task_reassigned_away' });
    });

    it('EXP-1 expiry returns unstarted work to the pool on the server clock', async () => {
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'claim', taskId: 't2' }, 'bob');
      await op({ name: 'start', taskId: 't2' }, 'bob');
      expect(await one(() => expireDue(T0 + 119 * MINUTE_MS))).toEqual([]);
      expect(await one(() => expireDue(T0 + 120 * MINUTE_MS))).toEqual(['t1']);
      expect((await store.getTask('t1', T0))!.operatorId).toBeNull();
      expect((await store.getTask('t2', T0))!.operatorId).toBe('bob');
      expect((await store.listAssignments('t1'))[0]!.status).toBe('expired');
    });

    it('AUTO-1 AUTO-3 auto-assign gives pending tasks to eligible operators, least loaded first', async () => {
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      const r = await one(() => autoAssign({ departmentId: 'cut', strategy: 'least_loaded', capacityWeight: 0.5, limit: 2 }, 'sue', T0));
      expect(r.assigned[0]).toMatchObject({ taskId: 't3', userId: 'bob', activeCount: 0 });
      expect(r.assigned).toHaveLength(2);
      await expect(one(() => autoAssign({ departmentId: 'cut', strategy: 'round_robin', capacityWeight: 0.5, limit: 1 }, 'ann', T0))).rejects.toThrow(
        /not allowed/,
      );
    });

    it('AUTO-2 round robin rotates across runs per department and step', async () => {
      await store.importTasks([taskRow('t4'), taskRow('t5'), taskRow('t6')], T0);
      const picks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await one(() => autoAssign({ departmentId: 'cut', strategy: 'round_robin', capacityWeight: 0.5, limit: 1 }, 'sue', T0));
        picks.push(r.assigned[0]!.userId);
      }
      expect(picks).toEqual(['ann', 'bob', 'ann']);
    });

    it('AUTO-1 auto-assign weighs the department\'s operators as they are now: one added since the last run is picked, one deactivated since is not', async () => {
      await store.importTasks(['n1', 'n2', 'n3', 'n4'].map((id, i) => taskRow(id, { workOrderNumber: `WO-N${i}`, priority: 5 })), T0);
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'claim', taskId: 't2' }, 'bob');
      const run = () => one(() => autoAssign({ departmentId: 'cut', strategy: 'least_loaded', capacityWeight: 0.5, limit: 1 }, 'sue', T0));
      // ann and bob hold two tasks each after this run.
      expect((await one(() => autoAssign({ departmentId: 'cut', strategy: 'least_loaded', capacityWeight: 0.5, limit: 2 }, 'sue', T0))).assigned.map((a) => a.userId).sort()).toEqual(['ann', 'bob']);
      await store.createUser(newUser('cal'), T0);
      expect((await run()).assigned[0]).toMatchObject({ userId: 'cal', activeCount: 0 });
      // cal, holding one, would be the least loaded again.
      await store.updateUser('cal', { active: false }, T0);
      expect((await run()).assigned[0]!.userId).not.toBe('cal');
    });

    it('AUTO-1 COOL-1 XSTEP-1 auto-assign passes over the least loaded operator when their cooldown on the task runs, or a step they worked excludes it', async () => {
      const run = () => one(() => autoAssign({ departmentId: 'cut', strategy: 'least_loaded', capacityWeight: 0.5, limit: 1 }, 'sue', T0 + 10));
      // ann released t1 (her cooldown on it runs); bob holds two tasks.
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'release', taskId: 't1' }, 'ann');
      for (const t of ['t2', 't3']) await op({ name: 'claim', taskId: t }, 'bob');
      expect((await run()).assigned[0]).toMatchObject({ taskId: 't1', userId: 'bob' });
      // ann made WO-2's part (make1): its inspection, the only pending task left, is not for her.
      await op({ name: 'claim', taskId: 'make1' }, 'ann');
      await op({ name: 'start', taskId: 'make1' }, 'ann');
      expect((await run()).assigned[0]).toMatchObject({ taskId: 'insp1', userId: 'bob', activeCount: 3 });
      // The facts auto-assign weighs every operator by (the pick is then checked again on its own).
      const facts = (taskId: string) =>
        one(function* () {
          const task = (yield* ask('taskFacts', taskId)).task;
          return (yield* ask('operatorFactsMany', ['ann', 'bob'], task)).map((f) => [f.userId, f.cooldownUntil !== null, f.workedSteps]);
        });
      expect(await facts('t1')).toEqual([
        ['ann', true, []],
        ['bob', false, ['cut']],
      ]);
      expect(await facts('insp1')).toEqual([
        ['ann', false, ['make']],
        ['bob', false, ['inspect']],
      ]);
    });

    it('LIST-1 SEC-10 the claimable list matches the shared rule: filter, order, paging and count, and keeps to the departments asked', async () => {
      await store.importTasks(
        [
          taskRow('p9', { priority: 9 }),
          taskRow('due1', { dueAt: T0 + 1000 }),
          taskRow('other', { departmentId: 'qa' }),
          ...Array.from({ length: 12 }, (_, i) => taskRow(`bulk${String(i).padStart(2, '0')}`, { priority: i % 3, dueAt: i % 2 ? T0 + i * 1000 : null })),
        ],
        T0,
      );
      await op({ name: 'claim', taskId: 'make1' }, 'ann');
      await op({ name: 'claim', taskId: 't2' }, 'ann');
      await op({ name: 'release', taskId: 't2' }, 'ann', T0 + 10);
      await op({ name: 'claim', taskId: 't1' }, 'bob');
      const all = await store.listTasks({}, { limit: 1000, offset: 0 });
      const ann = (await store.getUser('ann'))!;
      const config = await store.getConfig();
      const expected: Task[] = [];
      for (const t of all.items) {
        const sync = (await store.getTask(t.id, T0 + 20))!;
        const cooldown = sync.cooldowns.find((c) => c.userId === 'ann')?.until ?? null;
        const workedSteps = all.items.filter((x) => x.workOrderId === t.workOrderId && x.operatorId === 'ann').map((x) => x.step);
        if (isClaimableBy(t, ann, { cooldownUntil: cooldown, workedSteps }, T0 + 20, config)) expected.push(t);
      }
      expected.sort(compareClaimable);
      const page1 = await store.listClaimable('ann', T0 + 20, { limit: 5, offset: 0 });
      const page2 = await store.listClaimable('ann', T0 + 20, { limit: 100, offset: 5 });
      expect(page1.total).toBe(expected.length);
      expect([...page1.items, ...page2.items].map((t) => t.id)).toEqual(expected.map((t) => t.id));
      expect(page1.items[0]!.id).toBe('p9');
      expect(expected.map((t) => t.id)).not.toContain('t2');
      expect(expected.map((t) => t.id)).not.toContain('insp1');
      // SEC-10: limited to some departments (what a supervisor of those sees of an operator's list):
      // zed works in cut and qa.
      await store.createUser(newUser('zed', { departmentIds: ['cut', 'qa'] }), T0);
      const zedAll = (await store.listClaimable('zed', T0 + 20, { limit: 100, offset: 0 })).items.map((t) => t.id);
      expect(zedAll).toContain('other');
      const zedCut = await store.listClaimable('zed', T0 + 20, { limit: 100, offset: 0 }, ['cut']);
      expect(zedCut.items.map((t) => t.id)).toEqual(zedAll.filter((id) => id !== 'other' && id !== 'q1'));
      expect(zedCut.total).toBe(zedCut.items.length);
      const zedQa = await store.listClaimable('zed', T0 + 20, { limit: 100, offset: 0 }, ['qa']);
      expect(zedQa.items.every((t) => t.departmentId === 'qa')).toBe(true);
      expect(zedQa.items.map((t) => t.id)).toContain('other');
      expect(zedQa.total + zedCut.total).toBe(zedAll.length);
    });

    it('IMP-1 an import is all-or-nothing and names each bad row', async () => {
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      const bad = await store.importTasks(
        [taskRow('new1'), taskRow('new2', { departmentId: 'nowhere' }), taskRow('t1', { departmentId: 'qa' })],
        T0,
      );
      expect(bad).toEqual({
        ok: false,
        errors: [
          { row: 2, field: 'departmentId', message: expect.stringContaining('"nowhere" does not exist'), problem: { key: 'department_missing', params: { departmentId: 'nowhere' } } },
          { row: 3, field: 'taskId', message: expect.stringContaining('held by Name ann'), problem: { key: 'task_held', params: { taskId: 't1', holder: 'Name ann' } } },
        ],
      });
      expect(await store.getTask('new1', T0)).toBeNull();
      const good = await store.importTasks([taskRow('new1'), taskRow('t2', { priority: 7 }), taskRow('t3', { dueAt: T0 + 3600_000 })], T0);
      expect(good).toEqual({ ok: true, created: 1, updated: 1, workOrders: 1 });
      expect((await store.getTask('t2', T0))!).toMatchObject({ priority: 7, version: 2 });
    });

    it('IMP-3 a scoped import only creates or changes tasks of the departments in scope, all or nothing', async () => {
      const r = await store.importTasks([taskRow('s1'), taskRow('s2', { departmentId: 'qa' }), taskRow('q1', { departmentId: 'cut', workOrderNumber: 'WO-1' })], T0, {
        departmentIds: ['cut'],
      });
      expect(r).toEqual({
        ok: false,
        errors: [
          { row: 2, field: 'departmentId', message: expect.stringContaining('"qa"'), problem: { key: 'department_not_supervised', params: { departmentId: 'qa' } } },
          {
            row: 3,
            field: 'taskId',
            message: 'task q1 is of a department you do not supervise; give the new task another id',
            problem: { key: 'task_other_department', params: { taskId: 'q1' } },
          },
        ],
      });
      // SEC-10: which department, the supervisor of cut is not told.
      expect(JSON.stringify(r)).not.toContain('belongs to department "qa"');
      expect(await store.getTask('s1', T0)).toBeNull();
      expect((await store.importTasks([taskRow('s1')], T0, { departmentIds: ['cut'] })).ok).toBe(true);
    });

    it('SYNC-1 change pages route by department and advance a cursor', async () => {
      const head0 = await store.headSeq();
      const p0 = await store.changesPage(['cut'], 0, 1000, T0);
      expect(p0.tasks.map((t) => t.id).sort()).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3']);
      expect(p0.users.map((u) => u.id).sort()).toEqual(['ann', 'bob', 'sue']);
      expect(p0.departments.map((d) => d.id)).toEqual(['cut']);
      expect(p0.lastSeq).toBe(head0);
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'claim', taskId: 'q1' }, 'qin');
      const p1 = await store.changesPage(['cut'], head0, 1000, T0);
      expect(p1.tasks.map((t) => t.id)).toEqual(['t1']);
      expect(p1.tasks[0]!.operatorId).toBe('ann');
      expect(p1.lastSeq).toBeGreaterThan(head0);
      const qa = await store.changesPage(['qa'], head0, 1000, T0);
      expect(qa.tasks.map((t) => t.id)).toEqual(['q1']);
      const paged = await store.changesPage(['cut'], 0, 2, T0);
      expect(paged.more).toBe(true);
    });

    it('SYNC-2 a task moved to another department is sent to the old department too', async () => {
      const head = await store.headSeq();
      await store.importTasks([taskRow('t2', { departmentId: 'qa' })], T0);
      expect((await store.changesPage(['cut'], head, 100, T0)).tasks.map((t) => [t.id, t.departmentId])).toEqual([['t2', 'qa']]);
    });

    it('SYNC-3 snapshot pages cover departments, users and open tasks of the terminal', async () => {
      const seen = { departments: [] as string[], users: [] as string[], tasks: [] as string[] };
      let pos = null as Awaited<ReturnType<ServerStore['snapshotPage']>>['next'];
      let pages = 0;
      do {
        const page = await store.snapshotPage(['cut'], pos, 2, T0);
        if (pages === 0) expect(page.config).not.toBeNull();
        seen.departments.push(...page.departments.map((d) => d.id));
        seen.users.push(...page.users.map((u) => u.id));
        seen.tasks.push(...page.tasks.map((t) => t.id));
        pos = page.next;
        pages++;
      } while (pos && pages < 50);
      expect(seen).toEqual({
        departments: ['cut'],
        users: ['ann', 'bob', 'sue'],
        tasks: ['draft1', 'insp1', 'make1', 't1', 't2', 't3'],
      });
    });

    it('SYNC-3 SUP-1 a snapshot of several departments pages their open tasks in id order, each once, for kiosks and supervisors', async () => {
      // Ids of the two departments interleave, so a page that took one department's range before
      // the other's (or skipped past the other's after its cursor) would miss or repeat tasks.
      const rows = [];
      for (let i = 0; i < 9; i++) rows.push(taskRow(`m${i}`, { departmentId: i % 3 === 0 ? 'cut' : 'qa', workOrderNumber: `WO-M${i}` }));
      rows.push(taskRow('m9', { departmentId: 'qa', workOrderNumber: 'WO-M9', status: 'cancelled' }));
      expect((await store.importTasks(rows, T0)).ok).toBe(true);
      const open = ['draft1', 'insp1', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'make1', 'q1', 't1', 't2', 't3'];
      const recent = [...open, 'm9'].sort();

      const kiosk: string[] = [];
      let pos: Awaited<ReturnType<ServerStore['snapshotPage']>>['next'] = { phase: 'tasks', afterId: '' };
      for (let pages = 0; pos && pages < 50; pages++) {
        const page = await store.snapshotPage(['qa', 'cut'], pos, 3, T0);
        kiosk.push(...page.tasks.map((t) => t.id));
        pos = page.next;
      }
      expect(kiosk).toEqual(recent);

      const board: string[] = [];
      let at: Awaited<ReturnType<ServerStore['supervisorSnapshotPage']>>['next'] = { phase: 'tasks', afterId: '' };
      for (let pages = 0; at && pages < 50; pages++) {
        const page = await store.supervisorSnapshotPage({ userId: 'sue', all: false, departmentIds: ['cut', 'qa'] }, at, 3, T0);
        board.push(...page.tasks.id);
        at = page.next;
      }
      expect(board).toEqual(recent);
      // One department alone, and a department with no tasks beside it, page the same way.
      const cutOnly: string[] = [];
      pos = { phase: 'tasks', afterId: '' };
      for (let pages = 0; pos && pages < 50; pages++) {
        const page = await store.snapshotPage(['cut', 'none'], pos, 2, T0);
        cutOnly.push(...page.tasks.map((t) => t.id));
        pos = page.next;
      }
      expect(cutOnly).toEqual(recent.filter((id) => id !== 'q1' && !['m1', 'm2', 'm4', 'm5', 'm7', 'm8', 'm9'].includes(id)));
    });

    it('SYNC-4 pruning drops change-log rows older than the retention and raises the pruned-through cursor', async () => {
      const seeded = await store.headSeq();
      await op({ name: 'claim', taskId: 't1' }, 'ann', T0 + 10);
      expect(await store.prunedThroughSeq()).toBe(0);
      expect(await store.pruneChanges(T0 + 1)).toBe(seeded);
      expect(await store.prunedThroughSeq()).toBe(seeded);
      // What is left is the change made after the cut-off.
      const page = await store.changesPage(['cut'], 0, 1000, T0 + 10);
      expect(page.tasks.map((t) => t.id)).toEqual(['t1']);
      expect(await store.pruneChanges(T0 + 1)).toBe(0);
    });

    it('SYNC-1 the change log is appended to: every change gets a new, higher cursor, and a page carries each entity once', async () => {
      const head = await store.headSeq();
      await op({ name: 'claim', taskId: 't1' }, 'ann');
      await op({ name: 'start', taskId: 't1' }, 'ann');
      // Two task changes (Ann's load travels with them to supervisors: SUP-3).
      const after = await store.headSeq();
      expect(after).toBe(head + 2);
      const page = await store.changesPage(['cut'], head, 1000, T0);
      expect(page.tasks.map((t) => [t.id, t.status])).toEqual([['t1', 'in_progress']]);
      expect(page.lastSeq).toBe(after);
    });

    it('AUTH-1 users, terminals and tokens round-trip; badges are found by hash', async () => {
      const ann = await store.getUser('ann');
      expect(ann).toMatchObject({ id: 'ann', roles: ['operator'], departmentIds: ['cut'], active: true });
      expect((await store.findUserByBadgeHash(ann!.badgeHash!))!.id).toBe('ann');
      await store.createUser(newUser('zed', { departmentIds: ['cut', 'qa'], roles: ['operator', 'supervisor'] }), T0);
      expect((await store.listUsers({ departmentId: 'qa' })).map((u) => u.id)).toEqual(['qin', 'zed']);
      expect((await store.listUsers({ role: 'supervisor' })).map((u) => u.id)).toEqual(['sue', 'zed']);
      await store.createApiToken({ id: 'tok1', userId: 'sue', name: 'erp', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: 'h1' }, T0);
      expect((await store.findApiTokenWithUser('h1'))!.token).toMatchObject({ id: 'tok1', userId: 'sue', revokedAt: null });
      // AUTH-1: what a request asks, in one read: the token and its user exactly as getUser gives it.
      expect(await store.findApiTokenWithUser('h1')).toEqual({ token: await store.getApiToken('tok1'), user: await store.getUser('sue') });
      expect((await store.findApiTokenWithUser('h1'))!.user).toMatchObject({ id: 'sue', roles: ['supervisor'], departmentIds: ['cut'], active: true });
      expect(await store.findApiTokenWithUser('nope')).toBeNull();
      await store.revokeApiToken('tok1', T0 + 5);
      expect((await store.findApiTokenWithUser('h1'))!.token.revokedAt).toBe(T0 + 5);
      expect(await store.getApiToken('tok1')).toMatchObject({ id: 'tok1', userId: 'sue', revokedAt: T0 + 5 });
      expect(await store.getApiToken('nope')).toBeNull();
      await store.recordHandshake('k1', { now: T0 + 7, clockOffsetMs: -1500, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      expect(await store.getTerminal('k1')).toMatchObject({ lastSeenAt: T0 + 7, clockOffsetMs: -1500, departments: ['cut'] });
      await store.touchTerminals(['k1', 'k2'], T0 + 9);
      expect((await store.listTerminals()).map((t) => [t.id, t.lastSeenAt, t.clockOffsetMs])).toEqual([
        ['k1', T0 + 9, -1500],
        ['k2', T0 + 9, null],
      ]);
      await store.setSignInFailures('badge:x', { failures: 3, firstFailedAt: T0, lockedUntil: null });
      expect(await store.getSignInFailures('badge:x')).toEqual({ failures: 3, firstFailedAt: T0, lockedUntil: null });
      await store.setSignInFailures('badge:x', null);
      expect(await store.getSignInFailures('badge:x')).toBeNull();
    });

    it('AUTH-5 SEC-3 a session found before, then revoked as one of the oldest or pruned, is found as it is now', async () => {
      const sessions = ['s1', 's2', 's3'];
      for (const [i, id] of sessions.entries()) {
        await store.createApiToken({ id, userId: 'sue', name: 'session', kind: 'session', expiresAt: T0 + 60 * MINUTE_MS, revokedAt: null, tokenHash: `hash-${id}` }, T0 + i);
      }
      for (const id of sessions) expect((await store.findApiTokenWithUser(`hash-${id}`))!.token.revokedAt).toBeNull();
      expect((await store.revokeOldestSessions('sue', 1, T0 + 10)).sort()).toEqual(['s1', 's2']);
      expect((await store.findApiTokenWithUser('hash-s1'))!.token.revokedAt).toBe(T0 + 10);
      expect((await store.findApiTokenWithUser('hash-s3'))!.token.revokedAt).toBeNull();
      // Sessions revoked before T0 + 20 are pruned; s3 expires later and stays.
      expect((await store.pruneAuth(T0 + 20, T0, T0 + 20)).sessions).toBe(2);
      expect(await store.findApiTokenWithUser('hash-s1')).toBeNull();
      expect((await store.findApiTokenWithUser('hash-s3'))!.token.id).toBe('s3');
    });

    it('INST-3 a connection that ended marks its terminal disconnected only if no later handshake replaced it', async () => {
      const hs = (now: number) => store.recordHandshake('k1', { now, clockOffsetMs: 0, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      await hs(T0);
      // The terminal's link moved: a second handshake (another instance) before the first socket's end is noticed.
      await hs(T0 + 50);
      const head = await store.headSeq();
      await store.recordDisconnect('k1', T0 + 60, T0);
      expect(await store.getTerminal('k1')).toMatchObject({ connected: true, connectedAt: T0 + 50 });
      expect(await store.headSeq()).toBe(head);
      await store.recordDisconnect('k1', T0 + 70, T0 + 50);
      expect(await store.getTerminal('k1')).toMatchObject({ connected: false, disconnectedAt: T0 + 70 });
      expect(await store.headSeq()).toBeGreaterThan(head);
    });

    it('INST-3 terminals marked connected but not seen since the cutoff are marked disconnected as of when they were last seen', async () => {
      const hs = (id: string, now: number) => store.recordHandshake(id, { now, clockOffsetMs: 0, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      await hs('k1', T0);
      await hs('k2', T0);
      await store.touchTerminals(['k2'], T0 + 40_000);
      const head = await store.headSeq();
      expect(await store.disconnectStale(T0 + 30_000, T0 + 45_000)).toEqual(['k1']);
      expect(await store.getTerminal('k1')).toMatchObject({ connected: false, disconnectedAt: T0 });
      expect(await store.getTerminal('k2')).toMatchObject({ connected: true });
      // Supervisors hear it through the change log.
      expect(await store.headSeq()).toBeGreaterThan(head);
      expect(await store.disconnectStale(T0 + 30_000, T0 + 46_000)).toEqual([]);
    });

    it('AUTH-7 SEC-3 tokens created in the same millisecond are listed in the order they were created, whatever their kind', async () => {
      // A session first, then an API token, in the same ms: the list is by creation, not by kind or id.
      for (const [id, kind, userId] of [['zs', 'session', 'sue'], ['aa', 'api', 'sue'], ['mm', 'session', 'ann']] as const) {
        await store.createApiToken({ id, userId, name: id, kind, expiresAt: null, revokedAt: null, tokenHash: `h-${id}` }, T0);
      }
      expect((await store.listApiTokens('sue')).map((t) => t.id)).toEqual(['zs', 'aa']);
      expect((await store.listApiTokens()).map((t) => t.id)).toEqual(['zs', 'aa', 'mm']);
    });

    it('SUP-5 offline terminals with work queued are alerted in id order, whatever order they were enrolled in', async () => {
      await store.createTerminal({ id: 'k0', name: 'Kiosk 0', departments: ['cut'], tokenHash: 'tk0' }, T0);
      for (const id of ['k2', 'k0', 'k1']) {
        await store.recordHandshake(id, { now: T0, clockOffsetMs: 0, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 3 });
        await store.recordDisconnect(id, T0 + 1);
      }
      const alerts = await store.alertOfflineTerminals(T0 + 100, T0 + 200);
      expect(alerts.map((a) => [a.terminalId, a.notified])).toEqual([
        ['k0', ['sue']],
        ['k1', ['sue']],
        ['k2', ['sue']],
      ]);
      // Sue's overview lists them newest first: the last alerted on top.
      expect((await store.listNotifications('sue', 10)).map((n) => n.details.terminalId)).toEqual(['k2', 'k1', 'k0']);
    });

    it('SUP-3 an operator signed in at two kiosks in the same millisecond shows at the same one on every backend (the later id)', async () => {
      // k2 first, then k1, both at T0: the tie is broken by the terminal's id, not by storage order.
      await signIn('k2', 1, 'ann');
      await signIn('k1', 1, 'ann');
      const scope = { userId: 'sue', all: false, departmentIds: ['cut'] };
      const presenceOf = (people: Array<{ id: string; presence: unknown }>) => people.find((p) => p.id === 'ann')!.presence;
      expect(presenceOf((await store.supervisorSnapshotPage(scope, null, 1000, T0)).people)).toEqual({ terminalId: 'k2', since: T0 });
      expect(presenceOf((await store.supervisorChangesPage(scope, 0, 1000, T0)).people)).toEqual({ terminalId: 'k2', since: T0 });
    });

    it('SUP-3 PERF-1 a new day for the performance window is marked once and sends every person of a supervisor\u2019s scope again, and nothing to kiosks', async () => {
      const day = Math.floor(T0 / (24 * 3600_000));
      const scope = { userId: 'sue', all: false, departmentIds: ['cut'] };
      const head = await store.headSeq();
      expect(await store.markPerformanceDay(day, T0)).toBe(true);
      const page = await store.supervisorChangesPage(scope, head, 1000, T0);
      expect(page.people.map((p) => p.id).sort()).toEqual(['ann', 'bob']);
      expect((await store.changesPage(['cut', 'qa'], head, 1000, T0)).lastSeq).toBe(head);
      // The same day again, or an earlier one (another instance behind), changes nothing.
      const marked = await store.headSeq();
      expect(await store.markPerformanceDay(day, T0 + 1)).toBe(false);
      expect(await store.markPerformanceDay(day - 1, T0 + 1)).toBe(false);
      expect(await store.headSeq()).toBe(marked);
      expect(await store.markPerformanceDay(day + 1, T0 + 24 * 3600_000)).toBe(true);
      expect(await store.headSeq()).toBeGreaterThan(marked);
    });

    it('SYNC-5 a config change reaches every department through the change log', async () => {
      const head = await store.headSeq();
      await store.setConfig({ ...(await store.getConfig()), cooldownMinutes: 5 }, T0);
      const page = await store.changesPage(['qa'], head, 10, T0);
      expect(page.config).toMatchObject({ cooldownMinutes: 5 });
    });
  });
}
