/**
 * PostgreSQL (issue 9): durable claims/s with one and with two real server instances
 * (`start --database postgres://…`, port 0) on one database of a throwaway cluster
 * (test/support/pg-cluster.ts: fsync on, synchronous_commit on), side by side in the same run with
 * a naive baseline on the same database, and the commit-to-push latency across instances.
 *
 * The plant's shape (bench/plant.ts): 4 departments, operators with the default limit of 10.
 *
 * Throughput: BENCH_PG_CLIENTS (100) HTTP API clients (operators, a bearer token each, kept-alive
 * connections as in http-load), each working through its own tasks, claim → start → complete (so it
 * stays under its limit), one request after the other, for BENCH_PG_MS (8,000) ms:
 * - one instance: all clients on it;
 * - two instances: half the clients on each (the same database);
 * - the naive baseline, before and after the server phases: the same number of concurrent clients,
 *   each step of the same lifecycle one transaction from a pg Pool of that many connections, as older
 *   implementations do it: BEGIN; SELECT the task FOR UPDATE; check it; UPDATE it (claimed by the
 *   operator, started, completed); INSERT a history row; COMMIT (named, prepared statements). Its
 *   tables are copies of `tasks` and `audit_events` with all their indexes and constraints
 *   (`LIKE … INCLUDING ALL`). The better of its two runs is the one compared with.
 * Targets: ours (one instance) >= 5x the baseline's claims/s; two instances >= 1.6x one.
 *
 * Commit-to-push: two instances, A and B, started with `--push-interval-ms` 100 (the default) and
 * then 25. At each, claims are offered on A over HTTP (open loop, in steps of 10 ms), first at
 * BENCH_PG_PUSH_PLANT_RATE (2/s, a plant's own rate: 2,000 operators claiming a task about every 15
 * minutes, where a change after a quiet push interval goes out at once), then at
 * BENCH_PG_PUSH_LOW_RATE (50/s, a rate one instance keeps up with, so the push path is seen without
 * saturation), then at 1,000/s, by BENCH_PG_PUSH_OPERATORS (2,000) operators taking turns, claims
 * only (each operator claims at most 10 tasks over all phases, within its limit). At most
 * BENCH_PG_PUSH_IN_FLIGHT (200) claims wait for an answer: an offer beyond that is not sent (and
 * counted), so a server slower than the offer does not build an unbounded backlog. BENCH_PG_WATCHERS
 * (5) terminals per department (bench/lib.ts BenchTerminal over /sync, synced to the head,
 * acknowledging every page) are connected to B. Latency: from A's answer to the claim (it answers
 * after COMMIT) to the first change page on a terminal of B showing the task held by that operator;
 * every terminal of the task's department is a sample. Target: p99 < 50 ms at 1,000/s.
 * BENCH_PG_PUSH_MS (8,000) ms each.
 *
 * Seeding: users, API tokens and terminals through PgServerStore; tasks in bulk with the import's
 * own INSERTs (the store's import writes ~1,500 rows/s here), without change-log rows (every
 * terminal starts at the head). About 2 minutes in all.
 *
 * BENCH_PG_SERVER_ROOT=<checkout> runs that checkout's built server instead of this one's (seeding
 * and the baseline stay this checkout's; the schema must be the same).
 * BENCH_PG_RTT_MS=N puts a relay (pg-relay.ts, its own process) between the database and the
 * instances and the baseline that holds each of the database's replies N ms: a database on another
 * machine, where every statement's round trip costs that much (seeding goes direct).
 * BENCH_PG_LANES=N starts the instances with `--commit-lanes N`.
 * BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server instances
 * (lib.ts); BENCH_PG_STATEMENTS=1 loads pg_stat_statements and prints, per phase, the statements
 * (round trips) and their database time per claim, the heaviest statements first.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { PgServerStore } from '../src-server/store/pg/store.js';
import { pgUnavailable, startCluster, type PgCluster } from '../test/support/pg-cluster.js';
import { BenchTerminal, report, round, startServerProcess, summarize, tempDir, type ServerProcess } from './lib.js';

const DEPARTMENTS = 4;
const CLIENTS = Number(process.env.BENCH_PG_CLIENTS ?? 100);
const PHASE_MS = Number(process.env.BENCH_PG_MS ?? 8000);
/** Tasks per throughput client, for both server phases together (a client stops when it runs out). */
const TASKS_PER_CLIENT = Number(process.env.BENCH_PG_TASKS_PER_CLIENT ?? 300);
/** Tasks per client of the baseline, for both of its runs together. */
const NAIVE_TASKS_PER_CLIENT = Number(process.env.BENCH_PG_NAIVE_TASKS_PER_CLIENT ?? 1000);
const PUSH_RATE = 1000;
/** A rate one instance sustains here, so the push path is also seen without the saturation 1,000/s brings. */
const PUSH_LOW_RATE = Number(process.env.BENCH_PG_PUSH_LOW_RATE ?? 50);
/** A plant's own rate: 2,000 operators who each claim a task about every 15 minutes. */
const PUSH_PLANT_RATE = Number(process.env.BENCH_PG_PUSH_PLANT_RATE ?? 2);
const PUSH_MS = Number(process.env.BENCH_PG_PUSH_MS ?? 8000);
const PUSH_OPERATORS = Number(process.env.BENCH_PG_PUSH_OPERATORS ?? 2000);
const PUSH_INTERVALS = [100, 25];
/** Claims per push operator over both push phases, plus slack; under the limit of 10. */
const PUSH_TASKS_PER_OPERATOR = Math.min(10, Math.ceil(((PUSH_RATE + PUSH_LOW_RATE + PUSH_PLANT_RATE) * (PUSH_MS / 1000) * PUSH_INTERVALS.length) / PUSH_OPERATORS) + 1);
/** Claims waiting for their answer at most; an offer beyond that is not sent (and counted), so a server slower than the offer does not build an unbounded backlog. */
const PUSH_MAX_IN_FLIGHT = Number(process.env.BENCH_PG_PUSH_IN_FLIGHT ?? 200);
const WATCHERS_PER_DEPARTMENT = Number(process.env.BENCH_PG_WATCHERS ?? 5);
const STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
/** Another checkout's server (built: npx tsc -p tsconfig.node.json there) instead of this one's, e.g. the last commit while the tree is being edited. */
const SERVER_ROOT = process.env.BENCH_PG_SERVER_ROOT ?? null;
const DB = 'pgload';
/**
 * BENCH_PG_RTT_MS (0: off): the instances and the baseline reach the database through a relay that
 * holds each reply that long (pg-relay.ts), as a database on another machine; seeding goes direct.
 */
