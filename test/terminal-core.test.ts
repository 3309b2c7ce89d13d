/**
 * The terminal core against a real server on loopback, with a TCP proxy that cuts one terminal
 * off while the server and the other terminals stay up.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../src-shared/crypto/hash.js';
import { DomainError } from '../src-shared/domain/errors.js';
import { ApiDispatcher } from '../src-main/core/api-dispatch.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestClient } from './support/ws-client.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';

let server: TestServer;
let proxy: TcpProxy;
const terminals: TestTerminal[] = [];

async function terminal(id: 'k1' | 'k2', via: 'proxy' | 'direct' = 'proxy', extra: { idleTimeoutSeconds?: number } = {}) {
  const t = await openTerminal({
    serverUrl: via === 'proxy' ? proxy.url : server.url,
    terminalId: id,
    token: id === 'k1' ? TERMINAL_TOKEN : TERMINAL2_TOKEN,
    ...extra,
  });
  terminals.push(t);
  await waitOnline(t);
  return t;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  throw new Error('expected the operation to be refused');
}

beforeEach(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
});
afterEach(async () => {
  for (const t of terminals.splice(0)) {
    t.close();
    fs.rmSync(t.dataDir, { recursive: true, force: true });
  }
  await proxy.close();
  await server.stop();
});

describe('terminal core', () => {
  it('SYNC-3 SYNC-7 a new terminal downloads its departments, tasks and the operator directory', async () => {
    const a = await terminal('k1');
    const snap = await a.core.getSnapshot();
    expect(snap.identity).toMatchObject({ terminalId: 'k1', name: 'Kiosk 1', departments: [{ id: 'cut', name: 'Cutting' }] });
    expect(snap.config).toMatchObject({ defaultTaskLimit: 10 });
    expect(a.core.store.user('ann')!.badgeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.core.store.user('qin')).toBeNull();
  });

  it('OFF-1 an operator signs in from the cached directory while the server is unreachable', async () => {
    const a = await terminal('k1');
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    const session = await a.core.signIn({ badge: ' b-ann ' });
    expect(session).toMatchObject({ userId: 'ann', displayName: 'Name ann' });
    expect(await codeOf(a.core.signIn({ badge: 'B-NOBODY' }))).toBe('sign_in_failed');
    expect(a.core.syncStatus().pending).toBe(1);
    proxy.restore();
    await waitDrained(a);
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBe('ann');
  });

  it('OFF-1 a badge with a PIN needs the PIN; repeated wrong PINs lock the badge for a while', async () => {
    const a = await terminal('k1');
    const e = await a.core.signIn({ badge: 'B-BOB' }).catch((x: DomainError) => x);
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).details).toMatchObject({ reason: 'pin_required', userName: 'Name bob' });
    for (let i = 0; i < 4; i++) expect(await codeOf(a.core.signIn({ badge: 'B-BOB', pin: '0000' }))).toBe('sign_in_failed');
    expect(await codeOf(a.core.signIn({ badge: 'B-BOB', pin: '0000' }))).toBe('sign_in_locked');
    expect(await codeOf(a.core.signIn({ badge: 'B-BOB', pin: '4321' }))).toBe('sign_in_locked');
    expect((await a.core.getSnapshot()).session).toBeNull();
  });

  it('OFF-1 a PIN of any length the server accepts (up to 12 digits) works at the terminal', async () => {
    await server.store.updateUser('bob', { pinHash: hashSecret('123456789012') }, server.clock.now());
    const a = await terminal('k1');
    await a.waitFor(() => a.core.store.user('bob')?.pinHash !== null, 'the directory');
    expect(await a.core.signIn({ badge: 'B-BOB', pin: '123456789012' })).toMatchObject({ userId: 'bob' });
  });

  it('OFF-2 a claim made offline is queued, shown as pending, and confirmed when the link returns; the outbox drains in order', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    const ack = await a.core.claim({ taskId: 't1' });
    expect(ack).toMatchObject({ result: 'queued', task: { operatorId: 'ann', pending: true } });
    await a.core.start({ taskId: 't1' });
    await a.core.claim({ taskId: 't2' });
    expect(a.core.syncStatus().pending).toBe(3);
    const mine = (await a.core.listMine()).tasks;
    expect(mine.map((t) => [t.id, t.status, t.pending])).toEqual([
      ['t1', 'in_progress', true],
      ['t2', 'pending', true],
    ]);
    proxy.restore();
    await waitDrained(a);
    expect((await a.core.listMine()).tasks.every((t) => !t.pending)).toBe(true);
    const audit = (await server.store.listAudit({ limit: 20 })).filter((x) => x.terminalId === 'k1').reverse();
    expect(audit.map((x) => [x.action, x.taskId])).toEqual([
      ['signIn', null],
      ['claim', 't1'],
      ['start', 't1'],
      ['claim', 't2'],
    ]);
    expect((await server.store.getTask('t1', server.clock.now()))!.status).toBe('in_progress');
  });

  it('OFF-3 a claim that cannot succeed is refused at once with the server error, and nothing is queued', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    expect(await codeOf(a.core.claim({ taskId: 'draft1' }))).toBe('task_draft');
    expect(await codeOf(a.core.claim({ taskId: 'q1' }))).toBe('task_not_found');
    await server.store.updateUser('ann', { taskLimit: 1 }, server.clock.now());
    proxy.restore();
    await a.waitFor(() => a.core.store.user('ann')!.taskLimit === 1, 'the new limit to arrive');
    proxy.cut();
    await a.core.claim({ taskId: 't1' });
    const err = await a.core.claim({ taskId: 't2' }).catch((x: DomainError) => x);
    expect((err as DomainError).code).toBe('capacity_reached');
    expect((err as DomainError).details).toMatchObject({ count: 1, limit: 1 });
    expect(a.core.syncStatus().pending).toBe(1);
    expect(await codeOf(a.core.claim({ taskId: 'nope' }))).toBe('task_not_found');
  });

  it('OFF-4 an offline claim that lost the race is rejected on reconnect: the cache shows the owner and a conflict record names them, even after a restart', async () => {
    let a = await terminal('k1');
    const b = await terminal('k2', 'direct');
    await a.core.signIn({ badge: 'B-ANN' });
    await b.core.signIn({ badge: 'B-BOB', pin: '4321' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'A offline');
    await a.core.claim({ taskId: 't3' });
    await b.core.claim({ taskId: 't3' });
    await waitDrained(b);
    const conflicts: unknown[] = [];
    a.core.subscribe((e) => e.type === 'conflict' && conflicts.push(e.conflict));
    proxy.restore();
    await waitDrained(a);
    expect(a.core.store.task('t3')).toMatchObject({ operatorId: 'bob', operatorName: 'Name bob' });
    const list = await a.core.listConflicts();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ operation: 'claim', taskId: 't3', currentOwner: { id: 'bob', name: 'Name bob' }, error: { code: 'task_conflict' } });
    expect(list[0]!.error.message).toContain('Name bob');
    expect(conflicts).toHaveLength(1);
    a = await a.restart();
    terminals.push(a);
    await a.core.signIn({ badge: 'B-ANN' });
    expect((await a.core.listConflicts()).map((c) => c.taskId)).toEqual(['t3']);
    expect((await a.core.getSnapshot()).openConflicts).toBe(1);
    await a.core.acknowledgeConflict({ id: list[0]!.id });
    expect(await a.core.listConflicts()).toEqual([]);
    a = await a.restart();
    terminals.push(a);
    await a.core.signIn({ badge: 'B-ANN' });
    expect(await a.core.listConflicts()).toEqual([]);
  });

  it('OFF-5 live changes from other terminals reach the cache; the claimable list follows LIST-1', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    const before = await a.core.listClaimable({ offset: 0, limit: 50 });
    expect(before.items.map((t) => t.id)).toEqual(['t1', 't3', 'insp1', 'make1', 't2']);
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'bob', via: 'http' });
    await a.waitFor(() => a.core.store.task('t1')?.operatorId === 'bob', 't1 to show bob');
    const after = await a.core.listClaimable({ offset: 0, limit: 2 });
    expect(after.total).toBe(4);
    expect(after.items.map((t) => t.id)).toEqual(['t3', 'insp1']);
    await a.core.claim({ taskId: 'make1' });
    expect((await a.core.listClaimable({ offset: 0, limit: 50 })).items.map((t) => t.id)).toEqual(['t3', 't2']);
  });

  it('OFF-6 a pending local change is re-applied over fresh server state, so it never flickers back', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.core.claim({ taskId: 't2' });
    // The server changes the same task (a new priority) while ann's claim is still queued.
    await server.store.importTasks([{ ...(await import('./support/plant.js')).taskRow('t2', { priority: 5 }) }], server.clock.now());
    const seen: Array<string | null> = [];
    a.core.subscribe(() => seen.push(a.core.store.task('t2')?.operatorId ?? null));
    proxy.restore();
    await waitDrained(a);
    expect(a.core.store.task('t2')).toMatchObject({ operatorId: 'ann', priority: 5 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((o) => o === 'ann')).toBe(true);
  });

  it('PROTO-5 a terminal on a new database numbers its mutations after those the server already processed for its id', async () => {
    const first = await terminal('k1');
    await first.core.signIn({ badge: 'B-ANN' });
    await first.core.claim({ taskId: 't1' });
    await waitDrained(first);
    first.close();
    // The kiosk's disk is replaced: same terminal id and token, an empty database.
    const second = await terminal('k1');
    await second.core.signIn({ badge: 'B-ANN' });
    await second.core.claim({ taskId: 't2' });
    await waitDrained(second);
    expect((await server.store.getTask('t2', server.clock.now()))!.operatorId).toBe('ann');
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(4);
    expect(await second.core.listConflicts()).toEqual([]);
  });

  it('PROTO-5 a claim the server processed while its answer was lost is answered on restart, never applied twice', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.core.claim({ taskId: 't1' });
    const queuedId = a.core.store.firstOutboxId()!;
    a.close();
    // The server processed the claim, but the link died before the terminal read the answer.
    const link = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: queuedId - 1, clientTime: server.clock.now() });
    await link.mutate([{ id: queuedId, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    link.close();
    proxy.restore();
    const b = await a.restart();
    terminals.push(b);
    await waitDrained(b);
    expect(b.core.store.outcome(queuedId)).toMatchObject({ status: 'applied' });
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(queuedId);
    expect(await server.store.listAssignments('t1')).toHaveLength(1);
    expect(await b.core.listConflicts()).toEqual([]);
  });

  it('PROTO-5 OFF-6 a claim whose answer was lost stays shown as the operator\'s when the answer comes again; it never shows as free', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    await a.core.claim({ taskId: 't1' });
    const queuedId = a.core.store.firstOutboxId()!;
    // The server processed the claim, but the link died before the kiosk read the answer: the
    // kiosk's cached row of t1 is the older one, without ann.
    const link = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: queuedId - 1, clientTime: server.clock.now() });
    await link.mutate([{ id: queuedId, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    link.close();
    const seen: Array<string | null> = [];
    a.core.subscribe(() => seen.push(a.core.store.task('t1')?.operatorId ?? null));
    proxy.restore();
    await waitDrained(a);
    expect(a.core.store.outcome(queuedId)).toMatchObject({ status: 'applied' });
    expect(a.core.store.task('t1')).toMatchObject({ operatorId: 'ann' });
    expect(seen.length).toBeGreaterThan(0);
    // Every state the kiosk showed had ann holding t1: the answer sent again carries the task as
    // it is now, so the kiosk never falls back to its older row of t1 (free to claim) meanwhile.
    expect(seen.every((o) => o === 'ann')).toBe(true);
    expect(await server.store.listAssignments('t1')).toHaveLength(1);
  });

  it('OFF-7 the session ends when the operator is removed from the terminal departments', async () => {
    const a = await terminal('k1', 'direct');
    await a.core.signIn({ badge: 'B-ANN' });
    await server.store.updateUser('ann', { departmentIds: ['qa'] }, server.clock.now());
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't2' }, actorId: 'bob', via: 'http' });
    await a.waitFor(async () => (await a.core.getSnapshot()).session === null, 'the session to end');
  });

  it('OFF-7 the session ends after the idle timeout', async () => {
    const a = await terminal('k1', 'direct', { idleTimeoutSeconds: 1 });
    await a.core.signIn({ badge: 'B-ANN' });
    expect((await a.core.getSnapshot()).session).not.toBeNull();
    // A screen refreshing its lists is not activity: only touches and operations keep the session.
    await a.waitFor(
      async () => {
        await a.core.listClaimable({ offset: 0, limit: 10 }).catch(() => null);
        await a.core.listMine().catch(() => null);
        return (await a.core.getSnapshot()).session === null;
      },
      'the idle sign-out',
      5000,
    );
    expect(await codeOf(a.core.claim({ taskId: 't1' }))).toBe('not_signed_in');
  });

  /** Ann signed in with an idle timeout of 1 s, on a disk where her sign-out cannot be written, until the timeout has passed. */
  async function idleSignOutOnAFullDisk(): Promise<TestTerminal> {
    const a = await terminal('k1', 'direct', { idleTimeoutSeconds: 1 });
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    a.core.store.faultHook = (sql) => {
      if (sql.startsWith('DELETE FROM session')) throw new Error('the disk is full (test)');
    };
    await new Promise((r) => setTimeout(r, 1600));
    return a;
  }

  it('OFF-7 an idle sign-out the terminal cannot write (a full disk) does not crash it (an unhandled rejection ends a Node process): it is tried again, and the session ends once the disk has room', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const a = await idleSignOutOnAFullDisk();
      expect(rejections.map(String)).toEqual([]);
      expect((await a.core.getSnapshot()).session).toMatchObject({ userId: 'ann' });
      a.core.store.faultHook = null;
      await a.waitFor(async () => (await a.core.getSnapshot()).session === null, 'the idle sign-out once the disk has room', 15_000);
      await waitDrained(a);
      expect((await server.store.getTerminal('k1'))!.signedInUserId).toBeNull();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('OFF-7 an idle sign-out tried again after a full disk never signs out the next operator, who badged in before the retry', async () => {
    // Ann's idle sign-out fails; it is tried again 5 s later.
    const a = await idleSignOutOnAFullDisk();
    a.core.store.faultHook = null;
    await a.core.signIn({ badge: 'B-BOB', pin: '4321' });
    // Bob works on (a touch every half second) past the time of the retry.
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await a.core.touch();
    }
    expect((await a.core.getSnapshot()).session).toMatchObject({ userId: 'bob' });
  });

  it('OFF-7 a session idle for longer than the timeout when the terminal starts again (a power cut) is ended at once, and the sign-out reaches the server', async () => {
    const a = await terminal('k1', 'direct', { idleTimeoutSeconds: 1 });
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    a.close();
    terminals.splice(terminals.indexOf(a), 1);
    await new Promise((r) => setTimeout(r, 1200));
    const b = await a.restart();
    terminals.push(b);
    expect((await b.core.getSnapshot()).session).toBeNull();
    expect(await codeOf(b.core.claim({ taskId: 't1' }))).toBe('not_signed_in');
    await waitDrained(b);
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBeNull();
  });

  it('OFF-7 a session kept across a restart gets only what was left of its idle period since the operator was last active (a touch counts), not a fresh one', async () => {
    const a = await terminal('k1', 'direct', { idleTimeoutSeconds: 5 });
    await a.core.signIn({ badge: 'B-ANN' });
    await new Promise((r) => setTimeout(r, 2500));
    await a.core.touch();
    const touched = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    a.close();
    terminals.splice(terminals.indexOf(a), 1);
    // 4.5 s after signing in, 2 s after the last touch: still signed in, for about 3 s more (a
    // restart on a busy machine may take one of them); a fresh idle period would be 5 s.
    const b = await a.restart();
    terminals.push(b);
    expect((await b.core.getSnapshot()).session).toMatchObject({ userId: 'ann' });
    await b.waitFor(async () => (await b.core.getSnapshot()).session === null, 'the idle sign-out', 8000);
    // Ended by the touch's idle period (5 s after it), not a fresh one from the restart (7 s or more).
    expect(Date.now() - touched).toBeLessThan(6500);
  });

  it('OFF-4 a kiosk that stays connected for days prunes the outcomes it keeps for diagnosis (a week; acknowledged conflicts and old read notifications with them) while connected, not only at a reconnect', async () => {
    const clock = { skew: 0, now: () => Date.now() + clock.skew };
    const a = await openTerminal({ serverUrl: server.url, terminalId: 'k1', token: TERMINAL_TOKEN, clock });
    terminals.push(a);
    await waitOnline(a);
    await a.core.signIn({ badge: 'B-ANN' });
    await a.core.claim({ taskId: 't1' });
    await waitDrained(a);
    expect(a.core.store.outcomeCount()).toBe(2);
    // Eight days on the same connection (the terminal's clock only: no clock jump is seen here).
    clock.skew = 8 * 24 * 3600_000;
    await a.core.start({ taskId: 't1' });
    await waitDrained(a);
    expect(a.core.syncStatus().status).toBe('online');
    expect(a.core.store.outcomeCount()).toBe(1);
  });

  it('OFF-2 UI-8 a claim the terminal cannot save (a full disk) tells the operator it was not saved and why, in their language, not "something went wrong"; what waited in the outbox stays', async () => {
    const a = await terminal('k1');
    const api = new ApiDispatcher(a.core, 'en');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    await a.core.claim({ taskId: 't1' });
    a.core.store.faultHook = (sql) => {
      if (sql.startsWith('INSERT INTO outbox')) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const en = await api.call('claim', { taskId: 't2' });
    api.locale = 'zh';
    const zh = await api.call('claim', { taskId: 't2' });
    a.core.store.faultHook = null;
    expect(en).toMatchObject({ ok: false, error: { code: 'unavailable', details: { reason: 'terminal_storage' } } });
    if (en.ok || zh.ok) throw new Error('expected refusals');
    expect(en.error.message).toMatch(/not saved/);
    expect(en.error.retry.suggestion).not.toMatch(/saved on this terminal/);
    expect(zh.error.message).toMatch(/[\u4e00-\u9fff]/);
    expect(a.core.syncStatus().pending).toBe(1);
    expect((await a.core.listMine()).tasks.map((t) => t.id)).toEqual(['t1']);
  });

  it('PROTO-2 a terminal whose token was replaced stays offline and says why', async () => {
    const a = await openTerminal({ serverUrl: server.url, terminalId: 'k1', token: 'wrong-token-123' });
    terminals.push(a);
    await a.waitFor(() => (a.core.syncStatus().lastError ?? '').includes('token'), 'the refusal');
    expect(a.core.syncStatus().status).not.toBe('online');
  });
});

