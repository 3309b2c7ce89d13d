/**
 * The claim engine: each mutation, from a terminal or over HTTP, as one unit of work that reads
 * its facts, lets the shared rules decide, applies the effects, and records the audit event and
 * (for terminals) the stored outcome, all inside the caller's transaction.
 */
import { ILL_FORMED_PROBLEM, illFormedTextPath } from '../../src-shared/domain/text.js';
import { decideAutoAssign, pickAssignee, type AutoAssignStrategy, type Candidate } from '../../src-shared/domain/autoassign.js';
import { MINUTE_MS } from '../../src-shared/domain/config.js';
import { DomainError, type ErrorCode, type ErrorData, type ErrorDetails } from '../../src-shared/domain/errors.js';
import {
  canSupervise,
  decideAccept,
  decideAssign,
  decideCancel,
  decideClaim,
  decideComplete,
  decideExpire,
  decideReject,
  decideRelease,
  decideStart,
  decideUnassign,
  resolveTaskLimit,
  type Decision,
  type ExceptionKind,
} from '../../src-shared/domain/rules.js';
import { fail as failResult, type Result } from '../../src-shared/domain/result.js';
import {
  describeIssue,
  isMutationName,
  mutationArgsSchemas,
  mutationEnvelopeSchema,
  PROTOCOL_VERSION,
  type MutationName,
  type MutationOutcome,
  type SyncTask,
} from '../../src-shared/protocol/terminal.js';
import { badgeNeedsPin, type User } from '../../src-shared/domain/types.js';
import { ask, resentOutcome, type Eng, type TerminalState, type Via } from './ports.js';

type AnyDecision = Result<Decision<Record<string, unknown>>>;

function rejected(id: number, code: ErrorCode, details: ErrorDetails, task: SyncTask | null = null): MutationOutcome {
  return { id, status: 'rejected', error: new DomainError(code, details).toData('en'), task };
}

/** The operations a user can perform on a task, by any route. */
export type TaskOperation =
  | { name: 'claim' | 'accept' | 'start' | 'complete' | 'release'; taskId: string }
  | { name: 'reject'; taskId: string; reason: string }
  | { name: 'assign' | 'reassign'; taskId: string; userId: string }
  /** Supervisors: back to the pool (ASG-6), cancel with a reason (CNL-1). */
  | { name: 'unassign'; taskId: string }
  | { name: 'cancel'; taskId: string; reason: string };

/** How a claim came from a terminal: when it was made (server time) and whether it waited offline. */
export interface Queued {
  at: number;
  offline: boolean;
}

/** The terminal a task operation came from, and the departments it serves (PROTO-8). */
interface AtTerminal {
  id: string;
  departments: readonly string[];
}

/**
 * Decide one task operation for `actorId`. `queued` applies to claims from a terminal's outbox;
 * `terminal` is the terminal it came from (null over HTTP).
 */
function* decideOperation(op: TaskOperation, actorId: string, now: number, queued: Queued | null, terminal: AtTerminal | null = null): Eng<AnyDecision> {
  const config = yield* ask('config');
  const facts = yield* ask('taskFacts', op.taskId);
  // PROTO-8: a terminal acts only on tasks of the departments it serves (it is never sent others,
  // SYNC-1), also for an operator who belongs to the task's department too.
  if (terminal && facts.task?.departmentId && !terminal.departments.includes(facts.task.departmentId)) {
    return failResult('permission_denied', {
      taskId: facts.task.id,
      terminalId: terminal.id,
      reason: 'other_department',
      problem: 'the task is not of a department this terminal serves',
    });
  }
  const base = { ...facts, now, config };
  switch (op.name) {
    case 'claim': {
      const operator = yield* ask('operatorFacts', actorId, facts.task);
      return decideClaim({ ...base, operator, queuedAt: queued?.at ?? null, waitedOffline: queued?.offline ?? false }) as AnyDecision;
    }
    case 'accept': {
      const actor = yield* ask('user', actorId);
      return decideAccept({ ...base, actor }) as AnyDecision;
    }
    case 'start':
    case 'complete':
    case 'release': {
      const actor = yield* ask('user', actorId);
      const decide = { start: decideStart, complete: decideComplete, release: decideRelease }[op.name];
      return decide({ ...base, actor }) as AnyDecision;
    }
    case 'reject': {
      const actor = yield* ask('user', actorId);
      return decideReject({ ...base, actor, reason: op.reason }) as AnyDecision;
    }
    case 'assign':
    case 'reassign': {
      const actor = yield* ask('user', actorId);
      const target = yield* ask('operatorFacts', op.userId, facts.task);
      return decideAssign({ ...base, actor, target, mode: op.name }) as AnyDecision;
    }
    case 'unassign': {
      const actor = yield* ask('user', actorId);
      return decideUnassign({ ...base, actor }) as AnyDecision;
    }
    case 'cancel': {
      const actor = yield* ask('user', actorId);
      return decideCancel({ ...base, actor, reason: op.reason }) as AnyDecision;
    }
  }
}

