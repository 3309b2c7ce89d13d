/**
 * End to end over WebSocket (issue 3): 200 simulated terminals on loopback against the real server
 * process. Phase 1: as many claims as the server takes (each terminal keeps a window of claims in
 * flight), durable claims per second. Phase 2: a fixed offered load of 1,000 claims/s, claim round
 * trip p50/p99 (acknowledged only when durable). Targets: >= 10,000 claims/s; p99 < 25 ms.
 * Terminals acknowledge every change page, so the server also does its live-push work.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { BenchTerminal, report, round, rssMiB, startServerProcess, summarize, tempDir } from './lib.js';

const TERMINALS = 200;
const DEPARTMENTS = 20;
const TASKS_PER_TERMINAL = Number(process.env.BENCH_TASKS_PER_TERMINAL ?? 700);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 16);
const MAX_PHASE_MS = Number(process.env.BENCH_MAX_MS ?? 6000);
const FIXED_RATE = 1000;
const FIXED_PHASE_MS = Number(process.env.BENCH_FIXED_MS ?? 8000);

class Terminal extends BenchTerminal {
  tasks: string[] = [];

  constructor(
    id: string,
    readonly operator: string,
  ) {
    super(id);
  }

  /** Connect as a terminal that has synced up to `cursor` before (no snapshot), and sign in. */
  override async connect(wsUrl: string, cursor: number): Promise<void> {
    await super.connect(wsUrl, cursor, !process.env.BENCH_NO_ACK);
    await this.send('signIn', { method: 'badge' });
  }

  send(name: string, args: unknown): Promise<number> {
    return this.push(name, args, this.operator);
  }

  claimNext(): Promise<number> | null {
    const taskId = this.tasks.pop();
    return taskId ? this.send('claim', { taskId }) : null;
  }
}

/** Seed the plant; returns the change cursor a terminal that synced everything would hold. */
async function seed(dataDir: string): Promise<number> {
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'), { synchronous: 'NORMAL' });
  const now = Date.now();
  for (let d = 0; d < DEPARTMENTS; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  for (let t = 0; t < TERMINALS; t++) {
    const dept = `d${t % DEPARTMENTS}`;
    await store.createUser(
      { id: `op${t}`, displayName: `Operator ${t}`, roles: ['operator'], departmentIds: [dept], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: 1_000_000, skills: [], qualityScore: 0.5 },
      now,
    );
    await store.createTerminal({ id: `k${t}`, name: `Kiosk ${t}`, departments: [dept], tokenHash: tokenHash(`token-k${t}`) }, now);
  }
  let rows: ImportTaskRow[] = [];
  for (let t = 0; t < TERMINALS; t++) {
    for (let i = 0; i < TASKS_PER_TERMINAL; i++) {
      rows.push({ taskId: `k${t}-t${i}`, workOrderNumber: `WO-${t}-${Math.floor(i / 10)}`, workOrderTitle: '', step: 'cut', workContent: `Part ${i} for kiosk ${t}`, departmentId: `d${t % DEPARTMENTS}`, status: 'pending', priority: 0, dueAt: null, requiredSkills: [] });
      if (rows.length === 20_000) {
        if (!(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
        rows = [];
      }
    }
  }
  if (rows.length && !(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
  const head = await store.headSeq();
  await store.close();
  return head;
}

export async function run(): Promise<void> {
  const dir = tempDir('wsload');
  const head = await seed(dir);
  const server = await startServerProcess(dir);
  const terminals: Terminal[] = [];
  try {
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/sync`;
    for (let t = 0; t < TERMINALS; t++) {
      const term = new Terminal(`k${t}`, `op${t}`);
      term.tasks = Array.from({ length: TASKS_PER_TERMINAL }, (_, i) => `k${t}-t${i}`).reverse();
      await term.connect(wsUrl, head);
      terminals.push(term);
    }
    await new Promise((r) => setTimeout(r, 500));

    // Phase 1: saturate.
    const cpuBefore = process.cpuUsage();
    let done = 0;
    let stop = false;
    const startMax = performance.now();
    const loops = terminals.map(async (term) => {
      const lane = async () => {
        while (!stop) {
          const p = term.claimNext();
          if (!p) return;
          await p;
          done++;
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    });
    await new Promise((r) => setTimeout(r, MAX_PHASE_MS));
    stop = true;
    const maxElapsed = performance.now() - startMax;
    const maxDone = done;
    await Promise.all(loops);
    const maxPerSec = Math.round((maxDone / maxElapsed) * 1000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const groups = metric('shopfloor_commit_group_size_count');
    const meanGroup = round(metric('shopfloor_commit_group_size_sum') / groups, 1);
    const meanCommitMs = round((metric('shopfloor_commit_duration_seconds_sum') / metric('shopfloor_commit_duration_seconds_count')) * 1000, 2);
    const cpu = process.cpuUsage(cpuBefore);
    const clientCpuShare = round((cpu.user + cpu.system) / 1000 / maxElapsed, 2);
    const serverRssAfterMax = rssMiB(server.child.pid);

    // Let the server finish the first phase's live pushes before measuring latency.
    await new Promise((r) => setTimeout(r, 2000));

    // Phase 2: fixed offered load.
    const rtts: number[] = [];
    const inflight: Array<Promise<void>> = [];
    const perTick = FIXED_RATE / 100; // every 10 ms
    let next = 0;
    const startFixed = performance.now();
    for (let tick = 0; performance.now() - startFixed < FIXED_PHASE_MS; tick++) {
      const due = startFixed + tick * 10;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let k = 0; k < perTick; k++) {
        const term = terminals[next++ % TERMINALS]!;
        const p = term.claimNext();
        if (p) inflight.push(p.then((ms) => void rtts.push(ms)));
      }
    }
    const offered = (next / (performance.now() - startFixed)) * 1000;
    await Promise.all(inflight);
    const lat = summarize(rtts);
    const pages = terminals.reduce((n, t) => n + t.pages, 0);

    report({
      bench: 'ws-load: 200 terminals over WebSocket, real server process',
      figures: {
        terminals: TERMINALS,
        departments: DEPARTMENTS,
        windowPerTerminal: WINDOW,
        maxPhaseSeconds: round(maxElapsed / 1000, 1),
        durableClaimsPerSec: maxPerSec,
        loadGeneratorCpuShare: clientCpuShare,
        commitGroups: groups,
        meanGroupSize: meanGroup,
        meanGroupCommitMs: meanCommitMs,
        fixedOfferedPerSec: Math.round(offered),
        fixedClaims: lat.n,
        roundTripP50Ms: lat.p50,
        roundTripP99Ms: lat.p99,
        roundTripMaxMs: lat.max,
        changePagesReceived: pages,
        serverRssMiB: serverRssAfterMax,
      },
      targets: {
        'durable claims/s': { target: '>= 10000', met: maxPerSec >= 10_000 },
        'p99 round trip at 1000/s': { target: '< 25 ms', met: lat.p99 < 25 },
      },
    });
  } finally {
    for (const t of terminals) t.ws?.terminate();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
