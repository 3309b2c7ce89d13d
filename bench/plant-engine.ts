/**
 * Plant engine (issue 12): what a plant's operation costs the authority's engine alone, the bound
 * of `plant-load`'s saturation. The plant of `plant-load` (200 kiosks in 4 departments, 2,000
 * operators with the default limit of 10 signing in and out, claim → start → complete with some
 * releases and rejects, 200,000 tasks), its kiosks' mutations submitted in-process to the group
 * committer as the sync hub does, 8 in flight per kiosk, on the server's own store settings (commits
 * flushed off the event loop, background checkpoints). No sockets, no pages, no supervisors:
 * `plant-load` minus those is this.
 *
 * `BENCH_BASELINE_ROOT=<checkout>` (built with `npx tsc -p tsconfig.node.json`) runs the same plant,
 * seeded by its own store code, through that checkout's store and committer in the same process, the
 * two taking turns round by round (30 rounds of 2,500 operations; each side first every other
 * round): the median of the rounds' ratios of CPU per operation is the measure. A noisy machine
 * moves both sides of a round alike; the same code against itself gave 0.99 and 1.02.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../src-shared/clock.js';
import { GroupCommitter } from '../src-server/engine/committer.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { report, round, tempDir } from './lib.js';
import { kioskTasks, seedPlants, Shift, TERMINALS } from './plant.js';

/**
 * BENCH_WAL_FRAMES=1: count, at each round's end, the pages its commits wrote to the WAL, by the
 * table or index each belongs to (`dbstat`): what a commit costs is writing those frames. Checkpoints
 * then wait for the round's end, so the WAL holds the round's frames only.
 */
const WAL_FRAMES = process.env.BENCH_WAL_FRAMES === '1';
const ROUND_OPS = Number(process.env.BENCH_ROUND_OPS ?? 2_500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
/** Mutations in flight per kiosk (as `plant-load`'s window). */
const WINDOW = 8;

interface Side {
  label: string;
  file: string;
  /** WAL frames written, by table or index (BENCH_WAL_FRAMES). */
  frames: Map<string, number>;
  committer: GroupCommitter;
  store: SqliteServerStore;
  shifts: Shift[];
  nextId: number[];
}

type Modules = { SqliteServerStore: typeof SqliteServerStore; GroupCommitter: typeof GroupCommitter };

async function modules(root: string | null): Promise<Modules> {
  if (!root) return { SqliteServerStore, GroupCommitter };
  const server = path.join(root, 'out/node/src-server');
  const store = (await import(pathToFileURL(path.join(server, 'store/sqlite/store.js')).href)) as { SqliteServerStore: typeof SqliteServerStore };
  const engine = (await import(pathToFileURL(path.join(server, 'engine/committer.js')).href)) as { GroupCommitter: typeof GroupCommitter };
  return { SqliteServerStore: store.SqliteServerStore, GroupCommitter: engine.GroupCommitter };
}

function open(label: string, m: Modules, dir: string): Side {
  const file = path.join(dir, 'claims.db');
  const store = new m.SqliteServerStore(file);
  store.startBackgroundCheckpoints(WAL_FRAMES ? 2_000_000_000 : 1000);
  return {
    label,
    file,
    frames: new Map(),
    store,
    committer: new m.GroupCommitter(store, systemClock),
    shifts: Array.from({ length: TERMINALS }, (_, k) => new Shift(k, kioskTasks(k))),
    nextId: Array.from({ length: TERMINALS }, () => 1),
  };
}

/**
 * `ops` of the plant's operations with every kiosk's window full, then the WAL checkpointed; ms of
 * wall and of CPU (all threads).
 */
async function round1(side: Side, ops: number): Promise<{ wallMs: number; cpuMs: number; applied: number }> {
  let sent = 0;
  let applied = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const kiosk = async (k: number): Promise<void> => {
    while (sent < ops) {
      const step = side.shifts[k]!.next();
      if (!step) return;
      sent++;
      const id = side.nextId[k]!++;
      const outcome = await side.committer.submit({
        kind: 'terminal',
        terminalId: `k${k}`,
        connection: 1,
        id,
        raw: { id, name: step.name, args: step.args, operatorId: step.operator, clientTime: Date.now() },
      });
      if (outcome.status === 'applied') applied++;
    }
  };
  const lanes: Array<Promise<void>> = [];
  for (let w = 0; w < WINDOW; w++) for (let k = 0; k < TERMINALS; k++) lanes.push(kiosk(k));
  await Promise.all(lanes);
  // The round's writes checkpointed into the database file, counted here: the other side's round
  // must not pay for them (the CPU figure is the whole process's, all threads).
  const db = new Database(side.file);
  db.pragma('busy_timeout = 10000');
  if (WAL_FRAMES) countFrames(db, side);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, applied: applied / sent };
}

