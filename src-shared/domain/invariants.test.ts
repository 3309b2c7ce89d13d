import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { MemoryModel, makeTask, makeUser } from '../../test/support/memory-model.js';
import { MINUTE_MS } from './config.js';
import { resolveTaskLimit } from './rules.js';
import { isActiveAssignmentStatus } from './types.js';

const USERS = ['u1', 'u2', 'u3', 'u4'];
const TASKS = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'];

type Op =
  | { kind: 'claim' | 'start' | 'complete' | 'release'; user: string; task: string; dt: number }
  | { kind: 'reject'; user: string; task: string; reason: string; dt: number }
  | { kind: 'assign' | 'reassign'; user: string; task: string; dt: number }
  | { kind: 'expire'; dt: number };

const user = fc.constantFrom(...USERS);
const task = fc.constantFrom(...TASKS);
const dt = fc.integer({ min: 0, max: 40 * MINUTE_MS });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('claim', 'start', 'complete', 'release') as fc.Arbitrary<'claim'>, user, task, dt }),
  fc.record({ kind: fc.constant('reject' as const), user, task, reason: fc.string({ maxLength: 3 }), dt }),
  fc.record({ kind: fc.constantFrom('assign', 'reassign') as fc.Arbitrary<'assign'>, user, task, dt }),
  fc.record({ kind: fc.constant('expire' as const), dt }),
);

function world(): MemoryModel {
  const m = new MemoryModel({ defaultTaskLimit: 2, assignmentExpiryMinutes: 60 });
  m.departments.set('d2', { id: 'd2', name: 'Quality', taskLimit: 1 });
  m.addUser(makeUser('u1', { departmentIds: ['d1', 'd2'] }))
    .addUser(makeUser('u2', { departmentIds: ['d1'], taskLimit: 1 }))
    .addUser(makeUser('u3', { departmentIds: ['d2'] }))
    .addUser(makeUser('u4', { departmentIds: ['d1', 'd2'], active: true }))
    .addUser(makeUser('boss', { roles: ['supervisor', 'admin'], departmentIds: ['d1', 'd2'] }));
  m.addTask(makeTask('a1', { workOrderId: 'wo1', step: 'make' }))
    .addTask(makeTask('a2', { workOrderId: 'wo1', step: 'inspect', departmentId: 'd2' }))
    .addTask(makeTask('a3', { workOrderId: 'wo1', step: 'cut' }))
    .addTask(makeTask('b1', { workOrderId: 'wo2', step: 'make' }))
    .addTask(makeTask('b2', { workOrderId: 'wo2', step: 'inspect', departmentId: 'd2' }))
    .addTask(makeTask('b3', { workOrderId: 'wo2', step: 'cut', status: 'draft' }));
  return m;
}

function snapshot(m: MemoryModel) {
  return JSON.stringify([[...m.tasks], m.assignments, [...m.cooldowns], m.notifications]);
}

function step(m: MemoryModel, o: Op, now: number) {
  switch (o.kind) {
    case 'claim':
      return m.claim(o.user, o.task, now);
    case 'start':
      return m.start(o.user, o.task, now);
    case 'complete':
      return m.complete(o.user, o.task, now);
    case 'release':
      return m.release(o.user, o.task, now);
    case 'reject':
      return m.reject(o.user, o.task, o.reason, now);
    case 'assign':
    case 'reassign':
      return m.assign('boss', o.user, o.task, o.kind, now);
    case 'expire':
      m.expireAll(now);
      return null;
  }
}

function checkInvariants(m: MemoryModel) {
  for (const t of m.tasks.values()) {
    const active = m.assignments.filter((a) => a.taskId === t.id && isActiveAssignmentStatus(a.status));
    // OWN-1: at most one holder, and the task row agrees with its active assignment.
    expect(active.length).toBeLessThanOrEqual(1);
    if (t.status === 'pending' || t.status === 'in_progress') {
      expect(t.operatorId).toBe(active[0]?.userId ?? null);
    } else {
      expect(active.length).toBe(0);
    }
    // DUP-1: no duplicate active (user, task, step).
    const keys = active.map((a) => `${a.userId}/${a.step}`);
    expect(new Set(keys).size).toBe(keys.length);
  }
  // CLM-4: nobody exceeds their limit (limits only ever apply per department, so check the tightest).
  for (const u of m.users.values()) {
    const limits = u.departmentIds.map((d) => resolveTaskLimit(m.config, m.departments.get(d) ?? null, u));
    if (limits.length > 0) expect(m.activeCount(u.id)).toBeLessThanOrEqual(Math.max(...limits));
  }
}

describe('invariants over random operation sequences', () => {
  it('OWN-1 DUP-1 CLM-4 a task never has two holders, assignments agree with tasks, nobody exceeds their limit', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const m = world();
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          step(m, o, now);
          checkInvariants(m);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('ERR-2 a refused operation changes nothing; an applied one bumps the task version by exactly one or zero', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = world();
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          const before = snapshot(m);
          const versions = new Map([...m.tasks].map(([id, t]) => [id, t.version]));
          const r = step(m, o, now);
          if (r && !r.ok) expect(snapshot(m)).toBe(before);
          for (const [id, t] of m.tasks) {
            const delta = t.version - versions.get(id)!;
            if (o.kind === 'expire') expect(delta).toBeGreaterThanOrEqual(0);
            else expect([0, 1]).toContain(delta);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('CLM-9 whatever happened before, of two operators claiming one free task in turn exactly one wins', () => {
    // Runs where the task was free and the first claim won: the race this checks must happen.
    let races = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), task, user, user, (ops, t, x, y) => {
        fc.pre(x !== y);
        const m = world();
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          step(m, o, now);
        }
        const holderBefore = m.tasks.get(t)!.operatorId;
        const rx = m.claim(x, t, now);
        const ry = m.claim(y, t, now);
        const winners = [rx, ry].filter((r) => r.ok && !r.value.result.alreadyClaimed).length;
        expect(winners).toBeLessThanOrEqual(1);
        if (holderBefore === null && rx.ok && !rx.value.result.alreadyClaimed) {
          races++;
          expect(ry.ok).toBe(false);
          if (!ry.ok && ry.error.code === 'task_conflict') expect(ry.error.details.currentOwner).toMatchObject({ id: x });
        }
      }),
      { numRuns: 300 },
    );
    expect(races).toBeGreaterThan(30);
  });
});
