/**
 * What a supervisor page reads from the PostgreSQL store (SUP-1): change pages and snapshots of
 * its scope, built from the same change log the terminals read. The same reads as the SQLite
 * store's supervisor-reads.ts, statement for statement, awaited.
 */
import type { Row } from '../../../src-shared/db/task-row.js';
import { epochDay, performanceScore } from '../../../src-shared/domain/supervision.js';
import type { Department } from '../../../src-shared/domain/types.js';
import { TASK_FIELDS, type BoardException, type BoardNotification, type BoardTerminal, type Person, type TaskColumns } from '../../../src-shared/protocol/supervisor.js';
import type {
  SupervisorChangesPage,
  SupervisorPageData,
  SupervisorScope,
  SupervisorSnapshotPage,
  SupervisorSnapshotPosition,
} from '../types.js';
import { departmentFromRow, exceptionFromRow, json, notificationFromRow, route, taskColumnsFromRaw, terminalFromRow, userFromRow } from '../sqlite/rows.js';
import { SUPERVISOR_RECENT_MS } from '../sqlite/supervisor-reads.js';
import { hasRole, TASK_COLUMNS_SELECT, TERMINAL_SELECT, USER_SELECT } from './sql.js';
import { numericIds, type Tx } from './tx.js';

/** Notifications a fresh view starts with. */
const NOTIFICATIONS_IN_SNAPSHOT = 200;

function noTasks(): TaskColumns {
  return Object.fromEntries(TASK_FIELDS.map((f) => [f, []])) as unknown as TaskColumns;
}

/** Append task table `b` to `a`. */
function appendTasks(a: TaskColumns, b: TaskColumns): void {
  for (const f of TASK_FIELDS) (a[f] as unknown[]).push(...(b[f] as unknown[]));
}

function emptyData(): SupervisorPageData {
  return {
    tasks: noTasks(),
    people: [],
    terminals: [],
    exceptions: [],
    notifications: [],
    departments: [],
    config: null,
    supervision: null,
    removed: { tasks: [], people: [], terminals: [] },
  };
}

function inScope(scope: SupervisorScope, departmentId: string | null): boolean {
  return scope.all || (departmentId !== null && scope.departmentIds.includes(departmentId));
}

function scopedDepartments(scope: SupervisorScope, departmentIds: readonly string[]): string[] {
  return scope.all ? [...departmentIds] : departmentIds.filter((d) => scope.departmentIds.includes(d));
}

/** Every change-log routing key a page of this scope reads (not used for admins, who read all). */
function keys(scope: SupervisorScope): string[] {
  return ['', route.allSupervisors, route.user(scope.userId), ...scope.departmentIds, ...scope.departmentIds.map(route.supervisors)];
}

/**
 * One index-ordered range of the change log per routing key, merged, in ONE statement: one
 * snapshot, so a commit landing between two ranges cannot leave a gap behind the page's cursor.
 */
export const CHANGES_BY_KEYS = `
  SELECT c.seq, c.entity, c.entity_id FROM unnest($1::text[]) AS k(key)
  CROSS JOIN LATERAL (
    SELECT seq, entity, entity_id FROM changes WHERE department_id = k.key AND seq > $2 ORDER BY seq LIMIT $3
  ) c
  ORDER BY c.seq LIMIT $3`;

