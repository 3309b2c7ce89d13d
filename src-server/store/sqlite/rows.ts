/**
 * The SQLite store's SQL fragments and row mappers, shared by the store and its supervisor reads.
 */
import { jsonColumn, type Row } from '../../../src-shared/db/task-row.js';
import { ACTIVE_ASSIGNMENT_STATUSES, type Department, type Role, type Task, type TaskStatus } from '../../../src-shared/domain/types.js';
import { TASK_FIELDS, type BoardException, type BoardNotification, type TaskColumns } from '../../../src-shared/protocol/supervisor.js';
import {
  OPERATOR_NOTIFICATION_EVENTS,
  type DirectoryUser,
  type LastRejection,
  type MutationOutcome,
  type SyncTask,
  type TaskAssignmentInfo,
  type TerminalNotification,
} from '../../../src-shared/protocol/terminal.js';
import { resentOutcome, type AuditEntry, type StoredOutcome, type TerminalState } from '../../engine/ports.js';
import type { AuditRecord, NewUser, TerminalRecord, UserRecord } from '../types.js';

export const json = jsonColumn;

/** Change-log routing value for tasks that have no department (no terminal subscribes to it). */
export const NO_DEPARTMENT = '~none';

/**
 * Change-log routing keys (the `department_id` column) besides department ids. Ids cannot start
 * with "~", so none of these collides with a department:
 * - a department's id: terminals of it and its supervisors read these rows;
 * - `~s:<department>`: only its supervisors (people's load, terminals' state, exceptions);
 * - `~s:`: every supervisor (supervision settings);
 * - `~u:<user>`: only that user's supervisor pages (their notifications).
 */
export const route = {
  supervisors: (departmentId: string) => `~s:${departmentId}`,
  allSupervisors: '~s:',
  user: (userId: string) => `~u:${userId}`,
  userPrefix: '~u:',
};

/** How long finished tasks stay in a terminal's snapshot. */
export const RECENT_FINISHED_MS = 12 * 3600_000;
export const ACTIVE_ASSIGNMENT_SQL = `('${ACTIVE_ASSIGNMENT_STATUSES.join("','")}')`;
/** An assignment row (of table alias `a`, when given) whose operator worked the task. */
export const workedSql = (a = '') => `(${a}status IN ('assigned','accepted','in_progress','submitted') OR ${a}started_at IS NOT NULL)`;
export const WORKED_SQL = workedSql();

/** A task's row as objects (taskFromRow): the PostgreSQL store's reads of tasks. */
export const TASK_SELECT = `
  SELECT t.*, wo.number AS work_order_number, u.display_name AS operator_name
  FROM tasks t
  JOIN work_orders wo ON wo.id = t.work_order_id
  LEFT JOIN users u ON u.id = t.operator_id`;

/**
 * A task's columns in TASK_FIELDS order, read raw (no object per row): as tasks (taskFromRaw) or,
 * for supervisors, as a table (taskColumnsFromRaw). Filter with WHERE on aliases `t`, `wo`, `u`.
 */
export const TASK_COLUMNS_SELECT = `
  SELECT t.id, t.work_order_id, wo.number, t.step, t.work_content, t.department_id, t.status, t.operator_id,
         u.display_name, t.priority, t.due_at, t.required_skills, t.version, t.created_at, t.updated_at
  FROM tasks t
  JOIN work_orders wo ON wo.id = t.work_order_id
  LEFT JOIN users u ON u.id = t.operator_id`;

const SKILLS = TASK_FIELDS.indexOf('requiredSkills');

/**
 * A task from a raw row of TASK_COLUMNS_SELECT (TASK_FIELDS order). Issue 12: with its extras
 * (syncExtras) it is what every snapshot and change page is made of, and reading the same 15
 * columns as an object per row and then copying it cost 25 µs a task against 7 µs this way.
 */
export function taskFromRaw(r: readonly unknown[]): Task {
  return {
    id: r[0] as string,
    workOrderId: r[1] as string,
    workOrderNumber: r[2] as string,
    step: r[3] as string,
    workContent: r[4] as string,
    departmentId: (r[5] as string | null) ?? null,
    status: r[6] as TaskStatus,
    operatorId: (r[7] as string | null) ?? null,
    operatorName: (r[8] as string | null) ?? null,
    priority: r[9] as number,
    dueAt: (r[10] as number | null) ?? null,
    requiredSkills: r[11] === '[]' ? [] : jsonColumn<string[]>(r[11], []),
    version: r[12] as number,
    createdAt: r[13] as number,
    updatedAt: r[14] as number,
  };
}

