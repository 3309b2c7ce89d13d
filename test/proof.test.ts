/**
 * Tests for what slipped through before (issue 11): PROTO-8 with a second operator while one is
 * signed in, OFF-4 for every task operation and after a restart once the terminal is online again,
 * OFF-8 on an injected clock and scheduler, and the rules no test named (ASG-4, SYNC-2, SYNC-5).
 * Real server on port 0, real SQLite in temp folders, real WebSockets; only time is faked, and
 * only in the OFF-8 tests (the terminal core's clock and timers; the sockets stay real).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src-shared/clock.js';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { DomainError } from '../src-shared/domain/errors.js';
import type { ServerFrame } from '../src-shared/protocol/terminal.js';
import type { TaskOperation } from '../src-server/engine/mutations.js';
import { TerminalCore } from '../src-main/core/terminal.js';
import { TerminalStore } from '../src-main/core/store.js';
import type { Dialer, Scheduler } from '../src-main/core/sync-client.js';
import { wsDialer } from '../src-main/core/ws-dialer.js';
import { apiToken, call } from './support/http-client.js';
import { TERMINAL_TOKEN, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';
import { TestClient } from './support/ws-client.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  cleanups.push(() => s.stop());
  return s;
}

async function proxyTo(s: TestServer): Promise<TcpProxy> {
  const p = await TcpProxy.start(s.port);
  cleanups.push(() => p.close());
  return p;
}

const QA_TOKEN = 'term_test_token_qa';

/** A kiosk of the Quality department (the plant has only Cutting kiosks). */
async function addQaKiosk(s: TestServer): Promise<void> {
  await s.store.createTerminal({ id: 'k3', name: 'Kiosk QA', departments: ['qa'], tokenHash: tokenHash(QA_TOKEN) }, s.clock.now());
}

/** A terminal core on real SQLite and real WebSockets (the fast test timings), closed after the test. */
async function terminal(serverUrl: string, id: 'k1' | 'k3' = 'k1', dataDir?: string): Promise<TestTerminal> {
  const t = await openTerminal({ serverUrl, terminalId: id, token: id === 'k1' ? TERMINAL_TOKEN : QA_TOKEN, ...(dataDir ? { dataDir } : {}) });
  track(t);
  await waitOnline(t);
  return t;
}

