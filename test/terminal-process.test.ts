/**
 * Real processes on loopback: the sync server (`cli.js start`) and browser-hosted terminals
 * (`host-cli.js`), driven through the terminal's own API bridge. A loopback TCP proxy cuts one
 * terminal off while the server and the other terminals stay up.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { PLANT, seedPlant, type KioskId } from '../e2e/support/plant.js';
import { startProcess, startServer, startTerminalHost, type RunningProcess } from '../e2e/support/processes.js';
import { BridgeClient, BridgeError } from './support/bridge-client.js';
import { KILL_SEED, seededRng, withKillSeed } from './support/kill-seed.js';
import { taskRow } from './support/plant.js';
import { TcpProxy } from './support/tcp-proxy.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function plant(extraTasks = 12): Promise<string> {
  const dir = tmp('srv');
  await seedPlant(dir);
  const store = new SqliteServerStore(path.join(dir, 'claims.db'));
  await store.importTasks(Array.from({ length: extraTasks }, (_, i) => taskRow(`x${String(i).padStart(2, '0')}`)), Date.now());
  await store.updateUser('ann', { taskLimit: 50 }, Date.now());
  await store.close();
  return dir;
}

async function server(dataDir: string): Promise<RunningProcess> {
  const s = await startServer(dataDir);
  cleanups.push(() => s.stop());
  return s;
}

async function terminal(kiosk: KioskId, serverUrl: string, dataDir = tmp(`term-${kiosk}`), waitOnline = true) {
  const t = PLANT.terminals[kiosk];
  const host = await startTerminalHost({ dataDir, enrollment: { serverUrl, terminalId: t.id, token: t.token } });
  const api = await BridgeClient.open(host.url);
  cleanups.push(async () => {
    api.close();
    await host.stop();
  });
  if (waitOnline) await api.until((s) => s.sync.status === 'online', `${kiosk} online`);
  return { host, api, dataDir };
}

function serverDb(dataDir: string): Database.Database {
  const db = new Database(path.join(dataDir, 'claims.db'), { readonly: true });
  cleanups.push(() => void db.close());
  return db;
}

/** Poll the signed-in operator's active-task count at a terminal (CAP-3) until it is `n`. */
async function activeBecomes(api: BridgeClient, n: number, kiosk: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { workload } = await api.call('listMine');
    if (workload?.active === n) return;
    if (Date.now() > deadline) throw new Error(`${kiosk} never counted ${n} active tasks: ${JSON.stringify(workload)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('terminal processes', () => {
  it(`OFF-2 PROTO-5 a terminal killed with SIGKILL among ten queued claims restarts with every one queued and delivers each of the ten exactly once (KILL_SEED=${KILL_SEED})`, () =>
    withKillSeed(KILL_SEED, async () => {
      // The kill lands after the k-th of the ten offline claims (k drawn from KILL_SEED); the
      // restarted terminal, still offline, queues the rest after the ones it kept.
      const killAfter = seededRng(KILL_SEED).int(1, 10);
      const dataDir = await plant();
      const srv = await server(dataDir);
      const proxy = await TcpProxy.start(Number(new URL(srv.url).port));
      cleanups.push(() => proxy.close());
      const a = await terminal('k1', proxy.url);
      await a.api.call('signIn', { badge: PLANT.operators.ann.badge });
      await a.api.until((s) => s.sync.pending === 0, 'the sign-in to be sent');
      proxy.cut();
      await a.api.until((s) => s.sync.status === 'offline', 'k1 offline');
      const claimed = (await a.api.call('listClaimable', { offset: 0, limit: 10 })).items.map((t) => t.id);
      expect(claimed).toHaveLength(10);
      for (const taskId of claimed.slice(0, killAfter)) await a.api.call('claim', { taskId });
      expect((await a.api.call('getSnapshot')).sync.pending).toBe(killAfter);
      a.host.child.kill('SIGKILL');
      await new Promise((r) => a.host.child.once('exit', r));

      const again = await terminal('k1', proxy.url, a.dataDir, false);
      await again.api.until((s) => s.sync.status === 'offline', 'k1 offline after the restart');
      expect((await again.api.call('getSnapshot')).sync.pending).toBe(killAfter);
      for (const taskId of claimed.slice(killAfter)) await again.api.call('claim', { taskId });
      expect((await again.api.call('getSnapshot')).sync.pending).toBe(10);
      proxy.restore();
      await again.api.until((s) => s.sync.pending === 0, 'the ten claims to be delivered');
      const db = serverDb(dataDir);
      const audit = db
        .prepare(`SELECT json_extract(details, '$.mutationId') AS m, outcome, task_id AS t FROM audit_events WHERE terminal_id = 'k1' AND action = 'claim' ORDER BY id`)
        .all() as Array<{ m: number; outcome: string; t: string }>;
      expect(audit.map((r) => r.t)).toEqual(claimed);
      expect(new Set(audit.map((r) => r.m)).size).toBe(10);
      expect(audit.every((r) => r.outcome === 'applied')).toBe(true);
      expect(db.prepare(`SELECT COUNT(*) FROM tasks WHERE operator_id = 'ann'`).pluck().get()).toBe(10);
    }));

  it('OFF-1 an operator signs in while the server is down; the sign-in reaches the server when it is back', async () => {
    const dataDir = await plant(0);
    const srv = await server(dataDir);
    const port = Number(new URL(srv.url).port);
    const a = await terminal('k1', srv.url);
    await srv.stop();
    await a.api.until((s) => s.sync.status !== 'online', 'k1 to notice the server is gone');
    const session = await a.api.call('signIn', { badge: PLANT.operators.ann.badge });
    expect(session).toMatchObject({ userId: 'ann', displayName: 'Ann Lee' });
    await a.api.call('claim', { taskId: 't1' });
    expect((await a.api.call('getSnapshot')).sync.pending).toBe(2);
    // Bring the server back on the same port the terminal knows.
    const back = await startProcess('sync server', 'out/node/src-server/cli.js', ['start', '--data', dataDir, '--port', String(port), '--host', '127.0.0.1'], 'sync server listening');
    cleanups.push(() => back.stop());
    await a.api.until((s) => s.sync.pending === 0 && s.sync.status === 'online', 'the queue to drain');
    const db = serverDb(dataDir);
    expect(db.prepare(`SELECT user_id FROM presence WHERE terminal_id = 'k1'`).pluck().get()).toBe('ann');
    expect(db.prepare(`SELECT operator_id FROM tasks WHERE id = 't1'`).pluck().get()).toBe('ann');
  });

  it('OFF-4 CLM-7 A claims offline, B claims the same task online: on reconnect A is refused, shows B as owner and keeps a conflict record naming B', async () => {
    const dataDir = await plant(0);
    const srv = await server(dataDir);
    const proxy = await TcpProxy.start(Number(new URL(srv.url).port));
    cleanups.push(() => proxy.close());
    const a = await terminal('k1', proxy.url);
    const b = await terminal('k2', srv.url);
    await a.api.call('signIn', { badge: PLANT.operators.ann.badge });
    await b.api.call('signIn', { badge: PLANT.operators.fang.badge });
    await a.api.until((s) => s.sync.pending === 0, 'A sign-in sent');
    proxy.cut();
    await a.api.until((s) => s.sync.status === 'offline', 'A offline');
    expect((await a.api.call('claim', { taskId: 't2' })).result).toBe('queued');
    await b.api.call('claim', { taskId: 't2' });
    await b.api.until((s) => s.sync.pending === 0, 'B claim confirmed');
    proxy.restore();
    await a.api.until((s) => s.sync.pending === 0 && s.openConflicts === 1, 'A to hear the refusal');
    const [conflict] = await a.api.call('listConflicts');
    expect(conflict).toMatchObject({ operation: 'claim', taskId: 't2', currentOwner: { id: 'fang', name: '王芳' }, error: { code: 'task_conflict' } });
    expect(conflict!.error.message).toContain('王芳');
    expect((await a.api.call('listMine')).tasks.map((t) => t.id)).not.toContain('t2');
    expect((await a.api.call('listClaimable', { offset: 0, limit: 50 })).items.map((t) => t.id)).not.toContain('t2');
  });

  it('CAP-3 OFF-3 one operator at two kiosks of different departments: the Cutting kiosk counts her Quality tasks, refuses a claim past her limit at once with nothing queued, and the server agrees', async () => {
    const dataDir = await plant(0);
    // An API token for mia, to ask the server itself.
    const store = new SqliteServerStore(path.join(dataDir, 'claims.db'));
    const miaToken = 'api_test_mia_cap3';
    await store.createApiToken({ id: 'tok-mia', userId: 'mia', name: 'test', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(miaToken) }, Date.now());
    await store.close();
    const srv = await server(dataDir);
    const cut = await terminal('k1', srv.url);
    const qa = await terminal('k3', srv.url);
    const { mia } = PLANT.operators;

    await qa.api.call('signIn', { badge: mia.badge });
    for (const taskId of ['q1', 'q2']) expect((await qa.api.call('claim', { taskId })).result).toBe('queued');
    await qa.api.until((s) => s.sync.pending === 0, 'the Quality claims to be confirmed');
    await cut.api.call('signIn', { badge: mia.badge });
    expect((await cut.api.call('claim', { taskId: 't1' })).result).toBe('queued');
    await cut.api.until((s) => s.sync.pending === 0, 'the Cutting claim to be confirmed');

    await activeBecomes(cut.api, 3, 'k1');
    expect((await cut.api.call('listMine')).workload).toEqual({ active: 3, limit: mia.taskLimit, limits: { cut: mia.taskLimit } });
    const refused = await cut.api.call('claim', { taskId: 't2' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BridgeError);
    expect((refused as BridgeError).data).toMatchObject({ code: 'capacity_reached', details: { count: 3, limit: 3 } });
    expect((await cut.api.call('getSnapshot')).sync.pending).toBe(0);
    expect((await cut.api.call('listClaimable', { offset: 0, limit: 50 })).items.map((t) => t.id)).toContain('t2');
    await activeBecomes(qa.api, 3, 'k3');

    // The server agrees.
    const db = serverDb(dataDir);
    expect(db.prepare(`SELECT COUNT(*) FROM tasks WHERE operator_id = 'mia' AND status IN ('pending', 'in_progress')`).pluck().get()).toBe(3);
    expect(db.prepare(`SELECT operator_id FROM tasks WHERE id = 't2'`).pluck().get()).toBeNull();
    const res = await fetch(`${srv.url}/api/tasks/t2/claim`, { method: 'POST', headers: { authorization: `Bearer ${miaToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'capacity_reached', details: { count: 3, limit: 3 } });
  });
});