/** Raw rows of TASK_COLUMNS_SELECT as a task table. */
export function taskColumnsFromRaw(rows: readonly unknown[][]): TaskColumns {
  const cols = TASK_FIELDS.map(() => new Array<unknown>(rows.length));
  rows.forEach((r, i) => {
    for (let f = 0; f < cols.length; f++) cols[f]![i] = f === SKILLS ? (r[f] === '[]' ? [] : json<string[]>(r[f], [])) : r[f];
  });
  return Object.fromEntries(TASK_FIELDS.map((f, i) => [f, cols[i]])) as unknown as TaskColumns;
}

export const WORKED_BY = `SELECT user_id FROM assignments WHERE task_id = ? AND ${WORKED_SQL}`;
export const WORKED_STEPS = `SELECT step FROM assignments WHERE user_id = ? AND work_order_id = ? AND ${WORKED_SQL}`;
/** One task's raw row (taskFromRaw). */
export const TASK_BY_ID = `${TASK_COLUMNS_SELECT} WHERE t.id = ?`;

export const USER_SELECT = `
  SELECT u.*, (SELECT json_group_array(ud.department_id) FROM user_departments ud WHERE ud.user_id = u.id) AS department_ids
  FROM users u`;

export const TERMINAL_SELECT = `
  SELECT t.*, p.user_id AS signed_in_user_id, p.signed_in_at FROM terminals t LEFT JOIN presence p ON p.terminal_id = t.id`;

export function userFromRow(r: Row): UserRecord {
  return {
    id: r.id as string,
    displayName: r.display_name as string,
    roles: json<Role[]>(r.roles, []),
    departmentIds: json<string[]>(r.department_ids, []).sort(),
    active: r.active === 1,
    taskLimit: (r.task_limit as number | null) ?? null,
    skills: json<string[]>(r.skills, []),
    badgeHash: (r.badge_hash as string | null) ?? null,
    pinHash: (r.pin_hash as string | null) ?? null,
    passwordHash: (r.password_hash as string | null) ?? null,
    qualityScore: r.quality_score as number,
  };
}

/** The users columns both INSERT and UPDATE write, in this order, ending with updated_at. */
export function userParams(u: Omit<NewUser, 'id'>, now: number): unknown[] {
  return [
    u.displayName,
    u.badgeHash,
    u.pinHash,
    u.passwordHash,
    JSON.stringify(u.roles),
    u.active ? 1 : 0,
    u.taskLimit,
    JSON.stringify(u.skills),
    u.qualityScore,
    now,
  ];
}

export function directoryUser(u: UserRecord, activeTasks: Record<string, number> = {}): DirectoryUser {
  return {
    id: u.id,
    displayName: u.displayName,
    badgeHash: u.badgeHash,
    pinHash: u.pinHash,
    roles: u.roles,
    departmentIds: u.departmentIds,
    active: u.active,
    taskLimit: u.taskLimit,
    skills: u.skills,
    activeTasks,
  };
}

/** A task as an operator reads it in a list or a notification. */
export function taskLabelOf(workOrderNumber: unknown, step: unknown, workContent: unknown): string | null {
  return typeof workOrderNumber === 'string' ? `${workOrderNumber} · ${String(step)} · ${String(workContent)}`.slice(0, 400) : null;
}

