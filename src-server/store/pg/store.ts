/**
 * The PostgreSQL backend of the server store (node-postgres, a pool).
 *
 * The same semantics as the SQLite store (store/sqlite/store.ts), read for read and change-log
 * row for change-log row; test/store-contract.ts holds both to it. What differs is how:
 * - Engine work (`runGroup`) runs on one pooled connection in one transaction, a savepoint per
 *   unit, the engine's generators driven with `await` (engine/ports.ts runAsync). A caller is
 *   answered only after COMMIT, with synchronous_commit on (open.ts). Up to `groupLanes` groups
 *   commit at once, each on its own connection.
 * - The task's row (taskFacts) and the terminal's row (storedOutcome, terminalState) are taken
 *   with SELECT … FOR UPDATE, so two server instances on one database take turns on one task or
 *   one terminal instead of both deciding.
 * - Change-log sequence numbers are assigned at the end of each transaction under the lock of the
 *   single `change_head` row, so they become visible in order (tx.ts, FLUSH_CHANGES).
 * - Nothing is cached across transactions (another instance may write at any time): a group
 *   reads the config, users and departments once each and keeps them until it commits.
 *
 * Open it with `await PgServerStore.open(url)`: it connects, migrates and seeds the settings.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_SITE_CONFIG, siteConfigSchema, type SiteConfig } from '../../../src-shared/domain/config.js';
import { randomHex } from '../../../src-shared/crypto/hash.js';
import { taskFromRow, type Row } from '../../../src-shared/db/task-row.js';
import { claimableOrderSql } from '../../../src-shared/domain/rules.js';
import { DEFAULT_SUPERVISION_SETTINGS, supervisionSettingsSchema, type SupervisionSettings } from '../../../src-shared/domain/supervision.js';
import type { Assignment, AssignmentStatus, Department, Role, Task } from '../../../src-shared/domain/types.js';
import type { BoardException, BoardNotification } from '../../../src-shared/protocol/supervisor.js';
import type { MutationOutcome, SyncTask } from '../../../src-shared/protocol/terminal.js';
import { runAsync, type AuditEntry, type Eng, type GroupResult, type UnitHint } from '../../engine/ports.js';
import type {
  ApiTokenRecord,
  AuditFilter,
  AuditRecord,
  ChangeData,
  ChangesPage,
  ExceptionFilter,
  HandshakeRecord,
  ImportResult,
  ImportTaskRow,
  NewUser,
  OfflineAlert,
  Page,
  ServerStore,
  SignInFailureState,
  StoreLink,
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
} from '../types.js';
import {
  auditFromRow,
  departmentFromRow,
  exceptionFromRow,
  json,
  notificationFromRow,
  OPERATOR_EVENTS_SQL,
  READ_NOTIFICATIONS_KEPT_MS,
  RECENT_FINISHED_MS,
  route,
  storedOutcomeFromRow,
  taskIdsOf,
  terminalFromRow,
  userFromRow,
  userParams,
  withTasksNow,
} from '../sqlite/rows.js';
import {
  connectionConfig,
  createPool,
  describeConnectError,
  migratePg,
  pgMigrations,
  TIMER_LEASE_LOCK,
  isTryAgainError,
  unavailableIfTransient,
  type PgMigrationReport,
  type PgOpenOptions,
} from './open.js';
import { hasRole, TASK_SELECT, TERMINAL_SELECT, USER_SELECT, workedSql } from './sql.js';
import { CHANGES_BY_KEYS, supervisorChangesPage, supervisorSnapshotPage } from './supervisor-reads.js';
import { SUPERVISOR_RECENT_MS } from '../sqlite/supervisor-reads.js';
import { ACCOUNTS_CHANNEL, CHANGES_CHANNEL, PipelinedWriteFailed, Tx, type ImportAcc, type OpeningReads } from './tx.js';
import type { AccountsListener, RevokeReason } from '../types.js';
import { GROUP_LANES, redactUrl } from './options.js';

/** How long a group's units after its first (all of them, when the group read ahead) wait for a row lock (see runGroup). */
const GROUP_LOCK_WAIT_MS = 5;
/** How often a unit a deadlock or serialisation failure rolled back is tried again. */
const GROUP_RETRIES = 5;
const LOCK_NOT_AVAILABLE = '55P03';
const DEADLOCK_DETECTED = '40P01';
const SERIALIZATION_FAILURE = '40001';

/** A lease whose session does not answer within this is given up (another instance may take it). */
const LEASE_CHECK_TIMEOUT_MS = 2_000;

/** The timer lease's own connection (holdTimerLease). */
interface LeaseSession {
  client: pg.Client;
  held: boolean;
  /** Connected and listening. */
  ready: Promise<void>;
}

