/**
 * HTTP on a plant's shape (issue 12): 100 API clients (operators of 4 departments, the default
 * limit of 10), each with its own bearer token over kept-alive connections.
 *
 * Distinct: every client works through its own tasks, claim → start → complete, one request after
 * the other, for BENCH_HTTP_MS (8,000) ms: durable operations/s and claims/s. Measured side by side
 * in the same run on copies of the same database on the same disk: first against the server with
 * group commit off (`start --commit-group-max 1`: every request its own BEGIN IMMEDIATE … COMMIT,
 * fsync'd), then with group commit. Target: >= 4x.
 *
 * Race: 25 teams of 4 clients; each team's four claim the same task at once, task after task
 * (the winner starts and completes it, so limits stay free): exactly one winner per task, every
 * loser 409 `task_conflict` naming the winner; requests/s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { rawFsyncRate, report, round, startServerProcess, summarize, tempDir } from './lib.js';

const CLIENTS = 100;
const DEPARTMENTS = 4;
const TEAM = 4;
const DISTINCT_PER_CLIENT = 400;
const RACE_PER_TEAM = 40;
const PHASE_MS = Number(process.env.BENCH_HTTP_MS ?? 8000);

const distinctTask = (c: number, i: number) => `c${c}-${i}`;
const raceTask = (team: number, i: number) => `r${team}-${i}`;

async function seed(dir: string): Promise<void> {
  const store = new SqliteServerStore(path.join(dir, 'claims.db'), { synchronous: 'NORMAL' });
  const now = Date.now();
  for (let d = 0; d < DEPARTMENTS; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  // A team's four clients share a department, so they can race for its tasks.
  const dept = (c: number) => `d${Math.floor(c / TEAM) % DEPARTMENTS}`;
  for (let c = 0; c < CLIENTS; c++) {
    await store.createUser({ id: `op${c}`, displayName: `Operator ${c}`, roles: ['operator'], departmentIds: [dept(c)], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
    await store.createApiToken({ id: `tok${c}`, userId: `op${c}`, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(`api-token-${c}`) }, now);
  }
  const row = (taskId: string, d: string, i: number): ImportTaskRow => ({
    taskId,
    workOrderNumber: `WO-${taskId.split('-')[0]}-${Math.floor(i / 10)}`,
    workOrderTitle: '',
    step: 'cut',
    workContent: `Cut part ${taskId} to drawing rev B`,
    departmentId: d,
    status: 'pending',
    priority: 0,
    dueAt: null,
    requiredSkills: [],
  });
  const rows: ImportTaskRow[] = [];
  for (let c = 0; c < CLIENTS; c++) for (let i = 0; i < DISTINCT_PER_CLIENT; i++) rows.push(row(distinctTask(c, i), dept(c), i));
  for (let t = 0; t < CLIENTS / TEAM; t++) for (let i = 0; i < RACE_PER_TEAM; i++) rows.push(row(raceTask(t, i), dept(t * TEAM), i));
  for (let i = 0; i < rows.length; i += 10_000) if (!(await store.importTasks(rows.slice(i, i + 10_000), now)).ok) throw new Error('seed failed');
  await store.close();
}

async function post(url: string, client: number, taskId: string, op: string): Promise<{ status: number; body: { code?: string; currentOwner?: { id: string } } }> {
  const res = await fetch(`${url}/api/tasks/${taskId}/${op}`, { method: 'POST', headers: { authorization: `Bearer api-token-${client}` } });
  return { status: res.status, body: (await res.json()) as { code?: string; currentOwner?: { id: string } } };
}

/** Every client claims, starts and completes its own tasks until the phase ends. */
async function distinct(url: string): Promise<{ opsPerSec: number; claimsPerSec: number; p50Ms: number; p99Ms: number; refused: number }> {
  let ops = 0;
  let claims = 0;
  let refused = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + PHASE_MS;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < DISTINCT_PER_CLIENT && performance.now() < end; i++) {
        for (const op of ['claim', 'start', 'complete']) {
          const t = performance.now();
          const r = await post(url, c, distinctTask(c, i), op);
          latencies.push(performance.now() - t);
          if (r.status !== 200) refused++;
          ops++;
          if (op === 'claim') claims++;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  const lat = summarize(latencies);
  return { opsPerSec: Math.round((ops / elapsed) * 1000), claimsPerSec: Math.round((claims / elapsed) * 1000), p50Ms: lat.p50, p99Ms: lat.p99, refused };
}

/** Each team's four race for every task of theirs; the winner finishes it. */
async function race(url: string): Promise<{ requestsPerSec: number; tasks: number; winners: number; conflictsNamingWinner: number; otherAnswers: number }> {
  let requests = 0;
  let winners = 0;
  let named = 0;
  let other = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS / TEAM }, async (_, team) => {
      for (let i = 0; i < RACE_PER_TEAM; i++) {
        const taskId = raceTask(team, i);
        const members = Array.from({ length: TEAM }, (_, m) => team * TEAM + m);
        const answers = await Promise.all(members.map((c) => post(url, c, taskId, 'claim')));
        requests += TEAM;
        const won = members.filter((_, k) => answers[k]!.status === 200);
        if (won.length !== 1) {
          other += TEAM;
          continue;
        }
        winners++;
        const winner = `op${won[0]}`;
        for (const a of answers) {
          if (a.status === 200) continue;
          if (a.status === 409 && a.body.code === 'task_conflict' && a.body.currentOwner?.id === winner) named++;
          else other++;
        }
        for (const op of ['start', 'complete']) {
          if ((await post(url, won[0]!, taskId, op)).status !== 200) other++;
          requests++;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  return { requestsPerSec: Math.round((requests / elapsed) * 1000), tasks: (CLIENTS / TEAM) * RACE_PER_TEAM, winners, conflictsNamingWinner: named, otherAnswers: other };
}

export async function run(): Promise<void> {
  const dir = tempDir('http-load');
  try {
    const seeded = path.join(dir, 'seeded');
    await seed(seeded);
    const copy = (name: string) => {
      const to = path.join(dir, name);
      fs.cpSync(seeded, to, { recursive: true });
      return to;
    };
    const raw = rawFsyncRate(dir, 1000);
    // The baseline first: the same server with group commit off, every request its own fsync'd transaction.
    let server = await startServerProcess(copy('one-per-request'), { args: ['--commit-group-max', '1'] });
    let baseline: Awaited<ReturnType<typeof distinct>>;
    try {
      baseline = await distinct(server.url);
    } finally {
      await server.stop();
    }
    server = await startServerProcess(copy('group-commit'));
    let grouped: Awaited<ReturnType<typeof distinct>>;
    let raced: Awaited<ReturnType<typeof race>>;
    try {
      grouped = await distinct(server.url);
      raced = await race(server.url);
    } finally {
      await server.stop();
    }
    const ratio = round(grouped.opsPerSec / baseline.opsPerSec, 2);
    const expectedConflicts = raced.tasks * (TEAM - 1);
    report({
      bench: `http-load: ${CLIENTS} API clients of ${DEPARTMENTS} departments (limit 10), claim -> start -> complete over HTTP, and teams of ${TEAM} racing for each task`,
      figures: {
        clients: CLIENTS,
        rawFsyncTxPerSec: raw.txPerSec,
        onePerRequestOpsPerSec: baseline.opsPerSec,
        onePerRequestClaimsPerSec: baseline.claimsPerSec,
        onePerRequestP99Ms: baseline.p99Ms,
        groupCommitOpsPerSec: grouped.opsPerSec,
        groupCommitClaimsPerSec: grouped.claimsPerSec,
        groupCommitP50Ms: grouped.p50Ms,
        groupCommitP99Ms: grouped.p99Ms,
        ratioToOnePerRequest: ratio,
        refusedInDistinct: baseline.refused + grouped.refused,
        race: raced,
      },
      targets: {
        'group commit vs one transaction per request': { target: '>= 4x', met: ratio >= 4 },
        'race: one winner per task, every loser 409 naming the winner': {
          target: `${raced.tasks} winners, ${expectedConflicts} conflicts`,
          met: raced.winners === raced.tasks && raced.conflictsNamingWinner === expectedConflicts && raced.otherAnswers === 0,
        },
      },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
