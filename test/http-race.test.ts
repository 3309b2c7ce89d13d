/**
 * CLM-9 over HTTP: 100 concurrent clients, each an operator with its own token, claim the same 25
 * tasks in their own random order. Exactly one claim per task wins; every other answer is a 409
 * task_conflict naming that winner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitter } from '../src-server/engine/committer.js';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { rng, shuffled } from './support/random.js';

const CLIENTS = 100;
const TASKS = 25;

interface Answer {
  client: string;
  taskId: string;
  status: number;
  body: { ok?: boolean; code?: string; currentOwner?: { id: string; name: string }; taskId?: string; details?: { currentOwner?: { id: string } } };
}

describe('the concurrent claim race over HTTP', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it(`CLM-9 ${CLIENTS} clients claiming the same ${TASKS} tasks: one winner per task, every other answer a 409 naming it`, { timeout: 120_000 }, async () => {
    const now = server.clock.now();
    const operators = Array.from({ length: CLIENTS }, (_, i) => `r${String(i).padStart(3, '0')}`);
    const tokens = new Map<string, string>();
    for (const id of operators) {
      // A high limit, so capacity (CLM-4) never decides.
      await server.store.createUser(newUser(id, { departmentIds: ['cut'], taskLimit: 1000 }), now);
      const token = `api_race_${id}`;
      await server.store.createApiToken({ id: `tok-${id}`, userId: id, name: 'race', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token) }, now);
      tokens.set(id, token);
    }
    const taskIds = Array.from({ length: TASKS }, (_, i) => `race-${i}`);
    const imported = await server.store.importTasks(taskIds.map((id) => taskRow(id, { workOrderNumber: 'WO-RACE' })), now);
    expect(imported.ok).toBe(true);

    const answers: Answer[] = [];
    const started = performance.now();
    await Promise.all(
      operators.map(async (client, n) => {
        for (const taskId of shuffled(taskIds, rng(n + 1))) {
          const res = await fetch(`${server.url}/api/tasks/${taskId}/claim`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tokens.get(client)}`, 'content-type': 'application/json' },
            body: '{}',
          });
          answers.push({ client, taskId, status: res.status, body: (await res.json()) as Answer['body'] });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`CLM-9 race: ${answers.length} HTTP claims in ${seconds.toFixed(2)} s (${Math.round(answers.length / seconds)} req/s)`);

    expect(answers).toHaveLength(CLIENTS * TASKS);
    // The claims really met: the committer put several into one transaction.
    const committer = server.ctx.committer;
    expect(committer).toBeInstanceOf(GroupCommitter);
    expect((committer as GroupCommitter).stats.largestGroup).toBeGreaterThan(1);
    for (const taskId of taskIds) {
      const mine = answers.filter((a) => a.taskId === taskId);
      const winners = mine.filter((a) => a.status === 200);
      expect(winners, `winners of ${taskId}`).toHaveLength(1);
      const winner = winners[0]!.client;
      expect(winners[0]!.body).toMatchObject({ ok: true, alreadyClaimed: false });
      for (const loser of mine.filter((a) => a.status !== 200)) {
        expect(loser.status).toBe(409);
        expect(loser.body).toMatchObject({ code: 'task_conflict', taskId, currentOwner: { id: winner, name: `Name ${winner}` } });
        expect(loser.body.details!.currentOwner!.id).toBe(winner);
      }
      const stored = await server.store.getTask(taskId, server.clock.now());
      expect(stored).toMatchObject({ operatorId: winner, version: 2 });
      expect(await server.store.listAssignments(taskId)).toHaveLength(1);
    }
    const claims = (await server.store.listAudit({ limit: CLIENTS * TASKS + 100 })).filter((e) => e.action === 'claim');
    expect(claims.filter((e) => e.outcome === 'applied')).toHaveLength(TASKS);
    expect(claims.filter((e) => e.outcome === 'task_conflict')).toHaveLength(CLIENTS * TASKS - TASKS);
  });
});
