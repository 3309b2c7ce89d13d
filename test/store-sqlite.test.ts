import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ServerStore } from '../src-server/store/types.js';
import { storeContract } from './store-contract.js';
import { seedPlant } from './support/plant.js';

let dirs: string[] = [];
const files = new WeakMap<ServerStore, string>();

storeContract({
  name: 'sqlite',
  async create() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    dirs.push(dir);
    const file = path.join(dir, 'claims.db');
    const store = new SqliteServerStore(file);
    files.set(store, file);
    return store;
  },
  async reopen(store) {
    const file = files.get(store)!;
    await store.close();
    const again = new SqliteServerStore(file);
    files.set(again, file);
    return again;
  },
  async cleanup() {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  },
});

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

  it('PROTO-7 the store runs with WAL and synchronous=FULL, and backs up online to a consistent copy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    try {
      await seedPlant(store);
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
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
});
