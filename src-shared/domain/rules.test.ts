import { describe, expect, it } from 'vitest';
import { MemoryModel, makeTask, makeUser } from '../../test/support/memory-model.js';
import { MINUTE_MS } from './config.js';
import { httpStatusOf } from './errors.js';
import { isActiveAssignmentStatus } from './types.js';
import {
  compareClaimable,
  decideAccept,
  decideAssign,
  decideCancel,
  decideClaim,
  decideExpire,
  decideReject,
  decideStart,
  decideUnassign,
  excludedBy,
  isClaimableBy,
  resolveTaskLimit,
  claimableOrderSql,
  type Effect,
} from './rules.js';

function errorOf(r: { ok: boolean; error?: { code: string; details: Record<string, unknown> } }) {
  if (r.ok) throw new Error('expected an error, got success');
  return r.error!;
}

/**
 * The facts the server reads for a task (ACC-1, NTF-3): the holder's active assignment, and the
 * task's latest assignment when it is a rejection nothing has followed yet.
 */
function factsOf(m: MemoryModel, taskId: string, now = 0) {
  const active = m.assignments.find((a) => a.taskId === taskId && isActiveAssignmentStatus(a.status));
  const latest = m.assignments.filter((a) => a.taskId === taskId).at(-1);
  return {
    ...m.base(taskId, now),
    holderAssignment: active ? { status: active.status, assignedBy: active.assignedBy } : null,
    rejection: latest?.status === 'rejected' ? { userId: latest.userId, userName: m.users.get(latest.userId)!.displayName, awaiting: true } : null,
  };
}

function notifies(effects: readonly Effect[]) {
  return effects.filter((e): e is Extract<Effect, { kind: 'notify' }> => e.kind === 'notify');
}

function plant() {
  return new MemoryModel()
    .addUser(makeUser('ann'))
    .addUser(makeUser('bob'))
    .addUser(makeUser('sue', { roles: ['supervisor'], departmentIds: ['d1'] }))
    .addTask(makeTask('t1'));
}

