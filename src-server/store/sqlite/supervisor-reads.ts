/**
 * What a supervisor page reads from the SQLite store (SUP-1): change pages and snapshots of its
 * scope, built from the same change log the terminals read. Rows routed to other departments are
 * never read; an entity that left the scope (a task moved to another department) is sent as a
 * removal, never with its new state.
 */
import type Database from 'better-sqlite3';
import type { SiteConfig } from '../../../src-shared/domain/config.js';
import type { Row } from '../../../src-shared/db/task-row.js';
import { epochDay, performanceScore, type SupervisionSettings } from '../../../src-shared/domain/supervision.js';
import type { Department } from '../../../src-shared/domain/types.js';
import { TASK_FIELDS, type BoardException, type BoardNotification, type BoardTerminal, type Person, type TaskColumns } from '../../../src-shared/protocol/supervisor.js';
import type {
  SupervisorChangesPage,
  SupervisorPageData,
  SupervisorScope,
  SupervisorSnapshotPage,
  SupervisorSnapshotPosition,
} from '../types.js';
import {
  departmentFromRow,
  departmentsInIdOrder,
  exceptionFromRow,
  json,
  notificationFromRow,
  route,
  TASK_COLUMNS_SELECT,
  taskColumnsFromRaw,
  TERMINAL_SELECT,
  terminalFromRow,
  USER_SELECT,
  userFromRow,
} from './rows.js';

/** Finished tasks stay on the board this long (this shift and the one before). */
export const SUPERVISOR_RECENT_MS = 24 * 3600_000;
/** Notifications a fresh view starts with. */
const NOTIFICATIONS_IN_SNAPSHOT = 200;

export interface StoreAccess {
  q(sql: string): Database.Statement;
  config(): SiteConfig;
  supervision(): SupervisionSettings;
}

const ids = (list: readonly string[]) => JSON.stringify(list);
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

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

export class SupervisorReads {
  constructor(private readonly s: StoreAccess) {}

  private inScope(scope: SupervisorScope, departmentId: string | null): boolean {
    return scope.all || (departmentId !== null && scope.departmentIds.includes(departmentId));
  }

  private scopedDepartments(scope: SupervisorScope, departmentIds: readonly string[]): string[] {
    return scope.all ? [...departmentIds] : departmentIds.filter((d) => scope.departmentIds.includes(d));
  }

  /** Every change-log routing key a page of this scope reads (not used for admins, who read all). */
  private keys(scope: SupervisorScope): string[] {
    return ['', route.allSupervisors, route.user(scope.userId), ...scope.departmentIds, ...scope.departmentIds.map(route.supervisors)];
  }

