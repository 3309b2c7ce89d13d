/**
 * The SQLite backend of the server store (better-sqlite3, WAL, synchronous=FULL).
 *
 * All writes of the claim engine go through `runGroup`: one `BEGIN IMMEDIATE ... COMMIT` (one
 * fsync) around many units, each in its own savepoint. Units are generators (engine/ports.ts)
 * answered synchronously here, so nothing is awaited while the transaction is open.
 */
import type Database from 'better-sqlite3';
import { DEFAULT_SITE_CONFIG, siteConfigSchema, type SiteConfig } from '../../../src-shared/domain/config.js';
import { randomHex } from '../../../src-shared/crypto/hash.js';
import type { Row } from '../../../src-shared/db/task-row.js';
import { claimableOrderSql, type Effect, type OperatorFacts } from '../../../src-shared/domain/rules.js';
import {
  DEFAULT_SUPERVISION_SETTINGS,
  epochDay,
  performanceScore,
  supervisionSettingsSchema,
  type SupervisionSettings,
} from '../../../src-shared/domain/supervision.js';
import {
  ACTIVE_ASSIGNMENT_STATUSES,
  isActiveTaskStatus,
  type Assignment,
  type AssignmentStatus,
  type Department,
  type Role,
  type Task,
} from '../../../src-shared/domain/types.js';
import type { BoardException, BoardNotification } from '../../../src-shared/protocol/supervisor.js';
import type {
  DirectoryUser,
  LastRejection,
  MutationOutcome,
  OperatorNotificationEvent,
  SyncTask,
  TaskAssignmentInfo,
  TerminalNotification,
} from '../../../src-shared/protocol/terminal.js';
import {
  runSync,
  terminalAuditDepartment,
  type AuditEntry,
  type Eng,
  type GroupResult,
  type NewException,
  type TaskFactsRow,
  type TerminalState,
  type TxOps,
  type UnitHint,
} from '../../engine/ports.js';
import { NotRun } from '../../engine/units.js';
import type {
  ApiTokenRecord,
  AuditFilter,
  GroupPace,
  AuditRecord,
  ChangeData,
  ChangesPage,
  ExceptionFilter,
  HandshakeRecord,
  ImportResult,
  ImportRowError,
  ImportTaskRow,
  NewUser,
  OfflineAlert,
  Page,
  ServerStore,
  SignInFailureState,
  SnapshotPage,
  SnapshotPosition,
  StoreStats,
  SupervisorChangesPage,
  SupervisorScope,
  SupervisorSnapshotPage,
  SupervisorSnapshotPosition,
  TaskFilter,
  TerminalRecord,
  UserPatch,
  UserRecord,
  RevokeReason,
} from '../types.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { openServerDatabase, type OpenOptions } from './open.js';
import {
  ACTIVE_ASSIGNMENT_SQL,
  ASSIGNMENT_INFO,
  assignmentInfo,
  auditFromRow,
  isOperatorEvent,
  mayHaveOverview,
  notificationDetails,
  OPERATOR_EVENTS_SQL,
  READ_NOTIFICATIONS_KEPT_MS,
  REJECTION_INFO,
  rejectionInfo,
  taskLabelOf,
  departmentFromRow,
  departmentsInIdOrder,
  directoryUser,
  exceptionFromRow,
  json,
  NO_DEPARTMENT,
  notificationFromRow,
  RECENT_FINISHED_MS,
  route,
  TASK_BY_ID,
  TASK_COLUMNS_SELECT,
  TERMINAL_SELECT,
  terminalFromRow,
  TERMINAL_STATE,
  terminalStateFromRaw,
  LATEST_ASSIGNMENT,
  USER_SELECT,
  userFromRow,
  userParams,
  WORKED_BY,
  WORKED_SQL,
  WORKED_STEPS,
  workedSql,
  outcomeToStore,
  storedOutcomeFromRow,
  taskIdsOf,
  withTasksNow,
  taskFromRaw,
} from './rows.js';
import { SUPERVISOR_RECENT_MS, SupervisorReads } from './supervisor-reads.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { routeWritesThrough } from '../../../src-shared/db/fault-hook.js';
import { Line, loopBudget } from '../../slices.js';
import { WalFlusher } from './flush.js';
import { ImportThread } from './import-thread.js';
import { changeProblem, importRowError, outOfScope } from '../../../src-shared/domain/import-problems.js';
import { ReadThread, THREAD_READS, type ThreadRead } from './read-thread.js';
import { Lanes } from '../../threads.js';

/** Every method of the store interface but `close`: what the durability gate wraps (flush.ts). */
const GATED_METHODS = Object.keys({
  runGroup: 0, getConfig: 0, setConfig: 0, siteSalt: 0, upsertDepartment: 0, listDepartments: 0, createUser: 0, updateUser: 0, getUser: 0,
  findUserByBadgeHash: 0, listUsers: 0, createTerminal: 0, updateTerminal: 0, getTerminal: 0, listTerminals: 0, recordHandshake: 0,
  touchTerminals: 0, recordDisconnect: 0, resetConnections: 0, disconnectStale: 0, holdTimerLease: 0, alertOfflineTerminals: 0, getSupervision: 0, setSupervision: 0, markPerformanceDay: 0,
  supervisorChangesPage: 0, supervisorSnapshotPage: 0, listExceptions: 0, getException: 0, acknowledgeException: 0,
  markNotificationsRead: 0, searchAudit: 0, createApiToken: 0, findApiTokenWithUser: 0, getApiToken: 0, revokeApiToken: 0, listApiTokens: 0,
  revokeOldestSessions: 0, pruneAuth: 0, getSignInFailures: 0, setSignInFailures: 0, audit: 0, listAudit: 0, importTasks: 0, getTask: 0,
  listTasks: 0, listClaimable: 0, listAssignments: 0, listNotifications: 0, outcomesAfter: 0, headSeq: 0, prunedThroughSeq: 0,
  changesPage: 0, snapshotPage: 0, pruneChanges: 0, stats: 0, backup: 0,
} satisfies Record<Exclude<keyof ServerStore, 'backend' | 'sharedByInstances' | 'groupLanes' | 'groupsHoldTheLoop' | 'pagesHoldTheLoop' | 'watchHead' | 'watchAccounts' | 'close'>, 0>);

/**
 * How long kiosks' snapshots count as overlapping after they last did (snapshotsOnTheirThread): a
 * kiosk asks for its next page within a few hundred ms, so a storm's gaps are shorter than this,
 * and a kiosk that joins alone afterwards is read at normal priority again.
 */
const SNAPSHOTS_OVERLAP_MS = 5_000;

/** Imports up to this many rows run in one synchronous transaction (a few milliseconds). */
const SMALL_IMPORT_ROWS = 500;

/** The tasks that show a user as their holder on boards and kiosks: open ones, and those finished since `?`. */
const HELD_TASKS_SQL = `SELECT id, department_id FROM tasks WHERE operator_id = ? AND (status IN ('draft', 'pending', 'in_progress') OR updated_at > ?) ORDER BY id`;

interface ImportAcc {
  errors: ImportRowError[];
  created: number;
  updated: number;
  workOrders: Set<string>;
}

/** The server's database file in its data folder. */
export const DATABASE_FILE = 'claims.db';

export class SqliteServerStore implements ServerStore {
  readonly backend = 'sqlite';
  /** One server process owns the database file (a second one is refused at open). */
  readonly sharedByInstances = false;
  /**
   * One writer: one group at a time runs, synchronously on the event loop. Where commits are
   * flushed off the loop, the next group runs while the last one's flush is on the disk (two in
   * flight: one running, one being made durable; issue 12); else one at a time.
   */
  get groupLanes(): number {
    return this.flusher ? 2 : 1;
  }
  readonly groupsHoldTheLoop = true;
  readonly db: Database.Database;
  private readonly ops: TxOps;
  private changed = new Set<string>();
  private configCache: SiteConfig | null = null;
  private supervisionCache: SupervisionSettings | null = null;
  private readonly supervisorReads: SupervisorReads;
  private readonly stmt = new Map<string, Database.Statement>();

  /**
   * SEC-9: a large import writes on a thread of its own, through its own connection, in one
   * transaction (import-thread.ts); meanwhile this connection's writes wait for `writeGate` (its
   * readers go on, seeing the last committed state).
   */
  private writeGate: Promise<void> | null = null;
  /**
   * Tests only (issue 11): called before every write statement. The simulation throws from it to
   * kill the server between two statements, mid-group, with nothing committed after. Only with
   * the `faultHooks` option.
   */
  faultHook: ((sql: string) => void) | null = null;
  private importThread: ImportThread | null = null;

  constructor(
    readonly file: string,
    private readonly options: OpenOptions = {},
  ) {
    this.db = openServerDatabase(file, options);
    if (options.faultHooks) routeWritesThrough(this.db, (sql) => this.faultHook?.(sql));
    this.ensureSettings();
    this.ops = this.makeOps();
    this.supervisorReads = new SupervisorReads({ q: (sql) => this.q(sql), config: () => this.readConfig(), supervision: () => this.readSupervision() });
    if ((options.flushOffLoop ?? true) && (options.synchronous ?? 'FULL') === 'FULL') {
      this.db.pragma('synchronous = NORMAL');
      this.flusher = new WalFlusher(`${file}-wal`, options.flushFile);
      this.gate(this.flusher);
    }
  }

  /** Set when commits are flushed off the event loop (flush.ts). */
  private flusher: WalFlusher | null = null;
  /**
   * The line of store calls (slices.ts): once this turn of the event loop has spent its budget,
   * calls wait, and go in in the order they came (commit groups first). Before, every call that
   * had waited for a flush ran as soon as it was done, all in one turn: after an import, 200
   * kiosks' page reads, the supervisors' and a commit group held the loop for 300-500 ms.
   */
  line: Line | null = null;
  /** `total_changes()` when the WAL was last flushed: more since means something waits to be made durable. */
  private flushedChanges = 0;