function track(t: TestTerminal): void {
  cleanups.push(() => {
    t.close();
    fs.rmSync(t.dataDir, { recursive: true, force: true });
  });
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

/** A task operation on the server, as a supervisor or another operator would make it over HTTP. */
async function onServer(s: TestServer, actorId: string, op: TaskOperation): Promise<void> {
  const r = await s.ctx.committer.submit({ kind: 'operation', op, actorId, via: 'http' });
  if (!r.ok) throw new Error(`${op.name} by ${actorId} was refused: ${r.error?.code}`);
}

/**
 * Wait until the terminal has applied every change of its departments the server has logged: its
 * read-sync cursor reached the last change-log row for those departments, and it says it is online.
 */
async function caughtUp(s: TestServer, t: TestTerminal): Promise<void> {
  const departments = t.core.store.meta<{ departments: string[] } | null>('terminal', null)?.departments ?? [];
  let target = 0;
  for (;;) {
    const page = await s.store.changesPage(departments, target, 1000, s.clock.now());
    if (page.lastSeq === target) break;
    target = page.lastSeq;
    if (!page.more) break;
  }
  await t.waitFor(() => (t.core.store.meta<number | null>('cursor', null) ?? -1) >= target && t.core.syncStatus().status === 'online', `the cursor to reach ${target}`);
}

// ---------------------------------------------------------------------------------------------
// PROTO-8

describe('PROTO-8 a terminal acts only for the operator signed in at it', () => {
  it('PROTO-8 over a real WebSocket: with ann signed in at k1, a mutation from k1 for bob is refused not_signed_in and changes nothing', async () => {
    const s = await server();
    const k1 = await TestClient.connect(s.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, clientTime: s.clock.now() });
    cleanups.push(() => k1.close());
    const [signIn] = await k1.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: s.clock.now() }]);
    expect(signIn).toMatchObject({ status: 'applied' });
    expect((await s.store.getTerminal('k1'))!.signedInUserId).toBe('ann');

    const before = { task: await s.store.getTask('t1', s.clock.now()), head: await s.store.headSeq(), bobNotes: (await s.store.listNotifications('bob', 100)).length };
    const outcomes = await k1.mutate([
      { name: 'claim', args: { taskId: 't1' }, operatorId: 'bob', clientTime: s.clock.now() },
      { name: 'readNotifications', args: { ids: [1] }, operatorId: 'bob', clientTime: s.clock.now() },
      // Signing bob out of a terminal ann is signed in at must not sign ann out either.
      { name: 'signOut', args: {}, operatorId: 'bob', clientTime: s.clock.now() },
    ]);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in', details: { userId: 'bob' } } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in' } });
    expect(outcomes[2]).toMatchObject({ status: 'applied' });

    // Nothing changed: the task, its assignments, bob's notifications, the presence, the change log.
    expect(await s.store.getTask('t1', s.clock.now())).toEqual(before.task);
    expect(await s.store.listAssignments('t1')).toEqual([]);
    expect((await s.store.listNotifications('bob', 100)).length).toBe(before.bobNotes);
    expect((await s.store.getTerminal('k1'))!.signedInUserId).toBe('ann');
    expect(await s.store.headSeq()).toBe(before.head);

    // bob signed in at another kiosk still cannot act from k1, where ann is.
    const k2 = await TestClient.connect(s.wsUrl, { terminalId: 'k2', token: 'term_test_token_2', clientTime: s.clock.now() });
    cleanups.push(() => k2.close());
    expect((await k2.mutate([{ name: 'signIn', args: { method: 'badge_pin' }, operatorId: 'bob', clientTime: s.clock.now() }]))[0]).toMatchObject({ status: 'applied' });
    const [again] = await k1.mutate([{ name: 'claim', args: { taskId: 't1' }, operatorId: 'bob', clientTime: s.clock.now() }]);
    expect(again).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in' } });
    expect((await s.store.getTask('t1', s.clock.now()))!.operatorId).toBeNull();

    // The operator who is signed in there still can.
    const [mine] = await k1.mutate([{ name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: s.clock.now() }]);
    expect(mine).toMatchObject({ status: 'applied' });
    expect((await s.store.getTask('t1', s.clock.now()))!.operatorId).toBe('ann');
  });

  it('PROTO-8 at the terminal core: work queued before an operator change keeps its own operator, and nothing is done with no one signed in', async () => {
    const s = await server();
    const proxy = await proxyTo(s);
    const a = await terminal(proxy.url);

    // Nobody signed in: refused here, nothing queued.
    expect(await codeOf(a.core.claim({ taskId: 't1' }))).toBe('not_signed_in');
    expect(a.core.syncStatus().pending).toBe(0);

    await a.core.signIn({ badge: 'B-ANN' });
    await a.core.claim({ taskId: 't1' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    await a.core.claim({ taskId: 't2' });
    await a.core.signOut();
    expect(await codeOf(a.core.claim({ taskId: 't3' }))).toBe('not_signed_in');
    await a.core.signIn({ badge: 'B-BOB', pin: '4321' });
    await a.core.claim({ taskId: 't3' });
    // bob cannot act on ann's queued task from here either (HLD-1 against the cache).
    expect(await codeOf(a.core.start({ taskId: 't2' }))).toBe('task_conflict');
    expect((await a.core.listMine()).tasks.map((t) => t.id)).toEqual(['t3']);

    const queued = a.core.store.outbox(0, 100).map((e) => [e.name, e.taskId, e.operatorId]);
    expect(queued).toEqual([
      ['claim', 't2', 'ann'],
      ['signOut', null, 'ann'],
      ['signIn', null, 'bob'],
      ['claim', 't3', 'bob'],
    ]);

    proxy.restore();
    await waitDrained(a);
    const now = s.clock.now();
    expect([(await s.store.getTask('t1', now))!.operatorId, (await s.store.getTask('t2', now))!.operatorId, (await s.store.getTask('t3', now))!.operatorId]).toEqual(['ann', 'ann', 'bob']);
    const audit = (await s.store.listAudit({ limit: 50 })).filter((x) => x.terminalId === 'k1').reverse();
    expect(audit.map((x) => [x.action, x.taskId, x.actorId, x.outcome])).toEqual([
      ['signIn', null, 'ann', 'applied'],
      ['claim', 't1', 'ann', 'applied'],
      ['claim', 't2', 'ann', 'applied'],
      ['signOut', null, 'ann', 'applied'],
      ['signIn', null, 'bob', 'applied'],
      ['claim', 't3', 'bob', 'applied'],
    ]);
    expect(await a.core.listConflicts()).toEqual([]);
    expect((await s.store.getTerminal('k1'))!.signedInUserId).toBe('bob');

    await a.core.signOut();
    expect(await codeOf(a.core.release({ taskId: 't3' }))).toBe('not_signed_in');
    expect(await codeOf(a.core.listMine())).toBe('not_signed_in');
    await waitDrained(a);
    expect((await s.store.getTerminal('k1'))!.signedInUserId).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// OFF-4

interface RefusedCase {
  op: 'start' | 'complete' | 'release' | 'reject' | 'accept';
  /** Make ann's task ready for the operation while the terminal is online. */
  prepare(a: TestTerminal, s: TestServer): Promise<void>;
  act(a: TestTerminal): Promise<unknown>;
}

const refusedCases: RefusedCase[] = [
  { op: 'start', prepare: async (a) => void (await a.core.claim({ taskId: 't1' })), act: (a) => a.core.start({ taskId: 't1' }) },
  {
    op: 'complete',
    prepare: async (a) => {
      await a.core.claim({ taskId: 't1' });
      await a.core.start({ taskId: 't1' });
    },
    act: (a) => a.core.complete({ taskId: 't1' }),
  },
  { op: 'release', prepare: async (a) => void (await a.core.claim({ taskId: 't1' })), act: (a) => a.core.release({ taskId: 't1' }) },
  { op: 'reject', prepare: async (a) => void (await a.core.claim({ taskId: 't1' })), act: (a) => a.core.reject({ taskId: 't1', reason: 'drawing is missing' }) },
  {
    op: 'accept',
    prepare: async (a, s) => {
      await onServer(s, 'sue', { name: 'assign', taskId: 't1', userId: 'ann' });
      await a.waitFor(() => a.core.store.task('t1')?.assignment?.status === 'assigned', 'the assignment to reach the kiosk');
    },
    act: (a) => a.core.accept({ taskId: 't1' }),
  },
];

describe('OFF-4 a refused task operation that waited offline leaves a conflict record', () => {
  it.each(refusedCases)('OFF-4 HLD-1 a $op that waited offline and is refused by the server leaves a conflict record naming the current owner', async (c) => {
    const s = await server();
    const proxy = await proxyTo(s);
    const a = await terminal(proxy.url);
    await a.core.signIn({ badge: 'B-ANN' });
    await c.prepare(a, s);
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    expect(await c.act(a)).toMatchObject({ result: 'queued' });
    // Meanwhile a supervisor gives the task to bob.
    await onServer(s, 'sue', { name: 'reassign', taskId: 't1', userId: 'bob' });
    const events: unknown[] = [];
    a.core.subscribe((e) => e.type === 'conflict' && events.push(e.conflict));
    proxy.restore();
    await waitDrained(a);

    const conflicts = await a.core.listConflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      operation: c.op,
      taskId: 't1',
      operatorId: 'ann',
      offline: true,
      currentOwner: { id: 'bob', name: 'Name bob' },
      error: { code: 'task_conflict', details: { taskId: 't1' } },
    });
    expect(conflicts[0]!.error.message).toContain('Name bob');
    expect(conflicts[0]!.error.retry.suggestion).not.toBe('');
    expect(events).toHaveLength(1);
    expect((await a.core.getSnapshot()).openConflicts).toBe(1);
    // The optimistic effect is gone: the cache shows the server's state, bob holding the task.
    expect(a.core.store.task('t1')).toMatchObject({ operatorId: 'bob', operatorName: 'Name bob', status: 'pending' });
    expect((await a.core.listMine()).tasks.map((t) => t.id)).not.toContain('t1');
  });

  it('OFF-4 SYNC-4 a conflict record survives a restart of the terminal core and is still there after it reconnected and caught up, through a full resync', async () => {
    // maxReplay 1: a terminal that missed more than one change gets a snapshot, the harshest resync.
    const s = await server({ hub: { maxReplay: 1 } });
    const proxy = await proxyTo(s);
    let a = await terminal(proxy.url);
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    await a.core.claim({ taskId: 't3' });
    await onServer(s, 'bob', { name: 'claim', taskId: 't3' });
    proxy.restore();
    await waitDrained(a);
    const [conflict] = await a.core.listConflicts();
    expect(conflict).toMatchObject({ operation: 'claim', taskId: 't3', currentOwner: { id: 'bob', name: 'Name bob' }, error: { code: 'task_conflict' } });

    // The terminal goes down; the floor moves on while it is away.
    const mark = a.core.store.meta<number>('snapshotMark', 0);
    proxy.cut();
    a.core.close();
    await onServer(s, 'bob', { name: 'start', taskId: 't3' });
    await onServer(s, 'bob', { name: 'claim', taskId: 't2' });
    await onServer(s, 'sue', { name: 'assign', taskId: 't1', userId: 'ann' });
    proxy.restore();
    a = await terminal(proxy.url, 'k1', a.dataDir);
    await caughtUp(s, a);
    await waitDrained(a);
    expect(a.core.store.meta<number>('snapshotMark', 0)).toBeGreaterThan(mark); // it was a full resync
    expect(a.core.store.task('t3')).toMatchObject({ operatorId: 'bob', status: 'in_progress' });
    expect(a.core.store.task('t1')).toMatchObject({ operatorId: 'ann' });

    if (!(await a.core.getSnapshot()).session) await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    await caughtUp(s, a);
    const after = await a.core.listConflicts();
    expect(after).toEqual([conflict]);
    expect((await a.core.getSnapshot()).openConflicts).toBe(1);
    expect(a.core.store.openConflicts().map((c) => c.taskId)).toEqual(['t3']);
  });
});

// ---------------------------------------------------------------------------------------------
// OFF-8 on an injected clock and scheduler (the sockets stay real)

/** The terminal core's clock and timers: nothing fires until the test advances time. */
class FakeTime implements Scheduler {
  readonly clock = new ManualClock(Date.now());
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.clock.now() + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Move time forward, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.clock.set(Math.max(this.clock.now(), due[1].at));
      due[1].fn();
    }
    this.clock.set(end);
  }
}

