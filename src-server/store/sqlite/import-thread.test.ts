/**
 * SEC-9, IMP-1 (issue 12): a large import is written on a thread of its own. When that thread
 * cannot do its work, the import answers with an error that says so and nothing is written; it
 * never leaves its caller waiting. The thread runs the compiled store (out/node, built by the
 * tests' global setup).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { T0, seedPlant, taskRow } from '../../../test/support/plant.js';
import { ImportThread } from './import-thread.js';
import { SqliteServerStore } from './store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-thread-'));
  dirs.push(dir);
  return dir;
}

/** A seeded store and an import thread of its own on the same file; both closed after `fn`. */
async function withThread(fn: (store: SqliteServerStore, thread: ImportThread) => Promise<void>): Promise<void> {
  const file = path.join(tempDir(), 'claims.db');
  const store = new SqliteServerStore(file);
  await seedPlant(store);
  const thread = new ImportThread({ file, synchronous: 'FULL', walAutocheckpoint: 1000 });
  try {
    await fn(store, thread);
  } finally {
    await thread.close();
    await store.close();
  }
}

const rows = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => taskRow(`${prefix}${i}`, { workOrderNumber: `WO-${prefix}${Math.floor(i / 20)}` }));

describe('the import thread', () => {
  it('IMP-1 SEC-9 writes a large import through its own connection, all of it, and the server\u2019s connection sees it once answered', async () => {
    const dir = tempDir();
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    try {
      await seedPlant(store);
      const result = await store.importTasks(rows('big', 2_500), T0);
      expect(result).toMatchObject({ ok: true, created: 2_500, workOrders: 125 });
      expect((await store.listTasks({ workOrderNumber: 'WO-big124' }, { limit: 100, offset: 0 })).total).toBe(20);
      // One bad row at the end: the thread writes none of the others.
      const refused = await store.importTasks([...rows('half', 1_000), taskRow('half-last', { departmentId: 'nosuchdept' })], T0);
      expect(refused).toMatchObject({ ok: false, errors: [{ row: 1_001, field: 'departmentId' }] });
      expect((await store.listTasks({ q: 'half' }, { limit: 10, offset: 0 })).total).toBe(0);
      // A small import asked for while a large one is handed over is written after it (the later
      // file's values stay).
      const [, small] = await Promise.all([
        store.importTasks(rows('order', 2_000).map((r) => ({ ...r, priority: 1 })), T0),
        store.importTasks([{ ...rows('order', 1)[0]!, priority: 9 }], T0),
      ]);
      expect(small).toMatchObject({ ok: true, updated: 1 });
      expect((await store.getTask('order0', T0))!.priority).toBe(9);
      // The server's own writes go on after it.
      await store.upsertDepartment({ id: 'paint', name: 'Painting', taskLimit: null }, T0);
      expect((await store.listDepartments()).map((d) => d.id)).toContain('paint');
    } finally {
      await store.close();
    }
  });

  it('IMP-1 two imports asked for at once are written one after the other, each with its own rows', async () => {
    await withThread(async (store, thread) => {
      const [a, b] = await Promise.all([thread.run(rows('a', 3_000), T0), thread.run(rows('b', 900), T0)]);
      expect([a, b]).toMatchObject([
        { ok: true, created: 3_000 },
        { ok: true, created: 900 },
      ]);
      // An import that fails before it is written leaves none of its rows to the next one.
      await expect(
        thread.run(rows('c', 600), T0, undefined, () => {
          throw new Error('no room');
        }),
      ).rejects.toThrow(/^no room$/);
      expect(await thread.run(rows('d', 600), T0)).toMatchObject({ ok: true, created: 600 });
      // Once the thread is closed (the server stops), a new import is refused, not started anew.
      await thread.close();
      await expect(thread.run(rows('e', 600), T0)).rejects.toThrow('the server is stopping; the import was not written');
    });
  });

  it('SEC-9 a thread that cannot open the database answers the import with an error naming why, and tries again at the next import', async () => {
    const notADatabase = tempDir(); // a folder: SQLite cannot open it as a file
    const thread = new ImportThread({ file: notADatabase, synchronous: 'FULL', walAutocheckpoint: 1000 });
    try {
      await expect(thread.run(rows('x', 600), T0)).rejects.toThrow('the import could not be written: unable to open database file');
      await expect(thread.run(rows('y', 600), T0)).rejects.toThrow('unable to open database file');
    } finally {
      await thread.close();
    }
  });

  it('SEC-9 IMP-1 a thread lost in the middle of an import answers it with an error, nothing of it is written, and the next import runs on a new thread', async () => {
    await withThread(async (store, thread) => {
      let handedOver = false;
      const running = thread.run(rows('lost', 100_000), T0, undefined, () => void (handedOver = true));
      // As if the thread crashed while the rows were on their way to it (a hundred chunks, several
      // turns of the loop): nobody awaits the answer yet, and the server must not crash of it.
      const inside = thread as unknown as { worker: { terminate(): Promise<number> } | null };
      await vi.waitFor(() => expect(inside.worker).not.toBeNull(), { interval: 1 });
      await inside.worker!.terminate();
      expect(handedOver).toBe(false);
      await expect(running).rejects.toThrow(/the import thread stopped \(exit code \d+\); nothing of the import was written/);
      expect((await store.listTasks({ q: 'lost' }, { limit: 10, offset: 0 })).total).toBe(0);
      expect(await thread.run(rows('again', 600), T0)).toMatchObject({ ok: true, created: 600 });
      expect((await store.listTasks({ q: 'again' }, { limit: 10, offset: 0 })).total).toBe(600);
    });
  });
});