  changesPage(scope: SupervisorScope, afterSeq: number, limit: number, now: number): SupervisorChangesPage {
    let rows: Row[];
    let lastSeq = afterSeq;
    let more: boolean;
    if (scope.all) {
      // Admins see every department: one walk of the log, skipping other users' notifications.
      const raw = this.s.q('SELECT seq, entity, entity_id, department_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Row[];
      if (raw.length) lastSeq = raw[raw.length - 1]!.seq as number;
      more = raw.length === limit;
      const mine = route.user(scope.userId);
      rows = raw.filter((r) => !(r.department_id as string).startsWith(route.userPrefix) || r.department_id === mine);
    } else {
      // One index-ordered range per routing key, merged (as for terminals).
      rows = [];
      for (const key of this.keys(scope)) {
        rows.push(...(this.s.q('SELECT seq, entity, entity_id FROM changes WHERE department_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(key, afterSeq, limit) as Row[]));
      }
      rows.sort((a, b) => (a.seq as number) - (b.seq as number));
      more = rows.length >= limit;
      rows.length = Math.min(rows.length, limit);
      if (rows.length) lastSeq = rows[rows.length - 1]!.seq as number;
    }
    const wanted = { task: new Set<string>(), person: new Set<string>(), terminal: new Set<string>(), exception: new Set<string>(), notification: new Set<string>(), department: new Set<string>() };
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
    // SUP-3: a person's limit and score are worked out when read, from the site's default limit
    // and the performance window too: a change of either sends every person of the page again. (A
    // department's limit is logged as a change of each of its operators where it is written.)
    if (config || supervision) for (const id of this.operators(scope.all ? null : scope.departmentIds, '', -1)) wanted.person.add(id);
    const data = emptyData();
    this.addTasks(data, scope, [...wanted.task]);
    // The holder of a changed task may have a new load or record: their row comes with the task.
    for (const operatorId of data.tasks.operatorId) if (operatorId !== null) wanted.person.add(operatorId);
    this.addPeople(data, scope, [...wanted.person], now);
    this.addTerminals(data, scope, [...wanted.terminal]);
    data.exceptions = this.exceptionsById(scope, [...wanted.exception]);
    data.notifications = this.notificationsById(scope.userId, [...wanted.notification]);
    data.departments = this.departments([...wanted.department]).filter((d) => this.inScope(scope, d.id));
    if (config) data.config = this.s.config();
    if (supervision) data.supervision = this.s.supervision();
    return { ...data, lastSeq, more };
  }

  /**
   * A page of a fresh view: the departments and settings, then people, terminals, exceptions,
   * notifications and tasks, in that order. A page goes on into the next phase while it holds fewer
   * than `limit` entities, so a small plant arrives in one page and a large one in few.
   */
  snapshotPage(scope: SupervisorScope, from: SupervisorSnapshotPosition | null, limit: number, now: number): SupervisorSnapshotPage {
    const data = emptyData();
    let pos: SupervisorSnapshotPosition | null = from ?? { phase: 'meta', afterId: '' };
    let size = 0;
    while (pos !== null) {
      const page = this.phasePage(scope, pos, limit - size, now);
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

  private phasePage(scope: SupervisorScope, pos: SupervisorSnapshotPosition, limit: number, now: number): SupervisorSnapshotPage {
    const data = emptyData();
    const depts = ids(scope.departmentIds);
    switch (pos.phase) {
      case 'meta': {
        const all = (this.s.q('SELECT * FROM departments ORDER BY id').all() as Row[]).map(departmentFromRow);
        data.departments = all.filter((d) => this.inScope(scope, d.id));
        data.config = this.s.config();
        data.supervision = this.s.supervision();
        return { ...data, next: { phase: 'people', afterId: '' } };
      }
      case 'people': {
        const found = this.operators(scope.all ? null : scope.departmentIds, pos.afterId, limit);
        this.addPeople(data, scope, found, now);
        data.removed.people = [];
        const next: SupervisorSnapshotPosition = found.length === limit ? { phase: 'people', afterId: found[found.length - 1]! } : { phase: 'terminals', afterId: '' };
        return { ...data, next };
      }
      case 'terminals': {
        const all = (this.s.q(`${TERMINAL_SELECT} ORDER BY t.id`).all() as Row[]).map(terminalFromRow);
        data.terminals = all.filter((t) => scope.all || t.departments.some((d) => scope.departmentIds.includes(d))).map((t) => this.boardTerminal(scope, t));
        return { ...data, next: { phase: 'exceptions', afterId: '0' } };
      }
      case 'exceptions': {
        const after = Number(pos.afterId) || 0;
        const rows = (
          scope.all
            ? this.s
                .q('SELECT * FROM exceptions WHERE id > ? AND (acknowledged_at IS NULL OR created_at > ?) ORDER BY id LIMIT ?')
                .all(after, now - SUPERVISOR_RECENT_MS, limit)
            : this.s
                .q(`SELECT * FROM exceptions WHERE department_id ${IN_IDS} AND id > ? AND (acknowledged_at IS NULL OR created_at > ?) ORDER BY id LIMIT ?`)
                .all(depts, after, now - SUPERVISOR_RECENT_MS, limit)
        ) as Row[];
        data.exceptions = rows.map(exceptionFromRow);
        const next: SupervisorSnapshotPosition =
          rows.length === limit ? { phase: 'exceptions', afterId: String(data.exceptions[data.exceptions.length - 1]!.id) } : { phase: 'notifications', afterId: '' };
        return { ...data, next };
      }
      case 'notifications': {
        data.notifications = (this.s.q('SELECT * FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT ?').all(scope.userId, NOTIFICATIONS_IN_SNAPSHOT) as Row[])
          .map(notificationFromRow)
          .reverse();
        return { ...data, next: { phase: 'tasks', afterId: '' } };
      }
      case 'tasks': {
        // One query per page: the rows themselves, in id order (the primary key), no id list first.
        const open = `(t.status IN ('draft', 'pending', 'in_progress') OR t.updated_at > ?)`;
        const rows = (
          scope.all
            ? this.s.q(`${TASK_COLUMNS_SELECT} WHERE t.id > ? AND ${open} ORDER BY t.id LIMIT ?`).raw().all(pos.afterId, now - SUPERVISOR_RECENT_MS, limit)
            : this.departmentTasksPage(`t.id > ? AND ${open} ORDER BY t.id LIMIT ?`, scope.departmentIds, [pos.afterId, now - SUPERVISOR_RECENT_MS], limit)
        ) as unknown[][];
        data.tasks = taskColumnsFromRaw(rows);
        const next: SupervisorSnapshotPosition | null = rows.length === limit ? { phase: 'tasks', afterId: rows[rows.length - 1]![0] as string } : null;
        return { ...data, next };
      }
    }
  }

  /** Rows of TASK_COLUMNS_SELECT of these departments, `rest` after the department's condition (rows.ts departmentsInIdOrder). */
  private departmentTasksPage(rest: string, departments: readonly string[], params: readonly unknown[], limit: number): unknown[][] {
    const page = departmentsInIdOrder(
      `${TASK_COLUMNS_SELECT} WHERE t.department_id = ? AND ${rest}`,
      `${TASK_COLUMNS_SELECT} WHERE t.department_id ${IN_IDS} AND ${rest}`,
      departments,
      params,
      limit,
    );
    return this.s.q(page.sql).raw().all(...page.params) as unknown[][];
  }

  // -------------------------------------------------------------------------------------------

  private addTasks(data: SupervisorPageData, scope: SupervisorScope, taskIds: readonly string[]): void {
    if (taskIds.length === 0) return;
    const rows = this.s.q(`${TASK_COLUMNS_SELECT} WHERE t.id ${IN_IDS} ORDER BY t.id`).raw().all(ids(taskIds)) as unknown[][];
    const found = new Set<string>();
    const shown: unknown[][] = [];
    const department = TASK_FIELDS.indexOf('departmentId');
    for (const r of rows) {
      const id = r[0] as string;
      found.add(id);
      if (this.inScope(scope, r[department] as string | null)) shown.push(r);
      else data.removed.tasks.push(id);
    }
    data.tasks = taskColumnsFromRaw(shown);
    for (const id of taskIds) if (!found.has(id)) data.removed.tasks.push(id);
  }

  private departments(departmentIds: readonly string[]): Department[] {
    if (departmentIds.length === 0) return [];
    return (this.s.q(`SELECT * FROM departments WHERE id ${IN_IDS} ORDER BY id`).all(ids(departmentIds)) as Row[]).map(departmentFromRow);
  }

  /** Operators with their load, limit, performance and presence; others (and those out of scope) are removals. */
  /** Operators (by id, after `afterId`) of `departmentIds`, or of every department when null. */
  private operators(departmentIds: readonly string[] | null, afterId: string, limit: number): string[] {
    if (departmentIds === null) {
      return this.s
        .q(`SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'operator') AND u.id > ? ORDER BY u.id LIMIT ?`)
        .pluck()
        .all(afterId, limit) as string[];
    }
    return this.s
      .q(
        `SELECT DISTINCT ud.user_id FROM user_departments ud JOIN users u ON u.id = ud.user_id
         WHERE ud.department_id ${IN_IDS} AND ud.user_id > ?
           AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'operator')
         ORDER BY ud.user_id LIMIT ?`,
      )
      .pluck()
      .all(ids(departmentIds), afterId, limit) as string[];
  }

  private addPeople(data: SupervisorPageData, scope: SupervisorScope, userIds: readonly string[], now: number): void {
    if (userIds.length === 0) return;
    const list = ids(userIds);
    const users = (this.s.q(`${USER_SELECT} WHERE u.id ${IN_IDS} ORDER BY u.id`).all(list) as Row[]).map(userFromRow);
    const active = new Map<string, number>();
    for (const r of this.s
      .q(`SELECT operator_id, COUNT(*) AS n FROM tasks WHERE operator_id ${IN_IDS} AND status IN ('pending', 'in_progress') GROUP BY operator_id`)
      .all(list) as Row[]) {
      active.set(r.operator_id as string, r.n as number);
    }
    const fromDay = epochDay(now) - this.s.supervision().performanceWindowDays + 1;
    const history = new Map<string, { submitted: number; rejected: number; expired: number }>();
    for (const r of this.s
      .q(
        `SELECT user_id, SUM(submitted) AS s, SUM(rejected) AS r, SUM(expired) AS e FROM operator_daily
         WHERE user_id ${IN_IDS} AND day >= ? GROUP BY user_id`,
      )
      .all(list, fromDay) as Row[]) {
      history.set(r.user_id as string, { submitted: r.s as number, rejected: r.r as number, expired: r.e as number });
    }
    // The latest sign-in wins; one at two kiosks in the same ms shows the later terminal id (as on PostgreSQL).
    const presence = new Map<string, { terminalId: string | null; since: number }>();
    for (const r of this.s
      .q(`SELECT p.terminal_id, p.user_id, p.signed_in_at, t.departments FROM presence p JOIN terminals t ON t.id = p.terminal_id WHERE p.user_id ${IN_IDS} ORDER BY p.signed_in_at, p.terminal_id`)
      .all(list) as Row[]) {
      // A terminal of another department is not named (SUP-1): only that the person is signed in.
      const visible = scope.all || json<string[]>(r.departments, []).some((d) => scope.departmentIds.includes(d));
      presence.set(r.user_id as string, { terminalId: visible ? (r.terminal_id as string) : null, since: r.signed_in_at as number });
    }
    const config = this.s.config();
    const limits = new Map((this.s.q('SELECT id, task_limit FROM departments').all() as Row[]).map((r) => [r.id as string, r.task_limit as number | null]));
    const seen = new Set<string>();
    for (const u of users) {
      seen.add(u.id);
      const departmentIds = this.scopedDepartments(scope, u.departmentIds);
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

  private boardTerminal(scope: SupervisorScope, t: ReturnType<typeof terminalFromRow>): BoardTerminal {
    return {
      id: t.id,
      name: t.name,
      departments: this.scopedDepartments(scope, t.departments),
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

  private addTerminals(data: SupervisorPageData, scope: SupervisorScope, terminalIds: readonly string[]): void {
    if (terminalIds.length === 0) return;
    const rows = (this.s.q(`${TERMINAL_SELECT} WHERE t.id ${IN_IDS} ORDER BY t.id`).all(ids(terminalIds)) as Row[]).map(terminalFromRow);
    const seen = new Set<string>();
    for (const t of rows) {
      seen.add(t.id);
      if (scope.all || t.departments.some((d) => scope.departmentIds.includes(d))) data.terminals.push(this.boardTerminal(scope, t));
      else data.removed.terminals.push(t.id);
    }
    for (const id of terminalIds) if (!seen.has(id)) data.removed.terminals.push(id);
  }

  private exceptionsById(scope: SupervisorScope, exceptionIds: readonly string[]): BoardException[] {
    if (exceptionIds.length === 0) return [];
    return (this.s.q(`SELECT * FROM exceptions WHERE id ${IN_IDS} ORDER BY id`).all(JSON.stringify(exceptionIds.map(Number))) as Row[])
      .map(exceptionFromRow)
      .filter((e) => this.inScope(scope, e.departmentId));
  }

  private notificationsById(userId: string, notificationIds: readonly string[]): BoardNotification[] {
    if (notificationIds.length === 0) return [];
    return (this.s.q(`SELECT * FROM notifications WHERE user_id = ? AND id ${IN_IDS} ORDER BY id`).all(userId, JSON.stringify(notificationIds.map(Number))) as Row[]).map(
      notificationFromRow,
    );
  }
}