describe('snapshot pages', () => {
  /** A server whose snapshots come in pages of 20, with `tasks` more tasks in cut. */
  async function pagedPlant(tasks: number): Promise<void> {
    await proxy.close();
    await server.stop();
    server = await startTestServer({ hub: { pageSize: 20 } });
    proxy = await TcpProxy.start(server.port);
    const imported = await server.store.importTasks(Array.from({ length: tasks }, (_, i) => taskRow(`s${i}`)), server.clock.now());
    expect(imported.ok).toBe(true);
  }
  const frame = (text: string) => JSON.parse(text) as { type: string; mode?: string; cursor?: number | null; more?: boolean };
  const storedSnapshotTasks = (t: TestTerminal) => t.core.store.db.prepare("SELECT COUNT(*) FROM tasks WHERE id LIKE 's%'").pluck().get() as number;

  /**
   * A terminal whose change pages (as `describe` names them), acks and stored writes are recorded
   * in order, in `events` ('stored' once per run of writes).
   */
  async function recordingTerminal(serverUrl: string, describe: (f: ReturnType<typeof frame>) => string) {
    const events: string[] = [];
    const t = await openTerminal({
      serverUrl,
      terminalId: 'k1',
      token: TERMINAL_TOKEN,
      tap: {
        received: (text) => {
          const f = frame(text);
          if (f.type === 'changes') events.push(describe(f));
        },
        sent: (text) => {
          if (frame(text).type === 'ack') events.push('ack');
        },
      },
    });
    terminals.push(t);
    // Set before the first page can arrive (the connection needs I/O first): every write marked.
    t.core.store.faultHook = () => {
      if (events.at(-1) !== 'stored') events.push('stored');
    };
    return { t, events };
  }
  /** What follows each event named `page` in `events`. */
  const after = (events: string[], page: string) => events.flatMap((e, i) => (e === page ? [events[i + 1]] : []));

  it('SYNC-3 a snapshot page without a cursor is acknowledged as it arrives, so the next comes while it is stored; the page with the cursor only once it is stored', async () => {
    await pagedPlant(200);
    const { t, events } = await recordingTerminal(server.url, (f) => `${f.mode} page${f.cursor === null ? '' : ' with cursor'}`);
    await waitOnline(t);
    expect(storedSnapshotTasks(t)).toBe(200);
    const snapshot = events.slice(0, events.lastIndexOf('snapshot page with cursor') + 3);
    const early = after(snapshot, 'snapshot page');
    expect(early.length).toBeGreaterThan(5);
    expect(new Set(early)).toEqual(new Set(['ack'])); // acknowledged before anything of it is stored
    const last = snapshot.indexOf('snapshot page with cursor');
    expect(snapshot.slice(last, last + 3)).toEqual(['snapshot page with cursor', 'stored', 'ack']);
  });

  it('SYNC-1 PROTO-12 a terminal catching up acknowledges each page with more to come as it arrives, and the last only once it is stored, with its cursor', async () => {
    await pagedPlant(10);
    const { t, events } = await recordingTerminal(proxy.url, (f) => `${f.mode} page${f.more ? ', more to come' : ''}`);
    await waitOnline(t);
    const cursor = t.core.store.meta<number>('cursor', 0);
    // Offline while 300 tasks change: back, it replays them in pages of 20.
    proxy.cut();
    await t.waitFor(() => t.core.syncStatus().status !== 'online', 'the terminal to notice it is offline');
    const imported = await server.store.importTasks(Array.from({ length: 300 }, (_, i) => taskRow(`c${i}`)), server.clock.now());
    expect(imported.ok).toBe(true);
    events.length = 0;
    proxy.restore();
    await t.waitFor(() => (t.core.store.db.prepare("SELECT COUNT(*) FROM tasks WHERE id LIKE 'c%'").pluck().get() as number) === 300, 'the 300 changes');
    await waitOnline(t);
    const early = after(events, 'delta page, more to come');
    expect(early.length).toBeGreaterThan(5);
    expect(new Set(early)).toEqual(new Set(['ack']));
    const last = events.indexOf('delta page', events.lastIndexOf('delta page, more to come'));
    expect(events.slice(last, last + 3)).toEqual(['delta page', 'stored', 'ack']);
    expect(t.core.store.meta<number>('cursor', 0)).toBeGreaterThan(cursor);
  });

  it('SYNC-3 OFF-2 a snapshot page the terminal cannot store drops the link (no crash); the next connection takes the snapshot again, whole, with its cursor', async () => {
    await pagedPlant(200);
    const { t, events } = await recordingTerminal(server.url, () => 'page');
    const pages = () => events.filter((e) => e === 'page').length;
    let failed = false;
    t.core.store.faultHook = (sql) => {
      if (!failed && pages() === 4 && sql.startsWith('INSERT INTO tasks ')) {
        failed = true;
        throw new Error('the disk is full (test)');
      }
    };
    await t.waitFor(() => failed, 'the fourth page to fail');
    await waitOnline(t);
    expect(pages()).toBeGreaterThan(12); // the snapshot came again
    expect(storedSnapshotTasks(t)).toBe(200);
    expect(t.core.store.meta<number | null>('cursor', null)).not.toBeNull();
  });
});