/** `p`, or a rejection saying `what` after `ms`. */
function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Change-log rows deleted per pruning transaction (short transactions, like SQLite's batches). */
const PRUNE_BATCH = 5_000;

/** PostgreSQL refuses a negative OFFSET; SQLite reads one as 0. */
const offsetOf = (page: { offset: number }) => Math.max(0, page.offset);
/** SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses one (NULL means none). */
const limitOf = (n: number): number | null => (n < 0 ? null : n);

export interface PgStoreOptions extends PgOpenOptions {
  /** Groups committing at once, each on its own pooled connection (default GROUP_LANES). */
  groupLanes?: number;
  /** Where `backup` finds pg_dump (default: PATH, then /usr/lib/postgresql/<newest>/bin). */
  pgDump?: string;
}

export class PgServerStore implements ServerStore, StoreLink {
  readonly backend = 'postgres';
  /** Any number of server instances may share the database. */
  readonly sharedByInstances = true;
  readonly groupsHoldTheLoop = false;
  readonly pagesHoldTheLoop = false;
  /** At least one, and never so many that reads, pings and the other writes find no connection. */
  get groupLanes(): number {
    const wanted = Math.floor(this.options.groupLanes ?? GROUP_LANES);
    return Math.max(1, Math.min(wanted, (this.options.maxConnections ?? 10) - 2));
  }
  private closed = false;
  /** This store's name in change notifications (watchHead). */
  private readonly tag = randomHex(8);
  /** Told the head when another writer commits changes (watchHead). */
  private headListener: ((head: number) => void) | null = null;
  /** Told of users changed and tokens revoked by another writer (watchAccounts). */
  private accountsListener: AccountsListener | null = null;
  /** The session for the timer lease (holdTimerLease), and whether it holds the lease. */
  private lease: LeaseSession | null = null;

  private constructor(
    readonly pool: pg.Pool,
    /** The database's URL (with its password): backup hands it to pg_dump. */
    private readonly url: string,
    private readonly options: PgStoreOptions,
    /** What opening did to the schema. */
    readonly migration: PgMigrationReport,
  ) {}

  /**
   * Connect to `url` (postgres://user:password@host:port/database), bring the schema up to date
   * (migrations/server-pg, one transaction under an advisory lock) and seed the settings. Fails
   * with a message that says what to do when the database cannot be reached or is newer than this
   * code.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgServerStore> {
    const pool = createPool(url, options);
    try {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw describeConnectError(url, err);
      }
      // Ended by the database mid-migration: the next statement fails (see transactionOnce).
      const lost = () => {};
      client.on('error', lost);
      let report: PgMigrationReport;
      try {
        const sync = await client.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s");
        if (sync.rows[0]?.s !== 'on' && sync.rows[0]?.s !== 'remote_apply' && sync.rows[0]?.s !== 'remote_write') {
          throw new Error(
            `synchronous_commit is "${sync.rows[0]?.s}" on ${redactUrl(url)}: the claims server answers only after a durable commit. ` +
              'Remove the setting that turns it off (in the URL\'s options, the role or the database).',
          );
        }
        report = await migratePg(client, pgMigrations(), redactUrl(url));
        const tx = new Tx(client);
        // The settings every store starts with (ON CONFLICT: another instance may be seeding too).
        const put = 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING';
        await tx.run(put, ['config', JSON.stringify(DEFAULT_SITE_CONFIG)]);
        await tx.run(put, ['site_salt', JSON.stringify(randomHex(16))]);
        await tx.run(put, ['pruned_through_seq', '0']);
        await tx.run(put, ['supervision', JSON.stringify(DEFAULT_SUPERVISION_SETTINGS)]);
      } finally {
        client.off('error', lost);
        client.release();
      }
      return new PgServerStore(pool, url, options, report);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes;
    await this.dropLease();
    await this.pool.end();
  }

  /**
   * The timer lease is a session advisory lock on a connection of its own, outside the pool: held
   * while that session lives, released by PostgreSQL when it ends (this instance stopped, died, or
   * lost its link), so another instance's next call takes it. The session stays open on an instance
   * that stands by too; each call is one bounded round trip on it: the holder checks its session
   * still answers, the others try to take the lock.
   */
  async holdTimerLease(): Promise<boolean> {
    if (this.closed) return false;
    let session = this.lease;
    try {
      session ??= this.openLeaseSession();
      const s = session;
      const answer = await withinMs(
        (async () => {
          await s.ready;
          return s.held
            ? s.client.query<{ held: boolean }>('SELECT true AS held')
            : s.client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [TIMER_LEASE_LOCK.toString()]);
        })(),
        LEASE_CHECK_TIMEOUT_MS,
        'the lease connection does not answer',
      );
      s.held = answer.rows[0]?.held === true;
      return s.held && !this.closed && this.lease === s;
    } catch {
      // A session that failed or does not answer is given up (its lock, if any, goes with it).
      if (session) await this.dropLease(session);
      return false;
    }
  }

  /** A new lease session: connected and listening for other writers' commits once `ready`. */
  private openLeaseSession(): LeaseSession {
    const client = new pg.Client(connectionConfig(this.url, this.options));
    const session: LeaseSession = { client, held: false, ready: Promise.resolve() };
    const lost = () => {
      if (this.lease === session) this.lease = null;
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      if (n.channel === ACCOUNTS_CHANNEL) {
        const [tag, kind, id, reason] = (n.payload ?? '').split(' ');
        if (tag === this.tag || !id || !this.accountsListener) return;
        if (kind === 'user') this.accountsListener.userChanged(id);
        else if (kind === 'token') this.accountsListener.tokenRevoked(id, reason === 'signed_out' ? 'signed_out' : 'revoked');
        return;
      }
      const [tag, head] = (n.payload ?? '').split(' ');
      if (tag !== this.tag && this.headListener && Number.isFinite(Number(head))) this.headListener(Number(head));
    });
    // The same session hears the other instances' commits (watchHead). While it is down (until
    // the next lease check opens another), the push timer's reads of the head carry them.
    session.ready = client
      .connect()
      .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}; LISTEN ${ACCOUNTS_CHANNEL}`))
      .then(() => undefined);
    session.ready.catch(() => {});
    this.lease = session;
    return session;
  }

  /**
   * INST-2: `listener` hears the head each time another instance (or an admin command) commits
   * changes, a moment after its COMMIT, on the lease's session (opened by the first
   * holdTimerLease). A notification missed while that session is down is not lost: the hubs'
   * push timers read the head anyway.
   */
  watchHead(listener: (head: number) => void): void {
    this.headListener = listener;
  }

  /**
   * SUP-1 AUTH-3 AUTH-5: `listener` hears of users changed and tokens revoked through another
   * instance, at its COMMIT, on the lease's session, so that instance's supervisor pages follow at
   * once instead of at their next revalidation (which still catches what a lost session missed).
   */
  watchAccounts(listener: AccountsListener): void {
    this.accountsListener = listener;
  }

  /** End `session` (the current one by default), and forget it if it is still the current one. */
  private async dropLease(session = this.lease): Promise<void> {
    if (!session) return;
    if (this.lease === session) this.lease = null;
    await withinMs(session.client.end(), LEASE_CHECK_TIMEOUT_MS, 'ending the lease session').catch(() => {});
  }

  /**
   * This instance's write transactions outside groups (presence, administration, imports), one
   * after the other. Groups (runGroup) run beside them, up to groupLanes at once: a group's units
   * after its first wait only briefly for a row lock, so a heartbeat touching terminals k1 then k2
   * and a group holding k2 and wanting k1 cannot deadlock (the group's unit steps back to its
   * savepoint and runs in the next transaction). Reads never wait; other instances' writers meet
   * ours at the row locks and the change-log head.
   */
  private writes: Promise<unknown> = Promise.resolve();

  private oneWriterAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => {});
    return run;
  }

  /** A Tx for reads outside any transaction (each statement sees what is committed when it runs). */
  private reader(): Tx {
    return new Tx(this.readPool);
  }

  /**
   * Called with PostgreSQL's own error whenever one that means "try again" (a deadlock victim, a
   * serialisation failure, a lock wait past lock_timeout) is answered as `unavailable`
   * (`database_busy`): the server logs it, SQLSTATE and all. One instance's own groups should never
   * deadlock each other, so a steady stream of these points at a lock-ordering fault.
   */
  onLostRace: ((err: unknown) => void) | null = null;

  /** unavailableIfTransient, telling onLostRace of a lost race it answers as `unavailable`. */
  private retryable(err: unknown): unknown {
    if (isTryAgainError(err)) this.onLostRace?.(err);
    return unavailableIfTransient(err);
  }

  /** The pool for reads outside transactions: a lost database link is `unavailable` (503). */
  private readonly readPool = {
    query: (...args: unknown[]) => (this.pool.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
      throw this.retryable(err);
    }),
  } as unknown as pg.Pool;

  /**
   * The database link, for /healthz: one round trip, bounded by `timeoutMs`; rejects with what
   * went wrong.
   */
  async ping(timeoutMs = 2_000): Promise<void> {
    await withinMs(this.pool.query('SELECT 1'), timeoutMs, 'no answer');
  }

  /**
   * Run `fn` in one transaction on one pooled connection; its change-log rows are numbered and
   * written last, with the COMMIT (Tx.commit). Returns what `fn` returned and the head after the commit.
   */
  private transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<{ value: T; tx: Tx; head: number | null }> {
    return this.oneWriterAtATime(() => this.transactionNow(fn));
  }

  private async transactionNow<T>(fn: (tx: Tx) => Promise<T>, begin = 'BEGIN', reads: OpeningReads | null = null): Promise<{ value: T; tx: Tx; head: number | null }> {
    try {
      return await this.transactionOnce(fn, begin, reads);
    } catch (err) {
      // A lost link: nothing of the transaction is known to be durable; the caller may retry.
      throw this.retryable(err);
    }
  }

  /**
   * `begin`: the statements that open the transaction, sent as one (runGroup adds its first
   * savepoint); `reads`, what a group reads first, sent with them (`Tx.openingReads`).
   */
  private async transactionOnce<T>(fn: (tx: Tx) => Promise<T>, begin: string, reads: OpeningReads | null): Promise<{ value: T; tx: Tx; head: number | null }> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out connection that the database ends between two statements (a restart, an
    // administrator's pg_terminate_backend) emits 'error' with nobody listening, which would end
    // the process: the next statement fails instead, and the pool drops the connection.
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      const tx = new Tx(client);
      tx.notifyAs = this.tag;
      try {
        // Inside the try: a failed opening read rolls back the BEGIN that ran before it, so the
        // connection goes back to the pool outside a transaction.
        tx.tookOpening(await client.query(reads ? `${begin}; ${reads.text}` : begin), reads);
        const value = await fn(tx);
        const head = await tx.commit();
        return { value, tx, head };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      }
    } finally {
      client.off('error', lost);
      // A connection whose ROLLBACK failed (or that the database ended) is in an unknown state:
      // the pool drops it.
      client.release(broken);
    }
  }

  private async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return (await this.transaction(fn)).value;
  }

  /**
   * Several instances on one database: a group holds the row locks of the units it ran while it
   * runs the next ones, so two instances' groups that meet on two tasks in opposite orders would
   * deadlock (and PostgreSQL would break the tie only after deadlock_timeout, failing one whole
   * group). So in a group every unit but the first waits at most GROUP_LOCK_WAIT_MS for a row
   * another transaction holds; a unit that waits longer is rolled back to its savepoint, the group
   * commits what came before it, and the rest (from that unit on, in order, so a terminal's
   * mutations stay in order, PROTO-9) runs as the next transaction, whose first unit waits as long
   * as it takes (it holds nothing yet, so it cannot close a cycle). A group that read ahead
   * (Tx.readAhead) holds locks before its first unit runs, so there the first unit waits briefly
   * too, and one that waited in vain starts the next transaction, which does not read ahead. A
   * unit that PostgreSQL picks as a deadlock victim (or a serialisation failure) is retried the
   * same way, a few times.
   */
  async runGroup<T>(units: ReadonlyArray<() => Eng<T>>, hints?: readonly UnitHint[]): Promise<GroupResult<T>> {
    const results: GroupResult<T>['results'] = [];
    const changedDepartments = new Set<string>();
    let head: number | null = null;
    let retries = 0;
    /** Cleared when a read-ahead group's first unit found its row held by another transaction. */
    let mayReadAhead = hints !== undefined;
    /** Cleared when a pipelined write failed: the transaction runs again, each statement waited for. */
    let mayPipeline = true;
    do {
      const from = results.length;
      // Not behind the other writes (oneWriterAtATime): the committer runs up to groupLanes groups
      // at once, and they meet other writers at row locks, bounded as described above.
      let done: { value: GroupResult<T>['results']; tx: Tx; head: number | null };
      // Two units or more: what they will ask about is locked and read for all of them first
      // (Tx.readAhead), before the first savepoint; one unit asks for itself. Then every unit, the
      // first too, waits only briefly for a row lock: two groups that each read ahead a row the
      // other's first unit needs would otherwise wait for each other until the deadlock detector
      // (a second) ended one. A first unit that waited in vain runs again in a transaction of its
      // own without reading ahead, waiting as long as it takes.
      const ahead = mayReadAhead ? hints!.slice(from, units.length) : [];
      const readAhead = units.length - from > 1 && ahead.some((h) => h.taskId || h.userId || h.terminal);
      try {
        done = await this.transactionNow(async (tx) => {
          const part: GroupResult<T>['results'] = [];
          if (mayPipeline) tx.pipelineWrites();
          if (readAhead) {
            await tx.readAhead(ahead);
            await tx.send(`SET LOCAL lock_timeout = ${GROUP_LOCK_WAIT_MS}; SAVEPOINT unit`);
          }
          // Round trips: a unit's savepoint is released by the statement that opens the next one
          // ("RELEASE unit; SAVEPOINT unit", one round trip), the first is opened with BEGIN (after
          // the read ahead, if any), and the last is left to COMMIT, which releases it.
          for (let i = from; i < units.length; i++) {
            const first = i === from;
            tx.beginUnit();
            // The first unit waits for its locks as long as it takes (unless the group read ahead);
            // the others only briefly.
            if (!first) await tx.send(i === from + 1 && !readAhead ? `RELEASE unit; SET LOCAL lock_timeout = ${GROUP_LOCK_WAIT_MS}; SAVEPOINT unit` : 'RELEASE unit; SAVEPOINT unit');
            try {
              const value = await runAsync(units[i]!(), tx.ops);
              part.push({ ok: true, value });
            } catch (error) {
              // A pipelined write failed: this transaction is rolled back and run again (below).
              if (error instanceof PipelinedWriteFailed) throw error;
              // Rolls back the unit's writes and the row locks it took; its change-log rows go too.
              // The savepoint stays, for the next unit's statement to release. (Pipelined: a write
              // of an earlier unit still unanswered that failed makes this fail, and the whole
              // transaction runs again, as it may have left no savepoint of this unit's own.)
              await tx.query('ROLLBACK TO unit');
              tx.dropUnit();
              const code = (error as { code?: unknown }).code;
              const waited = code === LOCK_NOT_AVAILABLE && (!first || readAhead);
              if (waited && first) mayReadAhead = false;
              const lostRace = (code === DEADLOCK_DETECTED || code === SERIALIZATION_FAILURE) && retries < GROUP_RETRIES;
              if (waited || lostRace) {
                if (first) retries++;
                break; // this unit and the rest: the next transaction
              }
              // Still a deadlock victim after GROUP_RETRIES: `retry`, not an internal error.
              part.push({ ok: false, error: this.retryable(error) });
            }
          }
          // The change-log head's lock (Tx.commit) is waited for as long as it takes.
          if (units.length - from > 1) await tx.send('SET LOCAL lock_timeout = DEFAULT');
          await tx.fillSyncTasks();
          return part;
        }, readAhead ? 'BEGIN' : 'BEGIN; SAVEPOINT unit', Tx.openingReads(hints?.slice(from, units.length) ?? []));
      } catch (error) {
        if (error instanceof PipelinedWriteFailed && mayPipeline) {
          // Rolled back whole (transactionOnce); the same units again, each statement waited for,
          // so a failure is pinned on the unit that caused it.
          mayPipeline = false;
          continue;
        }
        // Nothing of a group that committed nothing is known to be durable: the committer fails
        // it whole. One whose earlier transactions committed answers those units, and fails only
        // the units of the transaction that did not commit.
        if (results.length === 0) throw error;
        while (results.length < units.length) results.push({ ok: false, error });
        break;
      }
      const { tx, head: committedHead, value: part } = done;
      results.push(...part);
      for (const c of tx.changes) changedDepartments.add(c.departmentId);
      if (committedHead !== null) head = committedHead;
    } while (results.length < units.length);
    return { results, changedDepartments, headSeq: head ?? (await this.headSeq()) };
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  async getConfig(): Promise<SiteConfig> {
    return this.reader().readConfig();
  }

  async setConfig(config: SiteConfig, now: number): Promise<void> {
    const valid = siteConfigSchema.parse(config);
    await this.write(async (tx) => {
      await tx.putSetting('config', valid);
      tx.logChange('config', 'site', '', now);
    });
  }

  async siteSalt(): Promise<string> {
    return this.reader().setting<string>('site_salt');
  }

  async getSupervision(): Promise<SupervisionSettings> {
    return this.reader().readSupervision();
  }

  async setSupervision(settings: SupervisionSettings, now: number): Promise<void> {
    const valid = supervisionSettingsSchema.parse(settings);
    await this.write(async (tx) => {
      await tx.putSetting('supervision', valid);
      tx.logChange('supervision', 'site', route.allSupervisors, now);
    });
  }

  async markPerformanceDay(day: number, now: number): Promise<boolean> {
    return this.write(async (tx) => {
      // Once per day however many instances ask: the mark only moves forward.
      const moved = await tx.rows(
        `INSERT INTO settings (key, value) VALUES ('performance_day', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value
         WHERE settings.value::bigint < excluded.value::bigint RETURNING key`,
        [String(day)],
      );
      if (moved.length === 0) return false;
      tx.logChange('supervision', 'site', route.allSupervisors, now);
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Departments and users

  async upsertDepartment(d: Department, now: number): Promise<void> {
    await this.write(async (tx) => {
      const before = await tx.rows<{ task_limit: number | null }>('SELECT task_limit FROM departments WHERE id = $1 FOR UPDATE', [d.id]);
      await tx.run(
        `INSERT INTO departments (id, name, task_limit, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, task_limit = excluded.task_limit, updated_at = excluded.updated_at`,
        [d.id, d.name, d.taskLimit, now, now],
      );
      tx.logChange('department', d.id, d.id, now);
      // SUP-3: an operator's limit is the strictest of all their departments': when this one's
      // changes, their rows go again to the pages of every department they are in.
      if (before.length > 0 && (before[0]!.task_limit ?? null) !== d.taskLimit) {
        const members = await tx.rows<{ user_id: string; department_id: string }>(
          `SELECT DISTINCT other.user_id, other.department_id FROM user_departments mine
           JOIN user_departments other ON other.user_id = mine.user_id
           JOIN users u ON u.id = mine.user_id
           WHERE mine.department_id = $1 AND ${hasRole("'operator'")}`,
          [d.id],
        );
        for (const m of members) tx.logChange('person', m.user_id, route.supervisors(m.department_id), now);
      }
    });
  }

  async listDepartments(): Promise<Department[]> {
    return (await this.reader().rows('SELECT * FROM departments ORDER BY id')).map(departmentFromRow);
  }

  private async writeUserDepartments(tx: Tx, userId: string, departmentIds: readonly string[]): Promise<void> {
    await tx.run('DELETE FROM user_departments WHERE user_id = $1', [userId]);
    for (const d of new Set(departmentIds)) await tx.run('INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)', [userId, d]);
  }

  async createUser(u: NewUser, now: number): Promise<void> {
    await this.write(async (tx) => {
      await tx.run(
        `INSERT INTO users (display_name, badge_hash, pin_hash, password_hash, roles, active, task_limit, skills, quality_score, updated_at, id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [...userParams(u, now), u.id, now],
      );
      await this.writeUserDepartments(tx, u.id, u.departmentIds);
      tx.logUser(u.id, u.departmentIds, now);
    });
  }

  async updateUser(id: string, patch: UserPatch, now: number): Promise<void> {
    await this.write(async (tx) => {
      // Locked, so two instances updating one user apply their patches one after the other.
      if ((await tx.run('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id])) === 0) throw new Error(`user ${id} does not exist`);
      const before = (await tx.readUser(id))!;
      const next = { ...before, ...patch };
      await tx.run(
        `UPDATE users SET display_name = $1, badge_hash = $2, pin_hash = $3, password_hash = $4, roles = $5, active = $6, task_limit = $7,
           skills = $8, quality_score = $9, updated_at = $10 WHERE id = $11`,
        [...userParams(next, now), id],
      );
      if (patch.departmentIds) await this.writeUserDepartments(tx, id, patch.departmentIds);
      await tx.run('SELECT pg_notify($1, $2)', [ACCOUNTS_CHANNEL, `${this.tag} user ${id}`]);
      tx.forgetUser(id);
      tx.logUser(id, [...before.departmentIds, ...next.departmentIds], now);
      // SUP-1: a task carries its holder's name (operatorName): a new name sends the tasks that
      // show it again (open, or finished recently: what boards and kiosks hold).
      if (next.displayName !== before.displayName) {
        const held = await tx.rows(
          `SELECT id, department_id FROM tasks WHERE operator_id = $1 AND (status IN ('draft', 'pending', 'in_progress') OR updated_at > $2) ORDER BY id`,
          [id, now - SUPERVISOR_RECENT_MS],
        );
        for (const t of held) tx.logTask(t.id as string, [t.department_id as string | null], now);
      }
    });
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.reader().readUser(id);
  }

  async findUserByBadgeHash(badgeHash: string): Promise<UserRecord | null> {
    const r = await this.reader().one(`${USER_SELECT} WHERE u.badge_hash = $1`, [badgeHash]);
    return r ? userFromRow(r) : null;
  }

  async listUsers(filter: { departmentId?: string; role?: Role; active?: boolean }): Promise<UserRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const p = (v: unknown) => `$${args.push(v)}`;
    if (filter.departmentId) where.push(`EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = ${p(filter.departmentId)})`);
    if (filter.role) where.push(hasRole(p(filter.role)));
    if (filter.active !== undefined) where.push(`u.active = ${p(filter.active ? 1 : 0)}`);
    const sql = `${USER_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.id`;
    return (await this.reader().rows(sql, args)).map(userFromRow);
  }

  // -------------------------------------------------------------------------------------------
  // Terminals and tokens

  async createTerminal(input: { id: string; name: string; departments: string[]; tokenHash: string }, now: number): Promise<void> {
    await this.write(async (tx) => {
      await tx.run('INSERT INTO terminals (id, name, token_hash, departments, created_at) VALUES ($1, $2, $3, $4, $5)', [
        input.id,
        input.name,
        input.tokenHash,
        JSON.stringify(input.departments),
        now,
      ]);
      tx.logTerminal(input.id, input.departments, now);
    });
  }

  async updateTerminal(id: string, patch: { name?: string; departments?: string[]; active?: boolean; tokenHash?: string }, now: number): Promise<void> {
    await this.write(async (tx) => {
      const r = await tx.one(`${TERMINAL_SELECT} WHERE t.id = $1 FOR UPDATE OF t`, [id]);
      if (!r) throw new Error(`terminal ${id} does not exist`);
      const before = terminalFromRow(r);
      await tx.run('UPDATE terminals SET name = $1, departments = $2, active = $3, token_hash = $4 WHERE id = $5', [
        patch.name ?? before.name,
        JSON.stringify(patch.departments ?? before.departments),
        (patch.active ?? before.active) ? 1 : 0,
        patch.tokenHash ?? before.tokenHash,
        id,
      ]);
      // Supervisors of the departments it left see it leave; those of its new ones see it arrive.
      tx.logTerminal(id, [...before.departments, ...(patch.departments ?? [])], now);
      // SUP-1 SUP-3: whether a person's presence names this terminal to a supervisor depends on its
      // departments: the person signed in here is sent again with it.
      if (patch.departments) await tx.logPerson((await tx.value<string>('SELECT user_id FROM presence WHERE terminal_id = $1', [id])) ?? null, now);
    });
  }

  async getTerminal(id: string): Promise<TerminalRecord | null> {
    const r = await this.reader().one(`${TERMINAL_SELECT} WHERE t.id = $1`, [id]);
    return r ? terminalFromRow(r) : null;
  }

  async listTerminals(): Promise<TerminalRecord[]> {
    return (await this.reader().rows(`${TERMINAL_SELECT} ORDER BY t.id`)).map(terminalFromRow);
  }

  /** Write terminal state outside the engine and tell its supervisors (one transaction). */
  private async writeTerminal(id: string, now: number, fn: (tx: Tx) => Promise<void>): Promise<void> {
    await this.write(async (tx) => {
      await fn(tx);
      tx.logTerminal(id, await tx.terminalDepartments(id), now);
    });
  }

  async recordHandshake(id: string, h: HandshakeRecord): Promise<void> {
    await this.writeTerminal(id, h.now, async (tx) => {
      await tx.run(
        `UPDATE terminals SET last_seen_at = $1, clock_offset_ms = $2, app_version = $3, protocol_version = $4, outbox = $5,
           connected = 1, connected_at = $1, offline_alerted_at = NULL WHERE id = $6`,
        [h.now, Math.round(h.clockOffsetMs), h.appVersion, h.protocolVersion, h.outbox, id],
      );
      await tx.run('DELETE FROM mutation_outcomes WHERE terminal_id = $1 AND mutation_id <= $2', [id, h.ackedMutationId]);
    });
  }

  async touchTerminals(ids: readonly string[], now: number, outboxes: ReadonlyMap<string, number> = new Map()): Promise<void> {
    if (ids.length === 0 && outboxes.size === 0) return;
    // Beside the serial writes (not behind a long import): a heartbeat held back for three
    // heartbeats would have the lease holder mark live terminals disconnected (INST-3).
    await this.transactionNow(async (tx) => {
      // One statement for all heartbeats, in id order (two instances touching the same terminals
      // lock them in the same order).
      if (ids.length) {
        const sorted = [...new Set(ids)].sort();
        await tx.run('UPDATE terminals SET last_seen_at = $1 WHERE id = ANY($2::text[])', [now, sorted]);
        // A terminal this instance holds the link of is connected, whatever a stale-presence sweep
        // concluded while this instance could not write (disconnectStale).
        const back = await tx.rows('UPDATE terminals SET connected = 1, offline_alerted_at = NULL WHERE id = ANY($1::text[]) AND connected = 0 RETURNING id, departments', [
          sorted,
        ]);
        for (const t of back) tx.logTerminal(t.id as string, json<string[]>(t.departments, []), now);
      }
      for (const [id, outbox] of outboxes) {
        await tx.run('UPDATE terminals SET outbox = $1 WHERE id = $2', [outbox, id]);
        tx.logTerminal(id, await tx.terminalDepartments(id), now);
      }
    });
  }

  async recordDisconnect(id: string, now: number, connectedAt?: number): Promise<void> {
    await this.write(async (tx) => {
      // Not when a later handshake (on this or another instance) replaced the connection that ended.
      const ended = await tx.rows('UPDATE terminals SET connected = 0, disconnected_at = $1, last_seen_at = $1 WHERE id = $2 AND ($3::bigint IS NULL OR connected_at = $3) RETURNING id', [
        now,
        id,
        connectedAt ?? null,
      ]);
      if (ended.length) tx.logTerminal(id, await tx.terminalDepartments(id), now);
    });
  }

  async disconnectStale(seenBefore: number, now: number): Promise<string[]> {
    return this.write(async (tx) => {
      const stale = await tx.rows(
        'UPDATE terminals SET connected = 0, disconnected_at = COALESCE(last_seen_at, $1) WHERE connected = 1 AND COALESCE(last_seen_at, 0) < $2 RETURNING id, departments',
        [now, seenBefore],
      );
      stale.sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
      for (const t of stale) tx.logTerminal(t.id as string, json<string[]>(t.departments, []), now);
      return stale.map((t) => t.id as string);
    });
  }

  async resetConnections(now: number): Promise<void> {
    await this.write(async (tx) => {
      const stale = await tx.rows(
        'UPDATE terminals SET connected = 0, disconnected_at = COALESCE(last_seen_at, $1) WHERE connected = 1 RETURNING id, departments',
        [now],
      );
      stale.sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
      for (const t of stale) tx.logTerminal(t.id as string, json<string[]>(t.departments, []), now);
    });
  }

  async alertOfflineTerminals(offlineBefore: number, now: number): Promise<OfflineAlert[]> {
    return this.write(async (tx) => {
      const due = await tx.rows(
        `SELECT id, departments, outbox, disconnected_at FROM terminals
         WHERE active = 1 AND connected = 0 AND outbox > 0 AND disconnected_at IS NOT NULL AND disconnected_at <= $1 AND offline_alerted_at IS NULL
         ORDER BY id FOR UPDATE SKIP LOCKED`,
        [offlineBefore],
      );
      const alerts: OfflineAlert[] = [];
      for (const t of due) {
        const terminalId = t.id as string;
        const notified = new Set<string>();
        for (const d of json<string[]>(t.departments, [])) for (const u of await tx.supervisorsOf(d)) notified.add(u);
        for (const userId of notified) {
          await tx.insertNotification(
            { userId, event: 'terminal_offline', taskId: null, byUserId: null, details: { terminalId, outbox: t.outbox, offlineSince: t.disconnected_at } },
            now,
            { overview: true },
          );
        }
        await tx.run('UPDATE terminals SET offline_alerted_at = $1 WHERE id = $2', [now, terminalId]);
        alerts.push({ terminalId, outbox: t.outbox as number, offlineSince: t.disconnected_at as number, notified: [...notified] });
      }
      return alerts;
    });
  }

  async createApiToken(input: ApiTokenRecord & { tokenHash: string }, now: number): Promise<void> {
    await this.reader().run(
      'INSERT INTO api_tokens (id, user_id, name, kind, token_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [input.id, input.userId, input.name, input.kind, input.tokenHash, now, input.expiresAt, input.revokedAt],
    );
  }

  async findApiTokenWithUser(tokenHash: string): Promise<{ token: ApiTokenRecord; user: UserRecord | null } | null> {
    // One round trip for what every request asks: the token and its user (USER_SELECT's row as JSON).
    const r = await this.reader().one(
      `SELECT k.*, (SELECT row_to_json(x)::text FROM (${USER_SELECT} WHERE u.id = k.user_id) x) AS user_row FROM api_tokens k WHERE k.token_hash = $1`,
      [tokenHash],
    );
    if (!r) return null;
    const user = json<Row | null>(r.user_row, null);
    return { token: tokenFromRow(r), user: user ? userFromRow(user) : null };
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | null> {
    const r = await this.reader().one('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return r ? tokenFromRow(r) : null;
  }

  async revokeApiToken(id: string, now: number, reason: RevokeReason = 'revoked'): Promise<void> {
    await this.reader().run(
      `WITH revoked AS (UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING id)
       SELECT pg_notify($3, $4) FROM revoked`,
      [now, id, ACCOUNTS_CHANNEL, `${this.tag} token ${id} ${reason}`],
    );
  }

  async listApiTokens(userId?: string): Promise<ApiTokenRecord[]> {
    const rows = userId
      ? await this.reader().rows('SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at, ord', [userId])
      : await this.reader().rows('SELECT * FROM api_tokens ORDER BY created_at, ord');
    return rows.map(tokenFromRow);
  }

  async revokeOldestSessions(userId: string, keep: number, now: number): Promise<string[]> {
    return this.write(async (tx) => {
      const live = await tx.column<string>(
        `SELECT id FROM api_tokens WHERE user_id = $1 AND kind = 'session' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
         ORDER BY created_at DESC, ord DESC OFFSET $3 FOR UPDATE`,
        [userId, now, Math.max(0, keep)],
      );
      if (live.length) {
        await tx.run('UPDATE api_tokens SET revoked_at = $1 WHERE id = ANY($2::text[])', [now, live]);
        await tx.run("SELECT pg_notify($1, $2 || ' token ' || t || ' signed_out') FROM unnest($3::text[]) t", [ACCOUNTS_CHANNEL, this.tag, live]);
      }
      return live;
    });
  }

  async pruneAuth(before: number, windowStart: number, now: number): Promise<{ sessions: number; failureKeys: number }> {
    return this.write(async (tx) => {
      const sessions = await tx.run(
        `DELETE FROM api_tokens WHERE kind = 'session' AND ((expires_at IS NOT NULL AND expires_at < $1) OR (revoked_at IS NOT NULL AND revoked_at < $1))`,
        [before],
      );
      const failureKeys = await tx.run('DELETE FROM sign_in_failures WHERE first_failed_at < $1 AND (locked_until IS NULL OR locked_until <= $2)', [windowStart, now]);
      return { sessions, failureKeys };
    });
  }

  async getSignInFailures(key: string): Promise<SignInFailureState | null> {
    const r = await this.reader().one('SELECT * FROM sign_in_failures WHERE key = $1', [key]);
    return r ? { failures: r.failures as number, firstFailedAt: r.first_failed_at as number, lockedUntil: (r.locked_until as number | null) ?? null } : null;
  }

  async setSignInFailures(key: string, state: SignInFailureState | null): Promise<void> {
    if (!state) await this.reader().run('DELETE FROM sign_in_failures WHERE key = $1', [key]);
    else
      await this.reader().run(
        `INSERT INTO sign_in_failures (key, failures, first_failed_at, locked_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, first_failed_at = excluded.first_failed_at, locked_until = excluded.locked_until`,
        [key, state.failures, state.firstFailedAt, state.lockedUntil],
      );
  }

  async audit(entry: AuditEntry, now: number): Promise<void> {
    await this.reader().writeAudit(entry, now);
  }

  async listAudit(filter: { taskId?: string; limit: number }): Promise<AuditRecord[]> {
    const rows = filter.taskId
      ? await this.reader().rows('SELECT * FROM audit_events WHERE task_id = $1 ORDER BY id DESC LIMIT $2', [filter.taskId, limitOf(filter.limit)])
      : await this.reader().rows('SELECT * FROM audit_events ORDER BY id DESC LIMIT $1', [limitOf(filter.limit)]);
    return rows.map(auditFromRow);
  }

  async searchAudit(filter: AuditFilter, page: { limit: number; offset: number }): Promise<Page<AuditRecord>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const p = (v: unknown) => `$${args.push(v)}`;
    if (filter.departmentIds !== null) where.push(`a.department_id = ANY(${p([...filter.departmentIds])}::text[])`);
    if (filter.taskId) where.push(`a.task_id = ${p(filter.taskId)}`);
    if (filter.workOrderNumber) {
      where.push(`a.task_id IN (SELECT t.id FROM tasks t JOIN work_orders wo ON wo.id = t.work_order_id WHERE wo.number = ${p(filter.workOrderNumber)})`);
    }
    if (filter.userId) {
      // json, not jsonb: json keeps any text the audit stored (jsonb refuses \u0000).
      const u = p(filter.userId);
      where.push(`(a.actor_id = ${u} OR (a.details::json ->> 'userId') = ${u})`);
    }
    if (filter.action) where.push(`a.action = ${p(filter.action)}`);
    if (filter.outcome) where.push(filter.outcome === 'refused' ? "a.outcome <> 'applied'" : `a.outcome = ${p(filter.outcome)}`);
    if (filter.terminalId) where.push(`a.terminal_id = ${p(filter.terminalId)}`);
    if (filter.from !== undefined) where.push(`a.at >= ${p(filter.from)}`);
    if (filter.to !== undefined) where.push(`a.at < ${p(filter.to)}`);
    if (filter.beforeId !== undefined) where.push(`a.id < ${p(filter.beforeId)}`);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const r = this.reader();
    const total = (await r.value<number>(`SELECT COUNT(*) FROM audit_events a ${w}`, args))!;
    const items = (await r.rows(`SELECT a.* FROM audit_events a ${w} ORDER BY a.id DESC LIMIT ${p(limitOf(page.limit))} OFFSET ${p(offsetOf(page))}`, args)).map(
      auditFromRow,
    );
    return { items, total };
  }

  // -------------------------------------------------------------------------------------------
  // Supervisors

  async supervisorChangesPage(scope: SupervisorScope, afterSeq: number, limit: number, now: number): Promise<SupervisorChangesPage> {
    return supervisorChangesPage(this.reader(), scope, afterSeq, limit, now);
  }

  async supervisorSnapshotPage(scope: SupervisorScope, from: SupervisorSnapshotPosition | null, limit: number, now: number): Promise<SupervisorSnapshotPage> {
    return supervisorSnapshotPage(this.reader(), scope, from, limit, now);
  }

  async listExceptions(filter: ExceptionFilter, page: { limit: number; offset: number }): Promise<Page<BoardException>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const p = (v: unknown) => `$${args.push(v)}`;
    if (filter.departmentIds !== null) where.push(`department_id = ANY(${p([...filter.departmentIds])}::text[])`);
    if (filter.open !== undefined) where.push(filter.open ? 'acknowledged_at IS NULL' : 'acknowledged_at IS NOT NULL');
    if (filter.kind) where.push(`kind = ${p(filter.kind)}`);
    if (filter.taskId) where.push(`task_id = ${p(filter.taskId)}`);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const r = this.reader();
    const total = (await r.value<number>(`SELECT COUNT(*) FROM exceptions ${w}`, args))!;
    const items = (await r.rows(`SELECT * FROM exceptions ${w} ORDER BY id DESC LIMIT ${p(limitOf(page.limit))} OFFSET ${p(offsetOf(page))}`, args)).map(
      exceptionFromRow,
    );
    return { items, total };
  }

  async getException(id: number): Promise<BoardException | null> {
    if (!Number.isSafeInteger(id)) return null;
    const r = await this.reader().one('SELECT * FROM exceptions WHERE id = $1', [id]);
    return r ? exceptionFromRow(r) : null;
  }

  async acknowledgeException(id: number, userId: string, now: number): Promise<BoardException | null> {
    if (!Number.isSafeInteger(id)) return null;
    await this.write(async (tx) => {
      const r = await tx.one(
        "UPDATE exceptions SET acknowledged_at = $1, acknowledged_by = $2, resolution = 'acknowledged' WHERE id = $3 AND acknowledged_at IS NULL RETURNING department_id",
        [now, userId, id],
      );
      if (r) tx.logException(id, (r.department_id as string | null) ?? null, now);
    });
    return this.getException(id);
  }

  async markNotificationsRead(userId: string, ids: readonly number[] | null, now: number): Promise<number> {
    return this.write((tx) => tx.readNotifications(userId, ids, now));
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  /**
   * IMP-1: one transaction, all rows or none. (SQLite writes a large import in slices on a second
   * connection, SEC-9; here the transaction awaits each statement, so the event loop is free
   * throughout, and other writers go on beside it, waiting only for the task rows it has locked.)
   */
  async importTasks(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }): Promise<ImportResult> {
    const acc: ImportAcc = { errors: [], created: 0, updated: 0, workOrders: new Set() };
    const Rollback = class extends Error {};
    try {
      await this.write(async (tx) => {
        for (let i = 0; i < rows.length; i++) await tx.importRow(rows[i]!, i + 1, now, scope, acc);
        if (acc.errors.length > 0) throw new Rollback();
      });
    } catch (err) {
      if (err instanceof Rollback) return { ok: false, errors: acc.errors };
      throw err;
    }
    return { ok: true, created: acc.created, updated: acc.updated, workOrders: acc.workOrders.size };
  }

  async getTask(id: string, now: number): Promise<SyncTask | null> {
    return this.reader().loadSyncTask(id, now);
  }

  async listTasks(filter: TaskFilter, page: { limit: number; offset: number }): Promise<Page<Task>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const p = (v: unknown) => `$${args.push(v)}`;
    if (filter.departmentId) where.push(`t.department_id = ${p(filter.departmentId)}`);
    if (filter.departmentIds) where.push(filter.departmentIds.length > 0 ? `t.department_id = ANY(${p([...filter.departmentIds])}::text[])` : 'false');
    if (filter.status) where.push(`t.status = ${p(filter.status)}`);
    if (filter.operatorId) where.push(`t.operator_id = ${p(filter.operatorId)}`);
    if (filter.workOrderNumber) where.push(`wo.number = ${p(filter.workOrderNumber)}`);
    if (filter.q) {
      // ILIKE on "C" text folds ASCII letters only: SQLite's LIKE.
      const like = p(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(t.work_content ILIKE ${like} ESCAPE '\\' OR wo.number ILIKE ${like} ESCAPE '\\' OR t.id ILIKE ${like} ESCAPE '\\')`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const r = this.reader();
    const total = (await r.value<number>(`SELECT COUNT(*) FROM tasks t JOIN work_orders wo ON wo.id = t.work_order_id ${w}`, args))!;
    const items = (
      await r.rows(`${TASK_SELECT} ${w} ORDER BY ${claimableOrderSql('t')} LIMIT ${p(limitOf(page.limit))} OFFSET ${p(offsetOf(page))}`, args)
    ).map(taskFromRow);
    return { items, total };
  }

  async listClaimable(userId: string, now: number, page: { limit: number; offset: number }, departmentIds?: readonly string[]): Promise<Page<Task>> {
    const where = `
      WHERE t.status = 'pending' AND t.operator_id IS NULL
        AND t.department_id IN (SELECT department_id FROM user_departments WHERE user_id = $1)
        AND ($4::text[] IS NULL OR t.department_id = ANY($4::text[]))
        AND NOT EXISTS (SELECT 1 FROM cooldowns c WHERE c.task_id = t.id AND c.user_id = $1 AND c.until > $2)
        AND NOT EXISTS (
          SELECT 1 FROM assignments a
          WHERE a.user_id = $1 AND a.work_order_id = t.work_order_id
            AND ${workedSql('a.')}
            AND EXISTS (SELECT 1 FROM jsonb_array_elements($3::jsonb) p
                        WHERE (p ->> 0 = a.step AND p ->> 1 = t.step) OR (p ->> 1 = a.step AND p ->> 0 = t.step)))`;
    const r = this.reader();
    const params = [userId, now, JSON.stringify((await r.readConfig()).exclusionPairs), departmentIds ? [...departmentIds] : null];
    const total = (await r.value<number>(`SELECT COUNT(*) FROM tasks t ${where}`, params))!;
    const items = (
      await r.rows(`${TASK_SELECT} ${where} ORDER BY ${claimableOrderSql('t')} LIMIT $5 OFFSET $6`, [...params, limitOf(page.limit), offsetOf(page)])
    ).map(taskFromRow);
    return { items, total };
  }

  async listAssignments(taskId: string): Promise<Assignment[]> {
    return (await this.reader().rows('SELECT * FROM assignments WHERE task_id = $1 ORDER BY id', [taskId])).map((r) => ({
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
    return (await this.reader().rows('SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2', [userId, limitOf(limit)])).map(notificationFromRow);
  }

  // -------------------------------------------------------------------------------------------
  // Sync

  async outcomesAfter(terminalId: string, afterId: number, limit: number, now: number): Promise<MutationOutcome[]> {
    const reader = this.reader();
    const stored = (
      await reader.rows('SELECT outcome, task_id FROM mutation_outcomes WHERE terminal_id = $1 AND mutation_id > $2 ORDER BY mutation_id LIMIT $3', [
        terminalId,
        afterId,
        limitOf(limit),
      ])
    ).map(storedOutcomeFromRow);
    return withTasksNow(stored, await reader.loadSyncTasks(taskIdsOf(stored), now));
  }

  async headSeq(): Promise<number> {
    return (await this.reader().value<number>('SELECT seq FROM change_head WHERE id = 1')) ?? 0;
  }

  async prunedThroughSeq(): Promise<number> {
    return this.reader().setting<number>('pruned_through_seq');
  }

  private async loadChangeData(
    r: Tx,
    taskIds: string[],
    userIds: string[],
    departmentIds: string[],
    withConfig: boolean,
    now: number,
    notificationIds: string[] = [],
  ): Promise<ChangeData> {
    return {
      notifications: await r.loadTerminalNotifications(notificationIds),
      tasks: await r.loadSyncTasks(taskIds, now),
      users: await r.loadDirectoryUsers(userIds),
      departments: departmentIds.length ? (await r.rows('SELECT * FROM departments WHERE id = ANY($1::text[]) ORDER BY id', [departmentIds])).map(departmentFromRow) : [],
      config: withConfig ? await r.readConfig() : null,
    };
  }

  async changesPage(departments: readonly string[], afterSeq: number, limit: number, now: number): Promise<ChangesPage> {
    // One index-ordered range per department (and '' for everyone), merged in one statement.
    const r = this.reader();
    const rows = await r.rows(CHANGES_BY_KEYS, [[...new Set(['', ...departments])], afterSeq, limitOf(limit)]);
    const ids = { task: new Set<string>(), user: new Set<string>(), department: new Set<string>(), notification: new Set<string>() };
    let config = false;
    for (const row of rows) {
      const entity = row.entity as string;
      if (entity === 'config') config = true;
      else if (entity === 'task' || entity === 'user' || entity === 'department' || entity === 'notification') ids[entity].add(row.entity_id as string);
    }
    const lastSeq = rows.length ? (rows[rows.length - 1]!.seq as number) : afterSeq;
    return {
      ...(await this.loadChangeData(r, [...ids.task], [...ids.user], [...ids.department], config, now, [...ids.notification])),
      lastSeq,
      more: rows.length === limit,
    };
  }

  async snapshotPage(departments: readonly string[], from: SnapshotPosition | null, limit: number, now: number): Promise<SnapshotPage> {
    const r = this.reader();
    const depts = [...departments];
    const lim = limitOf(limit);
    let pos: SnapshotPosition = from ?? { phase: 'departments', afterId: '' };
    const empty: ChangeData = { tasks: [], users: [], departments: [], notifications: [], config: from === null ? await r.readConfig() : null };
    for (;;) {
      if (pos.phase === 'departments') {
        const rows = (await r.rows('SELECT * FROM departments WHERE id = ANY($1::text[]) ORDER BY id', [depts])).map(departmentFromRow);
        if (rows.length) return { ...empty, departments: rows, next: { phase: 'users', afterId: '' } };
        pos = { phase: 'users', afterId: '' };
      } else if (pos.phase === 'users') {
        const ids = await r.column<string>(
          `SELECT DISTINCT user_id FROM user_departments WHERE department_id = ANY($1::text[]) AND user_id > $2
           ORDER BY user_id LIMIT $3`,
          [depts, pos.afterId, lim],
        );
        if (ids.length) {
          const next: SnapshotPosition = ids.length === limit ? { phase: 'users', afterId: ids[ids.length - 1]! } : { phase: 'notifications', afterId: '' };
          return { ...empty, users: await r.loadDirectoryUsers(ids), next };
        }
        pos = { phase: 'notifications', afterId: '' };
      } else if (pos.phase === 'notifications') {
        // NTF-1: the departments' operators' unread notifications, and the last day's read ones.
        const ids = await r.column<number>(
          `SELECT n.id FROM notifications n
           WHERE n.user_id IN (SELECT user_id FROM user_departments WHERE department_id = ANY($1::text[]))
             AND n.event IN ${OPERATOR_EVENTS_SQL} AND (n.read_at IS NULL OR n.created_at > $2) AND n.id > $3
           ORDER BY n.id LIMIT $4`,
          [depts, now - READ_NOTIFICATIONS_KEPT_MS, Number(pos.afterId || 0) || 0, lim],
        );
        if (ids.length) {
          const next: SnapshotPosition = ids.length === limit ? { phase: 'notifications', afterId: String(ids[ids.length - 1]) } : { phase: 'tasks', afterId: '' };
          return { ...empty, notifications: await r.loadTerminalNotifications(ids.map(String)), next };
        }
        pos = { phase: 'tasks', afterId: '' };
      } else {
        const ids = await r.column<string>(
          // One index-ordered range per department (department_id, id), merged: see the SQLite store.
          `SELECT p.id FROM unnest($1::text[]) AS d(id) CROSS JOIN LATERAL (
             SELECT id FROM tasks WHERE department_id = d.id AND id > $2
               AND (status IN ('draft', 'pending', 'in_progress') OR updated_at > $3)
             ORDER BY id LIMIT $4) p
           ORDER BY p.id LIMIT $4`,
          [depts, pos.afterId, now - RECENT_FINISHED_MS, lim],
        );
        const next: SnapshotPosition | null = ids.length === limit ? { phase: 'tasks', afterId: ids[ids.length - 1]! } : null;
        return { ...empty, tasks: await r.loadSyncTasks(ids, now), next };
      }
    }
  }

  async pruneChanges(before: number): Promise<number> {
    // Delete from the start of the log in bounded batches, one short transaction each.
    let total = 0;
    for (;;) {
      const deleted = await this.write(async (tx) => {
        const upto = await tx.value<number | null>(
          'SELECT MAX(seq) FROM (SELECT seq FROM changes WHERE at < $1 ORDER BY seq LIMIT $2) s',
          [before, PRUNE_BATCH],
        );
        if (upto === null || upto === undefined) return 0;
        const n = await tx.run('DELETE FROM changes WHERE seq <= $1', [upto]);
        // GREATEST: another instance may have pruned further meanwhile; the mark never goes back.
        await tx.run("UPDATE settings SET value = GREATEST(value::bigint, $1::bigint)::text WHERE key = 'pruned_through_seq'", [upto]);
        return n;
      });
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }

  async stats(): Promise<StoreStats> {
    const r = this.reader();
    const tasksByStatus: Record<string, number> = {};
    for (const row of await r.rows('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status ORDER BY status')) tasksByStatus[row.status as string] = row.n as number;
    const counts = (await r.one(
      `SELECT (SELECT COUNT(*) FROM tasks WHERE operator_id IS NOT NULL AND status IN ('pending', 'in_progress')) AS held,
              (SELECT COUNT(*) FROM users) AS users,
              (SELECT COUNT(*) FROM terminals) AS terminals,
              (SELECT seq FROM change_head WHERE id = 1) AS head`,
    ))!;
    return { tasksByStatus, heldTasks: counts.held as number, users: counts.users as number, terminals: counts.terminals as number, headSeq: counts.head as number };
  }

  /**
   * A consistent copy of the whole database while the server stays online: `pg_dump` in its
   * custom format (`--format=custom`; one snapshot, so consistent). Restore it into an empty
   * database with `pg_restore --dbname=postgres://…/newdb FILE`, then start the server on that
   * database. Needs pg_dump of the server's major version or newer (Debian: the postgresql-client
   * package); found on PATH, else under /usr/lib/postgresql/<version>/bin.
   */
  async backup(file: string): Promise<void> {
    const pgDump = this.options.pgDump ?? findPgTool('pg_dump');
    if (!pgDump) throw new Error('pg_dump was not found (on PATH or under /usr/lib/postgresql/*/bin): install the PostgreSQL client tools (Debian: postgresql-client).');
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // The password goes by environment, never on the command line (where `ps` shows it): from the
    // user info or from a `password` query parameter (which libpq would prefer, so it wins here too).
    const u = new URL(this.url);
    let password = decodeURIComponent(u.password);
    u.password = '';
    const fromQuery = new URLSearchParams(u.search).get('password');
    if (fromQuery !== null) {
      password = fromQuery;
      // Cut from the query as written: URLSearchParams would write its other parameters back with
      // `+` for spaces (`options=-c%20x` → `-c+x`), which libpq does not read as a space.
      u.search = u.search
        .slice(1)
        .split('&')
        .filter((pair) => decodeURIComponent(pair.split('=')[0]!.replace(/\+/g, ' ')) !== 'password')
        .join('&');
    }
    const env = { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
    await new Promise<void>((resolve, reject) => {
      execFile(pgDump, ['--format=custom', `--file=${file}`, `--dbname=${u.toString()}`], { env }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`pg_dump of ${redactUrl(this.url)} failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  }
}

function tokenFromRow(r: Row): ApiTokenRecord {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    name: r.name as string,
    kind: r.kind as 'api' | 'session',
    expiresAt: (r.expires_at as number | null) ?? null,
    revokedAt: (r.revoked_at as number | null) ?? null,
  };
}

/** A PostgreSQL program: on PATH, else in the newest /usr/lib/postgresql/<version>/bin (Debian). */
export function findPgTool(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const candidate = path.join(root, v, 'bin', name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
