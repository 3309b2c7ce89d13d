/**
 * A new kiosk joins a plant (issue 12): 200,000 tasks in 4 departments, 50,000 of them in the
 * kiosk's department (plus 500 operators), against the real server process. Time from start to
 * caught up (its first snapshot applied, cursor stored), the terminal's live heap (after full GCs,
 * node --expose-gc) sampled while the pages flow, and the server's RSS. Target: < 3 s; heap flat.
 * BENCH_PLANT_TASKS changes the plant's size (a quarter of it is the kiosk's department).
 * BENCH_BASELINE_ROOT serves the same plant from earlier code first, in the same run (the same
 * terminal core joins both).
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
import { pathToFileURL } from 'node:url';
import { baselineRoot, report, round, rssMiB, startServerProcess, tempDir } from './lib.js';

const TASKS = Number(process.env.BENCH_PLANT_TASKS ?? 200_000);
const DEPARTMENTS = 4;
const OPERATORS = 2000;

type StoreClass = new (file: string, options: { synchronous: 'NORMAL' }) => SqliteServerStore;

/** The plant, written by `Store` (the baseline's own store code when measuring it). */
async function seed(serverDir: string, Store: StoreClass): Promise<number> {
  fs.mkdirSync(serverDir, { recursive: true });
  const now = Date.now();
  const store = new Store(path.join(serverDir, 'claims.db'), { synchronous: 'NORMAL' });
  for (let d = 0; d < DEPARTMENTS; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  for (let o = 0; o < OPERATORS; o++) {
    await store.createUser({ id: `op${o}`, displayName: `Operator ${o}`, roles: ['operator'], departmentIds: [`d${o % DEPARTMENTS}`], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
  }
  await store.createTerminal({ id: 'k1', name: 'Kiosk 1', departments: ['d0'], tokenHash: tokenHash('snapshot-token') }, now);
  let rows: ImportTaskRow[] = [];
  for (let i = 0; i < TASKS; i++) {
    rows.push({ taskId: `t${i}`, workOrderNumber: `WO-${Math.floor(i / 20)}`, workOrderTitle: '', step: 'cut', workContent: `Cut part ${i} to drawing rev B`, departmentId: `d${i % DEPARTMENTS}`, status: 'pending', priority: i % 5, dueAt: null, requiredSkills: [] });
    if (rows.length === 20_000) {
      if (!(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
      rows = [];
    }
  }
  if (rows.length && !(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
  const head = await store.headSeq();
  await store.close();
  return head;
}

interface SnapshotFigures {
  seconds: number;
  tasks: number;
  cursorCoversSeed: boolean;
  terminalLiveHeapGrowthMiB: number | string;
  serverRssMiB: number;
}

/** A new terminal core joins the server of `dir`; time until its snapshot is applied. */
async function join(dir: string, head: number, root?: string): Promise<SnapshotFigures> {
  const server = await startServerProcess(path.join(dir, 'server'), root ? { root } : {});
  const gc = (globalThis as { gc?: () => void }).gc;
  const liveHeap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  try {
    const baseHeap = liveHeap();
    let peakHeap = baseHeap;
    let lastSample = 0;
    const start = performance.now();
    const core = new TerminalCore({
      store: new TerminalStore(path.join(dir, 'terminal', 'terminal.db')),
      settings: { serverUrl: server.url, terminalId: 'k1', token: 'snapshot-token', idleTimeoutSeconds: 0, locale: 'en' },
      clock: systemClock,
      scheduler: realScheduler,
      random: Math.random,
      dialer: (url) => wsDialer(url),
      appVersion: 'bench',
      sync: { backoffInitialMs: 50, backoffMaxMs: 200 },
    });
    core.startSyncing();
    const deadline = Date.now() + 120_000;
    while (!(core.store.meta<number | null>('cursor', null) !== null && core.syncStatus().status === 'online')) {
      if (Date.now() > deadline) throw new Error('the snapshot did not finish within 120 s');
      const t = performance.now();
      if (gc && t - lastSample > 250) {
        lastSample = t;
        peakHeap = Math.max(peakHeap, liveHeap());
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - start) / 1000;
    const tasks = core.store.db.prepare('SELECT COUNT(*) FROM tasks').pluck().get() as number;
    const cursor = core.store.meta<number | null>('cursor', null);
    core.close();
    return {
      seconds: round(seconds, 2),
      tasks,
      cursorCoversSeed: cursor !== null && cursor >= head,
      terminalLiveHeapGrowthMiB: gc ? round((peakHeap - baseHeap) / 1048576, 1) : 'run with node --expose-gc',
      serverRssMiB: rssMiB(server.child.pid),
    };
  } finally {
    await server.stop();
  }
}

export async function run(): Promise<void> {
  const dir = tempDir('snapshot');
  const base = baselineRoot();
  try {
    let baseline: SnapshotFigures | null = null;
    if (base) {
      const mod = (await import(pathToFileURL(path.join(base, 'out/node/src-server/store/sqlite/store.js')).href)) as { SqliteServerStore: StoreClass };
      const baseDir = path.join(dir, 'baseline');
      baseline = await join(baseDir, await seed(path.join(baseDir, 'server'), mod.SqliteServerStore), base);
    }
    const currentDir = path.join(dir, 'current');
    const f = await join(currentDir, await seed(path.join(currentDir, 'server'), SqliteServerStore));
    report({
      bench: 'snapshot: a new kiosk joins a department of 50,000 tasks (200,000 in the plant)',
      figures: {
        plantTasks: TASKS,
        departmentTasks: f.tasks,
        seconds: f.seconds,
        tasksPerSec: Math.round(f.tasks / f.seconds),
        cursorCoversSeed: f.cursorCoversSeed,
        terminalLiveHeapGrowthMiB: f.terminalLiveHeapGrowthMiB,
        serverRssMiB: f.serverRssMiB,
        ...(baseline ? { baselineRoot: base, baselineSeconds: baseline.seconds, ratioToBaseline: round(f.seconds / baseline.seconds, 2) } : {}),
      },
      targets: { 'snapshot of 50,000 tasks': { target: '< 3 s', met: f.seconds < 3 && f.tasks === TASKS / DEPARTMENTS } },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