export function departmentFromRow(r: Row): Department {
  return { id: r.id as string, name: r.name as string, taskLimit: (r.task_limit as number | null) ?? null };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

/**
 * The engine's view of a terminal (TxOps.terminalState): only what it decides with, as an array.
 * Every terminal mutation asks; `t.*` and an object of every column cost 7 µs a read against 2 µs.
 */
export const TERMINAL_STATE = `SELECT t.name, t.departments, t.active, t.last_mutation_id, t.clock_offset_ms, p.user_id
  FROM terminals t LEFT JOIN presence p ON p.terminal_id = t.id WHERE t.id = ?`;

export function terminalStateFromRaw(id: string, r: readonly unknown[]): TerminalState {
  return {
    id,
    name: r[0] as string,
    departments: json<string[]>(r[1], []),
    active: r[2] === 1,
    lastMutationId: r[3] as number,
    clockOffsetMs: num(r[4]),
    presenceUserId: str(r[5]),
  };
}

/**
 * A task's latest assignment. By MAX(id), not `ORDER BY id DESC LIMIT 1`: the index by task is
 * (task_id, user_id), so that sorted the task's assignments in a temporary B-tree at every
 * mutation (4 µs a read against 6-8 µs).
 */
export const LATEST_ASSIGNMENT = 'SELECT status, user_id, assigned_by FROM assignments WHERE id = (SELECT MAX(id) FROM assignments WHERE task_id = ?)';

export function terminalFromRow(r: Row): TerminalRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    tokenHash: r.token_hash as string,
    departments: json<string[]>(r.departments, []),
    active: r.active === 1,
    lastMutationId: r.last_mutation_id as number,
    clockOffsetMs: num(r.clock_offset_ms),
    lastSeenAt: num(r.last_seen_at),
    createdAt: r.created_at as number,
    signedInUserId: str(r.signed_in_user_id),
    signedInAt: num(r.signed_in_at),
    appVersion: str(r.app_version),
    protocolVersion: num(r.protocol_version),
    outbox: num(r.outbox),
    connected: r.connected === 1,
    connectedAt: num(r.connected_at),
    disconnectedAt: num(r.disconnected_at),
  };
}

export function exceptionFromRow(r: Row): BoardException {
  return {
    id: r.id as number,
    kind: r.kind as BoardException['kind'],
    taskId: r.task_id as string,
    departmentId: str(r.department_id),
    userId: str(r.user_id),
    userName: str(r.user_name),
    holderId: str(r.holder_id),
    holderName: str(r.holder_name),
    terminalId: str(r.terminal_id),
    operation: str(r.operation),
    errorCode: str(r.error_code),
    reason: str(r.reason),
    waitedMs: num(r.waited_ms),
    createdAt: r.created_at as number,
    acknowledgedAt: num(r.acknowledged_at),
    acknowledgedBy: str(r.acknowledged_by),
    resolution: str(r.resolution),
  };
}

export function notificationFromRow(r: Row): BoardNotification {
  return {
    id: r.id as number,
    event: r.event as string,
    taskId: str(r.task_id),
    byUserId: str(r.by_user_id),
    createdAt: r.created_at as number,
    readAt: num(r.read_at),
    details: json<Record<string, unknown>>(r.details, {}),
  };
}

export function auditFromRow(r: Row): AuditRecord {
  return {
    id: r.id as number,
    at: r.at as number,
    action: r.action as string,
    outcome: r.outcome as string,
    actorId: str(r.actor_id),
    terminalId: str(r.terminal_id),
    via: r.via as AuditEntry['via'],
    taskId: str(r.task_id),
    departmentId: str(r.department_id),
    details: json<Record<string, unknown>>(r.details, {}),
  };
}

// ---------------------------------------------------------------------------------------------
// What a kiosk shows of a task's assignments (ACC-1, KIO-7) and of an operator's news (NTF-1)

/** An assignment with the name of whoever made it. Filter with WHERE on alias `a`. */
export const ASSIGNMENT_INFO = `
  SELECT a.task_id, a.status, a.assigned_by, a.created_at, u.display_name AS by_name
  FROM assignments a LEFT JOIN users u ON u.id = a.assigned_by`;

export function assignmentInfo(r: Row): TaskAssignmentInfo {
  return {
    status: r.status as TaskAssignmentInfo['status'],
    assignedBy: r.assigned_by as string,
    assignedByName: (r.by_name as string | null) ?? null,
    at: r.created_at as number,
  };
}

/** A rejection with the name of who rejected. Filter with WHERE on alias `a`. */
export const REJECTION_INFO = `
  SELECT a.task_id, a.user_id, a.reason, a.updated_at, u.display_name AS user_name
  FROM assignments a LEFT JOIN users u ON u.id = a.user_id`;

export function rejectionInfo(r: Row): LastRejection {
  return {
    userId: r.user_id as string,
    userName: (r.user_name as string | null) ?? (r.user_id as string),
    reason: (r.reason as string | null) ?? '',
    at: r.updated_at as number,
  };
}

