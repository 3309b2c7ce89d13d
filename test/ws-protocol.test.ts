/** Protocol v1 over real WebSocket connections to a real server on loopback (docs/PROTOCOL.md). */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANGE_PAGE_SIZE, PROTOCOL_VERSION, type ServerFrame } from '../src-shared/protocol/terminal.js';
import { THREAD_SNAPSHOT_PAGE } from '../src-server/sync/hub.js';
import { holdCalls } from './support/hold.js';
import { apiToken, call, eventually } from './support/http-client.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN, newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';
import { tokenHash } from '../src-shared/crypto/hash.js';

let server: TestServer;
/** Releases of what a test holds open (a store read, a commit), called after every test. */
const holds: Array<() => void> = [];
const open: TestClient[] = [];

async function connect(opts: { terminalId?: string; token?: string; cursor?: number | null; lastAckedMutationId?: number } = {}) {
  const c = await TestClient.connect(server.wsUrl, {
    terminalId: opts.terminalId ?? 'k1',
    token: opts.token ?? TERMINAL_TOKEN,
    cursor: opts.cursor ?? null,
    lastAckedMutationId: opts.lastAckedMutationId ?? 0,
    clientTime: server.clock.now(),
  });
  open.push(c);
  return c;
}

/** Read change pages (acknowledging each) until the server has nothing more. */
async function drain(c: TestClient): Promise<Extract<ServerFrame, { type: 'changes' }>[]> {
  const seen = new Set<ServerFrame>();
  const pages: Extract<ServerFrame, { type: 'changes' }>[] = [];
  for (;;) {
    const page = await c.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && !seen.has(f));
    seen.add(page);
    pages.push(page);
    c.sendRaw({ type: 'ack', cursor: page.cursor ?? 0 });
    if (!page.more) return pages;
  }
}

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  // Store reads or commits a failed test held open are let go first, or stopping the server waits on them.
  for (const release of holds.splice(0)) release();
  for (const c of open.splice(0)) c.close();
  await server.stop();
});

describe('handshake', () => {
  it.each([
    [0, 'terminal_too_old'],
    [PROTOCOL_VERSION + 1, 'server_too_old'],
  ])('PROTO-1 a terminal speaking protocol %i gets an explicit %s answer', async (version, reason) => {
    const c = await TestClient.open(server.wsUrl);
    open.push(c);
    c.sendRaw({ type: 'hello', protocolVersion: version, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: 0, appVersion: 'x' });
    const f = await c.waitFor((x) => x.type === 'incompatible');
    expect(f).toMatchObject({ type: 'incompatible', reason, minProtocolVersion: 1, maxProtocolVersion: PROTOCOL_VERSION });
    expect(await c.waitClose()).toBe(4426);
  });

  it.each([
    ['a wrong token', 'k1', 'nope', /token is wrong/],
    ['an unknown terminal', 'k9', TERMINAL_TOKEN, /not enrolled/],
  ])('PROTO-2 %s is refused as unauthenticated and the connection closed', async (_label, terminalId, token, problem) => {
    const c = await connect({ terminalId, token });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.fatal).toBe(true);
    expect(f.error.code).toBe('unauthenticated');
    expect(String(f.error.details.problem)).toMatch(problem);
    expect(await c.waitClose()).toBe(4401);
  });

  it('PROTO-2 a disabled terminal is refused even with its right token', async () => {
    await server.store.updateTerminal('k1', { active: false }, server.clock.now());
    const c = await connect();
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error.details.problem).toMatch(/disabled/);
    expect(await c.waitClose()).toBe(4401);
  });

  it('PROTO-3 a first frame that is not a hello closes the connection with a reason', async () => {
    const c = await TestClient.open(server.wsUrl);
    open.push(c);
    c.sendRaw({ type: 'ping', t: 1 });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error.details.problem).toMatch(/first frame must be a hello/);
    expect(await c.waitClose()).toBe(4400);
  });

  it('SEC-9 PROTO-3 a frame over 16 KiB before the hello closes the connection unparsed, saying a hello comes first and how big it may be', async () => {
    const c = await TestClient.open(server.wsUrl);
    open.push(c);
    c.sendRaw({ type: 'ping', t: 1, pad: '['.repeat(20_000) });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error.code).toBe('payload_too_large');
    expect(f.error.details.problem).toMatch(/before the hello; the first frame must be a hello, at most 16384 bytes/);
    expect(await c.waitClose()).toBe(4400);
  });

  it.each([
    ['disables the terminal', 4401, { active: false }],
    ['replaces its token', 4401, { rotateToken: true }],
    ['changes its departments', 4205, { departments: ['cut', 'qa'] }],
  ])('API-8 PROTO-2 an administrator who %s while the handshake reads the terminal closes that connection as a live one (%i), not welcomed with the old row', async (_label, code, patch) => {
    await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [] }), server.clock.now());
    const ada = (await apiToken(server, 'ada')).token;
    // The handshake's read of the terminal has read the row as it was; its answer is held back.
    const read = holdCalls(server.store, 'getTerminal', holds, { when: 'after', only: 'first' });
    const c = await TestClient.open(server.wsUrl);
    open.push(c);
    c.sendRaw({ type: 'hello', protocolVersion: PROTOCOL_VERSION, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now(), appVersion: 'test', outbox: 0 });
    await eventually(() => read.calls > 0, 2000, 'the handshake to read the terminal');
    expect((await call(server, '/api/terminals/k1', { token: ada, method: 'PATCH', body: patch })).status).toBe(200);
    read.release();
    expect(await c.waitClose()).toBe(code);
    expect(c.frames.filter((f) => f.type === 'welcome' || f.type === 'changes')).toEqual([]);
    expect(server.ctx.hub.connectedTerminals()).not.toContain('k1');
  });

  it.each([
    ['disabled', 4401, { active: false }],
    ['given a new token', 4401, { tokenHash: tokenHash('term_rotated_elsewhere') }],
    ['given other departments', 4205, { departments: ['cut', 'qa'] }],
  ])('API-8 PROTO-2 a terminal %s by another server instance or a CLI command (its row changed, not through this hub) is disconnected at the next revalidation (%i)', async (_label, code, patch) => {
    await server.stop();
    server = await startTestServer({ hub: { revalidateMs: 100 } });
    const c = await connect();
    await new Promise((r) => setTimeout(r, 300));
    expect(server.ctx.hub.connectedTerminals()).toContain('k1');
    await server.store.updateTerminal('k1', patch, server.clock.now());
    expect(await c.waitClose(3000)).toBe(code);
    expect(server.ctx.hub.connectedTerminals()).not.toContain('k1');
  });

  it('PROTO-10 a newer connection of the same terminal replaces the older one', async () => {
    const a = await connect();
    await connect();
    expect(await a.waitClose()).toBe(4409);
  });

  it('PROTO-13 the handshake measures the terminal clock offset', async () => {
    const c = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, clientTime: server.clock.now() - 90_000 });
    open.push(c);
    expect((await server.store.getTerminal('k1'))!.clockOffsetMs).toBe(90_000);
  });
});

