/**
 * A plant's shape (issue 12), end to end over WebSocket against the real server process:
 * 200 terminals in 4 departments (so ~50 terminals share every department's changes), 2,000
 * operators with the default limit of 10 who sign in, claim, start, complete (some release or
 * reject) and sign out, 200,000 tasks (50,000 per department), and one supervisor overview
 * subscribed per department. Phase 1: as many operations as the server takes (each terminal keeps
 * a window of operations in flight), durable operations per second. Phase 2: 1,000 operations/s
 * offered, round trip p50/p99 (acknowledged only when durable), and the server process's CPU time
 * per operation (all its threads; a figure the machine's noise disturbs less than latency). Live-push bytes per terminal are
 * counted in both. Targets: >= 10,000 durable operations/s; p99 < 25 ms at 1,000/s.
 *
 * BENCH_PLANT_TASKS (default 200,000), BENCH_WINDOW (8), BENCH_MAX_MS (6,000), BENCH_FIXED_MS
 * (8,000); BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server;
 * BENCH_BASELINE_ROOT runs the same plant against earlier code first, in the same run (lib.ts).
 */
import fs from 'node:fs';
import { baselineRoot, cpuMs, report, round, rssMiB, startServerProcess, summarize, tempDir } from './lib.js';
import { DEPARTMENTS, OPERATORS_PER_TERMINAL, TASKS, TERMINALS, connectPlant, offerLoad, seedPlants } from './plant.js';

const WINDOW = Number(process.env.BENCH_WINDOW ?? 8);
const MAX_PHASE_MS = Number(process.env.BENCH_MAX_MS ?? 6000);
const FIXED_RATE = 1000;
const FIXED_PHASE_MS = Number(process.env.BENCH_FIXED_MS ?? 8000);

interface PlantFigures {
  durableOpsPerSec: number;
  fixedOfferedPerSec: number;
  roundTripP50Ms: number;
  roundTripP99Ms: number;
  roundTripMaxMs: number;
  commitGroups: number;
  meanGroupSize: number;
  livePushKiBPerKioskPerThousandOps: number;
  livePushKiBPerKioskSaturation: number;
  supervisorKiBEach: number;
  serverRssMiB: number;
  /** The server process's CPU time per operation at 1,000/s offered (all its threads). */
  serverCpuMsPerOpAtFixedRate: number;
}