export interface OperationResult {
  decision: AnyDecision;
  task: SyncTask | null;
}

/** Decide and, if allowed, apply; returns the decision and the task as it is afterwards. */
function* performOperation(op: TaskOperation, actorId: string, now: number, queued: Queued | null, terminal: AtTerminal | null = null): Eng<OperationResult> {
  const decision = yield* decideOperation(op, actorId, now, queued, terminal);
  if (decision.ok) yield* ask('applyEffects', decision.value.effects, now);
  const task = yield* ask('syncTask', op.taskId, now);
  return { decision, task };
}

// ---------------------------------------------------------------------------------------------
// Terminal mutations

export interface TerminalMutationRequest {
  terminalId: string;
  /** The mutation id, already read from the envelope by the connection. */
  id: number;
  /** The whole mutation as received; validated here so a bad one is rejected alone. */
  raw: unknown;
}

function* signIn(id: number, term: TerminalState, operatorId: string, method: string, now: number): Eng<MutationOutcome> {
  const user = yield* ask('user', operatorId);
  if (!user) return rejected(id, 'user_not_found', { userId: operatorId });
  if (!user.active) return rejected(id, 'user_inactive', { userId: operatorId });
  // AUTH-4, KIO-1: a supervisor or admin never signs in by badge alone, at a kiosk either; one
  // without a PIN cannot have given one.
  if (badgeNeedsPin(user) && (method !== 'badge_pin' || !user.pinHash)) {
    return rejected(id, 'sign_in_failed', { reason: user.pinHash ? 'pin_required' : 'pin_not_set', userName: user.displayName });
  }
  if (!user.departmentIds.some((d) => term.departments.includes(d))) {
    return rejected(id, 'not_in_department', { userId: operatorId, departmentName: term.departments.join(', ') });
  }
  yield* ask('setPresence', term.id, operatorId, now);
  return { id, status: 'applied', value: { userId: user.id, displayName: user.displayName }, task: null };
}

/**
 * Process one terminal mutation exactly once. A re-sent mutation gets its stored outcome; a
 * malformed or refused one is rejected alone and consumes its id; the outcome is stored in the
 * same transaction as the effect.
 */
