/**
 * A plant's shape (issue 12), end to end over WebSocket against the real server process:
 * 200 terminals in 4 departments (so ~50 terminals share every department's changes), 2,000
 * operators with the default limit of 10 who sign in, claim, start, complete (some release or
 * reject) and sign out, 200,000 tasks (50,000 per department), and one supervisor overview
 * subscribed per department. Phase 1: as many operations as the server takes (each terminal keeps
 * a window of operations in flight), durable operations per second. Phase 2: 1,000 operations/s
 * offered, round trip p50/p99 (acknowledged only when durable). Live-push bytes per terminal are
 * counted in both. Targets: >= 10,000 durable operations/s; p99 < 25 ms at 1,000/s.
 *
 * BENCH_PLANT_TASKS (default 200,000), BENCH_WINDOW (8), BENCH_MAX_MS (6,000), BENCH_FIXED_MS
 * (8,000); BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SUPERVISOR_PATH, SUPERVISOR_PROTOCOL, SUPERVISOR_PROTOCOL_VERSION } from '../src-shared/protocol/supervisor.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { BenchTerminal, report, round, rssMiB, startServerProcess, summarize, tempDir } from './lib.js';

const TERMINALS = 200;
const DEPARTMENTS = 4;
const OPERATORS_PER_TERMINAL = 10;
const TASKS = Number(process.env.BENCH_PLANT_TASKS ?? 200_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8);
const MAX_PHASE_MS = Number(process.env.BENCH_MAX_MS ?? 6000);
const FIXED_RATE = 1000;
const FIXED_PHASE_MS = Number(process.env.BENCH_FIXED_MS ?? 8000);
/** An operator signs out after this many of their tasks and the next one at the kiosk signs in. */
const TASKS_PER_SHIFT_TURN = 5;

type Step = { name: string; args: Record<string, unknown>; operator: string };

/**
 * One kiosk: its operators take turns; each claims a task of the kiosk's own slice of the
 * department's list, starts and completes it (one in twenty is released, one in fifty rejected).
 * Operations are queued in order, as a terminal's outbox sends them.
 */
class Kiosk extends BenchTerminal {
  private plan: Step[] = [];
  private taskCursor = 0;
  private turn = 0;

  constructor(
    id: string,
    readonly index: number,
    private readonly tasks: string[],
  ) {
    super(id);
  }

  private operator(): string {
    return `op${this.index * OPERATORS_PER_TERMINAL + (this.turn % OPERATORS_PER_TERMINAL)}`;
  }

  /** The next steps of the shift: a sign-in, a few tasks' lifecycles, a sign-out. */
  private refill(): void {
    const op = this.operator();
    this.plan.push({ name: 'signIn', args: { method: 'badge' }, operator: op });
    for (let k = 0; k < TASKS_PER_SHIFT_TURN && this.taskCursor < this.tasks.length; k++) {
      const taskId = this.tasks[this.taskCursor++]!;
      this.plan.push({ name: 'claim', args: { taskId }, operator: op });
      const n = this.taskCursor % 50;
      if (n === 7) this.plan.push({ name: 'reject', args: { taskId, reason: 'wrong material' }, operator: op });
      else if (n % 20 === 3) this.plan.push({ name: 'release', args: { taskId }, operator: op });
      else this.plan.push({ name: 'start', args: { taskId }, operator: op }, { name: 'complete', args: { taskId }, operator: op });
    }
    this.plan.push({ name: 'signOut', args: {}, operator: op });
    this.turn++;
  }

  /** Send the shift's next operation; resolves with its round trip once it is durable. */
  next(): Promise<number> | null {
    if (this.plan.length === 0) this.refill();
    const step = this.plan.shift();
    return step ? this.push(step.name, step.args, step.operator) : null;
  }
}