describe('bad frames after the handshake', () => {
  it('PROTO-3 non-JSON, unknown types and invalid fields get an error naming the problem; the connection carries on', async () => {
    const c = await connect();
    c.sendRaw('this is not json');
    c.sendRaw({ type: 'teleport' });
    c.sendRaw({ type: 'ack', cursor: -4 });
    c.sendRaw({ type: 'ping', t: 42 });
    await c.waitFor((f) => f.type === 'pong');
    const errors = c.frames.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
    expect(errors.map((e) => [e.error.code, e.error.details.field, e.fatal])).toEqual([
      ['invalid_input', 'frame', false],
      ['invalid_input', 'type', false],
      ['invalid_input', 'cursor', false],
    ]);
    expect(errors[1]!.error.details.problem).toMatch(/"teleport" is not a message type/);
    expect(c.closeCode).toBeNull();
  });

  it('PROTO-4 an oversized frame gets payload_too_large and the connection carries on; a huge one closes it (1009)', async () => {
    const c = await connect();
    c.sendRaw({ type: 'ping', t: 1, pad: 'x'.repeat(1_500_000) });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error.code).toBe('payload_too_large');
    c.sendRaw({ type: 'ping', t: 2 });
    await c.waitFor((x) => x.type === 'pong');
    c.sendRaw('x'.repeat(5 * 1024 * 1024));
    expect(await c.waitClose()).toBe(1009);
  });

  it('PROTO-6 in one push, a mutation without an id is ignored with an error; a malformed one is rejected alone; the rest apply', async () => {
    const c = await connect();
    c.sendRaw({
      type: 'push',
      mutations: [
        { id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() },
        { name: 'claim', args: { taskId: 't1' } },
        { id: 2, name: 'claim', args: { taskId: "t1'; DROP TABLE tasks;--" }, operatorId: 'ann', clientTime: server.clock.now() },
        { id: 3, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
      ],
    });
    await c.waitFor((f) => f.type === 'results' && f.outcomes.some((o) => o.id === 3));
    const err = c.frames.find((f) => f.type === 'error') as Extract<ServerFrame, { type: 'error' }>;
    expect(err.error.details).toMatchObject({ field: 'mutations.1.id' });
    const byId = new Map(c.outcomes().map((o) => [o.id, o]));
    expect(byId.get(2)).toMatchObject({ status: 'rejected', error: { code: 'invalid_input', details: { field: 'args.taskId' } } });
    expect(byId.get(3)).toMatchObject({ status: 'applied', task: { operatorId: 'ann' } });
    expect((await server.store.listTasks({}, { limit: 100, offset: 0 })).total).toBeGreaterThan(0);
  });
});