describe('claim', () => {
  it('CLM-1 claiming a task that does not exist is task_not_found (404)', () => {
    const e = errorOf(plant().claim('ann', 'nope'));
    expect(e.code).toBe('task_not_found');
    expect(httpStatusOf('task_not_found')).toBe(404);
  });

  it('CLM-2 a task without a department cannot be claimed', () => {
    const m = plant().addTask(makeTask('t2', { departmentId: null }));
    const e = errorOf(m.claim('ann', 't2'));
    expect(e.code).toBe('task_no_department');
    expect(httpStatusOf('task_no_department')).toBe(422);
  });

  it('CLM-3 an operator outside the task department is refused with the department name (403)', () => {
    const m = plant().addUser(makeUser('max', { departmentIds: ['d2'] }));
    const e = errorOf(m.claim('max', 't1'));
    expect(e.code).toBe('not_in_department');
    expect(e.details.departmentName).toBe('Cutting');
    expect(httpStatusOf('not_in_department')).toBe(403);
    expect(m.tasks.get('t1')!.operatorId).toBeNull();
  });

  it('CLM-4 an operator at their limit is refused with the count and the limit', () => {
    const m = plant();
    m.config.defaultTaskLimit = 2;
    m.addTask(makeTask('t2')).addTask(makeTask('t3'));
    expect(m.claim('ann', 't1').ok).toBe(true);
    expect(m.claim('ann', 't2').ok).toBe(true);
    const e = errorOf(m.claim('ann', 't3'));
    expect(e.code).toBe('capacity_reached');
    expect(e.details).toMatchObject({ count: 2, limit: 2 });
    expect(m.tasks.get('t3')!.operatorId).toBeNull();
  });

  it('CLM-4 completing a task frees capacity (CAP-2)', () => {
    const m = plant();
    m.config.defaultTaskLimit = 1;
    m.addTask(makeTask('t2'));
    m.claim('ann', 't1');
    expect(errorOf(m.claim('ann', 't2')).code).toBe('capacity_reached');
    m.start('ann', 't1');
    m.complete('ann', 't1');
    expect(m.claim('ann', 't2').ok).toBe(true);
  });

  it.each([
    ['draft', 'task_draft', /approved/],
    ['completed', 'task_completed', /completed/],
    ['cancelled', 'task_cancelled', /cancelled/],
  ] as const)('CLM-5 a %s task cannot be claimed, with its own message', (status, code, text) => {
    const m = plant().addTask(makeTask('t9', { status }));
    const r = m.claim('ann', 't9');
    const e = errorOf(r);
    expect(e.code).toBe(code);
    expect(r.ok === false && r.error.message).toMatch(text);
  });

  it('CLM-6 re-claiming one own task succeeds with alreadyClaimed and changes nothing', () => {
    const m = plant();
    const first = m.claim('ann', 't1');
    expect(first.ok && first.value.result.alreadyClaimed).toBe(false);
    const version = m.tasks.get('t1')!.version;
    const assignments = m.assignments.length;
    const notes = m.notifications.length;
    const again = m.claim('ann', 't1');
    expect(again.ok && again.value.result.alreadyClaimed).toBe(true);
    expect(again.ok && again.value.effects).toEqual([]);
    expect(m.tasks.get('t1')!.version).toBe(version);
    expect(m.assignments.length).toBe(assignments);
    expect(m.notifications.length).toBe(notes);
  });

  it('CLM-6 an operator at capacity can still re-claim their own task', () => {
    const m = plant();
    m.config.defaultTaskLimit = 1;
    m.claim('ann', 't1');
    const again = m.claim('ann', 't1');
    expect(again.ok).toBe(true);
  });

  it('CLM-7 a task held by someone else is a 409 conflict naming the holder, with a retry suggestion', () => {
    const m = plant();
    m.claim('ann', 't1');
    const r = m.claim('bob', 't1');
    const e = errorOf(r);
    expect(e.code).toBe('task_conflict');
    expect(httpStatusOf('task_conflict')).toBe(409);
    expect(e.details).toMatchObject({ taskId: 't1', currentOwner: { id: 'ann', name: 'Name ann' } });
    const data = !r.ok ? r.error.toData('en') : null;
    expect(data!.message).toContain('Name ann');
    expect(data!.retry).toEqual({ canRetry: true, suggestion: 'Refresh the list and pick another task.', actionText: 'Refresh' });
    const zh = !r.ok ? r.error.toData('zh') : null;
    expect(zh!.message).toContain('Name ann');
    expect(zh!.retry.actionText).toBe('刷新');
  });

  it('CLM-8 a successful claim sets the holder, bumps the version, opens an accepted assignment and notifies', () => {
    const m = plant();
    const r = m.claim('ann', 't1', 1000);
    expect(r.ok).toBe(true);
    const t = m.tasks.get('t1')!;
    expect(t).toMatchObject({ operatorId: 'ann', operatorName: 'Name ann', status: 'pending', version: 2 });
    expect(m.assignments).toEqual([
      expect.objectContaining({ taskId: 't1', userId: 'ann', step: 'cut', status: 'accepted', assignedBy: 'ann' }),
    ]);
    expect(m.notifications).toEqual([{ userId: 'ann', event: 'task_claimed', taskId: 't1' }]);
  });

  it('CLM-9 of two claims decided one after the other, the second is a conflict naming the first', () => {
    const m = plant();
    expect(m.claim('bob', 't1').ok).toBe(true);
    const e = errorOf(m.claim('ann', 't1'));
    expect(e.code).toBe('task_conflict');
    expect(e.details.currentOwner).toEqual({ id: 'bob', name: 'Name bob' });
  });

  it('CLM-10 unknown, inactive and non-operator users cannot claim', () => {
    const m = plant()
      .addUser(makeUser('old', { active: false }))
      .addUser(makeUser('boss', { roles: ['supervisor'] }));
    expect(errorOf(m.claim('ghost', 't1')).code).toBe('user_not_found');
    expect(errorOf(m.claim('old', 't1')).code).toBe('user_inactive');
    expect(errorOf(m.claim('boss', 't1')).code).toBe('permission_denied');
    expect(httpStatusOf('permission_denied')).toBe(403);
  });

  it('CLM-11 after releasing, the same operator waits out the cooldown; others do not', () => {
    const m = plant();
    m.claim('ann', 't1', 0);
    m.release('ann', 't1', 1000);
    const e = errorOf(m.claim('ann', 't1', 2000));
    expect(e.code).toBe('cooldown_active');
    expect(e.details.until).toBe(1000 + 15 * MINUTE_MS);
    expect(e.details.minutesLeft).toBe(15);
    expect(m.claim('ann', 't1', 1000 + 15 * MINUTE_MS).ok).toBe(true);
  });

  it('CLM-11 another operator may claim a task in someone else cooldown', () => {
    const m = plant();
    m.claim('ann', 't1', 0);
    m.release('ann', 't1', 1000);
    expect(m.claim('bob', 't1', 2000).ok).toBe(true);
  });

  it('CLM-12 the maker of a work order may not claim its inspection (XSTEP-1)', () => {
    const m = plant()
      .addTask(makeTask('make1', { step: 'make' }))
      .addTask(makeTask('insp1', { step: 'inspect' }))
      .addTask(makeTask('insp2', { step: 'inspect', workOrderId: 'wo2' }));
    m.claim('ann', 'make1');
    const e = errorOf(m.claim('ann', 'insp1'));
    expect(e.code).toBe('cross_step_excluded');
    expect(e.details).toMatchObject({ step: 'make', conflictingStep: 'inspect' });
    expect(m.claim('ann', 'insp2').ok).toBe(true); // another work order
    expect(m.claim('bob', 'insp1').ok).toBe(true); // another person
  });

  it('CLM-13 a queued claim older than the maximum age is stale; a younger one applies', () => {
    const m = plant().addTask(makeTask('t2'));
    const now = 10 * 60 * MINUTE_MS;
    const e = errorOf(m.claim('ann', 't1', now, now - 8 * 60 * MINUTE_MS - 1));
    expect(e.code).toBe('claim_stale');
    expect(e.details).toMatchObject({ ageMinutes: 480, maxAgeMinutes: 480 });
    expect(m.tasks.get('t1')!.operatorId).toBeNull();
    expect(m.claim('ann', 't2', now, now - 8 * 60 * MINUTE_MS).ok).toBe(true);
  });
});