/** A core on fake time, its transport the real WebSocket dialer with every dial and frame counted. */
function fakeTimeCore(serverUrl: string, o: { random: () => number; network?: () => string }) {
  const time = new FakeTime();
  const wire = { dials: 0, sent: [] as string[], received: [] as string[] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'term-off8-'));
  const dialer =
    (url: string): Dialer =>
    (events) => {
      wire.dials++;
      return wsDialer(url, { connectTimeoutMs: 2000 })({
        message: (text) => {
          wire.received.push((JSON.parse(text) as ServerFrame).type);
          events.message(text);
        },
        close: (code, reason) => events.close(code, reason),
      }).then((link) => ({
        send: (text: string) => {
          wire.sent.push((JSON.parse(text) as { type: string }).type);
          link.send(text);
        },
        close: (code?: number, reason?: string) => link.close(code, reason),
      }));
    };
  const core = new TerminalCore({
    store: new TerminalStore(path.join(dir, 'terminal.db')),
    settings: { serverUrl, terminalId: 'k1', token: TERMINAL_TOKEN, idleTimeoutSeconds: 0, locale: 'en' },
    clock: time.clock,
    scheduler: time,
    random: o.random,
    dialer,
    appVersion: 'test',
    // The product's own heartbeat and backoff settings: no `sync` override.
    ...(o.network ? { watchNetwork: true, networkSignature: o.network } : {}),
  });
  cleanups.push(() => {
    core.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  core.startSyncing();
  /** Real-time wait (bounded) for what the real sockets do. */
  const until = async (pred: () => boolean, what: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sync=${JSON.stringify(core.syncStatus())} wire=${JSON.stringify(wire)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { core, time, wire, until };
}

describe('OFF-8 reconnect and dead-link detection', () => {
  it('OFF-8 the terminal reconnects with exponential backoff and jitter, capped, and at once when its network interfaces change', async () => {
    const s = await server();
    const proxy = await proxyTo(s);
    proxy.cut();
    const draws = [0, 0.999, 0.5, 0.25, 0, 0.75, 0.5, 1 - 1e-9];
    let draw = 0;
    let network = 'eth0=10.0.0.5';
    const t = fakeTimeCore(proxy.url, { random: () => draws[draw++ % draws.length]!, network: () => network });

    // Each refused dial waits a random share (the upper half) of a ceiling that doubles from 250 ms up to 15 s.
    const delays: number[] = [];
    for (let i = 0; i < draws.length; i++) {
      await t.until(() => t.wire.dials === i + 1 && t.core.syncStatus().nextAttemptAt !== null, `refused dial ${i + 1} to be rescheduled`);
      const delay = t.core.syncStatus().nextAttemptAt! - t.time.clock.now();
      delays.push(delay);
      if (i === draws.length - 1) break;
      t.time.advance(delay - 1);
      expect(t.wire.dials).toBe(i + 1); // not a moment early
      t.time.advance(1);
      expect(t.wire.dials).toBe(i + 2);
    }
    const ceilings = [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000];
    expect(delays).toEqual(ceilings.map((c, i) => Math.round(c / 2 + draws[i]! * (c / 2))));
    expect(t.core.syncStatus().status).toBe('offline');

    // While the interfaces stay the same, their polls change nothing; the server comes back and
    // the terminal connects when its backoff ends.
    proxy.restore();
    const left = t.core.syncStatus().nextAttemptAt! - t.time.clock.now();
    t.time.advance(left - 1);
    expect(t.wire.dials).toBe(draws.length);
    t.time.advance(1);
    expect(t.wire.dials).toBe(draws.length + 1);
    await t.until(() => t.core.syncStatus().status === 'online', 'online when the backoff ended');

    // A good connection (up for 30 s, its pings answered) resets the backoff: the next loss waits
    // the shortest delay again.
    const pongs = () => t.wire.received.filter((x) => x === 'pong').length;
    for (let i = 0; i < 10; i++) {
      const before = pongs();
      t.time.advance(3000);
      await t.until(() => pongs() > before, `pong ${i + 1} of the good connection`);
    }
    expect(t.core.syncStatus().status).toBe('online');
    proxy.cut();
    await t.until(() => t.core.syncStatus().nextAttemptAt !== null, 'the reconnect after the cut');
    const first = t.core.syncStatus().nextAttemptAt! - t.time.clock.now();
    expect(first).toBeGreaterThanOrEqual(125);
    expect(first).toBeLessThanOrEqual(250);

    // Refused a few more times, it would next wait seconds; when the interfaces change it dials
    // at the next poll (every 2 s), long before that.
    let dials = t.wire.dials;
    while (t.core.syncStatus().nextAttemptAt! - t.time.clock.now() < 4000) {
      t.time.advance(t.core.syncStatus().nextAttemptAt! - t.time.clock.now());
      expect(t.wire.dials).toBe(++dials);
      await t.until(() => t.core.syncStatus().nextAttemptAt !== null, `refused dial ${dials} to be rescheduled`);
    }
    proxy.restore();
    const waitingUntil = t.core.syncStatus().nextAttemptAt!;
    network = 'eth0=10.0.0.5,wlan0=192.168.1.20';
    t.time.advance(2000);
    expect(t.wire.dials).toBe(dials + 1);
    await t.until(() => t.core.syncStatus().status === 'online', 'online after the network change');
    expect(t.time.clock.now()).toBeLessThan(waitingUntil);
  });

  it('OFF-8 PROTO-11 a link that stops answering is found dead by the heartbeat within seconds (ping every 3 s, dead 6 s after an unanswered ping), then reconnected', async () => {
    const s = await server();
    const proxy = await proxyTo(s);
    const t = fakeTimeCore(proxy.url, { random: () => 0 });
    await t.until(() => t.core.syncStatus().status === 'online', 'online');
    const pings = () => t.wire.sent.filter((x) => x === 'ping').length;
    const pongs = () => t.wire.received.filter((x) => x === 'pong').length;

    // A live link: a ping every 3 s, each answered, so it stays up however long time runs.
    t.time.advance(3000);
    expect(pings()).toBe(1);
    await t.until(() => pongs() === 1, 'the pong');
    for (let i = 2; i <= 4; i++) {
      t.time.advance(3000);
      expect(pings()).toBe(i);
      await t.until(() => pongs() === i, `pong ${i}`);
    }
    expect(t.core.syncStatus().status).toBe('online');
    expect(t.wire.dials).toBe(1);

    // The server's side goes silent (the TCP connection stays open: no close ever arrives).
    proxy.hold();
    t.time.advance(3000);
    expect(pings()).toBe(5);
    t.time.advance(5999);
    expect(t.core.syncStatus().status).toBe('online');
    t.time.advance(1);
    expect(t.core.syncStatus()).toMatchObject({ status: 'offline', lastError: 'the server stopped answering' });

    // It reconnects after the shortest backoff (the last connection was good).
    proxy.release();
    const delay = t.core.syncStatus().nextAttemptAt! - t.time.clock.now();
    expect(delay).toBe(125);
    t.time.advance(delay);
    expect(t.wire.dials).toBe(2);
    await t.until(() => t.core.syncStatus().status === 'online', 'online again');
  });
});

// ---------------------------------------------------------------------------------------------
// Rules no test named: ASG-4, SYNC-2, SYNC-5

describe('rules end to end', () => {
  it('ASG-4 DUP-1 assigning a task to the operator who already holds it is a duplicate and changes nothing', async () => {
    const s = await server();
    const { token: sue } = await apiToken(s, 'sue');
    const { token: ann } = await apiToken(s, 'ann');
    expect((await call(s, '/api/tasks/t1/claim', { token: ann, body: {} })).status).toBe(200);
    expect((await call(s, '/api/tasks/t2/assign', { token: sue, body: { userId: 'ann' } })).status).toBe(200);

    for (const taskId of ['t1', 't2']) {
      const now = s.clock.now();
      const before = { task: await s.store.getTask(taskId, now), assignments: await s.store.listAssignments(taskId), notes: (await s.store.listNotifications('ann', 100)).length };
      const r = await call(s, `/api/tasks/${taskId}/assign`, { token: sue, body: { userId: 'ann' } });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'duplicate_assignment' });
      expect(await s.store.getTask(taskId, now)).toEqual(before.task);
      expect(await s.store.listAssignments(taskId)).toEqual(before.assignments);
      expect(before.assignments.filter((x) => ['assigned', 'accepted', 'in_progress'].includes(x.status))).toHaveLength(1);
      expect((await s.store.listNotifications('ann', 100)).length).toBe(before.notes);
    }
    // Someone else is still a plain conflict (ASG-3), not a duplicate.
    expect((await call(s, '/api/tasks/t1/assign', { token: sue, body: { userId: 'bob' } })).body).toMatchObject({ code: 'task_conflict' });
  });

  it('SYNC-2 a task moved to another department reaches the old department\'s terminal, which drops it, and the new department\'s, which gains it', async () => {
    const s = await server();
    await addQaKiosk(s);
    const cut = await terminal(s.url, 'k1');
    const qa = await terminal(s.url, 'k3');
    await cut.core.signIn({ badge: 'B-ANN' });
    await qa.core.signIn({ badge: 'B-QIN' });
    expect((await cut.core.listClaimable({ offset: 0, limit: 50 })).items.map((t) => t.id)).toContain('t2');
    expect(qa.core.store.task('t2')).toBeNull();

    const moved = await s.store.importTasks([taskRow('t2', { departmentId: 'qa', step: 'inspect' })], s.clock.now());
    expect(moved.ok).toBe(true);
    await caughtUp(s, cut);
    await caughtUp(s, qa);
    expect(cut.core.store.task('t2')).toBeNull();
    expect(cut.core.store.baseTask('t2')).toBeNull();
    expect((await cut.core.listClaimable({ offset: 0, limit: 50 })).items.map((t) => t.id)).not.toContain('t2');
    expect(qa.core.store.task('t2')).toMatchObject({ departmentId: 'qa' });
    expect((await qa.core.listClaimable({ offset: 0, limit: 50 })).items.map((t) => t.id)).toContain('t2');
  });

  it('SYNC-5 a site configuration change reaches every terminal, of every department, also one that was off when it changed', async () => {
    const s = await server();
    await addQaKiosk(s);
    const cut = await terminal(s.url, 'k1');
    let qa = await terminal(s.url, 'k3');
    const seen: number[] = [];
    cut.core.subscribe((e) => e.type === 'config' && seen.push(e.config.cooldownMinutes));
    qa.core.close();

    await s.store.setConfig({ ...(await s.store.getConfig()), cooldownMinutes: 5, defaultTaskLimit: 7 }, s.clock.now());
    await caughtUp(s, cut);
    expect((await cut.core.getSnapshot()).config).toMatchObject({ cooldownMinutes: 5, defaultTaskLimit: 7 });
    expect(seen).toContain(5);

    qa = await terminal(s.url, 'k3', qa.dataDir);
    await caughtUp(s, qa);
    expect((await qa.core.getSnapshot()).config).toMatchObject({ cooldownMinutes: 5, defaultTaskLimit: 7 });
  });
});