describe('mutations', () => {
  it('PROTO-5 a mutation re-sent after a dropped connection gets its stored outcome, with its task as it is now, and never applies twice', async () => {
    const a = await connect();
    await a.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    a.sendRaw({ type: 'push', mutations: [{ id: 2, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() }] });
    a.ws.terminate(); // the link dies before the terminal reads the outcome
    await expect.poll(async () => (await server.store.getTerminal('k1'))!.lastMutationId).toBe(2);
    const b = await connect({ cursor: null, lastAckedMutationId: 1 });
    const resent = await b.waitFor<Extract<ServerFrame, { type: 'results' }>>((f) => f.type === 'results');
    expect(resent.outcomes.map((o) => [o.id, o.status])).toEqual([[2, 'applied']]);
    // With the task as it is now, so the terminal need not fall back to its older row.
    expect(resent.outcomes[0]).toMatchObject({ task: { id: 't1', operatorId: 'ann', version: 2 } });
    const [again] = await b.mutate([{ id: 2, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    expect(again).toEqual(resent.outcomes[0]);
    expect(await server.store.listAssignments('t1')).toHaveLength(1);
    expect((await server.store.getTask('t1', server.clock.now()))!.version).toBe(2);
  });

  it('SYNC-1 SEC-10 an outcome never carries a task of a department the terminal does not serve, also when sent again', async () => {
    // q1 is Quality's (held by qin); k1 serves Cutting only.
    expect((await call(server, '/api/tasks/q1/claim', { token: (await apiToken(server, 'qin')).token, body: {} })).status).toBe(200);
    const a = await connect();
    await a.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    const [claimQ1, startQ1, claimDraft] = await a.mutate([
      { id: 2, name: 'claim', args: { taskId: 'q1' }, operatorId: 'ann', clientTime: server.clock.now() },
      { id: 3, name: 'start', args: { taskId: 'q1' }, operatorId: 'ann', clientTime: server.clock.now() },
      { id: 4, name: 'claim', args: { taskId: 'draft1' }, operatorId: 'ann', clientTime: server.clock.now() },
    ]);
    expect(claimQ1).toMatchObject({ status: 'rejected', error: { code: 'permission_denied' }, task: null });
    expect(startQ1).toMatchObject({ status: 'rejected', task: null });
    // A task of its own department still comes with the refusal (OFF-4).
    expect(claimDraft).toMatchObject({ status: 'rejected', error: { code: 'task_draft' }, task: { id: 'draft1' } });
    // Sent again after a reconnect, from storage (PROTO-5): still without the other department's task.
    a.close();
    const b = await connect({ cursor: null, lastAckedMutationId: 1 });
    const resent = await b.waitFor<Extract<ServerFrame, { type: 'results' }>>((f) => f.type === 'results');
    expect(resent.outcomes.map((o) => [o.id, o.status !== 'retry' ? o.task?.id ?? null : 'retry'])).toEqual([
      [2, null],
      [3, null],
      [4, 'draft1'],
    ]);
    const [again] = await b.mutate([{ id: 2, name: 'claim', args: { taskId: 'q1' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    expect(again).toMatchObject({ status: 'rejected', task: null });
    expect(JSON.stringify([...a.frames, ...b.frames])).not.toContain('Cut part q1');
  });

  it('PROTO-8 a terminal acts only on tasks of the departments it serves, even for an operator who belongs to the task\u2019s department', async () => {
    // Ann works in Cutting and Quality; k1 serves Cutting only, so it never shows q1 (Quality).
    await server.store.updateUser('ann', { departmentIds: ['cut', 'qa'] }, server.clock.now());
    const c = await connect();
    await c.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    const [claimQ1, claimT1] = await c.mutate([
      { id: 2, name: 'claim', args: { taskId: 'q1' }, operatorId: 'ann', clientTime: server.clock.now() },
      { id: 3, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
    ]);
    expect(claimQ1).toMatchObject({ status: 'rejected', error: { code: 'permission_denied', details: { taskId: 'q1', terminalId: 'k1' } }, task: null });
    // What the kiosk shows: the task was moved away (the only way a kiosk that is not tampered with gets here).
    expect(claimQ1?.status === 'rejected' ? claimQ1.error.message : '').toContain('no longer in the departments of this terminal');
    // Nor where it went (SEC-10).
    expect(claimQ1?.status === 'rejected' ? claimQ1.error.details : {}).not.toHaveProperty('departmentId');
    expect(claimT1).toMatchObject({ status: 'applied', task: { id: 't1', operatorId: 'ann' } });
    const q1 = (await server.store.getTask('q1', server.clock.now()))!;
    expect(q1).toMatchObject({ operatorId: null, version: 1 });
    // Quality's supervisors are not handed an exception a Cutting kiosk made up; the audit keeps the attempt.
    expect((await server.store.listExceptions({ departmentIds: ['qa'] }, { limit: 10, offset: 0 })).total).toBe(0);
    expect(await server.store.listAudit({ taskId: 'q1', limit: 10 })).toMatchObject([{ action: 'claim', outcome: 'permission_denied', terminalId: 'k1' }, ...[]]);
    // Over HTTP, where Ann acts for herself, the same claim is hers to make.
    expect((await call(server, '/api/tasks/q1/claim', { token: (await apiToken(server, 'ann')).token, body: {} })).status).toBe(200);
  });

  it('PROTO-9 a transient failure answers retry without consuming the id; later mutations wait, then all apply in order', async () => {
    const c = await connect();
    await c.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    // The first group's commit fails (a disk hiccup): however the committer groups mutations 2
    // and 3 (one group, or one each on a slow machine), the terminal's later mutation must wait.
    const original = server.store.runGroup.bind(server.store);
    let failOnce = true;
    server.store.runGroup = (units) => {
      if (!failOnce) return original(units);
      failOnce = false;
      return Promise.reject(new Error('injected fault: disk hiccup'));
    };
    c.sendRaw({
      type: 'push',
      mutations: [
        { id: 2, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
        { id: 3, name: 'start', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
      ],
    });
    await c.waitFor((f) => f.type === 'results' && f.outcomes.some((o) => o.id === 3));
    expect(c.outcomes().map((o) => [o.id, o.status])).toEqual([
      [1, 'applied'],
      [2, 'retry'],
      [3, 'retry'],
    ]);
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(1);
    const outcomes = await c.mutate([
      { id: 2, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
      { id: 3, name: 'start', args: { taskId: 't1' }, operatorId: 'ann', clientTime: server.clock.now() },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied']);
    expect((await server.store.getTask('t1', server.clock.now()))!.status).toBe('in_progress');
  });

  it('CLM-9 two terminals claiming the same task at the same moment: one wins, the other is told who', async () => {
    const a = await connect();
    const b = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN });
    await a.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    await b.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'bob', clientTime: server.clock.now() }]);
    const [ra, rb] = await Promise.all([
      a.mutate([{ id: 2, name: 'claim', args: { taskId: 't2' }, operatorId: 'ann', clientTime: server.clock.now() }]),
      b.mutate([{ id: 2, name: 'claim', args: { taskId: 't2' }, operatorId: 'bob', clientTime: server.clock.now() }]),
    ]);
    const results = [ra![0]!, rb![0]!];
    const winners = results.filter((o) => o.status === 'applied');
    const losers = results.filter((o) => o.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const winner = winners[0]!.status === 'applied' ? winners[0]!.task!.operatorId : null;
    expect(losers[0]).toMatchObject({ error: { code: 'task_conflict', details: { currentOwner: { id: winner } } }, task: { operatorId: winner } });
  });

  it('PROTO-12 a terminal that floods mutations beyond the pending limit gets retry answers, not a dropped connection', async () => {
    await server.stop();
    server = await startTestServer({ hub: { maxPendingMutations: 3 } });
    const c = await connect();
    const now = server.clock.now();
    c.sendRaw({
      type: 'push',
      mutations: Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now })),
    });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'results' }>>((x) => x.type === 'results');
    expect(f.outcomes.every((o) => o.status === 'retry' && o.error.code === 'rate_limited')).toBe(true);
    const ok = await c.mutate([{ id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now }]);
    expect(ok[0]!.status).toBe('applied');
  });

  it('PROTO-12 the pending limit counts a terminal’s queued mutations across its connections: a reconnect’s re-sent copies count against it, and one queued again is answered from its stored outcome', async () => {
    await server.stop();
    server = await startTestServer({ hub: { maxPendingMutations: 3 } });
    // Commits are held, so what the first connection pushed stays queued.
    const commits = holdCalls(server.store, 'runGroup', holds, { when: 'before', only: 'every' });
    const now = server.clock.now();
    const push = (c: TestClient) =>
      c.sendRaw({ type: 'push', mutations: Array.from({ length: 3 }, (_, i) => ({ id: i + 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now })) });
    const first = await connect();
    push(first);
    await eventually(() => commits.calls > 0, 2000, 'the first push to be queued');
    first.close();
    const second = await connect();
    push(second);
    const f = await second.waitFor<Extract<ServerFrame, { type: 'results' }>>((x) => x.type === 'results');
    expect(f.outcomes.map((o) => [o.id, o.status, o.status === 'retry' ? o.error.code : null])).toEqual([
      [1, 'retry', 'rate_limited'],
      [2, 'retry', 'rate_limited'],
      [3, 'retry', 'rate_limited'],
    ]);
    commits.release();
    // The first connection's three are committed once; a re-sent one is answered from its outcome.
    await eventually(async () => (await server.store.getTerminal('k1'))!.lastMutationId === 3, 5000, 'the first three to be committed');
    expect((await second.mutate([{ id: 3, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now }]))[0]!.status).toBe('applied');
  });
  it('PROTO-12 PROTO-9 a push refused as rate-limited holds back the terminal’s later pushes until its ids are re-sent: none is lost as "already used"', async () => {
    await server.stop();
    server = await startTestServer({ hub: { maxPendingMutations: 3 } });
    const commits = holdCalls(server.store, 'runGroup', holds, { when: 'before', only: 'every' });
    const now = server.clock.now();
    const signIns = (ids: number[]) => ids.map((id) => ({ id, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now }));
    const c = await connect();
    const seen = new Set<ServerFrame>();
    const nextResults = async () => {
      const f = await c.waitFor<Extract<ServerFrame, { type: 'results' }>>((x) => x.type === 'results' && !seen.has(x));
      seen.add(f);
      return f.outcomes.map((o) => [o.id, o.status, o.status === 'retry' ? o.error.code : null]);
    };
    c.sendRaw({ type: 'push', mutations: signIns([1, 2]) });
    await eventually(() => commits.calls > 0, 2000, 'the first push to be queued');
    c.sendRaw({ type: 'push', mutations: signIns([3, 4]) });
    expect(await nextResults()).toEqual([
      [3, 'retry', 'rate_limited'],
      [4, 'retry', 'rate_limited'],
    ]);
    // The kiosk sends its next outbox entry at once, while its retry timer for 3 and 4 waits.
    c.sendRaw({ type: 'push', mutations: signIns([5]) });
    expect(await nextResults()).toEqual([[5, 'retry', 'rate_limited']]);
    commits.release();
    expect(await nextResults()).toEqual([
      [1, 'applied', null],
      [2, 'applied', null],
    ]);
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(2);
    // The retry timer fires: everything from 3 is re-sent, and all of it applies, in order.
    const resent = await c.mutate(signIns([3, 4, 5]));
    expect(resent.map((o) => [o.id, o.status])).toEqual([
      [3, 'applied'],
      [4, 'applied'],
      [5, 'applied'],
    ]);
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(5);
  });
  it('SIM-1 PROTO-4 PROTO-9 a push refused as a whole (over 1 MiB, over 500 mutations) answers each id it holds with retry, and later pushes wait for those: nothing is stranded or lost', async () => {
    const c = await connect();
    const now = server.clock.now();
    const signIn = (id: number, extra: Record<string, unknown> = {}) => ({ id, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now, ...extra });
    const seen = new Set<ServerFrame>();
    const next = async <T extends ServerFrame['type']>(type: T) => {
      const f = await c.waitFor<Extract<ServerFrame, { type: T }>>((x) => x.type === type && !seen.has(x));
      seen.add(f);
      return f;
    };
    const retries = async () => (await next('results')).outcomes.map((o) => [o.id, o.status, o.status === 'retry' ? o.error.code : null]);
    expect((await c.mutate([signIn(1)]))[0]!.status).toBe('applied');
    seen.add(c.frames.find((f) => f.type === 'results')!);

    // Over 1 MiB: one error frame, and every id of the push answered retry.
    c.sendRaw({ type: 'push', mutations: [signIn(2), signIn(3, { pad: 'x'.repeat(1_100_000) })] });
    expect((await next('error')).error.code).toBe('payload_too_large');
    expect(await retries()).toEqual([
      [2, 'retry', 'payload_too_large'],
      [3, 'retry', 'payload_too_large'],
    ]);
    // The terminal's next outbox entry, sent at once, does not overtake them.
    c.sendRaw({ type: 'push', mutations: [signIn(4)] });
    expect(await retries()).toEqual([[4, 'retry', 'rate_limited']]);

    // Over 500 mutations: refused by the schema, its ids answered the same way.
    c.sendRaw({ type: 'push', mutations: Array.from({ length: 501 }, (_, i) => signIn(i + 2)) });
    expect((await next('error')).error.details).toMatchObject({ field: 'mutations' });
    const big = await retries();
    expect(big).toHaveLength(500);
    expect(big[0]).toEqual([2, 'retry', 'invalid_input']);
    expect(big.every(([, status, code]) => status === 'retry' && code === 'invalid_input')).toBe(true);

    // Sent again as the terminal re-sends (from the lowest id answered retry), all of them apply in order.
    const again = await c.mutate([signIn(2), signIn(3), signIn(4)]);
    expect(again.map((o) => [o.id, o.status])).toEqual([
      [2, 'applied'],
      [3, 'applied'],
      [4, 'applied'],
    ]);
    expect((await server.store.getTerminal('k1'))!.lastMutationId).toBe(4);
  });
  it('SEC-9 PROTO-4 a frame nested more than 32 levels deep is refused unparsed with invalid_input saying so, and the connection carries on (strings full of brackets are fine)', async () => {
    const c = await connect();
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    c.sendRaw(`{"type":"push","mutations":${deep}}`);
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error).toMatchObject({ code: 'invalid_input', details: { field: 'frame' } });
    expect(f.error.details.problem).toMatch(/nests arrays or objects more than 32 levels deep/);
    // Brackets inside a string are text, not nesting: a reason made of them is stored as sent.
    const now = server.clock.now();
    const reason = '[{'.repeat(200) + '\\"]';
    const [signIn, claim, reject] = await c.mutate([
      { id: 1, name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now },
      { id: 2, name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: now },
      { id: 3, name: 'reject', args: { taskId: 't1', reason }, operatorId: 'ann', clientTime: now },
    ]);
    expect([signIn!.status, claim!.status, reject!.status]).toEqual(['applied', 'applied', 'applied']);
    expect(c.closeCode).toBeNull();
  });
  it('SEC-9 PROTO-4 an oversized push too costly to parse (hundreds of thousands of tiny values) gets its error frame alone, and the connection carries on', async () => {
    const c = await connect();
    const tiny = Array.from({ length: 300_000 }, (_, i) => ({ id: i + 1 }));
    c.sendRaw({ type: 'push', mutations: tiny });
    await c.ping();
    const answers = c.frames.filter((f) => f.type === 'error' || f.type === 'results');
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: 'error', error: { code: 'payload_too_large' } });
    expect(c.closeCode).toBeNull();
  });
});

describe('read sync', () => {
  it('SYNC-3 a first connection gets a snapshot of its departments, ending with a cursor', async () => {
    const c = await connect();
    const welcome = c.frames[0] as Extract<ServerFrame, { type: 'welcome' }>;
    expect(welcome).toMatchObject({ type: 'welcome', sync: 'snapshot', terminal: { id: 'k1', departments: ['cut'] }, lastMutationId: 0 });
    expect(welcome.siteSalt.length).toBeGreaterThan(0);
    const pages = await drain(c);
    expect(pages[0]!.reset).toBe(true);
    expect(pages.every((p) => p.mode === 'snapshot')).toBe(true);
    expect(pages.at(-1)!.cursor).toBe(await server.store.headSeq());
    const tasks = pages.flatMap((p) => p.tasks.map((t) => t.id)).sort();
    expect(tasks).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3']);
    const users = pages.flatMap((p) => p.users);
    expect(users.map((u) => u.id).sort()).toEqual(['ann', 'bob', 'sue']);
    expect(users.find((u) => u.id === 'ann')!.badgeHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('SYNC-1 SYNC-6 changes are pushed live to terminals of the department only, from their cursor', async () => {
    const head = await server.store.headSeq();
    const watcher = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: head });
    expect((watcher.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).sync).toBe('delta');
    await server.store.createTerminal({ id: 'kq', name: 'QA kiosk', departments: ['qa'], tokenHash: tokenHash('qa-token') }, server.clock.now());
    const qa = await connect({ terminalId: 'kq', token: 'qa-token', cursor: head });
    // Each first hears that it is caught up (an empty page), and acknowledges it.
    for (const c of [watcher, qa]) {
      const caughtUp = await c.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes');
      expect(caughtUp).toMatchObject({ mode: 'delta', cursor: head, more: false, tasks: [] });
      c.ackAll();
    }
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'ann', via: 'http' });
    const page = await watcher.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && f.tasks.length > 0);
    expect(page).toMatchObject({ mode: 'delta', reset: false });
    expect(page.tasks.map((t) => [t.id, t.operatorId])).toEqual([['t1', 'ann']]);
    expect(page.cursor).toBeGreaterThan(head);
    // The marker: a later change of qa's own department reaches qa. Pages carry the log in order
    // from qa's cursor, so had t1 been sent to qa it would have come by then.
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 'q1' }, actorId: 'qin', via: 'http' });
    await qa.waitFor((f) => f.type === 'changes' && f.tasks.some((t) => t.id === 'q1'));
    const toQa = qa.frames.flatMap((f) => (f.type === 'changes' ? f.tasks.map((t) => t.id) : []));
    expect(toQa).toEqual(['q1']);
  });

  it('SYNC-1 INST-2 a change after a quiet push interval reaches a caught-up terminal at once, not at the next tick', async () => {
    // A tick of a minute: the change can only arrive in time by going out when it is committed.
    await server.stop();
    server = await startTestServer({ hub: { pushIntervalMs: 60_000 } });
    const head = await server.store.headSeq();
    const watcher = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: head });
    await watcher.waitFor((f) => f.type === 'changes');
    watcher.ackAll();
    await watcher.ping();
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'ann', via: 'http' });
    const page = await watcher.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && f.tasks.length > 0, 5_000);
    expect(page.tasks.map((t) => [t.id, t.operatorId])).toEqual([['t1', 'ann']]);
  });

  /**
   * Hold the next change-page read after it has read, make a change in Quality only (written
   * outside the committer: the push tick marks every terminal, so a read begins), then commit a
   * claim of Cutting's and let push ticks pass while that read, from before the claim, is held.
   */
  async function holdReadAcrossClaim(): Promise<{ release(): void }> {
    const read = holdCalls(server.store, 'changesPage', holds, { when: 'after', only: 'first' });
    await server.store.updateUser('qin', { taskLimit: 7 }, server.clock.now());
    await eventually(() => read.calls === 1, 2000, 'the held read');
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'ann', via: 'http' });
    await new Promise((r) => setTimeout(r, 100));
    return read;
  }

  it('SYNC-1 a change committed while the terminal’s page was being read (and found nothing for it) still reaches the terminal', async () => {
    const head = await server.store.headSeq();
    const watcher = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: head });
    await watcher.waitFor((f) => f.type === 'changes');
    watcher.ackAll();
    // The next page read for Cutting is held until a claim of Cutting's has been committed and
    // several push ticks have passed; what it read (nothing for Cutting) is answered only then.
    const read = await holdReadAcrossClaim();
    read.release();
    const page = await watcher.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && f.tasks.length > 0, 3_000);
    expect(page.tasks.map((t) => [t.id, t.operatorId])).toEqual([['t1', 'ann']]);
  });

  it('SYNC-1 a kiosk that shares a page read begun before a commit (its peer’s, of the same departments and cursor) still receives that commit', async () => {
    const head = await server.store.headSeq();
    const k1 = await connect({ terminalId: 'k1', token: TERMINAL_TOKEN, cursor: head });
    await k1.waitFor((f) => f.type === 'changes');
    k1.ackAll();
    const k2 = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: head });
    await k2.waitFor((f) => f.type === 'changes');
    // k2 holds back its acknowledgement, so the ticks pass it by while k1's read is held.
    await new Promise((r) => setTimeout(r, 100));
    const read = await holdReadAcrossClaim();
    // Now k2 is pumped while k1's read (from before the claim) is still under way, and joins it.
    k2.ackAll();
    await new Promise((r) => setTimeout(r, 100));
    read.release();
    for (const k of [k1, k2]) {
      const page = await k.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && f.tasks.length > 0, 3_000);
      expect(page.tasks.map((t) => [t.id, t.operatorId])).toEqual([['t1', 'ann']]);
    }
  });

  it('SYNC-6 a burst of changes is coalesced into a few frames', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => taskRow(`burst${i}`));
    await server.store.importTasks(rows, server.clock.now());
    await server.store.updateUser('ann', { taskLimit: 1000 }, server.clock.now());
    const head = await server.store.headSeq();
    const watcher = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: head });
    const claims = rows.map((r) => server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: r.taskId }, actorId: 'ann', via: 'http' }));
    await Promise.all(claims);
    const seen = new Set<string>();
    let next = 0;
    for (let i = 0; i < 300 && seen.size < 300; i++) {
      const page = await watcher.waitFor<Extract<ServerFrame, { type: 'changes' }>>(
        (f) => f.type === 'changes' && watcher.frames.indexOf(f) >= next,
      );
      next = watcher.frames.indexOf(page) + 1;
      for (const t of page.tasks) if (t.operatorId === 'ann') seen.add(t.id);
      watcher.sendRaw({ type: 'ack', cursor: page.cursor });
    }
    expect(seen.size).toBe(300);
    const frames = watcher.frames.filter((f) => f.type === 'changes').length;
    expect(frames).toBeLessThan(30);
  });

  /**
   * Eight kiosks of Cutting, caught up: each acknowledges every page once it has applied it, kiosk i
   * after 1 + i * `ackStepMs` ms (some faster than others, as on a floor).
   */
  async function slowAckingKiosks(prefix: string, ackStepMs: number): Promise<TestClient[]> {
    const now = server.clock.now();
    for (let i = 0; i < 8; i++) await server.store.createTerminal({ id: `${prefix}${i}`, name: `Kiosk ${i}`, departments: ['cut'], tokenHash: tokenHash(`${prefix}-token-${i}`) }, now);
    const head = await server.store.headSeq();
    const kiosks = await Promise.all(Array.from({ length: 8 }, (_, i) => connect({ terminalId: `${prefix}${i}`, token: `${prefix}-token-${i}`, cursor: head })));
    kiosks.forEach((k, i) => {
      k.ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as ServerFrame;
        if (f.type === 'changes' && f.cursor !== null) setTimeout(() => k.sendRaw({ type: 'ack', cursor: f.cursor }), 1 + i * ackStepMs);
      });
    });
    for (const k of kiosks) {
      await k.waitFor((f) => f.type === 'changes' && !f.more);
      k.ackAll();
    }
    return kiosks;
  }

  /** Count the server's change-page reads until `stop()` puts the store back. */
  function countPageReads(): { reads: () => number; stop: () => void } {
    const store = server.store;
    const read = store.changesPage.bind(store);
    let reads = 0;
    store.changesPage = (...args) => {
      reads++;
      return read(...args);
    };
    return { reads: () => reads, stop: () => void (store.changesPage = read) };
  }

  it('SYNC-6 the caught-up terminals of a department share one page read per push tick', async () => {
    const now = server.clock.now();
    const rows = Array.from({ length: 60 }, (_, i) => taskRow(`tick${i}`));
    await server.store.importTasks(rows, now);
    await server.store.updateUser('ann', { taskLimit: 1000 }, now);
    const kiosks = await slowAckingKiosks('kt', 2);
    const counter = countPageReads();
    try {
      // Claims trickle in over many ticks, so acknowledgements arrive at different moments.
      for (const r of rows) {
        await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: r.taskId }, actorId: 'ann', via: 'http' });
        await new Promise((done) => setTimeout(done, 2));
      }
      for (const k of kiosks) await k.waitFor((f) => f.type === 'changes' && f.tasks.some((t) => t.id === 'tick59'));
    } finally {
      counter.stop();
    }
    const pages = Math.max(...kiosks.map((k) => k.frames.filter((f) => f.type === 'changes' && f.tasks.length > 0).length));
    expect(pages).toBeGreaterThan(3);
    // One read per tick serves all eight; reading per kiosk would be about eight times the pages.
    expect(counter.reads()).toBeLessThan(pages * 3);
  });

  it('SYNC-6 PROTO-1 terminals catching up after a large import share its full pages (as text frames), though they acknowledge at different moments', async () => {
    await server.stop();
    server = await startTestServer({ hub: { pageSize: 20 } });
    const now = server.clock.now();
    const store = server.store;
    const kiosks = await slowAckingKiosks('kc', 3);
    const counter = countPageReads();
    // The floor goes on working meanwhile: a claim commits every few milliseconds.
    await store.updateUser('ann', { taskLimit: 1000 }, now);
    let working = true;
    const floor = (async () => {
      for (let i = 0; working && i < 300; i++) {
        await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: `imp${299 - i}` }, actorId: 'ann', via: 'http' });
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    try {
      await store.importTasks(Array.from({ length: 300 }, (_, i) => taskRow(`imp${i}`)), now);
      for (const k of kiosks) await k.waitFor((f) => f.type === 'changes' && f.tasks.some((t) => t.id === 'imp299'), 15_000);
    } finally {
      working = false;
      await floor;
      counter.stop();
    }
    const pagesOf = (k: TestClient) => k.frames.filter((f) => f.type === 'changes' && f.tasks.some((t) => t.id.startsWith('imp'))).length;
    expect(Math.min(...kiosks.map(pagesOf))).toBeGreaterThanOrEqual(15);
    // A full page is read about once for all eight; read per kiosk, reads would match pages sent.
    const sent = kiosks.reduce((n, k) => n + pagesOf(k), 0);
    expect(counter.reads()).toBeLessThan(sent / 2);
    // A shared page goes out as the bytes encoded once for all, still as a JSON text frame.
    expect(kiosks.map((k) => k.binaryFrames)).toEqual(kiosks.map(() => 0));
  });

  it('SYNC-6 PROTO-12 a terminal catching up has its next page read while it applies the last one, and sent only after its ack', async () => {
    await server.stop();
    server = await startTestServer({ hub: { pageSize: 20 } });
    const c = await connect({ cursor: await server.store.headSeq() });
    await c.waitFor((f) => f.type === 'changes' && !f.more);
    c.ackAll();
    const store = server.store;
    const read = store.changesPage.bind(store);
    const cursorsRead: number[] = [];
    store.changesPage = (departments, afterSeq, ...rest) => {
      cursorsRead.push(afterSeq);
      return read(departments, afterSeq, ...rest);
    };
    try {
      const seen = new Set(c.frames);
      await store.importTasks(Array.from({ length: 100 }, (_, i) => taskRow(`ahead${i}`)), server.clock.now());
      type Changes = Extract<ServerFrame, { type: 'changes' }>;
      const first = await c.waitFor<Changes>((f) => !seen.has(f) && f.type === 'changes');
      expect(first.more).toBe(true);
      // Not acknowledged yet: the next page is read already, and not sent.
      await eventually(() => cursorsRead.includes(first.cursor!), 3000, 'the next page to be read ahead');
      await c.ping();
      expect(c.frames.filter((f) => !seen.has(f) && f.type === 'changes')).toHaveLength(1);
      // Acknowledged page by page, the import arrives whole.
      const ids = new Set<string>();
      for (let page = first; ; ) {
        seen.add(page);
        for (const t of page.tasks) ids.add(t.id);
        c.sendRaw({ type: 'ack', cursor: page.cursor ?? 0 });
        if (!page.more) break;
        page = await c.waitFor<Changes>((f) => !seen.has(f) && f.type === 'changes');
      }
      expect([...ids].filter((id) => id.startsWith('ahead'))).toHaveLength(100);
    } finally {
      store.changesPage = read;
    }
  });

  it('PROTO-12 change pages wait for the terminal to acknowledge the previous one', async () => {
    await server.stop();
    server = await startTestServer({ hub: { pageSize: 2 } });
    const c = await connect();
    await c.waitFor((f) => f.type === 'changes');
    // The marker: live changes are pushed by the hub's push timer, to every terminal not waiting for
    // an ack in the same pass. Once a live terminal has received a change committed now, that timer
    // has run since c's first page; had it sent c a second page, c's pong would come after it.
    const watcher = await connect({ terminalId: 'k2', token: TERMINAL2_TOKEN, cursor: await server.store.headSeq() });
    await watcher.waitFor((f) => f.type === 'changes');
    watcher.ackAll();
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'ann', via: 'http' });
    await watcher.waitFor((f) => f.type === 'changes' && f.tasks.some((t) => t.id === 't1'));
    await c.ping();
    expect(c.frames.filter((f) => f.type === 'changes')).toHaveLength(1);
    const pages = await drain(c);
    expect(pages.length).toBeGreaterThan(3);
  });

  it('SYNC-4 a terminal whose cursor is older than the pruned change log gets a full resync', async () => {
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'claim', taskId: 't1' }, actorId: 'ann', via: 'http' });
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'start', taskId: 't1' }, actorId: 'ann', via: 'http' });
    await server.ctx.committer.submit({ kind: 'operation', op: { name: 'complete', taskId: 't1' }, actorId: 'ann', via: 'http' });
    expect(await server.store.pruneChanges(server.clock.now() + 1)).toBeGreaterThan(0);
    const c = await connect({ cursor: 1 });
    expect((c.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).sync).toBe('snapshot');
    const pages = await drain(c);
    expect(pages[0]!.reset).toBe(true);
  });

  it('SYNC-4 a terminal too many changes behind gets a snapshot instead of a replay', async () => {
    await server.stop();
    server = await startTestServer({ hub: { maxReplay: 3 } });
    const head = await server.store.headSeq();
    expect(head).toBeGreaterThan(3);
    const near = await connect({ cursor: head - 3 });
    expect((near.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).sync).toBe('delta');
    near.close();
    const far = await connect({ cursor: head - 4 });
    expect((far.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).sync).toBe('snapshot');
  });

  it('SYNC-3 a snapshot page whose read failed is read again, and the kiosk gets its whole snapshot', async () => {
    await server.stop();
    server = await startTestServer({ hub: { pageSize: 2 } });
    const store = server.store;
    const read = store.snapshotPage.bind(store);
    let calls = 0;
    // The second read (the page read ahead while the first is applied) fails once.
    store.snapshotPage = (...args) => (++calls === 2 ? Promise.reject(new Error('read thread lost')) : read(...args));
    const idsOf = async () => [...new Set((await drain(await connect())).flatMap((p) => p.tasks.map((t) => t.id)))].sort();
    let ids: string[];
    try {
      ids = await idsOf();
      expect(calls).toBeGreaterThan(2);
    } finally {
      store.snapshotPage = read;
    }
    // The same as a snapshot without a failed read.
    expect(ids.length).toBeGreaterThan(2);
    expect(ids).toEqual(await idsOf());
  });

  it('SYNC-3 a kiosk taking its snapshot alone gets full pages; kiosks taking theirs at once get pages of at most 500', async () => {
    const now = server.clock.now();
    await server.store.importTasks(Array.from({ length: 1_600 }, (_, i) => taskRow(`snap${i}`)), now);
    for (let i = 0; i < 3; i++) await server.store.createTerminal({ id: `ks${i}`, name: `Kiosk ${i}`, departments: ['cut'], tokenHash: tokenHash(`ks-token-${i}`) }, now);
    // Pages sized by what they cost on the loop until the read thread takes reads.
    await eventually(() => !server.store.pagesHoldTheLoop, 10_000, 'the read thread to take reads');
    const store = server.store;
    const read = store.snapshotPage.bind(store);
    // Each read's page size, and how many kiosks were taking a snapshot when it was asked.
    const reads: Array<{ limit: number; kiosks: number }> = [];
    store.snapshotPage = (departments, pos, limit, ...rest) => {
      reads.push({ limit, kiosks: server.ctx.hub.snapshotsInProgress });
      return read(departments, pos, limit, ...rest);
    };
    const snapshotOf = async (terminalId: string) => {
      const c = await connect({ terminalId, token: `${terminalId.replace(/\d+$/, '')}-token-${terminalId.slice(2)}` });
      expect((c.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).sync).toBe('snapshot');
      const ids = new Set((await drain(c)).flatMap((p) => p.tasks.map((t) => t.id)));
      expect([...ids].filter((id) => id.startsWith('snap'))).toHaveLength(1_600);
    };
    try {
      await snapshotOf('ks0');
      expect(reads.length).toBeGreaterThan(1);
      expect(reads.every((r) => r.kiosks === 1 && r.limit === CHANGE_PAGE_SIZE)).toBe(true);
      reads.length = 0;
      await Promise.all([snapshotOf('ks1'), snapshotOf('ks2')]);
      // While both take theirs, every page is at most 500; once one is done, the other's are full again.
      const together = reads.filter((r) => r.kiosks > 1);
      expect(together.length).toBeGreaterThan(1);
      expect(together.every((r) => r.limit === THREAD_SNAPSHOT_PAGE)).toBe(true);
      expect(reads.filter((r) => r.kiosks <= 1).every((r) => r.limit === CHANGE_PAGE_SIZE)).toBe(true);
    } finally {
      store.snapshotPage = read;
    }
  });

  it('PROTO-11 a terminal that stops answering heartbeats is dropped', async () => {
    await server.stop();
    server = await startTestServer({ hub: { heartbeatMs: 100 } });
    const ws = new WebSocket(server.wsUrl, { autoPong: false });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', protocolVersion: 1, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: 0, appVersion: 'x' }));
    expect(await closed).toBe(1006);
  });
});
