/**
 * Terminal apply (issue 12): what it costs a terminal to store the server's change pages, the bound
 * of `catch-up` and of a kiosk's snapshot. One department's 50,000 tasks arrive as a snapshot, then
 * every task changes, three times over (a new priority, as after a re-import), in pages of 1,000, through the
 * terminal's own `applyChanges` into a real SQLite file (fsync'd commits, as on a kiosk). No
 * network and no server: only the terminal's work per task.
 *
 * `BENCH_BASELINE_ROOT=<checkout>` (built with `npx tsc -p tsconfig.node.json`) runs the same pages
 * through that checkout's terminal code in the same process, the two taking turns round by round.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyChanges } from '../src-main/core/reconcile.js';
import { TerminalStore } from '../src-main/core/store.js';
import { DEFAULT_SITE_CONFIG } from '../src-shared/domain/config.js';
import type { ChangesFrame, SyncTask } from '../src-shared/protocol/terminal.js';
import { report, round, tempDir } from './lib.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 50_000);
const PAGE = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Side {
  label: string;
  store: { close(): void };
  apply(page: ChangesFrame): void;
}

function side(label: string, Store: typeof TerminalStore, apply: typeof applyChanges, file: string): Side {
  const store = new Store(file);
  return { label, store, apply: (page) => void apply(store, page, ['cut'], Date.now(), DEFAULT_SITE_CONFIG) };
}

/** The terminal code of another checkout, compiled to its out/node. */
async function baselineSide(root: string, file: string): Promise<Side> {
  const core = path.join(root, 'out/node/src-main/core');
  const { TerminalStore: Store } = (await import(pathToFileURL(path.join(core, 'store.js')).href)) as { TerminalStore: typeof TerminalStore };
  const { applyChanges: apply } = (await import(pathToFileURL(path.join(core, 'reconcile.js')).href)) as { applyChanges: typeof applyChanges };
  return side('baseline', Store, apply, file);
}

function task(i: number, version: number): SyncTask {
  const wo = Math.floor(i / 10);
  return {
    id: `t${String(i).padStart(6, '0')}`,
    workOrderId: `wo${wo}`,
    workOrderNumber: `WO-${wo}`,
    step: 'cut',
    workContent: `Cut part ${i} to drawing rev ${version}`,
    departmentId: 'cut',
    status: 'pending',
    operatorId: null,
    operatorName: null,
    priority: version,
    dueAt: null,
    requiredSkills: [],
    version,
    createdAt: 1,
    updatedAt: 1 + version,
    cooldowns: [],
    workedBy: [],
    assignment: null,
    lastRejection: null,
  };
}

/** Store every task at `version` in pages; returns µs per task. */
function pass(side: Side, version: number, mode: 'snapshot' | 'delta'): number {
  const start = performance.now();
  for (let i = 0; i < TASKS; i += PAGE) {
    const last = i + PAGE >= TASKS;
    const tasks = Array.from({ length: Math.min(PAGE, TASKS - i) }, (_, k) => task(i + k, version));
    side.apply({
      type: 'changes',
      mode,
      reset: mode === 'snapshot' && i === 0,
      cursor: last || mode === 'delta' ? version * TASKS + i : null,
      more: !last,
      tasks,
      users: [],
      departments: [],
      config: null,
      notifications: [],
    });
  }
  return ((performance.now() - start) * 1000) / TASKS;
}

export async function run(): Promise<void> {
  const dir = tempDir('terminal-apply');
  const baselineRoot = process.env.BENCH_BASELINE_ROOT ?? null;
  const sides = [side('now', TerminalStore, applyChanges, path.join(dir, 'now.db'))];
  if (baselineRoot) sides.unshift(await baselineSide(baselineRoot, path.join(dir, 'baseline.db')));
  const snapshot = new Map<string, number[]>();
  const changes = new Map<string, number[]>();
  for (const s of sides) {
    snapshot.set(s.label, [pass(s, 1, 'snapshot')]);
    changes.set(s.label, []);
  }
  for (let r = 0; r < ROUNDS; r++) for (const s of sides) changes.get(s.label)!.push(pass(s, r + 2, 'delta'));
  for (const s of sides) s.store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const figures: Record<string, unknown> = {
    tasks: TASKS,
    pageSize: PAGE,
    rounds: ROUNDS,
    snapshotUsPerTask: round(snapshot.get('now')![0]!, 1),
    changeUsPerTaskMedian: round(median(changes.get('now')!), 1),
    changeUsPerTaskRounds: changes.get('now')!.map((x) => round(x, 1)),
  };
  if (baselineRoot) {
    figures.baselineSnapshotUsPerTask = round(snapshot.get('baseline')![0]!, 1);
    figures.baselineChangeUsPerTaskMedian = round(median(changes.get('baseline')!), 1);
    figures.baselineChangeUsPerTaskRounds = changes.get('baseline')!.map((x) => round(x, 1));
    figures.changeRatioToBaseline = round(median(changes.get('now')!) / median(changes.get('baseline')!), 2);
  }
  report({ bench: 'terminal-apply: a terminal stores 50,000 tasks, then every one changed, in pages of 1,000', figures });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
