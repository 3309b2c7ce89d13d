/**
 * SYNC-1 OFF-2 with a real terminal process killed by SIGKILL while it applies a large snapshot
 * (20,000 tasks, ten pages): at whatever moment it dies, its database never holds a cursor ahead
 * of the data it applied, and once restarted it converges to the server. The kill moments come
 * from a seeded random source (KILL_SEED to replay one; the seed is printed and in the test name).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { PLANT, seedPlant } from '../e2e/support/plant.js';
import { startServer, startTerminalHost, type RunningProcess } from '../e2e/support/processes.js';
import { BridgeClient } from './support/bridge-client.js';
import { taskRow } from './support/plant.js';
import { KILL_SEED, seededRng } from './support/kill-seed.js';

const TASKS = 20_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the terminal's database holds right now: its cursor and how many of the department's tasks. */
function terminalState(dataDir: string): { cursor: number | null; tasks: number } {
  const db = new Database(path.join(dataDir, 'terminal.db'), { readonly: true, fileMustExist: true });
  try {
    const cursor = db.prepare("SELECT value FROM meta WHERE key = 'cursor'").pluck().get() as string | undefined;
    const tasks = db.prepare("SELECT COUNT(*) FROM tasks WHERE id LIKE 'big%'").pluck().get() as number;
    return { cursor: cursor === undefined ? null : (JSON.parse(cursor) as number | null), tasks };
  } finally {
    db.close();
  }
}

describe('a terminal killed while it applies a large page', () => {
  it(`SYNC-1 OFF-2 SIGKILL at three seeded moments of a 20,000-task snapshot: never a cursor ahead of its data; after a restart it converges (KILL_SEED=${KILL_SEED})`, async () => {
    console.log(`terminal-kill-page: KILL_SEED=${KILL_SEED}`);
    const rng = seededRng(KILL_SEED);
    const serverDir = tmp('srv');
    await seedPlant(serverDir);
    const store = new SqliteServerStore(path.join(serverDir, 'claims.db'));
    const rows = Array.from({ length: TASKS }, (_, i) => taskRow(`big${i}`, { workOrderNumber: `WO-BIG-${Math.floor(i / 50)}` }));
    const imported = await store.importTasks(rows, Date.now());
    expect(imported.ok).toBe(true);
    await store.close();
    const server: RunningProcess = await startServer(serverDir);
    cleanups.push(() => server.stop());
    const kiosk = PLANT.terminals.k1;
    const enrollment = { serverUrl: server.url, terminalId: kiosk.id, token: kiosk.token };
    const dataDir = tmp('term');

    const states: Array<{ killAfterMs: number; cursor: number | null; tasks: number }> = [];
    for (let round = 0; round < 3; round++) {
      const host = await startTerminalHost({ dataDir, enrollment });
      const started = Date.now();
      if (round === 0) {
        // The first kill lands inside the snapshot for sure: once a seeded number of its tasks is stored.
        const target = rng.int(2_000, 15_000);
        const deadline = started + 60_000;
        for (;;) {
          let now = { cursor: null as number | null, tasks: 0 };
          try {
            now = terminalState(dataDir);
          } catch {
            // Not created, or its tables not made yet.
          }
          if (now.tasks >= target || now.cursor !== null || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 5));
        }
      } else {
        // Later ones at a seeded moment: somewhere in the snapshot started again, or after it.
        await new Promise((r) => setTimeout(r, rng.int(100, 1600)));
      }
      const killAfterMs = Date.now() - started;
      host.child.kill('SIGKILL');
      await new Promise<void>((resolve) => (host.child.exitCode !== null || host.child.signalCode !== null ? resolve() : host.child.once('exit', () => resolve())));
      const state = terminalState(dataDir);
      states.push({ killAfterMs, ...state });
      // The cursor is stored in the transaction of the page it ends: a cursor means every task is there.
      if (state.cursor !== null) expect(state.tasks, `round ${round}, killed after ${killAfterMs} ms (KILL_SEED=${KILL_SEED})`).toBe(TASKS);
    }

    console.log(`terminal-kill-page: kills ${JSON.stringify(states)}`);
    // The first kill came in the middle of the snapshot: some pages stored, no cursor yet.
    expect(states[0]!.cursor, `kills ${JSON.stringify(states)}`).toBeNull();
    expect(states[0]!.tasks).toBeGreaterThan(0);
    expect(states[0]!.tasks).toBeLessThan(TASKS);
    const host = await startTerminalHost({ dataDir, enrollment });
    const api = await BridgeClient.open(host.url);
    cleanups.push(async () => {
      api.close();
      await host.stop();
    });
    await api.until((s) => s.sync.status === 'online' && s.sync.pending === 0, 'the terminal online again', 60_000);
    const deadline = Date.now() + 60_000;
    while (terminalState(dataDir).tasks < TASKS || terminalState(dataDir).cursor === null) {
      if (Date.now() > deadline) throw new Error(`never converged: ${JSON.stringify(terminalState(dataDir))}; kills ${JSON.stringify(states)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(terminalState(dataDir).tasks).toBe(TASKS);
  }, 180_000);
});
