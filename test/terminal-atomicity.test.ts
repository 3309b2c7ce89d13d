/**
 * OFF-2 exhaustively: a terminal's process dies before each write statement of a task operation in
 * turn (the store's fault hook stops it there; a transaction in progress rolls back, as after a
 * pulled plug). Whatever the point, the restarted terminal shows the operation's effect exactly
 * when its outbox entry is there, and delivers it once when the link is back. A terminal that
 * wrote the effect and the outbox entry in two transactions fails here (and in the simulation's
 * crash seeds).
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TERMINAL_TOKEN } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';

class Died extends Error {}

let server: TestServer;
let proxy: TcpProxy;
let current: TestTerminal | null = null;

beforeEach(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
});
afterEach(async () => {
  if (current) {
    current.close();
    fs.rmSync(current.dataDir, { recursive: true, force: true });
    current = null;
  }
  await proxy.close();
  await server.stop();
});

/** The tasks whose shown state differs from the server's last word, those with outbox entries, and those whose word is kept apart. */
function shownVsQueued(t: TestTerminal): { changed: string[]; queued: string[]; keptApart: string[] } {
  const db = t.core.store.db;
  const changed = db
    .prepare(
      // The server's word of a task is kept apart from its shown row only while it is changed locally.
      `SELECT b.id FROM tasks_base b LEFT JOIN tasks t ON t.id = b.id
       WHERE t.id IS NULL OR t.version <> b.version OR t.status <> b.status OR COALESCE(t.operator_id, '') <> COALESCE(b.operator_id, '')
       ORDER BY b.id`,
    )
    .pluck()
    .all() as string[];
  const queued = db.prepare('SELECT DISTINCT task_id FROM outbox WHERE task_id IS NOT NULL ORDER BY task_id').pluck().all() as string[];
  // A word kept apart with no entry waiting would shadow the server's later words of that task.
  const keptApart = db.prepare('SELECT id FROM tasks_base ORDER BY id').pluck().all() as string[];
  return { changed, queued, keptApart };
}

describe('OFF-2 a crash between any two statements of an operation', () => {
  it.each([
    ['claim', (t: TestTerminal) => t.core.claim({ taskId: 't1' })],
    ['release', (t: TestTerminal) => t.core.release({ taskId: 't3' })],
    ['reject', (t: TestTerminal) => t.core.reject({ taskId: 't3', reason: 'wrong material' })],
  ] as const)('OFF-2 %s: the restarted terminal shows the effect exactly when its outbox entry is there, and delivers it once', async (name, operate) => {
    current = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN });
    await waitOnline(current);
    await current.core.signIn({ badge: 'B-ANN' });
    if (name !== 'claim') {
      await current.core.claim({ taskId: 't3' });
      await waitDrained(current);
    }
    proxy.cut();
    await current.waitFor(() => current!.core.syncStatus().status !== 'online', 'offline');
    const queuedBefore = current.core.store.outboxSize();

    let completed = false;
    for (let k = 1; k <= 40 && !completed; k++) {
      let writes = 0;
      let dead = false;
      current.core.store.faultHook = () => {
        if (dead || ++writes >= k) {
          dead = true;
          throw new Died(`died before write ${k}`);
        }
      };
      try {
        await operate(current);
        completed = !dead;
      } catch (err) {
        if (!(err instanceof Died)) throw err;
      }
      // The process is gone; a new one opens the same files.
      current.core.store.faultHook = () => {
        throw new Died('dead');
      };
      const dataDir = current.dataDir;
      try {
        current.close();
      } catch (err) {
        if (!(err instanceof Died)) throw err;
      }
      current.core.store.faultHook = null;
      current.core.store.close();
      current = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, dataDir });
      const { changed, queued, keptApart } = shownVsQueued(current);
      expect(changed, `${name}, died before write ${k}`).toEqual(queued);
      expect(keptApart, `${name}, died before write ${k}`).toEqual(queued);
      const entries = current.core.store.outboxSize() - queuedBefore;
      expect(entries, `${name}, died before write ${k}`).toBe(completed || changed.length > 0 ? 1 : 0);
      if (entries === 1) completed = true;
    }
    expect(completed, `${name} never completed within 40 writes`).toBe(true);

    // Back online: the one entry is delivered once and the server agrees.
    proxy.restore();
    await waitOnline(current);
    await waitDrained(current);
    const task = await server.store.getTask(name === 'claim' ? 't1' : 't3', server.clock.now());
    expect(task!.operatorId).toBe(name === 'claim' ? 'ann' : null);
  });
});
