/**
 * The terminal's apply of the server's pages and outcomes (reconcile.ts) on a real SQLite file: the
 * server's word of a task is taken unless the terminal already has a newer version of it; a task
 * with nothing pending is shown as that word (one row), a task with a local change waiting keeps
 * the word apart and shows the change on top of it; a snapshot drops what it did not contain.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SITE_CONFIG } from '../../src-shared/domain/config.js';
import type { ChangesFrame, SyncTask } from '../../src-shared/protocol/terminal.js';
import { makeTask } from '../../test/support/memory-model.js';
import { applyChanges, applyLocal, applyOutcome, decideLocal } from './reconcile.js';
import { TerminalStore, terminalMigrationsDir } from './store.js';

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

const NOW = 1_000;
const apply = (store: TerminalStore, p: ChangesFrame) => applyChanges(store, p, ['cut'], NOW, DEFAULT_SITE_CONFIG);
const versions = (store: TerminalStore, table: 'tasks' | 'tasks_base') =>
  Object.fromEntries((store.db.prepare(`SELECT id, version FROM ${table} ORDER BY id`).all() as Array<{ id: string; version: number }>).map((r) => [r.id, r.version]));
/** The server's word of each task as the terminal holds it. */
const serverWord = (store: TerminalStore, ids: string[]) => Object.fromEntries(ids.map((id) => [id, store.baseTask(id)?.version ?? null]));

/** Ann claims `id` on the terminal, as its claim button does: the change shown at once, its entry queued. */
function claimLocally(store: TerminalStore, id: string): number {
  return store.tx(() => {
    const d = decideLocal(store, { name: 'claim', taskId: id }, 'ann', NOW, DEFAULT_SITE_CONFIG, ['cut']);
    if (!d.ok) throw new Error(`claim refused: ${d.error.code}`);
    applyLocal(store, store.task(id)!, d.value.effects, NOW);
    return store.appendOutbox({ name: 'claim', args: { taskId: id }, operatorId: 'ann', taskId: id, createdLocal: NOW, offline: true });
  });
}

const ANN = { id: 'ann', displayName: 'Ann', badgeHash: null, pinHash: null, roles: ['operator' as const], departmentIds: ['cut'], active: true, taskLimit: null, skills: [], activeTasks: {} };

function withAnn(store: TerminalStore): TerminalStore {
  store.upsertUser(ANN, null);
  return store;
}

