/**
 * PROTO-5 OFF-2 OFF-4: a terminal database restored from a backup or a VM snapshot (or a kiosk put
 * back after a spare ran as its id) is behind the server's numbering for its terminal id. Its new
 * actions must still reach the server, each answered by its own outcome, never by the stored
 * outcome of another database's mutation under the same id.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseFiles } from '../src-main/core/store.js';
import { hashSecret } from '../src-shared/crypto/hash.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestClient } from './support/ws-client.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';

let server: TestServer;
let proxy: TcpProxy;
const open: TestTerminal[] = [];
const dirs: string[] = [];

beforeEach(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
});
afterEach(async () => {
  for (const t of open.splice(0)) t.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  await proxy.close();
  await server.stop();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'term-restored-'));
  dirs.push(d);
  return d;
}

async function kiosk(dataDir: string, online = true): Promise<TestTerminal> {
  const t = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, dataDir });
  open.push(t);
  if (online) await waitOnline(t);
  return t;
}

function close(t: TestTerminal): void {
  open.splice(open.indexOf(t), 1);
  t.close();
}

/** A copy of a closed terminal's database, as a backup or a VM snapshot keeps it. */
function backup(from: string): string {
  const to = tmp();
  for (const f of databaseFiles(path.join(from, 'terminal.db'))) if (fs.existsSync(f)) fs.copyFileSync(f, path.join(to, path.basename(f)));
  return to;
}

const serverTask = (id: string) => server.store.getTask(id, server.clock.now());

/**
 * k1 signs ann in (1) and claims t1 (2); a backup of its database is taken; it does `later` (by
 * default claims t2 (3) and t3 (4)), all processed. Returns the backup's folder, whose database numbered only up to 2.
 */
async function restoredAfterFour(
  later = async (a: TestTerminal) => {
    await a.core.claim({ taskId: 't2' }); // 3
    await a.core.claim({ taskId: 't3' }); // 4
  },
): Promise<string> {
  const dirA = tmp();
  let a = await kiosk(dirA);
  await a.core.signIn({ badge: 'B-ANN' }); // 1
  await a.core.claim({ taskId: 't1' }); // 2
  await waitDrained(a);
  close(a);
  const dirB = backup(dirA);
  a = await kiosk(dirA);
  await later(a);
  await waitDrained(a);
  close(a);
  return dirB;
}

