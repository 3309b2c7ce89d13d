/**
 * What the supervisors' overview computes from the floor it is sent (SUP-2): which tasks are
 * overdue, the per-department floor summary and the filters its numbers link to, the task table's
 * filters and orders, and hourly series for the charts. Pure functions over plain data, used by
 * the overview (and by its tests and benchmark); the server decides nothing here.
 */
import type { ExceptionKind } from './rules.js';
import type { Task, TaskStatus } from './types.js';

/** A task is overdue when it is still to be done and its due time has passed. */
export function isOverdue(task: Pick<Task, 'status' | 'dueAt'>, now: number): boolean {
  return task.dueAt !== null && task.dueAt < now && (task.status === 'pending' || task.status === 'in_progress');
}

/** The states the board tells apart: a pending task is "claimed" once someone holds it. */
export const BOARD_STATES = ['draft', 'pending', 'claimed', 'in_progress', 'completed', 'cancelled'] as const;
export type BoardState = (typeof BOARD_STATES)[number];

export function boardState(task: Pick<Task, 'status' | 'operatorId'>): BoardState {
  if (task.status === 'pending' && task.operatorId !== null) return 'claimed';
  return task.status as Exclude<TaskStatus, never>;
}

/** An exception as the board needs it to flag tasks. */
export interface ExceptionFlag {
  taskId: string;
  kind: ExceptionKind;
  acknowledgedAt: number | null;
}

/** Tasks with an open exception of this kind (rejected and awaiting action, expired). */
export function openFlags(exceptions: Iterable<ExceptionFlag>): { rejected: Set<string>; expired: Set<string> } {
  const rejected = new Set<string>();
  const expired = new Set<string>();
  for (const e of exceptions) {
    if (e.acknowledgedAt !== null) continue;
    if (e.kind === 'task_rejected') rejected.add(e.taskId);
    else if (e.kind === 'assignment_expired') expired.add(e.taskId);
  }
  return { rejected, expired };
}

// ---------------------------------------------------------------------------------------------
// Filters (what a summary number links to, what the table shows; kept in the URL)

export const TASK_FLAGS = ['overdue', 'rejected', 'expired'] as const;
export type TaskFlag = (typeof TASK_FLAGS)[number];

export interface TaskFilter {
  departmentId?: string;
  state?: BoardState | 'open';
  workOrder?: string;
  step?: string;
  operatorId?: string;
  flag?: TaskFlag;
  /** Completed since this time (the shift's start). */
  completedSince?: number;
  /** Free text: task id, work order, work content, step, holder. */
  q?: string;
}

export interface FilterContext {
  now: number;
  rejected: ReadonlySet<string>;
  expired: ReadonlySet<string>;
}

/** A search text in the form it is matched in (lower case, trimmed). */
export function searchKey(q: string | undefined): string {
  return (q ?? '').trim().toLowerCase();
}

