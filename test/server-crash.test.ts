/**
 * PROTO-7 with a real server process: killed with SIGKILL in the middle of a claim load, it
 * restarts with every acknowledged mutation present exactly once. The kill point (how many claims
 * were acknowledged) and each terminal's order of claims are drawn from KILL_SEED.
 */
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import type { MutationOutcome } from '../src-shared/protocol/terminal.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { KILL_SEED, seededRng, withKillSeed } from './support/kill-seed.js';
import { T0, newUser, taskRow } from './support/plant.js';
import { decisionOf, TestClient } from './support/ws-client.js';
import { startServer } from '../e2e/support/processes.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const server = await startServer(dataDir);
  children.push(server.child);
  return server;
}

const TERMINALS = 8;

describe('server crash', () => {
  it(`PROTO-7 after SIGKILL mid-load, every acknowledged mutation is present exactly once and re-sent mutations never apply twice (KILL_SEED=${KILL_SEED})`, () =>
    withKillSeed(KILL_SEED, async () => {
      const rng = seededRng(KILL_SEED);
      // The kill lands right after this many claims were acknowledged, while the other terminals'
      // pushes are in flight.
      const killAfter = rng.int(150, 450);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-'));
      dirs.push(dataDir);
      const seed = new SqliteServerStore(path.join(dataDir, 'claims.db'));
      await seed.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, T0);
      for (let i = 1; i <= TERMINALS; i++) {
        await seed.createUser(newUser(`op${i}`, { taskLimit: 1000 }), T0);
        await seed.createTerminal({ id: `k${i}`, name: `Kiosk ${i}`, departments: ['cut'], tokenHash: tokenHash(`token-${i}`) }, T0);
      }
      const rows = Array.from({ length: 400 }, (_, i) => taskRow(`t${String(i).padStart(3, '0')}`));
      expect((await seed.importTasks(rows, T0)).ok).toBe(true);
      await seed.close();

      let server = await startProcess(dataDir);
      const wsUrl = `${server.url.replace(/^http/, 'ws')}/sync`;
      const clients: TestClient[] = [];
      for (let i = 1; i <= TERMINALS; i++) {
        const c = await TestClient.connect(wsUrl, { terminalId: `k${i}`, token: `token-${i}` });
        await c.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: `op${i}` }]);
        clients.push(c);
      }
      // Every terminal claims every task, in its own random order, one push after another.
      const sent = clients.map(() => new Map<number, string>());
      const acked = clients.map(() => new Map<number, MutationOutcome>());
      let stop = false;
      let ackedSoFar = 0;
      let killPoint!: () => void;
      const killPointReached = new Promise<void>((resolve) => (killPoint = resolve));
      const orders = clients.map(() => rng.shuffle(rows.map((r) => r.taskId)));
      const loops = clients.map(async (c, i) => {
        const order = orders[i]!;
        let id = 2;
        for (let k = 0; k < order.length && !stop; k += 3) {
          const batch = order.slice(k, k + 3).map((taskId, j) => ({ id: id + j, name: 'claim', args: { taskId }, operatorId: `op${i + 1}` }));
          for (const m of batch) sent[i]!.set(m.id, m.args.taskId);
          id += batch.length;
          try {
            const outs = await c.mutate(batch);
            for (const o of outs) acked[i]!.set(o.id, o);
            ackedSoFar += outs.length;
            if (ackedSoFar >= killAfter) killPoint();
          } catch {
            return; // the server died under us
          }
        }
      });
      const first = await Promise.race([killPointReached.then(() => 'kill point' as const), Promise.all(loops).then(() => 'load ended' as const)]);
      if (first === 'load ended') throw new Error(`the load ended with ${ackedSoFar} claims acknowledged, before the kill point (${killAfter})`);
      server.child.kill('SIGKILL');
      stop = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
      const acknowledged = acked.reduce((n, m) => n + m.size, 0);
      expect(acknowledged).toBeGreaterThanOrEqual(killAfter);

      server = await startProcess(dataDir);
      const wsUrl2 = `${server.url.replace(/^http/, 'ws')}/sync`;
      for (let i = 0; i < TERMINALS; i++) {
        // Reconnect as a terminal that lost every outcome: the server re-sends what it stored.
        const c = await TestClient.connect(wsUrl2, { terminalId: `k${i + 1}`, token: `token-${i + 1}`, lastAckedMutationId: 1 });
        const welcome = c.frames[0]!;
        expect(welcome.type).toBe('welcome');
        const lastProcessed = welcome.type === 'welcome' ? welcome.lastMutationId : 0;
        for (const [id] of acked[i]!) expect(id).toBeLessThanOrEqual(lastProcessed);
        if (lastProcessed > 1) await c.waitFor((f) => f.type === 'results' && f.outcomes.some((o) => o.id === lastProcessed));
        const resent = new Map(c.outcomes().map((o) => [o.id, o]));
        // Stored outcomes are the same decisions, about the same tasks (as they are now).
        for (const [id, outcome] of acked[i]!) expect(decisionOf(resent.get(id)), `terminal k${i + 1} mutation ${id}`).toEqual(decisionOf(outcome));
        // Re-send everything that was sent: processed ones get their stored answer, the rest apply now.
        const again = await c.mutate([...sent[i]!].map(([id, taskId]) => ({ id, name: 'claim', args: { taskId }, operatorId: `op${i + 1}` })));
        for (const o of again) if (acked[i]!.has(o.id)) expect(decisionOf(o)).toEqual(decisionOf(acked[i]!.get(o.id)));
        c.close();
      }
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));

      const db = new Database(path.join(dataDir, 'claims.db'), { readonly: true });
      try {
        const twice = db
          .prepare(`SELECT terminal_id, json_extract(details, '$.mutationId') AS m, COUNT(*) AS n FROM audit_events WHERE via = 'terminal' GROUP BY 1, 2 HAVING n > 1`)
          .all();
        expect(twice).toEqual([]);
        const holders = db.prepare(`SELECT task_id FROM assignments WHERE status = 'accepted' GROUP BY task_id HAVING COUNT(*) > 1`).all();
        expect(holders).toEqual([]);
        const applied = db.prepare(`SELECT COUNT(*) FROM audit_events WHERE via = 'terminal' AND action = 'claim' AND outcome = 'applied'`).pluck().get();
        expect(db.prepare(`SELECT COUNT(*) FROM assignments`).pluck().get()).toBe(applied);
        expect(db.prepare('SELECT COUNT(*) FROM tasks WHERE operator_id IS NOT NULL').pluck().get()).toBe(applied);
      } finally {
        db.close();
      }
    }), 120_000);
});
