/**
 * Units of work as data. Everything that changes the authority's state is one of these
 * descriptors; the committer turns each into an engine generator inside its group transaction.
 * Callers say what they want done, never how; being plain data, a descriptor can also be logged,
 * queued or handed to a committer elsewhere.
 */
import { isWellFormedText } from '../../src-shared/domain/text.js';
import type { MutationOutcome } from '../../src-shared/protocol/terminal.js';
import {
  assignCandidates,
  autoAssign,
  expireDue,
  terminalMutation,
  userOperation,
  type AssignCandidate,
  type AutoAssignRequest,
  type AutoAssignResult,
  type TaskOperation,
  type UserOperationResult,
} from './mutations.js';
import type { Eng, UnitHint, Via } from './ports.js';

export type UnitDescriptor =
  /** A terminal's mutation as received; `connection` numbers the terminal's connections. */
  | { kind: 'terminal'; terminalId: string; connection: number; id: number; raw: unknown }
  /** A task operation by an authenticated user (HTTP, CLI). */
  | { kind: 'operation'; op: TaskOperation; actorId: string; via: Via }
  /** EXP-1: expire every unstarted assignment that is due. */
  | { kind: 'expire' }
  /**
   * AUTO-1..5 for one department. `dryRun` (AUTO-6): decide exactly as a real run would, in the
   * same transaction, then roll it back: the preview of what applying would do.
   */
  | { kind: 'autoAssign'; request: AutoAssignRequest; actorId: string; via: Via; dryRun?: boolean }
  /** ASG-7: whom a supervisor could assign the task to, and why not the others (reads only). */
  | { kind: 'candidates'; taskId: string; mode: 'assign' | 'reassign'; actorId: string };

export type UnitResult<D extends UnitDescriptor> = D extends { kind: 'terminal' }
  ? MutationOutcome
  : D extends { kind: 'operation' }
    ? UserOperationResult
    : D extends { kind: 'expire' }
      ? string[]
      : D extends { kind: 'candidates' }
        ? AssignCandidate[]
        : AutoAssignResult;

/** Thrown for a mutation that was not run because an earlier one of its terminal failed first. */
export class DeferredError extends Error {}

/** A unit its group did not run, its time being up (GroupPace.budgetMs): it goes back in the queue. */
export class NotRun extends Error {
  constructor() {
    super('not run: the group had used its time');
  }
}

/**
 * Thrown at the end of a unit that must leave nothing behind (a preview): its savepoint is rolled
 * back like a failed unit's, and the committer answers with `value`.
 */
export class RolledBack<T = unknown> extends Error {
  constructor(readonly value: T) {
    super('rolled back on purpose');
  }
}

function* rolledBack<T>(unit: Eng<T>): Eng<T> {
  throw new RolledBack(yield* unit);
}

/**
 * PROTO-9: once a terminal's mutation failed transiently, its later mutations on the same
 * connection are deferred (not run) until the failed one is sent again, so order is kept.
 */
export class TerminalOrder {
  private readonly blocked = new Map<string, { connection: number; from: number | null }>();

  /** Throws DeferredError when `d` must wait; clears the block when `d` is the failed mutation. */
  admit(d: Extract<UnitDescriptor, { kind: 'terminal' }>): void {
    const b = this.blocked.get(d.terminalId);
    if (!b || b.connection !== d.connection) {
      this.blocked.set(d.terminalId, { connection: d.connection, from: null });
      return;
    }
    if (b.from === null) return;
    if (d.id > b.from) throw new DeferredError(`mutation ${d.id} waits for ${b.from}`);
    if (d.id === b.from) b.from = null;
  }

  block(d: Extract<UnitDescriptor, { kind: 'terminal' }>): void {
    const b = this.blocked.get(d.terminalId);
    if (!b || b.connection !== d.connection) this.blocked.set(d.terminalId, { connection: d.connection, from: d.id });
    else b.from = b.from === null ? d.id : Math.min(b.from, d.id);
  }
}

/** The engine work a descriptor stands for. */
export function unitFor(d: UnitDescriptor, order: TerminalOrder): (now: number) => Eng<unknown> {
  switch (d.kind) {
    case 'terminal':
      return function* (now) {
        order.admit(d);
        try {
          return yield* terminalMutation({ terminalId: d.terminalId, id: d.id, raw: d.raw }, now);
        } catch (err) {
          order.block(d);
          throw err;
        }
      };
    case 'operation':
      return (now) => userOperation(d.op, d.actorId, now, d.via);
    case 'expire':
      return (now) => expireDue(now);
    case 'autoAssign':
      return (now) => (d.dryRun ? rolledBack(autoAssign(d.request, d.actorId, now, d.via)) : autoAssign(d.request, d.actorId, now, d.via));
    case 'candidates':
      return (now) => rolledBack(assignCandidates(d.taskId, d.mode, d.actorId, now));
  }
}

/** Operations that weigh an operator's facts (CAP, XSTEP, COOL): the actor's for a claim, the target's for an assignment. */
function factsUserOf(name: string, actorId: string, target: unknown): string | undefined {
  if (name === 'claim') return actorId;
  if ((name === 'assign' || name === 'reassign') && typeof target === 'string') return target;
  return undefined;
}

/** An id a store can look up: well-formed text (SEC-7) of a sane length; anything else is no hint. */
function hintId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 && isWellFormedText(value) ? value : undefined;
}

/**
 * What a descriptor's unit will ask about (see UnitHint). A terminal's mutation is still raw here
 * (the unit validates it, and refuses it alone if it is malformed): only ids a store can safely look
 * up are taken, so a bad mutation never makes its group's read ahead fail.
 */
export function unitHint(d: UnitDescriptor): UnitHint {
  switch (d.kind) {
    case 'operation':
      return { taskId: hintId(d.op.taskId), userId: hintId(factsUserOf(d.op.name, d.actorId, 'userId' in d.op ? d.op.userId : undefined)) };
    case 'terminal': {
      const raw = (typeof d.raw === 'object' && d.raw !== null ? d.raw : {}) as { name?: unknown; operatorId?: unknown; args?: unknown };
      const args = (typeof raw.args === 'object' && raw.args !== null ? raw.args : {}) as { taskId?: unknown };
      const operatorId = hintId(raw.operatorId);
      const userId = operatorId !== undefined && typeof raw.name === 'string' ? factsUserOf(raw.name, operatorId, undefined) : undefined;
      const terminal = hintId(d.terminalId) !== undefined && Number.isSafeInteger(d.id) ? { id: d.terminalId, mutationId: d.id } : undefined;
      return { taskId: hintId(args.taskId), userId, terminal };
    }
    case 'candidates':
      return { taskId: hintId(d.taskId) };
    default:
      return {};
  }
}
