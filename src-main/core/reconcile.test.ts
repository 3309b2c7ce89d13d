/**
 * The terminal's apply of the server's pages (reconcile.ts) on a real SQLite file: the base takes
 * the server's tasks unless it already has a newer version of one, the screen shows the base where
 * nothing is pending, and a snapshot drops what it did not contain.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangesFrame, SyncTask } from '../../src-shared/protocol/terminal.js';
import { makeTask } from '../../test/support/memory-model.js';
import { applyChanges } from './reconcile.js';
import { TerminalStore } from './store.js';

const stores: TerminalStore[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function openStore(): TerminalStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
  dirs.push(dir);
  const store = new TerminalStore(path.join(dir, 'terminal.db'));
  stores.push(store);
  return store;
}

function task(id: string, version: number, over: Partial<SyncTask> = {}): SyncTask {
  const base = makeTask(id, { workContent: `Cut ${id}`, departmentId: 'cut', priority: version, version, createdAt: 1, updatedAt: 1 + version });
  return { ...base, cooldowns: [], workedBy: [], assignment: null, lastRejection: null, ...over };
}

function page(mode: 'snapshot' | 'delta', tasks: SyncTask[], cursor: number | null, reset = false): ChangesFrame {
  return { type: 'changes', mode, reset, cursor, more: cursor === null, tasks, users: [], departments: [], config: null, notifications: [] };
}

const apply = (store: TerminalStore, p: ChangesFrame) => applyChanges(store, p, ['cut'], 1_000, { timeZone: 'UTC' } as never);
const versions = (store: TerminalStore, table: 'tasks' | 'tasks_base') =>
  Object.fromEntries((store.db.prepare(`SELECT id, version FROM ${table} ORDER BY id`).all() as Array<{ id: string; version: number }>).map((r) => [r.id, r.version]));

describe('applying change pages on the terminal', () => {
  it('SYNC-1 OFF-5 a page shows the server\'s tasks; an older version of a task than the terminal has does not take it back', () => {
    const store = openStore();
    expect(apply(store, page('delta', [task('t1', 3), task('t2', 1)], 10))).toEqual(['t1', 't2']);
    // An older page arriving late (t1 version 2) leaves t1 at version 3, base and screen alike.
    apply(store, page('delta', [task('t1', 2, { workContent: 'stale' }), task('t2', 2)], 11));
    expect(versions(store, 'tasks_base')).toEqual({ t1: 3, t2: 2 });
    expect(versions(store, 'tasks')).toEqual({ t1: 3, t2: 2 });
    expect(store.task('t1')!.workContent).toBe('Cut t1');
    expect(store.task('t2')).toEqual(task('t2', 2));
    expect(store.meta('cursor', null)).toBe(11);
  });

  it('SYNC-2 a task that left the terminal\'s departments leaves its base and its screen', () => {
    const store = openStore();
    apply(store, page('delta', [task('t1', 1), task('t2', 1)], 10));
    apply(store, page('delta', [task('t1', 2, { departmentId: 'weld' })], 11));
    expect(versions(store, 'tasks_base')).toEqual({ t2: 1 });
    expect(versions(store, 'tasks')).toEqual({ t2: 1 });
  });

  it('SYNC-3 a snapshot drops what it did not contain, and keeps a task whose newer version the terminal has', () => {
    const store = openStore();
    apply(store, page('delta', [task('t1', 3), task('t2', 1), task('t3', 1)], 10));
    apply(store, page('snapshot', [task('t1', 2)], null, true));
    apply(store, page('snapshot', [task('t3', 4)], 20));
    expect(versions(store, 'tasks_base')).toEqual({ t1: 3, t3: 4 });
    expect(versions(store, 'tasks')).toEqual({ t1: 3, t3: 4 });
    expect(store.meta('cursor', null)).toBe(20);
  });
});