const RTT_MS = Number(process.env.BENCH_PG_RTT_MS ?? 0);
/** BENCH_PG_LANES: the instances' `--commit-lanes` (their default, 4, when unset). */
const LANES = process.env.BENCH_PG_LANES ? ['--commit-lanes', process.env.BENCH_PG_LANES] : [];

/** Start pg-relay.ts in front of `url`'s port; the URL through it, and a stop. */
export async function startRelay(url: string, delayMs: number): Promise<{ url: string; stop: () => void }> {
  if (!new URL(url).port) throw new Error('BENCH_PG_RTT_MS relays TCP: unset PG_CLUSTER_SOCKET (a unix socket has no port to relay)');
  const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'pg-relay.js'), new URL(url).port, String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pg-relay exited with ${code}`)));
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
  });
  const relayed = new URL(url);
  relayed.port = String(port);
  return { url: relayed.toString(), stop: () => child.kill('SIGTERM') };
}

const dept = (c: number) => `d${c % DEPARTMENTS}`;
const clientTask = (c: number, i: number) => `c${c}-${i}`;
const pushTask = (o: number, i: number) => `p${o}-${i}`;
const naiveTask = (c: number, i: number) => `n${c}-${i}`;

/** Bounded wait for a condition, polling. */
async function waitUntil(pred: () => boolean, ms: number, stepMs = 20): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return true;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pg-load: no ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Seeding

async function seed(cluster: PgCluster, url: string): Promise<void> {
  const now = Date.now();
  const store = await PgServerStore.open(url);
  try {
    for (let d = 0; d < DEPARTMENTS; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  } finally {
    await store.close();
  }
  // Users, tokens and terminals through the store's own writes, on a few stores at once (each store
  // writes one transaction at a time).
  const jobs: Array<(s: PgServerStore) => Promise<void>> = [];
  const operator = (id: string, d: string, token: string) => async (s: PgServerStore) => {
    await s.createUser({ id, displayName: `Operator ${id}`, roles: ['operator'], departmentIds: [d], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
    await s.createApiToken({ id: `tok-${id}`, userId: id, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token) }, now);
  };
  for (let c = 0; c < CLIENTS; c++) jobs.push(operator(`c${c}`, dept(c), `api-c${c}`));
  for (let o = 0; o < PUSH_OPERATORS; o++) jobs.push(operator(`p${o}`, dept(o), `api-p${o}`));
  for (let d = 0; d < DEPARTMENTS; d++) {
    for (let w = 0; w < WATCHERS_PER_DEPARTMENT; w++) {
      const id = `w${d}-${w}`;
      jobs.push((s) => s.createTerminal({ id, name: `Kiosk ${id}`, departments: [`d${d}`], tokenHash: tokenHash(`token-${id}`) }, now));
    }
  }
  const stores = await Promise.all(Array.from({ length: 8 }, () => PgServerStore.open(url)));
  try {
    let next = 0;
    await Promise.all(stores.map(async (s) => {
      while (next < jobs.length) await jobs[next++]!(s);
    }));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
  // Tasks: each throughput client's and each push operator's own, in its department, work orders of
  // 10, written in bulk with the INSERTs the import makes (store/pg/tx.ts importRow; the import
  // itself writes 1,500 rows/s here) but without their change-log rows: every terminal of this
  // benchmark starts at the change log's head. The baseline's tables: copies of the real ones,
  // indexes and constraints included, holding the same tasks under other ids.
  await cluster.query(
    `INSERT INTO work_orders (id, number, title, created_at)
       SELECT 'WO-c' || c || '-' || w, 'WO-c' || c || '-' || w, '', ${now}
       FROM generate_series(0, ${CLIENTS - 1}) AS c, generate_series(0, ${Math.ceil(TASKS_PER_CLIENT / 10) - 1}) AS w;
     INSERT INTO tasks (id, work_order_id, step, work_content, department_id, status, priority, due_at, required_skills, version, created_at, updated_at)
       SELECT 'c' || c || '-' || i, 'WO-c' || c || '-' || (i / 10), 'cut', 'Cut part c' || c || '-' || i || ' to drawing rev B', 'd' || (c % ${DEPARTMENTS}), 'pending', 0, NULL, '[]', 1, ${now}, ${now}
       FROM generate_series(0, ${CLIENTS - 1}) AS c, generate_series(0, ${TASKS_PER_CLIENT - 1}) AS i;
     INSERT INTO work_orders (id, number, title, created_at)
       SELECT 'WO-p' || o, 'WO-p' || o, '', ${now} FROM generate_series(0, ${PUSH_OPERATORS - 1}) AS o;
     INSERT INTO tasks (id, work_order_id, step, work_content, department_id, status, priority, due_at, required_skills, version, created_at, updated_at)
       SELECT 'p' || o || '-' || i, 'WO-p' || o, 'cut', 'Cut part p' || o || '-' || i || ' to drawing rev B', 'd' || (o % ${DEPARTMENTS}), 'pending', 0, NULL, '[]', 1, ${now}, ${now}
       FROM generate_series(0, ${PUSH_OPERATORS - 1}) AS o, generate_series(0, ${PUSH_TASKS_PER_OPERATOR - 1}) AS i;
     CREATE TABLE naive_tasks (LIKE tasks INCLUDING ALL);
     CREATE TABLE naive_history (LIKE audit_events INCLUDING ALL);
     INSERT INTO naive_tasks (id, work_order_id, step, work_content, department_id, status, operator_id, priority, due_at, required_skills, version, created_at, updated_at)
       SELECT 'n' || c || '-' || i, 'WO-n' || c || '-' || (i / 10), 'cut', 'Cut part n' || c || '-' || i || ' to drawing rev B', 'd' || (c % ${DEPARTMENTS}), 'pending', NULL, 0, NULL, '[]', 1, ${now}, ${now}
       FROM generate_series(0, ${CLIENTS - 1}) AS c, generate_series(0, ${NAIVE_TASKS_PER_CLIENT - 1}) AS i;
     ANALYZE;`,
    [],
    DB,
  );
}

// ---------------------------------------------------------------------------------------------
// Our servers over HTTP

interface Throughput {
  claims: number;
  claimsPerSec: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
  /** Clients that ran out of tasks before the phase ended (the figure is then a lower bound). */
  ranOut: number;
}

async function post(url: string, token: string, taskId: string, op: string): Promise<{ status: number; body: { code?: string } }> {
  // Bounded: a server that stops answering fails the run instead of hanging it.
  const res = await fetch(`${url}/api/tasks/${taskId}/${op}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as { code?: string } };
}

