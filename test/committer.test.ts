/** The group committer and mutation order after faults (PROTO-7, PROTO-9), on a real SQLite store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src-shared/clock.js';
import { GROUP_BUDGET_MS, GroupCommitter } from '../src-server/engine/committer.js';
import { DeferredError, NotRun, TerminalOrder } from '../src-server/engine/units.js';
import { userOperation } from '../src-server/engine/mutations.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { T0, seedPlant, taskRow } from './support/plant.js';

let dir: string;
let store: SqliteServerStore;
let committer: GroupCommitter;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'committer-'));
  store = new SqliteServerStore(path.join(dir, 'claims.db'));
  await seedPlant(store);
  committer = new GroupCommitter(store, new ManualClock(T0));
});
afterEach(async () => {
  await committer.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const mutation = (id: number, name: string, args: unknown, connection = 1) => ({
  kind: 'terminal' as const,
  terminalId: 'k1',
  connection,
  id,
  raw: { id, name, args, operatorId: 'ann', clientTime: T0 },
});

/** Claims from terminals, each terminal's numbered 1, 2, …, as sent (`sent`), for order checks. */
function orderedMutations(c: GroupCommitter) {
  const sent = new Map<string, number[]>();
  const mutation = (terminalId: string) => {
    const id = (sent.get(terminalId)?.length ?? 0) + 1;
    sent.set(terminalId, [...(sent.get(terminalId) ?? []), id]);
    return c.submit({ kind: 'terminal', terminalId, connection: 1, id, raw: { id, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: T0 } });
  };
  return { sent, mutation };
}

