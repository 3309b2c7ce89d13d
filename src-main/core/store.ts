/**
 * A terminal's local SQLite store: the cache of its departments (tasks as the server last said,
 * and as the operator sees them with pending local changes applied), the operator directory for
 * offline sign-in, the durable outbox, stored outcomes, conflict records and the session.
 * Synchronous (better-sqlite3); every multi-step change runs in one transaction.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { routeWritesThrough } from '../../src-shared/db/fault-hook.js';
import { findMigrationsDir, loadMigrations, migrate, sqliteMigrationDb } from '../../src-shared/db/migrate.js';
import { jsonColumn, taskFromRow, type Row } from '../../src-shared/db/task-row.js';
import { claimableOrderSql } from '../../src-shared/domain/rules.js';
import type { Department, Role } from '../../src-shared/domain/types.js';
import type { DirectoryUser, LastRejection, SyncTask, TaskAssignmentInfo, TerminalNotification } from '../../src-shared/protocol/terminal.js';

/** The most notifications a kiosk's list holds (NTF-1): its last ones and older unread ones. */
export const NOTIFICATIONS_MOST = 200;

export interface OutboxEntry {
  id: number;
  name: string;
  args: Record<string, unknown>;
  operatorId: string;
  taskId: string | null;
  createdLocal: number;
  /** Made while the terminal was not connected to the server (KIO-5). */
  offline: boolean;
}

export interface ConflictRecord {
  id: number;
  mutationId: number;
  operation: string;
  taskId: string;
  operatorId: string;
  code: string;
  error: unknown;
  taskLabel: string;
  createdLocal: number;
  acknowledgedLocal: number | null;
  /** The refused action had waited offline (KIO-5); otherwise the server refused it while online. */
  offline: boolean;
}

/** A notification as the kiosk keeps it (NTF-1): the server's, with a local read mark. */
export interface StoredNotification extends TerminalNotification {
  /** Read here; the outbox carries it to the server. */
  readLocal: number | null;
}

/** What the claimable list filters, orders and counts by (store.claimableCandidates). */
export interface ClaimableCandidate {
  id: string;
  workOrderId: string;
  workOrderNumber: string;
  step: string;
  departmentId: string;
  priority: number;
  dueAt: number | null;
  /** The cooldowns column as stored, or null when there are none (most tasks). */
  cooldowns: string | null;
}

/** SEC-30: one enrollment, re-enrollment or refused re-enrollment of this terminal. */
export interface EnrollmentAuditRecord {
  id: number;
  at: number;
  outcome: 'applied' | 'refused';
  /** What authorised it: nothing needed (first enrollment), an administrator, the maintenance secret; 'none' for a refusal without either. */
  method: 'first' | 'admin' | 'maintenance_secret' | 'none';
  adminUserId: string | null;
  fromServerUrl: string | null;
  fromTerminalId: string | null;
  toServerUrl: string;
  toTerminalId: string;
  /** A refusal's error code. */
  problem: string | null;
}

const ENROLLMENT_AUDIT_KEPT = 1000;

export interface SessionRecord {
  userId: string;
  signedInLocal: number;
  /** OFF-7: the operator's last activity here (terminal clock); the sign-in time until then. */
  activeLocal?: number;
}

export interface TerminalStoreOptions {
  /** Path to a better_sqlite3.node built for the running runtime (Electron keeps its own). */
  nativeBinding?: string;
  migrationsDir?: string;
  /** FULL (default) fsyncs every commit. Only the in-process simulation, which never loses power, turns it OFF. */
  synchronous?: 'FULL' | 'OFF';
  /** Tests only: route every write statement through `faultHook` (costs a call per write, so off by default). */
  faultHooks?: boolean;
}

/**
 * SEC-33: a terminal's database holds the operator directory (badge and PIN hashes, which can be
 * guessed against offline), its terminal token and what operators did: only the terminal's own
 * user may read it. The files (database, -wal, -shm) are 0600; a folder the store creates is 0700.
 */
export const DATABASE_FILE_MODE = 0o600;
export const DATA_DIR_MODE = 0o700;

/** The database file and SQLite's companions of it. */
export function databaseFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

/** chmod `file` to `mode` unless it has it (or does not exist, or the platform has no modes); never throws. */
function restrictMode(file: string, mode: number): void {
  if (process.platform === 'win32') return;
  try {
    if ((fs.statSync(file).mode & 0o777) !== mode) fs.chmodSync(file, mode);
  } catch {
    // Missing, or a file system without modes: open-core reports a folder or file left readable.
  }
}

/** `migrations/terminal`, found from this file whether it runs from source, out/node or out/main. */
export function terminalMigrationsDir(): string {
  return findMigrationsDir(path.dirname(fileURLToPath(import.meta.url)), 'terminal', { existsSync: fs.existsSync, join: path.join, dirname: path.dirname });
}

const json = jsonColumn;