describe('holder operations', () => {
  it('HLD-1 only the holder may start, complete, release or reject; others get a conflict naming the holder', () => {
    const m = plant();
    m.claim('ann', 't1');
    for (const r of [m.start('bob', 't1'), m.complete('bob', 't1'), m.release('bob', 't1'), m.reject('bob', 't1', 'no')]) {
      const e = errorOf(r);
      expect(e.code).toBe('task_conflict');
      expect(e.details.currentOwner).toMatchObject({ id: 'ann' });
    }
    expect(m.tasks.get('t1')!.operatorId).toBe('ann');
  });

  it('HLD-1 acting on a task nobody holds is task_not_claimed; on a cancelled task, task_cancelled', () => {
    const m = plant().addTask(makeTask('tc', { status: 'cancelled' }));
    expect(errorOf(m.start('ann', 't1')).code).toBe('task_not_claimed');
    expect(errorOf(m.release('ann', 't1')).code).toBe('task_not_claimed');
    expect(errorOf(m.release('ann', 'tc')).code).toBe('task_cancelled');
    expect(errorOf(m.start('ann', 'nope')).code).toBe('task_not_found');
  });

  it('STA-1 start moves the task and its assignment to in_progress; starting again is idempotent', () => {
    const m = plant();
    m.claim('ann', 't1');
    const r = m.start('ann', 't1', 5);
    expect(r.ok && r.value.result.alreadyStarted).toBe(false);
    expect(m.tasks.get('t1')!).toMatchObject({ status: 'in_progress', version: 3 });
    expect(m.assignments[0]!).toMatchObject({ status: 'in_progress', startedAt: 5 });
    const again = m.start('ann', 't1');
    expect(again.ok && again.value.result.alreadyStarted).toBe(true);
    expect(m.tasks.get('t1')!.version).toBe(3);
  });

  it('CMP-1 complete needs a started task, then submits the assignment and keeps the holder', () => {
    const m = plant();
    m.claim('ann', 't1');
    expect(errorOf(m.complete('ann', 't1')).code).toBe('task_not_started');
    m.start('ann', 't1');
    const r = m.complete('ann', 't1');
    expect(r.ok && r.value.result.alreadyCompleted).toBe(false);
    expect(m.tasks.get('t1')!).toMatchObject({ status: 'completed', operatorId: 'ann' });
    expect(m.assignments[0]!.status).toBe('submitted');
    expect(m.activeCount('ann')).toBe(0);
    const again = m.complete('ann', 't1');
    expect(again.ok && again.value.result.alreadyCompleted).toBe(true);
    expect(errorOf(m.release('ann', 't1')).code).toBe('task_completed');
    expect(errorOf(m.start('ann', 't1')).code).toBe('task_completed');
  });

  it('REL-1 release returns the task to the pool, closes the assignment and sets a cooldown', () => {
    const m = plant();
    m.claim('ann', 't1');
    m.start('ann', 't1');
    expect(m.release('ann', 't1', 100).ok).toBe(true);
    expect(m.tasks.get('t1')!).toMatchObject({ status: 'pending', operatorId: null, version: 4 });
    expect(m.assignments[0]!.status).toBe('released');
    expect(m.cooldowns.get('t1/ann')).toBe(100 + 15 * MINUTE_MS);
  });

  it('REJ-1 reject needs a reason, records it and returns the task to the pool', () => {
    const m = plant();
    m.claim('ann', 't1');
    const empty = errorOf(m.reject('ann', 't1', '   '));
    expect(empty.code).toBe('reason_required');
    expect(httpStatusOf('reason_required')).toBe(400);
    expect(errorOf(m.reject('ann', 't1', 'x'.repeat(501))).code).toBe('invalid_input');
    expect(m.reject('ann', 't1', '  drawing missing  ').ok).toBe(true);
    expect(m.assignments[0]!).toMatchObject({ status: 'rejected', reason: 'drawing missing' });
    expect(m.tasks.get('t1')!.operatorId).toBeNull();
  });

  it('COOL-1 a cooldown of 0 minutes disables cooldowns', () => {
    const m = plant();
    m.config.cooldownMinutes = 0;
    m.claim('ann', 't1');
    m.release('ann', 't1');
    expect(m.claim('ann', 't1').ok).toBe(true);
  });
});

describe('capacity, exclusion, duplicates', () => {
  it('CAP-1 the operator override beats the department override, which beats the site default', () => {
    const cfg = plant().config;
    const dept = { id: 'd1', name: 'Cutting', taskLimit: 4 };
    expect(resolveTaskLimit(cfg, null, makeUser('a'))).toBe(10);
    expect(resolveTaskLimit(cfg, dept, makeUser('a'))).toBe(4);
    expect(resolveTaskLimit(cfg, dept, makeUser('a', { taskLimit: 2 }))).toBe(2);
  });

  it('CAP-1 a department override applies to claims in that department', () => {
    const m = plant().addTask(makeTask('t2'));
    m.departments.set('d1', { id: 'd1', name: 'Cutting', taskLimit: 1 });
    m.claim('ann', 't1');
    expect(errorOf(m.claim('ann', 't2')).details).toMatchObject({ count: 1, limit: 1 });
  });

  it('XSTEP-1 exclusion pairs are symmetric; unrelated steps are not excluded', () => {
    const cfg = plant().config;
    expect(excludedBy(cfg, 'make', ['inspect'])).toBe('inspect');
    expect(excludedBy(cfg, 'inspect', ['make'])).toBe('make');
    expect(excludedBy(cfg, 'cut', ['make'])).toBeNull();
  });

  it('XSTEP-1 a released, never-started task does not exclude; a started one does', () => {
    const m = plant()
      .addTask(makeTask('make1', { step: 'make' }))
      .addTask(makeTask('insp1', { step: 'inspect' }));
    m.claim('ann', 'make1');
    m.release('ann', 'make1');
    expect(m.claim('ann', 'insp1').ok).toBe(true);
    m.release('ann', 'insp1');
    const m2 = plant()
      .addTask(makeTask('make1', { step: 'make' }))
      .addTask(makeTask('insp1', { step: 'inspect' }));
    m2.claim('ann', 'make1');
    m2.start('ann', 'make1');
    m2.release('ann', 'make1');
    expect(errorOf(m2.claim('ann', 'insp1')).code).toBe('cross_step_excluded');
  });

  it('DUP-1 assigning a task to the operator who already holds it is a duplicate (409)', () => {
    const m = plant();
    m.claim('ann', 't1');
    const e = errorOf(m.assign('sue', 'ann', 't1'));
    expect(e.code).toBe('duplicate_assignment');
    expect(httpStatusOf('duplicate_assignment')).toBe(409);
    expect(m.assignments.length).toBe(1);
  });
});