describe('frames the terminal cannot store', () => {
  /** The terminal's next write starting with `sql` fails, as on a full disk; says whether it has. */
  function failOnce(t: TestTerminal, sql: string): () => boolean {
    let failed = false;
    t.core.store.faultHook = (statement) => {
      if (!failed && statement.startsWith(sql)) {
        failed = true;
        throw new Error('the disk is full (test)');
      }
    };
    return () => failed;
  }

  /**
   * A terminal that counts the welcomes it receives (one per connection) and keeps any error that
   * escapes its handling of a frame (caught before the socket sees it, as Electron's main process
   * would go on after it).
   */
  async function countingTerminal() {
    let welcomes = 0;
    const escaped: string[] = [];
    const t = await openTerminal({
      serverUrl: server.url,
      terminalId: 'k1',
      token: TERMINAL_TOKEN,
      tap: { received: (text) => void (JSON.parse(text).type === 'welcome' && welcomes++), escaped: (err) => escaped.push(String(err)) },
    });
    terminals.push(t);
    await waitOnline(t);
    return { t, welcomes: () => welcomes, escaped };
  }

  it('OFF-2 PROTO-5 an outcome the terminal cannot store drops the link (no crash): the server answers it again after the next hello, and the claim is confirmed once', async () => {
    const { t, welcomes, escaped } = await countingTerminal();
    await t.core.signIn({ badge: 'B-ANN' });
    await waitDrained(t);
    const before = welcomes();
    const failed = failOnce(t, 'DELETE FROM outbox');
    expect((await t.core.claim({ taskId: 't1' })).result).toBe('queued');
    await t.waitFor(failed, 'storing the outcome to fail');
    await waitDrained(t);
    expect(welcomes()).toBeGreaterThan(before);
    expect(t.core.store.task('t1')).toMatchObject({ operatorId: 'ann' });
    expect((await t.core.listMine()).tasks.map((x) => [x.id, x.pending])).toEqual([['t1', false]]);
    expect((await server.store.listAssignments('t1')).map((a) => a.userId)).toEqual(['ann']);
    expect(escaped).toEqual([]);
  });

  it('OFF-2 OFF-8 while outcomes cannot be stored at all, the terminal reconnects with growing waits, not at once each time; stored again, it is confirmed', async () => {
    const { t, welcomes, escaped } = await countingTerminal();
    await t.core.signIn({ badge: 'B-ANN' });
    await waitDrained(t);
    let full = true;
    t.core.store.faultHook = (sql) => {
      if (full && sql.startsWith('DELETE FROM outbox')) throw new Error('the disk is full (test)');
    };
    const before = welcomes();
    await t.core.claim({ taskId: 't1' });
    await new Promise((r) => setTimeout(r, 2000));
    // Backoff 50 ms doubling to 400 ms (the test terminal's): about 7 connections in 2 s, where
    // starting afresh at every welcome would make about 40.
    const reconnects = welcomes() - before;
    expect(reconnects).toBeGreaterThanOrEqual(2);
    expect(reconnects).toBeLessThan(15);
    full = false;
    await waitDrained(t);
    expect((await t.core.listMine()).tasks.map((x) => [x.id, x.pending])).toEqual([['t1', false]]);
    expect(escaped).toEqual([]);
  });

  it('OFF-2 a welcome the terminal cannot store drops the link (no crash); the next one is taken, and a claim queued offline is sent then', async () => {
    const { t, welcomes, escaped } = await countingTerminal();
    await t.core.signIn({ badge: 'B-ANN' });
    await waitDrained(t);
    t.core.stopSyncing();
    expect((await t.core.claim({ taskId: 't1' })).result).toBe('queued');
    const before = welcomes();
    const failed = failOnce(t, 'INSERT INTO meta');
    t.core.startSyncing();
    await t.waitFor(failed, 'storing the welcome to fail');
    await waitDrained(t);
    expect(welcomes()).toBeGreaterThanOrEqual(before + 2);
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBe('ann');
    await waitOnline(t);
    expect(escaped).toEqual([]);
  });
});