const TASK_COLUMNS = [
  'id',
  'work_order_id',
  'work_order_number',
  'step',
  'work_content',
  'department_id',
  'status',
  'operator_id',
  'operator_name',
  'priority',
  'due_at',
  'required_skills',
  'version',
  'created_at',
  'updated_at',
  'cooldowns',
  'worked_by',
  'assignment',
  'last_rejection',
] as const;

const PLACEHOLDERS = TASK_COLUMNS.map(() => '?').join(', ');
const UPDATES = TASK_COLUMNS.slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');
// Statements built once: they run for every task of every page. Upserts update rows in place.

/**
 * A task from the server, unless the row holds a newer version (then nothing changes). One for the
 * screen's row (`tasks`), which is the server's word for a task with nothing pending, and one for
 * the separate base row (`tasks_base`) a task with pending outbox entries keeps.
 */
const acceptInto = (table: 'tasks' | 'tasks_base') => `INSERT INTO ${table} (${TASK_COLUMNS.join(', ')}, sync_mark) VALUES (${PLACEHOLDERS}, COALESCE(?, 0))
  ON CONFLICT(id) DO UPDATE SET ${UPDATES}, sync_mark = COALESCE(?, ${table}.sync_mark) WHERE excluded.version >= ${table}.version`;
const ACCEPT_SHOWN = acceptInto('tasks');
const ACCEPT_BASE = acceptInto('tasks_base');
const UPSERT_VISIBLE = `INSERT INTO tasks (${TASK_COLUMNS.join(', ')}) VALUES (${PLACEHOLDERS}) ON CONFLICT(id) DO UPDATE SET ${UPDATES}`;
/** A task's shown row, as the server's word, becomes its separate base row (unless it has one). */
const KEEP_BASE = `INSERT INTO tasks_base (${TASK_COLUMNS.join(', ')}, sync_mark) SELECT ${TASK_COLUMNS.join(', ')}, sync_mark FROM tasks WHERE id = ?
  ON CONFLICT(id) DO NOTHING`;
/** A task's base row shown again as it is, with its snapshot mark (the base row is then dropped). */
const SHOW_SETTLED = `INSERT INTO tasks (${TASK_COLUMNS.join(', ')}, sync_mark) SELECT ${TASK_COLUMNS.join(', ')}, sync_mark FROM tasks_base WHERE id = ?
  ON CONFLICT(id) DO UPDATE SET ${UPDATES}, sync_mark = excluded.sync_mark`;

function syncTaskFromRow(r: Row): SyncTask {
  return {
    ...taskFromRow(r),
    cooldowns: json<Array<{ userId: string; until: number }>>(r.cooldowns, []),
    workedBy: json<string[]>(r.worked_by, []),
    assignment: json<TaskAssignmentInfo | null>(r.assignment, null),
    lastRejection: json<LastRejection | null>(r.last_rejection, null),
  };
}

function taskParams(t: SyncTask): unknown[] {
  return [
    t.id,
    t.workOrderId,
    t.workOrderNumber,
    t.step,
    t.workContent,
    t.departmentId,
    t.status,
    t.operatorId,
    t.operatorName,
    t.priority,
    t.dueAt,
    JSON.stringify(t.requiredSkills),
    t.version,
    t.createdAt,
    t.updatedAt,
    JSON.stringify(t.cooldowns),
    JSON.stringify(t.workedBy),
    t.assignment ? JSON.stringify(t.assignment) : null,
    t.lastRejection ? JSON.stringify(t.lastRejection) : null,
  ];
}

function userFromRow(r: Row): DirectoryUser {
  return {
    id: r.id as string,
    displayName: r.display_name as string,
    badgeHash: (r.badge_hash as string | null) ?? null,
    pinHash: (r.pin_hash as string | null) ?? null,
    roles: json<Role[]>(r.roles, []),
    departmentIds: json<string[]>(r.department_ids, []),
    active: r.active === 1,
    taskLimit: (r.task_limit as number | null) ?? null,
    skills: json<string[]>(r.skills, []),
    activeTasks: json<Record<string, number>>(r.active_tasks, {}),
  };
}

function notificationFromRow(r: Row): StoredNotification {
  return {
    id: r.id as number,
    userId: r.user_id as string,
    event: r.event as StoredNotification['event'],
    taskId: (r.task_id as string | null) ?? null,
    taskLabel: (r.task_label as string | null) ?? null,
    byUserId: (r.by_user_id as string | null) ?? null,
    byName: (r.by_name as string | null) ?? null,
    details: json<StoredNotification['details']>(r.details, {}),
    createdAt: r.created_at as number,
    readAt: (r.read_at as number | null) ?? null,
    readLocal: (r.read_local as number | null) ?? null,
  };
}

