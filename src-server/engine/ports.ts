/**
 * The claim engine is "sans I/O": its steps are generators that yield queries to the store and
 * receive the answers. The SQLite store answers them synchronously inside one transaction (so
 * nothing is awaited while a transaction is open); a PostgreSQL store would drive the same
 * generators with `await` between steps. Nothing in the engine knows which store it runs on.
 */
import type { SiteConfig } from '../../src-shared/domain/config.js';
import type { Effect, ExceptionKind, OperatorFacts } from '../../src-shared/domain/rules.js';
import type { AssignmentStatus, Department, Task, User, UserRef } from '../../src-shared/domain/types.js';
import type { MutationOutcome, SyncTask } from '../../src-shared/protocol/terminal.js';

export interface TerminalState {
  id: string;
  name: string;
  departments: string[];
  active: boolean;
  lastMutationId: number;
  clockOffsetMs: number | null;
  /** The operator signed in at this terminal, as far as the server knows. */
  presenceUserId: string | null;
}

export interface TaskFactsRow {
  task: Task | null;
  department: Department | null;
  owner: UserRef | null;
  /** The holder's active assignment (ACC-1). */
  holderAssignment: { status: AssignmentStatus; assignedBy: string } | null;
  /** A rejection nothing has followed yet (NTF-3). */
  rejection: { userId: string; userName: string; awaiting: boolean } | null;
}

export type Via = 'terminal' | 'http' | 'cli' | 'system';

export interface AuditEntry {
  action: string;
  outcome: string;
  actorId: string | null;
  terminalId: string | null;
  via: Via;
  taskId: string | null;
  details: Record<string, unknown>;
}

/**
 * SUP-6: the department an event at a terminal without a task (a sign-in) is filed under: the first
 * of the terminal's departments its actor belongs to, so that department's supervisors find it at a
 * kiosk several departments share; else the terminal's first.
 */
export function terminalAuditDepartment(terminalDepartments: readonly string[], actorDepartments: readonly string[] | undefined): string | null {
  return terminalDepartments.find((d) => actorDepartments?.includes(d)) ?? terminalDepartments[0] ?? null;
}

/** SUP-4: a refused terminal operation for the supervisors' exceptions feed (the store adds names and department). */
export interface NewException {
  kind: ExceptionKind;
  taskId: string;
  userId: string | null;
  holder: UserRef | null;
  terminalId: string | null;
  operation: string | null;
  errorCode: string | null;
  reason: string | null;
  waitedMs: number | null;
}

export interface UnstartedAssignment {
  taskId: string;
  userId: string;
  status: 'assigned' | 'accepted';
  createdAt: number;
  startedAt: number | null;
}

export interface StoredOutcome {
  outcome: MutationOutcome;
  taskId: string | null;
}

/** PROTO-5: a stored outcome as it is sent again, with its task as it is now (`task`, null if gone). */
export function resentOutcome({ outcome, taskId }: StoredOutcome, task: SyncTask | null): MutationOutcome {
  return taskId === null || outcome.status === 'retry' ? outcome : { ...outcome, task };
}