const OPERATOR_EVENTS: ReadonlySet<string> = new Set(OPERATOR_NOTIFICATION_EVENTS);
export const OPERATOR_EVENTS_SQL = `('${OPERATOR_NOTIFICATION_EVENTS.join("','")}')`;

/** NTF-1: notifications a kiosk shows (supervisors' own go to their overview only). */
export function isOperatorEvent(event: string): boolean {
  return OPERATOR_EVENTS.has(event);
}

/**
 * SUP-1: whether a user may have overview pages (a supervisor or an administrator), which hold all
 * of the user's own notifications: their operator news too, when they also work tasks.
 */
export function mayHaveOverview(user: { roles: readonly string[] } | null): boolean {
  return user !== null && (user.roles.includes('supervisor') || user.roles.includes('admin'));
}

/** How long a kiosk keeps read notifications (a terminal's snapshot includes them this long). */
export const READ_NOTIFICATIONS_KEPT_MS = 24 * 3600_000;

/** A notification's details as the protocol carries them: short scalar values only. */
export function notificationDetails(d: Record<string, unknown>): TerminalNotification['details'] {
  const out: TerminalNotification['details'] = {};
  for (const [k, v] of Object.entries(d).slice(0, 20)) {
    if (k.length > 40) continue;
    if (typeof v === 'string') out[k] = v.slice(0, 1000);
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || v === null) out[k] = v;
  }
  return out;
}

/** More departments than this in one page query: one IN list (SQLite caps a compound SELECT at 500 terms). */
const MERGED_DEPARTMENTS_MAX = 64;

/**
 * A page of several departments' tasks in id order (snapshot pages of kiosks and supervisors).
 * `oneDepartment` selects ONE department's rows (`department_id = ?`, then its own parameters)
 * `ORDER BY id LIMIT ?`, id in the first column: each department's range is read in index order
 * (tasks_by_department_order: department_id, id) and the ranges are merged, reading at most a page
 * per department. One `department_id IN (…) ORDER BY id` reads every remaining task of the
 * departments and sorts them, for every page: quadratic over a snapshot. Returns the SQL and its
 * parameters, each department's followed by the page's limit.
 */
export function departmentsInIdOrder(
  oneDepartment: string,
  inList: string,
  departments: readonly string[],
  params: readonly unknown[],
  limit: number,
): { sql: string; params: unknown[] } {
  if (departments.length === 1) return { sql: oneDepartment, params: [departments[0], ...params, limit] };
  if (departments.length === 0 || departments.length > MERGED_DEPARTMENTS_MAX) {
    return { sql: inList, params: [JSON.stringify(departments), ...params, limit] };
  }
  const one = `SELECT * FROM (${oneDepartment})`;
  return {
    sql: `${Array.from(departments, () => one).join(' UNION ALL ')} ORDER BY 1 LIMIT ?`,
    params: [...departments.flatMap((d) => [d, ...params, limit]), limit],
  };
}

/**
 * PROTO-5: how an outcome is stored. Its task is "the task as it is now", stale by the time the
 * outcome is sent again, so only the task's id is kept (a column), and whoever sends the outcome
 * again attaches the task as it is then.
 */
export function outcomeToStore(outcome: MutationOutcome): { outcome: string; taskId: string | null } {
  if (outcome.status === 'retry') return { outcome: JSON.stringify(outcome), taskId: null };
  return { outcome: JSON.stringify({ ...outcome, task: null }), taskId: outcome.task?.id ?? null };
}

export function storedOutcomeFromRow(r: Row): StoredOutcome {
  return { outcome: JSON.parse(r.outcome as string) as MutationOutcome, taskId: (r.task_id as string | null) ?? null };
}

export function taskIdsOf(stored: readonly StoredOutcome[]): string[] {
  return [...new Set(stored.flatMap((s) => (s.taskId === null ? [] : [s.taskId])))];
}

/** Stored outcomes as sent again: each with its task as it is now (`tasks`), or none if it is gone. */
export function withTasksNow(stored: readonly StoredOutcome[], tasks: readonly SyncTask[]): MutationOutcome[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return stored.map((s) => resentOutcome(s, s.taskId === null ? null : (byId.get(s.taskId) ?? null)));
}