describe('assign and reassign', () => {
  it('ASG-1 operators cannot assign; supervisors only in their departments; admins anywhere', () => {
    const m = plant()
      .addUser(makeUser('sam', { roles: ['supervisor'], departmentIds: ['d2'] }))
      .addUser(makeUser('root', { roles: ['admin'], departmentIds: [] }));
    expect(errorOf(m.assign('bob', 'ann', 't1')).code).toBe('permission_denied');
    expect(errorOf(m.assign('sam', 'ann', 't1')).code).toBe('permission_denied');
    expect(m.assign('root', 'ann', 't1').ok).toBe(true);
  });

  it('ASG-2 the target passes the department, capacity and cross-step checks', () => {
    const m = plant()
      .addUser(makeUser('max', { departmentIds: ['d2'] }))
      .addUser(makeUser('old', { active: false }))
      .addTask(makeTask('t2', { status: 'draft' }));
    expect(errorOf(m.assign('sue', 'max', 't1')).code).toBe('not_in_department');
    expect(errorOf(m.assign('sue', 'old', 't1')).code).toBe('user_inactive');
    expect(errorOf(m.assign('sue', 'sue', 't1')).code).toBe('permission_denied');
    expect(errorOf(m.assign('sue', 'ghost', 't1')).code).toBe('user_not_found');
    expect(errorOf(m.assign('sue', 'ann', 't2')).code).toBe('task_draft');
    m.users.set('ann', makeUser('ann', { taskLimit: 0 }));
    expect(errorOf(m.assign('sue', 'ann', 't1')).code).toBe('capacity_reached');
  });

  it('ASG-2 a supervisor assign overrides the target cooldown (COOL-1)', () => {
    const m = plant();
    m.claim('ann', 't1');
    m.release('ann', 't1');
    expect(errorOf(m.claim('ann', 't1')).code).toBe('cooldown_active');
    expect(m.assign('sue', 'ann', 't1').ok).toBe(true);
  });

  it('ASG-3 assigning a task someone else holds is a conflict naming them', () => {
    const m = plant();
    m.claim('bob', 't1');
    const e = errorOf(m.assign('sue', 'ann', 't1'));
    expect(e.code).toBe('task_conflict');
    expect(e.details.currentOwner).toMatchObject({ id: 'bob' });
  });

  it('ASG-5 a successful assign gives the target an assigned assignment and a notification', () => {
    const m = plant();
    expect(m.assign('sue', 'ann', 't1').ok).toBe(true);
    expect(m.tasks.get('t1')!).toMatchObject({ operatorId: 'ann', status: 'pending' });
    expect(m.assignments[0]!).toMatchObject({ userId: 'ann', status: 'assigned', assignedBy: 'sue' });
    expect(m.notifications).toEqual([{ userId: 'ann', event: 'task_assigned', taskId: 't1' }]);
  });

  it('RSG-1 reassign moves a held task to another operator and notifies both', () => {
    const m = plant();
    m.claim('bob', 't1');
    m.start('bob', 't1');
    const r = m.assign('sue', 'ann', 't1', 'reassign');
    expect(r.ok && r.value.result.previousOwner).toEqual({ id: 'bob', name: 'Name bob' });
    expect(m.tasks.get('t1')!).toMatchObject({ operatorId: 'ann', status: 'pending' });
    expect(m.assignments.map((a) => [a.userId, a.status])).toEqual([
      ['bob', 'reassigned'],
      ['ann', 'assigned'],
    ]);
    expect(m.notifications.slice(-2).map((n) => [n.userId, n.event])).toEqual([
      ['bob', 'task_reassigned_away'],
      ['ann', 'task_assigned'],
    ]);
    expect(errorOf(m.assign('sue', 'ann', 't1', 'reassign')).code).toBe('duplicate_assignment');
  });

  it('RSG-1 reassigning a task nobody holds is refused', () => {
    expect(errorOf(plant().assign('sue', 'ann', 't1', 'reassign')).code).toBe('task_not_claimed');
  });
});

describe('expiry', () => {
  it('EXP-1 an unstarted assignment expires after the configured time; started work does not', () => {
    const m = plant().addTask(makeTask('t2'));
    m.claim('ann', 't1', 0);
    m.claim('bob', 't2', 0);
    m.start('bob', 't2', 10);
    expect(m.expireAll(120 * MINUTE_MS - 1)).toBe(0);
    expect(m.expireAll(120 * MINUTE_MS)).toBe(1);
    expect(m.tasks.get('t1')!).toMatchObject({ operatorId: null, status: 'pending' });
    expect(m.assignments.find((a) => a.taskId === 't1')!.status).toBe('expired');
    expect(m.tasks.get('t2')!.operatorId).toBe('bob');
    expect(m.notifications.at(-1)).toEqual({ userId: 'ann', event: 'task_expired', taskId: 't1' });
  });

  it('EXP-1 expiry 0 disables it', () => {
    const m = plant();
    m.config.assignmentExpiryMinutes = 0;
    m.claim('ann', 't1', 0);
    expect(m.expireAll(10_000 * MINUTE_MS)).toBe(0);
  });
});

