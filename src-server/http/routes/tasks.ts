/**
 * Task routes: the task list with filters and paging (API-6), the caller's claimable list
 * (LIST-1), one task with its assignments and recent audit, the task operations (claim, release,
 * start, complete, reject, assign, reassign) and auto-assignment. Every operation goes through the
 * group committer, so it is durable before it is answered, and is decided by the shared rules.
 */
import { performance } from 'node:perf_hooks';
import { DomainError } from '../../../src-shared/domain/errors.js';
import { canSupervise } from '../../../src-shared/domain/rules.js';
import { hasRole } from '../../../src-shared/domain/types.js';
import type { AutoAssignRequest, AutoAssignResult, TaskOperation } from '../../engine/mutations.js';
import { errorReply, ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import { assignBody, autoAssignBody, cancelBody, claimableQuery, emptyBody, pageOf, rejectBody, tasksQuery } from '../schemas.js';
import type { Scope } from '../scope.js';

/** How many audit events GET /api/tasks/:id shows. */
export const TASK_AUDIT_LIMIT = 50;

const OPERATIONS = ['claim', 'accept', 'release', 'start', 'complete', 'reject', 'assign', 'reassign', 'unassign', 'cancel'] as const;
type OperationName = (typeof OPERATIONS)[number];

async function listTasks(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const q = s.queryAs(tasksQuery);
  const page = pageOf(q);
  // SEC-10: admins read every department; everyone else only their own.
  const admin = canSupervise(user, null);
  if (!admin && q.departmentId !== undefined && !user.departmentIds.includes(q.departmentId)) {
    throw new DomainError('permission_denied', { departmentId: q.departmentId, problem: 'you may read only the tasks of your own departments' });
  }
  const result = await s.ctx.store.listTasks(
    {
      departmentId: q.departmentId,
      ...(admin ? {} : { departmentIds: user.departmentIds }),
      status: q.status,
      operatorId: q.operatorId,
      workOrderNumber: q.workOrder,
      q: q.q,
    },
    page,
  );
  return ok({ items: result.items, total: result.total, ...page });
}

/** LIST-1: the caller's claimable list; supervisors and admins may look at an operator's list. */
async function claimable(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const q = s.queryAs(claimableQuery);
  const page = pageOf(q);
  let userId = user.id;
  /** SEC-10: whose departments a supervisor may see of another operator's list (undefined: all). */
  let departmentIds: string[] | undefined;
  if (q.userId && q.userId !== user.id) {
    const target = await s.ctx.store.getUser(q.userId);
    if (!target) throw new DomainError('user_not_found', { userId: q.userId });
    if (!canSupervise(user, null)) {
      departmentIds = target.departmentIds.filter((d) => canSupervise(user, d));
      if (departmentIds.length === 0) {
        // SEC-10: to a supervisor, another department's operator reads as no one (as GET /api/users/:id).
        if (hasRole(user, 'supervisor')) throw new DomainError('user_not_found', { userId: q.userId });
        throw new DomainError('permission_denied', { userId: target.id, problem: 'only their supervisors may see another operator\u2019s list' });
      }
    }
    userId = target.id;
  }
  const result = await s.ctx.store.listClaimable(userId, s.ctx.clock.now(), page, departmentIds);
  return ok({ userId, items: result.items, total: result.total, ...page });
}

/**
 * One task with its history (SUP-3): assignments (who, by whom, status, reason), recent audit events
 * (who, from which terminal, how), its exceptions, and the names of the people and terminals they
 * mention. Admins see every task; everyone else the tasks of their own departments.
 */
async function taskDetail(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const id = s.id();
  const task = await s.ctx.store.getTask(id, s.ctx.clock.now());
  if (!task) throw new DomainError('task_not_found', { taskId: id });
  if (!canSupervise(user, null) && !(task.departmentId !== null && user.departmentIds.includes(task.departmentId))) {
    throw new DomainError('permission_denied', { taskId: id, problem: 'the task is not of your departments' });
  }
  // SEC-10: an operator reads the task and their own part of its history; its supervisors all of it.
  const supervises = canSupervise(user, task.departmentId);
  const [allAssignments, fullAudit, exceptions, terminals] = await Promise.all([
    s.ctx.store.listAssignments(id),
    s.ctx.store.listAudit({ taskId: id, limit: TASK_AUDIT_LIMIT }),
    supervises ? s.ctx.store.listExceptions({ departmentIds: null, taskId: id }, { limit: 50, offset: 0 }) : { items: [], total: 0 },
    s.ctx.store.listTerminals(),
  ]);
  const audit = supervises ? fullAudit : fullAudit.filter((e) => e.actorId === user.id);
  // Of its assignments too, an operator reads their own: another's carry who rejected it and why.
  const assignments = supervises ? allAssignments : allAssignments.filter((a) => a.userId === user.id);
  const people = new Set<string>();
  for (const a of assignments) people.add(a.userId).add(a.assignedBy);
  for (const e of audit) {
    if (e.actorId) people.add(e.actorId);
    if (typeof e.details.userId === 'string') people.add(e.details.userId);
  }
  const names = await s.displayNames(people);
  const terminalNames = Object.fromEntries(terminals.filter((t) => audit.some((e) => e.terminalId === t.id)).map((t) => [t.id, t.name]));
  return ok({ task, assignments, audit, exceptions: exceptions.items, names, terminals: terminalNames });
}

async function readOperation(s: Scope, name: OperationName, taskId: string): Promise<TaskOperation> {
  switch (name) {
    case 'reject': {
      const body = await s.json(rejectBody);
      return { name, taskId, reason: body.reason };
    }
    case 'cancel': {
      const body = await s.json(cancelBody);
      return { name, taskId, reason: body.reason };
    }
    case 'assign':
    case 'reassign': {
      const body = await s.json(assignBody);
      return { name, taskId, userId: body.userId };
    }
    default:
      await s.json(emptyBody);
      return { name, taskId };
  }
}

/**
 * Refusals that may be given about a task the caller may not read: they say nothing of its holder or
 * state (CLM-3 names only the department; ASG-1 and CLM-10 are about the caller).
 */
const OUTSIDE_ANSWERS: ReadonlySet<string> = new Set(['not_in_department', 'permission_denied', 'user_inactive', 'user_not_found', 'task_no_department', 'reason_required', 'invalid_input']);

/**
 * One task operation by the authenticated user (API-7): 200 `{ ok: true, ...result, task }`, or
 * the error of the rule that refused it with its status (CLM-7 conflicts carry the holder).
 */
function operation(name: OperationName) {
  return async (s: Scope): Promise<Reply> => {
    const { user } = await s.auth();
    const taskId = s.id();
    const op = await readOperation(s, name, taskId);
    const { metrics } = s.ctx;
    let result;
    try {
      result = await s.ctx.committer.submit({ kind: 'operation', op, actorId: user.id, via: 'http' });
    } catch (err) {
      metrics.mutations.inc({ name, via: 'http', outcome: 'error' });
      throw err;
    }
    metrics.mutations.inc({ name, via: 'http', outcome: result.ok ? 'applied' : 'rejected' });
    if (name === 'claim') metrics.claimLatency.observe({ via: 'http' }, (performance.now() - s.startedAt) / 1000);
    if (result.ok) return ok({ ok: true, ...result.value, task: result.task });
    // SEC-10: a refusal carries the task only to those who may read it (admins, the people of its
    // department, its holder), never one of another department to anyone who names its id.
    const task = result.task;
    const readable = task !== null && (canSupervise(user, null) || task.operatorId === user.id || (task.departmentId !== null && user.departmentIds.includes(task.departmentId)));
    if (task !== null && !readable && !OUTSIDE_ANSWERS.has(result.error!.code)) {
      // HLD-1 names the holder and says the state; about another department's task the answer is
      // the one GET /api/tasks/:id gives.
      return errorReply(new DomainError('permission_denied', { taskId: task.id, problem: 'the task is not of your departments' }), s.locale, { task: null });
    }
    return errorReply(result.error!, s.locale, { task: readable ? task : null });
  };
}

/** Most tasks one auto-assign slice decides. */
export const AUTO_ASSIGN_SLICE = 25;
/**
 * Operator-for-task weighings one slice may make: each task weighs every operator of the
 * department (a plant's department has hundreds), about 15 ms of rules and reads per 2,500.
 */
export const AUTO_ASSIGN_WEIGHINGS = 2500;

/**
 * SEC-9: a run over many tasks is committed in slices (at most AUTO_ASSIGN_SLICE tasks, fewer in a
 * department of many operators), one unit each, so it never holds the event loop for long; each
 * slice skips the tasks the earlier ones decided.
 */
/** A run committed in slices: what they decided, and what stopped it part way (if anything). */
type SlicedResult = AutoAssignResult & { stoppedBy?: DomainError };

async function autoAssignInSlices(s: Scope, request: AutoAssignRequest, actorId: string): Promise<SlicedResult> {
  const total: AutoAssignResult = { assigned: [], unassigned: [] };
  const decided: string[] = [];
  const operators = (await s.ctx.store.listUsers({ departmentId: request.departmentId, role: 'operator', active: true })).length;
  const slice = Math.max(1, Math.min(AUTO_ASSIGN_SLICE, Math.floor(AUTO_ASSIGN_WEIGHINGS / Math.max(1, operators))));
  for (let left = request.limit; left > 0; ) {
    const n = Math.min(left, slice);
    let part: AutoAssignResult;
    try {
      part = await s.ctx.committer.submit({ kind: 'autoAssign', request: { ...request, limit: n, exclude: decided }, actorId, via: 'http' });
    } catch (err) {
      // The slices before this one are committed: say what they did, and why the run stopped,
      // instead of an error that reads as if nothing had changed.
      if (total.assigned.length + total.unassigned.length === 0) throw err;
      s.ctx.log.warn({ err, departmentId: request.departmentId, assigned: total.assigned.length }, 'auto-assign stopped after some of its slices');
      return { ...total, stoppedBy: err instanceof DomainError ? err : new DomainError('internal_error', { requestId: s.requestId }) };
    }
    total.assigned.push(...part.assigned);
    total.unassigned.push(...part.unassigned);
    for (const a of part.assigned) decided.push(a.taskId);
    for (const u of part.unassigned) decided.push(u.taskId);
    left -= n;
    if (part.assigned.length + part.unassigned.length < n) break;
  }
  return total;
}

/** AUTO-1..5 for one department's pending tasks; supervisors of the department and admins. */
async function autoAssignRoute(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const departmentId = s.id();
  const body = await s.json(autoAssignBody);
  const departments = await s.ctx.store.listDepartments();
  if (!departments.some((d) => d.id === departmentId)) throw new DomainError('department_not_found', { departmentId });
  if (!canSupervise(user, departmentId)) throw new DomainError('permission_denied', { departmentId, userId: user.id });
  const request = { departmentId, strategy: body.strategy, capacityWeight: body.capacityWeight ?? 0.5, limit: body.limit ?? 100 };
  const dryRun = body.dryRun ?? false;
  let result: SlicedResult;
  try {
    result = dryRun
      ? await s.ctx.committer.submit({ kind: 'autoAssign', request, actorId: user.id, via: 'http', dryRun })
      : await autoAssignInSlices(s, request, user.id);
  } catch (err) {
    s.ctx.metrics.mutations.inc({ name: 'auto_assign', via: 'http', outcome: err instanceof DomainError ? 'rejected' : 'error' });
    throw err;
  }
  if (!dryRun) s.ctx.metrics.mutations.inc({ name: 'auto_assign', via: 'http', outcome: 'applied' });
  const { stoppedBy, ...decided } = result;
  return ok({ ok: true, departmentId, strategy: body.strategy, dryRun, ...decided, ...(stoppedBy ? { complete: false, stoppedBy: stoppedBy.toData(s.locale) } : { complete: true }) });
}

export function taskRoutes(router: Router): void {
  router.get('/api/tasks', listTasks, { query: true });
  // Before /api/tasks/:id, which would otherwise take "claimable" for an id.
  router.get('/api/tasks/claimable', claimable, { query: true });
  router.get('/api/tasks/:id', taskDetail);
  for (const name of OPERATIONS) router.post(`/api/tasks/:id/${name}`, operation(name));
  router.post('/api/departments/:id/auto-assign', autoAssignRoute);
}
