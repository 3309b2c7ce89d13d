import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ReadThread } from '../src-server/store/sqlite/read-thread.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { loopBudget } from '../src-server/slices.js';
import type { ServerStore } from '../src-server/store/types.js';
import { storeContract } from './store-contract.js';
import { userOperation } from '../src-server/engine/mutations.js';
import { T0, seedPlant, taskRow } from './support/plant.js';

let dirs: string[] = [];
const files = new WeakMap<ServerStore, string>();

/** Start the store's read thread (as the running server does) and wait until it takes reads. */
async function readThreadOf(store: SqliteServerStore): Promise<ReadThread> {
  store.startReadThread();
  const thread = store.pageReadThread!;
  await thread.whenReady();
  return thread;
}

/**
 * The store contract on SQLite, with page reads on the event loop and, as the running server has
 * them, on the read thread (issue 12; ready before the suite asks).
 */
for (const readThread of [false, true]) {
  const open = async (file: string): Promise<SqliteServerStore> => {
    const store = new SqliteServerStore(file);
    if (readThread) await readThreadOf(store);
    files.set(store, file);
    return store;
  };
  storeContract({
    name: readThread ? 'sqlite, pages read on the read thread' : 'sqlite',
    // With the thread only what reads pages differs: the change log, snapshots, supervisor pages.
    ...(readThread ? { only: /SYNC-|SUP-/ } : {}),
    async create() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
      dirs.push(dir);
      return open(path.join(dir, 'claims.db'));
    },
    async reopen(store) {
      const file = files.get(store)!;
      await store.close();
      return open(file);
    },
    async cleanup() {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      dirs = [];
    },
  });
}

/**
 * A store on a fresh file whose WAL flushes wait, while `flushes.held`, until the test releases
 * them (`held`, in order); closed and removed after `fn`. Every flush is let go before the close,
 * which waits for the flushes in progress: a test that failed while one was held hung there until
 * vitest's timeout, which hid its real error. A close that does not end fails the test too, saying
 * what the store still had in progress.
 */
async function withHeldFlushes(fn: (s: { store: SqliteServerStore; held: Array<() => void>; flushes: { held: boolean } }) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
  const flushes = { held: false };
  const held: Array<() => void> = [];
  const store = new SqliteServerStore(path.join(dir, 'claims.db'), {
    flushFile: async () => {
      if (flushes.held) await new Promise<void>((r) => held.push(r));
    },
  });
  let failure: { error: unknown } | null = null;
  try {
    await fn({ store, held, flushes });
  } catch (error) {
    failure = { error };
  }
  flushes.held = false;
  held.splice(0).forEach((r) => r());
  let closed = false;
  const closing = store.close().finally(() => (closed = true));
  try {
    await waitUntil(() => closed, 10_000, () => `the store's close: ${storeState(store, held)}`);
    await closing;
  } catch (error) {
    if (failure) console.error(error); // the test's own error is the one it fails with
    failure ??= { error };
  }
  if (closed) fs.rmSync(dir, { recursive: true, force: true });
  if (failure) throw failure.error;
}

/** What the store has in progress: a flush, an import's hold on the write lock, calls waiting in line. */
function storeState(store: SqliteServerStore, held: unknown[]): string {
  const internals = store as unknown as { flusher: { pending: unknown } | null; writeGate: unknown };
  return JSON.stringify({
    heldFlushes: held.length,
    flushing: internals.flusher?.pending != null,
    importHoldsTheWriteLock: internals.writeGate != null,
    waitingInLine: store.line?.length ?? 0,
  });
}

