/**
 * Catch-up (issue 4): a terminal that was offline while the server made 100,000 changes to its
 * department reconnects and reaches the server's state. Target: under 3 s. Memory stays flat:
 * pages are streamed one at a time (each acknowledged before the next), so the terminal's live
 * heap grows by far less than the data that passes through it. (RSS also counts garbage not yet
 * collected and, on the server, SQLite's page cache and memory-mapped file.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../src-shared/clock.js';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { TerminalStore } from '../src-main/core/store.js';
import { realScheduler } from '../src-main/core/sync-client.js';
import { TerminalCore } from '../src-main/core/terminal.js';
import { wsDialer } from '../src-main/core/ws-dialer.js';
import { report, round, rssMiB, startServerProcess, tempDir } from './lib.js';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);

function rows(priority: number): ImportTaskRow[] {
  return Array.from({ length: CHANGES }, (_, i) => ({
    taskId: `t${String(i).padStart(6, '0')}`,
    workOrderNumber: `WO-${Math.floor(i / 10)}`,
    workOrderTitle: '',
    step: 'cut',
    workContent: `Cut part ${i} to drawing rev ${priority}`,
    departmentId: 'cut',
    status: 'pending',
    priority,
    dueAt: null,
    requiredSkills: [],
  }));
}

async function importAll(store: SqliteServerStore, all: ImportTaskRow[], now: number): Promise<void> {
  for (let i = 0; i < all.length; i += 20_000) if (!(await store.importTasks(all.slice(i, i + 20_000), now)).ok) throw new Error('import failed');
}

function openTerminal(dir: string, serverUrl: string): TerminalCore {
  const core = new TerminalCore({
    store: new TerminalStore(path.join(dir, 'terminal.db')),
    settings: { serverUrl, terminalId: 'k1', token: 'catch-up-token', idleTimeoutSeconds: 0, locale: 'en' },
    clock: systemClock,
    scheduler: realScheduler,
    random: Math.random,
    dialer: (url) => wsDialer(url),
    appVersion: 'bench',
    sync: { backoffInitialMs: 50, backoffMaxMs: 200 },
  });
  core.startSyncing();
  return core;
}

async function until(pred: () => boolean, onTick: () => void, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    onTick();
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function run(): Promise<void> {
  const dir = tempDir('catchup');
  const serverDir = path.join(dir, 'server');
  const termDir = path.join(dir, 'terminal');
  fs.mkdirSync(serverDir);
  const now = Date.now();
  let store = new SqliteServerStore(path.join(serverDir, 'claims.db'), { synchronous: 'NORMAL' });
  await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
  await store.createTerminal({ id: 'k1', name: 'Kiosk 1', departments: ['cut'], tokenHash: tokenHash('catch-up-token') }, now);
  await importAll(store, rows(0), now);
  await store.close();

  let server = await startServerProcess(serverDir);
  let core = openTerminal(termDir, server.url);
  const snapStart = performance.now();
  await until(() => core.syncStatus().status === 'online', () => {});
  const snapshotSeconds = round((performance.now() - snapStart) / 1000, 2);
  const port = Number(new URL(server.url).port);
  core.close();
  await server.stop();

  // While the terminal is away, the server changes every task of its department.
  store = new SqliteServerStore(path.join(serverDir, 'claims.db'), { synchronous: 'NORMAL' });
  const head0 = await store.headSeq();
  await importAll(store, rows(1), now + 1);
  const head = await store.headSeq();
  await store.close();

  // Two catch-ups of 100,000 changes each: the first timed without instruments, the second with
  // the live heap sampled after full GCs (node --expose-gc), which would slow the first.
  server = await startServerProcess(serverDir, { port });
  try {
    let start = performance.now();
    core = openTerminal(termDir, server.url);
    await until(() => core.store.meta<number | null>('cursor', null) === head && core.syncStatus().status === 'online', () => {});
    const seconds = (performance.now() - start) / 1000;
    const changed = core.store.db.prepare('SELECT COUNT(*) FROM tasks WHERE priority = 1').pluck().get() as number;
    core.close();
    await server.stop();

    store = new SqliteServerStore(path.join(serverDir, 'claims.db'), { synchronous: 'NORMAL' });
    await importAll(store, rows(2), now + 2);
    const head2 = await store.headSeq();
    await store.close();
    server = await startServerProcess(serverDir, { port });

    // Live heap: measured after a full GC, so garbage V8 has not yet collected does not count.
    const gc = (globalThis as { gc?: () => void }).gc;
    const liveHeap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const baseline = { terminal: rssMiB(), server: rssMiB(server.child.pid), heap: liveHeap() };
    let peak = { ...baseline };
    let lastHeap = 0;
    const sample = () => {
      const t = performance.now();
      const heap = gc && t - lastHeap > 100 ? ((lastHeap = t), liveHeap()) : peak.heap;
      peak = { terminal: Math.max(peak.terminal, rssMiB()), server: Math.max(peak.server, rssMiB(server.child.pid)), heap: Math.max(peak.heap, heap) };
    };
    start = performance.now();
    core = openTerminal(termDir, server.url);
    await until(() => core.store.meta<number | null>('cursor', null) === head2 && core.syncStatus().status === 'online', sample);
    const instrumentedSeconds = (performance.now() - start) / 1000;
    core.close();
    report({
      bench: 'catch-up: a terminal back after 100,000 changes',
      figures: {
        changes: head - head0,
        tasksUpdatedOnTerminal: changed,
        firstSnapshotSeconds: snapshotSeconds,
        catchUpSeconds: round(seconds, 2),
        changesPerSec: Math.round((head - head0) / seconds),
        secondCatchUpWithGcSamplingSeconds: round(instrumentedSeconds, 2),
        terminalLiveHeapGrowthMiB: gc ? round((peak.heap - baseline.heap) / 1048576, 1) : 'run with node --expose-gc',
        terminalRssGrowthMiB: peak.terminal - baseline.terminal,
        serverRssGrowthMiB: peak.server - baseline.server,
        dataThroughMiB: round((CHANGES * 450) / 1048576, 1),
      },
      targets: { 'catch-up time': { target: '< 3 s', met: seconds < 3 && changed === CHANGES } },
    });
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