/** Add the WAL's frames (all of this round's: the last round's checkpoint truncated it) to `side.frames`. */
function countFrames(db: Database.Database, side: Side): void {
  const wal = fs.readFileSync(`${side.file}-wal`);
  if (wal.length < 32) return;
  const pageSize = wal.readUInt32BE(8);
  const owner = new Map<number, string>();
  for (const r of db.prepare('SELECT name, pageno FROM dbstat').all() as Array<{ name: string; pageno: number }>) owner.set(r.pageno, r.name);
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const name = owner.get(wal.readUInt32BE(at)) ?? '(free)';
    side.frames.set(name, (side.frames.get(name) ?? 0) + 1);
  }
}

export async function run(): Promise<void> {
  const dir = tempDir('plant-engine');
  const baselineRoot = process.env.BENCH_BASELINE_ROOT ?? null;
  try {
    const plants = await seedPlants(dir, baselineRoot);
    const sides = [open('now', await modules(null), plants.current.dir)];
    if (baselineRoot && plants.baseline) sides.unshift(open('baseline', await modules(baselineRoot), plants.baseline.dir));
    const rounds = new Map<string, Array<{ opsPerSec: number; cpuUsPerOp: number; applied: number }>>(sides.map((s) => [s.label, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each side runs first every other round: neither always follows the other's leftovers.
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        const x = await round1(s, ROUND_OPS);
        rounds.get(s.label)!.push({ opsPerSec: (ROUND_OPS / x.wallMs) * 1000, cpuUsPerOp: (x.cpuMs * 1000) / ROUND_OPS, applied: x.applied });
      }
    }
    for (const s of sides) {
      await s.committer.close();
      await s.store.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // The first round warms the caches and the code: the figures are of the rest.
    const of = (label: string, f: 'opsPerSec' | 'cpuUsPerOp') => rounds.get(label)!.slice(1).map((x) => x[f]);
    const figures: Record<string, unknown> = {
      kiosks: TERMINALS,
      opsPerRound: ROUND_OPS,
      rounds: ROUNDS,
      appliedShare: round(median(rounds.get('now')!.map((x) => x.applied)), 3),
      durableOpsPerSec: Math.round(median(of('now', 'opsPerSec'))),
      cpuUsPerOp: round(median(of('now', 'cpuUsPerOp')), 1),
    };
    if (baselineRoot) {
      figures.baselineDurableOpsPerSec = Math.round(median(of('baseline', 'opsPerSec')));
      figures.baselineCpuUsPerOp = round(median(of('baseline', 'cpuUsPerOp')), 1);
      // Per round, the two sides ran back to back: the median of those pairs' ratios is the measure.
      const pairs = (f: 'opsPerSec' | 'cpuUsPerOp') => of('now', f).map((x, i) => x / of('baseline', f)[i]!);
      figures.cpuRatioToBaseline = round(median(pairs('cpuUsPerOp')), 2);
      figures.cpuRatioRounds = pairs('cpuUsPerOp').map((x) => round(x, 2));
      figures.opsRatioToBaseline = round(median(pairs('opsPerSec')), 2);
    }
    if (WAL_FRAMES) {
      const now = sides.find((x) => x.label === 'now')!;
      const ops = ROUND_OPS * ROUNDS;
      let total = 0;
      for (const n of now.frames.values()) total += n;
      figures.walFramesPerOp = round(total / ops, 2);
      figures.walFramesPerOpBy = Object.fromEntries([...now.frames].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([name, n]) => [name, round(n / ops, 3)]));
    }
    report({
      bench: `plant-engine: the plant's kiosk mutations through the engine in-process (${TERMINALS} kiosks, 8 in flight each, rounds of ${ROUND_OPS})`,
      figures,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