export function matchesFilter(task: Task, f: TaskFilter, ctx: FilterContext, search = searchKey(f.q)): boolean {
  if (f.departmentId !== undefined && task.departmentId !== f.departmentId) return false;
  if (f.state !== undefined) {
    const state = boardState(task);
    if (f.state === 'open' ? !(state === 'pending' || state === 'claimed' || state === 'in_progress') : state !== f.state) return false;
  }
  if (f.workOrder !== undefined && task.workOrderNumber !== f.workOrder) return false;
  if (f.step !== undefined && task.step !== f.step) return false;
  if (f.operatorId !== undefined && task.operatorId !== f.operatorId) return false;
  if (f.completedSince !== undefined && !(task.status === 'completed' && task.updatedAt >= f.completedSince)) return false;
  if (f.flag === 'overdue' && !isOverdue(task, ctx.now)) return false;
  if (f.flag === 'rejected' && !ctx.rejected.has(task.id)) return false;
  if (f.flag === 'expired' && !ctx.expired.has(task.id)) return false;
  if (search) {
    const hay = `${task.id}\u0000${task.workOrderNumber}\u0000${task.workContent}\u0000${task.step}\u0000${task.operatorName ?? ''}`.toLowerCase();
    if (!hay.includes(search)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Orders

export const TASK_SORT_KEYS = ['priority', 'due', 'updated', 'id', 'workOrder', 'step', 'state', 'holder', 'department'] as const;
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];

export interface TaskSort {
  key: TaskSortKey;
  dir: 'asc' | 'desc';
}

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const STATE_ORDER: Record<BoardState, number> = { draft: 0, pending: 1, claimed: 2, in_progress: 3, completed: 4, cancelled: 5 };

/** How the columns that show names order them (the page supplies its language's order). */
export interface SortNames {
  /** Holders' names; code point order by default. */
  compareNames?: (a: string, b: string) => number;
  /** Department ids, in the order of the names shown for them; by id by default. */
  compareDepartments?: (a: string, b: string) => number;
}

/**
 * A total order for the table: the chosen key, then the task id, so equal keys never jump around.
 * The holder and department columns sort by what they show (`names`).
 */
export function taskComparator(sort: TaskSort, names: SortNames = {}): (a: Task, b: Task) => number {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const compareNames = names.compareNames ?? text;
  const compareDepartments = names.compareDepartments ?? text;
  const key = (a: Task, b: Task): number => {
    switch (sort.key) {
      case 'priority':
        return a.priority - b.priority;
      case 'due':
        // No due time sorts after every due time, in either direction.
        if (a.dueAt === b.dueAt) return 0;
        if (a.dueAt === null) return sign;
        if (b.dueAt === null) return -sign;
        return a.dueAt - b.dueAt;
      case 'updated':
        return a.updatedAt - b.updatedAt;
      case 'id':
        return 0;
      case 'workOrder':
        return text(a.workOrderNumber, b.workOrderNumber);
      case 'step':
        return text(a.step, b.step);
      case 'state':
        return STATE_ORDER[boardState(a)] - STATE_ORDER[boardState(b)];
      case 'holder':
        // Nobody sorts after every name (before them, descending).
        if (a.operatorName === b.operatorName) return 0;
        if (a.operatorName === null) return 1;
        if (b.operatorName === null) return -1;
        return compareNames(a.operatorName, b.operatorName);
      case 'department':
        return compareDepartments(a.departmentId ?? '', b.departmentId ?? '');
    }
  };
  return (a, b) => sign * key(a, b) || text(a.id, b.id);
}

// ---------------------------------------------------------------------------------------------
// The floor summary (SUP-2)

export interface DepartmentSummary {
  departmentId: string;
  /** Free in the pool. */
  pending: number;
  /** Held, not started. */
  claimed: number;
  inProgress: number;
  completedThisShift: number;
  overdue: number;
  /** Rejected by an operator, not yet handled by a supervisor. */
  rejected: number;
  /** Assignments that expired, not yet handled. */
  expired: number;
}

export type SummaryCount = Exclude<keyof DepartmentSummary, 'departmentId'>;

/** The filter each summary number stands for: clicking it shows exactly the tasks it counts. */
export function filterForCount(departmentId: string | undefined, count: SummaryCount, shiftStart: number): TaskFilter {
  const base: TaskFilter = departmentId === undefined ? {} : { departmentId };
  switch (count) {
    case 'pending':
      return { ...base, state: 'pending' };
    case 'claimed':
      return { ...base, state: 'claimed' };
    case 'inProgress':
      return { ...base, state: 'in_progress' };
    case 'completedThisShift':
      return { ...base, state: 'completed', completedSince: shiftStart };
    case 'overdue':
      return { ...base, flag: 'overdue' };
    case 'rejected':
      return { ...base, flag: 'rejected' };
    case 'expired':
      return { ...base, flag: 'expired' };
  }
}

function emptySummary(departmentId: string): DepartmentSummary {
  return { departmentId, pending: 0, claimed: 0, inProgress: 0, completedThisShift: 0, overdue: 0, rejected: 0, expired: 0 };
}

/**
 * SUP-2: the counts per department (`rows`, in `departmentIds` order), and in the same pass over
 * the board the counts of every task whatever its department (`total`, the "all departments" row),
 * each matching filterForCount: an admin's board also holds tasks imported without a department,
 * which that row's links show.
 */
export function floorCounts(
  tasks: Iterable<Task>,
  departmentIds: readonly string[],
  ctx: FilterContext & { shiftStart: number },
): { rows: DepartmentSummary[]; total: DepartmentSummary } {
  const by = new Map(departmentIds.map((d) => [d, emptySummary(d)]));
  const total = emptySummary('');
  for (const t of tasks) {
    count(total, t, ctx);
    const s = t.departmentId === null ? undefined : by.get(t.departmentId);
    if (s) count(s, t, ctx);
  }
  return { rows: departmentIds.map((d) => by.get(d)!), total };
}

function count(s: DepartmentSummary, t: Task, ctx: FilterContext & { shiftStart: number }): void {
  const state = boardState(t);
  if (state === 'pending') s.pending++;
  else if (state === 'claimed') s.claimed++;
  else if (state === 'in_progress') s.inProgress++;
  else if (state === 'completed' && t.updatedAt >= ctx.shiftStart) s.completedThisShift++;
  if (isOverdue(t, ctx.now)) s.overdue++;
  if (ctx.rejected.has(t.id)) s.rejected++;
  if (ctx.expired.has(t.id)) s.expired++;
}

// ---------------------------------------------------------------------------------------------
// Chart series

export const HOUR_MS = 3600_000;

/** Hour-long slots from `start` (a shift's start, whatever the zone's offset) up to `end`, as their start times. */
export function hourSlots(start: number, end: number): number[] {
  const slots: number[] = [];
  for (let t = start; t < end; t += HOUR_MS) slots.push(t);
  return slots;
}

/** How many of `times` fall in each slot of `slots` (one hour each). */
export function countPerHour(times: Iterable<number>, slots: readonly number[]): number[] {
  const counts = slots.map(() => 0);
  if (slots.length === 0) return counts;
  const first = slots[0]!;
  for (const t of times) {
    const i = Math.floor((t - first) / HOUR_MS);
    if (i >= 0 && i < counts.length) counts[i]!++;
  }
  return counts;
}