describe('claimable list', () => {
  it('LIST-1 only unassigned pending tasks of the operator departments, minus cooldown and exclusions', () => {
    const cfg = plant().config;
    const ann = makeUser('ann', { departmentIds: ['d1'] });
    const free = { cooldownUntil: null, workedSteps: [] };
    expect(isClaimableBy(makeTask('a'), ann, free, 0, cfg)).toBe(true);
    expect(isClaimableBy(makeTask('a', { operatorId: 'bob' }), ann, free, 0, cfg)).toBe(false);
    expect(isClaimableBy(makeTask('a', { status: 'draft' }), ann, free, 0, cfg)).toBe(false);
    expect(isClaimableBy(makeTask('a', { departmentId: 'd2' }), ann, free, 0, cfg)).toBe(false);
    expect(isClaimableBy(makeTask('a'), ann, { cooldownUntil: 10, workedSteps: [] }, 5, cfg)).toBe(false);
    expect(isClaimableBy(makeTask('a'), ann, { cooldownUntil: 10, workedSteps: [] }, 10, cfg)).toBe(true);
    expect(isClaimableBy(makeTask('a', { step: 'inspect' }), ann, { cooldownUntil: null, workedSteps: ['make'] }, 0, cfg)).toBe(false);
  });

  it('LIST-1 order: priority first, then due time (none last), then age, then id', () => {
    const tasks = [
      makeTask('e', { priority: 0, dueAt: null, createdAt: 1 }),
      makeTask('d', { priority: 0, dueAt: null, createdAt: 0 }),
      makeTask('c', { priority: 0, dueAt: 50 }),
      makeTask('b', { priority: 0, dueAt: 10 }),
      makeTask('a', { priority: 5, dueAt: null }),
      makeTask('f', { priority: 0, dueAt: null, createdAt: 1 }),
    ];
    expect(tasks.sort(compareClaimable).map((t) => t.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(claimableOrderSql('t')).toMatch(/^t\.priority DESC/);
  });
});

describe('unassign and cancel (supervisors)', () => {
  const supervised = () =>
    plant()
      .addUser(makeUser('sam', { roles: ['supervisor'], departmentIds: ['d2'] }))
      .addUser(makeUser('root', { roles: ['admin'], departmentIds: [] }))
      .addUser(makeUser('gone', { roles: ['supervisor'], active: false }));

  it('ASG-6 a supervisor returns a held task to the pool: the assignment closes released, the holder is told, no cooldown', () => {
    const m = supervised();
    m.claim('ann', 't1', 0);
    m.start('ann', 't1', 10);
    const version = m.tasks.get('t1')!.version;
    const d = decideUnassign({ ...m.base('t1', 100), actor: m.users.get('sue')! });
    expect(d.ok && d.value.result).toEqual({ previousOwner: { id: 'ann', name: 'Name ann' } });
    expect(d.ok && d.value.effects.map((e) => e.kind)).not.toContain('cooldown');
    m.run(d, 100);
    expect(m.tasks.get('t1')!).toMatchObject({ operatorId: null, status: 'pending', version: version + 1 });
    expect(m.assignments.map((a) => [a.userId, a.status])).toEqual([['ann', 'released']]);
    expect(m.notifications.at(-1)).toEqual({ userId: 'ann', event: 'task_released_by_supervisor', taskId: 't1' });
    expect(m.claim('ann', 't1', 101).ok).toBe(true);
  });

  it('ASG-6 only a supervisor of the task department or an admin may; a free task is task_not_claimed; finished tasks are refused', () => {
    const m = supervised().addTask(makeTask('done', { status: 'completed' })).addTask(makeTask('off', { status: 'cancelled' }));
    m.claim('ann', 't1');
    const unassign = (actor: string, taskId = 't1') => decideUnassign({ ...m.base(taskId, 0), actor: m.users.get(actor) ?? null });
    expect(errorOf(unassign('ann')).code).toBe('permission_denied');
    expect(errorOf(unassign('sam')).code).toBe('permission_denied');
    expect(errorOf(unassign('gone')).code).toBe('user_inactive');
    expect(errorOf(unassign('ghost')).code).toBe('user_not_found');
    expect(errorOf(unassign('sue', 'nope')).code).toBe('task_not_found');
    expect(errorOf(unassign('sue', 'done')).code).toBe('task_completed');
    expect(errorOf(unassign('sue', 'off')).code).toBe('task_cancelled');
    expect(m.tasks.get('t1')!.operatorId).toBe('ann');
    expect(unassign('root').ok).toBe(true);
    m.addTask(makeTask('t2'));
    expect(errorOf(unassign('sue', 't2')).code).toBe('task_not_claimed');
  });

  it('CNL-1 a cancellation needs a reason of 1\u2013500 characters after trimming', () => {
    const m = supervised();
    const cancel = (reason: string) => decideCancel({ ...m.base('t1', 0), actor: m.users.get('sue')!, reason });
    expect(errorOf(cancel('')).code).toBe('reason_required');
    expect(errorOf(cancel('   \n ')).code).toBe('reason_required');
    expect(errorOf(cancel('x'.repeat(501))).details).toMatchObject({ field: 'reason' });
    expect(errorOf(cancel('x'.repeat(501))).code).toBe('invalid_input');
    expect(cancel(`  ${'x'.repeat(500)}  `).ok).toBe(true);
  });

  it('CNL-1 cancelling a held task closes its assignment released with the reason and tells the holder; nobody can then take it', () => {
    const m = supervised();
    m.claim('ann', 't1');
    const d = decideCancel({ ...m.base('t1', 50), actor: m.users.get('sue')!, reason: '  Order withdrawn ' });
    expect(d.ok && d.value.result).toEqual({ previousOwner: { id: 'ann', name: 'Name ann' } });
    m.run(d, 50);
    expect(m.tasks.get('t1')!).toMatchObject({ status: 'cancelled', operatorId: null });
    expect(m.assignments.map((a) => [a.userId, a.status, a.reason])).toEqual([['ann', 'released', 'Order withdrawn']]);
    expect(m.notifications.at(-1)).toEqual({ userId: 'ann', event: 'task_cancelled', taskId: 't1' });
    expect(errorOf(m.claim('bob', 't1')).code).toBe('task_cancelled');
    expect(errorOf(m.assign('sue', 'bob', 't1')).code).toBe('task_cancelled');
    expect(errorOf(decideCancel({ ...m.base('t1', 60), actor: m.users.get('sue')!, reason: 'again' })).code).toBe('task_cancelled');
    // A task nobody holds: cancelled, nobody to tell.
    m.addTask(makeTask('t2'));
    const free = decideCancel({ ...m.base('t2', 70), actor: m.users.get('root')!, reason: 'Duplicate' });
    expect(free.ok && free.value.effects.map((e) => e.kind)).toEqual(['task']);
  });

  it('CNL-1 operators and supervisors of other departments may not cancel; completed work cannot be cancelled', () => {
    const m = supervised().addTask(makeTask('done', { status: 'completed' }));
    const cancel = (actor: string, taskId = 't1') => decideCancel({ ...m.base(taskId, 0), actor: m.users.get(actor) ?? null, reason: 'no' });
    expect(errorOf(cancel('ann')).code).toBe('permission_denied');
    expect(errorOf(cancel('sam')).code).toBe('permission_denied');
    expect(errorOf(cancel('sue', 'done')).code).toBe('task_completed');
    expect(m.tasks.get('t1')!.status).toBe('pending');
  });
});

describe('exceptions and supervisor notifications', () => {
  it('SUP-4 SUP-5 a reject files a task_rejected exception with the reason and notifies the department supervisors', () => {
    const m = plant();
    m.claim('ann', 't1');
    const d = decideReject({ ...m.base('t1', 5), actor: m.users.get('ann')!, reason: '  Blade is dull ' });
    const effects = d.ok ? d.value.effects : [];
    expect(effects).toContainEqual({ kind: 'exception', exception: 'task_rejected', taskId: 't1', userId: 'ann', reason: 'Blade is dull' });
    expect(effects).toContainEqual({ kind: 'notifySupervisors', departmentId: 'd1', event: 'task_rejected', taskId: 't1', byUserId: 'ann', reason: 'Blade is dull' });
    // A release is the operator's normal choice: nothing for supervisors.
    const m2 = plant();
    m2.claim('ann', 't1');
    const released = m2.release('ann', 't1');
    expect(released.ok).toBe(true);
    const kinds = (released.ok ? released.value.effects : []).map((e: Effect) => e.kind);
    expect(kinds).not.toContain('exception');
    expect(kinds).not.toContain('notifySupervisors');
  });

  it('SUP-4 an expired assignment files an assignment_expired exception naming the holder; started work files nothing', () => {
    const m = plant().addTask(makeTask('t2'));
    m.claim('ann', 't1', 0);
    m.claim('bob', 't2', 0);
    m.start('bob', 't2', 10);
    const now = 120 * MINUTE_MS;
    const of = (taskId: string) => m.assignments.find((a) => a.taskId === taskId)!;
    const expired = decideExpire({ now, config: m.config, task: m.tasks.get('t1')!, assignment: of('t1') });
    expect(expired!.effects).toContainEqual({ kind: 'exception', exception: 'assignment_expired', taskId: 't1', userId: 'ann', reason: null });
    expect(decideExpire({ now, config: m.config, task: m.tasks.get('t2')!, assignment: of('t2') })).toBeNull();
  });
});

describe('refusals about someone else', () => {
  it('ERR-3 an assign refused because of the operator picked names them, in English and Chinese', () => {
    const m = plant()
      .addUser(makeUser('max', { departmentIds: ['d2'] }))
      .addUser(makeUser('old', { active: false }))
      .addUser(makeUser('cap', { taskLimit: 0 }))
      .addTask(makeTask('make1', { step: 'make' }))
      .addTask(makeTask('insp1', { step: 'inspect' }));
    const refusal = (target: string, taskId = 't1') => {
      const r = m.assign('sue', target, taskId);
      if (r.ok) throw new Error('expected a refusal');
      return { details: r.error.details, en: r.error.toData('en'), zh: r.error.toData('zh') };
    };
    const outside = refusal('max');
    expect(outside.details).toMatchObject({ targetName: 'Name max', departmentName: 'Cutting' });
    expect(outside.en.message).toBe('Name max is not in Cutting.');
    expect(outside.en.retry.suggestion).toBe('Pick an operator of Cutting, or ask an administrator to add Name max to it.');
    expect(outside.zh.message).toBe('Name max 不属于部门 Cutting。');
    expect(refusal('old').en.message).toBe('The account of Name old is deactivated.');
    expect(refusal('sue').en.message).toBe('Name sue is not an operator, so cannot be given tasks.');
    expect(refusal('cap').en.message).toBe('Name cap already has 0 active tasks; the limit is 0.');
    expect(refusal('cap').zh.message).toBe('Name cap 已有 0 项在手任务，上限为 0 项。');
    m.claim('ann', 'make1');
    m.start('ann', 'make1');
    expect(refusal('ann', 'insp1').en.message).toBe('Name ann did step "make" on this work order, so may not also do step "inspect".');
  });

  it('ERR-3 the same rule refusing the operator themself still says "you"', () => {
    const m = plant().addUser(makeUser('max', { departmentIds: ['d2'] }));
    const r = m.claim('max', 't1');
    const e = errorOf(r);
    expect(e.details).not.toHaveProperty('targetName');
    expect(!r.ok && r.error.toData('en').message).toBe('You do not belong to department Cutting, so you cannot take this task.');
  });
});

describe('accept (ACC-1)', () => {
  const accept = (m: MemoryModel, userId: string, taskId: string, now = 0) => decideAccept({ ...factsOf(m, taskId, now), actor: m.users.get(userId) ?? null });

  it('ACC-1 the holder accepts a task a supervisor assigned: the assignment moves from assigned to accepted and the version bumps', () => {
    const m = plant();
    m.assign('sue', 'ann', 't1');
    const version = m.tasks.get('t1')!.version;
    const d = accept(m, 'ann', 't1', 10);
    expect(d.ok && d.value.result).toEqual({ alreadyAccepted: false });
    m.run(d, 10);
    expect(m.tasks.get('t1')!).toMatchObject({ operatorId: 'ann', status: 'pending', version: version + 1 });
    expect(m.assignments.map((a) => [a.userId, a.status, a.assignedBy])).toEqual([['ann', 'accepted', 'sue']]);
    // Accepting it again changes nothing.
    const again = accept(m, 'ann', 't1', 20);
    expect(again.ok && again.value).toEqual({ effects: [], result: { alreadyAccepted: true } });
  });

  it('ACC-1 accepting a task one claimed, or one already started, succeeds with alreadyAccepted and no effects', () => {
    const m = plant().addTask(makeTask('t2'));
    m.claim('ann', 't1');
    const claimed = accept(m, 'ann', 't1');
    expect(claimed.ok && claimed.value).toEqual({ effects: [], result: { alreadyAccepted: true } });
    m.assign('sue', 'ann', 't2');
    m.start('ann', 't2');
    expect(m.assignments.find((a) => a.taskId === 't2')!.status).toBe('in_progress');
    const started = accept(m, 'ann', 't2');
    expect(started.ok && started.value).toEqual({ effects: [], result: { alreadyAccepted: true } });
  });

  it('ACC-1 only the holder accepts: someone else gets a conflict naming the holder; a free, completed or cancelled task is refused', () => {
    const m = plant().addTask(makeTask('t2')).addTask(makeTask('off', { status: 'cancelled' }));
    m.assign('sue', 'ann', 't1');
    const e = errorOf(accept(m, 'bob', 't1'));
    expect(e.code).toBe('task_conflict');
    expect(e.details.currentOwner).toEqual({ id: 'ann', name: 'Name ann' });
    expect(errorOf(accept(m, 'ann', 't2')).code).toBe('task_not_claimed');
    expect(errorOf(accept(m, 'ann', 'off')).code).toBe('task_cancelled');
    expect(errorOf(accept(m, 'sue', 't1')).code).toBe('permission_denied');
    m.start('ann', 't1');
    m.complete('ann', 't1');
    expect(m.tasks.get('t1')!).toMatchObject({ status: 'completed', operatorId: 'ann' });
    expect(errorOf(accept(m, 'ann', 't1')).code).toBe('task_completed');
    expect(httpStatusOf('task_completed')).toBe(422);
  });

  it('ACC-1 start works from assigned as from accepted; reject works on an assigned task as on a claimed one', () => {
    const m = plant().addTask(makeTask('t2'));
    m.assign('sue', 'ann', 't1');
    const started = decideStart({ ...factsOf(m, 't1'), actor: m.users.get('ann')! });
    expect(started.ok && started.value.result).toEqual({ alreadyStarted: false });
    m.run(started, 1);
    expect(m.assignments[0]!).toMatchObject({ status: 'in_progress', assignedBy: 'sue' });
    m.assign('sue', 'ann', 't2');
    const rejected = decideReject({ ...factsOf(m, 't2'), actor: m.users.get('ann')!, reason: 'No drawing' });
    expect(rejected.ok).toBe(true);
    m.run(rejected, 2);
    expect(m.assignments.find((a) => a.taskId === 't2')!).toMatchObject({ status: 'rejected', reason: 'No drawing' });
    expect(m.tasks.get('t2')!.operatorId).toBeNull();
  });
});

describe('notifications (NTF-1, NTF-3)', () => {
  const claim = (m: MemoryModel, userId: string, taskId: string, now: number, queued: { at: number; offline: boolean } | null = null) =>
    m.run(
      decideClaim({ ...factsOf(m, taskId, now), operator: m.operatorFacts(userId, taskId), queuedAt: queued?.at ?? null, waitedOffline: queued?.offline ?? false }),
      now,
    );

  it('NTF-1 a claim is notified already read (the operator saw it happen), also one queued while online', () => {
    const m = plant().addTask(makeTask('t2'));
    const live = claim(m, 'ann', 't1', 1000);
    expect(live.ok && notifies(live.value.effects)).toEqual([
      { kind: 'notify', userId: 'ann', event: 'task_claimed', taskId: 't1', byUserId: 'ann', read: true, details: {} },
    ]);
    const queuedOnline = claim(m, 'ann', 't2', 10 * MINUTE_MS, { at: 9 * MINUTE_MS, offline: false });
    expect(queuedOnline.ok && notifies(queuedOnline.value.effects)).toEqual([expect.objectContaining({ event: 'task_claimed', read: true, details: {} })]);
  });

  it('NTF-1 a claim that waited offline is news: unread, with how many minutes it waited', () => {
    const m = plant();
    const now = 100 * MINUTE_MS;
    const r = claim(m, 'ann', 't1', now, { at: now - 37 * MINUTE_MS - 59_000, offline: true });
    expect(r.ok && notifies(r.value.effects)).toEqual([
      { kind: 'notify', userId: 'ann', event: 'task_claimed', taskId: 't1', byUserId: 'ann', read: false, details: { offline: true, waitedMinutes: 37 } },
    ]);
  });

  it('NTF-3 a rejected task claimed by someone else: who rejected it is told who took it (unread)', () => {
    const m = plant();
    m.claim('ann', 't1', 0);
    m.reject('ann', 't1', 'Blade is dull', 10);
    const r = claim(m, 'bob', 't1', 20);
    expect(r.ok && notifies(r.value.effects).filter((n) => n.userId === 'ann')).toEqual([
      { kind: 'notify', userId: 'ann', event: 'rejected_task_claimed', taskId: 't1', byUserId: 'bob', details: { holderId: 'bob', holderName: 'Name bob' } },
    ]);
    expect(r.ok && notifies(r.value.effects).find((n) => n.userId === 'ann')!.read).toBeUndefined();
  });

  it('NTF-3 a rejected task a supervisor assigns: who rejected it is told to whom, by whom', () => {
    const m = plant();
    m.claim('ann', 't1', 0);
    m.reject('ann', 't1', 'Blade is dull', 10);
    const d = decideAssign({ ...factsOf(m, 't1', 20), actor: m.users.get('sue')!, target: m.operatorFacts('bob', 't1'), mode: 'assign' });
    expect(d.ok && notifies(d.value.effects).map((n) => [n.userId, n.event, n.byUserId, n.details ?? null])).toEqual([
      ['bob', 'task_assigned', 'sue', null],
      ['ann', 'rejected_task_assigned', 'sue', { holderId: 'bob', holderName: 'Name bob' }],
    ]);
  });

  it('NTF-3 a rejected task a supervisor cancels: who rejected it is told, with the reason', () => {
    const m = plant();
    m.claim('ann', 't1', 0);
    m.reject('ann', 't1', 'Blade is dull', 10);
    const d = decideCancel({ ...factsOf(m, 't1', 20), actor: m.users.get('sue')!, reason: '  Order withdrawn ' });
    expect(d.ok && notifies(d.value.effects)).toEqual([
      { kind: 'notify', userId: 'ann', event: 'rejected_task_cancelled', taskId: 't1', byUserId: 'sue', details: { reason: 'Order withdrawn' } },
    ]);
  });

  it('NTF-3 nobody is told when the rejecter takes the task back (claim or assign), or once the rejection is no longer the latest', () => {
    const m = plant().addUser(makeUser('cat'));
    m.claim('ann', 't1', 0);
    m.reject('ann', 't1', 'Blade is dull', 10);
    const back = 10 + 15 * MINUTE_MS;
    const reclaimed = claim(m, 'ann', 't1', back);
    expect(reclaimed.ok && notifies(reclaimed.value.effects).map((n) => n.event)).toEqual(['task_claimed']);
    m.reject('ann', 't1', 'Still dull', back + 1);
    const assignedBack = decideAssign({ ...factsOf(m, 't1', back + 2), actor: m.users.get('sue')!, target: m.operatorFacts('ann', 't1'), mode: 'assign' });
    expect(assignedBack.ok && notifies(assignedBack.value.effects).map((n) => n.event)).toEqual(['task_assigned']);
    m.run(assignedBack, back + 2);
    m.release('ann', 't1', back + 3);
    // The latest assignment is a release, not the rejection: its fate was already settled.
    expect(factsOf(m, 't1').rejection).toBeNull();
    const later = claim(m, 'bob', 't1', back + 4);
    expect(later.ok && notifies(later.value.effects).map((n) => [n.userId, n.event])).toEqual([['bob', 'task_claimed']]);
    // A rejection that is not awaiting its fate is not told either.
    m.reject('bob', 't1', 'No', back + 5);
    const notAwaiting = decideClaim({
      ...factsOf(m, 't1', back + 6),
      rejection: { userId: 'bob', userName: 'Name bob', awaiting: false },
      operator: m.operatorFacts('cat', 't1'),
      queuedAt: null,
    });
    expect(notAwaiting.ok && notifies(notAwaiting.value.effects).map((n) => n.userId)).toEqual(['cat']);
  });
});
