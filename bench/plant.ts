/**
 * A plant's shape (issue 12), shared by plant-load, stall and http-load: 200 kiosks in 4
 * departments (so ~50 kiosks share every department's changes), 2,000 operators with the default
 * limit of 10 who sign in, claim, start, complete (some release or reject) and sign out, 200,000
 * tasks (50,000 per department; BENCH_PLANT_TASKS), a supervisor per department with a password
 * and an API token, and an administrator's API token.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { hashSecret, tokenHash } from '../src-shared/crypto/hash.js';
import { SUPERVISOR_PATH, SUPERVISOR_PROTOCOL, SUPERVISOR_PROTOCOL_VERSION } from '../src-shared/protocol/supervisor.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { BenchTerminal } from './lib.js';

export const TERMINALS = 200;
export const DEPARTMENTS = 4;
export const OPERATORS_PER_TERMINAL = 10;
export const TASKS = Number(process.env.BENCH_PLANT_TASKS ?? 200_000);
/** An operator signs out after this many of their tasks and the next one at the kiosk signs in. */
const TASKS_PER_SHIFT_TURN = 5;

export type Step = { name: string; args: Record<string, unknown>; operator: string };

export const ADMIN_TOKEN = 'token-admin';
export const SUPERVISOR_PASSWORD = 'bench-password-0001';
const SUPERVISOR_PASSWORD_HASH = hashSecret(SUPERVISOR_PASSWORD);

/**
 * One kiosk's shift: its operators take turns; each claims a task of the kiosk's own slice of the
 * department's list, starts and completes it (one in twenty is released, one in fifty rejected).
 * Operations come in order, as a terminal's outbox sends them.
 */
export class Shift {
  private plan: Step[] = [];
  private taskCursor = 0;
  private turn = 0;

  constructor(
    readonly index: number,
    private readonly tasks: readonly string[],
  ) {}

  /** The operator whose turn it is at this kiosk. */
  operator(): string {
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

  /** The shift's next operation, or null once the kiosk's tasks are all done. */
  next(): Step | null {
    if (this.plan.length === 0) this.refill();
    return this.plan.shift() ?? null;
  }
}

/** Kiosk `index`'s own slice of its department's list (operators pick different work). */
export function kioskTasks(index: number): string[] {
  const perKiosk = Math.floor(TASKS / TERMINALS);
  const d = index % DEPARTMENTS;
  const slot = Math.floor(index / DEPARTMENTS);
  return Array.from({ length: perKiosk }, (_, i) => `t${(slot * perKiosk + i) * DEPARTMENTS + d}`).filter((id) => Number(id.slice(1)) < TASKS);
}

/** A kiosk of the plant over WebSocket, working through its shift. */
export class Kiosk extends BenchTerminal {
  private readonly shift: Shift;

  constructor(
    id: string,
    readonly index: number,
    tasks: string[],
  ) {
    super(id);
    this.shift = new Shift(index, tasks);
  }

  /** The operator whose turn it is at this kiosk. */
  operator(): string {
    return this.shift.operator();
  }

  /** Send the shift's next operation; resolves with its round trip once it is durable. */
  next(): Promise<number> | null {
    const step = this.shift.next();
    return step ? this.push(step.name, step.args, step.operator) : null;
  }
}

/** Seed the plant; returns the change cursor a kiosk that synced everything would hold. */
type StoreClass = new (file: string, options: { synchronous: 'NORMAL' }) => SqliteServerStore;

export async function seed(dataDir: string, Store: StoreClass = SqliteServerStore): Promise<number> {
  const store = new Store(path.join(dataDir, 'claims.db'), { synchronous: 'NORMAL' });
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
    await store.createUser({ id: `sup${d}`, displayName: `Supervisor ${d}`, roles: ['supervisor'], departmentIds: [`d${d}`], badgeHash: null, pinHash: null, passwordHash: SUPERVISOR_PASSWORD_HASH, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
    await store.createApiToken({ id: `tok-sup${d}`, userId: `sup${d}`, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(`token-sup${d}`) }, now);
  }
  await store.createUser({ id: 'admin', displayName: 'Administrator', roles: ['admin'], departmentIds: [], badgeHash: null, pinHash: null, passwordHash: SUPERVISOR_PASSWORD_HASH, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
  await store.createApiToken({ id: 'tok-admin', userId: 'admin', name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(ADMIN_TOKEN) }, now);
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
export async function supervisor(url: string, d: number): Promise<{ ws: WebSocket; bytes: () => number }> {
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

/** The plant's kiosks (connected, synced to `head`) and its supervisors' overviews (caught up). */
export async function connectPlant(url: string, head: number): Promise<{ kiosks: Kiosk[]; supervisors: Array<{ ws: WebSocket; bytes: () => number }>; close(): void }> {
  const kiosks: Kiosk[] = [];
  const supervisors: Array<{ ws: WebSocket; bytes: () => number }> = [];
  const close = () => {
    for (const k of kiosks) k.ws?.terminate();
    for (const s of supervisors) s.ws.terminate();
  };
  try {
    const wsUrl = `${url.replace(/^http/, 'ws')}/sync`;
    for (let t = 0; t < TERMINALS; t++) {
      const k = new Kiosk(`k${t}`, t, kioskTasks(t));
      await k.connect(wsUrl, head);
      kiosks.push(k);
    }
    for (let d = 0; d < DEPARTMENTS; d++) supervisors.push(await supervisor(url, d));
  } catch (err) {
    close();
    throw err;
  }
  return { kiosks, supervisors, close };
}

/**
 * Offer `perSecond` operations spread over the kiosks (in steps of 10 ms) until `stop()` says so;
 * resolves with every round trip once the last one is back.
 */
export async function offerLoad(kiosks: readonly Kiosk[], perSecond: number, stop: () => boolean, onRoundTrip: (ms: number, at: number) => void = () => {}): Promise<{ rtts: number[]; offeredPerSec: number }> {
  const rtts: number[] = [];
  const inflight: Array<Promise<void>> = [];
  const perTick = perSecond / 100;
  let next = 0;
  let owed = 0;
  const start = performance.now();
  for (let tick = 0; !stop(); tick++) {
    const wait = start + tick * 10 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (owed += perTick; owed >= 1; owed--) {
      const p = kiosks[next++ % kiosks.length]!.next();
      if (p)
        inflight.push(
          p.then((ms) => {
            rtts.push(ms);
            onRoundTrip(ms, performance.now());
          }),
        );
    }
  }
  const offeredPerSec = (next / (performance.now() - start)) * 1000;
  await Promise.all(inflight);
  return { rtts, offeredPerSec };
}

/**
 * The plant in `dir/current`, and with BENCH_BASELINE_ROOT (`baseRoot`) the same plant in
 * `dir/baseline`, written by the baseline's own store code (its schema may be older).
 */
export async function seedPlants(dir: string, baseRoot: string | null): Promise<{ current: { dir: string; head: number }; baseline: { dir: string; head: number } | null }> {
  const current = path.join(dir, 'current');
  const head = await seed(current);
  if (!baseRoot) return { current: { dir: current, head }, baseline: null };
  const baseline = path.join(dir, 'baseline');
  const mod = (await import(pathToFileURL(path.join(baseRoot, 'out/node/src-server/store/sqlite/store.js')).href)) as { SqliteServerStore: StoreClass };
  return { current: { dir: current, head }, baseline: { dir: baseline, head: await seed(baseline, mod.SqliteServerStore) } };
}