describe('applying change pages on the terminal', () => {
  it('SYNC-1 OFF-5 a page shows the server\'s tasks; an older version of a task than the terminal has does not take it back', () => {
    const store = openStore();
    expect(apply(store, page('delta', [task('t1', 3), task('t2', 1)], 10))).toEqual(['t1', 't2']);
    // An older page arriving late (t1 version 2) leaves t1 at version 3.
    apply(store, page('delta', [task('t1', 2, { workContent: 'stale' }), task('t2', 2)], 11));
    expect(versions(store, 'tasks')).toEqual({ t1: 3, t2: 2 });
    // Nothing is pending, so no task keeps the server's word apart from what is shown.
    expect(versions(store, 'tasks_base')).toEqual({});
    expect(serverWord(store, ['t1', 't2'])).toEqual({ t1: 3, t2: 2 });
    expect(store.task('t1')!.workContent).toBe('Cut t1');
    expect(store.task('t2')).toEqual(task('t2', 2));
    expect(store.meta('cursor', null)).toBe(11);
  });

  it('SYNC-2 a task that left the terminal\'s departments leaves, also one with a local change waiting', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 1), task('t2', 1), task('t3', 1)], 10));
    claimLocally(store, 't3');
    apply(store, page('delta', [task('t1', 2, { departmentId: 'weld' }), task('t3', 2, { departmentId: 'weld' })], 11));
    expect(versions(store, 'tasks')).toEqual({ t2: 1 });
    expect(serverWord(store, ['t1', 't3'])).toEqual({ t1: null, t3: null });
  });

  it('SYNC-2 OFF-5 a late page from when a task was in another department does not take it away once it is back', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 3), task('t2', 3)], 10));
    claimLocally(store, 't2');
    // Version 2 of both, when they were in welding, arrives after version 3.
    apply(store, page('delta', [task('t1', 2, { departmentId: 'weld' }), task('t2', 2, { departmentId: 'weld' })], 11));
    expect(versions(store, 'tasks')).toEqual({ t1: 3, t2: 4 });
    expect(store.baseTask('t2')).toMatchObject({ version: 3, operatorId: null });
    // A newer move away takes them.
    apply(store, page('delta', [task('t1', 4, { departmentId: 'weld' }), task('t2', 4, { departmentId: 'weld' })], 12));
    expect(versions(store, 'tasks')).toEqual({});
    expect(versions(store, 'tasks_base')).toEqual({});
  });

  it('SYNC-3 a snapshot drops what it did not contain, and keeps a task whose newer version the terminal has', () => {
    const store = openStore();
    apply(store, page('delta', [task('t1', 3), task('t2', 1), task('t3', 1)], 10));
    apply(store, page('snapshot', [task('t1', 2)], null, true));
    apply(store, page('snapshot', [task('t3', 4)], 20));
    expect(versions(store, 'tasks')).toEqual({ t1: 3, t3: 4 });
    expect(versions(store, 'tasks_base')).toEqual({});
    expect(store.meta('cursor', null)).toBe(20);
  });

  it('SYNC-3 OFF-6 a snapshot without a task that has a claim waiting drops it; an older page never takes back a waiting task\'s word', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 1), task('t2', 1)], 10));
    claimLocally(store, 't1');
    claimLocally(store, 't2');
    apply(store, page('delta', [task('t2', 5, { priority: 7 })], 11));
    // A late page with t2 at version 4: the kept word stays at 5, the claim shown on top of it.
    apply(store, page('delta', [task('t2', 4, { priority: 1 })], 12));
    expect(store.baseTask('t2')).toMatchObject({ version: 5, priority: 7, operatorId: null });
    expect(store.task('t2')).toMatchObject({ version: 6, priority: 7, operatorId: 'ann' });
    // A snapshot that holds t2 only: t1 is gone on the server's side, shown and kept word alike.
    apply(store, { ...page('snapshot', [task('t2', 5, { priority: 7 })], 30, true), users: [ANN] });
    expect(versions(store, 'tasks')).toEqual({ t2: 6 });
    expect(versions(store, 'tasks_base')).toEqual({ t2: 5 });
    expect(store.baseTask('t1')).toBeNull();
  });

  it('OFF-2 SYNC-1 a local claim is shown over the server\'s newer word until its outcome; then the word alone is shown', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 1), task('t2', 1)], 10));
    const claim = claimLocally(store, 't1');
    expect(store.task('t1')).toMatchObject({ operatorId: 'ann', version: 2 });
    expect(store.baseTask('t1')).toMatchObject({ operatorId: null, version: 1 });

    // The server changes the task meanwhile (a new priority): the word is taken, the claim still shown on top.
    apply(store, page('delta', [task('t1', 2, { priority: 9 })], 11));
    expect(store.baseTask('t1')).toMatchObject({ operatorId: null, version: 2, priority: 9 });
    expect(store.task('t1')).toMatchObject({ operatorId: 'ann', priority: 9, version: 3 });

    // The claim is confirmed: the server's task is shown, and kept only once.
    const confirmed = task('t1', 3, { priority: 9, operatorId: 'ann', operatorName: 'Ann', workedBy: ['ann'] });
    applyOutcome(store, { id: claim, status: 'applied', value: {}, task: confirmed }, ['cut'], NOW, DEFAULT_SITE_CONFIG, NOW);
    expect(store.task('t1')).toEqual(confirmed);
    expect(versions(store, 'tasks_base')).toEqual({});
    expect(serverWord(store, ['t1'])).toEqual({ t1: 3 });
  });

  it('OFF-2 a claim the server refuses leaves the task as the server has it', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 1)], 10));
    const claim = claimLocally(store, 't1');
    const taken = task('t1', 2, { operatorId: 'bob', operatorName: 'Bob', workedBy: ['bob'] });
    applyOutcome(store, { id: claim, status: 'rejected', error: { code: 'task_conflict', message: 'Bob has it', details: {}, retry: { canRetry: true, suggestion: 'Pick another task.', actionText: 'Refresh' } }, task: taken }, ['cut'], NOW, DEFAULT_SITE_CONFIG, NOW);
    expect(store.task('t1')).toEqual(taken);
    expect(versions(store, 'tasks_base')).toEqual({});
  });

  it('SYNC-3 a task whose last local change is answered in the middle of a snapshot is kept by that snapshot', () => {
    const store = withAnn(openStore());
    apply(store, page('delta', [task('t1', 1), task('t2', 1)], 10));
    const claim = claimLocally(store, 't1');
    // The snapshot's first page carries t1 (its word is kept apart, the claim pending) ...
    apply(store, page('snapshot', [task('t1', 1)], null, true));
    // ... the claim is confirmed between the pages ...
    applyOutcome(store, { id: claim, status: 'applied', value: {}, task: task('t1', 2, { operatorId: 'ann', operatorName: 'Ann' }) }, ['cut'], NOW, DEFAULT_SITE_CONFIG, NOW);
    // ... and the last page carries t2 only: t1 was in this snapshot, so it stays.
    apply(store, page('snapshot', [task('t2', 1)], 30));
    expect(versions(store, 'tasks')).toEqual({ t1: 2, t2: 1 });
    expect(store.task('t1')).toMatchObject({ operatorId: 'ann' });
  });

  it('OFF-2 a terminal upgraded with a claim waiting keeps the server\'s word apart for that task only, and goes on as before', () => {
    // A terminal database as the release before left it: every task's server word in tasks_base too.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
    dirs.push(dir);
    const before = path.join(dir, 'migrations-before');
    fs.mkdirSync(before);
    for (const f of ['001_init.sql', '002_shift.sql', '003_enrollment_audit.sql']) fs.copyFileSync(path.join(terminalMigrationsDir(), f), path.join(before, f));
    const file = path.join(dir, 'terminal.db');
    const old = new TerminalStore(file, { migrationsDir: before });
    const row = `(id, work_order_id, work_order_number, step, work_content, department_id, status, operator_id, operator_name, priority, required_skills, version, created_at, updated_at)`;
    old.db.exec(`INSERT INTO tasks_base ${row.replace(')', ', sync_mark)')} VALUES
        ('t1', 'wo1', 'WO-1', 'cut', 'Cut t1', 'cut', 'pending', NULL, NULL, 1, '[]', 1, 1, 2, 7),
        ('t2', 'wo1', 'WO-1', 'cut', 'Cut t2', 'cut', 'pending', NULL, NULL, 1, '[]', 1, 1, 2, 7);
      INSERT INTO tasks ${row} VALUES
        ('t1', 'wo1', 'WO-1', 'cut', 'Cut t1', 'cut', 'pending', 'ann', 'Ann', 1, '[]', 2, 1, 2),
        ('t2', 'wo1', 'WO-1', 'cut', 'Cut t2', 'cut', 'pending', NULL, NULL, 1, '[]', 1, 1, 2),
        ('t3', 'wo1', 'WO-1', 'cut', 'Cut t3', 'cut', 'pending', 'ann', 'Ann', 1, '[]', 2, 1, 2);
      INSERT INTO outbox (id, name, args, operator_id, task_id, created_local, offline) VALUES
        (1, 'claim', '{"taskId":"t1"}', 'ann', 't1', 1, 1),
        (2, 'signOut', '{}', 'ann', NULL, 1, 1),
        (3, 'claim', '{"taskId":"t3"}', 'ann', 't3', 1, 1);`);
    old.close();

    const store = withAnn(new TerminalStore(file));
    stores.push(store);
    expect(versions(store, 'tasks_base')).toEqual({ t1: 1 });
    // t3 was shown claimed with no word of the server's kept (a damaged file): its local change is
    // not taken for the server's word; the next page brings t3 back.
    expect(versions(store, 'tasks')).toEqual({ t1: 2, t2: 1 });
    expect(store.baseTask('t1')).toMatchObject({ operatorId: null, version: 1 });
    expect(store.baseTask('t2')).toMatchObject({ operatorId: null, version: 1 });
    // The snapshot mark went with the server's word: a snapshot page of mark 7 still counts t2 as seen.
    expect(store.db.prepare("SELECT sync_mark FROM tasks WHERE id = 't2'").pluck().get()).toBe(7);

    applyOutcome(store, { id: 1, status: 'applied', value: {}, task: task('t1', 2, { operatorId: 'ann', operatorName: 'Ann' }) }, ['cut'], NOW, DEFAULT_SITE_CONFIG, NOW);
    expect(versions(store, 'tasks_base')).toEqual({});
    expect(store.task('t1')).toMatchObject({ operatorId: 'ann', version: 2 });
  });
});