export function* terminalMutation(req: TerminalMutationRequest, now: number): Eng<MutationOutcome> {
  const { terminalId, id } = req;
  const term = yield* ask('terminalState', terminalId);
  // An outcome is stored with its id in the same unit that raises the terminal's last mutation id
  // to it, so only an id at or below that can have one: a new mutation (nearly all) skips the read.
  const stored = !term || id <= term.lastMutationId ? yield* ask('storedOutcome', terminalId, id) : null;
  if (stored) {
    // PROTO-5, PROTO-15: the same decision, with its task as it is now (the one it was answered
    // with is stale by now); a terminal that lost the first answer must not fall back to the
    // older row it had cached.
    return resentOutcome(stored, stored.taskId === null ? null : yield* ask('syncTask', stored.taskId, now));
  }
  if (!term || !term.active) throw new DomainError('unauthenticated', { problem: `terminal ${terminalId} is unknown or disabled` });
  if (id <= term.lastMutationId) {
    // Processed long ago and its outcome pruned after the terminal acknowledged it.
    return rejected(id, 'invalid_input', { field: 'id', problem: `mutation id ${id} was already used by this terminal` });
  }

  let outcome: MutationOutcome;
  let name = 'invalid';
  let operatorId: string | null = null;
  let taskId: string | null = null;
  /** What the audit keeps of the operation's input: when a claim was made (server time), a reason. */
  let input: Record<string, unknown> = {};
  const env = mutationEnvelopeSchema.safeParse(req.raw);
  const illFormed = illFormedTextPath(req.raw);
  if (illFormed !== null) {
    // SEC-7: text that has no UTF-8 form is refused, never stored changed.
    outcome = rejected(id, 'invalid_input', { field: illFormed, problem: ILL_FORMED_PROBLEM });
  } else if (!env.success) {
    outcome = rejected(id, 'invalid_input', describeIssue(env.error));
  } else if (!isMutationName(env.data.name)) {
    outcome = rejected(id, 'invalid_input', { field: 'name', problem: `"${env.data.name}" is not a mutation of protocol v${PROTOCOL_VERSION}` });
  } else {
    name = env.data.name;
    operatorId = env.data.operatorId;
    const args = mutationArgsSchemas[env.data.name as MutationName].safeParse(env.data.args);
    if (!args.success) {
      const issue = describeIssue(args.error);
      outcome = rejected(id, 'invalid_input', { field: `args.${issue.field}`, problem: issue.problem });
    } else if (name === 'signIn') {
      outcome = yield* signIn(id, term, env.data.operatorId, (args.data as { method: string }).method, now);
    } else if (name === 'signOut') {
      if (term.presenceUserId === env.data.operatorId) yield* ask('setPresence', terminalId, null, now);
      outcome = { id, status: 'applied', value: {}, task: null };
    } else if (term.presenceUserId !== env.data.operatorId) {
      outcome = rejected(id, 'not_signed_in', { userId: env.data.operatorId });
    } else if (name === 'readNotifications') {
      // NTF-2: only the signed-in operator's own notifications; others' ids are ignored.
      const marked = yield* ask('readNotifications', env.data.operatorId, (args.data as { ids: number[] }).ids, now);
      outcome = { id, status: 'applied', value: { marked }, task: null };
    } else {
      const op = { name, ...(args.data as object) } as TaskOperation;
      taskId = op.taskId;
      // CLM-13: judge the age of a claim in server time, via the offset measured at the handshake.
      const madeAt = env.data.clientTime + (term.clockOffsetMs ?? 0);
      const queued = name === 'claim' ? { at: madeAt, offline: env.data.offline === true } : null;
      input = { ...(name === 'claim' ? { madeAt } : {}), ...('reason' in op ? { reason: op.reason } : {}) };
      const { decision, task } = yield* performOperation(op, env.data.operatorId, now, queued, term);
      outcome = decision.ok
        ? { id, status: 'applied', value: decision.value.result, task }
        : { id, status: 'rejected', error: decision.error.toData('en'), task };
      // PROTO-8: a task of a department this terminal does not serve is no exception for that
      // department's supervisors (a terminal could make them up by the thousand); the audit keeps it.
      const outside = task?.departmentId != null && !term.departments.includes(task.departmentId);
      if (outcome.status === 'rejected' && task && !outside) {
        // SUP-4: a refused terminal operation goes to the supervisors' exceptions feed.
        yield* ask(
          'recordException',
          {
            kind: exceptionKindOf(name, outcome.error),
            taskId: task.id,
            userId: env.data.operatorId,
            holder: task.operatorId ? { id: task.operatorId, name: task.operatorName ?? task.operatorId } : null,
            terminalId,
            operation: name,
            errorCode: outcome.error.code,
            reason: null,
            waitedMs: Math.max(0, now - madeAt),
          },
          now,
        );
      }
    }
  }
  yield* ask(
    'audit',
    {
      action: name,
      outcome: outcome.status === 'applied' ? 'applied' : outcome.error.code,
      actorId: operatorId,
      terminalId,
      via: 'terminal',
      taskId,
      details: { mutationId: id, ...input, ...(outcome.status === 'applied' ? outcome.value : { error: outcome.error.details }) },
    },
    now,
  );
  yield* ask('recordOutcome', terminalId, id, name, outcome, now);
  return outcome;
}

/** SUP-4: how a refused terminal operation shows in the exceptions feed. */
function exceptionKindOf(name: string, error: ErrorData): ExceptionKind {
  if (name === 'claim' && error.code === 'task_conflict') return 'claim_conflict';
  if (error.code === 'claim_stale') return 'claim_stale';
  return 'operation_refused';
}

// ---------------------------------------------------------------------------------------------
// HTTP (and CLI) operations

export interface UserOperationResult {
  ok: boolean;
  value: Record<string, unknown>;
  error: DomainError | null;
  task: SyncTask | null;
}

/** A task operation by an authenticated user over HTTP (or by the CLI). */
export function* userOperation(op: TaskOperation, actorId: string, now: number, via: Via = 'http'): Eng<UserOperationResult> {
  const { decision, task } = yield* performOperation(op, actorId, now, null);
  yield* ask(
    'audit',
    {
      action: op.name,
      outcome: decision.ok ? 'applied' : decision.error.code,
      actorId,
      terminalId: null,
      via,
      taskId: op.taskId,
      details: {
        ...(decision.ok ? decision.value.result : { error: decision.error.details }),
        ...('userId' in op ? { userId: op.userId } : {}),
        ...('reason' in op ? { reason: op.reason } : {}),
      },
    },
    now,
  );
  return decision.ok
    ? { ok: true, value: decision.value.result, error: null, task }
    : { ok: false, value: {}, error: decision.error, task };
}

