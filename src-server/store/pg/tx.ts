/**
 * Store work on one PostgreSQL connection: the reads every path shares, the engine's operations
 * (TxOps, answered with `await`), and the writes with their change-log entries. A `Tx` lives for one
 * transaction (a group, an admin write) on its pooled client, or for one read on the pool; its
 * caches live as long as it does, so nothing cached outlives the transaction that read it.
 */
import pg from 'pg';
import { siteConfigSchema, type SiteConfig } from '../../../src-shared/domain/config.js';
import { taskFromRow, type Row } from '../../../src-shared/db/task-row.js';
import { claimableOrderSql, type Effect, type OperatorFacts } from '../../../src-shared/domain/rules.js';
import { epochDay, performanceScore, supervisionSettingsSchema, type SupervisionSettings } from '../../../src-shared/domain/supervision.js';
import { ACTIVE_ASSIGNMENT_STATUSES, isActiveTaskStatus, type AssignmentStatus, type Department, type Task } from '../../../src-shared/domain/types.js';
import type {
  DirectoryUser,
  OperatorNotificationEvent,
  SyncTask,
  TerminalNotification,
} from '../../../src-shared/protocol/terminal.js';
import { terminalAuditDepartment, type AsyncTxOps, type AuditEntry, type NewException, type StoredOutcome, type TaskFactsRow, type TerminalState, type UnitHint } from '../../engine/ports.js';
import type { ImportRowError, ImportTaskRow, UserRecord } from '../types.js';
import { changeProblem, importRowError, outOfScope } from '../../../src-shared/domain/import-problems.js';
import {
  assignmentInfo,
  departmentFromRow,
  directoryUser,
  isOperatorEvent,
  json,
  mayHaveOverview,
  NO_DEPARTMENT,
  notificationDetails,
  outcomeToStore,
  rejectionInfo,
  route,
  storedOutcomeFromRow,
  taskLabelOf,
  terminalFromRow,
  userFromRow,
} from '../sqlite/rows.js';
import {
  ACTIVE_ASSIGNMENT_SQL,
  ASSIGNMENT_INFO,
  hasRole,
  REJECTION_INFO,
  TASK_BY_ID,
  TASK_SELECT,
  TERMINAL_SELECT,
  USER_SELECT,
  WORKED_SQL,
  workedSql,
} from './sql.js';

export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Statements are prepared once per connection under a name (node-postgres keeps them): the same
 * SQL text always gets the same name, so a pooled connection reuses its parse and plan.
 */