export async function supervisorChangesPage(s: Tx, scope: SupervisorScope, afterSeq: number, limit: number, now: number): Promise<SupervisorChangesPage> {
  let rows: Row[];
  let lastSeq = afterSeq;
  let more: boolean;
  if (scope.all) {
    // Admins see every department: one walk of the log, skipping other users' notifications.
    const raw = await s.rows('SELECT seq, entity, entity_id, department_id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit]);
    if (raw.length) lastSeq = raw[raw.length - 1]!.seq as number;
    more = raw.length === limit;
    const mine = route.user(scope.userId);
    rows = raw.filter((r) => !(r.department_id as string).startsWith(route.userPrefix) || r.department_id === mine);
  } else {
    rows = await s.rows(CHANGES_BY_KEYS, [keys(scope), afterSeq, limit]);
    more = rows.length >= limit;
    if (rows.length) lastSeq = rows[rows.length - 1]!.seq as number;
  }
  const wanted = {
    task: new Set<string>(),
    person: new Set<string>(),
    terminal: new Set<string>(),
    exception: new Set<string>(),
    notification: new Set<string>(),
    department: new Set<string>(),
  };
  let config = false;
  let supervision = false;
  for (const r of rows) {
    const entity = r.entity as string;
    const id = r.entity_id as string;
    if (entity === 'config') config = true;
    else if (entity === 'supervision') supervision = true;
    else if (entity === 'user' || entity === 'person') wanted.person.add(id);
    else if (entity in wanted) wanted[entity as keyof typeof wanted].add(id);
  }
  // SUP-3: as on SQLite, a change of the site's default limit or the performance window sends every
  // person of the page again (a department's limit is logged per operator where it is written).
  if (config || supervision) for (const id of await operators(s, scope.all ? null : scope.departmentIds, '', null)) wanted.person.add(id);
  const data = emptyData();
  await addTasks(s, data, scope, [...wanted.task]);
  // The holder of a changed task may have a new load or record: their row comes with the task.
  for (const operatorId of data.tasks.operatorId) if (operatorId !== null) wanted.person.add(operatorId);
  await addPeople(s, data, scope, [...wanted.person], now);
  await addTerminals(s, data, scope, [...wanted.terminal]);
  data.exceptions = await exceptionsById(s, scope, [...wanted.exception]);
  data.notifications = await notificationsById(s, scope.userId, [...wanted.notification]);
  data.departments = (await departments(s, [...wanted.department])).filter((d) => inScope(scope, d.id));
  if (config) data.config = await s.readConfig();
  if (supervision) data.supervision = await s.readSupervision();
  return { ...data, lastSeq, more };
}

/**
 * A page of a fresh view: the departments and settings, then people, terminals, exceptions,
 * notifications and tasks, in that order. A page goes on into the next phase while it holds fewer
 * than `limit` entities, so a small plant arrives in one page and a large one in few.
 */
export async function supervisorSnapshotPage(
  s: Tx,
  scope: SupervisorScope,
  from: SupervisorSnapshotPosition | null,
  limit: number,
  now: number,
): Promise<SupervisorSnapshotPage> {
  const data = emptyData();
  let pos: SupervisorSnapshotPosition | null = from ?? { phase: 'meta', afterId: '' };
  let size = 0;
  while (pos !== null) {
    const page = await phasePage(s, scope, pos, limit - size, now);
    appendTasks(data.tasks, page.tasks);
    data.people.push(...page.people);
    data.terminals.push(...page.terminals);
    data.exceptions.push(...page.exceptions);
    data.notifications.push(...page.notifications);
    data.departments.push(...page.departments);
    data.config ??= page.config;
    data.supervision ??= page.supervision;
    size += page.tasks.id.length + page.people.length + page.terminals.length + page.exceptions.length + page.notifications.length;
    pos = page.next;
    if (size >= limit || (pos !== null && pos.afterId !== '' && pos.afterId !== '0')) break;
  }
  return { ...data, next: pos };
}

/** SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses one (NULL means none). */
const sqlLimit = (n: number): number | null => (n < 0 ? null : n);

async function phasePage(s: Tx, scope: SupervisorScope, pos: SupervisorSnapshotPosition, limit: number, now: number): Promise<SupervisorSnapshotPage> {
  const data = emptyData();
  const depts = [...scope.departmentIds];
  switch (pos.phase) {
    case 'meta': {
      const all = (await s.rows('SELECT * FROM departments ORDER BY id')).map(departmentFromRow);
      data.departments = all.filter((d) => inScope(scope, d.id));
      data.config = await s.readConfig();
      data.supervision = await s.readSupervision();
      return { ...data, next: { phase: 'people', afterId: '' } };
    }
    case 'people': {
      const found = await operators(s, scope.all ? null : depts, pos.afterId, sqlLimit(limit));
      await addPeople(s, data, scope, found, now);
      data.removed.people = [];
      const next: SupervisorSnapshotPosition = found.length === limit ? { phase: 'people', afterId: found[found.length - 1]! } : { phase: 'terminals', afterId: '' };
      return { ...data, next };
    }
    case 'terminals': {
      const all = (await s.rows(`${TERMINAL_SELECT} ORDER BY t.id`)).map(terminalFromRow);
      data.terminals = all.filter((t) => scope.all || t.departments.some((d) => scope.departmentIds.includes(d))).map((t) => boardTerminal(scope, t));
      return { ...data, next: { phase: 'exceptions', afterId: '0' } };
    }
    case 'exceptions': {
      const after = Number(pos.afterId) || 0;
      const rows = scope.all
        ? await s.rows('SELECT * FROM exceptions WHERE id > $1 AND (acknowledged_at IS NULL OR created_at > $2) ORDER BY id LIMIT $3', [
            after,
            now - SUPERVISOR_RECENT_MS,
            sqlLimit(limit),
          ])
        : await s.rows(
            'SELECT * FROM exceptions WHERE department_id = ANY($1::text[]) AND id > $2 AND (acknowledged_at IS NULL OR created_at > $3) ORDER BY id LIMIT $4',
            [depts, after, now - SUPERVISOR_RECENT_MS, sqlLimit(limit)],
          );
      data.exceptions = rows.map(exceptionFromRow);
      const next: SupervisorSnapshotPosition =
        rows.length === limit ? { phase: 'exceptions', afterId: String(data.exceptions[data.exceptions.length - 1]!.id) } : { phase: 'notifications', afterId: '' };
      return { ...data, next };
    }
    case 'notifications': {
      data.notifications = (await s.rows('SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2', [scope.userId, NOTIFICATIONS_IN_SNAPSHOT]))
        .map(notificationFromRow)
        .reverse();
      return { ...data, next: { phase: 'tasks', afterId: '' } };
    }
    case 'tasks': {
      const open = `(t.status IN ('draft', 'pending', 'in_progress') OR t.updated_at > $2)`;
      const rows = scope.all
        ? await s.raw(`${TASK_COLUMNS_SELECT} WHERE t.id > $1 AND ${open} ORDER BY t.id LIMIT $3`, [pos.afterId, now - SUPERVISOR_RECENT_MS, sqlLimit(limit)])
        : // One index-ordered range per department (department_id, id), merged: see the SQLite store.
          await s.raw(`SELECT p.* FROM unnest($4::text[]) AS d(id) CROSS JOIN LATERAL (${TASK_COLUMNS_SELECT} WHERE t.department_id = d.id AND t.id > $1 AND ${open} ORDER BY t.id LIMIT $3) p ORDER BY 1 LIMIT $3`, [
            pos.afterId,
            now - SUPERVISOR_RECENT_MS,
            sqlLimit(limit),
            depts,
          ]);
      data.tasks = taskColumnsFromRaw(rows);
      const next: SupervisorSnapshotPosition | null = rows.length === limit ? { phase: 'tasks', afterId: rows[rows.length - 1]![0] as string } : null;
      return { ...data, next };
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function addTasks(s: Tx, data: SupervisorPageData, scope: SupervisorScope, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) return;
  const rows = await s.raw(`${TASK_COLUMNS_SELECT} WHERE t.id = ANY($1::text[]) ORDER BY t.id`, [[...taskIds]]);
  const found = new Set<string>();
  const shown: unknown[][] = [];
  const department = TASK_FIELDS.indexOf('departmentId');
  for (const r of rows) {
    const id = r[0] as string;
    found.add(id);
    if (inScope(scope, r[department] as string | null)) shown.push(r);
    else data.removed.tasks.push(id);
  }
  data.tasks = taskColumnsFromRaw(shown);
  for (const id of taskIds) if (!found.has(id)) data.removed.tasks.push(id);
}

async function departments(s: Tx, departmentIds: readonly string[]): Promise<Department[]> {
  if (departmentIds.length === 0) return [];
  return (await s.rows('SELECT * FROM departments WHERE id = ANY($1::text[]) ORDER BY id', [[...departmentIds]])).map(departmentFromRow);
}

/** Operators with their load, limit, performance and presence; others (and those out of scope) are removals. */
/** Operators (by id, after `afterId`) of `departmentIds`, or of every department when null; `limit` null: all. */
async function operators(s: Tx, departmentIds: readonly string[] | null, afterId: string, limit: number | null): Promise<string[]> {
  if (departmentIds === null) return s.column<string>(`SELECT u.id FROM users u WHERE ${hasRole("'operator'")} AND u.id > $1 ORDER BY u.id LIMIT $2`, [afterId, limit]);
  return s.column<string>(
    `SELECT DISTINCT ud.user_id FROM user_departments ud JOIN users u ON u.id = ud.user_id
     WHERE ud.department_id = ANY($1::text[]) AND ud.user_id > $2 AND ${hasRole("'operator'")}
     ORDER BY ud.user_id LIMIT $3`,
    [departmentIds, afterId, limit],
  );
}

async function addPeople(s: Tx, data: SupervisorPageData, scope: SupervisorScope, userIds: readonly string[], now: number): Promise<void> {
  if (userIds.length === 0) return;
  const list = [...userIds];
  const users = (await s.rows(`${USER_SELECT} WHERE u.id = ANY($1::text[]) ORDER BY u.id`, [list])).map(userFromRow);
  const active = new Map<string, number>();
  for (const r of await s.rows(
    `SELECT operator_id, COUNT(*) AS n FROM tasks WHERE operator_id = ANY($1::text[]) AND status IN ('pending', 'in_progress') GROUP BY operator_id`,
    [list],
  )) {
    active.set(r.operator_id as string, r.n as number);
  }
  const fromDay = epochDay(now) - (await s.readSupervision()).performanceWindowDays + 1;
  const history = new Map<string, { submitted: number; rejected: number; expired: number }>();
  for (const r of await s.rows(
    `SELECT user_id, SUM(submitted) AS s, SUM(rejected) AS r, SUM(expired) AS e FROM operator_daily
     WHERE user_id = ANY($1::text[]) AND day >= $2 GROUP BY user_id`,
    [list, fromDay],
  )) {
    history.set(r.user_id as string, { submitted: r.s as number, rejected: r.r as number, expired: r.e as number });
  }
  const presence = new Map<string, { terminalId: string | null; since: number }>();
  for (const r of await s.rows(
    `SELECT p.terminal_id, p.user_id, p.signed_in_at, t.departments FROM presence p JOIN terminals t ON t.id = p.terminal_id
     WHERE p.user_id = ANY($1::text[]) ORDER BY p.signed_in_at, p.terminal_id`,
    [list],
  )) {
    // A terminal of another department is not named (SUP-1): only that the person is signed in.
    const visible = scope.all || json<string[]>(r.departments, []).some((d) => scope.departmentIds.includes(d));
    presence.set(r.user_id as string, { terminalId: visible ? (r.terminal_id as string) : null, since: r.signed_in_at as number });
  }
  const config = await s.readConfig();
  const limits = new Map((await s.rows('SELECT id, task_limit FROM departments')).map((r) => [r.id as string, r.task_limit as number | null]));
  const seen = new Set<string>();
  for (const u of users) {
    seen.add(u.id);
    const departmentIds = scopedDepartments(scope, u.departmentIds);
    if (!u.roles.includes('operator') || (!scope.all && departmentIds.length === 0)) {
      data.removed.people.push(u.id);
      continue;
    }
    const overrides = u.departmentIds.map((d) => limits.get(d)).filter((l): l is number => typeof l === 'number');
    const counts = history.get(u.id) ?? { submitted: 0, rejected: 0, expired: 0 };
    const person: Person = {
      id: u.id,
      displayName: u.displayName,
      roles: u.roles,
      departmentIds,
      active: u.active,
      skills: u.skills,
      activeCount: active.get(u.id) ?? 0,
      limit: u.taskLimit ?? (overrides.length ? Math.min(...overrides) : config.defaultTaskLimit),
      performance: { score: performanceScore(counts, u.qualityScore), ...counts },
      presence: presence.get(u.id) ?? null,
    };
    data.people.push(person);
  }
  for (const id of userIds) if (!seen.has(id)) data.removed.people.push(id);
}

function boardTerminal(scope: SupervisorScope, t: ReturnType<typeof terminalFromRow>): BoardTerminal {
  return {
    id: t.id,
    name: t.name,
    departments: scopedDepartments(scope, t.departments),
    active: t.active,
    connected: t.connected,
    lastSeenAt: t.lastSeenAt,
    connectedAt: t.connectedAt,
    disconnectedAt: t.disconnectedAt,
    signedInUserId: t.signedInUserId,
    signedInAt: t.signedInAt,
    appVersion: t.appVersion,
    clockOffsetMs: t.clockOffsetMs,
    outbox: t.outbox,
  };
}

async function addTerminals(s: Tx, data: SupervisorPageData, scope: SupervisorScope, terminalIds: readonly string[]): Promise<void> {
  if (terminalIds.length === 0) return;
  const rows = (await s.rows(`${TERMINAL_SELECT} WHERE t.id = ANY($1::text[]) ORDER BY t.id`, [[...terminalIds]])).map(terminalFromRow);
  const seen = new Set<string>();
  for (const t of rows) {
    seen.add(t.id);
    if (scope.all || t.departments.some((d) => scope.departmentIds.includes(d))) data.terminals.push(boardTerminal(scope, t));
    else data.removed.terminals.push(t.id);
  }
  for (const id of terminalIds) if (!seen.has(id)) data.removed.terminals.push(id);
}

async function exceptionsById(s: Tx, scope: SupervisorScope, exceptionIds: readonly string[]): Promise<BoardException[]> {
  if (exceptionIds.length === 0) return [];
  return (await s.rows('SELECT * FROM exceptions WHERE id = ANY($1::bigint[]) ORDER BY id', [numericIds(exceptionIds)]))
    .map(exceptionFromRow)
    .filter((e) => inScope(scope, e.departmentId));
}

async function notificationsById(s: Tx, userId: string, notificationIds: readonly string[]): Promise<BoardNotification[]> {
  if (notificationIds.length === 0) return [];
  return (await s.rows('SELECT * FROM notifications WHERE user_id = $1 AND id = ANY($2::bigint[]) ORDER BY id', [userId, numericIds(notificationIds)])).map(
    notificationFromRow,
  );
}