export class TerminalStore {
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(
    readonly file: string,
    options: TerminalStoreOptions = {},
  ) {
    const onDisk = file !== ':memory:' && file !== '';
    if (onDisk) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: DATA_DIR_MODE });
      // SEC-33: create the database file 0600 before SQLite opens it (SQLite gives its -wal and
      // -shm files the database file's mode), and tighten files an older version left readable.
      fs.closeSync(fs.openSync(file, 'a', DATABASE_FILE_MODE));
      for (const f of databaseFiles(file)) restrictMode(f, DATABASE_FILE_MODE);
    }
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    try {
      this.db.pragma('journal_mode = WAL');
      if (onDisk) for (const f of databaseFiles(file)) restrictMode(f, DATABASE_FILE_MODE);
      // A claim tap is durable on this terminal before it returns: fsync every commit.
      this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      this.db.pragma('busy_timeout = 5000');
      migrate(sqliteMigrationDb(this.db), loadMigrations(options.migrationsDir ?? terminalMigrationsDir(), fs), file);
    } catch (err) {
      this.db.close();
      throw err;
    }
    if (options.faultHooks) routeWritesThrough(this.db, (sql) => this.faultHook?.(sql));
  }

  /**
   * Tests only (issue 11): called before every write statement. A test that throws from it stops
   * the "process" between two statements, as a crash or a pulled plug would: a transaction in
   * progress rolls back, writes already committed stay. Only with the `faultHooks` option.
   */
  faultHook: ((sql: string) => void) | null = null;

  close(): void {
    if (this.db.open) this.db.close();
  }

  private q(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Run `fn` in one immediate transaction. */
  tx<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  // -------------------------------------------------------------------------------------------
  // Meta (small JSON values)

  meta<T>(key: string, fallback: T): T {
    const v = this.q('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    return v === undefined ? fallback : (JSON.parse(v as string) as T);
  }

  setMeta(key: string, value: unknown): void {
    if (value === undefined || value === null) this.q('DELETE FROM meta WHERE key = ?').run(key);
    else
      this.q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  // -------------------------------------------------------------------------------------------
  // Directory and departments

  userByBadgeHash(hash: string): DirectoryUser | null {
    const r = this.q('SELECT * FROM directory WHERE badge_hash = ?').get(hash) as Row | undefined;
    return r ? userFromRow(r) : null;
  }

  user(id: string): DirectoryUser | null {
    const r = this.q('SELECT * FROM directory WHERE id = ?').get(id) as Row | undefined;
    return r ? userFromRow(r) : null;
  }

  upsertUser(u: DirectoryUser, mark: number | null): void {
    this.q(
      `INSERT INTO directory (id, display_name, badge_hash, pin_hash, roles, department_ids, active, task_limit, skills, active_tasks, sync_mark)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 0))
       ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, badge_hash = excluded.badge_hash, pin_hash = excluded.pin_hash,
         roles = excluded.roles, department_ids = excluded.department_ids, active = excluded.active, task_limit = excluded.task_limit,
         skills = excluded.skills, active_tasks = excluded.active_tasks, sync_mark = COALESCE(?, directory.sync_mark)`,
    ).run(
      u.id,
      u.displayName,
      u.badgeHash,
      u.pinHash,
      JSON.stringify(u.roles),
      JSON.stringify(u.departmentIds),
      u.active ? 1 : 0,
      u.taskLimit,
      JSON.stringify(u.skills),
      JSON.stringify(u.activeTasks),
      mark,
      mark,
    );
  }

  deleteUser(id: string): void {
    this.q('DELETE FROM directory WHERE id = ?').run(id);
  }

  department(id: string): Department | null {
    const r = this.q('SELECT * FROM departments WHERE id = ?').get(id) as Row | undefined;
    return r ? { id: r.id as string, name: r.name as string, taskLimit: (r.task_limit as number | null) ?? null } : null;
  }


  upsertDepartment(d: Department, mark: number | null): void {
    this.q(
      `INSERT INTO departments (id, name, task_limit, sync_mark) VALUES (?, ?, ?, COALESCE(?, 0))
       ON CONFLICT(id) DO UPDATE SET name = excluded.name, task_limit = excluded.task_limit, sync_mark = COALESCE(?, departments.sync_mark)`,
    ).run(d.id, d.name, d.taskLimit, mark, mark);
  }

  /** After a snapshot: drop every cached row the snapshot did not contain. */
  dropUnmarked(mark: number): string[] {
    // The server's word of a task is its base row if it has one, else its shown row.
    const gone = this.q(
      `SELECT id FROM tasks_base WHERE sync_mark <> @mark
       UNION ALL SELECT id FROM tasks WHERE sync_mark <> @mark AND id NOT IN (SELECT id FROM tasks_base)`,
    )
      .pluck()
      .all({ mark }) as string[];
    if (gone.length > 0) {
      const ids = JSON.stringify(gone);
      this.q('DELETE FROM tasks_base WHERE id IN (SELECT value FROM json_each(?))').run(ids);
      this.q('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))').run(ids);
    }
    this.q('DELETE FROM directory WHERE sync_mark <> ?').run(mark);
    this.q('DELETE FROM departments WHERE sync_mark <> ?').run(mark);
    // Notifications the snapshot no longer carries (read long ago), unless a read mark waits to be sent.
    this.q('DELETE FROM notifications WHERE sync_mark <> ? AND NOT (read_local IS NOT NULL AND read_at IS NULL)').run(mark);
    return gone;
  }

  // -------------------------------------------------------------------------------------------
  // Tasks: the server's word (base) and what is shown (base + pending local changes).
  //
  // Issue 12: a page's task is written once. `tasks` holds every task as shown; for a task with no
  // outbox entry waiting (nearly all) that row is also the server's word. A task with entries
  // waiting keeps the server's word apart in `tasks_base` (taken from its shown row just before the
  // first local change is shown, `keepBase`), until its last entry is answered (`settleTask`).

  /** The server's last word of a task: its base row if it has one, else its shown row. */
  baseTask(id: string): SyncTask | null {
    const r = (this.q('SELECT * FROM tasks_base WHERE id = ?').get(id) ?? this.q('SELECT * FROM tasks WHERE id = ?').get(id)) as Row | undefined;
    return r ? syncTaskFromRow(r) : null;
  }

  task(id: string): SyncTask | null {
    const r = this.q('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return r ? syncTaskFromRow(r) : null;
  }

  /** Whether the task keeps a base row apart from its shown row. */
  hasBaseRow(id: string): boolean {
    return this.q('SELECT 1 FROM tasks_base WHERE id = ?').get(id) !== undefined;
  }

  /**
   * Take `t` as the server's word, unless that holds a newer version. `pending`: the task has outbox
   * entries waiting, so the word goes to its base row (the caller rebuilds what is shown); otherwise
   * straight to the shown row. With a snapshot's `mark`, the row is marked as seen either way.
   */
  acceptServerWord(t: SyncTask, mark: number | null, pending: boolean): void {
    if (pending) this.keepBase(t.id);
    const table = pending ? 'tasks_base' : 'tasks';
    const taken = this.q(pending ? ACCEPT_BASE : ACCEPT_SHOWN).run(...taskParams(t), mark, mark).changes > 0;
    if (!taken && mark !== null) this.q(`UPDATE ${table} SET sync_mark = ? WHERE id = ?`).run(mark, t.id);
  }

  /**
   * SYNC-3: the cached tasks came from another server, whose versions mean nothing to the one now
   * enrolled with: every row, shown or kept as the server's word, takes version -1, so the new
   * server's snapshot replaces each (a row the old server had changed more often than the new one
   * kept the old one's state), and rows it does not send are dropped at its end as usual.
   */
  discountTaskVersions(): void {
    this.q('UPDATE tasks SET version = -1').run();
    this.q('UPDATE tasks_base SET version = -1').run();
  }

  /** The task (at `version`) is no longer the terminal's: its server word and its shown row go. */
  forgetTask(id: string, version: number): void {
    // Unless the terminal has a newer word of it (a late page: the task has come back since).
    const kept = this.q('SELECT version FROM tasks_base WHERE id = ?').pluck().get(id) as number | undefined;
    if (kept !== undefined) {
      if (kept > version) return;
      this.q('DELETE FROM tasks_base WHERE id = ?').run(id);
      this.q('DELETE FROM tasks WHERE id = ?').run(id);
    } else {
      this.q('DELETE FROM tasks WHERE id = ? AND version <= ?').run(id, version);
    }
  }

  /** Before a local change is shown: keep the shown row, the server's word, as the base row (unless there is one). */
  keepBase(id: string): void {
    this.q(KEEP_BASE).run(id);
  }

  /** No entry waits for the task any more: show the server's word and drop the base row kept for it. */
  settleTask(id: string): void {
    if (this.q(SHOW_SETTLED).run(id).changes > 0) this.q('DELETE FROM tasks_base WHERE id = ?').run(id);
  }

  writeTask(t: SyncTask): void {
    this.q(UPSERT_VISIBLE).run(...taskParams(t));
  }

  deleteTask(id: string): void {
    this.q('DELETE FROM tasks WHERE id = ?').run(id);
  }

  /** CAP-2 over the visible cache. */
  activeCount(userId: string): number {
    return this.q(`SELECT COUNT(*) FROM tasks WHERE operator_id = ? AND status IN ('pending', 'in_progress')`).pluck().get(userId) as number;
  }

  /** XSTEP-1 over the visible cache: steps of the work order this user holds or worked on. */
  workedSteps(userId: string, workOrderId: string): string[] {
    return this.q(
      `SELECT DISTINCT step FROM tasks WHERE work_order_id = ? AND EXISTS (SELECT 1 FROM json_each(tasks.worked_by) w WHERE w.value = ?)`,
    )
      .pluck()
      .all(workOrderId, userId) as string[];
  }

  /**
   * LIST-1 pre-filter, lean: the few fields the claimable list filters, orders and counts by, for
   * every free pending task of these departments in claimable order, read raw (no object, no JSON
   * per row: 10,000 tasks in a few tens of ms). Full rows are read only for the rows shown.
   */
  claimableCandidates(departmentIds: readonly string[]): ClaimableCandidate[] {
    return (this.q(
      `SELECT id, work_order_id, work_order_number, step, department_id, priority, due_at, cooldowns FROM tasks
       WHERE status = 'pending' AND operator_id IS NULL AND department_id IN (SELECT value FROM json_each(?))
       ORDER BY ${claimableOrderSql()}`,
    )
      .raw()
      .all(JSON.stringify(departmentIds)) as unknown[][]).map((r) => ({
      id: r[0] as string,
      workOrderId: r[1] as string,
      workOrderNumber: r[2] as string,
      step: r[3] as string,
      departmentId: r[4] as string,
      priority: r[5] as number,
      dueAt: (r[6] as number | null) ?? null,
      cooldowns: r[7] === '[]' ? null : (r[7] as string),
    }));
  }

  /** The searchable text of free pending tasks of these departments (id, work order, step, work content), lower case. */
  claimableText(departmentIds: readonly string[]): Map<string, string> {
    return new Map(
      this.q(
        `SELECT id, lower(id || ' ' || work_order_number || ' ' || step || ' ' || work_content) FROM tasks
         WHERE status = 'pending' AND operator_id IS NULL AND department_id IN (SELECT value FROM json_each(?))`,
      )
        .raw()
        .all(JSON.stringify(departmentIds)) as Array<[string, string]>,
    );
  }

  /** Full rows of these tasks, in the order given (the rows a list shows). */
  tasksByIds(ids: readonly string[]): SyncTask[] {
    if (ids.length === 0) return [];
    const byId = new Map(
      (this.q('SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[]).map((r) => [r.id as string, syncTaskFromRow(r)]),
    );
    return ids.map((id) => byId.get(id)).filter((t): t is SyncTask => t !== undefined);
  }

  /** Work orders with the steps this user worked on (for LIST-1's exclusion filter). */
  workedStepsByWorkOrder(userId: string): Map<string, string[]> {
    const map = new Map<string, string[]>();
    for (const r of this.q(
      `SELECT work_order_id, step FROM tasks WHERE EXISTS (SELECT 1 FROM json_each(tasks.worked_by) w WHERE w.value = ?)`,
    ).all(userId) as Row[]) {
      const list = map.get(r.work_order_id as string) ?? [];
      list.push(r.step as string);
      map.set(r.work_order_id as string, list);
    }
    return map;
  }

  /** KIO-1: every held task of these departments (what a supervisor at a kiosk looks at). */
  heldTasks(departmentIds: readonly string[]): SyncTask[] {
    return (this.q(
      `SELECT * FROM tasks WHERE operator_id IS NOT NULL AND status IN ('pending', 'in_progress') AND department_id IN (SELECT value FROM json_each(?))
       ORDER BY operator_name, ${claimableOrderSql()}`,
    ).all(JSON.stringify(departmentIds)) as Row[]).map(syncTaskFromRow);
  }

  /** The task whose id is `id`, ignoring case (a scanned code may come in another case). */
  taskByCode(code: string): SyncTask | null {
    const r = (this.q('SELECT * FROM tasks WHERE id = ?').get(code) ?? this.q('SELECT * FROM tasks WHERE id = ? COLLATE NOCASE').get(code)) as Row | undefined;
    return r ? syncTaskFromRow(r) : null;
  }

  /** Tasks of a work order by its number, ignoring case. */
  tasksOfWorkOrder(number: string): SyncTask[] {
    return (this.q(`SELECT * FROM tasks WHERE work_order_number = ? COLLATE NOCASE ORDER BY ${claimableOrderSql()}`).all(number) as Row[]).map(syncTaskFromRow);
  }

  tasksOf(userId: string): SyncTask[] {
    return (this.q(
      `SELECT * FROM tasks WHERE operator_id = ? AND status IN ('pending', 'in_progress') ORDER BY (status = 'in_progress') DESC, ${claimableOrderSql()}`,
    ).all(userId) as Row[]).map(syncTaskFromRow);
  }


  // -------------------------------------------------------------------------------------------
  // Outbox and outcomes

  nextMutationId(): number {
    const next = this.meta<number>('nextMutationId', 1);
    this.setMeta('nextMutationId', next + 1);
    return next;
  }

  appendOutbox(e: Omit<OutboxEntry, 'id'>): number {
    const id = this.nextMutationId();
    this.q('INSERT INTO outbox (id, name, args, operator_id, task_id, created_local, offline) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      id,
      e.name,
      JSON.stringify(e.args),
      e.operatorId,
      e.taskId,
      e.createdLocal,
      e.offline ? 1 : 0,
    );
    return id;
  }

  private outboxFromRow(r: Row): OutboxEntry {
    return {
      id: r.id as number,
      name: r.name as string,
      args: json<Record<string, unknown>>(r.args, {}),
      operatorId: r.operator_id as string,
      taskId: (r.task_id as string | null) ?? null,
      createdLocal: r.created_local as number,
      offline: r.offline === 1,
    };
  }

  outbox(afterId = 0, limit = 1_000_000): OutboxEntry[] {
    return (this.q('SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as Row[]).map((r) => this.outboxFromRow(r));
  }

  outboxEntry(id: number): OutboxEntry | null {
    const r = this.q('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
    return r ? this.outboxFromRow(r) : null;
  }

  outboxForTask(taskId: string): OutboxEntry[] {
    return (this.q('SELECT * FROM outbox WHERE task_id = ? ORDER BY id').all(taskId) as Row[]).map((r) => this.outboxFromRow(r));
  }

  pendingTaskIds(): Set<string> {
    return new Set(this.q('SELECT DISTINCT task_id FROM outbox WHERE task_id IS NOT NULL').pluck().all() as string[]);
  }

  outboxSize(): number {
    return this.q('SELECT COUNT(*) FROM outbox').pluck().get() as number;
  }

  firstOutboxId(): number | null {
    return (this.q('SELECT MIN(id) FROM outbox').pluck().get() as number | null) ?? null;
  }


  deleteOutbox(id: number): void {
    this.q('DELETE FROM outbox WHERE id = ?').run(id);
  }


  recordOutcome(o: { mutationId: number; name: string; taskId: string | null; operatorId: string; status: 'applied' | 'rejected'; result: unknown; receivedLocal: number }): void {
    this.q(
      `INSERT OR IGNORE INTO outcomes (mutation_id, name, task_id, operator_id, status, result, received_local) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(o.mutationId, o.name, o.taskId, o.operatorId, o.status, JSON.stringify(o.result), o.receivedLocal);
  }

  outcome(mutationId: number): { status: 'applied' | 'rejected'; result: unknown } | null {
    const r = this.q('SELECT status, result FROM outcomes WHERE mutation_id = ?').get(mutationId) as Row | undefined;
    return r ? { status: r.status as 'applied' | 'rejected', result: json(r.result, null) } : null;
  }

  outcomeCount(): number {
    return this.q('SELECT COUNT(*) FROM outcomes').pluck().get() as number;
  }

  /** Outcomes and acknowledged conflicts are kept a while for diagnosis, then dropped. */
  pruneOutcomes(beforeLocal: number): void {
    this.q('DELETE FROM outcomes WHERE received_local < ?').run(beforeLocal);
    this.q('DELETE FROM conflicts WHERE acknowledged_local < ?').run(beforeLocal);
  }

  /**
   * Make every queued mutation's id, and the next one, greater than `lastProcessed` (the server's
   * last processed id for this terminal), keeping their order. Only for a database none of whose
   * queued ids the server can have processed: one not yet welcomed under this terminal id (it has
   * sent nothing), or one the server has heard from less recently than from another database under
   * this id (its lastMutationId is at or past this one's next id: a restored backup, a clone).
   */
  numberOutboxAfter(lastProcessed: number): void {
    const first = this.firstOutboxId();
    const shift = first !== null && first <= lastProcessed ? lastProcessed + 1 - first : 0;
    if (shift > 0) {
      // Two steps, so no id collides with another while they move.
      this.q('UPDATE outbox SET id = -(id + ?)').run(shift);
      this.q('UPDATE outbox SET id = -id').run();
    }
    const next = this.meta<number>('nextMutationId', 1) + shift;
    this.setMeta('nextMutationId', Math.max(next, lastProcessed + 1));
  }

  /**
   * Move the queued mutations with ids up to `upTo` behind every other one (new ids from
   * nextMutationId on, in their order), so the server's outcomes for their old ids match nothing.
   * Returns how many moved.
   */
  moveOutboxToEnd(upTo: number): number {
    const ids = this.q('SELECT id FROM outbox WHERE id <= ? ORDER BY id').pluck().all(upTo) as number[];
    let next = Math.max(this.meta<number>('nextMutationId', 1), ((this.q('SELECT MAX(id) FROM outbox').pluck().get() as number | null) ?? 0) + 1);
    for (const id of ids) this.q('UPDATE outbox SET id = ? WHERE id = ?').run(next++, id);
    this.setMeta('nextMutationId', next);
    return ids.length;
  }

  // -------------------------------------------------------------------------------------------
  // Conflicts

  addConflict(c: Omit<ConflictRecord, 'id' | 'acknowledgedLocal'>): ConflictRecord {
    const info = this.q(
      `INSERT OR IGNORE INTO conflicts (mutation_id, task_id, operator_id, code, error, task_label, created_local, offline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.mutationId, c.taskId, c.operatorId, c.code, JSON.stringify({ operation: c.operation, error: c.error }), c.taskLabel, c.createdLocal, c.offline ? 1 : 0);
    const id = info.changes ? Number(info.lastInsertRowid) : (this.q('SELECT id FROM conflicts WHERE mutation_id = ?').pluck().get(c.mutationId) as number);
    return this.conflict(id)!;
  }

  private conflictFromRow(r: Row): ConflictRecord {
    const payload = json<{ operation: string; error: unknown }>(r.error, { operation: 'claim', error: null });
    return {
      id: r.id as number,
      mutationId: r.mutation_id as number,
      operation: payload.operation,
      taskId: r.task_id as string,
      operatorId: r.operator_id as string,
      code: r.code as string,
      error: payload.error,
      taskLabel: r.task_label as string,
      createdLocal: r.created_local as number,
      acknowledgedLocal: (r.acknowledged_local as number | null) ?? null,
      offline: r.offline === 1,
    };
  }

  conflict(id: number): ConflictRecord | null {
    const r = this.q('SELECT * FROM conflicts WHERE id = ?').get(id) as Row | undefined;
    return r ? this.conflictFromRow(r) : null;
  }

  openConflicts(operatorId?: string): ConflictRecord[] {
    const rows = operatorId
      ? (this.q('SELECT * FROM conflicts WHERE acknowledged_local IS NULL AND operator_id = ? ORDER BY id').all(operatorId) as Row[])
      : (this.q('SELECT * FROM conflicts WHERE acknowledged_local IS NULL ORDER BY id').all() as Row[]);
    return rows.map((r) => this.conflictFromRow(r));
  }

  allConflicts(): ConflictRecord[] {
    return (this.q('SELECT * FROM conflicts ORDER BY id').all() as Row[]).map((r) => this.conflictFromRow(r));
  }

  acknowledgeConflict(id: number, now: number): boolean {
    return this.q('UPDATE conflicts SET acknowledged_local = ? WHERE id = ? AND acknowledged_local IS NULL').run(now, id).changes === 1;
  }

  // -------------------------------------------------------------------------------------------
  // Notifications (NTF-1, NTF-2)

  /** Take the server's notification; a local read mark stays until the server has it too. Returns true when it is new here. */
  upsertNotification(n: TerminalNotification, mark: number | null): boolean {
    const known = this.q('SELECT 1 FROM notifications WHERE id = ?').get(n.id) !== undefined;
    this.q(
      `INSERT INTO notifications (id, user_id, event, task_id, task_label, by_user_id, by_name, details, created_at, read_at, sync_mark)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 0))
       ON CONFLICT(id) DO UPDATE SET read_at = excluded.read_at, task_label = COALESCE(excluded.task_label, notifications.task_label),
         sync_mark = COALESCE(?, notifications.sync_mark)`,
    ).run(n.id, n.userId, n.event, n.taskId, n.taskLabel, n.byUserId, n.byName, JSON.stringify(n.details), n.createdAt, n.readAt, mark, mark);
    return !known;
  }

  /**
   * The user's newest `limit` notifications and every older unread one, newest first (unread first
   * is the screen's business), at most `most` in all: the screen counts and can read the unread
   * ones (NTF-1), and an operator who never opens the bell is not sent thousands.
   */
  notificationsOf(userId: string, limit: number, most = NOTIFICATIONS_MOST): StoredNotification[] {
    return (
      this.q(
        `SELECT * FROM notifications WHERE user_id = ?
           AND ((read_at IS NULL AND read_local IS NULL) OR id >= COALESCE((SELECT id FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0))
         ORDER BY id DESC LIMIT ?`,
      ).all(userId, userId, limit - 1, Math.max(limit, most)) as Row[]
    ).map(notificationFromRow);
  }

  unreadNotifications(userId: string): number {
    return this.q('SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL AND read_local IS NULL').pluck().get(userId) as number;
  }

  /** Mark these of the user's notifications read here; returns the ids that were unread. */
  markNotificationsRead(userId: string, ids: readonly number[] | null, now: number): number[] {
    const unread = (ids === null
      ? this.q('SELECT id FROM notifications WHERE user_id = ? AND read_at IS NULL AND read_local IS NULL').pluck().all(userId)
      : this.q('SELECT id FROM notifications WHERE user_id = ? AND read_at IS NULL AND read_local IS NULL AND id IN (SELECT value FROM json_each(?))')
          .pluck()
          .all(userId, JSON.stringify(ids))) as number[];
    for (const id of unread) this.q('UPDATE notifications SET read_local = ? WHERE id = ?').run(now, id);
    return unread;
  }

  /** The server refused a read mark (NTF-2): these are unread here again, as they are there. */
  unmarkNotificationsRead(ids: readonly number[]): void {
    this.q('UPDATE notifications SET read_local = NULL WHERE read_at IS NULL AND id IN (SELECT value FROM json_each(?))').run(JSON.stringify(ids));
  }

  /**
   * Read notifications made before `before` (server time) and read before `readBefore` (or read on
   * the server: the terminal's clock), as the kiosk shows a short list: dropped.
   */
  pruneNotifications(before: number, readBefore = before): void {
    this.q('DELETE FROM notifications WHERE created_at < ? AND (read_at IS NOT NULL OR (read_local IS NOT NULL AND read_local < ?))').run(before, readBefore);
  }

  // -------------------------------------------------------------------------------------------
  // Failed PINs (KIO-2): they survive a restart

  pinFailures(badgeHash: string): { failures: number; lockedUntil: number | null } | null {
    const r = this.q('SELECT failures, locked_until FROM pin_failures WHERE badge_hash = ?').get(badgeHash) as Row | undefined;
    return r ? { failures: r.failures as number, lockedUntil: (r.locked_until as number | null) ?? null } : null;
  }

  setPinFailures(badgeHash: string, state: { failures: number; lockedUntil: number | null } | null): void {
    if (!state) this.q('DELETE FROM pin_failures WHERE badge_hash = ?').run(badgeHash);
    else
      this.q(
        `INSERT INTO pin_failures (badge_hash, failures, locked_until) VALUES (?, ?, ?)
         ON CONFLICT(badge_hash) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
      ).run(badgeHash, state.failures, state.lockedUntil);
  }

  // -------------------------------------------------------------------------------------------
  // Enrollment audit (SEC-30)

  recordEnrollment(e: Omit<EnrollmentAuditRecord, 'id'>): void {
    this.q(
      `INSERT INTO enrollment_audit (at, outcome, method, admin_user_id, from_server_url, from_terminal_id, to_server_url, to_terminal_id, problem)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.at, e.outcome, e.method, e.adminUserId, e.fromServerUrl, e.fromTerminalId, e.toServerUrl, e.toTerminalId, e.problem);
    this.q('DELETE FROM enrollment_audit WHERE id <= (SELECT MAX(id) FROM enrollment_audit) - ?').run(ENROLLMENT_AUDIT_KEPT);
  }

  /** The newest first. */
  enrollmentAudit(limit = 100): EnrollmentAuditRecord[] {
    const rows = this.q('SELECT * FROM enrollment_audit ORDER BY id DESC LIMIT ?').all(limit) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as number,
      outcome: r.outcome as EnrollmentAuditRecord['outcome'],
      method: r.method as EnrollmentAuditRecord['method'],
      adminUserId: (r.admin_user_id as string | null) ?? null,
      fromServerUrl: (r.from_server_url as string | null) ?? null,
      fromTerminalId: (r.from_terminal_id as string | null) ?? null,
      toServerUrl: r.to_server_url as string,
      toTerminalId: r.to_terminal_id as string,
      problem: (r.problem as string | null) ?? null,
    }));
  }

  /**
   * PROTO-13, CLM-13: the terminal's clock jumped by `ms` (a correction of a wrong clock): every
   * time kept in the terminal's clock moves with it, so what was stored before the jump reads in
   * the clock as it is now (a claim queued a minute ago is a minute old, not ten hours).
   */
  shiftLocalTimes(ms: number): void {
    this.q('UPDATE outbox SET created_local = created_local + ?').run(ms);
    this.q('UPDATE session SET signed_in_local = signed_in_local + ?, active_local = active_local + ?').run(ms, ms);
    this.q('UPDATE pin_failures SET locked_until = locked_until + ? WHERE locked_until IS NOT NULL').run(ms);
    this.q('UPDATE conflicts SET created_local = created_local + ?, acknowledged_local = acknowledged_local + ?').run(ms, ms);
    this.q('UPDATE outcomes SET received_local = received_local + ?').run(ms);
    this.q('UPDATE notifications SET read_local = read_local + ? WHERE read_local IS NOT NULL').run(ms);
    const lastSyncAt = this.meta<number | null>('lastSyncAt', null);
    if (lastSyncAt !== null) this.setMeta('lastSyncAt', lastSyncAt + ms);
    this.setMeta('serverOffsetMs', this.meta<number>('serverOffsetMs', 0) - ms);
  }

  // -------------------------------------------------------------------------------------------
  // Session

  session(): SessionRecord | null {
    const r = this.q('SELECT user_id, signed_in_local, active_local FROM session WHERE slot = 1').get() as Row | undefined;
    if (!r) return null;
    const signedInLocal = r.signed_in_local as number;
    return { userId: r.user_id as string, signedInLocal, activeLocal: (r.active_local as number | null) ?? signedInLocal };
  }

  setSession(s: SessionRecord | null): void {
    if (!s) this.q('DELETE FROM session WHERE slot = 1').run();
    else
      this.q(
        `INSERT INTO session (slot, user_id, signed_in_local, active_local) VALUES (1, ?, ?, ?)
         ON CONFLICT(slot) DO UPDATE SET user_id = excluded.user_id, signed_in_local = excluded.signed_in_local, active_local = excluded.active_local`,
      ).run(s.userId, s.signedInLocal, s.activeLocal ?? s.signedInLocal);
  }

  /** OFF-7: the signed-in operator was active at `at` (terminal clock). */
  touchSession(at: number): void {
    this.q('UPDATE session SET active_local = ? WHERE slot = 1').run(at);
  }
}