describe('PROTO-5 a restored terminal database', () => {
  it('PROTO-5 OFF-2 an action made on a database restored from a backup, after the server processed later ids of the terminal, is sent and applied, not answered with another mutation\u2019s outcome', async () => {
    const dirB = await restoredAfterFour();
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(4);

    // The backup comes back into service while the link is down: the release is queued at once.
    proxy.cut();
    const b = await kiosk(dirB, false);
    expect((await b.core.release({ taskId: 't1' })).result).toBe('queued');
    proxy.restore();
    await b.waitFor(async () => (await serverTask('t1'))!.operatorId === null, 'the server to apply the release of t1', 5000);
    await waitDrained(b);
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(5);
    expect(b.core.store.outcome(5)).toMatchObject({ status: 'applied' });
    expect(b.core.store.task('t1')).toMatchObject({ operatorId: null, status: 'pending' });
    expect((await serverTask('t2'))!.operatorId).toBe('ann');
    expect(await b.core.listConflicts()).toEqual([]);

    // The next action after the welcome follows the server's numbering too.
    await b.core.release({ taskId: 't2' });
    await waitDrained(b);
    expect((await serverTask('t2'))!.operatorId).toBeNull();
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(6);
  });

  it('PROTO-5 OFF-2 an action made online on a restored database gets an id the server has not processed; after a restart no stored outcome of another mutation takes it', async () => {
    const dirB = await restoredAfterFour();

    let b = await kiosk(dirB);
    await b.core.release({ taskId: 't1' });
    expect(b.core.store.firstOutboxId()).toBe(5);
    await b.waitFor(async () => (await serverTask('t1'))!.operatorId === null, 'the server to apply the release of t1', 5000);
    await waitDrained(b);
    expect(b.core.store.outcome(5)).toMatchObject({ status: 'applied' });
    close(b);
    // The server replays its stored outcomes after the next welcome (PROTO-5): none is taken as ours.
    b = await kiosk(dirB);
    await waitDrained(b);
    expect((await serverTask('t1'))!.operatorId).toBeNull();
    expect((await serverTask('t2'))!.operatorId).toBe('ann');
    expect(b.core.store.task('t1')).toMatchObject({ operatorId: null });
  });

  it('PROTO-5 OFF-4 an action of a restored database that the server refuses when it is re-sent shows as a conflict naming the holder; it does not vanish', async () => {
    const dirB = await restoredAfterFour(async (a) => {
      await a.core.release({ taskId: 't1' }); // 3
      await a.core.claim({ taskId: 't2' }); // 4
    });
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'bob', via: 'http' });

    proxy.cut();
    const b = await kiosk(dirB, false);
    // The backup still thinks ann holds t1.
    expect((await b.core.start({ taskId: 't1' })).result).toBe('queued');
    proxy.restore();
    await waitDrained(b);
    const conflicts = await b.core.listConflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ operation: 'start', taskId: 't1', currentOwner: { id: 'bob' }, error: { code: 'task_conflict' } });
    expect(b.core.store.task('t1')).toMatchObject({ operatorId: 'bob' });
    expect((await serverTask('t1'))!.status).toBe('pending');
  });

  it('PROTO-5 OFF-2 a restored database that queued more actions offline than the other database sent meanwhile: an outcome about another task than its entry is not taken; the entries are numbered anew and applied', async () => {
    const dirB = await restoredAfterFour();

    proxy.cut();
    const b = await kiosk(dirB, false);
    await b.core.release({ taskId: 't1' }); // 3 here
    await b.core.claim({ taskId: 't2' }); // 4 here
    await b.core.claim({ taskId: 'make1' }); // 5 here: past the server's 4, so the numbers alone do not tell
    proxy.restore();
    await waitDrained(b);
    expect((await serverTask('t1'))!.operatorId).toBeNull();
    expect((await serverTask('t2'))!.operatorId).toBe('ann');
    expect((await serverTask('make1'))!.operatorId).toBe('ann');
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(7);
    expect(b.core.store.task('t1')).toMatchObject({ operatorId: null });
    expect(await b.core.listConflicts()).toEqual([]);
  });

  it('SEC-30 PROTO-5 SYNC-3 a terminal re-enrolled to another server under the same id starts there from a snapshot and numbers its queued actions after that server\u2019s; none is taken by an outcome of another mutation there', async () => {
    const other = await startTestServer();
    try {
      // The other server has processed ids 1-3 of k1 already (another machine ran as k1 there).
      const link = await TestClient.connect(other.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: other.clock.now() });
      await link.mutate([
        { id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' },
        { id: 2, name: 'signOut', args: {}, operatorId: 'ann' },
        { id: 3, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' },
      ]);
      link.close();

      const t = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, dataDir: tmp(), maintenanceSecretHash: hashSecret('open sesame 1') });
      open.push(t);
      await waitOnline(t);
      await t.core.signIn({ badge: 'B-ANN' }); // 1
      await waitDrained(t);
      await t.core.claim({ taskId: 't1' }); // 2
      await waitDrained(t);
      // Its server is gone; actions wait offline, then it is moved to the other server.
      proxy.cut();
      await t.waitFor(() => t.core.syncStatus().status === 'offline', 'offline');
      await t.core.claim({ taskId: 't2' }); // 3
      await t.core.claim({ taskId: 't3' }); // 4
      const snapshots: string[] = [];
      t.core.subscribe((e) => {
        if (e.type === 'sync' && e.sync.status === 'syncing') snapshots.push(String(t.core.store.meta('cursor', null)));
      });
      await t.core.enroll({ serverUrl: other.url, terminalId: 'k1', token: TERMINAL_TOKEN, maintenanceSecret: 'open sesame 1' });
      await waitDrained(t);
      await waitOnline(t);
      const onOther = (id: string) => other.store.getTask(id, other.clock.now());
      expect((await onOther('t2'))!.operatorId).toBe('ann');
      expect((await onOther('t3'))!.operatorId).toBe('ann');
      expect((await other.store.getTerminal('k1'))!.lastMutationId).toBe(5);
      // The first server's cursor was not used there: the terminal took a snapshot.
      expect(snapshots[0]).toBe('null');
    } finally {
      await other.stop();
    }
  });

  it.each([
    ['under the same id', 'k1', TERMINAL_TOKEN],
    ['under another id', 'k2', TERMINAL2_TOKEN],
  ])('SEC-30 SYNC-3 a terminal re-enrolled to another server %s shows that server\u2019s tasks, not the first one\u2019s rows that had changed more often there', async (_label, terminalId, token) => {
    const other = await startTestServer();
    try {
      const t = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, dataDir: tmp(), maintenanceSecretHash: hashSecret('open sesame 1') });
      open.push(t);
      await waitOnline(t);
      await t.core.signIn({ badge: 'B-ANN' });
      await t.core.claim({ taskId: 't1' });
      await t.core.start({ taskId: 't1' });
      await waitDrained(t);
      await t.core.signOut();
      await waitDrained(t);
      expect(t.core.store.task('t1')).toMatchObject({ status: 'in_progress', operatorId: 'ann' });
      // The other server never saw t1 worked: it is free there, at a lower version.
      expect(await other.store.getTask('t1', other.clock.now())).toMatchObject({ status: 'pending', operatorId: null });
      await t.core.enroll({ serverUrl: other.url, terminalId, token, maintenanceSecret: 'open sesame 1' });
      await t.waitFor(() => t.core.store.meta('cursor', null) !== null, 'the other server\u2019s snapshot');
      expect(t.core.store.task('t1')).toMatchObject({ status: 'pending', operatorId: null });
    } finally {
      await other.stop();
    }
  });
});