// ---------------------------------------------------------------------------------------------
// Expiry (EXP-1) and auto-assignment (AUTO-1..5)

/** Expire every unstarted assignment that is due; returns the ids of the tasks returned to the pool. */
export function* expireDue(now: number, limit = 500): Eng<string[]> {
  const config = yield* ask('config');
  if (config.assignmentExpiryMinutes <= 0) return [];
  const due = yield* ask('unstartedAssignments', now - config.assignmentExpiryMinutes * MINUTE_MS, limit);
  const expired: string[] = [];
  for (const a of due) {
    const { task } = yield* ask('taskFacts', a.taskId);
    if (!task) continue;
    const decision = decideExpire({ now, config, task, assignment: a });
    if (!decision) continue;
    yield* ask('applyEffects', decision.effects, now);
    yield* ask(
      'audit',
      { action: 'expire', outcome: 'applied', actorId: null, terminalId: null, via: 'system', taskId: task.id, details: { userId: a.userId } },
      now,
    );
    expired.push(task.id);
  }
  return expired;
}

export interface AutoAssignRequest {
  departmentId: string;
  strategy: AutoAssignStrategy;
  /** hybrid: weight of spare capacity against quality. */
  capacityWeight: number;
  /** At most this many tasks in one run. */
  limit: number;
  /** Tasks an earlier slice of the same run already decided (SEC-9). */
  exclude?: readonly string[];
}

/** Why the strategy picked this operator: the figures it compared (AUTO-2..5). */
export interface AutoAssignPick {
  taskId: string;
  userId: string;
  userName: string;
  /** Their active tasks and limit before this pick. */
  activeCount: number;
  limit: number;
  /** PERF-1 */
  performance: number;
  /** How many operators were eligible for the task. */
  eligible: number;
}

export interface AutoAssignResult {
  assigned: AutoAssignPick[];
  /** Tasks nobody could take, with the commonest reason operators were not eligible. */
  unassigned: Array<{ taskId: string; reason: ErrorCode; details: { ineligible: Partial<Record<ErrorCode, number>> } }>;
}