/** Wait until `done()`, at most `ms`; else fail saying what `pending()` reports is still pending. */
async function waitUntil(done: () => boolean, ms: number, pending: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`still pending after ${ms} ms: ${pending()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A store on a fresh file with the test plant (the file's path too); closed and removed after `fn`. */
async function withPlantStore(fn: (store: SqliteServerStore, file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
  const file = path.join(dir, 'claims.db');
  const store = new SqliteServerStore(file);
  try {
    await seedPlant(store);
    await fn(store, file);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('sqlite store specifics', () => {
  it('OWN-1 DUP-1 the database itself refuses a second active assignment on a task', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    try {
      await seedPlant(store);
      const insert = store.db.prepare(
        `INSERT INTO assignments (task_id, user_id, step, work_order_id, status, assigned_by, created_at, updated_at)
         VALUES ('t1', ?, 'cut', 'WO-1', 'accepted', 'x', 0, 0)`,
      );
      insert.run('ann');
      expect(() => insert.run('bob')).toThrow(/UNIQUE constraint failed/);
      expect(() => insert.run('ann')).toThrow(/UNIQUE constraint failed/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CLM-10 an operator deactivated through another connection to the file (the admin CLI) can no longer claim: the store notices the other commit and drops its caches', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const file = path.join(dir, 'claims.db');
    const store = new SqliteServerStore(file);
    try {
      await seedPlant(store);
      const claim = async (taskId: string) => {
        const group = await store.runGroup([() => userOperation({ name: 'claim', taskId }, 'ann', T0)]);
        const r = group.results[0]!;
        return r.ok ? r.value : (r.error as { value?: unknown }).value;
      };
      expect(await claim('t1')).toMatchObject({ ok: true }); // ann is read, and kept
      const other = new Database(file);
      other.prepare("UPDATE users SET active = 0 WHERE id = 'ann'").run();
      other.close();
      expect(await claim('t2')).toMatchObject({ ok: false, error: { code: 'user_inactive' } });
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PROTO-7 the store runs with WAL, each commit fsynced (by SQLite, or off the event loop), and backs up online to a consistent copy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const plain = new SqliteServerStore(path.join(dir, 'plain.db'), { flushOffLoop: false });
    expect(plain.db.pragma('synchronous', { simple: true })).toBe(2);
    await plain.close();
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    try {
      await seedPlant(store);
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      // The WAL is written at COMMIT and fdatasync'd by the store's flusher before anything is answered.
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
      await store.backup(path.join(dir, 'copy.db'));
      const copy = new Database(path.join(dir, 'copy.db'), { readonly: true });
      expect(copy.prepare('SELECT COUNT(*) FROM tasks').pluck().get()).toBe(7);
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      copy.close();
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PROTO-7 durable before visible: while a group\'s WAL flush is on the disk, nobody is answered and nothing reads it; a failed flush fails the group', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    let holding = false;
    let release: (() => void) | null = null;
    let failNext = false;
    const flushes: number[] = [];
    const store = new SqliteServerStore(path.join(dir, 'claims.db'), {
      flushFile: async (fd) => {
        flushes.push(fd);
        if (failNext) {
          failNext = false;
          throw new Error('EIO: the disk refused the flush');
        }
        if (holding) await new Promise<void>((r) => (release = r));
      },
    });
    try {
      await seedPlant(store);
      holding = true;
      let answered = false;
      let read = false;
      const group = store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]).then((g) => ((answered = true), g));
      await vi.waitFor(() => expect(release).not.toBeNull());
      const seen = store.getTask('t1', T0).then((t) => ((read = true), t));
      const head = store.headSeq().then((h) => ((read = true), h));
      await new Promise((r) => setTimeout(r, 30));
      expect({ answered, read }).toEqual({ answered: false, read: false });
      holding = false;
      release!();
      expect((await group).results[0]).toMatchObject({ ok: true });
      expect((await seen)!.operatorId).toBe('ann');
      expect(await head).toBeGreaterThan(0);
      // A read alone writes nothing, so it flushes nothing.
      const before = flushes.length;
      await store.getTask('t2', T0);
      expect(flushes.length).toBe(before);
      // A flush the disk refuses: the group is not reported done (the committer answers retry).
      failNext = true;
      await expect(store.runGroup([() => userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0)])).rejects.toThrow(/EIO/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PROTO-7 the next commit group runs while the last one\'s flush is on the disk, and each is answered only once it and all before it are durable', async () => {
    await withHeldFlushes(async ({ store, held, flushes }) => {
      await seedPlant(store);
      expect(store.groupLanes).toBe(2);
      flushes.held = true;
      const answered: string[] = [];
      const g1 = store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]).then((g) => (answered.push('g1'), g));
      await vi.waitFor(() => expect(held).toHaveLength(1));
      let ran2 = false;
      const g2 = store
        .runGroup([
          () => {
            ran2 = true;
            return userOperation({ name: 'claim', taskId: 't2' }, 'bob', T0);
          },
        ])
        .then((g) => (answered.push('g2'), g));
      // The second group ran at once, with the first group's flush still on the disk...
      await vi.waitFor(() => expect(ran2).toBe(true));
      let read = false;
      const seen = store.getTask('t2', T0).then((t) => ((read = true), t));
      await new Promise((r) => setTimeout(r, 30));
      // ...but nobody is answered, and nothing is read, before what it saw is durable.
      expect({ answered, read }).toEqual({ answered: [], read: false });
      held.shift()!();
      await g1;
      await vi.waitFor(() => expect(held).toHaveLength(1)); // the second group's flush, after the first
      await new Promise((r) => setTimeout(r, 30));
      expect({ answered, read }).toEqual({ answered: ['g1'], read: false });
      flushes.held = false;
      held.shift()!();
      expect((await g2).results[0]).toMatchObject({ ok: true });
      expect((await seen)!.operatorId).toBe('bob');
      expect(answered).toEqual(['g1', 'g2']);

      // A group that writes nothing (a claim refused because the first group holds the task) is
      // answered only once what it read, that group's claim, is durable.
      flushes.held = true;
      const g3 = store.runGroup([() => userOperation({ name: 'claim', taskId: 't3' }, 'ann', T0)]).then((g) => (answered.push('g3'), g));
      await vi.waitFor(() => expect(held).toHaveLength(1));
      const g4 = store.runGroup([() => userOperation({ name: 'claim', taskId: 't3' }, 'bob', T0)]).then((g) => (answered.push('g4'), g));
      await new Promise((r) => setTimeout(r, 30));
      expect(answered).toEqual(['g1', 'g2']);
      flushes.held = false;
      for (let i = 0; i < 400 && (held.length > 0 || answered.length < 4); i++) {
        held.splice(0).forEach((r) => r());
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(answered).toEqual(['g1', 'g2', 'g3', 'g4']);
      expect((await g3).results[0]).toMatchObject({ ok: true, value: { ok: true } });
      expect((await g4).results[0]).toMatchObject({ ok: true, value: { ok: false, error: { code: 'task_conflict' } } });
    });
  });

  it('PROTO-7 SYNC-1 SUP-1 a page read on the read thread is handed on only once all it can show is durable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    let holding = false;
    let release: (() => void) | null = null;
    const store = new SqliteServerStore(path.join(dir, 'claims.db'), {
      flushFile: async () => {
        if (holding) await new Promise<void>((r) => (release = r));
      },
    });
    try {
      await seedPlant(store);
      const thread = await readThreadOf(store);
      expect(store.pagesHoldTheLoop).toBe(false);
      const head = await store.headSeq();
      holding = true;
      const group = store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      await vi.waitFor(() => expect(release).not.toBeNull());
      // The claim is committed (the thread's connection can see it) but not yet on the disk.
      const answeredBefore = thread.stats.answered;
      let handedOn = false;
      const page = store.changesPage(['cut'], head, 1000, T0).then((p) => ((handedOn = true), p));
      const board = store.supervisorChangesPage({ all: false, departmentIds: ['cut'], userId: 'sue' }, head, 1000, T0);
      await vi.waitFor(() => expect(thread.stats.answered).toBe(answeredBefore + 2));
      await new Promise((r) => setTimeout(r, 30));
      expect(handedOn).toBe(false);
      holding = false;
      release!();
      await group;
      const p = await page;
      expect(p.tasks.map((t) => [t.id, t.operatorId])).toEqual([['t1', 'ann']]);
      expect((await board).tasks.id).toEqual(['t1']);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SYNC-1 a page read on the thread reads one snapshot: a commit between its statements is not half in it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const file = path.join(dir, 'claims.db');
    const writer = new SqliteServerStore(file);
    // The thread's side of the store (read-worker.ts), here in the test's own thread.
    const reader = new SqliteServerStore(file, { flushOffLoop: false });
    const other = new Database(file);
    try {
      await seedPlant(writer);
      const head = await writer.headSeq();
      // Right after the page's first range of the change log (department ''), another connection
      // commits a change for everyone and then one for 'cut', the page's next range.
      const realQ = (reader as unknown as { q(sql: string): Database.Statement }).q.bind(reader);
      let committed = false;
      (reader as unknown as { q(sql: string): unknown }).q = (sql: string) => {
        const st = realQ(sql);
        if (!sql.startsWith('SELECT seq, entity, entity_id FROM changes WHERE department_id')) return st;
        return {
          all: (...a: unknown[]) => {
            const rows = st.all(...a);
            if (!committed) {
              committed = true;
              const log = other.prepare('INSERT INTO changes (entity, entity_id, department_id, at) VALUES (?, ?, ?, ?)');
              other.transaction(() => {
                log.run('task', 't2', '', T0);
                log.run('task', 't3', 'cut', T0);
              })();
            }
            return rows;
          },
        };
      };
      const page = (await reader.readOnThread('changesPage', [['cut'], head, 1000, T0])) as { lastSeq: number; tasks: Array<{ id: string }> };
      expect(committed).toBe(true);
      // Neither change, so the next page starts before both (without the snapshot, the page had
      // t3's change and moved past t2's, which no page would ever carry).
      expect(page.tasks.map((t) => t.id)).toEqual([]);
      expect(page.lastSeq).toBe(head);
      const next = (await reader.readOnThread('changesPage', [['cut'], page.lastSeq, 1000, T0])) as { tasks: Array<{ id: string }> };
      expect(next.tasks.map((t) => t.id).sort()).toEqual(['t2', 't3']);
    } finally {
      other.close();
      await reader.close();
      await writer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('AUTH-2 a token this store found before and another connection (the admin CLI) then revoked is found revoked at once', async () => {
    await withPlantStore(async (store, file) => {
      const cli = new Database(file);
      try {
        await store.createApiToken({ id: 'tok1', userId: 'sue', name: 'erp', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: 'h1' }, T0);
        expect((await store.findApiTokenWithUser('h1'))!.token.revokedAt).toBeNull();
        cli.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(T0 + 5, 'tok1');
        expect((await store.findApiTokenWithUser('h1'))!.token.revokedAt).toBe(T0 + 5);
        cli.prepare('DELETE FROM api_tokens WHERE id = ?').run('tok1');
        expect(await store.findApiTokenWithUser('h1')).toBeNull();
      } finally {
        cli.close();
      }
    });
  });

  it('SUP-1 SYNC-3 while the kiosks\' snapshot thread starts, the read thread takes an overview\'s page before kiosks\' snapshot pages asked earlier', async () => {
    await withPlantStore(async (store) => {
      await readThreadOf(store);
      // The kiosks' snapshot thread starts at the second of these reads (the first kiosk's is still
      // owed then); until it is ready they are read on the first thread, behind anything more urgent.
      expect(store.snapshotReadThread!.takesReads).toBe(false);
      const order: string[] = [];
      const kiosks = Array.from({ length: 10 }, (_, i) => store.snapshotPage(['cut'], null, 1000, T0).then(() => order.push(`kiosk ${i}`)));
      const board = store.supervisorSnapshotPage({ all: false, departmentIds: ['cut'], userId: 'sue' }, null, 2000, T0).then(() => order.push('board'));
      await Promise.all([...kiosks, board]);
      expect(store.snapshotReadThread!.stats.threadsStarted).toBe(1);
      // Only the kiosk page already handed to the thread goes before it (one at a time).
      expect(order.indexOf('board')).toBeLessThanOrEqual(1);
      expect(order.filter((o) => o.startsWith('kiosk'))).toEqual(Array.from({ length: 10 }, (_, i) => `kiosk ${i}`));
    });
  });

  it('SYNC-1 a kiosk that takes its snapshot alone is read on the first thread: the kiosks\' snapshot thread is not started for it', async () => {
    await withPlantStore(async (store) => {
      const first = await readThreadOf(store);
      const before = first.stats.answered;
      // As the hub asks: one page, then the next once it has come (one read ahead at most).
      for (let i = 0; i < 5; i++) await store.snapshotPage(['cut'], null, 1000, T0);
      expect(first.stats.answered - before).toBe(5);
      expect(store.snapshotReadThread!.stats.threadsStarted).toBe(0);
    });
  });

  it('SUP-1 SYNC-3 kiosks\' snapshot pages, once several kiosks take snapshots at once, are read on a thread of their own at a lower CPU priority: an overview\'s pages and change pages never wait behind them', async () => {
    await withPlantStore(async (store) => {
      // The same read on the event loop, before there are threads.
      const expected = await store.snapshotPage(['cut'], null, 1000, T0);
      const first = await readThreadOf(store);
      const snapshots = store.snapshotReadThread!;
      await snapshots.whenReady();
      expect(snapshots.takesReads).toBe(true);
      const [firstBefore, snapshotsBefore] = [first.stats.answered, snapshots.stats.answered];
      const kiosks = Array.from({ length: 10 }, () => store.snapshotPage(['cut'], null, 1000, T0));
      const board = store.supervisorSnapshotPage({ all: false, departmentIds: ['cut'], userId: 'sue' }, null, 2000, T0);
      const changes = store.changesPage(['cut'], 0, 1000, T0);
      for (const page of await Promise.all(kiosks)) expect(page).toEqual(expected);
      expect((await changes).tasks).toHaveLength(6);
      expect((await board).departments.map((d) => d.id)).toEqual(['cut']);
      // The first kiosk's page went to the first thread (nothing else was owed yet); from the
      // second on, kiosks' snapshots overlapped and went to their own thread.
      expect(snapshots.stats.answered - snapshotsBefore).toBe(9);
      expect(first.stats.answered - firstBefore).toBe(3);
      // Linux: the snapshot thread alone runs nicer than the process (whatever nice the tests run at).
      if (process.platform === 'linux') {
        const niceOf = (tid: string) => {
          try {
            return Number(fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
          } catch {
            return null; // a thread that ended meanwhile
          }
        };
        const main = niceOf(String(process.pid))!;
        const expected = Math.min(19, Math.max(main, SqliteServerStore.SNAPSHOT_THREAD_NICE));
        const nices = fs.readdirSync(`/proc/${process.pid}/task`).map(niceOf).filter((n) => n !== null);
        if (expected !== main) expect(nices.filter((n) => n === expected)).toHaveLength(1);
        expect(nices.filter((n) => n !== expected && n !== main)).toEqual([]);
      }
    });
  });

  it('SYNC-1 a read thread that is lost loses no page: its reads run again on the event loop, and reads go on there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    try {
      await seedPlant(store);
      const thread = await readThreadOf(store);
      // Lost with reads on their way to it: asked right after the thread was told to stop, before it noticed.
      const stopped = (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      const pages = Array.from({ length: 5 }, () => store.changesPage(['cut'], 0, 1000, T0));
      await stopped;
      for (const p of await Promise.all(pages)) expect(p.tasks.map((t) => t.id).sort()).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3']);
      expect(thread.stats.answered + thread.stats.rerunOnLoop).toBe(5);
      expect(thread.stats.rerunOnLoop).toBeGreaterThan(0);
      // The next reads run on the loop for a while (a thread that cannot open the file is not restarted at every read).
      expect((await store.changesPage(['cut'], 0, 1000, T0)).tasks).toHaveLength(6);
      expect(thread.stats.threadsStarted).toBe(1);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PROTO-7 a commit group and a heartbeat that waited for a large import answer only after their writes are flushed', async () => {
    await withHeldFlushes(async ({ store, held, flushes }) => {
      await seedPlant(store);
      flushes.held = true;
      // A large import holds the write lock; a heartbeat and a commit group come meanwhile. The
      // group is answered only once a flush that began after its writes is done.
      // In a fresh turn of the loop the import goes in at once and takes the write lock before the
      // others come (seeding may have spent this turn's budget: then the group, first in line,
      // went ahead of the import and waited for nothing).
      await loopBudget.nextTurn();
      const settled = { import: false, touch: false, group: false };
      const writeGate = () => (store as unknown as { writeGate: Promise<void> | null }).writeGate;
      const importing = store.importTasks(Array.from({ length: 600 }, (_, i) => taskRow(`imp${i}`)), T0);
      // Handing the rows over may spend the turn (a loaded machine): the lock is then taken at the
      // next one. It is let go only once the import thread answers, so it cannot be missed here.
      for (let turns = 0; turns < 3 && !writeGate(); turns++) await loopBudget.nextTurn();
      expect(writeGate()).not.toBeNull();
      const touched = store.touchTerminals(['k1'], T0 + 1);
      // A group that fails ends the waits below too, and the test with its error.
      const group = store.runGroup([() => userOperation({ name: 'claim', taskId: 't1' }, 'ann', T0)]);
      for (const [name, p] of [['import', importing], ['touch', touched], ['group', group]] as const) {
        p.then(
          () => (settled[name] = true),
          () => (settled[name] = true),
        );
      }
      const state = () => `settled ${JSON.stringify(settled)}; store ${storeState(store, held)}`;
      // The import is written on a thread of its own, started for it: 0.3-0.5 s on an idle machine,
      // 1-14 s on a loaded one (vi.waitFor's default gave up after 1 s).
      await waitUntil(() => held.length > 0, 40_000, state);
      await new Promise((r) => setTimeout(r, 50));
      expect(settled).toEqual({ import: false, touch: false, group: false });
      flushes.held = false;
      await waitUntil(
        () => {
          held.splice(0).forEach((r) => r());
          return settled.import && settled.touch && settled.group;
        },
        10_000,
        state,
      );
      expect((await group).results[0]).toMatchObject({ ok: true });
      await touched;
      expect(await importing).toMatchObject({ ok: true, created: 600 });
    });
  }, 90_000);

  it('PROTO-7 SEC-9 calls waiting in line when the store closes run first; a call after the close is refused, never an unhandled crash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    let release: (() => void) | null = null;
    let holding = false;
    const store = new SqliteServerStore(path.join(dir, 'claims.db'), {
      flushFile: async () => {
        if (holding) await new Promise<void>((r) => (release = r));
      },
    });
    try {
      await seedPlant(store);
      holding = true;
      const group = store.runGroup([() => userOperation({ name: 'claim', taskId: 't3' }, 'bob', T0)]);
      await vi.waitFor(() => expect(release).not.toBeNull());
      // A disconnect recorded as the server stops, and a read: both wait for the flush.
      const disconnect = store.recordDisconnect('k1', T0);
      const read = store.getTask('t3', T0);
      holding = false;
      const closing = store.close();
      release!();
      await group;
      await disconnect;
      expect((await read)!.operatorId).toBe('bob');
      await closing;
      await expect(store.getTask('t3', T0)).rejects.toThrow(/not open/);
      await expect(store.recordDisconnect('k1', T0)).rejects.toThrow(/not open/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