describe('terminal order after a fault', () => {
  it('PROTO-9 a blocked terminal defers later mutations until the failed one comes again; a new connection starts clean', () => {
    const order = new TerminalOrder();
    order.admit(mutation(1, 'signIn', {}));
    order.block(mutation(2, 'claim', {}));
    expect(() => order.admit(mutation(3, 'start', {}))).toThrow(DeferredError);
    order.admit(mutation(2, 'claim', {}));
    order.admit(mutation(3, 'start', {}));
    order.block(mutation(5, 'claim', {}));
    expect(() => order.admit(mutation(6, 'claim', {}))).toThrow(DeferredError);
    order.admit(mutation(6, 'claim', {}, 2));
  });

  it('PROTO-7 PROTO-9 when a commit fails nobody in the group is answered but an error, nothing is kept, and the terminal waits for its first failed mutation', async () => {
    await committer.submit(mutation(1, 'signIn', { method: 'badge' }));
    const realRun = store.runGroup.bind(store);
    store.runGroup = async () => {
      throw new Error('injected: disk full');
    };
    const failed = await Promise.allSettled([committer.submit(mutation(2, 'claim', { taskId: 't1' })), committer.submit(mutation(3, 'start', { taskId: 't1' }))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    store.runGroup = realRun;
    expect((await store.getTask('t1', T0))!.operatorId).toBeNull();
    // The terminal sends 3 again before 2: it must wait.
    await expect(committer.submit(mutation(3, 'start', { taskId: 't1' }))).rejects.toBeInstanceOf(DeferredError);
    expect(await committer.submit(mutation(2, 'claim', { taskId: 't1' }))).toMatchObject({ status: 'applied' });
    expect(await committer.submit(mutation(3, 'start', { taskId: 't1' }))).toMatchObject({ status: 'applied' });
    expect((await store.getTask('t1', T0))!.status).toBe('in_progress');
  });

  it('PROTO-9 a mutation that fails inside its unit blocks the later ones of its terminal in the same group', async () => {
    await committer.submit(mutation(1, 'signIn', { method: 'badge' }));
    const realRun = store.runGroup.bind(store);
    let armed = true;
    store.runGroup = (units) =>
      realRun(
        units.map((u, i) =>
          i === 0 && armed
            ? () =>
                (function* () {
                  armed = false;
                  const g = u();
                  g.next(); // inside the unit, past its admission
                  g.throw(new Error('injected: fault inside the unit'));
                  return yield* g;
                })()
            : u,
        ),
      );
    const results = await Promise.allSettled([committer.submit(mutation(2, 'claim', { taskId: 't1' })), committer.submit(mutation(3, 'start', { taskId: 't1' }))]);
    expect(results[0]!.status).toBe('rejected');
    expect(results[1]!.status === 'rejected' && results[1]!.reason).toBeInstanceOf(DeferredError);
    store.runGroup = realRun;
    expect((await store.getTerminal('k1'))!.lastMutationId).toBe(1);
  });
});

describe('group size', () => {
  it('PROTO-7 mutations arriving together share one transaction; with a group limit of 1 (start --commit-group-max 1) each has its own', async () => {
    const claims = (c: GroupCommitter, ids: string[]) =>
      Promise.all(ids.map((taskId) => c.submit({ kind: 'operation', op: { name: 'claim', taskId }, actorId: 'ann', via: 'http' })));
    await store.importTasks(['t4', 't5', 't6'].map((id) => taskRow(id)), T0);
    await claims(committer, ['t1', 't2', 't3']);
    expect(committer.stats).toMatchObject({ groups: 1, units: 3, largestGroup: 3 });
    const single = new GroupCommitter(store, new ManualClock(T0), () => {}, () => {}, 1);
    try {
      const results = await claims(single, ['t4', 't5', 't6']);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(single.stats).toMatchObject({ groups: 3, units: 3, largestGroup: 1 });
    } finally {
      await single.close();
    }
  });
});

describe('group time budget', () => {
  it('SEC-9 PROTO-7 a backlog is committed in groups of about GROUP_BUDGET_MS of work, not in one long group that holds the event loop', async () => {
    // A store whose units cost at least 2 ms each of busy work on the event loop, as engine units do.
    const sizes: number[] = [];
    const slow = {
      groupLanes: 1,
      groupsHoldTheLoop: true,
      async runGroup(units: ReadonlyArray<() => unknown>) {
        sizes.push(units.length);
        const until = performance.now() + 2 * units.length;
        while (performance.now() < until);
        return { results: units.map(() => ({ ok: true as const, value: null })), changedDepartments: new Set<string>(), headSeq: 0 };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(slow, new ManualClock(T0));
    const submitMany = (n: number) => Promise.all(Array.from({ length: n }, () => c.submit({ kind: 'expire' })));
    try {
      await submitMany(10); // the committer learns what a unit costs
      sizes.length = 0;
      await submitMany(200);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
      // 25 ms at >= 2 ms a unit: at most 12 a group (one group of 200 would hold the loop 400 ms).
      expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil(GROUP_BUDGET_MS / 2));
      expect(sizes.length).toBeGreaterThan(1);
    } finally {
      await c.close();
    }
  });
});

describe('group time budget by kind of unit', () => {
  it('SEC-9 PROTO-7 a costly unit (a slice of auto-assign) does not shrink the groups of the cheap units behind it', async () => {
    // A store that reports its timing: a terminal's mutation costs 0.1 ms, anything else 8 ms.
    const groups: Array<{ units: number; ms: number }> = [];
    const timed = {
      groupLanes: 1,
      groupsHoldTheLoop: true,
      async runGroup(units: ReadonlyArray<() => unknown>, hints: ReadonlyArray<{ terminal?: unknown }>) {
        const unitMs = hints.map((h) => (h.terminal ? 0.1 : 8));
        const busyMs = unitMs.reduce((a, b) => a + b, 0);
        groups.push({ units: units.length, ms: busyMs });
        return { results: units.map(() => ({ ok: true as const, value: null })), changedDepartments: new Set<string>(), headSeq: 0, timing: { busyMs, unitMs } };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(timed, new ManualClock(T0));
    let next = 0;
    const mutations = (n: number) =>
      Promise.all(Array.from({ length: n }, () => c.submit({ kind: 'terminal', terminalId: `k${next++}`, connection: 1, id: 1, raw: {} })));
    try {
      await mutations(10); // the committer learns what each kind costs
      await c.submit({ kind: 'expire' });
      groups.length = 0;
      const heavy = c.submit({ kind: 'expire' });
      await Promise.all([mutations(600), heavy]);
      expect(groups.reduce((a, g) => a + g.units, 0)).toBe(601);
      // 600 mutations of 0.1 ms and one 8 ms unit: 68 ms of work, so a few groups of up to
      // GROUP_BUDGET_MS, not dozens of small ones (one average over both kinds took 3-10 mutations a group).
      expect(groups.length).toBeLessThanOrEqual(Math.ceil(68 / GROUP_BUDGET_MS) + 1);
      expect(Math.max(...groups.map((g) => g.ms))).toBeLessThanOrEqual(GROUP_BUDGET_MS + 0.001);
    } finally {
      await c.close();
    }
  });
});

describe('several lanes (PostgreSQL)', () => {
  it('PROTO-9 INST-1 groups commit side by side, yet a terminal\'s mutations are never in two groups at once and apply in the order they came', async () => {
    // A store with three lanes whose groups take a while: each unit's hint names its terminal and
    // mutation id.
    const applied = new Map<string, number[]>();
    const active = new Set<string>();
    let running = 0;
    let overlap = 0;
    const lanes = {
      groupLanes: 3,
      groupsHoldTheLoop: false,
      async runGroup(units: readonly unknown[], hints: ReadonlyArray<{ terminal: { id: string; mutationId: number } }>) {
        const mine = hints.map((h) => ({ args: [h.terminal.id, h.terminal.mutationId] as const }));
        running++;
        overlap = Math.max(overlap, running);
        for (const { args: [terminal] } of mine) {
          expect(active.has(terminal), `${terminal} in two groups at once`).toBe(false);
        }
        const terminals = new Set(mine.map((m) => m.args[0]));
        for (const t of terminals) active.add(t);
        await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
        for (const { args: [terminal, id] } of mine) applied.set(terminal, [...(applied.get(terminal) ?? []), id]);
        for (const t of terminals) active.delete(t);
        running--;
        return { results: units.map(() => ({ ok: true as const, value: null })), changedDepartments: new Set<string>(), headSeq: 0 };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(lanes, new ManualClock(T0));
    const terminals = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const sent = new Map<string, number[]>();
    const waits: Array<Promise<unknown>> = [];
    try {
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 12; i++) {
          const terminalId = terminals[Math.floor(Math.random() * terminals.length)]!;
          const id = (sent.get(terminalId)?.length ?? 0) + 1;
          sent.set(terminalId, [...(sent.get(terminalId) ?? []), id]);
          waits.push(c.submit({ kind: 'terminal', terminalId, connection: 1, id, raw: { id, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: T0 } }));
        }
        await new Promise((r) => setTimeout(r, 3));
      }
      await Promise.all(waits);
      expect(overlap).toBeGreaterThan(1);
      for (const [t, ids] of sent) expect(applied.get(t), t).toEqual(ids);
    } finally {
      await c.close();
    }
  });
});

describe('a backlog on a store that holds the loop', () => {
  it('SEC-9 PROTO-7 PROTO-9 units passed over (a terminal with a unit in flight, a costly unit past the budget) keep their places: each is committed once, each terminal in the order it sent', async () => {
    // Two lanes whose groups hold the loop and then wait for their flush: a terminal's mutation
    // costs 0.5 ms, anything else 6 ms, so groups pass over both kinds of unit again and again.
    const applied = new Map<string, number[]>();
    let others = 0;
    const sizes: number[] = [];
    const store = {
      groupLanes: 2,
      groupsHoldTheLoop: true,
      async runGroup(units: ReadonlyArray<() => Generator<{ op: string; args: unknown[] }, unknown, unknown>>, hints: ReadonlyArray<{ terminal?: unknown }>) {
        sizes.push(units.length);
        const unitMs = hints.map((h) => (h.terminal ? 0.5 : 6));
        hints.forEach((h) => {
          if (!h.terminal) return void others++;
          const { id: terminal, mutationId: id } = h.terminal as { id: string; mutationId: number };
          applied.set(terminal, [...(applied.get(terminal) ?? []), id]);
        });
        await new Promise((r) => setTimeout(r, 1 + Math.random() * 3));
        const busyMs = unitMs.reduce((a, b) => a + b, 0);
        return { results: units.map(() => ({ ok: true as const, value: null })), changedDepartments: new Set<string>(), headSeq: 0, timing: { busyMs, unitMs } };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(store, new ManualClock(T0));
    const { sent, mutation } = orderedMutations(c);
    try {
      await Promise.all([mutation('warm'), c.submit({ kind: 'expire' })]); // the committer learns the costs
      // A backlog of 3,000 units arriving at once: 12 terminals, 1 in 40 a costly unit.
      let seed = 7;
      const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const waits: Array<Promise<unknown>> = [];
      for (let n = 0; n < 3000; n++) waits.push(n % 40 === 39 ? c.submit({ kind: 'expire' }) : mutation(`k${Math.floor(random() * 12)}`));
      await Promise.all(waits);
      for (const [t, ids] of sent) expect(applied.get(t), t).toEqual(ids);
      expect(others).toBe(1 + 75);
      expect(sizes.length).toBeGreaterThan(10); // in many groups, each within the budget
    } finally {
      await c.close();
    }
  });
});

describe('a group that runs over its time', () => {
  it('SEC-9 PROTO-7 PROTO-9 a group whose units cost more than estimated stops at its time; the rest go back to the front of the queue and are each committed once, in order', async () => {
    // Units report 0.1 ms but take 2 ms on the loop (as right after an import, on a cold cache), so
    // the committer packs far more into a group than fits in GROUP_BUDGET_MS; the store stops at it.
    const applied = new Map<string, number[]>();
    const ranPerGroup: number[] = [];
    const store = {
      groupLanes: 2,
      groupsHoldTheLoop: true,
      async runGroup(
        units: readonly unknown[],
        hints: ReadonlyArray<{ terminal: { id: string; mutationId: number } }>,
        pace: { ran(n: number): void; budgetMs: number },
      ) {
        const started = performance.now();
        const results: Array<{ ok: true; value: null } | { ok: false; error: unknown }> = [];
        for (const [i] of units.entries()) {
          if (results.length > 0 && performance.now() - started >= pace.budgetMs) {
            results.push({ ok: false, error: new NotRun() });
            continue;
          }
          const { id: terminal, mutationId: id } = hints[i]!.terminal;
          applied.set(terminal, [...(applied.get(terminal) ?? []), id]);
          const until = performance.now() + 2;
          while (performance.now() < until);
          results.push({ ok: true, value: null });
        }
        const ran = results.filter((r) => r.ok).length;
        ranPerGroup.push(ran);
        pace.ran(ran);
        await new Promise((r) => setTimeout(r, 1)); // its flush
        return { results, changedDepartments: new Set<string>(), headSeq: 0, timing: { busyMs: 0.1 * ran, unitMs: Array(ran).fill(0.1) } };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(store, new ManualClock(T0));
    const { sent, mutation } = orderedMutations(c);
    try {
      await mutation('warm'); // the committer learns the (wrong) cost
      const waits = Array.from({ length: 400 }, (_, n) => mutation(`k${n % 7}`));
      await Promise.all(waits);
      for (const [t, ids] of sent) expect(applied.get(t), t).toEqual(ids);
      expect(c.stats.requeued).toBeGreaterThan(0);
      expect(c.stats.units).toBe(401);
      // Each unit takes at least 2 ms, so a group that stops at its time runs at most
      // GROUP_BUDGET_MS / 2 of them, however busy the machine (the committer packed ~250).
      expect(Math.max(...ranPerGroup)).toBeLessThanOrEqual(Math.ceil(GROUP_BUDGET_MS / 2));
      expect(ranPerGroup.length).toBeGreaterThan(400 / Math.ceil(GROUP_BUDGET_MS / 2) - 1);
    } finally {
      await c.close();
    }
  });

  it('PROTO-7 PROTO-9 when a group that ran only part of its units then fails, the units put back are not failed with it: each is answered once, when it runs', async () => {
    let groups = 0;
    const store = {
      groupLanes: 2,
      groupsHoldTheLoop: true,
      async runGroup(units: ReadonlyArray<() => unknown>, _hints: unknown, pace: { ran(n: number): void; budgetMs: number }) {
        groups++;
        if (groups === 2) {
          // Runs the first unit only, then its commit fails (a flush the disk refused).
          pace.ran(1);
          throw new Error('EIO: the disk refused the flush');
        }
        pace.ran(units.length);
        return { results: units.map(() => ({ ok: true as const, value: 'done' })), changedDepartments: new Set<string>(), headSeq: 0 };
      },
    } as unknown as SqliteServerStore;
    const c = new GroupCommitter(store, new ManualClock(T0));
    try {
      await c.submit({ kind: 'expire' }); // group 1
      const answers = await Promise.allSettled([c.submit({ kind: 'expire' }), c.submit({ kind: 'expire' }), c.submit({ kind: 'expire' })]);
      expect(answers.map((a) => a.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect(c.stats.requeued).toBe(2);
    } finally {
      await c.close();
    }
  });

  it('SEC-9 PROTO-7 the SQLite store runs a group\'s units until its time is up and commits only those; the rest are answered NotRun', async () => {
    let ran = -1;
    const claim = (taskId: string) => () => userOperation({ name: 'claim', taskId }, 'ann', T0);
    const group = await store.runGroup([claim('t1'), claim('t2'), claim('t3')], undefined, { budgetMs: 0, ran: (n) => (ran = n) });
    expect(ran).toBe(1); // the first unit always runs
    expect(group.results[0]).toMatchObject({ ok: true });
    expect(group.results.slice(1).map((r) => !r.ok && r.error instanceof NotRun)).toEqual([true, true]);
    expect((await store.getTask('t1', T0))!.operatorId).toBe('ann');
    expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
  });
});