/** Seed the plant; returns the change cursor a kiosk that synced everything would hold. */
async function seed(dataDir: string): Promise<number> {
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'), { synchronous: 'NORMAL' });
  const now = Date.now();
  for (let d = 0; d < DEPARTMENTS; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  for (let t = 0; t < TERMINALS; t++) {
    const dept = `d${t % DEPARTMENTS}`;
    for (let o = 0; o < OPERATORS_PER_TERMINAL; o++) {
      const id = `op${t * OPERATORS_PER_TERMINAL + o}`;
      await store.createUser({ id, displayName: `Operator ${id}`, roles: ['operator'], departmentIds: [dept], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
    }
    await store.createTerminal({ id: `k${t}`, name: `Kiosk ${t}`, departments: [dept], tokenHash: tokenHash(`token-k${t}`) }, now);
  }
  for (let d = 0; d < DEPARTMENTS; d++) {
    await store.createUser({ id: `sup${d}`, displayName: `Supervisor ${d}`, roles: ['supervisor'], departmentIds: [`d${d}`], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
    await store.createApiToken({ id: `tok-sup${d}`, userId: `sup${d}`, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(`token-sup${d}`) }, now);
  }
  let rows: ImportTaskRow[] = [];
  for (let i = 0; i < TASKS; i++) {
    const d = i % DEPARTMENTS;
    rows.push({ taskId: `t${i}`, workOrderNumber: `WO-${Math.floor(i / 20)}`, workOrderTitle: '', step: 'cut', workContent: `Cut part ${i} to drawing rev B`, departmentId: `d${d}`, status: 'pending', priority: i % 5, dueAt: null, requiredSkills: [] });
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

/** A supervisor overview subscribed to one department: takes its snapshot, then acknowledges live pages. */
async function supervisor(url: string, d: number): Promise<{ ws: WebSocket; bytes: () => number }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${SUPERVISOR_PATH}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let bytes = 0;
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  ws.on('message', (data) => {
    const text = String(data);
    bytes += text.length;
    const m = /"type":"changes".*?"cursor":(\d+|null)/.exec(text.slice(0, 200)) ?? /"cursor":(\d+|null)/.exec(text);
    if (text.includes('"type":"changes"') && m) {
      ws.send(`{"type":"ack","cursor":${m[1] === 'null' ? 0 : m[1]}}`);
      if (/"more":false/.test(text)) caughtUp();
    }
  });
  ws.send(JSON.stringify({ type: 'hello', protocol: SUPERVISOR_PROTOCOL, protocolVersion: SUPERVISOR_PROTOCOL_VERSION, token: `token-sup${d}`, cursor: null }));
  await Promise.race([ready, new Promise((r) => setTimeout(r, 60_000))]);
  return { ws, bytes: () => bytes };
}

export async function run(): Promise<void> {
  const dir = tempDir('plant');
  const head = await seed(dir);
  const server = await startServerProcess(dir);
  const kiosks: Kiosk[] = [];
  const supervisors: Array<{ ws: WebSocket; bytes: () => number }> = [];
  try {
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/sync`;
    // Each kiosk works through its own slice of its department's list (operators pick different work).
    const perKiosk = Math.floor(TASKS / TERMINALS);
    for (let t = 0; t < TERMINALS; t++) {
      const d = t % DEPARTMENTS;
      const slot = Math.floor(t / DEPARTMENTS);
      const tasks = Array.from({ length: perKiosk }, (_, i) => `t${(slot * perKiosk + i) * DEPARTMENTS + d}`).filter((id) => Number(id.slice(1)) < TASKS);
      const k = new Kiosk(`k${t}`, t, tasks);
      await k.connect(wsUrl, head);
      kiosks.push(k);
    }
    for (let d = 0; d < DEPARTMENTS; d++) supervisors.push(await supervisor(server.url, d));
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
    const rtts: number[] = [];
    const inflight: Array<Promise<void>> = [];
    const perTick = FIXED_RATE / 100;
    let next = 0;
    const startFixed = performance.now();
    for (let tick = 0; performance.now() - startFixed < FIXED_PHASE_MS; tick++) {
      const due = startFixed + tick * 10;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let j = 0; j < perTick; j++) {
        const p = kiosks[next++ % TERMINALS]!.next();
        if (p) inflight.push(p.then((ms) => void rtts.push(ms)));
      }
    }
    const fixedElapsed = performance.now() - startFixed;
    const offered = (next / fixedElapsed) * 1000;
    await Promise.all(inflight);
    await new Promise((r) => setTimeout(r, 1000));
    const lat = summarize(rtts);
    const bytesAfterFixed = kiosks.reduce((n, k) => n + k.liveBytes, 0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const groups = metric('shopfloor_commit_group_size_count');

    report({
      bench: `plant-load: ${TERMINALS} kiosks in ${DEPARTMENTS} departments, ${TERMINALS * OPERATORS_PER_TERMINAL} operators (limit 10) signing in and out, the whole lifecycle, ${TASKS} tasks, ${DEPARTMENTS} supervisor overviews`,
      figures: {
        kiosks: TERMINALS,
        departments: DEPARTMENTS,
        operators: TERMINALS * OPERATORS_PER_TERMINAL,
        tasks: TASKS,
        windowPerKiosk: WINDOW,
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
      },
      targets: {
        'durable operations/s': { target: '>= 10000', met: maxPerSec >= 10_000 },
        'p99 round trip at 1000/s': { target: '< 25 ms', met: lat.p99 < 25 },
      },
    });
  } finally {
    for (const k of kiosks) k.ws?.terminate();
    for (const s of supervisors) s.ws.terminate();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