/** AUTO-1..5: give a department's pending tasks to eligible operators by a strategy. */
export function* autoAssign(req: AutoAssignRequest, actorId: string, now: number, via: Via = 'http'): Eng<AutoAssignResult> {
  const actor = yield* ask('user', actorId);
  if (!actor || !canSupervise(actor, req.departmentId)) {
    throw new DomainError('permission_denied', { departmentId: req.departmentId });
  }
  const config = yield* ask('config');
  const tasks = yield* ask('unassignedTasks', req.departmentId, req.limit, req.exclude ?? []);
  const operators = yield* ask('departmentOperators', req.departmentId, now);
  const result: AutoAssignResult = { assigned: [], unassigned: [] };
  const operatorIds = operators.map((o) => o.id);
  for (const pooled of tasks) {
    const facts = yield* ask('taskFacts', pooled.id);
    const base = { ...facts, now, config, actor, mode: 'assign' as const };
    const candidates: Candidate[] = [];
    const ineligible: Partial<Record<ErrorCode, number>> = {};
    // Every operator's facts for this task in one question (a department has hundreds).
    const targets = yield* ask('operatorFactsMany', operatorIds, facts.task);
    for (const [i, op] of operators.entries()) {
      const target = targets[i]!;
      const d = decideAutoAssign({ ...base, target });
      if (!d.ok) {
        ineligible[d.error.code] = (ineligible[d.error.code] ?? 0) + 1;
        continue;
      }
      candidates.push({
        userId: op.id,
        activeCount: target.activeCount,
        limit: resolveTaskLimit(config, facts.department, target.user),
        qualityScore: op.qualityScore,
      });
    }
    const step = pooled.step;
    const lastUserId = req.strategy === 'round_robin' ? yield* ask('roundRobinLast', req.departmentId, step) : null;
    // The pick is decided again on its operator's own facts, which a store shared by several
    // writers reads under the operator's lock (another instance may have just given them a task);
    // one no longer eligible, or being decided about by another writer right now, makes way for
    // the next pick.
    let pick: string | null = null;
    let decision: Decision<unknown> | null = null;
    while (candidates.length > 0) {
      pick = pickAssignee(req.strategy, candidates, { lastUserId, capacityWeight: req.capacityWeight });
      if (!pick) break;
      const target = yield* ask('operatorFactsUnlessBusy', pick, facts.task);
      if (!target) {
        candidates.splice(candidates.findIndex((c) => c.userId === pick), 1);
        pick = null;
        continue;
      }
      const again = decideAutoAssign({ ...base, target });
      if (again.ok) {
        decision = again.value;
        candidates.find((c) => c.userId === pick)!.activeCount = target.activeCount;
        break;
      }
      ineligible[again.error.code] = (ineligible[again.error.code] ?? 0) + 1;
      candidates.splice(candidates.findIndex((c) => c.userId === pick), 1);
      pick = null;
    }
    if (!pick || !decision) {
      result.unassigned.push({ taskId: pooled.id, reason: 'no_eligible_operator', details: { ineligible } });
      continue;
    }
    yield* ask('applyEffects', decision.effects, now);
    if (req.strategy === 'round_robin') yield* ask('setRoundRobinLast', req.departmentId, step, pick);
    yield* ask(
      'audit',
      { action: 'auto_assign', outcome: 'applied', actorId, terminalId: null, via, taskId: pooled.id, details: { userId: pick, strategy: req.strategy } },
      now,
    );
    const chosen = candidates.find((c) => c.userId === pick)!;
    result.assigned.push({
      taskId: pooled.id,
      userId: pick,
      userName: operators.find((o) => o.id === pick)!.displayName,
      activeCount: chosen.activeCount,
      limit: chosen.limit,
      performance: chosen.qualityScore,
      eligible: candidates.length,
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The operator picker (ASG-7)

export interface AssignCandidate {
  userId: string;
  displayName: string;
  active: boolean;
  departmentIds: string[];
  activeCount: number;
  limit: number;
  performance: number;
  /** Assigning now would succeed. */
  eligible: boolean;
  /** Why not, in the words the assign itself would answer with (ERR-3 names the operator). */
  error: ErrorData | null;
  /** Eligible, but they gave this task back recently: an explicit assign overrides their cooldown (COOL-1). */
  cooldownUntil: number | null;
}

/**
 * ASG-7: for a supervisor about to assign (or reassign) a task, every operator they could pick, each
 * judged by the same rules the assign runs (decideAssign), so the picker says who is eligible and
 * why not before anything is sent. Lists the operators of the task's department, and of the
 * supervisor's other departments (admins: of every department), so "not in this department" is
 * explained too.
 */
export function* assignCandidates(taskId: string, mode: 'assign' | 'reassign', actorId: string, now: number): Eng<AssignCandidate[]> {
  const actor = yield* ask('user', actorId);
  const config = yield* ask('config');
  const facts = yield* ask('taskFacts', taskId);
  if (!facts.task) throw new DomainError('task_not_found', { taskId });
  if (!actor || !canSupervise(actor, facts.task.departmentId)) {
    throw new DomainError('permission_denied', { taskId, departmentId: facts.task.departmentId ?? undefined });
  }
  const departments = canSupervise(actor, null)
    ? null
    : [...new Set([...(facts.task.departmentId ? [facts.task.departmentId] : []), ...actor.departmentIds])];
  const people = yield* ask('pickerOperators', departments, now);
  const list: AssignCandidate[] = [];
  const targets = yield* ask('operatorFactsMany', people.map((p) => p.id), facts.task);
  for (const [i, person] of people.entries()) {
    const target = targets[i]!;
    const d = decideAssign({ ...facts, now, config, actor, target, mode });
    const inCooldown = target.cooldownUntil !== null && target.cooldownUntil > now;
    list.push({
      userId: person.id,
      displayName: person.displayName,
      active: person.active,
      departmentIds: person.departmentIds,
      activeCount: target.activeCount,
      limit: resolveTaskLimit(config, facts.department, person as User),
      performance: person.qualityScore,
      eligible: d.ok,
      error: d.ok ? null : d.error.toData('en'),
      cooldownUntil: d.ok && inCooldown ? target.cooldownUntil : null,
    });
  }
  // Eligible first, then by load, then by name.
  return list.sort(
    (a, b) =>
      Number(b.eligible) - Number(a.eligible) ||
      a.activeCount / Math.max(1, a.limit) - b.activeCount / Math.max(1, b.limit) ||
      a.displayName.localeCompare(b.displayName),
  );
}
