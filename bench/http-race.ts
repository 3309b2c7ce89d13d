/**
 * HTTP (issue 3): 100 concurrent clients claim the same 1,000 tasks, each client every task in its
 * own random order. Exactly one winner per task; every other answer a 409 naming that winner.
 * Reports requests per second.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { report, round, startServerProcess, summarize, tempDir } from './lib.js';

const CLIENTS = 100;
const TASKS = Number(process.env.BENCH_HTTP_TASKS ?? 1000);

export async function run(): Promise<void> {
  const dir = tempDir('http');
  const store = new SqliteServerStore(path.join(dir, 'claims.db'), { synchronous: 'NORMAL' });
  const now = Date.now();
  await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
  for (let c = 0; c < CLIENTS; c++) {
    await store.createUser({ id: `op${c}`, displayName: `Operator ${c}`, roles: ['operator'], departmentIds: ['cut'], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: TASKS, skills: [], qualityScore: 0.5 }, now);
    await store.createApiToken({ id: `tok${c}`, userId: `op${c}`, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(`api-token-${c}`) }, now);
  }
  const rows = Array.from({ length: TASKS }, (_, i) => ({ taskId: `t${i}`, workOrderNumber: `WO-${Math.floor(i / 10)}`, workOrderTitle: '', step: 'cut', workContent: `Part ${i}`, departmentId: 'cut', status: 'pending' as const, priority: 0, dueAt: null, requiredSkills: [] }));
  if (!(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
  await store.close();
  const server = await startServerProcess(dir);
  try {
    const winners = new Map<string, string>();
    const conflicts: Array<{ task: string; owner: string }> = [];
    const latencies: number[] = [];
    let other = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const order = rows.map((r) => r.taskId).sort(() => Math.random() - 0.5);
        for (const taskId of order) {
          const t = performance.now();
          const res = await fetch(`${server.url}/api/tasks/${taskId}/claim`, { method: 'POST', headers: { authorization: `Bearer api-token-${c}` } });
          const body = (await res.json()) as { code?: string; currentOwner?: { id: string } };
          latencies.push(performance.now() - t);
          if (res.status === 200) {
            if (winners.has(taskId)) throw new Error(`task ${taskId} has two winners`);
            winners.set(taskId, `op${c}`);
          } else if (res.status === 409 && body.code === 'task_conflict' && body.currentOwner) conflicts.push({ task: taskId, owner: body.currentOwner.id });
          else other++;
        }
      }),
    );
    const elapsed = performance.now() - start;
    const requests = CLIENTS * TASKS;
    const namedRight = conflicts.every((c) => winners.get(c.task) === c.owner);
    const lat = summarize(latencies);
    report({
      bench: 'http-race: 100 clients claiming the same tasks over HTTP',
      figures: {
        clients: CLIENTS,
        tasks: TASKS,
        requests,
        requestsPerSec: Math.round((requests / elapsed) * 1000),
        seconds: round(elapsed / 1000, 1),
        winners: winners.size,
        conflicts409: conflicts.length,
        otherAnswers: other,
        everyConflictNamesTheWinner: namedRight,
        latencyP50Ms: lat.p50,
        latencyP99Ms: lat.p99,
      },
      targets: {
        'exactly one winner per task': { target: `${TASKS} winners`, met: winners.size === TASKS },
        'every other answer a 409 naming the winner': { target: `${requests - TASKS} conflicts`, met: conflicts.length === requests - TASKS && namedRight && other === 0 },
      },
    });
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