/**
 * CLIENTS clients, each working through its own tasks (`taskOf(client, n)`, at most `perClient`):
 * claim → start → complete, one step after the other, until the phase ends. `step` does one and
 * says whether it was accepted. The same driver for our server and for the baseline.
 */
async function runLifecycles(
  perClient: number,
  cursors: number[],
  taskOf: (client: number, n: number) => string,
  step: (client: number, op: 'claim' | 'start' | 'complete', taskId: string) => Promise<boolean>,
): Promise<Throughput> {
  let ops = 0;
  let claims = 0;
  let refused = 0;
  let ranOut = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + PHASE_MS;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (performance.now() < end) {
        if (cursors[c]! >= perClient) {
          ranOut++;
          return;
        }
        const taskId = taskOf(c, cursors[c]!++);
        for (const op of ['claim', 'start', 'complete'] as const) {
          const t = performance.now();
          if (!(await step(c, op, taskId))) refused++;
          latencies.push(performance.now() - t);
          ops++;
          if (op === 'claim') claims++;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  const lat = summarize(latencies);
  return { claims, claimsPerSec: Math.round((claims / elapsed) * 1000), opsPerSec: Math.round((ops / elapsed) * 1000), p50Ms: lat.p50, p99Ms: lat.p99, refused, ranOut };
}

/** Each client claims, starts and completes its own next tasks on our server until the phase ends. */
function lifecycle(urls: readonly string[], cursors: number[]): Promise<Throughput> {
  let shown = 0;
  return runLifecycles(TASKS_PER_CLIENT, cursors, clientTask, async (c, op, taskId) => {
    const r = await post(urls[c % urls.length]!, `api-c${c}`, taskId, op);
    if (r.status === 200) return true;
    if (++shown <= 3) console.error(`pg-load: ${op} ${taskId} answered ${r.status} ${JSON.stringify(r.body)}`);
    return false;
  });
}

interface GroupStats {
  groups: number;
  meanGroupSize: number;
  meanGroupMs: number;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** Commit groups between two /metrics readings of the same instances. */
function groupStats(before: string[], after: string[]): GroupStats {
  let groups = 0;
  let units = 0;
  let seconds = 0;
  after.forEach((a, i) => {
    const b = before[i]!;
    groups += metric(a, 'shopfloor_commit_group_size_count') - metric(b, 'shopfloor_commit_group_size_count');
    units += metric(a, 'shopfloor_commit_group_size_sum') - metric(b, 'shopfloor_commit_group_size_sum');
    seconds += metric(a, 'shopfloor_commit_duration_seconds_sum') - metric(b, 'shopfloor_commit_duration_seconds_sum');
  });
  return { groups, meanGroupSize: round(units / groups, 1), meanGroupMs: round((seconds * 1000) / groups, 2) };
}

// ---------------------------------------------------------------------------------------------
// The naive baseline

const NAIVE_LOCK = 'SELECT status, operator_id FROM naive_tasks WHERE id = $1 FOR UPDATE';
const NAIVE_CLAIM = 'UPDATE naive_tasks SET operator_id = $2, version = version + 1, updated_at = $3 WHERE id = $1';
const NAIVE_STATUS = 'UPDATE naive_tasks SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1';
const NAIVE_HISTORY = `INSERT INTO naive_history (at, action, outcome, actor_id, via, task_id, details, department_id) VALUES ($1, $2, 'applied', $3, 'http', $4, '{}', $5)`;

/** One step of the lifecycle as one transaction; false when the task was not in the state it needs. */
async function naiveStep(pool: pg.Pool, op: 'claim' | 'start' | 'complete', taskId: string, operatorId: string, departmentId: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const row = (await client.query<{ status: string; operator_id: string | null }>({ name: 'naive_lock', text: NAIVE_LOCK, values: [taskId] })).rows[0];
    const ok =
      row !== undefined &&
      (op === 'claim'
        ? row.status === 'pending' && row.operator_id === null
        : op === 'start'
          ? row.status === 'pending' && row.operator_id === operatorId
          : row.status === 'in_progress' && row.operator_id === operatorId);
    if (!ok) {
      await client.query('ROLLBACK');
      return false;
    }
    const now = Date.now();
    if (op === 'claim') await client.query({ name: 'naive_claim', text: NAIVE_CLAIM, values: [taskId, operatorId, now] });
    else await client.query({ name: 'naive_status', text: NAIVE_STATUS, values: [taskId, op === 'start' ? 'in_progress' : 'completed', now] });
    await client.query({ name: 'naive_history', text: NAIVE_HISTORY, values: [now, op, operatorId, taskId, departmentId] });
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function naive(url: string, cursors: number[]): Promise<Throughput> {
  const pool = new pg.Pool({ connectionString: url, max: CLIENTS, connectionTimeoutMillis: 30_000 });
  try {
    // Open every connection (and check synchronous_commit) before the clock starts.
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => pool.connect()));
    const sync = (await clients[0]!.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]!.s;
    for (const c of clients) c.release();
    if (sync !== 'on') throw new Error(`the baseline's synchronous_commit is ${sync}, not on`);
    return await runLifecycles(NAIVE_TASKS_PER_CLIENT, cursors, naiveTask, (c, op, taskId) => naiveStep(pool, op, taskId, `c${c}`, dept(c)));
  } finally {
    await pool.end();
  }
}

/** Durable single-row commits/s on one connection: what this disk gives one committer. */
async function rawCommitRate(url: string, ms = 1500): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS raw_commits (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT NOT NULL)');
    const end = performance.now() + ms;
    const start = performance.now();
    let n = 0;
    while (performance.now() < end) {
      await client.query({ name: 'raw', text: 'INSERT INTO raw_commits (v) VALUES ($1)', values: ['row'] });
      n++;
    }
    return Math.round((n / (performance.now() - start)) * 1000);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// pg_stat_statements (BENCH_PG_STATEMENTS=1)

async function enableStatements(cluster: PgCluster): Promise<void> {
  await cluster.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
  await cluster.pause();
  await cluster.resume();
  await cluster.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements', [], DB);
}

async function resetStatements(cluster: PgCluster): Promise<void> {
  if (STATEMENTS) await cluster.query('SELECT pg_stat_statements_reset()', [], DB);
}

/** Statements per claim and their time, the heaviest first. */
async function statementsPerClaim(cluster: PgCluster, claims: number): Promise<Record<string, unknown> | null> {
  if (!STATEMENTS || claims === 0) return null;
  const rows = await cluster.query<{ query: string; calls: string; ms: number }>(
    `SELECT query, calls::text, total_exec_time AS ms FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = $1 AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC`,
    [DB],
    DB,
  );
  const calls = rows.reduce((n, r) => n + Number(r.calls), 0);
  const ms = rows.reduce((n, r) => n + r.ms, 0);
  return {
    statementsPerClaim: round(calls / claims, 1),
    dbExecMsPerClaim: round(ms / claims, 3),
    top: rows.slice(0, 8).map((r) => ({ perClaim: round(Number(r.calls) / claims, 2), msPerClaim: round(r.ms / claims, 3), sql: r.query.replace(/\s+/g, ' ').slice(0, 90) })),
    // The round trips: the statements run most often.
    mostCalled: [...rows]
      .sort((a, b) => Number(b.calls) - Number(a.calls))
      .slice(0, 20)
      .map((r) => ({ perClaim: round(Number(r.calls) / claims, 2), sql: r.query.replace(/\s+/g, ' ').slice(0, 90) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Commit-to-push across instances

interface PushFigures {
  pushIntervalMs: number;
  rate: number;
  offeredClaimsPerSec: number;
  sentClaimsPerSec: number;
  notSent: number;
  answeredClaims: number;
  answeredClaimsPerSec: number;
  refusedClaims: number;
  claimP50Ms: number;
  claimP99Ms: number;
  samples: number;
  missed: number;
  commitToPushP50Ms: number;
  commitToPushP99Ms: number;
  commitToPushMaxMs: number;
  sendToPushP99Ms: number;
  groupsOnA: GroupStats;
}

/** A terminal of B: records when each task first arrives held by an operator. */
class Watcher extends BenchTerminal {
  readonly firstSeen = new Map<string, number>();

  watch(): void {
    this.ws.on('message', (data) => {
      const text = String(data);
      if (!text.startsWith('{"type":"changes"')) return;
      const at = performance.now();
      const frame = JSON.parse(text) as { tasks: Array<{ id: string; operatorId: string | null }> };
      for (const t of frame.tasks) if (t.operatorId !== null && !this.firstSeen.has(t.id)) this.firstSeen.set(t.id, at);
    });
  }
}

async function commitToPush(a: ServerProcess, b: ServerProcess, pushIntervalMs: number, rate: number, counter: { n: number }, head: () => Promise<number>): Promise<PushFigures> {
  const watchers: Watcher[] = [];
  try {
    const cursor = await head();
    for (let d = 0; d < DEPARTMENTS; d++) {
      for (let w = 0; w < WATCHERS_PER_DEPARTMENT; w++) {
        const k = new Watcher(`w${d}-${w}`);
        watchers.push(k); // closed in `finally` even if its welcome never comes
        await withTimeout(k.connect(`${b.url.replace(/^http/, 'ws')}/sync`, cursor), 30_000, `terminal ${k.id}'s welcome`);
        k.watch();
      }
    }
    // Let the watchers catch up to the head (pages since `cursor` arrive and are acknowledged).
    await new Promise((r) => setTimeout(r, 1500));
    const metricsBefore = [await metricsText(a.url)];
    const answered = new Map<string, { sent: number; at: number; department: number }>();
    const claimLatencies: number[] = [];
    let refused = 0;
    const inflight = new Set<Promise<void>>();
    const perTick = rate / 100;
    let owed = 0;
    let offered = 0;
    let notSent = 0;
    const start = performance.now();
    for (let tick = 0; performance.now() - start < PUSH_MS; tick++) {
      const wait = start + tick * 10 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (owed += perTick; owed >= 1; owed--) {
        offered++;
        if (inflight.size >= PUSH_MAX_IN_FLIGHT) {
          notSent++;
          continue;
        }
        const n = counter.n++;
        const o = n % PUSH_OPERATORS;
        const i = Math.floor(n / PUSH_OPERATORS);
        if (i >= PUSH_TASKS_PER_OPERATOR) {
          notSent++;
          continue;
        }
        const taskId = pushTask(o, i);
        const sent = performance.now();
        const p: Promise<void> = post(a.url, `api-p${o}`, taskId, 'claim').then((r) => {
          inflight.delete(p);
          const at = performance.now();
          claimLatencies.push(at - sent);
          if (r.status === 200) answered.set(taskId, { sent, at, department: o % DEPARTMENTS });
          else if (++refused <= 3) console.error(`pg-load: claim ${taskId} answered ${r.status} ${JSON.stringify(r.body)}`);
        });
        inflight.add(p);
      }
    }
    const elapsed = performance.now() - start;
    await Promise.all(inflight);
    const answeredAt = performance.now();
    const metricsAfter = [await metricsText(a.url)];
    // Every answered claim should reach every watcher of its department; wait (bounded) for that.
    const arrived = () => [...answered.keys()].every((id) => watchers.every((w, j) => Math.floor(j / WATCHERS_PER_DEPARTMENT) !== answered.get(id)!.department || w.firstSeen.has(id)));
    await waitUntil(arrived, 5000, 50);
    const fromCommit: number[] = [];
    const fromSend: number[] = [];
    let missed = 0;
    for (const [id, c] of answered) {
      watchers.forEach((w, j) => {
        if (Math.floor(j / WATCHERS_PER_DEPARTMENT) !== c.department) return;
        const seen = w.firstSeen.get(id);
        if (seen === undefined) return void missed++;
        fromCommit.push(seen - c.at);
        fromSend.push(seen - c.sent);
      });
    }
    const push = summarize(fromCommit);
    const claim = summarize(claimLatencies);
    return {
      pushIntervalMs,
      rate,
      offeredClaimsPerSec: Math.round((offered / elapsed) * 1000),
      sentClaimsPerSec: Math.round(((offered - notSent) / elapsed) * 1000),
      notSent,
      answeredClaims: answered.size,
      answeredClaimsPerSec: Math.round((answered.size / (answeredAt - start)) * 1000),
      refusedClaims: refused,
      claimP50Ms: claim.p50,
      claimP99Ms: claim.p99,
      samples: push.n,
      missed,
      commitToPushP50Ms: round(push.p50, 1),
      commitToPushP99Ms: round(push.p99, 1),
      commitToPushMaxMs: round(push.max, 1),
      sendToPushP99Ms: round(summarize(fromSend).p99, 1),
      groupsOnA: groupStats(metricsBefore, metricsAfter),
    };
  } finally {
    for (const w of watchers) w.ws?.terminate();
  }
}

// ---------------------------------------------------------------------------------------------

/** Stop server processes (SIGTERM, bounded), SIGKILL what is left. */
async function stopAll(servers: ServerProcess[]): Promise<void> {
  await Promise.all(
    servers.splice(0).map(async (s) => {
      const exited = await Promise.race([s.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
      if (!exited && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }),
  );
}

export async function run(): Promise<void> {
  if (pgUnavailable) {
    console.log(`pg-load: skipped (${pgUnavailable})`);
    return;
  }
  const dir = tempDir('pg-load');
  let cluster: PgCluster | null = null;
  const servers: ServerProcess[] = [];
  const startInstances = async (n: number, pushIntervalMs: number | null): Promise<ServerProcess[]> => {
    const started: ServerProcess[] = [];
    for (let i = 0; i < n; i++) {
      const args = ['--database', dbUrl, ...LANES, ...(pushIntervalMs === null ? [] : ['--push-interval-ms', String(pushIntervalMs)])];
      const s = await startServerProcess(path.join(dir, `instance-${servers.length}`), { args, ...(SERVER_ROOT ? { root: SERVER_ROOT } : {}) });
      servers.push(s);
      started.push(s);
    }
    return started;
  };
  /** What the instances and the baseline connect to: `url`, or the relay in front of it. */
  let dbUrl = '';
  let relay: { stop: () => void } | null = null;
  const loadAtStart = os.loadavg()[0]!;
  try {
    const t0 = performance.now();
    cluster = await startCluster();
    const url = await cluster.createDatabase(DB);
    if (STATEMENTS) await enableStatements(cluster);
    await seed(cluster, url);
    dbUrl = url;
    if (RTT_MS > 0) {
      const r = await startRelay(url, RTT_MS);
      relay = r;
      dbUrl = r.url;
    }
    const seedSeconds = round((performance.now() - t0) / 1000, 1);
    const rawCommits = await rawCommitRate(url);
    const pgVersion = (await cluster.query<{ server_version: string }>('SHOW server_version'))[0]!.server_version;
    const c = cluster;
    const head = async () => Number((await c.query<{ seq: string }>('SELECT seq::text FROM change_head WHERE id = 1', [], DB))[0]!.seq);

    const naiveCursors = Array.from({ length: CLIENTS }, () => 0);
    const cursors = Array.from({ length: CLIENTS }, () => 0);
    const statements: Record<string, unknown> = {};

    // The baseline, first run.
    await resetStatements(cluster);
    const naive1 = await naive(dbUrl, naiveCursors);
    statements.naive = await statementsPerClaim(cluster, naive1.claims);

    // One instance, every client on it.
    let [one] = await startInstances(1, null);
    await new Promise((r) => setTimeout(r, 500));
    await resetStatements(cluster);
    let before = [await metricsText(one!.url)];
    const single = await lifecycle([one!.url], cursors);
    const singleGroups = groupStats(before, [await metricsText(one!.url)]);
    statements.oneInstance = await statementsPerClaim(cluster, single.claims);
    await stopAll(servers);
    one = undefined;

    // Two instances (default push interval, 100 ms), half the clients on each.
    const [a, b] = await startInstances(2, null);
    await new Promise((r) => setTimeout(r, 500));
    await resetStatements(cluster);
    before = [await metricsText(a!.url), await metricsText(b!.url)];
    const double = await lifecycle([a!.url, b!.url], cursors);
    const doubleGroups = groupStats(before, [await metricsText(a!.url), await metricsText(b!.url)]);
    statements.twoInstances = await statementsPerClaim(cluster, double.claims);
    await new Promise((r) => setTimeout(r, 1000));

    // Commit-to-push at 100 ms on this pair, then at 25 ms on a new pair; at each, first the rate
    // one instance sustains, then 1,000 claims/s.
    const counter = { n: 0 };
    const pushes: PushFigures[] = [];
    const measurePush = async (a: ServerProcess, b: ServerProcess, interval: number) => {
      for (const rate of [PUSH_PLANT_RATE, PUSH_LOW_RATE, PUSH_RATE]) {
        await resetStatements(cluster!);
        const p = await commitToPush(a, b, interval, rate, counter, head);
        pushes.push(p);
        statements[`push${rate}PerSecAt${interval}ms`] = await statementsPerClaim(cluster!, p.answeredClaims);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await measurePush(a!, b!, PUSH_INTERVALS[0]!);
    await stopAll(servers);
    for (const interval of PUSH_INTERVALS.slice(1)) {
      const [a2, b2] = await startInstances(2, interval);
      await new Promise((r) => setTimeout(r, 500));
      await measurePush(a2!, b2!, interval);
      await stopAll(servers);
    }

    // The baseline, second run (after the servers, so both orders are seen).
    const naive2 = await naive(dbUrl, naiveCursors);
    const bestNaive = naive1.claimsPerSec >= naive2.claimsPerSec ? naive1 : naive2;
    const ratio = round(single.claimsPerSec / bestNaive.claimsPerSec, 2);
    const twoRatio = round(double.claimsPerSec / single.claimsPerSec, 2);
    const twoVsNaive = round(double.claimsPerSec / bestNaive.claimsPerSec, 2);
    const pushKey = (p: PushFigures) => `${p.rate}/s, ${p.pushIntervalMs} ms`;
    const pushRows = Object.fromEntries(
      pushes.map((p) => [
        `commitToPush ${p.rate} claims/s offered, push interval ${p.pushIntervalMs} ms`,
        `p50 ${p.commitToPushP50Ms} ms, p99 ${p.commitToPushP99Ms} ms, max ${p.commitToPushMaxMs} ms (${p.samples} samples, ${p.missed} missed); ` +
          `sent ${p.sentClaimsPerSec}/s (at most ${PUSH_MAX_IN_FLIGHT} waiting; ${p.notSent} not sent), answered ${p.answeredClaimsPerSec}/s, claim p50 ${round(p.claimP50Ms, 1)} / p99 ${round(p.claimP99Ms, 1)} ms, ` +
          `${p.refusedClaims} refused; groups on A ${p.groupsOnA.meanGroupSize} units, ${p.groupsOnA.meanGroupMs} ms`,
      ]),
    );
    const at1000 = (interval: number) => pushes.find((p) => p.rate === PUSH_RATE && p.pushIntervalMs === interval);
    report({
      bench:
        `pg-load: PostgreSQL ${pgVersion} (throwaway cluster, fsync and synchronous_commit on, same machine); ${DEPARTMENTS} departments, ` +
        `${CLIENTS} HTTP API clients (operators, limit 10) each claim -> start -> complete its own tasks for ${PHASE_MS / 1000} s: ` +
        `one instance, two instances (clients split evenly), and a naive baseline (one SELECT ... FOR UPDATE transaction per step, pg Pool of ${CLIENTS}); ` +
        `commit-to-push: ${PUSH_PLANT_RATE}, ${PUSH_LOW_RATE} and ${PUSH_RATE} claims/s (claims only) offered over HTTP on instance A by ${PUSH_OPERATORS} operators, ` +
        `${WATCHERS_PER_DEPARTMENT * DEPARTMENTS} WebSocket terminals (/sync) of the same departments on instance B`,
      figures: {
        serverCode: SERVER_ROOT ?? 'this checkout',
        clients: CLIENTS,
        departments: DEPARTMENTS,
        phaseSeconds: PHASE_MS / 1000,
        databaseReplyDelayMs: RTT_MS,
        commitLanes: LANES[1] ?? 'default (4)',
        // Other work on the machine distorts every figure here: the load average when this began and ended.
        loadAverage1m: `${round(loadAtStart, 2)} at the start, ${round(os.loadavg()[0]!, 2)} at the end (${os.cpus().length} cores)`,
        seedAndClusterSeconds: seedSeconds,
        rawSingleConnectionCommitsPerSec: rawCommits,
        naiveClaimsPerSec: `${naive1.claimsPerSec} then ${naive2.claimsPerSec} (transactions/s ${naive1.opsPerSec}, ${naive2.opsPerSec}; step p99 ${naive1.p99Ms}, ${naive2.p99Ms} ms)`,
        oneInstanceClaimsPerSec: single.claimsPerSec,
        oneInstanceOpsPerSec: single.opsPerSec,
        oneInstanceRequestP50Ms: single.p50Ms,
        oneInstanceRequestP99Ms: single.p99Ms,
        oneInstanceGroups: singleGroups,
        twoInstancesClaimsPerSec: double.claimsPerSec,
        twoInstancesOpsPerSec: double.opsPerSec,
        twoInstancesRequestP50Ms: double.p50Ms,
        twoInstancesRequestP99Ms: double.p99Ms,
        twoInstancesGroups: doubleGroups,
        oneInstanceVsNaive: ratio,
        twoInstancesVsNaive: twoVsNaive,
        twoInstancesVsOne: twoRatio,
        refused: { naive: naive1.refused + naive2.refused, oneInstance: single.refused, twoInstances: double.refused },
        ranOutOfTasks: { naive: naive1.ranOut + naive2.ranOut, oneInstance: single.ranOut, twoInstances: double.ranOut },
        commitToPushP50Ms: Object.fromEntries(pushes.map((p) => [pushKey(p), p.commitToPushP50Ms])),
        commitToPushP99Ms: Object.fromEntries(pushes.map((p) => [pushKey(p), p.commitToPushP99Ms])),
        pushAnsweredClaimsPerSec: Object.fromEntries(pushes.map((p) => [pushKey(p), p.answeredClaimsPerSec])),
        ...pushRows,
        ...(STATEMENTS ? { statements } : {}),
      },
      targets: {
        'one instance vs naive baseline (claims/s)': { target: '>= 5x', met: ratio >= 5 },
        'two instances vs one (claims/s)': { target: '>= 1.6x', met: twoRatio >= 1.6 },
        ...Object.fromEntries(
          PUSH_INTERVALS.map((interval) => [
            `commit-to-push p99 across instances at ${PUSH_RATE} claims/s offered, push interval ${interval} ms`,
            { target: '< 50 ms', met: (at1000(interval)?.commitToPushP99Ms ?? Infinity) < 50 },
          ]),
        ),
      },
    });
  } finally {
    await stopAll(servers);
    relay?.stop();
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