/** Run both phases against one server process on a copy of the seeded plant. */
async function measure(dir: string, head: number, root?: string): Promise<PlantFigures> {
  const server = await startServerProcess(dir, root ? { root } : {});
  let plant: Awaited<ReturnType<typeof connectPlant>> | null = null;
  try {
    plant = await connectPlant(server.url, head);
    const { kiosks, supervisors } = plant;
    await new Promise((r) => setTimeout(r, 500));
    const bytesAtStart = kiosks.reduce((n, k) => n + k.liveBytes, 0);
    const supBytesAtStart = supervisors.reduce((n, s) => n + s.bytes(), 0);

    // Phase 1: saturate.
    let done = 0;
    let stop = false;
    const startMax = performance.now();
    const loops = kiosks.map(async (k) => {
      // One lane per kiosk keeps its operations in order; the window is its outbox sending ahead.
      const inflight = new Set<Promise<number>>();
      while (!stop) {
        while (inflight.size < WINDOW) {
          const p = k.next();
          if (!p) break;
          const tracked = p.then((ms) => {
            inflight.delete(tracked);
            done++;
            return ms;
          });
          inflight.add(tracked);
        }
        if (inflight.size === 0) return;
        await Promise.race(inflight);
      }
      await Promise.all(inflight);
    });
    await new Promise((r) => setTimeout(r, MAX_PHASE_MS));
    stop = true;
    const maxElapsed = performance.now() - startMax;
    const maxDone = done;
    await Promise.all(loops);
    const maxPerSec = Math.round((maxDone / maxElapsed) * 1000);
    const serverRss = rssMiB(server.child.pid);
    await new Promise((r) => setTimeout(r, 2000));
    const bytesAfterMax = kiosks.reduce((n, k) => n + k.liveBytes, 0);

    // Phase 2: 1,000 operations/s offered, spread over the kiosks.
    const startFixed = performance.now();
    const cpuBefore = cpuMs(server.child.pid);
    const { rtts, offeredPerSec: offered } = await offerLoad(kiosks, FIXED_RATE, () => performance.now() - startFixed >= FIXED_PHASE_MS);
    const cpuFixed = cpuMs(server.child.pid) - cpuBefore;
    await new Promise((r) => setTimeout(r, 1000));
    const lat = summarize(rtts);
    const bytesAfterFixed = kiosks.reduce((n, k) => n + k.liveBytes, 0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const groups = metric('shopfloor_commit_group_size_count');
    return {
      durableOpsPerSec: maxPerSec,
      fixedOfferedPerSec: Math.round(offered),
      roundTripP50Ms: lat.p50,
      roundTripP99Ms: lat.p99,
      roundTripMaxMs: lat.max,
      commitGroups: groups,
      meanGroupSize: round(metric('shopfloor_commit_group_size_sum') / groups, 1),
      livePushKiBPerKioskPerThousandOps: round((bytesAfterFixed - bytesAfterMax) / 1024 / TERMINALS / Math.max(1, lat.n / 1000), 1),
      livePushKiBPerKioskSaturation: round((bytesAfterMax - bytesAtStart) / 1024 / TERMINALS, 1),
      supervisorKiBEach: round((supervisors.reduce((n, s) => n + s.bytes(), 0) - supBytesAtStart) / 1024 / DEPARTMENTS, 1),
      serverRssMiB: serverRss,
      serverCpuMsPerOpAtFixedRate: round(cpuFixed / Math.max(1, lat.n), 3),
    };
  } finally {
    plant?.close();
    await server.stop();
  }
}

export async function run(): Promise<void> {
  const dir = tempDir('plant');
  const base = baselineRoot();
  try {
    const plants = await seedPlants(dir, base);
    const baseline = plants.baseline ? await measure(plants.baseline.dir, plants.baseline.head, base!) : null;
    const current = await measure(plants.current.dir, plants.current.head);
    const f = current;
    report({
      bench: `plant-load: ${TERMINALS} kiosks in ${DEPARTMENTS} departments, ${TERMINALS * OPERATORS_PER_TERMINAL} operators (limit 10) signing in and out, the whole lifecycle, ${TASKS} tasks, ${DEPARTMENTS} supervisor overviews`,
      figures: {
        kiosks: TERMINALS,
        departments: DEPARTMENTS,
        operators: TERMINALS * OPERATORS_PER_TERMINAL,
        tasks: TASKS,
        windowPerKiosk: WINDOW,
        ...f,
        ...(baseline
          ? {
              baselineRoot: base,
              baselineDurableOpsPerSec: baseline.durableOpsPerSec,
              baselineRoundTripP50Ms: baseline.roundTripP50Ms,
              baselineRoundTripP99Ms: baseline.roundTripP99Ms,
              baselineLivePushKiBPerKioskPerThousandOps: baseline.livePushKiBPerKioskPerThousandOps,
              opsRatioToBaseline: round(f.durableOpsPerSec / baseline.durableOpsPerSec, 2),
              p99RatioToBaseline: round(f.roundTripP99Ms / baseline.roundTripP99Ms, 2),
              baselineServerCpuMsPerOpAtFixedRate: baseline.serverCpuMsPerOpAtFixedRate,
              cpuPerOpRatioToBaseline: round(f.serverCpuMsPerOpAtFixedRate / baseline.serverCpuMsPerOpAtFixedRate, 2),
            }
          : {}),
      },
      targets: {
        'durable operations/s': { target: '>= 10000', met: f.durableOpsPerSec >= 10_000 },
        'p99 round trip at 1000/s': { target: '< 25 ms', met: f.roundTripP99Ms < 25 },
      },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