/** Every question the engine may ask its store inside a transaction. */
export interface TxOps {
  config(): SiteConfig;
  /**
   * PROTO-5: a processed mutation's stored outcome (without a task) and the task it answered about,
   * if any (recordOutcome keeps `outcome.task`'s id).
   */
  storedOutcome(terminalId: string, mutationId: number): StoredOutcome | null;
  terminalState(terminalId: string): TerminalState | null;
  /** A user, with whether they have a PIN (KIO-1: supervisors sign in at a kiosk with one). */
  user(userId: string): (User & { pinHash: string | null }) | null;
  taskFacts(taskId: string): TaskFactsRow;
  operatorFacts(userId: string, task: Task | null): OperatorFacts;
  /**
   * operatorFacts, or null when another writer is deciding about this operator right now (a store
   * several writers share: PostgreSQL's row lock, not waited for). Auto-assign then picks the next
   * operator instead of waiting (two auto-assigns locking operators in different orders would
   * deadlock). A store with one writer always answers.
   */
  operatorFactsUnlessBusy(userId: string, task: Task | null): OperatorFacts | null;
  /** The same for many operators at once, in the order asked (auto-assign and the picker weigh a department's). */
  operatorFactsMany(userIds: readonly string[], task: Task | null): OperatorFacts[];
  /** Apply rule effects: task rows, assignments, cooldowns, notifications and the change log. */
  applyEffects(effects: readonly Effect[], now: number): void;
  setPresence(terminalId: string, userId: string | null, now: number): void;
  /** Store a mutation's outcome and advance the terminal's last processed mutation id. */
  recordOutcome(terminalId: string, mutationId: number, name: string, outcome: MutationOutcome, now: number): void;
  audit(entry: AuditEntry, now: number): void;
  /**
   * The task as terminals get it, for an answer. Its own fields are as the unit left it; a store
   * may complete the rest (and refresh all of it) as the whole group leaves the task, just before
   * the commit, so one read serves the group (the answer is "the task as it is now" either way).
   */
  syncTask(taskId: string, now: number): SyncTask | null;
  /** EXP-1: unstarted active assignments created at or before `createdBefore`. */
  unstartedAssignments(createdBefore: number, limit: number): UnstartedAssignment[];
  /** AUTO-1: pending tasks nobody holds in a department, in claimable order. */
  unassignedTasks(departmentId: string, limit: number, exclude: readonly string[]): Task[];
  /** AUTO-1: active operators of a department, with their performance (PERF-1), which AUTO-4/5 weigh. */
  departmentOperators(departmentId: string, now: number): Array<User & { qualityScore: number }>;
  /**
   * ASG-7: everyone with the operator role in these departments (null: all), active or not, with
   * their performance: whom a supervisor's picker lists.
   */
  pickerOperators(departmentIds: readonly string[] | null, now: number): Array<User & { qualityScore: number }>;
  recordException(exception: NewException, now: number): void;
  /** NTF-2: mark these unread notifications of the user read; returns how many changed. */
  readNotifications(userId: string, ids: readonly number[], now: number): number;
  roundRobinLast(departmentId: string, step: string): string | null;
  setRoundRobinLast(departmentId: string, step: string, userId: string): void;
}

type Query = { [K in keyof TxOps]: { op: K; args: Parameters<TxOps[K]> } }[keyof TxOps];

/** A unit of engine work that yields store queries and finally returns a T. */
export type Eng<T> = Generator<Query, T, unknown>;

/** Ask the store one question (use with `yield*`). */
export function* ask<K extends keyof TxOps>(op: K, ...args: Parameters<TxOps[K]>): Eng<ReturnType<TxOps[K]>> {
  return (yield { op, args } as Query) as ReturnType<TxOps[K]>;
}

/** Drive a unit to completion against synchronous store operations. */
export function runSync<T>(unit: Eng<T>, ops: TxOps): T {
  let step = unit.next();
  while (!step.done) {
    const q = step.value;
    const fn = ops[q.op] as (...args: unknown[]) => unknown;
    step = unit.next(fn.apply(ops, q.args));
  }
  return step.value;
}

/**
 * What a unit is likely to ask about, known before it runs (engine/units.ts unitHint): a store may
 * lock and read it for the whole group at once (store/pg Tx.readAhead). Only a hint: a unit still
 * asks for what it needs, and gets the same answer either way; a wrong hint costs a read and locks
 * a row until the group commits.
 */
export interface UnitHint {
  /** The task it decides about (taskFacts). */
  taskId?: string;
  /** The operator whose facts it weighs (operatorFacts) for that task. */
  userId?: string;
  /** The terminal and mutation id it answers (storedOutcome, terminalState). */
  terminal?: { id: string; mutationId: number };
}

export interface GroupResult<T> {
  results: Array<{ ok: true; value: T } | { ok: false; error: unknown }>;
  /** Departments whose data changed in this group ('' = every department). */
  changedDepartments: Set<string>;
  /** The change log's head after the commit. */
  headSeq: number;
  /**
   * A store whose groups run on the event loop (SQLite): how long the group held it (`busyMs`,
   * begin to commit) and each unit's part of that, in ms. The committer sizes groups by them.
   */
  timing?: { busyMs: number; unitMs: number[] };
}

/** TxOps answered asynchronously: a store that awaits I/O inside its transaction (PostgreSQL). */
export type AsyncTxOps = {
  [K in keyof TxOps]: (...args: Parameters<TxOps[K]>) => ReturnType<TxOps[K]> | Promise<ReturnType<TxOps[K]>>;
};

/**
 * Drive a unit to completion, awaiting each answer (the same steps as `runSync`; an answer that
 * rejects ends the unit with that error, as a throwing synchronous op does).
 */
export async function runAsync<T>(unit: Eng<T>, ops: AsyncTxOps): Promise<T> {
  let step = unit.next();
  while (!step.done) {
    const q = step.value;
    const fn = ops[q.op] as (...args: unknown[]) => unknown;
    step = unit.next(await fn.apply(ops, q.args));
  }
  return step.value;
}