const statementNames = new Map<string, string>();
function nameOf(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `shopfloor_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

const factsKey = (userId: string, taskId: string | null) => `${userId}\u0000${taskId ?? ''}`;
const outcomeKey = (terminalId: string, mutationId: number) => `${terminalId}\u0000${mutationId}`;

/** Thin helpers over one connection (or the pool). */
export class Sql {
  constructor(readonly c: Queryable) {}

  /** Every statement whose answer is waited for goes through here (Tx adds the pipeline's checks). */
  protected ask(query: pg.QueryConfig | pg.QueryArrayConfig | string): Promise<pg.QueryResult> {
    return this.c.query(query as pg.QueryConfig);
  }

  async rows<R = Row>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.ask({ name: nameOf(text), text, values: values as unknown[] })).rows as R[];
  }

  async one<R = Row>(text: string, values: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(text, values))[0];
  }

  /** The first column of each row. */
  async column<T>(text: string, values: readonly unknown[] = []): Promise<T[]> {
    return (await this.raw(text, values)).map((r) => r[0] as T);
  }

  /** The first column of the first row (undefined when there is no row). */
  async value<T>(text: string, values: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.raw(text, values))[0]?.[0] as T | undefined;
  }

  /** Rows as arrays, in the select's column order. */
  async raw(text: string, values: readonly unknown[] = []): Promise<unknown[][]> {
    return (await this.ask({ name: nameOf(text), text, values: values as unknown[], rowMode: 'array' })).rows as unknown[][];
  }

  /** Run a write; returns how many rows it touched. */
  async run(text: string, values: readonly unknown[] = []): Promise<number> {
    return (await this.ask({ name: nameOf(text), text, values: values as unknown[] })).rowCount ?? 0;
  }
}

/**
 * A pipelined statement failed (Tx.pipelineWrites): the transaction is rolled back whole and its
 * units run again without pipelining (runGroup), which pins the failure on the unit that caused it.
 */
export class PipelinedWriteFailed extends Error {
  constructor(readonly failure: unknown) {
    super(`a pipelined write failed: ${(failure as { message?: unknown }).message ?? String(failure)}`);
  }
}

/** Reads sent with a group's BEGIN (Tx.openingReads): the text, and what each answer is. */
export interface OpeningReads {
  text: string;
  kinds: Array<'config' | 'departments'>;
}

export interface PendingChange {
  entity: string;
  entityId: string;
  departmentId: string;
  at: number;
}

/**
 * Assign the transaction's change-log rows their sequence numbers and write them, as the last
 * statement before COMMIT (sent with it, in one round trip: Tx.commit).
 *
 * Why at the end, under a lock: a reader pages the log by cursor (`seq > $cursor`), so a number must
 * never become visible before a lower one. With a SEQUENCE (or SQLite-style AUTOINCREMENT) on a
 * database several transactions write at once, transaction A could take 10, B take 11, B commit,
 * a terminal read up to 11 and move its cursor past 10, and then A commit 10: lost for that
 * terminal. Here the UPDATE of the single `change_head` row takes its row lock and holds it to the
 * COMMIT; PostgreSQL makes a transaction visible before it releases its locks, so the next writer
 * gets its numbers only after this one is visible: numbers become visible in order, on any number
 * of server instances. The lock is held only from this statement to the commit's flush, so
 * writers overlap for everything else they do (one lock per group, not per change).
 */
/**
 * INST-2: every transaction that writes changes tells the other instances the new head when it
 * commits (`pg_notify` is delivered at COMMIT, in commit order): "<writer's tag> <head>".
 */
export const CHANGES_CHANNEL = 'shopfloor_changes';
/** SUP-1 AUTH-3 AUTH-5: users changed and tokens revoked, for the other instances: "<writer's tag> user|token <id>". */
export const ACCOUNTS_CHANNEL = 'shopfloor_accounts';

/**
 * Tasks (`$1`: their ids; TASK_SELECT's rows) with each one's latest assignment as JSON text
 * (`latest_assignment`: status, user_id, assigned_by).
 */
/** The exceptions a task's new holder (or its cancellation) resolves (SUP-4: resolveTaskExceptions). */
const RESOLVABLE_EXCEPTIONS_SQL = "('task_rejected', 'assignment_expired')";

const TASKS_WITH_LATEST_ASSIGNMENT = `${TASK_SELECT.replace(
  ' FROM tasks t',
  `, (SELECT row_to_json(x)::text FROM (SELECT a.status, a.user_id, a.assigned_by FROM assignments a WHERE a.task_id = t.id ORDER BY a.id DESC LIMIT 1) x) AS latest_assignment,
  EXISTS (SELECT 1 FROM exceptions e WHERE e.task_id = t.id AND e.acknowledged_at IS NULL AND e.kind IN ${RESOLVABLE_EXCEPTIONS_SQL}) AS awaits_resolution
  FROM tasks t`,
)} WHERE t.id = ANY($1::text[])`;
if (!TASKS_WITH_LATEST_ASSIGNMENT.includes('latest_assignment')) throw new Error('TASK_SELECT no longer reads FROM tasks t: TASKS_WITH_LATEST_ASSIGNMENT needs its own text');

/** Operators' facts for tasks (operatorFactsLocked), for the user/task pairs `$1`/`$2` (a task may be null). */
const OPERATOR_FACTS_MANY = `
  SELECT p.user_id, p.task_id,
    (SELECT COUNT(*) FROM tasks WHERE operator_id = p.user_id AND status IN ('pending', 'in_progress')) AS active,
    (SELECT until FROM cooldowns WHERE task_id = p.task_id AND user_id = p.user_id) AS cooldown,
    (SELECT COALESCE(json_agg(step ORDER BY id), '[]'::json)::text FROM assignments
      WHERE user_id = p.user_id AND work_order_id = (SELECT work_order_id FROM tasks WHERE id = p.task_id) AND ${WORKED_SQL}) AS steps
  FROM unnest($1::text[], $2::text[]) AS p(user_id, task_id)`;

/**
 * What terminals get with each of the tasks `$1` besides its row (syncExtras), as of `$2`: their
 * live cooldowns, who worked them, their active assignment and their latest rejection.
 */
const SYNC_EXTRAS = `
  SELECT
    (SELECT COALESCE(json_agg(json_build_array(c.task_id, c.user_id, c.until) ORDER BY c.task_id, c.user_id), '[]'::json)::text
       FROM cooldowns c WHERE c.task_id = ANY($1::text[]) AND c.until > $2) AS cooldowns,
    (SELECT COALESCE(json_agg(json_build_array(w.task_id, w.user_id) ORDER BY w.task_id, w.user_id), '[]'::json)::text
       FROM (SELECT DISTINCT a.task_id, a.user_id FROM assignments a WHERE a.task_id = ANY($1::text[]) AND ${workedSql('a.')}) w) AS worked,
    (SELECT COALESCE(json_agg(row_to_json(x)), '[]'::json)::text
       FROM (${ASSIGNMENT_INFO} WHERE a.task_id = ANY($1::text[]) AND a.status IN ${ACTIVE_ASSIGNMENT_SQL}) x) AS assignments,
    (SELECT COALESCE(json_agg(row_to_json(x)), '[]'::json)::text
       FROM (${REJECTION_INFO} WHERE a.task_id = ANY($1::text[]) AND a.status = 'rejected'
               AND a.id = (SELECT MAX(r.id) FROM assignments r WHERE r.task_id = a.task_id AND r.status = 'rejected')) x) AS rejections`;

const AUDIT_COLUMNS = 'at, action, outcome, actor_id, terminal_id, via, task_id, details, department_id';

/** The site config as stored (a JSON text), read and checked one way wherever a Tx reads it. */
const CONFIG_READ = "SELECT value FROM settings WHERE key = 'config'";
const parseConfig = (stored: string): SiteConfig => siteConfigSchema.parse(JSON.parse(stored));

/** Up to this many change-log or audit rows, a transaction's closing statements go as one text (Tx.commit). */
const INLINE_ROWS_MAX = 1_000;

/** A group's audit rows in one statement, in the order its units wrote them (Tx.commit). */
const AUDIT_INSERT = `
  INSERT INTO audit_events (${AUDIT_COLUMNS})
  SELECT a.at, a.action, a.outcome, a.actor_id, a.terminal_id, a.via, a.task_id, a.details, a.department_id
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    WITH ORDINALITY AS a(at, action, outcome, actor_id, terminal_id, via, task_id, details, department_id, n)
  ORDER BY a.n`;

/**
 * `text` with each `$n` replaced by `values[n - 1]` as an SQL literal: for statements sent by the
 * simple query protocol, which takes no parameters (Tx.commit). Strings are quoted by
 * node-postgres's `escapeLiteral` (quotes and backslashes doubled, so no value can end its
 * literal) and may not hold NUL (the protocol's text ends there); numbers must be safe integers
 * (written in parentheses, so a minus sign never meets another); arrays become `ARRAY[…]` (the text
 * casts them to their type); null and undefined NULL; anything else is refused. `text` is our own
 * fixed SQL: it has no `$n` inside a quoted string or a comment.
 */
export function inlineValues(text: string, values: readonly unknown[]): string {
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'string') {
      if (v.includes('\u0000')) throw new Error('no SQL literal for text with a NUL character');
      return pg.escapeLiteral(v);
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error(`no SQL literal for the number ${v}`);
      return v < 0 ? `(${v})` : String(v);
    }
    if (Array.isArray(v)) return `ARRAY[${v.map(literal).join(', ')}]`;
    throw new Error(`no SQL literal for a ${typeof v}`);
  };
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const k = Number(n) - 1;
    if (k < 0 || k >= values.length) throw new Error(`no value for $${n}`);
    return literal(values[k]);
  });
}

const FLUSH_CHANGES = `
  WITH head AS (UPDATE change_head SET seq = seq + $1 WHERE id = 1 RETURNING seq),
  ins AS (
    INSERT INTO changes (seq, entity, entity_id, department_id, at)
    SELECT head.seq - $1 + c.n, c.entity, c.entity_id, c.department_id, c.at
    FROM head, unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS c(entity, entity_id, department_id, at, n)
  )
  SELECT seq, pg_notify('${CHANGES_CHANNEL}', $6::text || ' ' || seq::text) FROM head`;

export interface ImportAcc {
  errors: ImportRowError[];
  created: number;
  updated: number;
  workOrders: Set<string>;
}

export class Tx extends Sql {
  /** Change-log rows written so far, numbered at the end (commit). */
  readonly changes: PendingChange[] = [];
  /** What the current engine unit already logged for supervisors (cleared per unit, like its savepoint). */
  readonly unitLogged = new Set<string>();
  /** Tasks read or written by the current engine unit (cleared per unit), so nothing is read twice. */
  readonly unitTasks = new Map<string, Task>();
  private readonly users = new Map<string, UserRecord | null>();
  private readonly departments = new Map<string, Department | null>();
  private configCache: SiteConfig | null = null;
  private supervisionCache: SupervisionSettings | null = null;

  // -------------------------------------------------------------------------------------------
  // Pipelined writes (issue 9)

  /**
   * Set by pipelineWrites (runGroup, on a connection in node-postgres's pipeline mode): a write
   * whose answer nothing needs (`write`, `send`) goes out without waiting for it, and so do the
   * statements after it, up to the next one whose answer is needed (a read); PostgreSQL answers in
   * order, so by the time a read's answer arrives every write sent before it has been answered,
   * and `failed` holds the first that failed. Statements sent in one turn of the event loop leave
   * in one write to the socket (`cork`). A failure (a constraint, a lock wait past lock_timeout, a
   * lost link, a write that touched other rows than it must) makes every later statement fail too,
   * so the transaction is rolled back whole and run again without pipelining (PipelinedWriteFailed).
   */
  private pipeline: { failed: unknown } | null = null;
  private corked = false;

  /** Send writes without waiting for their answers, for the rest of this transaction (see `pipeline`). */
  pipelineWrites(): void {
    if ((this.c as pg.PoolClient & { pipeline?: boolean }).pipeline === true) this.pipeline = { failed: undefined };
  }

  get pipelined(): boolean {
    return this.pipeline !== null;
  }

  /** The statements sent in this turn of the event loop go out together, in one write. */
  private cork(): void {
    if (this.corked) return;
    const stream = (this.c as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
    if (!stream?.cork || !stream.uncork) return;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  private throwIfPipelineFailed(): void {
    if (this.pipeline && this.pipeline.failed !== undefined) throw new PipelinedWriteFailed(this.pipeline.failed);
  }

  protected override async ask(query: pg.QueryConfig | pg.QueryArrayConfig | string): Promise<pg.QueryResult> {
    if (!this.pipeline) return super.ask(query);
    this.cork();
    let answer: pg.QueryResult;
    try {
      answer = await super.ask(query);
    } catch (err) {
      // Failed because a write sent before it failed (the transaction is aborted): that one is the news.
      this.throwIfPipelineFailed();
      throw err;
    }
    this.throwIfPipelineFailed();
    return answer;
  }

  /**
   * A write whose answer is not needed: pipelined, or waited for as any other. `mustTouch`: how
   * many rows it must change, else the transaction fails with the error `wrong` names.
   */
  write(text: string, values: readonly unknown[], mustTouch?: number, wrong?: () => string): Promise<void> {
    return this.sendOff({ name: nameOf(text), text, values: values as unknown[] }, mustTouch, wrong);
  }

  /** Statements without parameters (savepoints, SET LOCAL), sent as text, whose answers are not needed: see `write`. */
  send(text: string): Promise<void> {
    return this.sendOff(text);
  }

  private async sendOff(query: pg.QueryConfig | string, mustTouch?: number, wrong?: () => string): Promise<void> {
    const problem = (touched: number) =>
      mustTouch !== undefined && touched !== mustTouch ? new Error(wrong?.() ?? `a write changed ${touched} rows, not ${mustTouch}`) : null;
    const p = this.pipeline;
    if (!p) {
      const found = problem((await super.ask(query)).rowCount ?? 0);
      if (found) throw found;
      return;
    }
    this.cork();
    this.unanswered.push(
      super.ask(query).then(
        (r) => {
          const found = problem(r.rowCount ?? 0);
          if (found && p.failed === undefined) p.failed = found;
        },
        (err: unknown) => {
          if (p.failed === undefined) p.failed = err;
        },
      ),
    );
  }

  /**
   * Pipelined statements not waited for (write, send, insertReturningId), until Tx.commit: it
   * waits for every one before it writes the log and COMMITs, so no failure (a write that touched
   * the wrong rows is one only to this code, not to PostgreSQL) can be found after the commit, and
   * every change-log row has its id. Answered by then, as a rule: the group's last read comes after them.
   */
  private readonly unanswered: Array<Promise<void>> = [];

  /**
   * An INSERT … RETURNING id whose id only the change-log rows `logged` need (they are in the log
   * already, in their place, and get it when the answer arrives): pipelined like `write`. Tx.commit
   * waits for every such answer before it writes the log (`unanswered`).
   */
  async insertReturningId(text: string, values: readonly unknown[], logged: readonly PendingChange[]): Promise<void> {
    const fill = (id: unknown) => {
      for (const change of logged) change.entityId = String(id);
    };
    const query = { name: nameOf(text), text, values: values as unknown[], rowMode: 'array' as const };
    const p = this.pipeline;
    if (!p) {
      fill((await super.ask(query)).rows[0]?.[0]);
      return;
    }
    this.cork();
    this.unanswered.push(
      super.ask(query).then(
        (r) => fill(r.rows[0]?.[0]),
        (err: unknown) => {
          if (p.failed === undefined) p.failed = err;
        },
      ),
    );
  }

  /**
   * Tasks whose open rejected/expired exceptions (RESOLVABLE_EXCEPTIONS_SQL) were none when read
   * under their row lock (taskFacts), and to which this transaction has added none since: a new
   * holder has nothing to resolve, so resolveTaskExceptions skips its UPDATE. Such exceptions are
   * only ever written by a unit that holds the task's row lock (a reject, an expiry), so nothing
   * else can add one while this transaction holds it.
   */
  private readonly nothingToResolve = new Set<string>();
  /** Tasks this transaction added an exception to. */
  private readonly exceptionsAdded = new Set<string>();

  /** A statement whose answer is needed, through the pipeline's checks (see `ask`). */
  query(text: string): Promise<pg.QueryResult> {
    return this.ask(text);
  }

  // -------------------------------------------------------------------------------------------
  // Units (runGroup): per-unit state, kept or dropped with the unit's savepoint

  private unitStart = 0;

  /**
   * PROTO-15: the tasks the group's units answered with (syncTask), by id. Each is "the task as it
   * is now", so all are completed once, as the group leaves them, just before its commit
   * (fillSyncTasks): one read per group instead of four per mutation.
   */
  private readonly groupSyncTasks = new Map<string, SyncTask[]>();
  private groupSyncNow = 0;
  /**
   * Each task's row as the group has left it so far, for the tasks its units wrote; a unit rolled
   * back puts back what it replaced (`unitUndo`).
   */
  private readonly groupTasks = new Map<string, Task>();
  private readonly unitUndo = new Map<string, Task | undefined>();

  // -------------------------------------------------------------------------------------------
  // Read ahead (runGroup): what the group's units will ask about, locked and read for all of them

  /** Tasks locked and read ahead (TASK_WITH_LATEST_ASSIGNMENT rows), by id. */
  private readonly aheadTasks = new Map<string, Row>();
  /** Operators locked ahead: their facts (OPERATOR_FACTS_MANY rows) by `user \0 task`. */
  private readonly aheadFacts = new Map<string, Row>();
  /** Terminals locked and read ahead (TERMINAL_SELECT rows), by id. */
  private readonly aheadTerminals = new Map<string, Row>();
  /** Stored outcomes read ahead by `terminal \0 mutation id` (null: none stored). */
  private readonly aheadOutcomes = new Map<string, StoredOutcome | null>();
  /**
   * What this transaction has written since (`t:` task, `u:` user, `k:` terminal): read ahead no
   * longer tells its state, so the unit that asks reads it (the lock is held already).
   */
  private readonly written = new Set<string>();

  /**
   * Lock and read, for the whole group in a few statements (two round trips when pipelined), what
   * `hints` say its units will ask about; a unit that asks for something read here and not written since gets it without a round
   * trip (taskFacts, operatorFacts, storedOutcome, terminalState). The locks are the same the
   * units would take (tasks and terminals FOR UPDATE, operators FOR NO KEY UPDATE), in id order,
   * with SKIP LOCKED: a row another transaction holds is left out (and an operator's facts for a
   * task left out), and the unit that needs it takes the lock itself, within runGroup's lock
   * timeouts. Each read is a statement after the locks that guard what it reads, so it sees
   * everything committed before them (READ COMMITTED, see readTask); it reads every row hinted,
   * and what it read of a row left out is dropped (an operator's record too: the unit that locks
   * them reads it after the lock). An operator is locked only with their task, as a unit takes
   * them. Call before the first unit's savepoint, so no unit's rollback gives the locks back early.
   */
  async readAhead(hints: readonly UnitHint[]): Promise<void> {
    const distinct = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => x !== undefined))];
    const taskIds = distinct(hints.map((h) => h.taskId));
    const none = async () => [] as Row[];
    // The tasks first: an operator is locked only with their task (or with none), in the order the
    // units take them (task, then operator), so a group does not hold an operator whose task
    // another transaction holds while that one waits for the operator.
    const [lockedTaskIds, taskRows] = await this.together([
      () => (taskIds.length > 0 ? this.column<string>('SELECT id FROM tasks WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE SKIP LOCKED', [taskIds]) : Promise.resolve([])),
      () => (taskIds.length > 0 ? this.rows(TASKS_WITH_LATEST_ASSIGNMENT, [taskIds]) : none()),
    ] as const);
    const lockedTasks = new Set(lockedTaskIds as string[]);
    for (const r of taskRows as Row[]) if (lockedTasks.has(r.id as string)) this.aheadTasks.set(r.id as string, r);
    const withTask = hints.filter((h) => h.userId && (h.taskId === undefined || lockedTasks.has(h.taskId)));
    const userIds = distinct(withTask.map((h) => h.userId));
    const pairs = new Map<string, { userId: string; taskId: string | null }>();
    for (const h of withTask) pairs.set(factsKey(h.userId!, h.taskId ?? null), { userId: h.userId!, taskId: h.taskId ?? null });
    const pairList = [...pairs.values()];
    const terminals = hints.flatMap((h) => (h.terminal ? [h.terminal] : []));
    const terminalIds = distinct(terminals.map((t) => t.id));
    // Then every other lock, and the reads they guard: one round trip when pipelined. A row another
    // transaction holds is left out of the lock's answer, and what was read of it is dropped.
    const [lockedUserIds, factRows, userRows, lockedTerminalIds, terminalRows, outcomeRows] = await this.together([
      () => (userIds.length > 0 ? this.column<string>('SELECT id FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED', [userIds]) : Promise.resolve([])),
      () => (pairList.length > 0 ? this.rows(OPERATOR_FACTS_MANY, [pairList.map((p) => p.userId), pairList.map((p) => p.taskId)]) : none()),
      () => (userIds.length > 0 ? this.rows(`${USER_SELECT} WHERE u.id = ANY($1::text[])`, [userIds]) : none()),
      () => (terminalIds.length > 0 ? this.column<string>('SELECT id FROM terminals WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE SKIP LOCKED', [terminalIds]) : Promise.resolve([])),
      () => (terminalIds.length > 0 ? this.rows(`${TERMINAL_SELECT} WHERE t.id = ANY($1::text[])`, [terminalIds]) : none()),
      () =>
        terminals.length > 0
          ? this.rows(
              `SELECT o.terminal_id, o.mutation_id, o.outcome, o.task_id FROM mutation_outcomes o
               JOIN unnest($1::text[], $2::bigint[]) AS k(terminal_id, mutation_id) ON o.terminal_id = k.terminal_id AND o.mutation_id = k.mutation_id`,
              [terminals.map((t) => t.id), terminals.map((t) => t.mutationId)],
            )
          : none(),
    ] as const);
    const lockedUsers = new Set(lockedUserIds as string[]);
    // An operator's facts for a task only with both locks: their cooldown on the task is written
    // under the task's lock alone (a release, a rejection), not the operator's.
    for (const r of factRows as Row[]) {
      const taskId = (r.task_id as string | null) ?? null;
      if (lockedUsers.has(r.user_id as string) && (taskId === null || lockedTasks.has(taskId))) this.aheadFacts.set(factsKey(r.user_id as string, taskId), r);
    }
    // A record read before its row's lock is not kept: the unit that locks them reads it after.
    for (const r of userRows as Row[]) if (lockedUsers.has(r.id as string) && !this.users.has(r.id as string)) this.users.set(r.id as string, userFromRow(r));
    const lockedTerminals = new Set(lockedTerminalIds as string[]);
    for (const r of terminalRows as Row[]) if (lockedTerminals.has(r.id as string)) this.aheadTerminals.set(r.id as string, r);
    const stored = new Map<string, StoredOutcome>();
    for (const r of outcomeRows as Row[]) stored.set(outcomeKey(r.terminal_id as string, Number(r.mutation_id)), storedOutcomeFromRow(r));
    for (const t of terminals) if (lockedTerminals.has(t.id)) this.aheadOutcomes.set(outcomeKey(t.id, t.mutationId), stored.get(outcomeKey(t.id, t.mutationId)) ?? null);
  }

  /**
   * Run reads: pipelined, all sent at once and then waited for (one round trip); otherwise one
   * after the other.
   */
  private async together<T extends ReadonlyArray<() => Promise<unknown>>>(reads: T): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
    type Answers = { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };
    if (this.pipeline) return (await Promise.all(reads.map((read) => read()))) as unknown as Answers;
    const answers: unknown[] = [];
    for (const read of reads) answers.push(await read());
    return answers as unknown as Answers;
  }

  /** Note what a write changes (null and '' entries are ignored). */
  private wrote(...keys: Array<string | null | undefined | ''>): void {
    for (const k of keys) if (k) this.written.add(k);
  }

  /** A row read ahead under `key` (`t:`, `u:` or `k:` and the id), unless written since. */
  private ahead<V>(map: Map<string, V>, written: string, key: string): V | undefined {
    return this.written.has(written) ? undefined : map.get(key);
  }

  beginUnit(): void {
    this.unitAuditStart = this.audits.length;
    this.unitTasks.clear();
    this.unitLogged.clear();
    this.unitUndo.clear();
    this.unitStart = this.changes.length;
  }

  /** The unit was rolled back to its savepoint: so are the changes it logged and the tasks it wrote. */
  dropUnit(): void {
    this.changes.length = this.unitStart;
    this.audits.length = this.unitAuditStart;
    for (const [id, before] of this.unitUndo) {
      if (before) this.groupTasks.set(id, before);
      else this.groupTasks.delete(id);
    }
    this.unitUndo.clear();
    this.unitTasks.clear();
    this.unitLogged.clear();
  }

  private noteTaskWritten(task: Task): void {
    if (!this.unitUndo.has(task.id)) this.unitUndo.set(task.id, this.groupTasks.get(task.id));
    this.groupTasks.set(task.id, task);
  }

  /** PROTO-15: complete every answer's task as the group leaves it (call before the commit). */
  async fillSyncTasks(): Promise<void> {
    if (this.groupSyncTasks.size === 0) return;
    const complete = await this.syncExtras([...this.groupSyncTasks.keys()], this.groupSyncNow);
    for (const [id, answers] of this.groupSyncTasks) {
      const latest = this.groupTasks.get(id);
      for (const answer of answers) Object.assign(answer, complete(latest ?? answer));
    }
  }

  /** Who writes, in change notifications (the store's tag; its own are not news to it). */
  notifyAs = '';

  /**
   * Write the audit rows kept so far, number and write the logged changes (FLUSH_CHANGES), and
   * COMMIT, all in one round trip (issue 9). Returns the new head, or null if nothing was logged.
   *
   * One round trip, not three: the change-log head's row lock is taken by the numbering and held to
   * the commit, and with a database on another machine every round trip it was held for (the
   * numbering's answer travelling back, then the COMMIT travelling there) was time in which no
   * other writer, on any instance, could number its changes. Now it is held from the numbering
   * through the database's commit (its WAL flush included), no longer across the network.
   * PostgreSQL runs a list of statements in one round trip only by its simple query protocol, which
   * takes no parameters, so the values are written into the text as literals (`inlineValues`); the
   * statements' own text is fixed.
   */
  async commit(): Promise<number | null> {
    if (this.unanswered.length > 0) {
      await Promise.all(this.unanswered.splice(0));
      this.throwIfPipelineFailed();
    }
    const c = this.changes;
    const changeValues = () => [c.length, c.map((x) => x.entity), c.map((x) => x.entityId), c.map((x) => x.departmentId), c.map((x) => x.at), this.notifyAs];
    const auditValues = () => {
      const columns = AUDIT_COLUMNS.split(', ').map((_, k) => this.audits.map((row) => row[k]));
      this.audits.length = 0;
      return columns;
    };
    if (c.length > INLINE_ROWS_MAX || this.audits.length > INLINE_ROWS_MAX) {
      // A large transaction (an import): its rows as parameters of the prepared statements, not as
      // megabytes of text to parse; the round trips saved matter little next to its own.
      if (this.audits.length > 0) await this.run(AUDIT_INSERT, auditValues());
      const head = c.length > 0 ? await this.value<number>(FLUSH_CHANGES, changeValues()) : null;
      await this.ask('COMMIT');
      return typeof head === 'number' ? head : null;
    }
    const statements: string[] = [];
    if (this.audits.length > 0) statements.push(inlineValues(AUDIT_INSERT, auditValues()));
    if (c.length > 0) statements.push(inlineValues(FLUSH_CHANGES, changeValues()));
    statements.push('COMMIT');
    const answer = (await this.ask(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
    const results = Array.isArray(answer) ? answer : [answer];
    // A transaction already aborted answers COMMIT with ROLLBACK, and no error.
    if (results[results.length - 1]?.command !== 'COMMIT') throw new Error('the transaction was rolled back at its commit');
    if (c.length === 0) return null;
    // Committed: a head that did not come back (no change_head row) is no reason to report failure.
    const head = (results[results.length - 2]?.rows[0] as { seq?: unknown } | undefined)?.seq;
    return typeof head === 'number' ? head : null;
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  async setting<T>(key: string): Promise<T> {
    return JSON.parse((await this.value<string>('SELECT value FROM settings WHERE key = $1', [key]))!) as T;
  }

  async putSetting(key: string, value: unknown): Promise<void> {
    await this.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
  }

  /**
   * What an engine group reads first, sent with its BEGIN in one round trip (runGroup), each read
   * as the unit's own ask would read it in this transaction: the site config, which every decision
   * weighs, and the departments of the tasks the hints name. No row lock guards either, so they
   * are read at the transaction's start rather than after its first unit's row locks: a value
   * changed while that unit waits for a lock is not seen by it, as later units of a group already
   * did not see one changed after the group's first read. (Users are not read here: an operator's
   * row is locked before their record is read, so a change committed meanwhile is seen.) Kept in
   * this Tx's caches (`tookOpening`), so the asks find them without a round trip.
   */
  static openingReads(hints: readonly UnitHint[]): OpeningReads {
    const taskIds = [...new Set(hints.map((h) => h.taskId).filter((x): x is string => x !== undefined))];
    const kinds: OpeningReads['kinds'] = ['config'];
    const text = [CONFIG_READ];
    if (taskIds.length > 0) {
      kinds.push('departments');
      text.push(inlineValues('SELECT d.* FROM departments d WHERE d.id IN (SELECT department_id FROM tasks WHERE id = ANY($1::text[]))', [taskIds]));
    }
    return { text: text.join('; '), kinds };
  }

  /** Take what the opening statements answered: the last results are `reads`' (if it was sent). */
  tookOpening(answer: unknown, reads: OpeningReads | null): void {
    if (!reads) return;
    const results = (Array.isArray(answer) ? answer : [answer]) as pg.QueryResult[];
    const mine = results.slice(results.length - reads.kinds.length);
    reads.kinds.forEach((kind, k) => {
      const rows = (mine[k]?.rows ?? []) as Row[];
      if (kind === 'config') {
        // One this release cannot read is left to the units' own reads, which fail as before.
        try {
          const value = rows[0]?.value;
          if (typeof value === 'string') this.configCache = parseConfig(value);
        } catch {
          this.configCache = null;
        }
      } else {
        for (const r of rows) this.departments.set(r.id as string, departmentFromRow(r));
      }
    });
  }

  /** The site config, read once per Tx (a group reads it with its BEGIN, or at its first unit that asks). */
  async readConfig(): Promise<SiteConfig> {
    this.configCache ??= parseConfig((await this.value<string>(CONFIG_READ))!);
    return this.configCache;
  }

  async readSupervision(): Promise<SupervisionSettings> {
    this.supervisionCache ??= supervisionSettingsSchema.parse(await this.setting('supervision'));
    return this.supervisionCache;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async readTask(id: string, lock = false): Promise<Task | null> {
    // The row lock is taken by a statement of its own and the row read by the next one: under READ
    // COMMITTED a statement that waited for a lock re-reads only the locked row, not what it joins
    // (the holder's name), while a statement started after the wait sees everything committed.
    const r = lock ? await this.lockThenRead('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [id], () => this.one(TASK_BY_ID, [id])) : await this.one(TASK_BY_ID, [id]);
    return r ? taskFromRow(r) : null;
  }

  /**
   * Take a row lock (`lock`, a statement of its own, see readTask), then `read`: sent together when
   * pipelined (one round trip; the read still runs after the lock is granted, as the next
   * statement). Undefined when the lock found no row.
   */
  private async lockThenRead<R>(lock: string, values: readonly unknown[], read: () => Promise<R>): Promise<R | undefined> {
    const [locked, answer] = await this.together([() => this.run(lock, values), read] as const);
    return locked === 0 ? undefined : answer;
  }

  async readUser(id: string): Promise<UserRecord | null> {
    let u = this.users.get(id);
    if (u === undefined) {
      const r = await this.one(`${USER_SELECT} WHERE u.id = $1`, [id]);
      u = r ? userFromRow(r) : null;
      this.users.set(id, u);
    }
    return u;
  }

  /** Many users at once, in the order asked: those not read yet in this Tx with one statement. */
  async readUsers(ids: readonly string[]): Promise<Array<UserRecord | null>> {
    const missing = [...new Set(ids.filter((id) => !this.users.has(id)))];
    if (missing.length > 0) {
      const found = new Map((await this.rows(`${USER_SELECT} WHERE u.id = ANY($1::text[])`, [missing])).map((r) => [r.id as string, userFromRow(r)]));
      for (const id of missing) this.users.set(id, found.get(id) ?? null);
    }
    return ids.map((id) => this.users.get(id) ?? null);
  }

  async readDepartment(id: string): Promise<Department | null> {
    let d = this.departments.get(id);
    if (d === undefined) {
      const r = await this.one('SELECT * FROM departments WHERE id = $1', [id]);
      d = r ? departmentFromRow(r) : null;
      this.departments.set(id, d);
    }
    return d;
  }

  /** A user's record changed in this transaction: read it again when asked. */
  forgetUser(id: string): void {
    this.users.delete(id);
  }

  forgetDepartment(id: string): void {
    this.departments.delete(id);
  }

  async terminalDepartments(terminalId: string): Promise<string[]> {
    return json<string[]>(await this.value('SELECT departments FROM terminals WHERE id = $1', [terminalId]), []);
  }

  async loadSyncTasks(ids: readonly string[], now: number): Promise<SyncTask[]> {
    if (ids.length === 0) return [];
    const rows = await this.rows(`${TASK_SELECT} WHERE t.id = ANY($1::text[]) ORDER BY t.id`, [[...ids]]);
    const complete = await this.syncExtras(ids, now);
    return rows.map((r) => complete(taskFromRow(r)));
  }

  /** What terminals get with each task besides its row: cooldowns, who worked it, its assignment, its last rejection. */
  async syncExtras(ids: readonly string[], now: number): Promise<(task: Task) => SyncTask> {
    // One statement (a round trip) for the four: each comes back as one JSON array.
    const r = (await this.one(SYNC_EXTRAS, [[...ids], now]))!;
    const cooldowns = new Map<string, Array<{ userId: string; until: number }>>();
    for (const [taskId, userId, until] of json<Array<[string, string, number]>>(r.cooldowns, [])) {
      const arr = cooldowns.get(taskId) ?? [];
      arr.push({ userId, until });
      cooldowns.set(taskId, arr);
    }
    const worked = new Map<string, string[]>();
    for (const [taskId, userId] of json<Array<[string, string]>>(r.worked, [])) {
      const arr = worked.get(taskId) ?? [];
      arr.push(userId);
      worked.set(taskId, arr);
    }
    const assignments = new Map(json<Row[]>(r.assignments, []).map((a) => [a.task_id as string, assignmentInfo(a)]));
    const rejections = new Map(json<Row[]>(r.rejections, []).map((a) => [a.task_id as string, rejectionInfo(a)]));
    return (t) => ({
      ...t,
      cooldowns: cooldowns.get(t.id) ?? [],
      workedBy: worked.get(t.id) ?? [],
      assignment: assignments.get(t.id) ?? null,
      lastRejection: rejections.get(t.id) ?? null,
    });
  }

  /** One task as sent to terminals: the task and what goes with it, in one statement. */
  async loadSyncTask(id: string, now: number): Promise<SyncTask | null> {
    const task = this.unitTasks.get(id) ?? (await this.readTask(id));
    if (!task) return null;
    const r = (await this.one(
      `SELECT
         (SELECT COALESCE(json_agg(json_build_array(c.user_id, c.until) ORDER BY c.user_id), '[]'::json)::text
            FROM cooldowns c WHERE c.task_id = $1 AND c.until > $2) AS cooldowns,
         (SELECT COALESCE(json_agg(DISTINCT a.user_id ORDER BY a.user_id), '[]'::json)::text
            FROM assignments a WHERE a.task_id = $1 AND ${workedSql('a.')}) AS worked_by,
         (SELECT row_to_json(x)::text FROM (${ASSIGNMENT_INFO} WHERE a.task_id = $1 AND a.status IN ${ACTIVE_ASSIGNMENT_SQL} LIMIT 1) x) AS assignment,
         (SELECT row_to_json(x)::text FROM (${REJECTION_INFO} WHERE a.task_id = $1 AND a.status = 'rejected' ORDER BY a.id DESC LIMIT 1) x) AS rejection`,
      [id, now],
    ))!;
    const a = json<Row | null>(r.assignment, null);
    const rj = json<Row | null>(r.rejection, null);
    return {
      ...task,
      cooldowns: json<Array<[string, number]>>(r.cooldowns, []).map(([userId, until]) => ({ userId, until })),
      // JS order (UTF-16), as the SQLite store sorts it.
      workedBy: json<string[]>(r.worked_by, []).sort(),
      assignment: a ? assignmentInfo(a) : null,
      lastRejection: rj ? rejectionInfo(rj) : null,
    };
  }

  async loadDirectoryUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    if (ids.length === 0) return [];
    const list = [...ids];
    // CAP-3: each user's active tasks per department, plant-wide.
    const held = new Map<string, Record<string, number>>();
    for (const r of await this.rows(
      `SELECT operator_id, COALESCE(department_id, '') AS d, COUNT(*) AS n FROM tasks
       WHERE operator_id = ANY($1::text[]) AND status IN ('pending', 'in_progress') GROUP BY operator_id, department_id`,
      [list],
    )) {
      const m = held.get(r.operator_id as string) ?? {};
      m[r.d as string] = r.n as number;
      held.set(r.operator_id as string, m);
    }
    return (await this.rows(`${USER_SELECT} WHERE u.id = ANY($1::text[]) ORDER BY u.id`, [list])).map(userFromRow).map((u) => directoryUser(u, held.get(u.id) ?? {}));
  }

  /** NTF-1: notifications as kiosks show them, with the task's label and who acted. */
  async loadTerminalNotifications(ids: readonly string[]): Promise<TerminalNotification[]> {
    if (ids.length === 0) return [];
    return (
      await this.rows(
        `SELECT n.*, b.display_name AS by_name, wo.number AS wo_number, t.step, t.work_content
         FROM notifications n
         LEFT JOIN users b ON b.id = n.by_user_id
         LEFT JOIN tasks t ON t.id = n.task_id
         LEFT JOIN work_orders wo ON wo.id = t.work_order_id
         WHERE n.id = ANY($1::bigint[]) ORDER BY n.id`,
        [numericIds(ids)],
      )
    )
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

  /** PERF-1: each user's performance over the configured window replaces the starting score they carry. */
  async withPerformance(now: number, users: UserRecord[]): Promise<UserRecord[]> {
    if (users.length === 0) return users;
    const fromDay = epochDay(now) - (await this.readSupervision()).performanceWindowDays + 1;
    const counts = new Map<string, { submitted: number; rejected: number; expired: number }>();
    for (const r of await this.rows(
      `SELECT user_id, SUM(submitted) AS s, SUM(rejected) AS r, SUM(expired) AS e FROM operator_daily
       WHERE user_id = ANY($1::text[]) AND day >= $2 GROUP BY user_id`,
      [users.map((u) => u.id), fromDay],
    )) {
      counts.set(r.user_id as string, { submitted: r.s as number, rejected: r.r as number, expired: r.e as number });
    }
    return users.map((u) => ({ ...u, qualityScore: performanceScore(counts.get(u.id) ?? { submitted: 0, rejected: 0, expired: 0 }, u.qualityScore) }));
  }

  /** Active supervisors of a department (SUP-5 tells them). */
  async supervisorsOf(departmentId: string): Promise<string[]> {
    return this.column<string>(
      `SELECT u.id FROM users u JOIN user_departments ud ON ud.user_id = u.id
       WHERE ud.department_id = $1 AND u.active = 1 AND ${hasRole("'supervisor'")}
       ORDER BY u.id`,
      [departmentId],
    );
  }

  // -------------------------------------------------------------------------------------------
  // Change log (numbered at the end of the transaction: commit)

  logChange(entity: string, entityId: string, departmentId: string, now: number): PendingChange {
    const change = { entity, entityId, departmentId, at: now };
    this.changes.push(change);
    return change;
  }

  logTask(taskId: string, departmentIds: ReadonlyArray<string | null>, now: number): void {
    for (const d of new Set(departmentIds.map((x) => x ?? NO_DEPARTMENT))) this.logChange('task', taskId, d, now);
  }

  logUser(userId: string, departmentIds: readonly string[], now: number): void {
    for (const d of new Set(departmentIds)) this.logChange('user', userId, d, now);
  }

  private logOnce(entity: string, entityId: string, key: string, now: number): void {
    const k = `${entity}\u0000${entityId}\u0000${key}`;
    if (this.unitLogged.has(k)) return;
    this.unitLogged.add(k);
    this.logChange(entity, entityId, key, now);
  }

  /** An operator's load, performance or presence changed: their supervisors' pages show it (SUP-3). */
  async logPerson(userId: string | null, now: number): Promise<void> {
    if (!userId) return;
    for (const d of (await this.readUser(userId))?.departmentIds ?? []) this.logOnce('person', userId, route.supervisors(d), now);
  }

  /** A terminal's state changed (connection, outbox, who is signed in): its supervisors' pages show it. */
  logTerminal(terminalId: string, departments: readonly string[], now: number): void {
    for (const d of new Set(departments)) this.logOnce('terminal', terminalId, route.supervisors(d), now);
  }

  /** `id` null: not known yet (insertReturningId fills it in). */
  logException(id: number | null, departmentId: string | null, now: number): PendingChange {
    return this.logChange('exception', id === null ? '' : String(id), departmentId ? route.supervisors(departmentId) : route.allSupervisors, now);
  }

  /**
   * Log a change of a user's own data for the kiosks of their departments (a terminal's directory
   * holds its departments' users), except `exceptDepartment`, whose kiosks learn it another way.
   */
  private async logToKiosks(entity: string, entityId: string, userId: string, exceptDepartment: string | null, now: number): Promise<void> {
    for (const d of (await this.readUser(userId))?.departmentIds ?? []) if (d !== exceptDepartment) this.logOnce(entity, entityId, d, now);
  }

  // -------------------------------------------------------------------------------------------
  // Writes shared by the engine and the admin paths

  /**
   * Store a notification. Operators' news goes to the kiosks of their departments (NTF-1), unless
   * it is `read` already (they saw it happen); supervisors' to their overview pages, as does all news
   * of a user who may have one (SUP-1: a lead who also works tasks; their own claim, made read, went
   * to no page, though a fresh view of it shows it).
   */
  async insertNotification(
    n: { userId: string; event: string; taskId: string | null; byUserId: string | null; details: Record<string, unknown> },
    now: number,
    to: { read?: boolean; overview?: boolean },
  ): Promise<void> {
    // Its change-log rows are logged now, in their place, and learn the new row's id from the answer.
    const logged: PendingChange[] = [];
    if (to.overview || mayHaveOverview(await this.readUser(n.userId))) logged.push(this.logChange('notification', '', route.user(n.userId), now));
    if (!to.read && isOperatorEvent(n.event)) {
      for (const d of (await this.readUser(n.userId))?.departmentIds ?? []) logged.push(this.logChange('notification', '', d, now));
    }
    await this.insertReturningId(
      'INSERT INTO notifications (user_id, event, task_id, by_user_id, created_at, details, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [n.userId, n.event, n.taskId, n.byUserId, now, JSON.stringify(n.details), to.read ? now : null],
      logged,
    );
  }

  /**
   * SUP-4: a task that found a new holder (or was cancelled) no longer waits for a supervisor:
   * its open rejected/expired exceptions are resolved, naming what happened and who did it.
   */
  private async resolveTaskExceptions(taskId: string, resolution: string, byUserId: string | null, now: number): Promise<void> {
    if (this.nothingToResolve.has(taskId)) return;
    const resolved = await this.rows(
      `UPDATE exceptions SET acknowledged_at = $2, acknowledged_by = $3, resolution = $4
       WHERE task_id = $1 AND acknowledged_at IS NULL AND kind IN ${RESOLVABLE_EXCEPTIONS_SQL}
       RETURNING id, department_id`,
      [taskId, now, byUserId, resolution],
    );
    resolved.sort((a, b) => (a.id as number) - (b.id as number));
    for (const r of resolved) this.logException(r.id as number, (r.department_id as string | null) ?? null, now);
  }

  private async taskDepartment(taskId: string): Promise<string | null> {
    const known = this.unitTasks.get(taskId);
    if (known) return known.departmentId;
    return (await this.value<string | null>('SELECT department_id FROM tasks WHERE id = $1', [taskId])) ?? null;
  }

  async insertException(e: NewException, now: number): Promise<void> {
    this.nothingToResolve.delete(e.taskId);
    this.exceptionsAdded.add(e.taskId);
    const departmentId = await this.taskDepartment(e.taskId);
    const logged = [this.logException(null, departmentId, now)];
    await this.insertReturningId(
      `INSERT INTO exceptions (kind, task_id, department_id, user_id, user_name, holder_id, holder_name, terminal_id, operation, error_code, reason, waited_ms, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        e.kind,
        e.taskId,
        departmentId,
        e.userId,
        e.userId ? ((await this.readUser(e.userId))?.displayName ?? null) : null,
        e.holder?.id ?? null,
        e.holder?.name ?? null,
        e.terminalId,
        e.operation,
        e.errorCode,
        e.reason,
        e.waitedMs === null ? null : Math.round(e.waitedMs),
        now,
      ],
      logged,
    );
  }

  async applyEffect(e: Effect, now: number): Promise<void> {
    switch (e.kind) {
      case 'task': {
        const known = this.unitTasks.get(e.taskId) ?? (await this.readTask(e.taskId, true));
        if (!known) throw new Error(`task ${e.taskId} does not exist`);
        await this.write(
          'UPDATE tasks SET operator_id = $1, status = $2, version = $3, updated_at = $4 WHERE id = $5 AND version = $6',
          [e.operatorId, e.status, e.version, now, e.taskId, e.version - 1],
          1,
          () => `task ${e.taskId} changed under the engine (expected version ${e.version - 1})`,
        );
        this.wrote(`t:${e.taskId}`, known.operatorId && `u:${known.operatorId}`, e.operatorId && `u:${e.operatorId}`);
        this.logTask(e.taskId, [known.departmentId], now);
        // SUP-3: a holder who lost the task has a new load; supervisors' pages are told.
        if (known.operatorId !== null && known.operatorId !== e.operatorId) await this.logPerson(known.operatorId, now);
        // CAP-3: a holder whose count of active tasks changed: kiosks of their other departments are told.
        const heldBefore = isActiveTaskStatus(known.status) ? known.operatorId : null;
        const heldAfter = isActiveTaskStatus(e.status) ? e.operatorId : null;
        if (heldBefore !== heldAfter) {
          if (heldBefore) await this.logToKiosks('user', heldBefore, heldBefore, known.departmentId, now);
          if (heldAfter) await this.logToKiosks('user', heldAfter, heldAfter, known.departmentId, now);
        }
        if (e.status === 'cancelled') await this.resolveTaskExceptions(e.taskId, 'cancelled', null, now);
        const after: Task = { ...known, operatorId: e.operatorId, operatorName: e.operatorName, status: e.status, version: e.version, updatedAt: now };
        this.unitTasks.set(e.taskId, after);
        this.noteTaskWritten(after);
        return;
      }
      case 'assignment.open': {
        this.wrote(`t:${e.taskId}`, `u:${e.userId}`);
        const workOrderId =
          this.unitTasks.get(e.taskId)?.workOrderId ?? (await this.value<string>('SELECT work_order_id FROM tasks WHERE id = $1', [e.taskId]));
        await this.write(
          `INSERT INTO assignments (task_id, user_id, step, work_order_id, status, assigned_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [e.taskId, e.userId, e.step, workOrderId, e.status, e.assignedBy, now, now],
        );
        await this.resolveTaskExceptions(e.taskId, e.assignedBy === e.userId ? 'claimed' : 'assigned', e.assignedBy, now);
        return;
      }
      case 'assignment.update': {
        this.wrote(`t:${e.taskId}`, `u:${e.userId}`);
        const ended = ACTIVE_ASSIGNMENT_STATUSES.includes(e.status) ? null : now;
        await this.write(
          `UPDATE assignments SET status = $1, reason = COALESCE($2, reason), updated_at = $3,
             started_at = CASE WHEN $1 = 'in_progress' THEN $3 ELSE started_at END,
             ended_at = $4
           WHERE task_id = $5 AND user_id = $6 AND status IN ${ACTIVE_ASSIGNMENT_SQL}`,
          [e.status, e.reason, now, ended, e.taskId, e.userId],
          1,
          () => `no active assignment of ${e.userId} on ${e.taskId}`,
        );
        if (e.status === 'submitted' || e.status === 'rejected' || e.status === 'expired') {
          // PERF-1: the operator's history, one row per day.
          await this.write(
            `INSERT INTO operator_daily (user_id, day, ${e.status}) VALUES ($1, $2, 1)
             ON CONFLICT (user_id, day) DO UPDATE SET ${e.status} = operator_daily.${e.status} + 1`,
            [e.userId, epochDay(now)],
          );
        }
        return;
      }
      case 'cooldown':
        this.wrote(`t:${e.taskId}`, `u:${e.userId}`);
        await this.write(
          'INSERT INTO cooldowns (task_id, user_id, until) VALUES ($1, $2, $3) ON CONFLICT (task_id, user_id) DO UPDATE SET until = excluded.until',
          [e.taskId, e.userId, e.until],
        );
        return;
      case 'notify':
        await this.insertNotification({ userId: e.userId, event: e.event, taskId: e.taskId, byUserId: e.byUserId, details: e.details ?? {} }, now, {
          read: e.read === true,
        });
        return;
      case 'exception':
        await this.insertException(
          { kind: e.exception, taskId: e.taskId, userId: e.userId, holder: null, terminalId: null, operation: null, errorCode: null, reason: e.reason, waitedMs: null },
          now,
        );
        return;
      case 'notifySupervisors':
        for (const userId of await this.supervisorsOf(e.departmentId)) {
          await this.insertNotification(
            { userId, event: e.event, taskId: e.taskId, byUserId: e.byUserId, details: { departmentId: e.departmentId, ...(e.reason ? { reason: e.reason } : {}) } },
            now,
            { overview: true },
          );
        }
        return;
    }
  }

  /** An audit row's values, in AUDIT_COLUMNS order. */
  private async auditRow(entry: AuditEntry, now: number): Promise<unknown[]> {
    // SUP-6: an event about a task is filed under the task's department, so supervisors find it; one
    // at a terminal without a task (a sign-in) under the terminal's department its actor is in.
    const departmentId = entry.taskId
      ? await this.taskDepartment(entry.taskId)
      : entry.terminalId
        ? terminalAuditDepartment(await this.terminalDepartments(entry.terminalId), entry.actorId ? (await this.readUser(entry.actorId))?.departmentIds : undefined)
        : null;
    return [now, entry.action, entry.outcome, entry.actorId, entry.terminalId, entry.via, entry.taskId, JSON.stringify(entry.details), departmentId];
  }

  async writeAudit(entry: AuditEntry, now: number): Promise<void> {
    await this.run(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, await this.auditRow(entry, now));
  }

  /**
   * The engine units' audit rows, kept until the transaction ends and written then in one statement
   * (commit), in the order the units wrote them: nothing reads them before the commit, and a
   * unit rolled back drops its own (dropUnit). One round trip per group instead of one per unit.
   */
  private readonly audits: unknown[][] = [];
  private unitAuditStart = 0;

  /**
   * Mark a user's unread notifications read (all when `ids` is null): their overview pages and the
   * kiosks of their departments are told (NTF-2). Returns how many changed.
   */
  async readNotifications(userId: string, ids: readonly number[] | null, now: number): Promise<number> {
    const unread =
      ids === null
        ? await this.rows('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL RETURNING id, event', [userId, now])
        : await this.rows('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL AND id = ANY($3::bigint[]) RETURNING id, event', [
            userId,
            now,
            numericIds(ids),
          ]);
    unread.sort((a, b) => (a.id as number) - (b.id as number));
    for (const r of unread) {
      const id = String(r.id);
      this.logChange('notification', id, route.user(userId), now);
      if (isOperatorEvent(r.event as string)) await this.logToKiosks('notification', id, userId, null, now);
    }
    return unread.length;
  }

  // -------------------------------------------------------------------------------------------
  // The engine's questions (TxOps), answered with await

  /**
   * The operator's facts, read under the operator's row lock. The operator's row is the lock for
   * what is decided about them (CAP, XSTEP, COOL): two transactions giving one operator two
   * different tasks (two instances, or two groups of one instance) take turns, and the second
   * counts the first's task. The lock is its own statement, so the facts are read after the wait
   * (READ COMMITTED). NO KEY UPDATE: rows that merely refer to the user (assignments,
   * notifications) are not held up. Without `wait`, an operator another transaction holds gives
   * null at once (SKIP LOCKED).
   */
  private async operatorFactsLocked(userId: string, task: Task | null, wait: boolean): Promise<OperatorFacts | null> {
    const r = this.ahead(this.aheadFacts, `u:${userId}`, factsKey(userId, task?.id ?? null)) ?? (await this.operatorFactsRow(userId, task, wait));
    if (!r) return null;
    return {
      userId,
      user: await this.readUser(userId),
      activeCount: Number(r.active),
      cooldownUntil: task ? ((r.cooldown as number | null) ?? null) : null,
      workedSteps: task ? [...new Set(json<string[]>(r.steps, []))] : [],
    };
  }

  /** operatorFactsLocked's lock and read, one operator (null: `wait` is false and another transaction holds them). */
  private async operatorFactsRow(userId: string, task: Task | null, wait: boolean): Promise<Row | null> {
    // Their record too is read after the lock, whatever this transaction read of it before: a new
    // limit or a deactivation committed meanwhile is seen (INST-1).
    this.forgetUser(userId);
    const [locked, facts] = await this.together([
      () => this.run(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE${wait ? '' : ' SKIP LOCKED'}`, [userId]),
      () => this.rows(OPERATOR_FACTS_MANY, [[userId], [task?.id ?? null]]),
      () => this.readUser(userId),
    ] as const);
    if (!wait && locked === 0) {
      this.forgetUser(userId); // read without the lock: not kept
      return null;
    }
    return facts[0]!;
  }

  readonly ops: AsyncTxOps = {
    config: () => this.readConfig(),
    storedOutcome: async (terminalId, mutationId) => {
      // The terminal's row is the lock: taken before the outcome is looked up, so a mutation re-sent
      // to a second server instance while the first still commits it waits, then finds its outcome.
      const ahead = this.ahead(this.aheadOutcomes, `k:${terminalId}`, outcomeKey(terminalId, mutationId));
      if (ahead !== undefined) return ahead;
      const r = await this.lockThenRead('SELECT 1 FROM terminals WHERE id = $1 FOR UPDATE', [terminalId], () =>
        this.one('SELECT outcome, task_id FROM mutation_outcomes WHERE terminal_id = $1 AND mutation_id = $2', [terminalId, mutationId]),
      );
      return r === undefined ? null : storedOutcomeFromRow(r);
    },
    terminalState: async (terminalId): Promise<TerminalState | null> => {
      // The terminal's row is the lock (a mutation re-sent to a second instance while the first
      // still commits it waits here, then finds its outcome: the engine reads the terminal first).
      // Taken in a statement of its own: a read that waited for the lock in the same statement
      // would see the presence row joined to it as it was before the wait.
      let r = this.ahead(this.aheadTerminals, `k:${terminalId}`, terminalId);
      if (r === undefined) r = await this.lockThenRead('SELECT 1 FROM terminals WHERE id = $1 FOR UPDATE', [terminalId], () => this.one(`${TERMINAL_SELECT} WHERE t.id = $1`, [terminalId]));
      if (!r) return null;
      const t = terminalFromRow(r);
      return {
        id: t.id,
        name: t.name,
        departments: t.departments,
        active: t.active,
        lastMutationId: t.lastMutationId,
        clockOffsetMs: t.clockOffsetMs,
        presenceUserId: t.signedInUserId,
      };
    },
    user: (userId) => this.readUser(userId),
    taskFacts: async (taskId): Promise<TaskFactsRow> => {
      // FOR UPDATE: two server instances deciding about one task take turns (the task's row is the
      // lock, its own statement: see readTask). The read after it brings the task's latest
      // assignment along: the holder's (ACC-1), or a rejection nothing followed yet (NTF-3).
      const ahead = this.ahead(this.aheadTasks, `t:${taskId}`, taskId);
      const r = ahead ?? (await this.lockThenRead('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [taskId], () => this.one(TASKS_WITH_LATEST_ASSIGNMENT, [[taskId]])));
      // Read under the lock; read ahead, it knows nothing of exceptions this transaction added since.
      if (r?.awaits_resolution === false && (ahead === undefined || !this.exceptionsAdded.has(taskId))) this.nothingToResolve.add(taskId);
      else this.nothingToResolve.delete(taskId);
      const task = r ? taskFromRow(r) : null;
      if (task) this.unitTasks.set(taskId, task);
      const latest = r ? json<Row | null>(r.latest_assignment, null) : null;
      const status = latest?.status as AssignmentStatus | undefined;
      return {
        task,
        department: task?.departmentId ? await this.readDepartment(task.departmentId) : null,
        owner: task?.operatorId ? { id: task.operatorId, name: task.operatorName ?? task.operatorId } : null,
        holderAssignment:
          status && ACTIVE_ASSIGNMENT_STATUSES.includes(status) && latest!.user_id === task?.operatorId
            ? { status, assignedBy: latest!.assigned_by as string }
            : null,
        rejection:
          status === 'rejected'
            ? { userId: latest!.user_id as string, userName: (await this.readUser(latest!.user_id as string))?.displayName ?? String(latest!.user_id), awaiting: true }
            : null,
      };
    },
    operatorFacts: async (userId, task): Promise<OperatorFacts> => (await this.operatorFactsLocked(userId, task, true))!,
    operatorFactsUnlessBusy: (userId, task) => this.operatorFactsLocked(userId, task, false),
    // AUTO-1, ASG-7: every operator's facts for one task in four statements, not three per operator.
    // Unlocked, for ranking: the engine asks operatorFactsUnlessBusy (which locks) for its pick.
    operatorFactsMany: async (userIds, task): Promise<OperatorFacts[]> => {
      if (userIds.length === 0) return [];
      const list = [...userIds];
      const active = new Map<string, number>();
      for (const r of await this.rows(
        `SELECT operator_id, COUNT(*) AS n FROM tasks WHERE operator_id = ANY($1::text[]) AND status IN ('pending', 'in_progress') GROUP BY operator_id`,
        [list],
      )) {
        active.set(r.operator_id as string, r.n as number);
      }
      const cooldowns = new Map<string, number>();
      const worked = new Map<string, Set<string>>();
      if (task) {
        for (const r of await this.rows('SELECT user_id, until FROM cooldowns WHERE task_id = $1 AND user_id = ANY($2::text[])', [task.id, list])) {
          cooldowns.set(r.user_id as string, r.until as number);
        }
        for (const r of await this.rows(
          `SELECT user_id, step FROM assignments WHERE work_order_id = $1 AND user_id = ANY($2::text[]) AND ${WORKED_SQL} ORDER BY id`,
          [task.workOrderId, list],
        )) {
          const steps = worked.get(r.user_id as string) ?? new Set<string>();
          steps.add(r.step as string);
          worked.set(r.user_id as string, steps);
        }
      }
      const users = await this.readUsers(userIds);
      return userIds.map((userId, i) => ({
        userId,
        user: users[i]!,
        activeCount: active.get(userId) ?? 0,
        cooldownUntil: cooldowns.get(userId) ?? null,
        workedSteps: [...(worked.get(userId) ?? [])],
      }));
    },
    applyEffects: async (effects, now) => {
      for (const e of effects) await this.applyEffect(e, now);
    },
    setPresence: async (terminalId, userId, now) => {
      this.wrote(`k:${terminalId}`);
      const before = (await this.value<string>('SELECT user_id FROM presence WHERE terminal_id = $1', [terminalId])) ?? null;
      if (userId === null) await this.write('DELETE FROM presence WHERE terminal_id = $1', [terminalId]);
      else
        await this.write(
          `INSERT INTO presence (terminal_id, user_id, signed_in_at) VALUES ($1, $2, $3)
           ON CONFLICT (terminal_id) DO UPDATE SET user_id = excluded.user_id, signed_in_at = excluded.signed_in_at`,
          [terminalId, userId, now],
        );
      // SUP-3: who is where.
      this.logTerminal(terminalId, await this.terminalDepartments(terminalId), now);
      await this.logPerson(before, now);
      if (userId !== before) await this.logPerson(userId, now);
    },
    recordException: (e, now) => this.insertException(e, now),
    readNotifications: (userId, ids, now) => this.readNotifications(userId, ids, now),
    recordOutcome: async (terminalId, mutationId, name, outcome, now) => {
      this.wrote(`k:${terminalId}`);
      const stored = outcomeToStore(outcome);
      await this.write('INSERT INTO mutation_outcomes (terminal_id, mutation_id, name, outcome, task_id, processed_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        terminalId,
        mutationId,
        name,
        stored.outcome,
        stored.taskId,
        now,
      ]);
      await this.write('UPDATE terminals SET last_mutation_id = GREATEST(last_mutation_id, $1) WHERE id = $2', [mutationId, terminalId]);
    },
    audit: async (entry, now) => {
      this.audits.push(await this.auditRow(entry, now));
    },
    syncTask: async (taskId, now) => {
      // PROTO-15: the task's own row now (what the unit goes on to read: holder, status); the rest
      // is filled in for the whole group at its end (fillSyncTasks).
      const task = this.unitTasks.get(taskId) ?? (await this.readTask(taskId));
      if (!task) return null;
      const synced: SyncTask = { ...task, cooldowns: [], workedBy: [], assignment: null, lastRejection: null };
      this.groupSyncNow = now;
      const list = this.groupSyncTasks.get(taskId);
      if (list) list.push(synced);
      else this.groupSyncTasks.set(taskId, [synced]);
      return synced;
    },
    unstartedAssignments: async (createdBefore, limit) =>
      (
        await this.rows(
          `SELECT task_id, user_id, status, created_at, started_at FROM assignments
           WHERE status IN ('assigned', 'accepted') AND created_at <= $1 ORDER BY created_at, id LIMIT $2`,
          [createdBefore, limit],
        )
      ).map((r) => ({
        taskId: r.task_id as string,
        userId: r.user_id as string,
        status: r.status as 'assigned' | 'accepted',
        createdAt: r.created_at as number,
        startedAt: (r.started_at as number | null) ?? null,
      })),
    // SKIP LOCKED: a task another server instance is deciding about right now is not offered to this
    // run (with one instance nothing is skipped: a transaction never waits for its own locks).
    unassignedTasks: async (departmentId, limit, exclude) =>
      (
        await this.rows(
          `${TASK_SELECT} WHERE t.department_id = $1 AND t.status = 'pending' AND t.operator_id IS NULL AND t.id <> ALL($2::text[])
           ORDER BY ${claimableOrderSql('t')} LIMIT $3 FOR UPDATE OF t SKIP LOCKED`,
          [departmentId, [...exclude], limit],
        )
      ).map(taskFromRow),
    departmentOperators: async (departmentId, now) =>
      this.withPerformance(
        now,
        (
          await this.rows(
            `${USER_SELECT} WHERE u.active = 1 AND EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = $1)
             AND ${hasRole("'operator'")} ORDER BY u.id`,
            [departmentId],
          )
        ).map(userFromRow),
      ),
    pickerOperators: async (departmentIds, now) =>
      this.withPerformance(
        now,
        (departmentIds === null
          ? await this.rows(`${USER_SELECT} WHERE ${hasRole("'operator'")} ORDER BY u.id`)
          : await this.rows(
              `${USER_SELECT} WHERE EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = ANY($1::text[]))
               AND ${hasRole("'operator'")} ORDER BY u.id`,
              [[...departmentIds]],
            )
        ).map(userFromRow),
      ),
    roundRobinLast: async (departmentId, step) =>
      (await this.value<string>('SELECT last_user_id FROM round_robin WHERE department_id = $1 AND step = $2', [departmentId, step])) ?? null,
    setRoundRobinLast: async (departmentId, step, userId) => {
      await this.run(
        `INSERT INTO round_robin (department_id, step, last_user_id) VALUES ($1, $2, $3)
         ON CONFLICT (department_id, step) DO UPDATE SET last_user_id = excluded.last_user_id`,
        [departmentId, step, userId],
      );
    },
  };

  // -------------------------------------------------------------------------------------------
  // Import (IMP-1)

  /** Check and write one import row; a refusal becomes a row error in `acc`. */
  async importRow(row: ImportTaskRow, rowNo: number, now: number, scope: { departmentIds: readonly string[] } | undefined, acc: ImportAcc): Promise<void> {
    const outside = outOfScope(row.departmentId, rowNo, scope);
    if (outside) {
      acc.errors.push(outside);
      return;
    }
    if (row.departmentId && !(await this.readDepartment(row.departmentId))) {
      acc.errors.push(importRowError(rowNo, 'departmentId', 'department_missing', { departmentId: row.departmentId }));
      return;
    }
    const woId = row.workOrderNumber;
    await this.run(
      `INSERT INTO work_orders (id, number, title, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE work_orders.title END`,
      [woId, row.workOrderNumber, row.workOrderTitle, now],
    );
    acc.workOrders.add(woId);
    // Locked: an engine group on another connection may be deciding about this task right now.
    const existing = await this.readTask(row.taskId, true);
    const problem = existing && changeProblem(row, rowNo, existing, scope);
    if (problem) {
      acc.errors.push(problem);
      return;
    }
    if (!existing) {
      await this.run(
        `INSERT INTO tasks (id, work_order_id, step, work_content, department_id, status, priority, due_at, required_skills, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11)`,
        [row.taskId, woId, row.step, row.workContent, row.departmentId, row.status, row.priority, row.dueAt, JSON.stringify(row.requiredSkills), now, now],
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
    await this.run(
      `UPDATE tasks SET step = $1, work_content = $2, department_id = $3, status = $4, priority = $5, due_at = $6, required_skills = $7,
         version = version + 1, updated_at = $8 WHERE id = $9`,
      [row.step, row.workContent, row.departmentId, status, row.priority, row.dueAt, JSON.stringify(row.requiredSkills), now, row.taskId],
    );
    this.logTask(row.taskId, [existing.departmentId, row.departmentId], now);
    acc.updated++;
  }
}

/** Ids as whole numbers for a bigint[] parameter (anything else can match no row). */
export function numericIds(ids: ReadonlyArray<number | string>): number[] {
  return ids.map(Number).filter((n) => Number.isSafeInteger(n));
}