  /**
   * Durable before visible: a store method answers only once all it may have read is durable, and
   * one that wrote anything flushes before it resolves (so its caller, and the clients it answers,
   * are told only what is durable). Calls do not wait for a flush to go in (issue 12): a commit
   * group runs while the last one's flush is on the disk and may build on its writes, and a read
   * may see them; flushes run in order (WalFlusher), so the flush asked for last when a call ends
   * covers all it could have seen. (Before, every call waited for the flush to go in, so groups
   * ran one after the other with the disk's time between, and the next group waited for it.)
   */
  private gate(flusher: WalFlusher): void {
    const changes = this.db.prepare('SELECT total_changes()').pluck();
    this.flushedChanges = changes.get() as number;
    // Issue 12: calls go in within the loop's budget per turn, in the order they came.
    const line = new Line(loopBudget);
    this.line = line;
    /** Settles once everything committed so far is durable (or its flush failed: the writer was told). */
    const durable = () => flusher.pending?.catch(() => {});
    for (const name of GATED_METHODS) {
      const method = (this as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
      const onLoop = async (...args: unknown[]) => {
        // A commit group first: kiosks wait for its answers; page reads are background sync.
        const turn = line.enter(name === 'runGroup');
        const wentIn = turn !== null;
        if (turn) await turn;
        let flushed: Promise<void> | null = null;
        const flushedAtEntry = this.flushedChanges;
        const flushIfWrote = (always: boolean) => {
          if (!this.db.open) return; // closed meanwhile: the call itself says so
          const now = changes.get() as number;
          if (now !== this.flushedChanges || always) {
            this.flushedChanges = now;
            flushed = flusher.flush();
          } else if (this.flushedChanges !== flushedAtEntry && flusher.pending) {
            // A flush another call started since this one went in may have counted this one's
            // writes (both waited for an import): it must end before this one answers.
            flushed = flusher.pending;
          }
        };
        let running: Promise<unknown>;
        try {
          running = method.apply(this, args);
          // What the call wrote before its first await is flushed before the next in line goes in.
          flushIfWrote(false);
        } finally {
          line.next(wentIn);
        }
        const result = await running;
        // An import also writes through its own connection, which this one does not count.
        flushIfWrote(name === 'importTasks');
        // Its own writes: its flush. What it read may be others' writes still on their way to the
        // disk: the last flush asked for ends after them.
        await (flushed ?? durable());
        return result;
      };
      (this as unknown as Record<string, unknown>)[name] = (THREAD_READS as readonly string[]).includes(name)
        ? async (...args: unknown[]) => {
            const thread = this.readThread;
            if (!thread) return onLoop(...args);
            // Read on the thread, not in line (it holds no loop); handed on once all it could
            // show is durable: the last flush asked for when its answer came has ended (a commit
            // asks for its flush in the turn it commits in, so none it could see is later).
            const method = name as ThreadRead;
            const onThread = () => thread.read(method, args, () => onLoop(...args));
            const snapshots = this.snapshotThread;
            const page = await (method === 'snapshotPage' && snapshots && this.snapshotsOnTheirThread(thread, snapshots) ? snapshots.read(method, args, onThread) : onThread());
            await durable();
            return page;
          }
        : onLoop;
    }
  }

  /**
   * The kiosks' snapshot thread's CPU priority (Linux nice; 0 is normal): it reads on what the
   * commits, the live pages and the overviews leave, so 60 kiosks taking snapshots at once slow
   * none of them.
   */
  static readonly SNAPSHOT_THREAD_NICE = 10;

  /** Page reads on a thread of their own (read-thread.ts), once started; null: on the event loop. */
  private readThread: ReadThread | null = null;
  /**
   * Kiosks' snapshot pages on a second thread, once kiosks take snapshots at the same time (a
   * restart, a shift's start). On one thread, while 60 kiosks took snapshots, an overview's every
   * page waited for a kiosk's page read before it: the overview's board took 1.6 s to appear
   * instead of 0.9 s. A kiosk that takes its snapshot alone (one page read ahead at most) is read
   * on the first thread, at normal priority, and the second thread is not started for it.
   */
  private snapshotThread: ReadThread | null = null;
  /**
   * Until when (performance.now()) kiosks' snapshots count as overlapping: SNAPSHOTS_OVERLAP_MS
   * after a kiosk's snapshot page was last asked while another's was still owed, by either thread.
   * Not just while one is owed: where the loop's sends are the bottleneck the pages are read ahead
   * and seldom owed, and a storm's pages went to the first thread half the time (the overview's
   * board: median 1.42 s against 1.27 s).
   */
  private snapshotsOverlapUntil = 0;

  /** Whether a kiosk's snapshot page goes to the snapshot thread (which starts at the first one it gets). */
  private snapshotsOnTheirThread(first: ReadThread, snapshots: ReadThread): boolean {
    const now = performance.now();
    if (first.owes('snapshotPage') > 0 || snapshots.owes('snapshotPage') > 0) this.snapshotsOverlapUntil = now + SNAPSHOTS_OVERLAP_MS;
    return now < this.snapshotsOverlapUntil;
  }

  /**
   * Read terminals' and supervisors' pages on a thread of their own from now on (the running
   * server does; issue 12). Only where commits are flushed off the loop (the server's default):
   * that flusher is what tells when a page the thread read is durable, and a store without it (the
   * sync simulation's virtual time, tests at `NORMAL`) keeps reading on the loop.
   */
  startReadThread(onLost?: (why: string) => void): void {
    if (!this.flusher || this.readThread) return;
    this.readThread = new ReadThread({ file: this.file }, onLost);
    this.readThread.warm();
    this.snapshotThread = new ReadThread({ file: this.file, nice: SqliteServerStore.SNAPSHOT_THREAD_NICE }, (why) => onLost?.(`kiosks' snapshot thread: ${why}`), { snapshotsOnly: true });
  }

  /** The read thread, if started (tests: whether it is ready, what it answered). */
  get pageReadThread(): ReadThread | null {
    return this.readThread;
  }

  /** The kiosks' snapshot thread, if started (tests). */
  get snapshotReadThread(): ReadThread | null {
    return this.snapshotThread;
  }

  /** Whether a page read runs on the event loop now (the hubs then keep pages to about SLICE_MS of reading). */
  get pagesHoldTheLoop(): boolean {
    return !this.readThread?.takesReads;
  }

  /**
   * The read thread's side (read-worker.ts): one page read, from one snapshot of the database. A
   * page is several statements (a range of the change log per department, merged, then the rows
   * they name); on the loop nothing could commit between them, but on another connection a commit
   * could land between two, and a page would end past a change it never read. In one read
   * transaction they all see the same commit. The caches are checked first: a commit after that
   * check and before the snapshot only makes the next check drop them.
   */
  async readOnThread(method: ThreadRead, args: unknown[]): Promise<unknown> {
    if (!(THREAD_READS as readonly string[]).includes(method)) throw new Error(`not a page read: ${String(method)}`);
    this.revalidateCaches();
    this.q('BEGIN').run();
    try {
      return await (this[method] as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } finally {
      this.q('COMMIT').run();
    }
  }

  private q(sql: string): Database.Statement {
    let s = this.stmt.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmt.set(sql, s);
    }
    return s;
  }

  private ensureSettings(): void {
    const get = (key: string) => this.q('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined;
    const put = this.db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)');
    if (get('config') === undefined) put.run('config', JSON.stringify(DEFAULT_SITE_CONFIG));
    if (get('site_salt') === undefined) put.run('site_salt', JSON.stringify(randomHex(16)));
    if (get('pruned_through_seq') === undefined) put.run('pruned_through_seq', '0');
    if (get('supervision') === undefined) put.run('supervision', JSON.stringify(DEFAULT_SUPERVISION_SETTINGS));
  }

  private setting<T>(key: string): T {
    return JSON.parse(this.q('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string) as T;
  }

  private putSetting(key: string, value: unknown): void {
    this.q('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      key,
      JSON.stringify(value),
    );
  }

  private checkpointer: Checkpointer | null = null;

  /** Run WAL checkpoints on a background thread from now on (the running server does). */
  startBackgroundCheckpoints(intervalMs = 1000, onError?: (message: string) => void): void {
    this.checkpointer ??= startCheckpointer(this.db, this.file, intervalMs, onError);
  }

  async close(): Promise<void> {
    if (this.writeGate) await this.writable();
    // Calls still waiting in line (a disconnect recorded as the server stops) run before the close.
    while (this.line && this.line.length > 0) await loopBudget.nextTurn();
    await this.checkpointer?.stop();
    this.checkpointer = null;
    await this.importThread?.close();
    this.importThread = null;
    await this.snapshotThread?.close();
    this.snapshotThread = null;
    await this.readThread?.close();
    this.readThread = null;
    while (this.flusher?.pending) await this.flusher.pending.catch(() => {});
    this.flusher?.close();
    if (this.db.open) this.db.close();
  }

  /** Wait until no import holds the write lock (SEC-9). Call as `if (this.writeGate) await this.writable()`. */
  private async writable(): Promise<void> {
    while (this.writeGate) await this.writeGate;
  }

  // -------------------------------------------------------------------------------------------
  // Change log

  private logChange(entity: string, entityId: string, departmentId: string, now: number): void {
    this.q('INSERT INTO changes (entity, entity_id, department_id, at) VALUES (?, ?, ?, ?)').run(entity, entityId, departmentId, now);
    this.changed.add(departmentId);
  }

  private logTask(taskId: string, departmentIds: ReadonlyArray<string | null>, now: number): void {
    for (const d of new Set(departmentIds.map((x) => x ?? NO_DEPARTMENT))) this.logChange('task', taskId, d, now);
  }

  private logUser(userId: string, departmentIds: readonly string[], now: number): void {
    for (const d of new Set(departmentIds)) this.logChange('user', userId, d, now);
  }

  /** What the current engine unit already logged for supervisors (cleared per unit, like its savepoint). */
  private readonly unitLogged = new Set<string>();

  private logOnce(entity: string, entityId: string, key: string, now: number): void {
    const k = `${entity}\u0000${entityId}\u0000${key}`;
    if (this.unitLogged.has(k)) return;
    this.unitLogged.add(k);
    this.logChange(entity, entityId, key, now);
  }

  /** An operator's load, performance or presence changed: their supervisors' pages show it (SUP-3). */
  private logPerson(userId: string | null, now: number): void {
    if (!userId) return;
    for (const d of this.readUser(userId)?.departmentIds ?? []) this.logOnce('person', userId, route.supervisors(d), now);
  }

  /** A terminal's state changed (connection, outbox, who is signed in): its supervisors' pages show it. */
  private logTerminal(terminalId: string, departments: readonly string[], now: number): void {
    for (const d of new Set(departments)) this.logOnce('terminal', terminalId, route.supervisors(d), now);
  }

  private terminalDepartments(terminalId: string): string[] {
    return json<string[]>(this.q('SELECT departments FROM terminals WHERE id = ?').pluck().get(terminalId), []);
  }

  private logException(id: number, departmentId: string | null, now: number): void {
    this.logChange('exception', String(id), departmentId ? route.supervisors(departmentId) : route.allSupervisors, now);
  }

  /**
   * Store a notification. Operators' news goes to the kiosks of their departments (NTF-1), unless
   * it is `read` already (they saw it happen); supervisors' to their overview pages, as does all news
   * of a user who may have one (SUP-1: a lead who also works tasks; their own claim, made read, went
   * to no page, though a fresh view of it shows it).
   */
  private insertNotification(
    n: { userId: string; event: string; taskId: string | null; byUserId: string | null; details: Record<string, unknown> },
    now: number,
    to: { read?: boolean; overview?: boolean },
  ): void {
    const info = this.q('INSERT INTO notifications (user_id, event, task_id, by_user_id, created_at, details, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      n.userId,
      n.event,
      n.taskId,
      n.byUserId,
      now,
      JSON.stringify(n.details),
      to.read ? now : null,
    );
    const id = String(info.lastInsertRowid);
    if (to.overview || mayHaveOverview(this.readUser(n.userId))) this.logChange('notification', id, route.user(n.userId), now);
    if (!to.read && isOperatorEvent(n.event)) this.logToKiosks('notification', id, n.userId, null, now);
  }

  /**
   * Log a change of a user's own data for the kiosks of their departments (a terminal's directory
   * holds its departments' users), except `exceptDepartment`, whose kiosks learn it another way.
   */
  private logToKiosks(entity: string, entityId: string, userId: string, exceptDepartment: string | null, now: number): void {
    for (const d of this.readUser(userId)?.departmentIds ?? []) if (d !== exceptDepartment) this.logOnce(entity, entityId, d, now);
  }

  /**
   * A department's active members with a role, in id order, kept until a user changes: its
   * supervisors (told of each release or rejection, SUP-5) and its operators (auto-assign weighs
   * them all, once a slice: 200 slices for 1,000 tasks). Read each time, the query went through
   * the department's 500 members: 1-2 ms for the supervisors, 4-6 ms for the operators' records.
   */
  private activeMembers(departmentId: string, role: 'supervisor' | 'operator'): UserRecord[] {
    const key = `${role}\u0000${departmentId}`;
    let users = this.memberCache.get(key);
    if (!users) {
      users = (
        this.q(
          `${USER_SELECT} WHERE u.id IN (SELECT user_id FROM user_departments WHERE department_id = ?) AND u.active = 1
           AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = ?) ORDER BY u.id`,
        ).all(departmentId, role) as Row[]
      ).map(userFromRow);
      this.memberCache.set(key, users);
    }
    return users;
  }

  private readonly memberCache = new Map<string, UserRecord[]>();

  /** The ids of a department's active supervisors (SUP-5 tells them). */
  private supervisorsOf(departmentId: string): string[] {
    return this.activeMembers(departmentId, 'supervisor').map((u) => u.id);
  }

  /** A user was written: who belongs to which department, with which role, may have changed. */
  private forgetMembers(): void {
    this.memberCache.clear();
  }

  /**
   * SUP-4: a task that found a new holder (or was cancelled) no longer waits for a supervisor:
   * its open rejected/expired exceptions are resolved, naming what happened and who did it.
   */
  private resolveTaskExceptions(taskId: string, resolution: string, byUserId: string | null, now: number): void {
    const open = this.q(
      `SELECT id, department_id FROM exceptions WHERE task_id = ? AND acknowledged_at IS NULL AND kind IN ('task_rejected', 'assignment_expired')`,
    ).all(taskId) as Row[];
    for (const r of open) {
      this.q('UPDATE exceptions SET acknowledged_at = ?, acknowledged_by = ?, resolution = ? WHERE id = ?').run(now, byUserId, resolution, r.id);
      this.logException(r.id as number, (r.department_id as string | null) ?? null, now);
    }
  }

  private insertException(e: NewException, now: number): void {
    const departmentId = this.unitTasks.get(e.taskId)?.departmentId ?? (this.q('SELECT department_id FROM tasks WHERE id = ?').pluck().get(e.taskId) as string | null | undefined) ?? null;
    const info = this.q(
      `INSERT INTO exceptions (kind, task_id, department_id, user_id, user_name, holder_id, holder_name, terminal_id, operation, error_code, reason, waited_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.kind,
      e.taskId,
      departmentId,
      e.userId,
      e.userId ? (this.readUser(e.userId)?.displayName ?? null) : null,
      e.holder?.id ?? null,
      e.holder?.name ?? null,
      e.terminalId,
      e.operation,
      e.errorCode,
      e.reason,
      e.waitedMs === null ? null : Math.round(e.waitedMs),
      now,
    );
    this.logException(Number(info.lastInsertRowid), departmentId, now);
  }

  // -------------------------------------------------------------------------------------------
  // Engine operations (synchronous, inside the group transaction)

  /**
   * The tasks the group's units answered with (syncTask), by id: each is "the task as it is now",
   * so all of them are read once, as the group leaves them, just before its commit.
   */
  private readonly groupSyncTasks = new Map<string, SyncTask[]>();
  /** The group's time (every unit of a group runs at the same `now`). */
  private groupSyncNow = 0;

  /**
   * Each task's row as the group has left it so far, for the tasks its units wrote (a unit rolled
   * back puts back what it replaced: `unitUndo`). A task the group did not write is as it was read.
   */
  private readonly groupTasks = new Map<string, Task>();
  private readonly unitUndo = new Map<string, Task | undefined>();

  private noteTaskWritten(task: Task): void {
    if (!this.unitUndo.has(task.id)) this.unitUndo.set(task.id, this.groupTasks.get(task.id));
    this.groupTasks.set(task.id, task);
  }

  private undoUnitTasks(): void {
    for (const [id, before] of this.unitUndo) {
      if (before) this.groupTasks.set(id, before);
      else this.groupTasks.delete(id);
    }
    this.unitUndo.clear();
  }

  private fillSyncTasks(now: number): void {
    if (this.groupSyncTasks.size === 0) return;
    const complete = this.syncExtras([...this.groupSyncTasks.keys()], now);
    for (const [id, answers] of this.groupSyncTasks) {
      const latest = this.groupTasks.get(id);
      for (const answer of answers) Object.assign(answer, complete(latest ?? answer));
    }
  }

  /** Tasks read or written by the current engine unit (cleared per unit), so nothing is read twice. */
  private readonly unitTasks = new Map<string, Task>();

  private readTask(id: string): Task | null {
    const r = this.q(TASK_BY_ID).raw().get(id) as unknown[] | undefined;
    return r ? taskFromRaw(r) : null;
  }

  /**
   * Users and departments change rarely and are read by every mutation: cached, dropped on every
   * write through this store, and all of them (with the config) when another connection (the admin
   * CLI) has committed since we last looked (`PRAGMA data_version`).
   */
  private dataVersion = -1;

  private revalidateCaches(): void {
    // A prepared statement: `db.pragma()` prepares its statement anew on every call (1 % of the
    // server's time at a plant's load, where every commit group and page read asks).
    const v = this.q('PRAGMA data_version').pluck().get() as number;
    if (v !== this.dataVersion) {
      this.dataVersion = v;
      this.userCache.clear();
      this.departmentCache.clear();
      this.tokenCache.clear();
      this.forgetMembers();
      this.configCache = null;
      this.supervisionCache = null;
    }
  }

  private readonly userCache = new Map<string, UserRecord | null>();
  private readonly departmentCache = new Map<string, Department | null>();

  private readUser(id: string): UserRecord | null {
    let u = this.userCache.get(id);
    if (u === undefined) {
      const r = this.q(`${USER_SELECT} WHERE u.id = ?`).get(id) as Row | undefined;
      u = r ? userFromRow(r) : null;
      if (this.userCache.size > 10_000) this.userCache.clear();
      if (u) this.userCache.set(id, u);
    }
    return u;
  }

  private readDepartment(id: string): Department | null {
    let d = this.departmentCache.get(id);
    if (d === undefined) {
      const r = this.q('SELECT * FROM departments WHERE id = ?').get(id) as Row | undefined;
      d = r ? departmentFromRow(r) : null;
      if (d) this.departmentCache.set(id, d);
    }
    return d;
  }

  private readConfig(): SiteConfig {
    if (!this.configCache) this.configCache = siteConfigSchema.parse(this.setting('config'));
    return this.configCache;
  }

  private readSupervision(): SupervisionSettings {
    if (!this.supervisionCache) this.supervisionCache = supervisionSettingsSchema.parse(this.setting('supervision'));
    return this.supervisionCache;
  }

  private loadSyncTasks(ids: readonly string[], now: number): SyncTask[] {
    if (ids.length === 0) return [];
    const rows = this.q(`${TASK_COLUMNS_SELECT} WHERE t.id IN (SELECT value FROM json_each(?)) ORDER BY t.id`).raw().all(JSON.stringify(ids)) as unknown[][];
    const complete = this.syncExtras(ids, now);
    return rows.map((r) => complete(taskFromRaw(r)));
  }

  /** What terminals get with each task besides its row: cooldowns, who worked it, its assignment, its last rejection. */
  private syncExtras(ids: readonly string[], now: number): (task: Task) => SyncTask {
    const list = JSON.stringify(ids);
    const cooldowns = new Map<string, Array<{ userId: string; until: number }>>();
    for (const c of this.q('SELECT task_id, user_id, until FROM cooldowns WHERE task_id IN (SELECT value FROM json_each(?)) AND until > ? ORDER BY task_id, user_id').all(
      list,
      now,
    ) as Row[]) {
      const arr = cooldowns.get(c.task_id as string) ?? [];
      arr.push({ userId: c.user_id as string, until: c.until as number });
      cooldowns.set(c.task_id as string, arr);
    }
    const worked = new Map<string, string[]>();
    for (const w of this.q(
      `SELECT DISTINCT task_id, user_id FROM assignments WHERE task_id IN (SELECT value FROM json_each(?)) AND ${WORKED_SQL} ORDER BY user_id`,
    ).all(list) as Row[]) {
      const arr = worked.get(w.task_id as string) ?? [];
      arr.push(w.user_id as string);
      worked.set(w.task_id as string, arr);
    }
    const assignments = new Map<string, TaskAssignmentInfo>();
    for (const a of this.q(`${ASSIGNMENT_INFO} WHERE a.task_id IN (SELECT value FROM json_each(?)) AND a.status IN ${ACTIVE_ASSIGNMENT_SQL}`).all(list) as Row[]) {
      assignments.set(a.task_id as string, assignmentInfo(a));
    }
    const rejections = new Map<string, LastRejection>();
    for (const a of this.q(`${REJECTION_INFO} WHERE a.task_id IN (SELECT value FROM json_each(?)) AND a.status = 'rejected' ORDER BY a.id`).all(list) as Row[]) {
      rejections.set(a.task_id as string, rejectionInfo(a));
    }
    // Field by field, not `...t`: a page copies a thousand of these.
    return (t) => ({
      id: t.id,
      workOrderId: t.workOrderId,
      workOrderNumber: t.workOrderNumber,
      step: t.step,
      workContent: t.workContent,
      departmentId: t.departmentId,
      status: t.status,
      operatorId: t.operatorId,
      operatorName: t.operatorName,
      priority: t.priority,
      dueAt: t.dueAt,
      requiredSkills: t.requiredSkills,
      version: t.version,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      cooldowns: cooldowns.get(t.id) ?? [],
      workedBy: worked.get(t.id) ?? [],
      assignment: assignments.get(t.id) ?? null,
      lastRejection: rejections.get(t.id) ?? null,
    });
  }

  /** One task as sent to terminals (the common case of loadSyncTasks, without json_each). */
  private loadSyncTask(id: string, now: number): SyncTask | null {
    const task = this.unitTasks.get(id) ?? this.readTask(id);
    if (!task) return null;
    const cooldowns = (this.q('SELECT user_id, until FROM cooldowns WHERE task_id = ? AND until > ? ORDER BY user_id').all(id, now) as Row[]).map((c) => ({
      userId: c.user_id as string,
      until: c.until as number,
    }));
    const workedBy = [...new Set(this.q(WORKED_BY).pluck().all(id) as string[])].sort();
    const a = this.q(`${ASSIGNMENT_INFO} WHERE a.task_id = ? AND a.status IN ${ACTIVE_ASSIGNMENT_SQL}`).get(id) as Row | undefined;
    const rj = this.q(`${REJECTION_INFO} WHERE a.task_id = ? AND a.status = 'rejected' ORDER BY a.id DESC LIMIT 1`).get(id) as Row | undefined;
    return { ...task, cooldowns, workedBy, assignment: a ? assignmentInfo(a) : null, lastRejection: rj ? rejectionInfo(rj) : null };
  }

  private loadDirectoryUsers(ids: readonly string[]): DirectoryUser[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    // CAP-3: each user's active tasks per department, plant-wide.
    const held = new Map<string, Record<string, number>>();
    for (const r of this.q(
      `SELECT operator_id, COALESCE(department_id, '') AS d, COUNT(*) AS n FROM tasks
       WHERE operator_id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'in_progress') GROUP BY operator_id, department_id`,
    ).all(list) as Row[]) {
      const m = held.get(r.operator_id as string) ?? {};
      m[r.d as string] = r.n as number;
      held.set(r.operator_id as string, m);
    }
    return (this.q(`${USER_SELECT} WHERE u.id IN (SELECT value FROM json_each(?)) ORDER BY u.id`).all(list) as Row[])
      .map(userFromRow)
      .map((u) => directoryUser(u, held.get(u.id) ?? {}));
  }

  /** NTF-1: notifications as kiosks show them, with the task's label and who acted. */
  private loadTerminalNotifications(ids: readonly string[]): TerminalNotification[] {
    if (ids.length === 0) return [];
    return (this.q(
      `SELECT n.*, b.display_name AS by_name, wo.number AS wo_number, t.step, t.work_content
       FROM notifications n
       LEFT JOIN users b ON b.id = n.by_user_id
       LEFT JOIN tasks t ON t.id = n.task_id
       LEFT JOIN work_orders wo ON wo.id = t.work_order_id
       WHERE n.id IN (SELECT value FROM json_each(?)) ORDER BY n.id`,
    ).all(JSON.stringify(ids.map(Number))) as Row[])
      .filter((r) => isOperatorEvent(r.event as string))
      .map((r) => ({
        id: r.id as number,
        userId: r.user_id as string,
        event: r.event as OperatorNotificationEvent,
        taskId: (r.task_id as string | null) ?? null,
        taskLabel: taskLabelOf(r.wo_number, r.step, r.work_content),
        byUserId: (r.by_user_id as string | null) ?? null,
        byName: (r.by_name as string | null) ?? null,
        details: notificationDetails(json<Record<string, unknown>>(r.details, {})),
        createdAt: r.created_at as number,
        readAt: (r.read_at as number | null) ?? null,
      }));
  }

  private applyEffect(e: Effect, now: number): void {
    switch (e.kind) {
      case 'task': {
        const known = this.unitTasks.get(e.taskId) ?? this.readTask(e.taskId);
        if (!known) throw new Error(`task ${e.taskId} does not exist`);
        const info = this.q('UPDATE tasks SET operator_id = ?, status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?').run(
          e.operatorId,
          e.status,
          e.version,
          now,
          e.taskId,
          e.version - 1,
        );
        if (info.changes !== 1) throw new Error(`task ${e.taskId} changed under the engine (expected version ${e.version - 1})`);
        this.logTask(e.taskId, [known.departmentId], now);
        // SUP-3: a holder who lost the task has a new load; supervisors' pages are told. (The load of
        // the task's holder now, and their record, travel with the task's own change.)
        if (known.operatorId !== null && known.operatorId !== e.operatorId) this.logPerson(known.operatorId, now);
        // CAP-3: a holder whose count of active tasks changed: kiosks of their other departments
        // are told (a kiosk of the task's department counts from the task itself).
        const heldBefore = isActiveTaskStatus(known.status) ? known.operatorId : null;
        const heldAfter = isActiveTaskStatus(e.status) ? e.operatorId : null;
        if (heldBefore !== heldAfter) {
          if (heldBefore) this.logToKiosks('user', heldBefore, heldBefore, known.departmentId, now);
          if (heldAfter) this.logToKiosks('user', heldAfter, heldAfter, known.departmentId, now);
        }
        if (e.status === 'cancelled') this.resolveTaskExceptions(e.taskId, 'cancelled', null, now);
        const after: Task = { ...known, operatorId: e.operatorId, operatorName: e.operatorName, status: e.status, version: e.version, updatedAt: now };
        this.unitTasks.set(e.taskId, after);
        this.noteTaskWritten(after);
        return;
      }
      case 'assignment.open': {
        const workOrderId =
          this.unitTasks.get(e.taskId)?.workOrderId ?? (this.q('SELECT work_order_id FROM tasks WHERE id = ?').pluck().get(e.taskId) as string);
        this.q(
          `INSERT INTO assignments (task_id, user_id, step, work_order_id, status, assigned_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(e.taskId, e.userId, e.step, workOrderId, e.status, e.assignedBy, now, now);
        this.resolveTaskExceptions(e.taskId, e.assignedBy === e.userId ? 'claimed' : 'assigned', e.assignedBy, now);
        return;
      }
      case 'assignment.update': {
        const ended = ACTIVE_ASSIGNMENT_STATUSES.includes(e.status) ? null : now;
        const info = this.q(
          `UPDATE assignments SET status = ?, reason = COALESCE(?, reason), updated_at = ?,
             started_at = CASE WHEN ? = 'in_progress' THEN ? ELSE started_at END,
             ended_at = ?
           WHERE task_id = ? AND user_id = ? AND status IN ${ACTIVE_ASSIGNMENT_SQL}`,
        ).run(e.status, e.reason, now, e.status, now, ended, e.taskId, e.userId);
        if (info.changes !== 1) throw new Error(`no active assignment of ${e.userId} on ${e.taskId}`);
        if (e.status === 'submitted' || e.status === 'rejected' || e.status === 'expired') {
          // PERF-1: the operator's history, one row per day.
          this.q(
            `INSERT INTO operator_daily (user_id, day, ${e.status}) VALUES (?, ?, 1)
             ON CONFLICT(user_id, day) DO UPDATE SET ${e.status} = ${e.status} + 1`,
          ).run(e.userId, epochDay(now));
        }
        return;
      }
      case 'cooldown':
        this.q(
          'INSERT INTO cooldowns (task_id, user_id, until) VALUES (?, ?, ?) ON CONFLICT(task_id, user_id) DO UPDATE SET until = excluded.until',
        ).run(e.taskId, e.userId, e.until);
        return;
      case 'notify':
        this.insertNotification({ userId: e.userId, event: e.event, taskId: e.taskId, byUserId: e.byUserId, details: e.details ?? {} }, now, { read: e.read === true });
        return;
      case 'exception':
        this.insertException(
          { kind: e.exception, taskId: e.taskId, userId: e.userId, holder: null, terminalId: null, operation: null, errorCode: null, reason: e.reason, waitedMs: null },
          now,
        );
        return;
      case 'notifySupervisors':
        for (const userId of this.supervisorsOf(e.departmentId)) {
          this.insertNotification(
            { userId, event: e.event, taskId: e.taskId, byUserId: e.byUserId, details: { departmentId: e.departmentId, ...(e.reason ? { reason: e.reason } : {}) } },
            now,
            { overview: true },
          );
        }
        return;
    }
  }

  private writeAudit(entry: AuditEntry, now: number): void {
    // SUP-6: an event about a task is filed under the task's department, so supervisors find it; one
    // at a terminal without a task (a sign-in) under the terminal's department its actor is in.
    const departmentId = entry.taskId
      ? (this.unitTasks.get(entry.taskId)?.departmentId ?? (this.q('SELECT department_id FROM tasks WHERE id = ?').pluck().get(entry.taskId) as string | null | undefined) ?? null)
      : entry.terminalId
        ? terminalAuditDepartment(this.terminalDepartments(entry.terminalId), entry.actorId ? this.readUser(entry.actorId)?.departmentIds : undefined)
        : null;
    this.q(
      `INSERT INTO audit_events (at, action, outcome, actor_id, terminal_id, via, task_id, details, department_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(now, entry.action, entry.outcome, entry.actorId, entry.terminalId, entry.via, entry.taskId, JSON.stringify(entry.details), departmentId);
  }

  private makeOps(): TxOps {
    return {
      config: () => this.readConfig(),
      storedOutcome: (terminalId, mutationId) => {
        const r = this.q('SELECT outcome, task_id FROM mutation_outcomes WHERE terminal_id = ? AND mutation_id = ?').get(terminalId, mutationId) as Row | undefined;
        return r === undefined ? null : storedOutcomeFromRow(r);
      },
      terminalState: (terminalId): TerminalState | null => {
        const r = this.q(TERMINAL_STATE).raw().get(terminalId) as unknown[] | undefined;
        return r ? terminalStateFromRaw(terminalId, r) : null;
      },
      user: (userId) => this.readUser(userId),
      taskFacts: (taskId): TaskFactsRow => {
        const task = this.readTask(taskId);
        if (task) this.unitTasks.set(taskId, task);
        // The task's latest assignment: the holder's (ACC-1), or a rejection nothing followed yet (NTF-3).
        const latest = task
          ? (this.q(LATEST_ASSIGNMENT).get(taskId) as Row | undefined)
          : undefined;
        const status = latest?.status as AssignmentStatus | undefined;
        return {
          task,
          department: task?.departmentId ? this.readDepartment(task.departmentId) : null,
          owner: task?.operatorId ? { id: task.operatorId, name: task.operatorName ?? task.operatorId } : null,
          holderAssignment:
            status && ACTIVE_ASSIGNMENT_STATUSES.includes(status) && latest!.user_id === task?.operatorId
              ? { status, assignedBy: latest!.assigned_by as string }
              : null,
          rejection:
            status === 'rejected'
              ? { userId: latest!.user_id as string, userName: this.readUser(latest!.user_id as string)?.displayName ?? String(latest!.user_id), awaiting: true }
              : null,
        };
      },
      // One writer: nobody else is deciding about the operator.
      operatorFactsUnlessBusy: (userId, task): OperatorFacts => this.ops.operatorFacts(userId, task),
      operatorFacts: (userId, task): OperatorFacts => ({
        userId,
        user: this.readUser(userId),
        activeCount: this.q(`SELECT COUNT(*) FROM tasks WHERE operator_id = ? AND status IN ('pending', 'in_progress')`).pluck().get(userId) as number,
        cooldownUntil: task
          ? ((this.q('SELECT until FROM cooldowns WHERE task_id = ? AND user_id = ?').pluck().get(task.id, userId) as number | undefined) ?? null)
          : null,
        workedSteps: task
          ? [...new Set(this.q(WORKED_STEPS).pluck().all(userId, task.workOrderId) as string[])]
          : [],
      }),
      operatorFactsMany: (userIds, task): OperatorFacts[] => {
        if (userIds.length === 0) return [];
        const list = JSON.stringify(userIds);
        const active = new Map<string, number>();
        for (const r of this.q(
          `SELECT operator_id, COUNT(*) AS n FROM tasks WHERE operator_id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'in_progress') GROUP BY operator_id`,
        ).all(list) as Row[]) {
          active.set(r.operator_id as string, r.n as number);
        }
        const cooldowns = new Map<string, number>();
        const worked = new Map<string, Set<string>>();
        if (task) {
          // The task's cooldowns and its work order's assignments are a few rows each: read them by
          // task and work order, not by probing for each of hundreds of operators (only theirs are
          // looked up below).
          for (const r of this.q('SELECT user_id, until FROM cooldowns WHERE task_id = ?').all(task.id) as Row[]) {
            cooldowns.set(r.user_id as string, r.until as number);
          }
          for (const r of this.q(`SELECT user_id, step FROM assignments WHERE work_order_id = ? AND ${WORKED_SQL} ORDER BY id`).all(task.workOrderId) as Row[]) {
            const steps = worked.get(r.user_id as string) ?? new Set<string>();
            steps.add(r.step as string);
            worked.set(r.user_id as string, steps);
          }
        }
        return userIds.map((userId) => ({
          userId,
          user: this.readUser(userId),
          activeCount: active.get(userId) ?? 0,
          cooldownUntil: cooldowns.get(userId) ?? null,
          workedSteps: [...(worked.get(userId) ?? [])],
        }));
      },
      applyEffects: (effects, now) => {
        for (const e of effects) this.applyEffect(e, now);
      },
      setPresence: (terminalId, userId, now) => {
        const before = (this.q('SELECT user_id FROM presence WHERE terminal_id = ?').pluck().get(terminalId) as string | undefined) ?? null;
        if (userId === null) this.q('DELETE FROM presence WHERE terminal_id = ?').run(terminalId);
        else
          this.q(
            `INSERT INTO presence (terminal_id, user_id, signed_in_at) VALUES (?, ?, ?)
             ON CONFLICT(terminal_id) DO UPDATE SET user_id = excluded.user_id, signed_in_at = excluded.signed_in_at`,
          ).run(terminalId, userId, now);
        // SUP-3: who is where.
        this.logTerminal(terminalId, this.terminalDepartments(terminalId), now);
        this.logPerson(before, now);
        if (userId !== before) this.logPerson(userId, now);
      },
      recordException: (e, now) => this.insertException(e, now),
      readNotifications: (userId, ids, now) => this.readNotifications(userId, ids, now, true),
      recordOutcome: (terminalId, mutationId, name, outcome, now) => {
        const stored = outcomeToStore(outcome);
        this.q('INSERT INTO mutation_outcomes (terminal_id, mutation_id, name, outcome, task_id, processed_at) VALUES (?, ?, ?, ?, ?, ?)').run(
          terminalId,
          mutationId,
          name,
          stored.outcome,
          stored.taskId,
          now,
        );
        this.q('UPDATE terminals SET last_mutation_id = MAX(last_mutation_id, ?) WHERE id = ?').run(mutationId, terminalId);
      },
      audit: (entry, now) => this.writeAudit(entry, now),
      syncTask: (taskId, now) => {
        // The task's own row now (what the unit goes on to read: holder, status); its synced
        // extras (cooldowns, who worked it, assignment, last rejection) are filled in for the whole
        // group at its end with one read (fillSyncTasks) instead of four statements per mutation.
        const task = this.unitTasks.get(taskId) ?? this.readTask(taskId);
        if (!task) return null;
        const synced: SyncTask = { ...task, cooldowns: [], workedBy: [], assignment: null, lastRejection: null };
        this.groupSyncNow = now;
        const list = this.groupSyncTasks.get(taskId);
        if (list) list.push(synced);
        else this.groupSyncTasks.set(taskId, [synced]);
        return synced;
      },
      unstartedAssignments: (createdBefore, limit) =>
        (this.q(
          `SELECT task_id, user_id, status, created_at, started_at FROM assignments
           WHERE status IN ('assigned', 'accepted') AND created_at <= ? ORDER BY created_at LIMIT ?`,
        ).all(createdBefore, limit) as Row[]).map((r) => ({
          taskId: r.task_id as string,
          userId: r.user_id as string,
          status: r.status as 'assigned' | 'accepted',
          createdAt: r.created_at as number,
          startedAt: (r.started_at as number | null) ?? null,
        })),
      unassignedTasks: (departmentId, limit, exclude) =>
        (exclude.length === 0
          ? (this.q(
              `${TASK_COLUMNS_SELECT} WHERE t.department_id = ? AND t.status = 'pending' AND t.operator_id IS NULL
               ORDER BY ${claimableOrderSql('t')} LIMIT ?`,
            )
              .raw()
              .all(departmentId, limit) as unknown[][])
          : (this.q(
              `${TASK_COLUMNS_SELECT} WHERE t.department_id = ? AND t.status = 'pending' AND t.operator_id IS NULL
                 AND t.id NOT IN (SELECT value FROM json_each(?))
               ORDER BY ${claimableOrderSql('t')} LIMIT ?`,
            )
              .raw()
              .all(departmentId, JSON.stringify(exclude), limit) as unknown[][])
        ).map(taskFromRaw),
      departmentOperators: (departmentId, now) => this.withPerformance(now, this.activeMembers(departmentId, 'operator')),
      pickerOperators: (departmentIds, now) =>
        this.withPerformance(now, 
          (departmentIds === null
            ? (this.q(`${USER_SELECT} WHERE EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'operator') ORDER BY u.id`).all() as Row[])
            : (this.q(
                `${USER_SELECT} WHERE EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id IN (SELECT value FROM json_each(?)))
                 AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'operator') ORDER BY u.id`,
              ).all(JSON.stringify(departmentIds)) as Row[])
          ).map(userFromRow),
        ),
      roundRobinLast: (departmentId, step) =>
        (this.q('SELECT last_user_id FROM round_robin WHERE department_id = ? AND step = ?').pluck().get(departmentId, step) as
          | string
          | undefined) ?? null,
      setRoundRobinLast: (departmentId, step, userId) => {
        this.q(
          `INSERT INTO round_robin (department_id, step, last_user_id) VALUES (?, ?, ?)
           ON CONFLICT(department_id, step) DO UPDATE SET last_user_id = excluded.last_user_id`,
        ).run(departmentId, step, userId);
      },
    };
  }

  /** PERF-1: each user's performance over the configured window replaces the starting score they carry. */
  private withPerformance(now: number, users: UserRecord[]): UserRecord[] {
    if (users.length === 0) return users;
    const fromDay = epochDay(now) - this.readSupervision().performanceWindowDays + 1;
    const counts = new Map<string, { submitted: number; rejected: number; expired: number }>();
    for (const r of this.q(
      `SELECT user_id, SUM(submitted) AS s, SUM(rejected) AS r, SUM(expired) AS e FROM operator_daily
       WHERE user_id IN (SELECT value FROM json_each(?)) AND day >= ? GROUP BY user_id`,
    ).all(JSON.stringify(users.map((u) => u.id)), fromDay) as Row[]) {
      counts.set(r.user_id as string, { submitted: r.s as number, rejected: r.r as number, expired: r.e as number });
    }
    return users.map((u) => ({ ...u, qualityScore: performanceScore(counts.get(u.id) ?? { submitted: 0, rejected: 0, expired: 0 }, u.qualityScore) }));
  }

  async runGroup<T>(units: ReadonlyArray<() => Eng<T>>, _hints?: readonly UnitHint[], pace?: GroupPace): Promise<GroupResult<T>> {
    if (this.writeGate) await this.writable();
    const results: GroupResult<T>['results'] = [];
    const started = performance.now();
    const unitMs: number[] = [];
    this.changed = new Set();
    this.revalidateCaches();
    this.q('BEGIN IMMEDIATE').run();
    try {
      for (const unit of units) {
        const unitStarted = performance.now();
        if (pace && results.length > 0 && unitStarted - started >= pace.budgetMs) {
          results.push({ ok: false, error: new NotRun() });
          continue;
        }
        this.unitTasks.clear();
        this.unitLogged.clear();
        this.unitUndo.clear();
        this.q('SAVEPOINT unit').run();
        try {
          const value = runSync(unit(), this.ops);
          this.q('RELEASE unit').run();
          results.push({ ok: true, value });
        } catch (error) {
          this.q('ROLLBACK TO unit').run();
          this.q('RELEASE unit').run();
          this.undoUnitTasks();
          results.push({ ok: false, error });
        }
        unitMs.push(performance.now() - unitStarted);
      }
      this.fillSyncTasks(this.groupSyncNow);
      this.q('COMMIT').run();
    } catch (error) {
      if (this.db.inTransaction) this.q('ROLLBACK').run();
      this.configCache = null;
      throw error;
    } finally {
      this.groupSyncTasks.clear();
      this.groupTasks.clear();
      this.unitUndo.clear();
      this.unitTasks.clear();
      // Writes outside the engine (handshakes, heartbeats, disconnects) log their own changes: what
      // the group's last unit logged must not make them skip theirs.
      this.unitLogged.clear();
    }
    const changedDepartments = this.changed;
    this.changed = new Set();
    const headSeq = this.headSeqSync();
    const busyMs = performance.now() - started;
    pace?.ran(unitMs.length);
    return { results, changedDepartments, headSeq, timing: { busyMs, unitMs } };
  }

  /** Run a plain write transaction outside the engine (admin operations). */
  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  async getConfig(): Promise<SiteConfig> {
    return this.readConfig();
  }

  async setConfig(config: SiteConfig, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    const valid = siteConfigSchema.parse(config);
    this.write(() => {
      this.putSetting('config', valid);
      this.logChange('config', 'site', '', now);
    });
    this.configCache = valid;
  }

  async siteSalt(): Promise<string> {
    return this.setting<string>('site_salt');
  }

  async getSupervision(): Promise<SupervisionSettings> {
    this.revalidateCaches();
    return this.readSupervision();
  }

  async setSupervision(settings: SupervisionSettings, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    const valid = supervisionSettingsSchema.parse(settings);
    this.write(() => {
      this.putSetting('supervision', valid);
      this.logChange('supervision', 'site', route.allSupervisors, now);
    });
    this.supervisionCache = valid;
  }

  async markPerformanceDay(day: number, now: number): Promise<boolean> {
    if (this.writeGate) await this.writable();
    return this.write(() => {
      const marked = this.q("SELECT value FROM settings WHERE key = 'performance_day'").pluck().get() as string | undefined;
      if (marked !== undefined && (JSON.parse(marked) as number) >= day) return false;
      this.putSetting('performance_day', day);
      this.logChange('supervision', 'site', route.allSupervisors, now);
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Departments and users

  async upsertDepartment(d: Department, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    this.departmentCache.delete(d.id);
    this.write(() => {
      const before = this.q('SELECT task_limit FROM departments WHERE id = ?').get(d.id) as Row | undefined;
      this.q(
        `INSERT INTO departments (id, name, task_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, task_limit = excluded.task_limit, updated_at = excluded.updated_at`,
      ).run(d.id, d.name, d.taskLimit, now, now);
      this.logChange('department', d.id, d.id, now);
      // SUP-3: an operator's limit is the strictest of all their departments': when this one's
      // changes, their rows go again to the pages of every department they are in.
      if (before && ((before.task_limit as number | null) ?? null) !== d.taskLimit) {
        const members = this.q(
          `SELECT DISTINCT other.user_id, other.department_id FROM user_departments mine
           JOIN user_departments other ON other.user_id = mine.user_id
           JOIN users u ON u.id = mine.user_id
           WHERE mine.department_id = ? AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'operator')`,
        ).all(d.id) as Row[];
        for (const m of members) this.logChange('person', m.user_id as string, route.supervisors(m.department_id as string), now);
      }
    });
  }

  async listDepartments(): Promise<Department[]> {
    return (this.q('SELECT * FROM departments ORDER BY id').all() as Row[]).map(departmentFromRow);
  }

  private writeUserDepartments(userId: string, departmentIds: readonly string[]): void {
    this.q('DELETE FROM user_departments WHERE user_id = ?').run(userId);
    for (const d of new Set(departmentIds)) this.q('INSERT INTO user_departments (user_id, department_id) VALUES (?, ?)').run(userId, d);
  }

  async createUser(u: NewUser, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    this.userCache.delete(u.id);
    this.forgetMembers();
    this.write(() => {
      this.q(
        `INSERT INTO users (display_name, badge_hash, pin_hash, password_hash, roles, active, task_limit, skills, quality_score, updated_at, id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(...userParams(u, now), u.id, now);
      this.writeUserDepartments(u.id, u.departmentIds);
      this.logUser(u.id, u.departmentIds, now);
    });
  }

  async updateUser(id: string, patch: UserPatch, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    try {
      this.updateUserSync(id, patch, now);
    } finally {
      this.userCache.delete(id);
      this.forgetMembers();
    }
  }

  private updateUserSync(id: string, patch: UserPatch, now: number): void {
    this.write(() => {
      const before = this.readUser(id);
      if (!before) throw new Error(`user ${id} does not exist`);
      const next = { ...before, ...patch };
      this.q(
        `UPDATE users SET display_name = ?, badge_hash = ?, pin_hash = ?, password_hash = ?, roles = ?, active = ?, task_limit = ?,
           skills = ?, quality_score = ?, updated_at = ? WHERE id = ?`,
      ).run(...userParams(next, now), id);
      if (patch.departmentIds) this.writeUserDepartments(id, patch.departmentIds);
      this.logUser(id, [...before.departmentIds, ...next.departmentIds], now);
      // SUP-1: a task carries its holder's name (operatorName): a new name sends the tasks that
      // show it again (open, or finished recently: what boards and kiosks hold), or the pages that
      // had them kept the old name until something else changed each task.
      if (next.displayName !== before.displayName) {
        for (const t of this.q(HELD_TASKS_SQL).all(id, now - SUPERVISOR_RECENT_MS) as Row[]) this.logTask(t.id as string, [t.department_id as string | null], now);
      }
    });
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.readUser(id);
  }

  async findUserByBadgeHash(badgeHash: string): Promise<UserRecord | null> {
    const r = this.q(`${USER_SELECT} WHERE u.badge_hash = ?`).get(badgeHash) as Row | undefined;
    return r ? userFromRow(r) : null;
  }

  async listUsers(filter: { departmentId?: string; role?: Role; active?: boolean }): Promise<UserRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.departmentId) {
      where.push('EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = ?)');
      args.push(filter.departmentId);
    }
    if (filter.role) {
      where.push('EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = ?)');
      args.push(filter.role);
    }
    if (filter.active !== undefined) {
      where.push('u.active = ?');
      args.push(filter.active ? 1 : 0);
    }
    const sql = `${USER_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.id`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(userFromRow);
  }

  // -------------------------------------------------------------------------------------------
  // Terminals and tokens

  async createTerminal(input: { id: string; name: string; departments: string[]; tokenHash: string }, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    this.write(() => {
      this.q('INSERT INTO terminals (id, name, token_hash, departments, created_at) VALUES (?, ?, ?, ?, ?)').run(
        input.id,
        input.name,
        input.tokenHash,
        JSON.stringify(input.departments),
        now,
      );
      this.logTerminal(input.id, input.departments, now);
    });
    this.unitLogged.clear();
  }

  async updateTerminal(id: string, patch: { name?: string; departments?: string[]; active?: boolean; tokenHash?: string }, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    const before = await this.getTerminal(id);
    if (!before) throw new Error(`terminal ${id} does not exist`);
    // An import may have taken the write lock while the read waited its turn.
    if (this.writeGate) await this.writable();
    this.write(() => {
      this.q('UPDATE terminals SET name = ?, departments = ?, active = ?, token_hash = ? WHERE id = ?').run(
        patch.name ?? before.name,
        JSON.stringify(patch.departments ?? before.departments),
        (patch.active ?? before.active) ? 1 : 0,
        patch.tokenHash ?? before.tokenHash,
        id,
      );
      // Supervisors of the departments it left see it leave; those of its new ones see it arrive.
      this.logTerminal(id, [...before.departments, ...(patch.departments ?? [])], now);
      // SUP-1 SUP-3: whether a person's presence names this terminal to a supervisor depends on its
      // departments: the person signed in here is sent again with it.
      if (patch.departments) this.logPerson((this.q('SELECT user_id FROM presence WHERE terminal_id = ?').pluck().get(id) as string | undefined) ?? null, now);
    });
    this.unitLogged.clear();
  }

  async getTerminal(id: string): Promise<TerminalRecord | null> {
    const r = this.q(`${TERMINAL_SELECT} WHERE t.id = ?`).get(id) as Row | undefined;
    return r ? terminalFromRow(r) : null;
  }

  async listTerminals(): Promise<TerminalRecord[]> {
    return (this.q(`${TERMINAL_SELECT} ORDER BY t.id`).all() as Row[]).map(terminalFromRow);
  }

  /** Write terminal state outside the engine and tell its supervisors (one transaction). */
  private writeTerminal(id: string, now: number, fn: () => void): void {
    this.write(() => {
      fn();
      this.logTerminal(id, this.terminalDepartments(id), now);
    });
    this.unitLogged.clear();
  }

  async recordHandshake(id: string, h: HandshakeRecord): Promise<void> {
    if (this.writeGate) await this.writable();
    this.writeTerminal(id, h.now, () => {
      this.q(
        `UPDATE terminals SET last_seen_at = ?, clock_offset_ms = ?, app_version = ?, protocol_version = ?, outbox = ?,
           connected = 1, connected_at = ?, offline_alerted_at = NULL WHERE id = ?`,
      ).run(h.now, Math.round(h.clockOffsetMs), h.appVersion, h.protocolVersion, h.outbox, h.now, id);
      this.q('DELETE FROM mutation_outcomes WHERE terminal_id = ? AND mutation_id <= ?').run(id, h.ackedMutationId);
    });
  }

  async touchTerminals(ids: readonly string[], now: number, outboxes: ReadonlyMap<string, number> = new Map()): Promise<void> {
    if (this.writeGate) await this.writable();
    if (ids.length === 0 && outboxes.size === 0) return;
    this.write(() => {
      for (const id of ids) this.q('UPDATE terminals SET last_seen_at = ? WHERE id = ?').run(now, id);
      for (const [id, outbox] of outboxes) {
        this.q('UPDATE terminals SET outbox = ? WHERE id = ?').run(outbox, id);
        this.logTerminal(id, this.terminalDepartments(id), now);
      }
    });
    this.unitLogged.clear();
  }

  async recordDisconnect(id: string, now: number, connectedAt?: number): Promise<void> {
    if (this.writeGate) await this.writable();
    const current = this.q('SELECT connected_at FROM terminals WHERE id = ?').pluck().get(id) as number | null | undefined;
    if (current === undefined || (connectedAt !== undefined && current !== connectedAt)) return;
    this.writeTerminal(id, now, () => {
      this.q('UPDATE terminals SET connected = 0, disconnected_at = ?, last_seen_at = ? WHERE id = ?').run(now, now, id);
    });
  }

  async disconnectStale(seenBefore: number, now: number): Promise<string[]> {
    if (this.writeGate) await this.writable();
    const stale = this.q('SELECT id FROM terminals WHERE connected = 1 AND COALESCE(last_seen_at, 0) < ? ORDER BY id').pluck().all(seenBefore) as string[];
    if (stale.length === 0) return [];
    this.write(() => {
      for (const id of stale) {
        this.q('UPDATE terminals SET connected = 0, disconnected_at = COALESCE(last_seen_at, ?) WHERE id = ?').run(now, id);
        this.logTerminal(id, this.terminalDepartments(id), now);
      }
    });
    this.unitLogged.clear();
    return stale;
  }

  async holdTimerLease(): Promise<boolean> {
    return true;
  }

  async resetConnections(now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    const stale = this.q('SELECT id FROM terminals WHERE connected = 1').pluck().all() as string[];
    if (stale.length === 0) return;
    this.write(() => {
      for (const id of stale) {
        this.q('UPDATE terminals SET connected = 0, disconnected_at = COALESCE(last_seen_at, ?) WHERE id = ?').run(now, id);
        this.logTerminal(id, this.terminalDepartments(id), now);
      }
    });
    this.unitLogged.clear();
  }

  async alertOfflineTerminals(offlineBefore: number, now: number): Promise<OfflineAlert[]> {
    if (this.writeGate) await this.writable();
    const due = (this.q(
      `SELECT id, departments, outbox, disconnected_at FROM terminals
       WHERE active = 1 AND connected = 0 AND outbox > 0 AND disconnected_at IS NOT NULL AND disconnected_at <= ? AND offline_alerted_at IS NULL
       ORDER BY id`,
    ).all(offlineBefore) as Row[]);
    if (due.length === 0) return [];
    const alerts: OfflineAlert[] = [];
    this.write(() => {
      for (const t of due) {
        const terminalId = t.id as string;
        const notified = new Set<string>();
        for (const d of json<string[]>(t.departments, [])) for (const u of this.supervisorsOf(d)) notified.add(u);
        for (const userId of notified) {
          this.insertNotification(
            { userId, event: 'terminal_offline', taskId: null, byUserId: null, details: { terminalId, outbox: t.outbox, offlineSince: t.disconnected_at } },
            now,
            { overview: true },
          );
        }
        this.q('UPDATE terminals SET offline_alerted_at = ? WHERE id = ?').run(now, terminalId);
        alerts.push({ terminalId, outbox: t.outbox as number, offlineSince: t.disconnected_at as number, notified: [...notified] });
      }
    });
    return alerts;
  }

  async createApiToken(input: ApiTokenRecord & { tokenHash: string }, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    this.q(
      'INSERT INTO api_tokens (id, user_id, name, kind, token_hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(input.id, input.userId, input.name, input.kind, input.tokenHash, now, input.expiresAt, input.revokedAt);
  }

  /**
   * Tokens found by their hash, as stored: every authenticated request looks its token up (about
   * 45 µs of the event loop a request under `http-load`). Only tokens found are kept (a token the
   * CLI creates is found at once); dropped on every write to the tokens through this store, and
   * with the other caches when another connection has committed (revalidateCaches).
   */
  private readonly tokenCache = new Map<string, ApiTokenRecord>();

  async findApiTokenWithUser(tokenHash: string): Promise<{ token: ApiTokenRecord; user: UserRecord | null } | null> {
    this.revalidateCaches();
    let token = this.tokenCache.get(tokenHash);
    if (!token) {
      const r = this.q('SELECT * FROM api_tokens WHERE token_hash = ?').get(tokenHash) as Row | undefined;
      if (!r) return null;
      token = this.tokenFromRow(r);
      if (this.tokenCache.size >= 10_000) this.tokenCache.clear();
      this.tokenCache.set(tokenHash, token);
    }
    return { token: { ...token }, user: this.readUser(token.userId) };
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | null> {
    const r = this.q('SELECT * FROM api_tokens WHERE id = ?').get(id) as Row | undefined;
    return r ? this.tokenFromRow(r) : null;
  }

  private tokenFromRow(r: Row): ApiTokenRecord {
    return {
      id: r.id as string,
      userId: r.user_id as string,
      name: r.name as string,
      kind: r.kind as 'api' | 'session',
      expiresAt: (r.expires_at as number | null) ?? null,
      revokedAt: (r.revoked_at as number | null) ?? null,
    };
  }

  /** `reason` is for other instances (PostgreSQL); a SQLite server is the only one. */
  async revokeApiToken(id: string, now: number, _reason?: RevokeReason): Promise<void> {
    if (this.writeGate) await this.writable();
    this.q('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, id);
    this.tokenCache.clear();
  }

  async listApiTokens(userId?: string): Promise<ApiTokenRecord[]> {
    // rowid breaks ties (tokens made in the same ms) by creation, as PostgreSQL's `ord`: without it
    // the index by (user, kind, created_at) listed a user's API tokens before their sessions.
    const rows = userId
      ? (this.q('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at, rowid').all(userId) as Row[])
      : (this.q('SELECT * FROM api_tokens ORDER BY created_at, rowid').all() as Row[]);
    return rows.map((r) => this.tokenFromRow(r));
  }

  async revokeOldestSessions(userId: string, keep: number, now: number): Promise<string[]> {
    if (this.writeGate) await this.writable();
    return this.write(() => {
      const live = this.q(
        `SELECT id FROM api_tokens WHERE user_id = ? AND kind = 'session' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?`,
      )
        .pluck()
        .all(userId, now, keep) as string[];
      const revoke = this.q('UPDATE api_tokens SET revoked_at = ? WHERE id = ?');
      for (const id of live) revoke.run(now, id);
      if (live.length > 0) this.tokenCache.clear();
      return live;
    });
  }

  async pruneAuth(before: number, windowStart: number, now: number): Promise<{ sessions: number; failureKeys: number }> {
    if (this.writeGate) await this.writable();
    return this.write(() => {
      const sessions = this.q(
        `DELETE FROM api_tokens WHERE kind = 'session' AND ((expires_at IS NOT NULL AND expires_at < ?) OR (revoked_at IS NOT NULL AND revoked_at < ?))`,
      ).run(before, before).changes;
      if (sessions > 0) this.tokenCache.clear();
      const failureKeys = this.q('DELETE FROM sign_in_failures WHERE first_failed_at < ? AND (locked_until IS NULL OR locked_until <= ?)').run(windowStart, now).changes;
      return { sessions, failureKeys };
    });
  }

  async getSignInFailures(key: string): Promise<SignInFailureState | null> {
    const r = this.q('SELECT * FROM sign_in_failures WHERE key = ?').get(key) as Row | undefined;
    return r
      ? { failures: r.failures as number, firstFailedAt: r.first_failed_at as number, lockedUntil: (r.locked_until as number | null) ?? null }
      : null;
  }

  async setSignInFailures(key: string, state: SignInFailureState | null): Promise<void> {
    if (this.writeGate) await this.writable();
    if (!state) this.q('DELETE FROM sign_in_failures WHERE key = ?').run(key);
    else
      this.q(
        `INSERT INTO sign_in_failures (key, failures, first_failed_at, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, first_failed_at = excluded.first_failed_at, locked_until = excluded.locked_until`,
      ).run(key, state.failures, state.firstFailedAt, state.lockedUntil);
  }

  async audit(entry: AuditEntry, now: number): Promise<void> {
    if (this.writeGate) await this.writable();
    this.writeAudit(entry, now);
  }

  async listAudit(filter: { taskId?: string; limit: number }): Promise<AuditRecord[]> {
    const rows = filter.taskId
      ? (this.q('SELECT * FROM audit_events WHERE task_id = ? ORDER BY id DESC LIMIT ?').all(filter.taskId, filter.limit) as Row[])
      : (this.q('SELECT * FROM audit_events ORDER BY id DESC LIMIT ?').all(filter.limit) as Row[]);
    return rows.map(auditFromRow);
  }

  async searchAudit(filter: AuditFilter, page: { limit: number; offset: number }): Promise<Page<AuditRecord>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.departmentIds !== null) {
      where.push('a.department_id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(filter.departmentIds));
    }
    if (filter.taskId) {
      where.push('a.task_id = ?');
      args.push(filter.taskId);
    }
    if (filter.workOrderNumber) {
      where.push('a.task_id IN (SELECT t.id FROM tasks t JOIN work_orders wo ON wo.id = t.work_order_id WHERE wo.number = ?)');
      args.push(filter.workOrderNumber);
    }
    if (filter.userId) {
      where.push("(a.actor_id = ? OR json_extract(a.details, '$.userId') = ?)");
      args.push(filter.userId, filter.userId);
    }
    if (filter.action) {
      where.push('a.action = ?');
      args.push(filter.action);
    }
    if (filter.outcome) {
      where.push(filter.outcome === 'refused' ? "a.outcome <> 'applied'" : 'a.outcome = ?');
      if (filter.outcome !== 'refused') args.push(filter.outcome);
    }
    if (filter.terminalId) {
      where.push('a.terminal_id = ?');
      args.push(filter.terminalId);
    }
    if (filter.from !== undefined) {
      where.push('a.at >= ?');
      args.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('a.at < ?');
      args.push(filter.to);
    }
    if (filter.beforeId !== undefined) {
      where.push('a.id < ?');
      args.push(filter.beforeId);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.db.prepare(`SELECT COUNT(*) FROM audit_events a ${w}`).pluck().get(...args) as number;
    const items = (this.db.prepare(`SELECT a.* FROM audit_events a ${w} ORDER BY a.id DESC LIMIT ? OFFSET ?`).all(...args, page.limit, page.offset) as Row[]).map(
      auditFromRow,
    );
    return { items, total };
  }

  // -------------------------------------------------------------------------------------------
  // Supervisors

  async supervisorChangesPage(scope: SupervisorScope, afterSeq: number, limit: number, now: number): Promise<SupervisorChangesPage> {
    this.revalidateCaches();
    return this.supervisorReads.changesPage(scope, afterSeq, limit, now);
  }

  async supervisorSnapshotPage(
    scope: SupervisorScope,
    from: SupervisorSnapshotPosition | null,
    limit: number,
    now: number,
  ): Promise<SupervisorSnapshotPage> {
    this.revalidateCaches();
    return this.supervisorReads.snapshotPage(scope, from, limit, now);
  }

  async listExceptions(filter: ExceptionFilter, page: { limit: number; offset: number }): Promise<Page<BoardException>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.departmentIds !== null) {
      where.push('department_id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(filter.departmentIds));
    }
    if (filter.open !== undefined) where.push(filter.open ? 'acknowledged_at IS NULL' : 'acknowledged_at IS NOT NULL');
    if (filter.kind) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.taskId) {
      where.push('task_id = ?');
      args.push(filter.taskId);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.db.prepare(`SELECT COUNT(*) FROM exceptions ${w}`).pluck().get(...args) as number;
    const items = (this.db.prepare(`SELECT * FROM exceptions ${w} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, page.limit, page.offset) as Row[]).map(
      exceptionFromRow,
    );
    return { items, total };
  }

  async getException(id: number): Promise<BoardException | null> {
    const r = this.q('SELECT * FROM exceptions WHERE id = ?').get(id) as Row | undefined;
    return r ? exceptionFromRow(r) : null;
  }

  async acknowledgeException(id: number, userId: string, now: number): Promise<BoardException | null> {
    if (this.writeGate) await this.writable();
    this.write(() => {
      const r = this.q('SELECT department_id FROM exceptions WHERE id = ? AND acknowledged_at IS NULL').get(id) as Row | undefined;
      if (!r) return;
      this.q("UPDATE exceptions SET acknowledged_at = ?, acknowledged_by = ?, resolution = 'acknowledged' WHERE id = ?").run(now, userId, id);
      this.logException(id, (r.department_id as string | null) ?? null, now);
    });
    return this.getException(id);
  }

  async markNotificationsRead(userId: string, ids: readonly number[] | null, now: number): Promise<number> {
    if (this.writeGate) await this.writable();
    return this.write(() => {
      return this.readNotifications(userId, ids, now, true);
    });
  }

  /**
   * Mark a user's unread notifications read (all when `ids` is null): their overview pages and the
   * kiosks of their departments are told (NTF-2). Returns how many changed.
   */
  private readNotifications(userId: string, ids: readonly number[] | null, now: number, overview: boolean): number {
    const unread = (ids === null
      ? this.q('SELECT id, event FROM notifications WHERE user_id = ? AND read_at IS NULL').all(userId)
      : this.q('SELECT id, event FROM notifications WHERE user_id = ? AND read_at IS NULL AND id IN (SELECT value FROM json_each(?))').all(userId, JSON.stringify(ids))) as Row[];
    for (const r of unread) {
      const id = String(r.id);
      this.q('UPDATE notifications SET read_at = ? WHERE id = ?').run(now, r.id);
      if (overview) this.logChange('notification', id, route.user(userId), now);
      if (isOperatorEvent(r.event as string)) this.logToKiosks('notification', id, userId, null, now);
    }
    return unread.length;
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  /** IMP-1: imports are written one at a time, in the order they came. */
  private readonly imports = new Lanes();

  async importTasks(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }): Promise<ImportResult> {
    return this.imports.run(() => this.importInOrder(rows, now, scope));
  }

  private async importInOrder(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }): Promise<ImportResult> {
    if (!this.db.open) throw new Error('the store is closed; the import was not written');
    if (this.writeGate) await this.writable();
    if (rows.length <= SMALL_IMPORT_ROWS) return this.importAllNow(rows, now, scope);
    // SEC-9: a large import runs on its own thread and connection; this connection's writes wait.
    this.importThread ??= new ImportThread({
      file: this.file,
      synchronous: this.options.synchronous ?? 'FULL',
      walAutocheckpoint: this.db.pragma('wal_autocheckpoint', { simple: true }) as number,
    });
    // This connection's writes wait only while the thread writes, not while the rows are handed over.
    const gate: { release: (() => void) | null } = { release: null };
    try {
      return await this.importThread.run(rows, now, scope, async () => {
        if (this.writeGate) await this.writable();
        this.writeGate = new Promise<void>((resolve) => (gate.release = resolve));
      });
    } finally {
      if (gate.release) {
        this.writeGate = null;
        gate.release();
      }
    }
  }

  /**
   * IMP-1: check and write every row in one synchronous transaction, all or nothing. A small import
   * runs here; a large one on the import thread (import-worker.ts), through its own store. Only
   * those two call it: it skips the write gate and the durability flush that `importTasks` has.
   */
  importAllNow(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }): ImportResult {
    const acc: ImportAcc = { errors: [], created: 0, updated: 0, workOrders: new Set() };
    const Rollback = class extends Error {};
    try {
      this.write(() => {
        rows.forEach((row, index) => this.importRow(row, index + 1, now, scope, acc));
        if (acc.errors.length > 0) throw new Rollback();
      });
    } catch (err) {
      if (err instanceof Rollback) return { ok: false, errors: acc.errors };
      throw err;
    }
    return { ok: true, created: acc.created, updated: acc.updated, workOrders: acc.workOrders.size };
  }

  /** Check and write one import row (IMP-1); a refusal becomes a row error in `acc`. */
  private importRow(row: ImportTaskRow, rowNo: number, now: number, scope: { departmentIds: readonly string[] } | undefined, acc: ImportAcc): void {
    const outside = outOfScope(row.departmentId, rowNo, scope);
    if (outside) {
      acc.errors.push(outside);
      return;
    }
    if (row.departmentId && !this.readDepartment(row.departmentId)) {
      acc.errors.push(importRowError(rowNo, 'departmentId', 'department_missing', { departmentId: row.departmentId }));
      return;
    }
    const woId = row.workOrderNumber;
    this.q(
      `INSERT INTO work_orders (id, number, title, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE work_orders.title END`,
    ).run(woId, row.workOrderNumber, row.workOrderTitle, now);
    acc.workOrders.add(woId);
    const existing = this.readTask(row.taskId);
    const problem = existing && changeProblem(row, rowNo, existing, scope);
    if (problem) {
      acc.errors.push(problem);
      return;
    }
    if (!existing) {
      this.q(
        `INSERT INTO tasks (id, work_order_id, step, work_content, department_id, status, priority, due_at, required_skills, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
      ).run(
        row.taskId,
        woId,
        row.step,
        row.workContent,
        row.departmentId,
        row.status,
        row.priority,
        row.dueAt,
        JSON.stringify(row.requiredSkills),
        now,
        now,
      );
      this.logTask(row.taskId, [row.departmentId], now);
      acc.created++;
      return;
    }
    const status = existing.status === 'in_progress' ? 'in_progress' : row.status;
    const same =
      existing.step === row.step &&
      existing.workContent === row.workContent &&
      existing.departmentId === row.departmentId &&
      existing.status === status &&
      existing.priority === row.priority &&
      existing.dueAt === row.dueAt &&
      JSON.stringify(existing.requiredSkills) === JSON.stringify(row.requiredSkills);
    if (same) return;
    this.q(
      `UPDATE tasks SET step = ?, work_content = ?, department_id = ?, status = ?, priority = ?, due_at = ?, required_skills = ?,
         version = version + 1, updated_at = ? WHERE id = ?`,
    ).run(row.step, row.workContent, row.departmentId, status, row.priority, row.dueAt, JSON.stringify(row.requiredSkills), now, row.taskId);
    this.logTask(row.taskId, [existing.departmentId, row.departmentId], now);
    acc.updated++;
  }

  async getTask(id: string, now: number): Promise<SyncTask | null> {
    return this.loadSyncTask(id, now);
  }

  async listTasks(filter: TaskFilter, page: { limit: number; offset: number }): Promise<Page<Task>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.departmentId) {
      where.push('t.department_id = ?');
      args.push(filter.departmentId);
    }
    if (filter.departmentIds) {
      where.push(filter.departmentIds.length > 0 ? `t.department_id IN (${filter.departmentIds.map(() => '?').join(', ')})` : '0');
      args.push(...filter.departmentIds);
    }
    if (filter.status) {
      where.push('t.status = ?');
      args.push(filter.status);
    }
    if (filter.operatorId) {
      where.push('t.operator_id = ?');
      args.push(filter.operatorId);
    }
    if (filter.workOrderNumber) {
      where.push('wo.number = ?');
      args.push(filter.workOrderNumber);
    }
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push("(t.work_content LIKE ? ESCAPE '\\' OR wo.number LIKE ? ESCAPE '\\' OR t.id LIKE ? ESCAPE '\\')");
      args.push(like, like, like);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.db
      .prepare(`SELECT COUNT(*) FROM tasks t JOIN work_orders wo ON wo.id = t.work_order_id ${w}`)
      .pluck()
      .get(...args) as number;
    const items = (
      this.db
        .prepare(`${TASK_COLUMNS_SELECT} ${w} ORDER BY ${claimableOrderSql('t')} LIMIT ? OFFSET ?`)
        .raw()
        .all(...args, page.limit, page.offset) as unknown[][]
    ).map(taskFromRaw);
    return { items, total };
  }

  async listClaimable(userId: string, now: number, page: { limit: number; offset: number }, departmentIds?: readonly string[]): Promise<Page<Task>> {
    const where = `
      WHERE t.status = 'pending' AND t.operator_id IS NULL
        AND t.department_id IN (SELECT department_id FROM user_departments WHERE user_id = @user)
        AND (@departments IS NULL OR t.department_id IN (SELECT value FROM json_each(@departments)))
        AND NOT EXISTS (SELECT 1 FROM cooldowns c WHERE c.task_id = t.id AND c.user_id = @user AND c.until > @now)
        AND NOT EXISTS (
          SELECT 1 FROM assignments a
          WHERE a.user_id = @user AND a.work_order_id = t.work_order_id
            AND ${workedSql('a.')}
            AND EXISTS (SELECT 1 FROM json_each(@pairs) p
                        WHERE (p.value ->> 0 = a.step AND p.value ->> 1 = t.step) OR (p.value ->> 1 = a.step AND p.value ->> 0 = t.step)))`;
    const params = { user: userId, now, pairs: JSON.stringify(this.readConfig().exclusionPairs), departments: departmentIds ? JSON.stringify(departmentIds) : null };
    const total = this.q(`SELECT COUNT(*) FROM tasks t ${where}`).pluck().get(params) as number;
    const items = (
      this.q(`${TASK_COLUMNS_SELECT} ${where} ORDER BY ${claimableOrderSql('t')} LIMIT @limit OFFSET @offset`)
        .raw()
        .all({ ...params, limit: page.limit, offset: page.offset }) as unknown[][]
    ).map(taskFromRaw);
    return { items, total };
  }

  async listAssignments(taskId: string): Promise<Assignment[]> {
    return (this.q('SELECT * FROM assignments WHERE task_id = ? ORDER BY id').all(taskId) as Row[]).map((r) => ({
      id: String(r.id),
      taskId: r.task_id as string,
      userId: r.user_id as string,
      step: r.step as string,
      status: r.status as AssignmentStatus,
      reason: (r.reason as string | null) ?? null,
      assignedBy: r.assigned_by as string,
      createdAt: r.created_at as number,
      startedAt: (r.started_at as number | null) ?? null,
      endedAt: (r.ended_at as number | null) ?? null,
    }));
  }

  async listNotifications(userId: string, limit: number): Promise<BoardNotification[]> {
    return (this.q('SELECT * FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT ?').all(userId, limit) as Row[]).map(notificationFromRow);
  }

  // -------------------------------------------------------------------------------------------
  // Sync

  async outcomesAfter(terminalId: string, afterId: number, limit: number, now: number): Promise<MutationOutcome[]> {
    const stored = (this.q('SELECT outcome, task_id FROM mutation_outcomes WHERE terminal_id = ? AND mutation_id > ? ORDER BY mutation_id LIMIT ?').all(
      terminalId,
      afterId,
      limit,
    ) as Row[]).map(storedOutcomeFromRow);
    return withTasksNow(stored, this.loadSyncTasks(taskIdsOf(stored), now));
  }

  private headSeqSync(): number {
    return (this.q("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").pluck().get() as number | undefined) ?? 0;
  }

  async headSeq(): Promise<number> {
    return this.headSeqSync();
  }

  async prunedThroughSeq(): Promise<number> {
    return this.setting<number>('pruned_through_seq');
  }

  private loadChangeData(taskIds: string[], userIds: string[], departmentIds: string[], withConfig: boolean, now: number, notificationIds: string[] = []): ChangeData {
    return {
      notifications: this.loadTerminalNotifications(notificationIds),
      tasks: this.loadSyncTasks(taskIds, now),
      users: this.loadDirectoryUsers(userIds),
      departments: departmentIds.length
        ? (this.q('SELECT * FROM departments WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(departmentIds)) as Row[]).map(
            departmentFromRow,
          )
        : [],
      config: withConfig ? this.readConfig() : null,
    };
  }

  async changesPage(departments: readonly string[], afterSeq: number, limit: number, now: number): Promise<ChangesPage> {
    // One index-ordered range per department (and '' for everyone), merged here: no sort of
    // everything after the cursor, however far behind the terminal is.
    const rows: Row[] = [];
    for (const d of new Set(['', ...departments])) {
      rows.push(...(this.q('SELECT seq, entity, entity_id FROM changes WHERE department_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(d, afterSeq, limit) as Row[]));
    }
    rows.sort((a, b) => (a.seq as number) - (b.seq as number));
    rows.length = Math.min(rows.length, limit);
    const ids = { task: new Set<string>(), user: new Set<string>(), department: new Set<string>(), notification: new Set<string>() };
    let config = false;
    for (const r of rows) {
      const entity = r.entity as string;
      if (entity === 'config') config = true;
      else if (entity === 'task' || entity === 'user' || entity === 'department' || entity === 'notification') ids[entity].add(r.entity_id as string);
    }
    const lastSeq = rows.length ? (rows[rows.length - 1]!.seq as number) : afterSeq;
    return {
      ...this.loadChangeData([...ids.task], [...ids.user], [...ids.department], config, now, [...ids.notification]),
      lastSeq,
      more: rows.length === limit,
    };
  }

  async snapshotPage(departments: readonly string[], from: SnapshotPosition | null, limit: number, now: number): Promise<SnapshotPage> {
    const depts = JSON.stringify(departments);
    let pos: SnapshotPosition = from ?? { phase: 'departments', afterId: '' };
    const empty: ChangeData = { tasks: [], users: [], departments: [], notifications: [], config: from === null ? this.readConfig() : null };
    for (;;) {
      if (pos.phase === 'departments') {
        const rows = (this.q('SELECT * FROM departments WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(depts) as Row[]).map(
          departmentFromRow,
        );
        if (rows.length) return { ...empty, departments: rows, next: { phase: 'users', afterId: '' } };
        pos = { phase: 'users', afterId: '' };
      } else if (pos.phase === 'users') {
        const ids = this.q(
          `SELECT DISTINCT user_id FROM user_departments WHERE department_id IN (SELECT value FROM json_each(?)) AND user_id > ?
           ORDER BY user_id LIMIT ?`,
        )
          .pluck()
          .all(depts, pos.afterId, limit) as string[];
        if (ids.length) {
          const next: SnapshotPosition =
            ids.length === limit ? { phase: 'users', afterId: ids[ids.length - 1]! } : { phase: 'notifications', afterId: '' };
          return { ...empty, users: this.loadDirectoryUsers(ids), next };
        }
        pos = { phase: 'notifications', afterId: '' };
      } else if (pos.phase === 'notifications') {
        // NTF-1: the departments' operators' unread notifications, and the last day's read ones.
        const ids = this.q(
          `SELECT n.id FROM notifications n
           WHERE n.user_id IN (SELECT user_id FROM user_departments WHERE department_id IN (SELECT value FROM json_each(?)))
             AND n.event IN ${OPERATOR_EVENTS_SQL} AND (n.read_at IS NULL OR n.created_at > ?) AND n.id > ?
           ORDER BY n.id LIMIT ?`,
        )
          .pluck()
          .all(depts, now - READ_NOTIFICATIONS_KEPT_MS, Number(pos.afterId || 0), limit) as number[];
        if (ids.length) {
          const next: SnapshotPosition =
            ids.length === limit ? { phase: 'notifications', afterId: String(ids[ids.length - 1]) } : { phase: 'tasks', afterId: '' };
          return { ...empty, notifications: this.loadTerminalNotifications(ids.map(String)), next };
        }
        pos = { phase: 'tasks', afterId: '' };
      } else {
        const where = `id > ? AND (status IN ('draft', 'pending', 'in_progress') OR updated_at > ?) ORDER BY id LIMIT ?`;
        const page = departmentsInIdOrder(
          `SELECT id FROM tasks WHERE department_id = ? AND ${where}`,
          `SELECT id FROM tasks WHERE department_id IN (SELECT value FROM json_each(?)) AND ${where}`,
          departments,
          [pos.afterId, now - RECENT_FINISHED_MS],
          limit,
        );
        const ids = this.q(page.sql).pluck().all(...page.params) as string[];
        const next: SnapshotPosition | null = ids.length === limit ? { phase: 'tasks', afterId: ids[ids.length - 1]! } : null;
        return { ...empty, tasks: this.loadSyncTasks(ids, now), next };
      }
    }
  }

  async pruneChanges(before: number): Promise<number> {
    if (this.writeGate) await this.writable();
    // Delete from the start of the log in bounded batches (sequential pages, short transactions),
    // letting the event loop run between them (SEC-9).
    let total = 0;
    for (;;) {
      if (total > 0) await nextTurn();
      if (this.writeGate) await this.writable();
      const deleted = this.write(() => {
        const upto = this.q('SELECT MAX(seq) FROM (SELECT seq FROM changes WHERE at < ? ORDER BY seq LIMIT 5000)').pluck().get(before) as number | null;
        if (upto === null) return 0;
        const info = this.q('DELETE FROM changes WHERE seq <= ?').run(upto);
        if (upto > this.setting<number>('pruned_through_seq')) this.putSetting('pruned_through_seq', upto);
        return info.changes;
      });
      total += deleted;
      if (deleted < 5_000) return total;
    }
  }

  async stats(): Promise<StoreStats> {
    const tasksByStatus: Record<string, number> = {};
    for (const r of this.q('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as Row[]) tasksByStatus[r.status as string] = r.n as number;
    return {
      tasksByStatus,
      heldTasks: this.q("SELECT COUNT(*) FROM tasks WHERE operator_id IS NOT NULL AND status IN ('pending', 'in_progress')").pluck().get() as number,
      users: this.q('SELECT COUNT(*) FROM users').pluck().get() as number,
      terminals: this.q('SELECT COUNT(*) FROM terminals').pluck().get() as number,
      headSeq: this.headSeqSync(),
    };
  }

  async backup(file: string): Promise<void> {
    await this.db.backup(file);
  }
}
