/**
 * Failover between server instances on one PostgreSQL database (issue 9): real server processes
 * (`start --database …`, port 0) on one database of a throwaway cluster (test/support/pg-cluster.ts),
 * real terminal cores (real SQLite files in temporary folders, real WebSockets), and loopback TCP
 * proxies standing in for the load balancer (test/support/tcp-proxy.ts, `retarget`).
 *
 * - A terminal whose link moves from instance A to instance B and back while its outbox drains:
 *   the instance it left goes on committing what it had received, the one it reaches gets the same
 *   mutations again; each is applied exactly once, in the terminal's order (PROTO-5, OFF-2).
 * - Instance A is SIGKILLed while terminals on both instances and HTTP clients claim: every claim a
 *   client saw acknowledged is in the database exactly once, no mutation id is applied twice, B
 *   never stops answering, and A's terminals move to B and converge (PROTO-7).
 *
 * Skips, with the reason, only where PostgreSQL is not installed.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src-shared/clock.js';
import { badgeHash, tokenHash } from '../src-shared/crypto/hash.js';
import { DomainError } from '../src-shared/domain/errors.js';
import type { MutationOutcome } from '../src-shared/protocol/terminal.js';
import { TerminalStore } from '../src-main/core/store.js';
import { realScheduler } from '../src-main/core/sync-client.js';
import { TerminalCore } from '../src-main/core/terminal.js';
import { wsDialer } from '../src-main/core/ws-dialer.js';
import { killAll, startCliServer, withTimeout, type ServerProcess } from './support/cli-process.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';
import { newUser, taskRow } from './support/plant.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { decisionOf, TestClient } from './support/ws-client.js';
import { waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';
import { rng, shuffled } from './support/random.js';

const suite = pgUnavailable
  ? `failover between server instances on one PostgreSQL database (skipped: ${pgUnavailable})`
  : 'failover between server instances on one PostgreSQL database';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function portOf(server: ServerProcess): number {
  return Number(new URL(server.url).port);
}

/** Poll (bounded) until `pred` holds. */
async function until(pred: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

type TaskState = {
  id: string;
  status: string;
  operator_id: string | null;
  version: number;
};

/** The tasks the terminal shows, read from its SQLite file (a second, read-only connection). */
function terminalTasks(t: TestTerminal): TaskState[] {
  const db = new Database(path.join(t.dataDir, 'terminal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, status, operator_id, version FROM tasks ORDER BY id').all() as TaskState[];
  } finally {
    db.close();
  }
}

/** Wait (bounded) until the terminal shows exactly the server's tasks; else fail showing the difference. */
async function converges(t: TestTerminal, server: TaskState[], label: string): Promise<void> {
  try {
    await until(() => JSON.stringify(terminalTasks(t)) === JSON.stringify(server), `${label}'s cache to converge with the server`, 10_000);
  } catch {
    expect(terminalTasks(t), `${label}'s cache`).toEqual(server);
  }
}

/** A terminal's stored outcome for mutation `id`: 'applied', or the rejection's error code. */
function terminalOutcome(t: TestTerminal, id: number): string | null {
  const o = t.core.store.outcome(id);
  if (!o) return null;
  return o.status === 'applied' ? 'applied' : ((o.result as { code?: string } | null)?.code ?? 'rejected');
}

/** Sum of a Prometheus counter's samples whose labels include `match`. */
async function metricSum(server: ServerProcess, name: string, match: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(match)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (match === '' && line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * A terminal core on a real SQLite file in a temporary folder, as test/support/terminal.ts opens
 * one, with the link's timeouts at a few seconds: a busy machine (two server processes, a database
 * and several terminal cores on two cores) must not make a kiosk give up a live link. A link to a killed instance
 * ends at once anyway (its sockets close), and heartbeats are not what these tests are about.
 */
async function openKiosk(serverUrl: string, terminalId: string, token: string): Promise<TestTerminal> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'term-failover-'));
  const core = new TerminalCore({
    store: new TerminalStore(path.join(dataDir, 'terminal.db')),
    settings: { serverUrl, terminalId, token, idleTimeoutSeconds: 0, locale: 'en', maintenanceSecretHash: null },
    clock: systemClock,
    scheduler: realScheduler,
    random: Math.random,
    dialer: (url) => wsDialer(url, { connectTimeoutMs: 5000 }),
    appVersion: 'test',
    sync: { pingIntervalMs: 500, pongTimeoutMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400 },
  });
  core.startSyncing();
  return {
    core,
    dataDir,
    restart: () => Promise.reject(new Error('not used here')),
    close: () => core.close(),
    async waitFor(pred, what, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sync=${JSON.stringify(core.syncStatus())}`);
        await sleep(20);
      }
    },
  };
}

/**
 * HTTP clients claiming tasks, and a health check of one instance, as a child process: JSON lines
 * out (one per answer, times from Date.now()), any input line stops it. Its own process, so the
 * test's terminal cores (synchronous SQLite, fsync'd) cannot delay its requests or its clock.
 */
const HTTP_LOAD = `
const cfg = JSON.parse(process.argv[1]);
let stop = false;
process.stdin.on('data', () => { stop = true; });
process.stdin.on('end', () => { stop = true; });
const out = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const health = (async () => {
  while (!stop) {
    const sent = Date.now();
    let status = 'failed';
    try { const r = await fetch(cfg.health); await r.arrayBuffer(); status = r.status; } catch {}
    out({ kind: 'health', status, sent, at: Date.now() });
    await sleep(50);
  }
})();
const clients = cfg.clients.map(async (c) => {
  let instance = c.home;
  for (const taskId of c.order) {
    if (stop) break;
    const sent = Date.now();
    try {
      const r = await fetch(cfg.urls[instance] + '/api/tasks/' + taskId + '/claim', {
        method: 'POST', headers: { authorization: 'Bearer ' + c.token, 'content-type': 'application/json' }, body: '{}',
      });
      await r.arrayBuffer();
      out({ kind: 'claim', user: c.user, instance, taskId, status: r.status, sent, at: Date.now() });
    } catch {
      // No answer: the claim is in doubt. A client behind a load balancer goes on at the other instance.
      out({ kind: 'claim', user: c.user, instance, taskId, status: 'failed', sent, at: Date.now() });
      if (instance === 'A') instance = 'B';
    }
    await sleep(10 + Math.random() * 20);
  }
});
await Promise.all([health, ...clients]);
process.exit(0);
`;

interface HttpAnswer {
  kind: 'claim';
  user: string;
  instance: 'A' | 'B';
  taskId: string;
  status: number | 'failed';
  sent: number;
  at: number;
}
interface HealthAnswer {
  kind: 'health';
  status: number | 'failed';
  sent: number;
  at: number;
}

const loadProcesses = new Set<ChildProcessWithoutNullStreams>();

function startHttpLoad(cfg: {
  health: string;
  urls: Record<'A' | 'B', string>;
  clients: Array<{ user: string; token: string; home: 'A' | 'B'; order: string[] }>;
}): { stop(): Promise<{ answers: HttpAnswer[]; health: HealthAnswer[] }> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HTTP_LOAD, JSON.stringify(cfg)]);
  loadProcesses.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    async stop() {
      child.stdin.write('stop\n');
      const code = await withTimeout(exited, 10_000, 'the HTTP load process to stop');
      loadProcesses.delete(child);
      if (code !== 0) throw new Error(`the HTTP load process exited with ${code}: ${err}`);
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HttpAnswer | HealthAnswer);
      return { answers: lines.filter((x): x is HttpAnswer => x.kind === 'claim'), health: lines.filter((x): x is HealthAnswer => x.kind === 'health') };
    },
  };
}

describe.skipIf(pgUnavailable !== null)(suite, () => {
  const pg = useCluster('failover');
  const terminals: TestTerminal[] = [];
  const proxies: TcpProxy[] = [];
  const clients: TestClient[] = [];
  /** Load still running when a test ends (it failed): stopped before the terminals close. */
  const loads: Array<{ stop(): void; done: Promise<unknown> }> = [];

  afterEach(async () => {
    for (const l of loads.splice(0)) {
      l.stop();
      await l.done.catch(() => {});
    }
    for (const c of clients.splice(0)) c.close();
    for (const t of terminals.splice(0)) {
      t.close();
      fs.rmSync(t.dataDir, { recursive: true, force: true });
    }
    for (const p of proxies.splice(0)) await p.close();
    for (const c of loadProcesses) c.kill('SIGKILL');
    loadProcesses.clear();
    killAll();
  });

  async function terminal(serverUrl: string, terminalId: string, token: string): Promise<TestTerminal> {
    const t = await openKiosk(serverUrl, terminalId, token);
    terminals.push(t);
    return t;
  }

  it('PROTO-5 OFF-2 SYNC-1 a terminal whose link moves between instances mid-outbox (through the loopback proxy): every mutation applied exactly once, in order', { timeout: 120_000 }, async () => {
    const OPERATORS = ['op1', 'op2', 'op3', 'op4'];
    const PER_OPERATOR = 14;
    const own = (op: string, i: number) => `f-${op}-${String(i).padStart(2, '0')}`;
    const shared = ['s-1', 's-2'];
    const { url, name } = await pg.plant(async (store, salt) => {
      const now = Date.now();
      for (const op of OPERATORS) await store.createUser(newUser(op, { badgeHash: badgeHash(salt, `B-${op.toUpperCase()}`), taskLimit: 1000 }), now);
      const rows = [...OPERATORS.flatMap((op) => Array.from({ length: PER_OPERATOR }, (_, i) => taskRow(own(op, i), { workOrderNumber: 'WO-F' }))), ...shared.map((id) => taskRow(id, { workOrderNumber: 'WO-S' }))];
      expect((await store.importTasks(rows, now)).ok).toBe(true);
    });
    const query = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => pg.cluster.query<R>(sql, params, name);
    // Small groups, so the backlog is committed and answered a few mutations at a time and the
    // link can move between two answers.
    const [a, b] = await Promise.all([startCliServer(['--database', url, '--commit-group-max', '5']), startCliServer(['--database', url, '--commit-group-max', '5'])]);
    const proxy = await TcpProxy.start(portOf(a));
    proxies.push(proxy);
    const t = await terminal(proxy.url, 'k1', 'term_test_token_1');
    // Another kiosk of the department works on B meanwhile.
    const other = await terminal(b.url, 'k2', 'term_test_token_2');
    await Promise.all([waitOnline(t), waitOnline(other)]);
    // op1 signs in while online; the kiosk on B does some work too.
    await t.core.signIn({ badge: 'B-OP1' });
    await other.core.signIn({ badge: 'B-ANN' });
    await Promise.all([waitDrained(t), waitDrained(other)]);
    const warmUp = t.core.store.meta<number>('nextMutationId', 1) - 1;

    // Offline: a shift's worth of work by four operators, queued in the outbox.
    proxy.cut();
    await t.waitFor(() => t.core.syncStatus().status === 'offline', 'the terminal to go offline');
    for (const op of OPERATORS) {
      await t.core.signIn({ badge: `B-${op.toUpperCase()}` });
      if (op === 'op1') {
        // op1 takes the shared tasks and gives them back; op2 then does them: order across operators matters.
        for (const id of shared) await t.core.claim({ taskId: id });
        for (const id of shared) await t.core.release({ taskId: id });
      }
      if (op === 'op2') for (const id of shared) for (const step of ['claim', 'start', 'complete'] as const) await t.core[step]({ taskId: id });
      for (let i = 0; i < PER_OPERATOR; i += 2) {
        const [x, y] = [own(op, i), own(op, i + 1)];
        await t.core.claim({ taskId: x });
        await t.core.claim({ taskId: y });
        await t.core.start({ taskId: x });
        await t.core.complete({ taskId: x });
        await t.core.start({ taskId: y });
        await t.core.complete({ taskId: y });
      }
    }
    await t.core.signOut();
    const queued = t.core.store.outbox();
    const total = queued.length;
    // Per operator a signOut of the one before and a signIn (op1 was signed in already), three
    // mutations per own task, op1's claims and releases and op2's work on the shared tasks, a signOut.
    expect(total).toBe((OPERATORS.length - 1) * 2 + OPERATORS.length * PER_OPERATOR * 3 + 2 * shared.length + 3 * shared.length + 1);
    expect(queued[0]!.id).toBe(warmUp + 1);
    expect(queued.map((e) => e.id)).toEqual(queued.map((_, i) => warmUp + 1 + i));

    // The link comes back to A; while the outbox drains the load balancer moves it to B, then back to A.
    const moves: Array<{ answered: number; to: 'A' | 'B' }> = [];
    const plan: Array<{ atLeast: number; to: 'A' | 'B'; port: number }> = [
      { atLeast: Math.ceil(total * 0.15), to: 'B', port: portOf(b) },
      { atLeast: Math.ceil(total * 0.55), to: 'A', port: portOf(a) },
    ];
    const progress: number[] = [];
    t.core.subscribe(() => {
      const answered = total - t.core.store.outboxSize();
      if (progress.at(-1) !== answered) progress.push(answered);
      const next = plan[moves.length];
      if (next && answered >= next.atLeast && answered < total) {
        proxy.retarget(next.port);
        moves.push({ answered, to: next.to });
      }
    });
    const countedBefore = { A: await metricSum(a, 'shopfloor_mutations_total', 'via="terminal"'), B: await metricSum(b, 'shopfloor_mutations_total', 'via="terminal"') };
    const restored = performance.now();
    proxy.restore();
    await t.waitFor(() => t.core.syncStatus().pending === 0, 'the outbox to drain', 30_000);
    console.log(
      `PROTO-5 mid-outbox moves: ${total} mutations drained in ${(performance.now() - restored).toFixed(0)} ms; ` +
        moves.map((m) => `to ${m.to} after ${m.answered} answered`).join(', ') +
        `; answered so far at each event: ${progress.join(' ')}`,
    );
    // The link really moved while the outbox was draining: A had answered some, not all.
    expect(moves.length).toBeGreaterThanOrEqual(1);
    expect(moves[0]!.to).toBe('B');
    for (const m of moves) {
      expect(m.answered).toBeGreaterThan(0);
      expect(m.answered).toBeLessThan(total);
    }

    // Every mutation applied exactly once, in the terminal's order: the audit trail (ordered as
    // committed) holds each mutation id once, in id order, with the terminal's operation.
    const audit = await query<{ mutation_id: string; action: string; outcome: string; actor_id: string | null; task_id: string | null }>(
      `SELECT details::jsonb->>'mutationId' AS mutation_id, action, outcome, actor_id, task_id FROM audit_events
        WHERE terminal_id = 'k1' AND via = 'terminal' ORDER BY id`,
    );
    const afterWarmUp = audit.filter((x) => Number(x.mutation_id) > warmUp);
    expect(afterWarmUp.map((x) => [Number(x.mutation_id), x.action, x.actor_id, x.task_id])).toEqual(queued.map((e) => [e.id, e.name, e.operatorId, e.taskId]));
    expect(afterWarmUp.filter((x) => x.outcome !== 'applied')).toEqual([]);
    const [terminalRow] = await query<{ last_mutation_id: string }>("SELECT last_mutation_id FROM terminals WHERE id = 'k1'");
    expect(Number(terminalRow!.last_mutation_id)).toBe(queued.at(-1)!.id);
    // The terminal stored an outcome for each, the same as the server's decision; no conflicts.
    for (const e of queued) expect(terminalOutcome(t, e.id), `mutation ${e.id} (${e.name} ${e.taskId ?? ''})`).toBe('applied');
    expect(t.core.store.allConflicts()).toEqual([]);

    // The effects, once each: every task completed by its operator through one assignment; the
    // shared ones released by op1, then done by op2.
    const assignments = await query<{ task_id: string; user_id: string; status: string }>('SELECT task_id, user_id, status FROM assignments ORDER BY task_id, id');
    const expected = [
      ...OPERATORS.flatMap((op) => Array.from({ length: PER_OPERATOR }, (_, i) => ({ task_id: own(op, i), user_id: op, status: 'submitted' }))),
      ...shared.flatMap((id) => [
        { task_id: id, user_id: 'op1', status: 'released' },
        { task_id: id, user_id: 'op2', status: 'submitted' },
      ]),
    ].sort((x, y) => (x.task_id < y.task_id ? -1 : x.task_id > y.task_id ? 1 : 0));
    expect(assignments).toEqual(expected);
    const server = await query<TaskState>("SELECT id, status, operator_id, version::int AS version FROM tasks WHERE department_id = 'cut' ORDER BY id");
    for (const task of server.filter((x) => x.id.startsWith('f-') || x.id.startsWith('s-'))) {
      expect(task.status).toBe('completed');
      expect(task.operator_id).toBe(task.id.startsWith('s-') ? 'op2' : task.id.slice(2, 5));
    }

    // The terminal's cache converges with the server (read sync from whichever instance it is on),
    // and so does the other kiosk's on B, which learnt of A's commits by B's push tick.
    await converges(t, server, 'k1');
    await converges(other, server, 'k2');
    // Both instances worked on the backlog (each counts the outcomes it decided or found stored).
    const viaA = (await metricSum(a, 'shopfloor_mutations_total', 'via="terminal"')) - countedBefore.A;
    const viaB = (await metricSum(b, 'shopfloor_mutations_total', 'via="terminal"')) - countedBefore.B;
    console.log(`PROTO-5 outcomes of the backlog counted by A: ${viaA}, by B: ${viaB}`);
    expect(viaA).toBeGreaterThan(0);
    expect(viaB).toBeGreaterThan(0);
    expect((await a.stop()).code).toBe(0);
    expect((await b.stop()).code).toBe(0);
  });

  it('PROTO-7 PROTO-5 OWN-1 API-7 SIGKILL of one instance under load while the other keeps serving: no acknowledged claim lost, none applied twice; the killed instance\'s terminals reconnect to the survivor and converge', { timeout: 120_000 }, async () => {
    const TASKS = 600;
    const taskIds = Array.from({ length: TASKS }, (_, i) => `L-${String(i).padStart(3, '0')}`);
    const kiosks = [
      { id: 'k1', token: 'term_test_token_1', operator: 'w1', home: 'A' as const },
      { id: 'k2', token: 'term_test_token_2', operator: 'w2', home: 'A' as const },
      { id: 'k3', token: 'term_fail_3', operator: 'w3', home: 'B' as const },
      { id: 'k4', token: 'term_fail_4', operator: 'w4', home: 'B' as const },
    ];
    // A kiosk that speaks the protocol itself (test/support/ws-client.ts) and keeps no answers: after
    // the kill it says hello to B as if it had stored none, and sends every mutation again.
    const forgetful = { id: 'k5', token: 'term_fail_5', operator: 'w5' };
    const httpClients = [
      { user: 'h1', home: 'A' as const },
      { user: 'h2', home: 'B' as const },
      { user: 'h3', home: 'B' as const },
    ];
    const { url, name } = await pg.plant(async (store, salt) => {
      const now = Date.now();
      for (const k of kiosks) {
        await store.createUser(newUser(k.operator, { badgeHash: badgeHash(salt, `B-${k.operator.toUpperCase()}`), taskLimit: 1000 }), now);
        if (k.id === 'k3' || k.id === 'k4') await store.createTerminal({ id: k.id, name: `Kiosk ${k.id}`, departments: ['cut'], tokenHash: tokenHash(k.token) }, now);
      }
      await store.createUser(newUser(forgetful.operator, { taskLimit: 1000 }), now);
      await store.createTerminal({ id: forgetful.id, name: 'Kiosk k5', departments: ['cut'], tokenHash: tokenHash(forgetful.token) }, now);
      for (const h of httpClients) {
        await store.createUser(newUser(h.user, { taskLimit: 1000 }), now);
        await store.createApiToken({ id: `tok-${h.user}`, userId: h.user, name: 'load', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(`api_fail_${h.user}`) }, now);
      }
      expect((await store.importTasks(taskIds.map((id) => taskRow(id, { workOrderNumber: 'WO-L' })), now)).ok).toBe(true);
    });
    const query = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => pg.cluster.query<R>(sql, params, name);
    const [a, b] = await Promise.all([startCliServer(['--database', url]), startCliServer(['--database', url])]);
    // The load balancer in front of A, for A's kiosks.
    const proxyA = await TcpProxy.start(portOf(a));
    proxies.push(proxyA);
    const ts = await Promise.all(kiosks.map((k) => terminal(k.home === 'A' ? proxyA.url : b.url, k.id, k.token)));
    await Promise.all(ts.map((t) => waitOnline(t)));
    for (const [i, k] of kiosks.entries()) await ts[i]!.core.signIn({ badge: `B-${k.operator.toUpperCase()}` });
    await Promise.all(ts.map((t) => waitDrained(t)));
    const raw = await TestClient.connect(`ws://127.0.0.1:${proxyA.port}/sync`, { terminalId: forgetful.id, token: forgetful.token });
    clients.push(raw);
    expect((await raw.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: forgetful.operator }]))[0]!.status).toBe('applied');

    let stop = false;
    const random = rng(9);

    // Kiosks claim continuously from the top of their claimable list (LIST-1): they often want the
    // same tasks, so some claims lose (CLM-9). Every claim queued is recorded with its mutation id.
    const claims: Array<{ kiosk: number; id: number; taskId: string; at: number }> = [];
    const kioskLoops = ts.map(async (t, i) => {
      while (!stop) {
        const page = await t.core.listClaimable({ offset: 0, limit: 30 });
        const pick = page.items[Math.floor(random() * page.items.length)];
        if (pick) {
          try {
            const ack = await t.core.claim({ taskId: pick.id });
            if (ack.result === 'queued') {
              const entry = t.core.store.outboxForTask(pick.id).at(-1);
              expect(entry?.name).toBe('claim');
              claims.push({ kiosk: i, id: entry!.id, taskId: pick.id, at: Date.now() });
            }
          } catch (e) {
            // The cache already shows it taken (OFF-3): nothing queued.
            if (!(e instanceof DomainError)) throw e;
          }
        }
        await sleep(25 + random() * 25);
      }
    });

    // The forgetful kiosk claims three tasks a push, in its own order, until its link dies.
    const rawSent = new Map<number, string>();
    const rawAcked = new Map<number, MutationOutcome>();
    const rawLoop = (async () => {
      const order = shuffled(taskIds, rng(77));
      for (let k = 0, id = 2; !stop && k < order.length; k += 3, id += 3) {
        const batch = order.slice(k, k + 3).map((taskId, j) => ({ id: id + j, name: 'claim', args: { taskId }, operatorId: forgetful.operator }));
        for (const m of batch) rawSent.set(m.id, m.args.taskId);
        try {
          // Re-sent when answered retry, as a terminal does (a busy machine makes A answer so).
          for (const o of await raw.mutateUntilDecided(batch)) rawAcked.set(o.id, o);
        } catch {
          return; // its link died (or an answer did not come): what it sent is in doubt
        }
        await sleep(5 + random() * 10);
      }
    })();

    // HTTP clients claim too, each walking the tasks in its own order, and B's health is checked
    // all along: in a process of their own (HTTP_LOAD), so the kiosks' SQLite work in this one
    // does not delay them or what they measure.
    const load = startHttpLoad({
      health: `${b.url}/healthz`,
      urls: { A: a.url, B: b.url },
      clients: httpClients.map((h, n) => ({ user: h.user, token: `api_fail_${h.user}`, home: h.home, order: shuffled(taskIds, rng(n + 1)) })),
    });
    const loops = Promise.all([...kioskLoops, rawLoop]);
    loads.push({ stop: () => (stop = true), done: loops });

    // Kill A once the load runs and A's kiosks have had claims answered.
    const ackedOn = (kiosk: number) => claims.filter((c) => c.kiosk === kiosk && ts[kiosk]!.core.store.outcome(c.id) !== null);
    await sleep(1200);
    await until(() => ackedOn(0).length >= 10 && ackedOn(1).length >= 10 && rawAcked.size >= 10, "A's kiosks to have claims answered", 20_000).catch((e: Error) => {
      const state = ts.map((t, i) => `${kiosks[i]!.id}: ${ackedOn(i).length} answered, ${JSON.stringify(t.core.syncStatus())}`);
      throw new Error(`${e.message}; k5: ${rawAcked.size} answered; ${state.join('; ')}`, { cause: e });
    });
    // A's last moments: its answers to its kiosks are held back (a stalled link), so A dies with
    // some of their claims committed but unanswered. B must replay those answers, not apply again.
    proxyA.hold();
    await sleep(400);
    const ackedBeforeKill = claims.filter((c) => ts[c.kiosk]!.core.store.outcome(c.id) !== null).map((c) => ({ ...c, outcome: terminalOutcome(ts[c.kiosk]!, c.id) }));
    const unansweredAtKill = claims.filter((c) => c.kiosk < 2 && ts[c.kiosk]!.core.store.outcome(c.id) === null);
    const rawAckedAtKill = new Map(rawAcked);
    const killedAtWall = Date.now();
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    // The load balancer notices and sends A's kiosks to B.
    proxyA.retarget(portOf(b));
    await sleep(3000);
    stop = true;
    const [{ answers, health }] = await Promise.all([load.stop(), loops]);
    for (const t of ts) await t.waitFor(() => t.core.syncStatus().pending === 0, 'the outbox to drain', 15_000);

    // The forgetful kiosk at B (PROTO-5): everything processed is reported with its decision, and
    // sending it all again applies only what had not been processed.
    expect(raw.closeCode).not.toBeNull();
    const again = await TestClient.connect(b.wsUrl, { terminalId: forgetful.id, token: forgetful.token, lastAckedMutationId: 1 });
    clients.push(again);
    const welcome = again.frames[0]!;
    expect(welcome.type).toBe('welcome');
    const lastProcessed = welcome.type === 'welcome' ? welcome.lastMutationId : 0;
    for (const id of rawAcked.keys()) expect(id).toBeLessThanOrEqual(lastProcessed);
    await again.waitFor((f) => f.type === 'results' && f.outcomes.some((o) => o.id === lastProcessed));
    const replayed = new Map(again.outcomes().map((o) => [o.id, o]));
    // The same decision each time; its task is the one it was about, as it is now.
    for (const [id, o] of rawAcked) expect(decisionOf(replayed.get(id)), `k5 mutation ${id}`).toEqual(decisionOf(o));
    // Its answers are the ones after this push (the welcome's replay above holds the same ids).
    const from = again.frames.length;
    again.sendRaw({ type: 'push', mutations: [...rawSent].map(([id, taskId]) => ({ id, name: 'claim', args: { taskId }, operatorId: forgetful.operator, clientTime: Date.now() })) });
    const answersToResend = () => again.frames.slice(from).flatMap((f) => (f.type === 'results' ? f.outcomes : []));
    await until(() => new Set(answersToResend().map((o) => o.id)).size === rawSent.size, 'the answers to what k5 sent again', 15_000);
    const rawFinal = new Map(answersToResend().map((o) => [o.id, o]));
    expect([...rawFinal.values()].filter((o) => o.status === 'retry')).toEqual([]);
    for (const [id, o] of rawAcked) expect(decisionOf(rawFinal.get(id)), `k5 mutation ${id} sent again`).toEqual(decisionOf(o));
    const rawOutcome = (id: number) => {
      const o = rawFinal.get(id)!;
      return o.status === 'applied' ? 'applied' : o.status === 'rejected' ? o.error.code : 'retry';
    };

    const audit = await query<{
      terminal_id: string | null;
      mutation_id: string | null;
      actor_id: string;
      task_id: string | null;
      action: string;
      outcome: string;
      via: string;
      at: string;
      already_claimed: string | null;
    }>(
      `SELECT terminal_id, details::jsonb->>'mutationId' AS mutation_id, actor_id, task_id, action, outcome, via, at,
              details::jsonb->>'alreadyClaimed' AS already_claimed FROM audit_events
        WHERE via IN ('terminal', 'http') AND action IN ('claim', 'signIn') ORDER BY id`,
    );
    const auditOf = new Map<string, typeof audit>();
    for (const x of audit.filter((y) => y.via === 'terminal')) {
      const key = `${x.terminal_id}/${x.mutation_id}`;
      auditOf.set(key, [...(auditOf.get(key) ?? []), x]);
    }
    // Claims A committed (decided before it died) whose answers its kiosks never got from A.
    const beforeKill = (terminalId: string, id: number) => (auditOf.get(`${terminalId}/${id}`) ?? []).some((x) => Number(x.at) < killedAtWall);
    const committedByA = unansweredAtKill.filter((c) => beforeKill(kiosks[c.kiosk]!.id, c.id));
    const rawCommittedByA = [...rawSent.keys()].filter((id) => !rawAckedAtKill.has(id) && beforeKill(forgetful.id, id));
    const httpOk = answers.filter((x) => x.status === 200);
    const terminalApplied = claims.filter((c) => terminalOutcome(ts[c.kiosk]!, c.id) === 'applied');
    console.log(
      `PROTO-7 kill under load: ${claims.length} kiosk claims (${terminalApplied.length} applied), ${answers.length} HTTP claims (${httpOk.length} 200, ` +
        `${answers.filter((x) => x.status === 'failed').length} in doubt); ${ackedBeforeKill.length} kiosk claims acknowledged before the kill; ` +
        `${unansweredAtKill.length} of A's kiosks' claims unanswered at the kill, ${committedByA.length} of them committed by A; ` +
        `k5: ${rawSent.size} claims sent, ${rawAckedAtKill.size} answered by A, ${rawCommittedByA.length} more committed by A`,
    );
    // The kill landed mid-work: A had committed claims it never answered (their answers came from B).
    expect(committedByA.length + rawCommittedByA.length).toBeGreaterThan(0);

    // B never stopped answering: every health check and HTTP claim sent to B, before and after the
    // kill, was answered promptly, none with a fault.
    const bAnswers = answers.filter((x) => x.instance === 'B');
    expect(bAnswers.filter((x) => x.status !== 200 && x.status !== 409)).toEqual([]);
    expect(health.filter((x) => x.status !== 200)).toEqual([]);
    const slowest = (xs: Array<{ sent: number; at: number }>) => Math.max(...xs.map((x) => x.at - x.sent));
    console.log(`PROTO-7 B's slowest answer: health ${slowest(health).toFixed(0)} ms, HTTP claim ${slowest(bAnswers).toFixed(0)} ms`);
    expect(health.filter((x) => x.sent > killedAtWall).length).toBeGreaterThanOrEqual(5);
    expect(bAnswers.filter((x) => x.sent > killedAtWall).length).toBeGreaterThanOrEqual(5);
    expect(slowest(health)).toBeLessThan(3000);
    expect(slowest(bAnswers)).toBeLessThan(3000);
    expect(b.child.exitCode).toBeNull();
    // A's kiosks moved to B and were served there: claims they made after the kill have outcomes.
    for (const i of [0, 1]) expect(claims.filter((c) => c.kiosk === i && c.at > killedAtWall).length).toBeGreaterThan(0);
    // B holds every kiosk's link now (the forgetful one's too).
    expect(await metricSum(b, 'shopfloor_terminal_connections', '')).toBe(kiosks.length + 1);

    // Every claim a kiosk saw acknowledged (before the kill too) is in the database once, as decided.
    // No mutation id applied twice (the audit keeps each decision; the processed ids are numbered).
    expect([...auditOf].filter(([, xs]) => xs.length > 1).map(([key]) => key)).toEqual([]);
    const holders = new Map((await query<{ id: string; operator_id: string | null }>('SELECT id, operator_id FROM tasks')).map((r) => [r.id, r.operator_id]));
    for (const c of ackedBeforeKill) expect(terminalOutcome(ts[c.kiosk]!, c.id), `${kiosks[c.kiosk]!.id} mutation ${c.id}`).toBe(c.outcome);
    for (const c of claims) {
      const k = kiosks[c.kiosk]!;
      const decided = auditOf.get(`${k.id}/${c.id}`) ?? [];
      const outcome = terminalOutcome(ts[c.kiosk]!, c.id);
      expect(decided.map((x) => [x.action, x.task_id, x.actor_id, x.outcome]), `${k.id} mutation ${c.id}`).toEqual([['claim', c.taskId, k.operator, outcome]]);
      if (outcome === 'applied') expect(holders.get(c.taskId), `${k.id} mutation ${c.id}`).toBe(k.operator);
      else expect(outcome).toBe('task_conflict');
    }
    for (const [id, taskId] of rawSent) {
      const decided = auditOf.get(`${forgetful.id}/${id}`) ?? [];
      expect(decided.map((x) => [x.action, x.task_id, x.actor_id, x.outcome]), `k5 mutation ${id}`).toEqual([['claim', taskId, forgetful.operator, rawOutcome(id)]]);
      if (rawOutcome(id) === 'applied') expect(holders.get(taskId), `k5 mutation ${id}`).toBe(forgetful.operator);
      else expect(rawOutcome(id)).toBe('task_conflict');
    }
    // Each kiosk's processed ids are exactly what it sent, in order, each once.
    const sentBy = new Map([...kiosks.map((k, i) => [k.id, [1, ...claims.filter((c) => c.kiosk === i).map((c) => c.id)]] as const), [forgetful.id, [1, ...rawSent.keys()]]]);
    for (const [terminalId, sent] of sentBy) {
      const processed = audit.filter((x) => x.via === 'terminal' && x.terminal_id === terminalId).map((x) => Number(x.mutation_id));
      expect(processed, terminalId).toEqual(sent);
      const [row] = await query<{ last_mutation_id: string }>('SELECT last_mutation_id FROM terminals WHERE id = $1', [terminalId]);
      expect(Number(row!.last_mutation_id)).toBe(sent.at(-1));
    }
    // Every HTTP claim answered 200 is in the database once.
    const httpApplied = audit.filter((x) => x.via === 'http' && x.outcome === 'applied');
    for (const x of httpOk) {
      expect(httpApplied.filter((y) => y.task_id === x.taskId && y.actor_id === x.user), `${x.user} ${x.taskId}`).toHaveLength(1);
      expect(holders.get(x.taskId)).toBe(x.user);
    }
    // OWN-1: one holder per task, one assignment per claim that took its task, nothing else
    // applied. A kiosk may claim a task it already holds again (CLM-6: applied, alreadyClaimed,
    // nothing changes); such a claim is its holder's.
    const appliedClaims = audit.filter((x) => x.action === 'claim' && x.outcome === 'applied' && x.already_claimed !== 'true');
    const reclaims = audit.filter((x) => x.action === 'claim' && x.outcome === 'applied' && x.already_claimed === 'true');
    for (const x of reclaims) expect(holders.get(x.task_id!), `re-claim of ${x.task_id} by ${x.actor_id}`).toBe(x.actor_id);
    expect(new Set(appliedClaims.map((x) => x.task_id)).size).toBe(appliedClaims.length);
    const [counts] = await query<{ assignments: number; held: number }>(
      'SELECT (SELECT COUNT(*)::int FROM assignments) AS assignments, (SELECT COUNT(*)::int FROM tasks WHERE operator_id IS NOT NULL) AS held',
    );
    expect(counts).toEqual({ assignments: appliedClaims.length, held: appliedClaims.length });
    expect(appliedClaims.length + reclaims.length).toBe(terminalApplied.length + [...rawSent.keys()].filter((id) => rawOutcome(id) === 'applied').length + httpApplied.length);
    // HTTP claims in doubt (A died before answering) were applied at most once: counted above.

    // Every kiosk, A's included, converges with the server.
    const server = await query<TaskState>("SELECT id, status, operator_id, version::int AS version FROM tasks WHERE department_id = 'cut' ORDER BY id");
    for (const [i, t] of ts.entries()) await converges(t, server, kiosks[i]!.id);
    expect((await b.stop()).code).toBe(0);
  });
});
