/**
 * The PostgreSQL store against a real throwaway cluster (test/support/pg-cluster.ts): the whole
 * store contract suite (every backend passes it), then what is PostgreSQL's own: the schema's
 * constraints, migrations and their refusal of a newer database, ordering as SQLite orders,
 * change-log numbering with concurrent writers, row locks, backup with pg_dump, and the errors
 * a bad URL gives. Skips, with the reason, only where PostgreSQL is not installed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pgLib from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { assignCandidates, autoAssign, expireDue, terminalMutation, userOperation, type TaskOperation } from '../src-server/engine/mutations.js';
import type { Eng, UnitHint } from '../src-server/engine/ports.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { findPgTool, PgServerStore } from '../src-server/store/pg/store.js';
import { inlineValues, Tx } from '../src-server/store/pg/tx.js';
import type { ServerStore } from '../src-server/store/types.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';
import { storeContract } from './store-contract.js';
import { T0, newUser, seedPlant, taskRow } from './support/plant.js';

const suite = pgUnavailable ? `postgres store (skipped: ${pgUnavailable})` : 'postgres store';

describe.skipIf(pgUnavailable !== null)(suite, () => {
  /** Databases made by a test are dropped after it (after the stores it opened are closed). */
  const pg = useCluster('t');
  const urls = new WeakMap<ServerStore, string>();
  const freshDatabase = async () => (await pg.database()).url;

  storeContract({
    name: 'postgres',
    async create() {
      const url = await freshDatabase();
      const store = await PgServerStore.open(url);
      urls.set(store, url);
      return store;
    },
    async reopen(store) {
      const url = urls.get(store)!;
      await store.close();
      const again = await PgServerStore.open(url);
      urls.set(again, url);
      return again;
    },
    async cleanup() {
      // The test's databases are dropped by useCluster, after this.
    },
  });

  describe('postgres store specifics', () => {
    /** The test's first store, on the test's own database (`url`). */
    let store: PgServerStore;
    let url: string;
    /** Everything a test opened, closed after it (its databases are dropped too). */
    let opened: Array<{ close(): Promise<void> }> = [];
    let dirs: string[] = [];

    afterEach(async () => {
      for (const s of opened.reverse()) await s.close();
      opened = [];
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      dirs = [];
    });

    async function another(at = url): Promise<PgServerStore> {
      const s = await PgServerStore.open(at);
      opened.push(s);
      return s;
    }

    async function open(): Promise<PgServerStore> {
      url = await freshDatabase();
      store = await another(url);
      return store;
    }

    function tempDir(prefix: string): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    }

    /** On the test's plant, `fn` with a Tx in a transaction of its own, rolled back after it. */
    async function inOpenTx(fn: (tx: Tx) => Promise<void>): Promise<void> {
      await open();
      await seedPlant(store);
      const client = await store.pool.connect();
      try {
        await client.query('BEGIN');
        await fn(new Tx(client));
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
    }

    /** The test's plant with ten more operators (op0..op9) and `tasks` pending tasks `${prefix}0`…. */
    async function tenOperators(prefix: string, tasks: number): Promise<string[]> {
      await open();
      await seedPlant(store);
      const operators = Array.from({ length: 10 }, (_, i) => `op${i}`);
      for (const id of operators) await store.createUser(newUser(id), T0);
      await store.importTasks(
        Array.from({ length: tasks }, (_, i) => taskRow(`${prefix}${i}`)),
        T0,
      );
      return operators;
    }

    async function sql<R extends pgLib.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
      return (await store.pool.query<R>(text, params)).rows;
    }

    /**
     * Run `fn`, recording the text of every statement list sent to the database, and how many writes
     * to the database's sockets carried them (statements sent together, pipelined, leave in one: a
     * write is a round trip).
     */
    async function roundTrips<T>(fn: () => Promise<T>): Promise<{ value: T; texts: string[]; writes: number }> {
      const query = pgLib.Client.prototype.query;
      const texts: string[] = [];
      pgLib.Client.prototype.query = function (this: pgLib.Client, ...args: unknown[]) {
        const a = args[0];
        texts.push(typeof a === 'string' ? a : String((a as { text?: unknown }).text));
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      // Writes to the database's sockets: statements sent together (pipelined) leave in one.
      const socket = net.Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
      const writeGeneric = socket._writeGeneric;
      let writes = 0;
      socket._writeGeneric = function (this: unknown, ...args: unknown[]) {
        writes++;
        return writeGeneric.apply(this, args);
      };
      try {
        return { value: await fn(), texts, writes };
      } finally {
        pgLib.Client.prototype.query = query;
        socket._writeGeneric = writeGeneric;
      }
    }

    it('INST-4 one store on a database holds the timer lease at a time; it passes on when the holder\'s session ends', async () => {
      await open();
      await seedPlant(store);
      const b = await another();
      expect(await store.holdTimerLease()).toBe(true);
      expect(await b.holdTimerLease()).toBe(false);
      expect(await store.holdTimerLease()).toBe(true);
      // The holder's lease session dies (its machine is gone): the next check elsewhere takes it.
      await sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')");
      // The server ends the session a moment after the call returns: b takes the lease once it has.
      for (let i = 0; i < 100 && !(await b.holdTimerLease()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await b.holdTimerLease()).toBe(true);
      expect(await store.holdTimerLease()).toBe(false);
      await b.close();
      expect(await store.holdTimerLease()).toBe(true);
    });

    it('INST-4 the database ends a vanished instance\'s sessions (its lease, its row locks) within about 25 s: keepalives on its side of every connection', async () => {
      await open();
      const [settings] = await sql<{ idle: string; interval: string; count: string }>(
        "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS interval, current_setting('tcp_keepalives_count') AS count",
      );
      expect(settings).toEqual({ idle: '10', interval: '5', count: '3' });
    });

    it('PROTO-7 commit lanes leave the pool room for reads and other writes, and are at least one', async () => {
      url = await freshDatabase();
      expect((await another(url)).groupLanes).toBe(4);
      const small = await PgServerStore.open(url, { maxConnections: 3, groupLanes: 8 });
      opened.push(small);
      expect(small.groupLanes).toBe(1);
      const none = await PgServerStore.open(url, { maxConnections: 10, groupLanes: 0 });
      opened.push(none);
      expect(none.groupLanes).toBe(1);
    });

    it('INST-3 a heartbeat of the instance holding a terminal\'s link marks it connected again after a stale-presence sweep', async () => {
      await open();
      await seedPlant(store);
      await store.recordHandshake('k1', { now: T0, clockOffsetMs: 0, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 });
      expect(await store.disconnectStale(T0 + 1, T0 + 40_000)).toEqual(['k1']);
      const head = await store.headSeq();
      await store.touchTerminals(['k1'], T0 + 41_000);
      expect(await store.getTerminal('k1')).toMatchObject({ connected: true, lastSeenAt: T0 + 41_000 });
      expect(await store.headSeq()).toBeGreaterThan(head);
    });

    it('OWN-1 DUP-1 the database itself refuses a second active assignment on a task', async () => {
      await open();
      await seedPlant(store);
      const insert = (user: string) =>
        sql(
          `INSERT INTO assignments (task_id, user_id, step, work_order_id, status, assigned_by, created_at, updated_at)
           VALUES ('t1', $1, 'cut', 'WO-1', 'accepted', 'x', 0, 0)`,
          [user],
        );
      await insert('ann');
      await expect(insert('bob')).rejects.toThrow(/assignments_one_holder/);
      await expect(insert('ann')).rejects.toThrow(/assignments_one_holder/);
    });

    it('PROTO-7 commits are durable: synchronous_commit is on and the server fsyncs', async () => {
      await open();
      const [row] = await sql<{ sc: string; fs: string }>("SELECT current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fs");
      expect(row).toEqual({ sc: 'on', fs: 'on' });
      // A URL cannot turn it off: the store refuses to run without durable commits.
      await expect(PgServerStore.open(`${url}?options=-c%20synchronous_commit%3Doff`)).rejects.toThrow(/synchronous_commit is "off".*durable commit/);
    });

    it('MIG-1 MIG-2 migrations are recorded, applied once, and a database newer than the code is refused with both versions named', async () => {
      await open();
      const applied = await sql<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(applied.map((m) => m.name)).toEqual(['001_init.sql', '002_outcome_task.sql']);
      expect(store.migration.applied).toEqual(['001_init.sql', '002_outcome_task.sql']);
      // Two instances starting at once on one database: both open, the schema is migrated once.
      const [a, b] = await Promise.all([another(), another()]);
      expect([a.migration.applied, b.migration.applied]).toEqual([[], []]);
      const latest = applied.length;
      await sql("INSERT INTO schema_migrations (version, name) VALUES ($1, '999_from_the_future.sql')", [latest + 1]);
      await expect(PgServerStore.open(url)).rejects.toThrow(
        new RegExp(`schema version ${latest + 1}, but this version of the server only knows versions up to ${latest}.*newer release`),
      );
    });

    it('MIG-3 a first migration that fails leaves the database untouched', async () => {
      const { name, url: blank } = await pg.database();
      // A table in the way: 001_init.sql cannot create `settings`.
      await pg.cluster.query('CREATE TABLE settings (x int)', [], name);
      await expect(PgServerStore.open(blank)).rejects.toThrow(/Migration 001_init.sql failed.*Nothing was changed; the database is still at version 0/);
      const tables = await pg.cluster.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", [], name);
      expect(tables.map((t) => t.tablename)).toEqual(['settings']);
    });

    it('CLI-3 an unreachable or missing database fails with what was wrong and what to do', async () => {
      const closedPort = pg.cluster.port === 1 ? 2 : 1;
      await expect(PgServerStore.open(`postgres://postgres:secret@127.0.0.1:${closedPort}/x`, { connectTimeoutMs: 2000 })).rejects.toThrow(
        /Cannot use the PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/x: .*ECONNREFUSED.*Check that PostgreSQL is running/,
      );
      await expect(PgServerStore.open(pg.cluster.url('no_such_db'))).rejects.toThrow(/database "no_such_db" does not exist \(3D000\)\. Create the database first/);
      await expect(PgServerStore.open('sqlite:///tmp/x.db')).rejects.toThrow(/is not a PostgreSQL URL/);
    });

    it('SYNC-3 LIST-1 ids and text order as SQLite orders them (code points), whatever the database collation', async () => {
      await open();
      await seedPlant(store);
      const ids = ['B1', 'a1', '_x', 'Zz', 'éa', 'A2'];
      expect((await store.importTasks(ids.map((id) => taskRow(id, { departmentId: 'qa' })), T0)).ok).toBe(true);
      const binary = [...ids].sort(); // UTF-16 order = code point order here
      const mine = (tasks: Array<{ id: string }>) => tasks.map((t) => t.id).filter((id) => ids.includes(id));
      expect(mine((await store.snapshotPage(['qa'], { phase: 'tasks', afterId: '' }, 100, T0)).tasks)).toEqual(binary);
      expect(mine((await store.listTasks({ departmentId: 'qa' }, { limit: 100, offset: 0 })).items)).toEqual(binary);
      // Paging by id continues where a page ended, in the same order.
      const page1 = await store.snapshotPage(['qa'], { phase: 'tasks', afterId: '' }, 3, T0);
      const page2 = await store.snapshotPage(['qa'], page1.next, 100, T0);
      expect(mine([...page1.tasks, ...page2.tasks])).toEqual(binary);
      // The cluster's default collation orders 'a1' before 'B1' (ICU English), so the binary
      // order above is the schema's COLLATE "C" at work, not the database's default.
      expect(await sql("SELECT 'a1' < 'B1' AS case_aware")).toEqual([{ case_aware: true }]);
    });

    it('LIST-1 free-text search folds ASCII case only, as SQLite LIKE does', async () => {
      await open();
      await seedPlant(store);
      await store.importTasks([taskRow('w1', { workContent: 'Weld BRACKET' }), taskRow('w2', { workContent: 'Ölwanne prüfen' })], T0);
      expect((await store.listTasks({ q: 'bracket' }, { limit: 10, offset: 0 })).items.map((t) => t.id)).toEqual(['w1']);
      expect((await store.listTasks({ q: 'ölwanne' }, { limit: 10, offset: 0 })).total).toBe(0);
      expect((await store.listTasks({ q: 'Ölwanne' }, { limit: 10, offset: 0 })).total).toBe(1);
      expect((await store.listTasks({ q: '%' }, { limit: 10, offset: 0 })).total).toBe(0);
    });

    it('SYNC-1 change-log numbers become visible in order with two stores writing at once: a cursor never skips a row', async () => {
      await open();
      const other = await another();
      await seedPlant(store);
      for (const id of ['ann', 'bob']) await store.updateUser(id, { taskLimit: 50 }, T0);
      const ids = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);
      await store.importTasks(ids.map((id) => taskRow(id)), T0);
      const start = await store.headSeq();
      // A reader follows the log by cursor while both stores commit claims concurrently.
      let cursor = start;
      const seen: number[] = [];
      let writing = true;
      const reader = (async () => {
        while (writing || cursor < (await store.headSeq())) {
          const rows = await sql<{ seq: number }>('SELECT seq FROM changes WHERE seq > $1 ORDER BY seq', [cursor]);
          for (const r of rows) seen.push(r.seq);
          if (rows.length) cursor = rows[rows.length - 1]!.seq;
          await new Promise((r) => setImmediate(r));
        }
      })();
      const groups = await Promise.all(
        ids.map((taskId, i) => (i % 2 ? other : store).runGroup([() => userOperation({ name: 'claim', taskId }, i % 4 < 2 ? 'ann' : 'bob', T0)])),
      );
      writing = false;
      await reader;
      expect(groups.map((g) => g.results[0]!.ok && g.results[0]!.value.ok)).toEqual(ids.map(() => true));
      const head = await store.headSeq();
      expect(head - start).toBeGreaterThanOrEqual(40);
      expect(seen).toEqual(Array.from({ length: head - start }, (_, i) => start + 1 + i));
    });

    it('CLM-7 two stores claiming one task at once: the row lock serialises them, one wins and the other names the winner', async () => {
      await open();
      const other = await another();
      await seedPlant(store);
      for (let round = 0; round < 5; round++) {
        const taskId = `r${round}`;
        await store.importTasks([taskRow(taskId)], T0);
        const [a, b] = await Promise.all([
          store.runGroup([() => userOperation({ name: 'claim', taskId }, 'ann', T0)]),
          other.runGroup([() => userOperation({ name: 'claim', taskId }, 'bob', T0)]),
        ]);
        const results = [a.results[0]!, b.results[0]!].map((r) => (r.ok ? r.value : null));
        const won = results.filter((r) => r?.ok);
        const lost = results.filter((r) => r && !r.ok);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.error!.code).toBe('task_conflict');
        const winner = (await store.getTask(taskId, T0))!.operatorId!;
        expect(lost[0]!.error!.details.currentOwner).toEqual({ id: winner, name: `Name ${winner}` });
        expect(await store.listAssignments(taskId)).toHaveLength(1);
        // Release, so the next round's claims are not capped.
        await store.runGroup([() => userOperation({ name: 'release', taskId }, winner, T0)]);
      }
    });

    it('CAP-1 INST-1 two stores giving one operator two different tasks at once: the operator\'s row is the lock, the second counts the first', async () => {
      await open();
      const other = await another();
      await seedPlant(store);
      await store.createUser(newUser('one', { departmentIds: ['cut'], taskLimit: 1 }), T0);
      for (let round = 0; round < 5; round++) {
        const [x, y] = [`cap${round}a`, `cap${round}b`];
        await store.importTasks([taskRow(x), taskRow(y)], T0);
        const [a, b] = await Promise.all([
          store.runGroup([() => userOperation({ name: 'assign', taskId: x, userId: 'one' }, 'sue', T0)]),
          other.runGroup([() => userOperation({ name: 'assign', taskId: y, userId: 'one' }, 'sue', T0)]),
        ]);
        const results = [a.results[0]!, b.results[0]!].map((r) => (r.ok ? r.value : null));
        expect(results.filter((r) => r?.ok)).toHaveLength(1);
        expect(results.find((r) => r && !r.ok)?.error?.code).toBe('capacity_reached');
        const held = (await Promise.all([x, y].map((id) => store.getTask(id, T0)))).filter((t) => t?.operatorId === 'one');
        expect(held).toHaveLength(1);
        // Unassign, so the next round starts at 0 of 1.
        await store.runGroup([() => userOperation({ name: 'unassign', taskId: held[0]!.id }, 'sue', T0)]);
      }
    });

    it('PROTO-7 INST-1 a group locks and reads what its units will ask about ahead: ten claims take far fewer round trips, with the same outcome', async () => {
      const operators = await tenOperators('ra', 20);
      const statements = async (first: number, hinted: boolean) => {
        const units = operators.map((id, i) => () => userOperation({ name: 'claim', taskId: `ra${first + i}` }, id, T0));
        const hints: UnitHint[] = operators.map((id, i) => ({ taskId: `ra${first + i}`, userId: id }));
        const { value: g, texts } = await roundTrips(() => store.runGroup(units, hinted ? hints : undefined));
        expect(g.results.map((r) => r.ok && (r.value as { ok: boolean }).ok)).toEqual(operators.map(() => true));
        return texts.length;
      };
      const plain = await statements(0, false);
      const ahead = await statements(10, true);
      // Per claim, the task's lock and row, and the operator's lock and facts, come with the group's
      // few statements instead of four of the claim's own.
      expect(ahead).toBeLessThanOrEqual(plain - 30);
      for (let i = 0; i < 20; i++) expect((await store.getTask(`ra${i}`, T0))!.operatorId).toBe(`op${i % 10}`);
    });

    it('PROTO-7 INST-1 a group of ten claims, of ten starts or of ten completions is five round trips: writes are pipelined behind the reads that need answers', async () => {
      const operators = await tenOperators('pl', 10);
      for (const name of ['claim', 'start', 'complete'] as const) {
        const units = operators.map((id, i) => () => userOperation({ name, taskId: `pl${i}` }, id, T0 + 1000));
        const hints: UnitHint[] = operators.map((id, i) => ({ taskId: `pl${i}`, userId: id }));
        const { value: g, texts, writes } = await roundTrips(() => store.runGroup(units, hints));
        expect(g.results.map((r) => r.ok && (r.value as { ok: boolean }).ok)).toEqual(operators.map(() => true));
        // BEGIN with its opening reads; the tasks' locks and rows; every other lock and read ahead;
        // the units' writes with the read that completes the answers; the audit rows, change log
        // and COMMIT. Statements: far more.
        expect(writes).toBeLessThanOrEqual(5);
        expect(texts.length).toBeGreaterThan(25);
      }
      for (let i = 0; i < 10; i++) {
        const t = (await store.getTask(`pl${i}`, T0 + 1000))!;
        expect([t.operatorId, t.status]).toEqual([`op${i}`, 'completed']);
      }
      // Each step audited once, the change log has each task's three changes.
      expect((await store.listAudit({ limit: 100 })).filter((a) => a.taskId?.startsWith('pl')).length).toBe(30);
    });

    it('PROTO-9 INST-1 a pipelined write that fails rolls its group back whole; the group runs again one statement at a time, only the faulty unit fails, the others commit once', async () => {
      await open();
      await seedPlant(store);
      await store.createUser(newUser('cat'), T0);
      const head = await store.headSeq();
      // A write the engine cannot foresee failing: the database refuses any change to t2's row.
      await sql(`CREATE FUNCTION refuse_t2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused: t2 is frozen'; END $$`);
      await sql(`CREATE TRIGGER refuse_t2 BEFORE UPDATE ON tasks FOR EACH ROW WHEN (OLD.id = 't2') EXECUTE FUNCTION refuse_t2()`);
      const users = ['ann', 'bob', 'cat'];
      const tasks = ['t1', 't2', 't3'];
      const { value: g, texts } = await roundTrips(() =>
        store.runGroup(
          tasks.map((taskId, i) => () => userOperation({ name: 'claim', taskId }, users[i]!, T0)),
          tasks.map((taskId, i) => ({ taskId, userId: users[i] })),
        ),
      );
      expect(g.results.map((r) => r.ok)).toEqual([true, false, true]);
      expect(String((g.results[1] as { error: unknown }).error)).toMatch(/t2 is frozen/);
      // Two transactions: the pipelined one, rolled back, and the one run statement by statement.
      expect(texts.filter((t) => /^BEGIN/.test(t))).toHaveLength(2);
      expect(texts.filter((t) => /ROLLBACK TO unit/.test(t))).toHaveLength(1);
      expect((await store.getTask('t1', T0))!.operatorId).toBe('ann');
      expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
      expect((await store.getTask('t3', T0))!.operatorId).toBe('cat');
      // Nothing of the rolled-back attempt stayed, nothing applied twice.
      const audit = await store.listAudit({ limit: 20 });
      expect(audit.map((a) => a.taskId).sort()).toEqual(['t1', 't3']);
      expect((await sql<{ n: number }>("SELECT COUNT(*)::int AS n FROM assignments WHERE task_id IN ('t1', 't2', 't3')"))[0]!.n).toBe(2);
      expect(g.headSeq).toBeGreaterThan(head);
      const page = await store.changesPage(['cut'], head, 1000, T0);
      expect(page.tasks.map((t) => t.id).sort()).toEqual(['t1', 't3']);
      // The store goes on pipelining.
      await sql('DROP TRIGGER refuse_t2 ON tasks');
      const again = await roundTrips(() => store.runGroup([() => userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0)], [{ taskId: 't2', userId: 'bob' }]));
      expect(again.value.results[0]!.ok).toBe(true);
      expect((await store.getTask('t2', T0))!.operatorId).toBe('bob');
    });

    it('PROTO-9 INST-1 a pipelined write that changed other rows than it must is found before the COMMIT, with no read after it: nothing of the transaction is kept', async () => {
      await inOpenTx(async (tx) => {
        tx.pipelineWrites();
        expect(tx.pipelined).toBe(true);
        await tx.write('INSERT INTO cooldowns (task_id, user_id, until) VALUES ($1, $2, $3)', ['t1', 'ann', T0]);
        await tx.write('UPDATE tasks SET updated_at = $1 WHERE id = $2', [T0, 'no-such-task'], 1, () => 'no-such-task changed under the engine');
        await expect(tx.commit()).rejects.toThrow(/no-such-task changed under the engine/);
      });
      expect(await sql("SELECT * FROM cooldowns WHERE task_id = 't1'")).toEqual([]);
    });

    it('INST-1 CAP-1 an operator\'s record is read after their row\'s lock: a deactivation or a new limit committed meanwhile is what the claim is decided by', async () => {
      await inOpenTx(async (tx) => {
        // Read before the lock (a sign-in earlier in the same group reads the operator's record).
        expect((await tx.ops.user('ann'))!.active).toBe(true);
        // Meanwhile, on another connection, an administrator deactivates her.
        await store.updateUser('ann', { active: false, taskLimit: 0 }, T0);
        const facts = await tx.ops.taskFacts('t1');
        const ann = await tx.ops.operatorFacts('ann', facts.task);
        expect(ann.user).toMatchObject({ active: false, taskLimit: 0 });
      });
    });

    it('PROTO-7 INST-2 a group\'s audit rows, its change-log numbers and its COMMIT go in one round trip; text in them arrives exactly', async () => {
      await open();
      await seedPlant(store);
      const reason = `it's "bent" \\ 50% off-spec; --$1 ?? \u00e9\u{1F527}\nsecond line`;
      expect((await store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)])).results[0]!.ok).toBe(true);
      const headBefore = await store.headSeq();
      const { value: g, texts } = await roundTrips(() =>
        store.runGroup([() => userOperation({ name: 'reject', taskId: 't1', reason }, 'ann', T0 + 1), () => userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0 + 1)]),
      );
      expect(g.results.map((r) => r.ok && (r.value as { ok: boolean }).ok)).toEqual([true, true]);
      expect(g.headSeq).toBeGreaterThan(headBefore);
      const last = texts[texts.length - 1]!;
      expect(last).toMatch(/INSERT INTO audit_events[\s\S]*UPDATE change_head[\s\S]*;\nCOMMIT$/);
      expect(texts.filter((t) => /COMMIT/.test(t))).toHaveLength(1);
      const audited = await sql<{ details: string }>(`SELECT details FROM audit_events WHERE action = 'reject' AND task_id = 't1'`);
      expect(audited.map((r) => (JSON.parse(r.details) as { reason?: string }).reason)).toEqual([reason]);
      expect((await store.getTask('t2', T0 + 1))!.operatorId).toBe('bob');
      const page = await store.changesPage(['cut'], headBefore, 1000, T0 + 1);
      expect(page.tasks.map((t) => t.id).sort()).toEqual(['t1', 't2']);
    });

    it('PROTO-7 CAP-1 a lone claim reads the config and its task\'s department with its BEGIN (12 statements, not 16, in 5 round trips), and decides by them', async () => {
      await open();
      await seedPlant(store);
      await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: 1 }, T0);
      const claim = async (taskId: string) => {
        const { value: g, texts, writes } = await roundTrips(() => store.runGroup([() => userOperation({ name: 'claim', taskId }, 'ann', T0)], [{ taskId, userId: 'ann' }]));
        return { decision: g.results[0]!.ok ? (g.results[0]!.value as { ok: boolean; error?: { code: string } }) : null, roundTrips: texts, writes };
      };
      const first = await claim('t1');
      expect(first.decision!.ok).toBe(true);
      expect(first.roundTrips.length).toBeLessThanOrEqual(12);
      // Pipelined: the BEGIN; the task's lock with its read; the operator's lock with their facts
      // and record; the writes with the read that completes the answer; the COMMIT.
      expect(first.writes).toBeLessThanOrEqual(5);
      // The department and the config came with the BEGIN, and nothing asked for them again.
      expect(first.roundTrips[0]).toMatch(/^BEGIN; SAVEPOINT unit; SELECT value FROM settings[\s\S]*FROM departments d WHERE d\.id IN/);
      expect(first.roundTrips.slice(1).filter((t) => /FROM departments|FROM settings/.test(t))).toEqual([]);
      // The department's limit of 1, read with the BEGIN, refuses her second task.
      const second = await claim('t2');
      expect(second.decision).toMatchObject({ ok: false, error: { code: 'capacity_reached' } });
      expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
    });

    it('PROTO-9 a group whose opening reads fail leaves no connection in a transaction: the store goes on working', async () => {
      await open();
      await seedPlant(store);
      await sql('ALTER TABLE settings RENAME TO settings_away');
      const failed = await store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)], [{ taskId: 't1', userId: 'ann' }]).then(
        (g) => g.results.every((r) => !r.ok),
        () => true,
      );
      expect(failed).toBe(true);
      await sql('ALTER TABLE settings_away RENAME TO settings');
      // The pool hands out its most recent connection first: every one of these would meet an
      // aborted transaction if the failed one had gone back inside it.
      for (const [taskId, userId] of [['t1', 'ann'], ['t2', 'bob'], ['t3', 'ann']] as const) {
        const g = await store.runGroup([() => userOperation({ name: 'claim', taskId }, userId, T0)], [{ taskId, userId }]);
        expect(g.results[0]!.ok && (g.results[0]!.value as { ok: boolean }).ok).toBe(true);
        expect((await store.getTask(taskId, T0))!.operatorId).toBe(userId);
      }
    });

    it('PROTO-7 values written into a statement as literals: strings quoted whole, numbers finite, nothing else', () => {
      expect(inlineValues('SELECT $1::text, $2, $3::bigint[], 1-$4, $1', [`a'b\\c`, null, [1, -2], -1])).toBe(
        `SELECT  E'a''b\\\\c'::text, NULL, ARRAY[1, (-2)]::bigint[], 1-(-1),  E'a''b\\\\c'`,
      );
      const ten = Array.from({ length: 10 }, (_, i) => i + 1);
      expect(inlineValues('SELECT $10, $1', ten)).toBe('SELECT 10, 1');
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 60]) expect(() => inlineValues('SELECT $1', [bad])).toThrow(/number/);
      expect(() => inlineValues('SELECT $1', ['a\u0000b'])).toThrow(/NUL/);
      expect(() => inlineValues('SELECT $1', [{ x: 1 }])).toThrow(/object/);
      expect(() => inlineValues('SELECT $1', [true])).toThrow(/boolean/);
      expect(() => inlineValues('SELECT $2', [1])).toThrow(/\$2/);
      expect(() => inlineValues('SELECT $0', [1])).toThrow(/\$0/);
    });

    it('CLM-9 INST-1 a row another transaction holds is left out of the read ahead: its unit waits for it as before', async () => {
      await open();
      await seedPlant(store);
      const holder = new pgLib.Client({ connectionString: url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query("SELECT 1 FROM tasks WHERE id = 't3' FOR UPDATE");
        const released = new Promise<void>((resolve) => setTimeout(() => void holder.query('COMMIT').then(() => resolve()), 300));
        const g = await store.runGroup(
          [() => userOperation({ name: 'claim', taskId: 't3' }, 'ann', T0), () => userOperation({ name: 'claim', taskId: 't1' }, 'bob', T0)],
          [{ taskId: 't3', userId: 'ann' }, { taskId: 't1', userId: 'bob' }],
        );
        await released;
        expect(g.results.map((r) => r.ok && (r.value as { ok: boolean }).ok)).toEqual([true, true]);
        expect((await store.getTask('t3', T0))!.operatorId).toBe('ann');
        expect((await store.getTask('t1', T0))!.operatorId).toBe('bob');
      } finally {
        await holder.end();
      }
    });

    it('AUTO-1 INST-1 auto-assign passes over an operator another transaction is deciding about, instead of waiting for them', async () => {
      await open();
      await seedPlant(store);
      // Least loaded first: bob (0 tasks) would be the pick, ann holds one.
      await store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      const other = await store.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query("SELECT 1 FROM users WHERE id = 'bob' FOR NO KEY UPDATE");
        let timer: NodeJS.Timeout | undefined;
        const g = await Promise.race([
          store.runGroup([() => autoAssign({ departmentId: 'cut', strategy: 'least_loaded', capacityWeight: 0.5, limit: 1 }, 'sue', T0)]),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('auto-assign waited for the operator another transaction holds')), 10_000);
          }),
        ]).finally(() => clearTimeout(timer));
        const r = g.results[0]!;
        expect(r.ok).toBe(true);
        const assigned = (r as { value: { assigned: Array<{ userId: string }> } }).value.assigned;
        expect(assigned).toHaveLength(1);
        expect(assigned[0]!.userId).not.toBe('bob');
      } finally {
        await other.query('ROLLBACK');
        other.release();
      }
    });

    it('PROTO-9 INST-1 a unit PostgreSQL keeps rolling back as a deadlock victim is retried a few times, then answers unavailable (database_busy), and the rest of its group commits', async () => {
      await open();
      await seedPlant(store);
      // What node-postgres throws for a deadlock victim; this unit loses every time (a real
      // deadlock needs two instances' groups crossing, which no test can force six times in a row).
      let attempts = 0;
      const victim = (): Eng<never> => {
        attempts++;
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      };
      const lostRaces: unknown[] = [];
      store.onLostRace = (err) => lostRaces.push(err);
      const g = await store.runGroup([victim, () => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      expect(attempts).toBe(6);
      // The server logs PostgreSQL's own error, once, when it answers it as unavailable.
      expect(lostRaces.map((e) => (e as { code: string }).code)).toEqual(['40P01']);
      const first = g.results[0]!;
      expect(first.ok).toBe(false);
      const error = (first as { error: { code?: string; details?: { reason?: string } } }).error;
      expect(error.code).toBe('unavailable');
      expect(error.details?.reason).toBe('database_busy');
      expect(g.results[1]).toMatchObject({ ok: true, value: { ok: true } });
      expect((await store.getTask('t1', T0))!.operatorId).toBe('ann');
    });

    it('PROTO-5 heartbeats and engine groups of one instance touching the same terminals never deadlock', async () => {
      await open();
      await seedPlant(store);
      let id = 0;
      const signIn = (terminalId: string, operatorId: string) => {
        const n = ++id;
        return () => terminalMutation({ terminalId, id: n, raw: { id: n, name: 'signIn', args: { method: 'badge' }, operatorId, clientTime: T0 } }, T0);
      };
      // The group takes k2's row, then k1's; the heartbeat writes k1, then k2.
      for (let i = 0; i < 10; i++) {
        const [g] = await Promise.all([
          store.runGroup([signIn('k2', 'bob'), signIn('k1', 'ann')]),
          store.touchTerminals(['k1', 'k2'], T0 + i, new Map([['k2', i]])),
          store.recordHandshake('k1', { now: T0 + i, clockOffsetMs: 0, ackedMutationId: 0, appVersion: 'test', protocolVersion: 2, outbox: 0 }),
        ]);
        expect(g.results.map((r) => r.ok && (r.value as { status: string }).status)).toEqual(['applied', 'applied']);
      }
      expect((await store.getTerminal('k2'))!.outbox).toBe(9);
    });

    it('PROTO-9 a group whose commit fails rejects as a whole and keeps nothing; the store goes on', async () => {
      await open();
      await seedPlant(store);
      const head = await store.headSeq();
      // A deferred constraint trigger makes the COMMIT itself fail (as a lost connection would).
      await sql(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$`);
      await sql(`CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON assignments DEFERRABLE INITIALLY DEFERRED
                 FOR EACH ROW EXECUTE FUNCTION refuse()`);
      await expect(
        store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0), () => userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0)]),
      ).rejects.toThrow(/refused at commit/);
      expect((await store.getTask('t1', T0))!.operatorId).toBeNull();
      expect((await store.getTask('t2', T0))!.operatorId).toBeNull();
      expect(await store.headSeq()).toBe(head);
      expect(await store.listAudit({ limit: 10 })).toEqual([]);
      await sql('DROP TRIGGER refuse_commit ON assignments');
      const g = await store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      expect(g.results[0]!.ok).toBe(true);
      expect(g.headSeq).toBe(await store.headSeq());
      expect(g.headSeq).toBeGreaterThan(head);
      expect(g.changedDepartments).toEqual(new Set(['cut']));
    });

    it.skipIf(findPgTool('pg_dump') === null)('PROTO-7 backup writes a pg_dump that restores to a working copy', async () => {
      await open();
      await seedPlant(store);
      await store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      const file = path.join(tempDir('pg-backup-'), 'claims.dump');
      await store.backup(file);
      const copyUrl = await freshDatabase();
      execFileSync(findPgTool('pg_restore')!, ['--no-owner', `--dbname=${copyUrl}`, file]);
      const copy = await another(copyUrl);
      expect((await copy.stats()).tasksByStatus).toEqual({ draft: 1, pending: 6 });
      expect((await copy.getTask('t1', T0))!.operatorId).toBe('ann');
      expect(await copy.headSeq()).toBe(await store.headSeq());
      expect(copy.migration.applied).toEqual([]);
    });

    it('INST-1 SUP-1 SYNC-3 the same history reads back exactly as on the SQLite store: answers, change log, pages, feeds, audit, lists', async () => {
      await open();
      const lite = new SqliteServerStore(path.join(tempDir('pg-vs-sqlite-'), 'claims.db'));
      opened.push(lite);
      const answers = { postgres: await history(store), sqlite: await history(lite) };
      expect(answers.postgres).toEqual(answers.sqlite);
      const [mine, theirs] = [await views(store), await views(lite)];
      // Key by key, so a difference names the read that differs.
      for (const key of Object.keys(theirs)) expect({ [key]: mine[key] }).toEqual({ [key]: theirs[key] });
      expect(Object.keys(mine)).toEqual(Object.keys(theirs));
    }, 60_000);

    it('AUTH-1 users keep their exact values through the store (quality score, roles, departments)', async () => {
      await open();
      await seedPlant(store);
      await store.createUser(newUser('q', { qualityScore: 0.1 + 0.2, roles: ['operator', 'supervisor'], departmentIds: ['qa', 'cut'] }), T0);
      expect(await store.getUser('q')).toMatchObject({ qualityScore: 0.1 + 0.2, roles: ['operator', 'supervisor'], departmentIds: ['cut', 'qa'] });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// A history touching every kind of write, and every read of it, for the SQLite comparison.

async function run<T>(store: ServerStore, ...units: Array<() => Eng<T>>): Promise<Array<T | string>> {
  const g = await store.runGroup(units);
  return g.results.map((r) => (r.ok ? r.value : `error: ${String((r.error as Error).message)}`));
}

/** Runs the history; returns every group's answers (values, or a failed unit's error message). */
async function history(store: ServerStore): Promise<unknown[]> {
  const answers: unknown[] = [];
  await seedPlant(store);
  const op = (o: TaskOperation, actor: string, now = T0) => () => userOperation(o, actor, now);
  let mid = 0;
  const mutate = (terminal: string, name: string, args: unknown, operatorId: string, now = T0) => {
    const id = ++mid;
    return () => terminalMutation({ terminalId: terminal, id, raw: { id, name, args, operatorId, clientTime: now } }, now);
  };
  await store.createUser(newUser('adm', { roles: ['admin'], departmentIds: ['cut', 'qa'] }), T0);
  await store.createUser(newUser('zoe', { departmentIds: ['cut', 'qa'], taskLimit: 3 }), T0);
  await store.recordHandshake('k1', { now: T0, clockOffsetMs: 12.4, ackedMutationId: 0, appVersion: '1.2.3', protocolVersion: 2, outbox: 2 });
  await store.recordHandshake('k2', { now: T0, clockOffsetMs: -3, ackedMutationId: 0, appVersion: '1.2.3', protocolVersion: 2, outbox: 0 });
  // A group with a conflict, a failing unit and a refusal.
  answers.push(await run<unknown>(
    store,
    mutate('k1', 'signIn', { method: 'badge' }, 'ann'),
    mutate('k2', 'signIn', { method: 'badge' }, 'bob'),
    mutate('k1', 'claim', { taskId: 't1' }, 'ann'),
    mutate('k2', 'claim', { taskId: 't1' }, 'bob'),
    // A unit that logs changes and then fails: its change-log rows must go with its savepoint.
    // (It writes no row with a generated id: PostgreSQL's identities, unlike SQLite's rowids, are not
    // given back by a rollback, so ids would differ by the gap.)
    function* () {
      yield { op: 'setPresence', args: ['k2', 'zoe', T0] } as never;
      throw new Error('rolled back');
    },
    op({ name: 'claim', taskId: 'q1' }, 'zoe'),
    mutate('k2', 'claim', { taskId: 'nope' }, 'bob'),
  ));
  answers.push(await run<unknown>(store, op({ name: 'start', taskId: 't1' }, 'ann', T0 + 1000), op({ name: 'complete', taskId: 't1' }, 'ann', T0 + 2000)));
  answers.push(await run<unknown>(store, op({ name: 'assign', taskId: 't3', userId: 'bob' }, 'sue', T0 + 3000)));
  answers.push(await run<unknown>(store, mutate('k2', 'reject', { taskId: 't3', reason: 'no material' }, 'bob', T0 + 4000)));
  answers.push(await run<unknown>(store, op({ name: 'assign', taskId: 't3', userId: 'ann' }, 'sue', T0 + 5000), op({ name: 'accept', taskId: 't3' }, 'ann', T0 + 5000)));
  answers.push(await run<unknown>(store, op({ name: 'assign', taskId: 't2', userId: 'zoe' }, 'sue', T0 + 6000)));
  answers.push(await run<unknown>(store, () => expireDue(T0 + 6000 + 121 * MINUTE_MS)));
  answers.push(await run<unknown>(store, op({ name: 'cancel', taskId: 'insp1', reason: 'scrapped' }, 'sue', T0 + 7000)));
  answers.push(await run<unknown>(store, op({ name: 'release', taskId: 't3' }, 'ann', T0 + 8000), op({ name: 'claim', taskId: 'make1' }, 'bob', T0 + 8000)));
  answers.push(await run<unknown>(store, () => autoAssign({ departmentId: 'cut', strategy: 'round_robin', capacityWeight: 0.5, limit: 3 }, 'sue', T0 + 9000)));
  answers.push(await run<unknown>(store, () => assignCandidates('t2', 'assign', 'sue', T0 + 9000)));
  const notes = await store.listNotifications('ann', 50);
  answers.push(await run<unknown>(store, mutate('k1', 'readNotifications', { ids: notes.slice(0, 2).map((n) => n.id) }, 'ann', T0 + 10_000), mutate('k1', 'signOut', {}, 'ann', T0 + 10_000)));
  await store.markNotificationsRead('sue', null, T0 + 11_000);
  await store.touchTerminals(['k2', 'k1'], T0 + 12_000, new Map([['k1', 5]]));
  await store.recordDisconnect('k1', T0 + 13_000);
  await store.alertOfflineTerminals(T0 + 14_000, T0 + 15_000);
  const imported = await store.importTasks(
    [taskRow('q1', { departmentId: 'cut', step: 'inspect' }), taskRow('n1', { workContent: 'New work' }), taskRow('n0', { departmentId: null })],
    T0 + 16_000,
  );
  if (!imported.ok) throw new Error(`import refused: ${JSON.stringify(imported.errors)}`);
  await store.setConfig({ ...(await store.getConfig()), cooldownMinutes: 7 }, T0 + 17_000);
  await store.setSupervision({ ...(await store.getSupervision()), performanceWindowDays: 14 }, T0 + 17_000);
  await store.upsertDepartment({ id: 'qa', name: 'Quality assurance', taskLimit: 4 }, T0 + 18_000);
  await store.updateUser('zoe', { departmentIds: ['qa'], displayName: 'Zoë' }, T0 + 18_000);
  await store.updateTerminal('k2', { departments: ['cut', 'qa'], name: 'Kiosk two' }, T0 + 18_000);
  const open = (await store.listExceptions({ departmentIds: null, open: true }, { limit: 50, offset: 0 })).items;
  if (open[0]) await store.acknowledgeException(open[0].id, 'sue', T0 + 19_000);
  for (const [id, kind, at] of [['s1', 'session', 1], ['s2', 'session', 1], ['s3', 'session', 2], ['a1', 'api', 0]] as const) {
    await store.createApiToken({ id, userId: 'sue', name: id, kind, expiresAt: null, revokedAt: null, tokenHash: `h-${id}` }, T0 + at);
  }
  await store.revokeOldestSessions('sue', 1, T0 + 20_000);
  await store.setSignInFailures('badge:1', { failures: 2, firstFailedAt: T0, lockedUntil: null });
  await store.audit({ action: 'login', outcome: 'applied', actorId: 'sue', terminalId: null, via: 'http', taskId: null, details: { userId: 'ann' } }, T0 + 21_000);
  await store.pruneAuth(T0 + 30_000, T0 + 1, T0 + 30_000);
  await store.resetConnections(T0 + 40_000);
  return answers;
}

/** Values that are random per store (salted hashes, scrypt) are left out. */
function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !['badgeHash', 'pinHash', 'passwordHash'].includes(k))
        .map(([k, v]) => [k, stripSecrets(v)]),
    );
  }
  return value;
}

async function views(store: ServerStore): Promise<Record<string, unknown>> {
  const now = T0 + 50_000;
  const v: Record<string, unknown> = {};
  v.head = await store.headSeq();
  for (const depts of [['cut'], ['qa'], ['cut', 'qa'], ['~none']]) {
    const pages = [];
    for (let after = 0, i = 0; i < 100; i++) {
      const page = await store.changesPage(depts, after, 7, now);
      pages.push(page);
      if (!page.more) break;
      after = page.lastSeq;
    }
    v[`changes ${depts}`] = pages;
    const snaps = [];
    let pos = null as Awaited<ReturnType<ServerStore['snapshotPage']>>['next'];
    do {
      const page = await store.snapshotPage(depts, pos, 3, now);
      snaps.push(page);
      pos = page.next;
    } while (pos && snaps.length < 100);
    v[`snapshot ${depts}`] = snaps;
  }
  for (const scope of [
    { userId: 'sue', all: false, departmentIds: ['cut'] },
    { userId: 'adm', all: true, departmentIds: [] },
  ]) {
    const pages = [];
    for (let after = 0, i = 0; i < 100; i++) {
      const page = await store.supervisorChangesPage(scope, after, 9, now);
      pages.push(page);
      if (!page.more) break;
      after = page.lastSeq;
    }
    v[`supervisor changes ${scope.userId}`] = pages;
    const snaps = [];
    let pos = null as Awaited<ReturnType<ServerStore['supervisorSnapshotPage']>>['next'];
    do {
      const page = await store.supervisorSnapshotPage(scope, pos, 4, now);
      snaps.push(page);
      pos = page.next;
    } while (pos && snaps.length < 100);
    v[`supervisor snapshot ${scope.userId}`] = snaps;
  }
  v.exceptions = await store.listExceptions({ departmentIds: null }, { limit: 100, offset: 0 });
  v.exceptionsCut = await store.listExceptions({ departmentIds: ['cut'], open: false }, { limit: 2, offset: 1 });
  v.exception1 = await store.getException(1);
  v.audit = await store.searchAudit({ departmentIds: null }, { limit: 200, offset: 0 });
  v.auditAnn = await store.searchAudit({ departmentIds: ['cut'], userId: 'ann', outcome: 'refused' }, { limit: 200, offset: 0 });
  v.auditWo = await store.searchAudit({ departmentIds: null, workOrderNumber: 'WO-1', from: T0 + 1000, to: T0 + 9000, beforeId: 30 }, { limit: 5, offset: 2 });
  v.auditT1 = await store.listAudit({ taskId: 't1', limit: 10 });
  for (const u of ['ann', 'bob', 'sue', 'zoe']) v[`notifications ${u}`] = await store.listNotifications(u, 100);
  v.tasks = await store.listTasks({}, { limit: 100, offset: 0 });
  v.tasksQ = await store.listTasks({ q: 'PART', departmentIds: ['cut', 'qa'] }, { limit: 3, offset: 1 });
  v.tasksNone = await store.listTasks({ departmentIds: [] }, { limit: 3, offset: 0 });
  v.claimable = [await store.listClaimable('bob', now, { limit: 100, offset: 0 }), await store.listClaimable('zoe', now, { limit: 1, offset: 1 })];
  for (const t of ['t1', 't2', 't3', 'make1', 'insp1', 'q1', 'n0']) {
    v[`task ${t}`] = await store.getTask(t, now);
    v[`assignments ${t}`] = await store.listAssignments(t);
  }
  v.outcomes = [await store.outcomesAfter('k1', 0, 100, now), await store.outcomesAfter('k2', 1, 100, now)];
  v.terminals = await store.listTerminals();
  v.users = await store.listUsers({});
  v.operators = await store.listUsers({ role: 'operator', departmentId: 'cut', active: true });
  v.departments = await store.listDepartments();
  v.tokens = [await store.listApiTokens(), await store.listApiTokens('sue')];
  v.failures = await store.getSignInFailures('badge:1');
  v.stats = await store.stats();
  v.pruned = [await store.pruneChanges(T0 + 3000), await store.prunedThroughSeq(), await store.changesPage(['cut'], 0, 100, now)];
  return stripSecrets(v) as Record<string, unknown>;
}
