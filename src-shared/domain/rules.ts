/**
 * The claim rules engine: one place that decides every operation on a task.
 *
 * Each `decide*` function is pure. It takes a snapshot of the facts it needs (read by the caller
 * inside its transaction) and returns either the effects to apply or a typed domain error. The
 * server applies the effects authoritatively; a terminal applies them optimistically to its cache.
 * Time comes in as `facts.now` (an injected clock), never from `Date.now()`.
 *
 * Rule IDs (CLM-1, REL-2, ...) are those of docs/SPEC.md.
 */
import { MINUTE_MS, type SiteConfig } from './config.js';
import type { ErrorDetails } from './errors.js';
import { fail, ok, type Result } from './result.js';
import {
  hasRole,
  type AssignmentStatus,
  type Department,
  type Task,
  type TaskStatus,
  type User,
  type UserRef,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Effects

export type NotificationEvent =
  | 'task_claimed'
  | 'task_assigned'
  | 'task_reassigned_away'
  | 'task_expired'
  | 'task_released_by_supervisor'
  | 'task_cancelled'
  /** NTF-3: what became of a task the operator rejected. */
  | 'rejected_task_claimed'
  | 'rejected_task_assigned'
  | 'rejected_task_cancelled';

export type NotificationDetails = Record<string, string | number | boolean | null>;

/** What supervisors are told about their departments (SUP-5). */
export type SupervisorNotificationEvent = 'task_rejected' | 'terminal_offline';

/**
 * Exceptions a supervisor should see and resolve (SUP-4): a refused terminal operation (recorded
 * by the server engine), a task an operator rejected, an assignment that expired.
 */
export const EXCEPTION_KINDS = ['claim_conflict', 'claim_stale', 'operation_refused', 'task_rejected', 'assignment_expired'] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

export type Effect =
  /** Set the task's holder and status; `version` is the task's new version. */
  | {
      kind: 'task';
      taskId: string;
      operatorId: string | null;
      operatorName: string | null;
      status: TaskStatus;
      version: number;
    }
  /** Open a new active assignment for (user, task, step). */
  | {
      kind: 'assignment.open';
      taskId: string;
      userId: string;
      step: string;
      status: 'assigned' | 'accepted';
      assignedBy: string;
    }
  /** Move the user's active assignment on the task to a new status. */
  | {
      kind: 'assignment.update';
      taskId: string;
      userId: string;
      status: AssignmentStatus;
      reason: string | null;
    }
  /** The user may not claim the task again before `until` (COOL-1). */
  | { kind: 'cooldown'; taskId: string; userId: string; until: number }
  /**
   * Tell a user something happened to them. `read`: they saw it happen on their own screen (an
   * online claim), so it is kept for the record but not delivered as news (NTF-1).
   */
  | { kind: 'notify'; userId: string; event: NotificationEvent; taskId: string; byUserId: string | null; read?: boolean; details?: NotificationDetails }
  /** Put the task in the supervisors' exceptions feed (SUP-4). */
  | { kind: 'exception'; exception: Extract<ExceptionKind, 'task_rejected' | 'assignment_expired'>; taskId: string; userId: string; reason: string | null }
  /** Tell every supervisor of the department (the store knows who they are; SUP-5). */
  | {
      kind: 'notifySupervisors';
      departmentId: string;
      event: SupervisorNotificationEvent;
      taskId: string;
      byUserId: string | null;
      reason: string | null;
    };

export interface Decision<R> {
  effects: Effect[];
  result: R;
}

// ---------------------------------------------------------------------------------------------
// Facts

interface BaseFacts {
  now: number;
  config: SiteConfig;
  /** The task, or null if it does not exist. */
  task: Task | null;
  /** The task's department, when it has one. */
  department: Department | null;
  /** The task's current holder, for naming in conflicts. */
  owner: UserRef | null;
  /** The holder's active assignment: who made it and how far it got (ACC-1). */
  holderAssignment?: { status: AssignmentStatus; assignedBy: string } | null;
  /**
   * The task's last rejection; `awaiting` while nothing has happened to the task since (its latest
   * assignment is that rejection): its fate is then told to the operator who rejected it (NTF-3).
   */
  rejection?: { userId: string; userName: string; awaiting: boolean } | null;
}

/** What one operator's eligibility for one task depends on. */
export interface OperatorFacts {
  /** The user asked for (named in user_not_found when there is no such user). */
  userId: string;
  user: User | null;
  /** Tasks the operator holds now (CAP-2). */
  activeCount: number;
  /** When the operator's cooldown on this task ends, if one is set (COOL-1). */
  cooldownUntil: number | null;
  /** Steps of the task's work order the operator has worked on (XSTEP-1). */
  workedSteps: string[];
}

export interface ClaimFacts extends BaseFacts {
  operator: OperatorFacts;
  /**
   * For a claim that waited in a terminal's outbox: when it was made, in server time
   * (terminal clock + the offset measured at handshake). Null for a live claim.
   */
  queuedAt: number | null;
  /** The claim waited offline at a terminal: its confirmation is news to the operator (NTF-1). */
  waitedOffline?: boolean;
}

export interface HolderFacts extends BaseFacts {
  /** The user acting on their own task. */
  actor: User | null;
}

export interface RejectFacts extends HolderFacts {
  reason: string;
}

export interface AssignFacts extends BaseFacts {
  /** The supervisor or admin doing the assigning. */
  actor: User | null;
  target: OperatorFacts;
  /** 'reassign' explicitly takes the task from its current holder. */
  mode: 'assign' | 'reassign';
}

export interface ExpireFacts {
  now: number;
  config: SiteConfig;
  task: Task;
  assignment: { userId: string; status: AssignmentStatus; createdAt: number; startedAt: number | null };
}

// ---------------------------------------------------------------------------------------------
// Helpers every side uses

/** CAP-1: operator override, else department override, else the site default. */
export function resolveTaskLimit(config: SiteConfig, department: Department | null, user: User | null): number {
  return user?.taskLimit ?? department?.taskLimit ?? config.defaultTaskLimit;
}

/** XSTEP-1: the step this person already did that excludes `step`, if any. */
export function excludedBy(config: SiteConfig, step: string, workedSteps: readonly string[]): string | null {
  for (const worked of workedSteps) {
    for (const [a, b] of config.exclusionPairs) {
      if ((a === worked && b === step) || (b === worked && a === step)) return worked;
    }
  }
  return null;
}

export function cooldownMinutesLeft(now: number, until: number): number {
  return Math.max(1, Math.ceil((until - now) / MINUTE_MS));
}

export const MAX_REASON_LENGTH = 500;

function taskRef(task: Task): ErrorDetails {
  return { taskId: task.id };
}

function ownerOf(facts: BaseFacts): UserRef {
  const task = facts.task!;
  return facts.owner ?? { id: task.operatorId ?? '', name: task.operatorName ?? task.operatorId ?? '?' };
}

/** CLM-5: statuses that can never be claimed or assigned, each with its own error. */
function closedStatusError(task: Task) {
  if (task.status === 'draft') return fail('task_draft', taskRef(task));
  if (task.status === 'completed') return fail('task_completed', taskRef(task));
  if (task.status === 'cancelled') return fail('task_cancelled', taskRef(task));
  return null;
}

/** CLM-10: the user exists, is active and has the role. */
function actorError(user: User | null, role: 'operator' | 'supervisor', userIdHint?: string) {
  if (!user) return fail('user_not_found', { userId: userIdHint });
  if (!user.active) return fail('user_inactive', { userId: user.id });
  if (role === 'operator' && !hasRole(user, 'operator')) return fail('permission_denied', { userId: user.id });
  if (role === 'supervisor' && !hasRole(user, 'supervisor') && !hasRole(user, 'admin')) {
    return fail('permission_denied', { userId: user.id });
  }
  return null;
}

/** CLM-3: the operator belongs to the task's department (the task is known to have one). */
function departmentError(facts: BaseFacts, user: User) {
  const task = facts.task!;
  if (task.departmentId && user.departmentIds.includes(task.departmentId)) return null;
  return fail('not_in_department', {
    taskId: task.id,
    userId: user.id,
    departmentId: task.departmentId ?? undefined,
    departmentName: facts.department?.name ?? task.departmentId ?? undefined,
  });
}

/**
 * The checks that make an operator eligible to take a free task, shared by claim (CLM-11, CLM-12,
 * CLM-4), assign (ASG-2) and auto-assign (AUTO-1). Department membership is checked before this.
 */
function eligibilityError(
  facts: BaseFacts,
  op: OperatorFacts,
  options: { honourCooldown: boolean },
): ReturnType<typeof fail> | null {
  const task = facts.task!;
  const user = op.user!;
  if (options.honourCooldown && op.cooldownUntil !== null && op.cooldownUntil > facts.now) {
    return fail('cooldown_active', {
      taskId: task.id,
      until: op.cooldownUntil,
      minutesLeft: cooldownMinutesLeft(facts.now, op.cooldownUntil),
    });
  }
  const worked = excludedBy(facts.config, task.step, op.workedSteps);
  if (worked !== null) {
    return fail('cross_step_excluded', { taskId: task.id, step: worked, conflictingStep: task.step });
  }
  const limit = resolveTaskLimit(facts.config, facts.department, user);
  if (op.activeCount >= limit) {
    return fail('capacity_reached', { count: op.activeCount, limit, userId: user.id });
  }
  return null;
}

function bump(task: Task, operator: UserRef | null, status: TaskStatus): Effect {
  return {
    kind: 'task',
    taskId: task.id,
    operatorId: operator?.id ?? null,
    operatorName: operator?.name ?? null,
    status,
    version: task.version + 1,
  };
}

function userRef(user: User): UserRef {
  return { id: user.id, name: user.displayName };
}

/**
 * NTF-3: a task its last operator rejected, and nothing happened to since, now finds its fate: tell
 * the operator who rejected it (unless they are the one taking it back).
 */
function fateOfRejected(
  facts: BaseFacts,
  event: 'rejected_task_claimed' | 'rejected_task_assigned' | 'rejected_task_cancelled',
  byUserId: string,
  newHolder: UserRef | null,
  details: NotificationDetails = {},
): Effect[] {
  const r = facts.rejection;
  if (!r?.awaiting || r.userId === newHolder?.id) return [];
  return [
    {
      kind: 'notify',
      userId: r.userId,
      event,
      taskId: facts.task!.id,
      byUserId,
      details: newHolder ? { ...details, holderId: newHolder.id, holderName: newHolder.name } : details,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Claim

export interface ClaimResult {
  alreadyClaimed: boolean;
}

/**
 * An operator takes a task for themself. Checks, in order: the task exists (CLM-1); the operator
 * exists, is active and is an operator (CLM-10); a queued claim is not stale (CLM-13); the task has
 * a department (CLM-2) the operator belongs to (CLM-3) and is not draft/completed/cancelled
 * (CLM-5); the operator's own task is an idempotent success (CLM-6); someone else's is a conflict
 * naming them (CLM-7); then cooldown (CLM-11), cross-step exclusion (CLM-12) and capacity (CLM-4).
 */
export function decideClaim(facts: ClaimFacts): Result<Decision<ClaimResult>> {
  const { task, now, config } = facts;
  const user = facts.operator.user;
  if (!task) return fail('task_not_found');
  const actorErr = actorError(user, 'operator', facts.operator.userId);
  if (actorErr) return actorErr;
  if (facts.queuedAt !== null) {
    const ageMinutes = Math.floor((now - facts.queuedAt) / MINUTE_MS);
    if (now - facts.queuedAt > config.claimMaxAgeMinutes * MINUTE_MS) {
      return fail('claim_stale', { taskId: task.id, ageMinutes, maxAgeMinutes: config.claimMaxAgeMinutes });
    }
  }
  if (!task.departmentId) return fail('task_no_department', taskRef(task));
  const outside = departmentError(facts, user!);
  if (outside) return outside;
  const closed = closedStatusError(task);
  if (closed) return closed;
  if (task.operatorId === user!.id) {
    return ok({ effects: [], result: { alreadyClaimed: true } });
  }
  if (task.operatorId !== null) {
    return fail('task_conflict', { taskId: task.id, currentOwner: ownerOf(facts) });
  }
  const notEligible = eligibilityError(facts, facts.operator, { honourCooldown: true });
  if (notEligible) return notEligible;
  const me = userRef(user!);
  const offline = facts.waitedOffline === true;
  return ok({
    effects: [
      bump(task, me, task.status),
      { kind: 'assignment.open', taskId: task.id, userId: me.id, step: task.step, status: 'accepted', assignedBy: me.id },
      // CLM-8, NTF-1: recorded for every claim; news only when it waited offline.
      {
        kind: 'notify',
        userId: me.id,
        event: 'task_claimed',
        taskId: task.id,
        byUserId: me.id,
        read: !offline,
        details: offline && facts.queuedAt !== null ? { offline: true, waitedMinutes: Math.max(0, Math.floor((now - facts.queuedAt) / MINUTE_MS)) } : {},
      },
      ...fateOfRejected(facts, 'rejected_task_claimed', me.id, me),
    ],
    result: { alreadyClaimed: false },
  });
}

// ---------------------------------------------------------------------------------------------
// Operations by the holder: start, complete, release, reject

/** HLD-1: only the holder acts on a held task; anyone else gets a conflict or "not claimed". */
function holderError(facts: HolderFacts) {
  const { task } = facts;
  if (!task) return fail('task_not_found');
  const actorErr = actorError(facts.actor, 'operator');
  if (actorErr) return actorErr;
  if (task.status === 'cancelled') return fail('task_cancelled', taskRef(task));
  if (task.operatorId === null) {
    if (task.status === 'completed') return fail('task_completed', taskRef(task));
    return fail('task_not_claimed', taskRef(task));
  }
  if (task.operatorId !== facts.actor!.id) {
    return fail('task_conflict', { taskId: task.id, currentOwner: ownerOf(facts) });
  }
  return null;
}

export interface AcceptResult {
  alreadyAccepted: boolean;
}

/**
 * ACC-1: the holder accepts a task a supervisor assigned to them: the assignment moves from
 * `assigned` to `accepted` (the task's version bumps, so every screen shows it). A task already
 * accepted, claimed by the holder or started is an idempotent success.
 */
export function decideAccept(facts: HolderFacts): Result<Decision<AcceptResult>> {
  const err = holderError(facts);
  if (err) return err;
  const task = facts.task!;
  if (task.status === 'completed') return fail('task_completed', taskRef(task));
  if (facts.holderAssignment?.status !== 'assigned') return ok({ effects: [], result: { alreadyAccepted: true } });
  const me = userRef(facts.actor!);
  return ok({
    effects: [bump(task, me, task.status), { kind: 'assignment.update', taskId: task.id, userId: me.id, status: 'accepted', reason: null }],
    result: { alreadyAccepted: false },
  });
}

export interface StartResult {
  alreadyStarted: boolean;
}

/** STA-1: the holder starts work: pending → in_progress; the assignment moves to in_progress. */
export function decideStart(facts: HolderFacts): Result<Decision<StartResult>> {
  const err = holderError(facts);
  if (err) return err;
  const task = facts.task!;
  if (task.status === 'completed') return fail('task_completed', taskRef(task));
  if (task.status === 'in_progress') return ok({ effects: [], result: { alreadyStarted: true } });
  const me = userRef(facts.actor!);
  return ok({
    effects: [
      bump(task, me, 'in_progress'),
      { kind: 'assignment.update', taskId: task.id, userId: me.id, status: 'in_progress', reason: null },
    ],
    result: { alreadyStarted: false },
  });
}

export interface CompleteResult {
  alreadyCompleted: boolean;
}

/** CMP-1: the holder submits a started task: in_progress → completed; the assignment is submitted. */
export function decideComplete(facts: HolderFacts): Result<Decision<CompleteResult>> {
  const err = holderError(facts);
  if (err) return err;
  const task = facts.task!;
  if (task.status === 'completed') return ok({ effects: [], result: { alreadyCompleted: true } });
  if (task.status !== 'in_progress') return fail('task_not_started', taskRef(task));
  const me = userRef(facts.actor!);
  return ok({
    effects: [
      bump(task, me, 'completed'),
      { kind: 'assignment.update', taskId: task.id, userId: me.id, status: 'submitted', reason: null },
    ],
    result: { alreadyCompleted: false },
  });
}

function giveBack(facts: HolderFacts, status: 'released' | 'rejected', reason: string | null): Effect[] {
  const task = facts.task!;
  const me = facts.actor!;
  const effects: Effect[] = [
    bump(task, null, 'pending'),
    { kind: 'assignment.update', taskId: task.id, userId: me.id, status, reason },
  ];
  if (facts.config.cooldownMinutes > 0) {
    effects.push({
      kind: 'cooldown',
      taskId: task.id,
      userId: me.id,
      until: facts.now + facts.config.cooldownMinutes * MINUTE_MS,
    });
  }
  return effects;
}

/** REL-1: the holder gives the task back to the pool; a cooldown starts (COOL-1). */
export function decideRelease(facts: HolderFacts): Result<Decision<Record<string, never>>> {
  const err = holderError(facts);
  if (err) return err;
  if (facts.task!.status === 'completed') return fail('task_completed', taskRef(facts.task!));
  return ok({ effects: giveBack(facts, 'released', null), result: {} });
}

/** REJ-1: like release, with a reason that is required and recorded on the assignment. */
export function decideReject(facts: RejectFacts): Result<Decision<Record<string, never>>> {
  const reason = facts.reason.trim();
  if (reason.length === 0) return fail('reason_required', { field: 'reason', problem: 'is empty' });
  if (reason.length > MAX_REASON_LENGTH) {
    return fail('invalid_input', { field: 'reason', problem: `is longer than ${MAX_REASON_LENGTH} characters` });
  }
  const err = holderError(facts);
  if (err) return err;
  if (facts.task!.status === 'completed') return fail('task_completed', taskRef(facts.task!));
  const task = facts.task!;
  const me = facts.actor!;
  const effects = giveBack(facts, 'rejected', reason);
  // SUP-4, SUP-5: a rejected task waits for a supervisor's decision, and its supervisors are told why.
  effects.push({ kind: 'exception', exception: 'task_rejected', taskId: task.id, userId: me.id, reason });
  if (task.departmentId) {
    effects.push({ kind: 'notifySupervisors', departmentId: task.departmentId, event: 'task_rejected', taskId: task.id, byUserId: me.id, reason });
  }
  return ok({ effects, result: {} });
}

// ---------------------------------------------------------------------------------------------
// Assign and reassign (supervisors)

export interface AssignResult {
  previousOwner: UserRef | null;
}

/**
 * ERR-3: a refusal about someone other than the person acting names them ("Jonas Rossi is not in
 * Cutting"), so the supervisor is not told "you" about the operator they picked.
 */
function aboutTarget<E extends ReturnType<typeof fail> | null>(error: E, targetName: string): E {
  if (!error) return error;
  return fail(error.error.code, { ...error.error.details, targetName }) as E;
}

/** ASG-1: admins may assign anywhere; supervisors only in their own departments. */
export function canSupervise(actor: User, departmentId: string | null): boolean {
  if (!actor.active) return false;
  if (hasRole(actor, 'admin')) return true;
  return hasRole(actor, 'supervisor') && departmentId !== null && actor.departmentIds.includes(departmentId);
}

/**
 * A supervisor gives a task to an operator (ASG-1..5), or explicitly takes it from its holder and
 * gives it to another (RSG-1..3). The target must pass the same department, capacity and cross-step
 * checks as a claim; a supervisor's explicit choice overrides the target's cooldown.
 */
export function decideAssign(facts: AssignFacts): Result<Decision<AssignResult>> {
  const { task } = facts;
  if (!task) return fail('task_not_found');
  const actorErr = actorError(facts.actor, 'supervisor');
  if (actorErr) return actorErr;
  if (!task.departmentId) return fail('task_no_department', taskRef(task));
  if (!canSupervise(facts.actor!, task.departmentId)) {
    return fail('permission_denied', { taskId: task.id, departmentId: task.departmentId });
  }
  const target = facts.target.user;
  if (!target) return fail('user_not_found', { userId: facts.target.userId });
  const targetName = target.displayName;
  if (!target.active) return fail('user_inactive', { userId: target.id, targetName });
  if (!hasRole(target, 'operator')) return fail('permission_denied', { userId: target.id, targetName, problem: 'not an operator' });
  const outside = aboutTarget(departmentError(facts, target), targetName);
  if (outside) return outside;
  const closed = closedStatusError(task);
  if (closed) return closed;
  if (task.operatorId === target.id) {
    return fail('duplicate_assignment', { taskId: task.id, currentOwner: userRef(target) });
  }
  const previous = task.operatorId !== null ? ownerOf(facts) : null;
  if (previous && facts.mode === 'assign') {
    return fail('task_conflict', { taskId: task.id, currentOwner: previous });
  }
  if (!previous && facts.mode === 'reassign') return fail('task_not_claimed', taskRef(task));
  const notEligible = aboutTarget(eligibilityError(facts, facts.target, { honourCooldown: false }), targetName);
  if (notEligible) return notEligible;

  const to = userRef(target);
  const effects: Effect[] = [];
  if (previous) {
    effects.push(
      { kind: 'assignment.update', taskId: task.id, userId: previous.id, status: 'reassigned', reason: null },
      { kind: 'notify', userId: previous.id, event: 'task_reassigned_away', taskId: task.id, byUserId: facts.actor!.id },
    );
  }
  effects.push(
    bump(task, to, 'pending'),
    { kind: 'assignment.open', taskId: task.id, userId: to.id, step: task.step, status: 'assigned', assignedBy: facts.actor!.id },
    { kind: 'notify', userId: to.id, event: 'task_assigned', taskId: task.id, byUserId: facts.actor!.id },
    ...fateOfRejected(facts, 'rejected_task_assigned', facts.actor!.id, to),
  );
  return ok({ effects, result: { previousOwner: previous } });
}

// ---------------------------------------------------------------------------------------------
// Release to the pool and cancel (supervisors)

export interface SupervisorFacts extends BaseFacts {
  /** The supervisor or admin acting. */
  actor: User | null;
}

/** ASG-1 for an operation on an existing task: the actor supervises the task's department. */
function supervisorError(facts: SupervisorFacts) {
  const { task } = facts;
  if (!task) return fail('task_not_found');
  const actorErr = actorError(facts.actor, 'supervisor');
  if (actorErr) return actorErr;
  if (!canSupervise(facts.actor!, task.departmentId)) {
    return fail('permission_denied', { taskId: task.id, departmentId: task.departmentId ?? undefined });
  }
  return null;
}

export interface UnassignResult {
  previousOwner: UserRef;
}

/**
 * ASG-6: a supervisor of the task's department (or an admin) returns a held, unfinished task to
 * the pool: the holder's assignment closes as `released` (no cooldown: it was not their choice)
 * and the holder is told.
 */
export function decideUnassign(facts: SupervisorFacts): Result<Decision<UnassignResult>> {
  const err = supervisorError(facts);
  if (err) return err;
  const task = facts.task!;
  if (task.status === 'completed') return fail('task_completed', taskRef(task));
  if (task.status === 'cancelled') return fail('task_cancelled', taskRef(task));
  if (task.operatorId === null) return fail('task_not_claimed', taskRef(task));
  const previous = ownerOf(facts);
  return ok({
    effects: [
      { kind: 'assignment.update', taskId: task.id, userId: previous.id, status: 'released', reason: null },
      bump(task, null, 'pending'),
      { kind: 'notify', userId: previous.id, event: 'task_released_by_supervisor', taskId: task.id, byUserId: facts.actor!.id },
    ],
    result: { previousOwner: previous },
  });
}

export interface CancelFacts extends SupervisorFacts {
  reason: string;
}

export interface CancelResult {
  previousOwner: UserRef | null;
}

/**
 * CNL-1: a supervisor of the task's department (or an admin) cancels a task that is not finished,
 * with a reason (1–500 characters). A holder's assignment closes as `released` with the reason, and
 * the holder is told. A cancelled task can no longer be claimed or assigned (CLM-5).
 */
export function decideCancel(facts: CancelFacts): Result<Decision<CancelResult>> {
  const reason = facts.reason.trim();
  // `reason: 'cancel'` picks the message about cancelling (the plain one is about rejecting).
  if (reason.length === 0) return fail('reason_required', { field: 'reason', problem: 'is empty', reason: 'cancel' });
  if (reason.length > MAX_REASON_LENGTH) {
    return fail('invalid_input', { field: 'reason', problem: `is longer than ${MAX_REASON_LENGTH} characters` });
  }
  const err = supervisorError(facts);
  if (err) return err;
  const task = facts.task!;
  if (task.status === 'completed') return fail('task_completed', taskRef(task));
  if (task.status === 'cancelled') return fail('task_cancelled', taskRef(task));
  const previous = task.operatorId !== null ? ownerOf(facts) : null;
  const effects: Effect[] = [];
  if (previous) {
    effects.push(
      { kind: 'assignment.update', taskId: task.id, userId: previous.id, status: 'released', reason },
      { kind: 'notify', userId: previous.id, event: 'task_cancelled', taskId: task.id, byUserId: facts.actor!.id },
    );
  }
  effects.push(bump(task, null, 'cancelled'), ...fateOfRejected(facts, 'rejected_task_cancelled', facts.actor!.id, null, { reason }));
  return ok({ effects, result: { previousOwner: previous } });
}

// ---------------------------------------------------------------------------------------------
// Expiry

/**
 * EXP-1: an assignment not started within `assignmentExpiryMinutes` expires and the task returns
 * to the pool. Returns null when the assignment is not (yet) due.
 */
export function decideExpire(facts: ExpireFacts): Decision<Record<string, never>> | null {
  const { task, assignment, config, now } = facts;
  if (config.assignmentExpiryMinutes <= 0) return null;
  if (assignment.status !== 'assigned' && assignment.status !== 'accepted') return null;
  if (assignment.startedAt !== null) return null;
  if (task.operatorId !== assignment.userId || task.status !== 'pending') return null;
  if (now < assignment.createdAt + config.assignmentExpiryMinutes * MINUTE_MS) return null;
  return {
    effects: [
      bump(task, null, 'pending'),
      { kind: 'assignment.update', taskId: task.id, userId: assignment.userId, status: 'expired', reason: null },
      { kind: 'notify', userId: assignment.userId, event: 'task_expired', taskId: task.id, byUserId: null },
      { kind: 'exception', exception: 'assignment_expired', taskId: task.id, userId: assignment.userId, reason: null },
    ],
    result: {},
  };
}

/** The time at which an unstarted assignment made at `createdAt` expires (EXP-1). */
export function expiresAt(config: SiteConfig, createdAt: number): number | null {
  return config.assignmentExpiryMinutes > 0 ? createdAt + config.assignmentExpiryMinutes * MINUTE_MS : null;
}

// ---------------------------------------------------------------------------------------------
// The claimable list (LIST-1)

/**
 * LIST-1: may this operator see the task in their claimable list? Unassigned, pending, in one of
 * their departments, not in cooldown for them and not excluded for them by a step they did.
 */
export function isClaimableBy(
  task: Pick<Task, 'status' | 'operatorId' | 'departmentId' | 'step'>,
  user: User,
  op: { cooldownUntil: number | null; workedSteps: readonly string[] },
  now: number,
  config: SiteConfig,
): boolean {
  if (task.status !== 'pending' || task.operatorId !== null) return false;
  if (!task.departmentId || !user.departmentIds.includes(task.departmentId)) return false;
  if (op.cooldownUntil !== null && op.cooldownUntil > now) return false;
  return excludedBy(config, task.step, op.workedSteps) === null;
}

/**
 * LIST-1 order: priority (high first), then due time (soonest first, none last), then age
 * (oldest first), then id for a stable order.
 */
export function compareClaimable(a: Pick<Task, 'priority' | 'dueAt' | 'createdAt' | 'id'>, b: Pick<Task, 'priority' | 'dueAt' | 'createdAt' | 'id'>): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.dueAt !== b.dueAt) {
    if (a.dueAt === null) return 1;
    if (b.dueAt === null) return -1;
    return a.dueAt - b.dueAt;
  }
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The SQL ORDER BY that matches `compareClaimable`, for a tasks table aliased as `alias`. */
export function claimableOrderSql(alias = ''): string {
  const c = alias ? `${alias}.` : '';
  return `${c}priority DESC, (${c}due_at IS NULL) ASC, ${c}due_at ASC, ${c}created_at ASC, ${c}id ASC`;
}
