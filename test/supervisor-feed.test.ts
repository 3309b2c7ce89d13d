/**
 * The supervisor subscription at /supervise (SUP-1), what its rows carry (SUP-3), and what reaches
 * a supervisor's page live (SUP-4, SUP-5), against a real server (port 0, temp SQLite, manual
 * clock) over real WebSockets; plus the terminal protocol's version 2 handshake (PROTO-1, PROTO-14).
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { DEFAULT_SUPERVISION_SETTINGS } from '../src-shared/domain/supervision.js';
import { SUPERVISOR_PROTOCOL_VERSION } from '../src-shared/protocol/supervisor.js';
import type { ServerFrame } from '../src-shared/protocol/terminal.js';
import type { ServerOptions } from '../src-server/app.js';
import { LoopBudget } from '../src-server/slices.js';
import { GIVE_WAY_MS } from '../src-server/sync/supervisor-hub.js';
import { FeedClient, type FeedSocket } from '../src-renderer/supervisor/api/feed.js';
import { createBoardStore } from '../src-renderer/supervisor/stores/board.js';
import { holdCalls } from './support/hold.js';
import { apiToken, call, eventually, type CallOptions } from './support/http-client.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN, newUser, taskRow } from './support/plant.js';
import { ManualIntervals, startTestServer, type TestServer } from './support/server.js';
import { SupervisorClient, merged, notificationTrail, superviseUrl, tryUpgrade, type ErrorFrame } from './support/supervisor-client.js';
import { TestClient } from './support/ws-client.js';

let server: TestServer | null = null;
/** Releases of what a test holds open (a store read, a commit), called after every test. */
const holds: Array<() => void> = [];
const pages: SupervisorClient[] = [];
const kiosks: TestClient[] = [];

/** Tokens of the plant's people (API tokens made in the store). */
let tok: Record<'ann' | 'bob' | 'qin' | 'sue' | 'ada' | 'quinn', string>;

async function boot(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  server = await startTestServer(options);
  const now = server.clock.now();
  await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [], displayName: 'Ada Admin' }), now);
  await server.store.createUser(newUser('quinn', { roles: ['supervisor'], departmentIds: ['qa'], displayName: 'Quinn QA' }), now);
  tok = {
    ann: (await apiToken(server, 'ann')).token,
    bob: (await apiToken(server, 'bob')).token,
    qin: (await apiToken(server, 'qin')).token,
    sue: (await apiToken(server, 'sue')).token,
    ada: (await apiToken(server, 'ada')).token,
    quinn: (await apiToken(server, 'quinn')).token,
  };
  return server;
}

function srv(): TestServer {
  if (!server) throw new Error('boot() first');
  return server;
}

const http = (path: string, options: CallOptions = {}) => call(srv(), path, options);

async function page(opts: { token?: string; cursor?: number | null; headers?: Record<string, string>; protocolVersion?: number } = {}) {
  const c = await SupervisorClient.connect(srv().url, opts);
  pages.push(c);
  return c;
}

/** A supervisor page that has read its snapshot and keeps up from then on. */
async function livePage(token: string): Promise<SupervisorClient> {
  const c = await page({ token });
  expect(c.welcome, `no welcome: ${JSON.stringify(c.frames[0])}`).toBeDefined();
  await c.sync();
  return c;
}

async function kiosk(terminalId: string, token: string, over: { clientTime?: number; outbox?: number } = {}) {
  const c = await TestClient.connect(srv().wsUrl, { terminalId, token, clientTime: srv().clock.now(), ...over });
  kiosks.push(c);
  expect(c.frames[0]?.type).toBe('welcome');
  return c;
}

async function signInAt(t: TestClient, userId: string): Promise<void> {
  const [o] = await t.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: userId, clientTime: srv().clock.now() }]);
  expect(o!.status).toBe('applied');
}

async function claim(token: string, taskId: string): Promise<void> {
  const a = await http(`/api/tasks/${taskId}/claim`, { token, body: {} });
  expect(a.status, a.text).toBe(200);
}

function errorFrame(c: SupervisorClient): ErrorFrame | undefined {
  return c.frames.find((f): f is ErrorFrame => f.type === 'error');
}

/**
 * The marker that a revalidation pass has rechecked `c` since now, before asserting that it left
 * `c` open: a canary page whose token is revoked in the store only (not through the hub) is closed
 * by revalidation alone. Pages are rechecked in the order they connected, and the canary connected
 * after `c`; then a pong on `c` proves whatever that pass sent `c` has arrived.
 */
async function revalidationPassed(c: SupervisorClient): Promise<void> {
  const canary = await apiToken(srv(), 'sue');
  const page = await livePage(canary.token);
  await srv().store.revokeApiToken(canary.id, srv().clock.now());
  expect(await page.waitClose(3000)).toBe(4401);
  await c.ping();
}

afterEach(async () => {
  // Store reads or commits a failed test held open are let go first, or stopping the server waits on them.
  for (const release of holds.splice(0)) release();
  // Every frame any page received matched the shared schema (the page's own validation).
  const invalid = pages.flatMap((c) => c.invalid);
  for (const c of pages.splice(0)) c.close();
  for (const c of kiosks.splice(0)) c.close();
  if (server) await server.stop();
  server = null;
  expect(invalid).toEqual([]);
});

// ---------------------------------------------------------------------------------------------

describe('SUP-1 handshake and authentication', () => {
  it('SUP-1 a supervisor gets a welcome naming their scope, a paged snapshot of their departments only, then a caught-up delta', async () => {
    await boot();
    const c = await page({ token: tok.sue });
    expect(c.welcome).toMatchObject({
      protocolVersion: SUPERVISOR_PROTOCOL_VERSION,
      user: { id: 'sue', roles: ['supervisor'] },
      scope: { all: false, departmentIds: ['cut'] },
      sessionExpiresAt: null,
      sync: 'snapshot',
      serverTime: srv().clock.now(),
    });
    const got = await c.sync();
    const head = await srv().store.headSeq();
    const snapshot = got.filter((p) => p.mode === 'snapshot');
    expect(snapshot.length).toBeGreaterThanOrEqual(1);
    expect(snapshot[0]!.reset).toBe(true);
    expect(snapshot.slice(1).every((p) => !p.reset)).toBe(true);
    // Pages before the last carry no cursor; the last carries the head it was read at.
    expect(snapshot.slice(0, -1).map((p) => [p.cursor, p.more])).toEqual(snapshot.slice(0, -1).map(() => [null, true]));
    expect(snapshot.at(-1)).toMatchObject({ cursor: head, more: false });
    // Then the caught-up signal: an empty delta at the same cursor.
    expect(got.at(-1)).toMatchObject({ mode: 'delta', cursor: head, more: false, tasks: [], people: [], terminals: [] });

    const view = merged(got);
    expect([...view.departments.keys()]).toEqual(['cut']);
    expect([...view.tasks.keys()].sort()).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3']);
    expect([...view.people.keys()].sort()).toEqual(['ann', 'bob']);
    expect([...view.terminals.keys()].sort()).toEqual(['k1', 'k2']);
    expect(view.people.get('ann')).toMatchObject({ departmentIds: ['cut'], activeCount: 0, limit: 10, presence: null, performance: { score: 0.8 } });
    expect(snapshot[0]!.config).toMatchObject({ defaultTaskLimit: 10 });
    expect(snapshot[0]!.supervision).toEqual(DEFAULT_SUPERVISION_SETTINGS);
    expect(c.invalid).toEqual([]);
  });

  it('SUP-1 one page is in flight at a time: the next waits for the ack of the previous; an ack beyond it is refused', async () => {
    await boot();
    const c = await page({ token: tok.sue });
    await c.waitFor((f) => f.type === 'changes');
    // The marker: change pages are pushed by the hub's timer, to every page not waiting for an ack
    // in the same pass. Once a live page has received a change committed now, that timer has run
    // since c's first page; had it sent c a second page, c's pong would come after it.
    const observer = await livePage(tok.ada);
    const from = observer.frames.length;
    await claim(tok.ann, 't1');
    await observer.waitForChange((x) => x.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 3000, from);
    await c.ping();
    expect(c.changes()).toHaveLength(1);
    c.send({ type: 'ack', cursor: 999_999 });
    const err = await c.waitFor<ErrorFrame>((f) => f.type === 'error');
    expect(err).toMatchObject({ fatal: false, error: { code: 'invalid_input', details: { field: 'cursor' } } });
    expect(c.changes()).toHaveLength(1);
    c.ack(0);
    await c.waitFor((f) => f.type === 'changes', 2000, c.frames.indexOf(c.changes()[0]!) + 1);
    expect(c.changes()).toHaveLength(2);
    expect(c.closeCode).toBeNull();
  });

  it('SUP-1 changes are pushed live after each commit as deltas past the page cursor', async () => {
    await boot();
    const c = await livePage(tok.sue);
    const before = c.cursor!;
    const from = c.frames.length;
    await claim(tok.ann, 't1');
    const p = await c.waitForChange((x) => x.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 2000, from);
    expect(p.mode).toBe('delta');
    expect(p.reset).toBe(false);
    expect(p.cursor!).toBeGreaterThan(before);
    // The holder's load moved with the claim (SUP-3).
    const ann = merged(c.changes(from)).people.get('ann');
    expect(ann).toMatchObject({ activeCount: 1 });
  });

  it('SUP-1 a change committed while the page’s delta was being read (and found nothing for it) still reaches the page', async () => {
    const s = await boot();
    const c = await livePage(tok.sue);
    const from = c.frames.length;
    // The next delta read is held until a claim of Cutting's has been committed and several push
    // ticks have passed; what it read (nothing for Cutting) is answered only then.
    const read = holdCalls(s.store, 'supervisorChangesPage', holds, { when: 'after', only: 'first' });
    // A change in Quality only, written outside the committer: the push tick marks every page.
    await s.store.updateUser('qin', { taskLimit: 7 }, s.clock.now());
    await eventually(() => read.calls === 1, 2000, 'the held read');
    await claim(tok.ann, 't1');
    await new Promise((r) => setTimeout(r, 300));
    read.release();
    await c.waitForChange((x) => x.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 3000, from);
  });

  it('SUP-1 a page that comes back with its cursor gets only what it missed; a cursor the server never issued gets a snapshot', async () => {
    await boot();
    const first = await livePage(tok.sue);
    const cursor = first.cursor!;
    first.close();
    await first.waitClose();
    await claim(tok.bob, 't2');

    const again = await page({ token: tok.sue, cursor });
    expect(again.welcome!.sync).toBe('delta');
    const got = await again.sync();
    expect(got.every((p) => p.mode === 'delta' && !p.reset)).toBe(true);
    const view = merged(got);
    expect([...view.tasks.keys()]).toEqual(['t2']);
    expect(view.tasks.get('t2')).toMatchObject({ operatorId: 'bob' });

    const future = await page({ token: tok.sue, cursor: 1_000_000 });
    expect(future.welcome!.sync).toBe('snapshot');
    expect((await future.sync())[0]).toMatchObject({ mode: 'snapshot', reset: true });

    // A cursor older than the retained change log: a fresh snapshot, not a replay with holes.
    srv().clock.advance(1000);
    await claim(tok.ann, 't3');
    await srv().store.pruneChanges(srv().clock.now());
    const stale = await page({ token: tok.sue, cursor });
    expect(stale.welcome!.sync).toBe('snapshot');
    const fresh = merged(await stale.sync());
    expect(fresh.tasks.get('t3')).toMatchObject({ operatorId: 'ann' });
    expect(fresh.tasks.has('t1')).toBe(true);
  });

  it('SUP-1 admins see every department', async () => {
    await boot();
    const c = await page({ token: tok.ada });
    expect(c.welcome).toMatchObject({ user: { id: 'ada' }, scope: { all: true, departmentIds: [] } });
    const view = merged(await c.sync());
    expect([...view.departments.keys()].sort()).toEqual(['cut', 'qa']);
    expect(view.tasks.has('q1')).toBe(true);
    expect(view.tasks.has('t1')).toBe(true);
    expect([...view.people.keys()].sort()).toEqual(['ann', 'bob', 'qin']);
  });

  it('SUP-1 a hello without a session, or with an unknown, revoked or expired token, is refused with 4401', async () => {
    const s = await boot();
    const revoked = await apiToken(s, 'sue');
    await s.store.revokeApiToken(revoked.id, s.clock.now());
    const expired = await apiToken(s, 'sue', { expiresAt: s.clock.now() });
    for (const [label, token, problem] of [
      ['no token', undefined, 'not signed in'],
      ['unknown', 'api_nope', 'the token is unknown'],
      ['revoked', revoked.token, 'the token was revoked'],
      ['expired', expired.token, 'the token expired'],
    ] as const) {
      const c = await page(token === undefined ? {} : { token });
      expect(await c.waitClose(), label).toBe(4401);
      expect(errorFrame(c), label).toMatchObject({ fatal: true, error: { code: 'unauthenticated', details: { problem } } });
      expect(c.changes(), label).toEqual([]);
    }
  });

  it('SUP-1 an operator is refused with supervisor_only and 4403; a deactivated supervisor with 4401', async () => {
    const s = await boot();
    const op = await page({ token: tok.ann });
    expect(await op.waitClose()).toBe(4403);
    expect(errorFrame(op)!.error).toMatchObject({ code: 'supervisor_only', message: expect.stringContaining('for supervisors and administrators') });
    expect(op.texts.join('')).not.toContain('"t1"');

    await s.store.updateUser('sue', { active: false }, s.clock.now());
    const gone = await page({ token: tok.sue });
    expect(await gone.waitClose()).toBe(4401);
    expect(errorFrame(gone)!.error.code).toBe('user_inactive');
  });

  it('SUP-1 a cross-origin upgrade is refused with HTTP 403 before any WebSocket; a page of this server opens', async () => {
    const s = await boot();
    const url = superviseUrl(s.url);
    expect(await tryUpgrade(url, { Origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
    // Same host name, another port: another origin.
    expect(await tryUpgrade(url, { Origin: 'http://127.0.0.1:1' })).toEqual({ opened: false, status: 403 });
    expect(await tryUpgrade(url, { Origin: s.url })).toEqual({ opened: true, status: null });
    expect(await tryUpgrade(url.replace('/supervise', '/nowhere'), { Origin: s.url })).toEqual({ opened: false, status: 404 });
    // The refused ones never became subscriptions; the accepted one is gone once it closed.
    await eventually(() => s.ctx.supervisors.size === 0, 2000, 'no supervisor page to be left');
  });

  it('SUP-1 the session cookie sent with the upgrade authenticates the page (AUTH-8)', async () => {
    const s = await boot();
    const signIn = await http('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass', cookie: true, for: 'supervisor' } });
    expect(signIn.status).toBe(200);
    const cookie = /^sf_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1]!;
    const c = await page({ headers: { Cookie: `sf_session=${cookie}`, Origin: s.url } });
    expect(c.welcome).toMatchObject({ user: { id: 'sue' }, scope: { departmentIds: ['cut'] }, sessionExpiresAt: signIn.body.expiresAt });
    const view = merged(await c.sync());
    expect(view.tasks.has('t1')).toBe(true);

    const forged = await page({ headers: { Cookie: 'sf_session=ses_forged' } });
    expect(await forged.waitClose()).toBe(4401);
  });

  it('SUP-1 a hello speaking a newer protocol gets incompatible server_too_old and 4426; an older one client_too_old', async () => {
    await boot();
    const newer = await SupervisorClient.open(srv().url);
    pages.push(newer);
    // A later version may send other fields and leave out ours: still "incompatible", not invalid_input.
    newer.send({ type: 'hello', protocol: 'supervisor', protocolVersion: 2, token: tok.sue, resume: { from: 'x' } });
    const f = await newer.waitFor((x) => x.type === 'incompatible');
    expect(f).toMatchObject({ reason: 'server_too_old', minProtocolVersion: 1, maxProtocolVersion: 1 });
    expect(await newer.waitClose()).toBe(4426);

    const older = await page({ token: tok.sue, protocolVersion: 0 });
    expect(older.frames[0]).toMatchObject({ type: 'incompatible', reason: 'client_too_old' });
    expect(await older.waitClose()).toBe(4426);
  });

  it('SUP-1 the first frame must be a hello (4400); a malformed hello is refused naming the field (4400)', async () => {
    await boot();
    const early = await SupervisorClient.open(srv().url);
    pages.push(early);
    early.send({ type: 'ack', cursor: 0 });
    expect(await early.waitClose()).toBe(4400);
    expect(errorFrame(early)!.error.details.problem).toMatch(/first frame must be a hello/);

    const bad = await SupervisorClient.open(srv().url);
    pages.push(bad);
    bad.send({ type: 'hello', protocol: 'supervisor', protocolVersion: 1, token: tok.sue, cursor: 'latest' });
    expect(await bad.waitClose()).toBe(4400);
    expect(errorFrame(bad)!.error).toMatchObject({ code: 'invalid_input', details: { field: 'cursor' } });
  });
});

describe('SUP-1 scope', () => {
  it('SUP-1 a supervisor of cut never receives a task, person, terminal, exception or notification of qa', async () => {
    const s = await boot();
    const now = s.clock.now();
    await s.store.createUser(newUser('qoz', { departmentIds: ['qa'], displayName: 'Qoz Inspector' }), now);
    await s.store.createTerminal({ id: 'kq', name: 'QA kiosk', departments: ['qa'], tokenHash: tokenHash('kq-token') }, now);
    const sue = await livePage(tok.sue);
    const quinn = await livePage(tok.quinn);
    const qaFrom = quinn.frames.length;

    // Everything that can happen in qa: a kiosk connects, people sign in, claim, conflict, reject, disconnect.
    const kq = await kiosk('kq', 'kq-token', { outbox: 2 });
    await signInAt(kq, 'qin');
    expect((await kq.mutate([{ name: 'claim', args: { taskId: 'q1' }, operatorId: 'qin', clientTime: now }]))[0]!.status).toBe('applied');
    await signInAt(kq, 'qoz');
    expect((await kq.mutate([{ name: 'claim', args: { taskId: 'q1' }, operatorId: 'qoz', clientTime: now }]))[0]!.status).toBe('rejected');
    const reject = await http('/api/tasks/q1/reject', { token: tok.qin, body: { reason: 'Gauge out of calibration' } });
    expect(reject.status).toBe(200);
    kq.close();
    await eventually(async () => !(await s.store.getTerminal('kq'))!.connected, 2000, 'kq to be offline');

    // The qa supervisor saw all of it (so it was published)...
    await quinn.waitForChange((p) => p.notifications.some((n) => n.event === 'task_rejected' && n.taskId === 'q1'));
    await quinn.waitForChange((p) => p.terminals.some((t) => t.id === 'kq' && !t.connected), 2000, qaFrom);
    const qaView = merged(quinn.changes());
    expect([...qaView.exceptions.values()].map((e) => e.kind).sort()).toEqual(['claim_conflict', 'task_rejected']);
    expect(qaView.people.get('qin')).toBeDefined();

    // ...and, once a later change of cut has reached the cut supervisor, none of it reached them.
    await claim(tok.ann, 't1');
    await sue.waitForChange((p) => p.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'));
    const seen = sue.texts.join('\n');
    for (const id of ['"q1"', '"qin"', '"qoz"', '"kq"', '"quinn"', '"qa"', 'Quality', 'QA kiosk', 'Gauge out of calibration']) {
      expect(seen, `the cut supervisor received ${id}`).not.toContain(id);
    }
    expect(sue.closeCode).toBeNull();
  });

  it('SUP-1 an operator of both departments signed in at a qa kiosk shows to the cut supervisor as signed in, without naming the kiosk', async () => {
    const s = await boot();
    const now = s.clock.now();
    await s.store.createUser(newUser('duo', { departmentIds: ['cut', 'qa'], displayName: 'Duo Both' }), now);
    await s.store.createTerminal({ id: 'kq', name: 'QA kiosk', departments: ['qa'], tokenHash: tokenHash('kq-token') }, now);
    const sue = await livePage(tok.sue);
    const quinn = await livePage(tok.quinn);
    const kq = await kiosk('kq', 'kq-token');
    await signInAt(kq, 'duo');
    const forSue = await sue.waitForChange((p) => p.people.some((x) => x.id === 'duo' && x.presence !== null));
    expect(forSue.people.find((x) => x.id === 'duo')!.presence).toEqual({ terminalId: null, since: now });
    const forQuinn = await quinn.waitForChange((p) => p.people.some((x) => x.id === 'duo' && x.presence !== null));
    expect(forQuinn.people.find((x) => x.id === 'duo')!.presence).toEqual({ terminalId: 'kq', since: now });
    expect(sue.texts.join('\n')).not.toContain('"kq"');
  });

  it('SUP-6 a sign-in at a kiosk is in the audit trail of the kiosk’s department, not of others', async () => {
    await boot();
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k1, 'ann');
    const forSue = await http('/api/audit?action=signIn', { token: tok.sue });
    expect(forSue.body).toMatchObject({ total: 1, items: [{ action: 'signIn', actorId: 'ann', terminalId: 'k1', departmentId: 'cut' }] });
    expect((await http('/api/audit?action=signIn', { token: tok.quinn })).body).toMatchObject({ total: 0 });
  });

  it('SUP-6 a sign-in at a kiosk of two departments is in the audit trail of the department the operator belongs to', async () => {
    const s = await boot();
    await s.store.updateTerminal('k1', { departments: ['cut', 'qa'] }, s.clock.now());
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k1, 'qin');
    expect((await http('/api/audit?action=signIn', { token: tok.quinn })).body).toMatchObject({ total: 1, items: [{ actorId: 'qin', terminalId: 'k1', departmentId: 'qa' }] });
    expect((await http('/api/audit?action=signIn', { token: tok.sue })).body).toMatchObject({ total: 0 });
  });

  it('SUP-1 a task moved to a department outside the view arrives only as its id in removed.tasks', async () => {
    const s = await boot();
    const sue = await livePage(tok.sue);
    const quinn = await livePage(tok.quinn);
    const from = sue.frames.length;
    const moved = await s.store.importTasks([taskRow('t2', { departmentId: 'qa', workContent: 'Now a secret of quality' })], s.clock.now());
    expect(moved.ok).toBe(true);
    const p = await sue.waitForChange((x) => x.removed.tasks.includes('t2'), 2000, from);
    expect(p.tasks.map((t) => t.id)).not.toContain('t2');
    const text = sue.texts[sue.frames.indexOf(p)]!;
    expect(text).not.toContain('Now a secret of quality');
    expect(text).not.toContain('"qa"');
    // The new department's supervisor gets the task itself.
    const q = await quinn.waitForChange((x) => x.tasks.some((t) => t.id === 't2'));
    expect(q.tasks.find((t) => t.id === 't2')).toMatchObject({ departmentId: 'qa', workContent: 'Now a secret of quality' });
  });

  it('SUP-1 an operator or a kiosk moved to another department leaves the view as an id; the other department’s changes stay out', async () => {
    await boot();
    const sue = await livePage(tok.sue);
    const from = sue.frames.length;
    expect((await http('/api/users/bob', { method: 'PATCH', token: tok.ada, body: { departmentIds: ['qa'], displayName: 'Bob of Quality' } })).status).toBe(200);
    expect((await http('/api/terminals/k2', { method: 'PATCH', token: tok.ada, body: { departments: ['qa'], name: 'Kiosk now in QA' } })).status).toBe(200);
    expect((await http('/api/departments/qa', { method: 'PUT', token: tok.ada, body: { name: 'Quality Lab', taskLimit: 3 } })).status).toBe(200);
    const bob = await sue.waitForChange((x) => x.removed.people.includes('bob'), 2000, from);
    expect(bob.people.map((u) => u.id)).not.toContain('bob');
    const k2 = await sue.waitForChange((x) => x.removed.terminals.includes('k2'), 2000, from);
    expect(k2.terminals.map((t) => t.id)).not.toContain('k2');
    // A later change of cut marks the point by which everything before it was read.
    await claim(tok.ann, 't1');
    await sue.waitForChange((x) => x.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 2000, from);
    const seen = sue.texts.slice(from).join('\n');
    for (const text of ['Bob of Quality', 'Kiosk now in QA', 'Quality Lab', '"qa"']) expect(seen, text).not.toContain(text);
  });

  it('SUP-1 a view larger than a page arrives in pages, each task once; a burst of changes arrives in several delta pages', async () => {
    const s = await boot({ supervisorHub: { pageSize: 2 } });
    await s.store.importTasks(['t4', 't5', 't6', 't7', 't8'].map((id) => taskRow(id)), s.clock.now());
    for (const id of ['t1', 't2', 't3']) {
      await claim(tok.ann, id);
      expect((await http(`/api/tasks/${id}/reject`, { token: tok.ann, body: { reason: `no ${id}` } })).status).toBe(200);
    }
    const c = await page({ token: tok.sue });
    const snapshot = await c.sync();
    expect(snapshot.flatMap((p) => p.exceptions.map((e) => e.reason)).sort()).toEqual(['no t1', 'no t2', 'no t3']);
    expect(snapshot.flatMap((p) => p.notifications.map((n) => n.details.reason)).sort()).toEqual(['no t1', 'no t2', 'no t3']);
    const taskPages = snapshot.filter((p) => p.tasks.length > 0);
    expect(taskPages.length).toBeGreaterThan(3);
    expect(Math.max(...snapshot.map((p) => p.tasks.length + p.people.length))).toBeLessThanOrEqual(2);
    const ids = taskPages.flatMap((p) => p.tasks.map((t) => t.id));
    expect(ids.sort()).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8']);
    expect([...merged(snapshot).people.keys()].sort()).toEqual(['ann', 'bob']);

    const from = c.frames.length;
    await Promise.all(['t4', 't5', 't6', 't7', 't8'].map((id) => claim(tok.bob, id)));
    await eventually(() => ['t4', 't5', 't6', 't7', 't8'].every((id) => merged(c.changes(from)).tasks.get(id)?.operatorId === 'bob'), 3000, 'every claim');
    const deltas = c.changes(from);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.every((p) => p.mode === 'delta')).toBe(true);
    const cursors = deltas.map((p) => p.cursor!);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(merged(deltas).people.get('bob')).toMatchObject({ activeCount: 5 });
  });

  it('SUP-1 SYNC-3 while an overview loads its snapshot, kiosks\' snapshot pages give way: one a turn of the event loop, and all still arrive', async () => {
    const budget = new LoopBudget();
    const s = await boot({ supervisorHub: { pageSize: 2 }, hub: { pageSize: 5, loopBudget: budget } });
    const now = s.clock.now();
    await s.store.importTasks(Array.from({ length: 60 }, (_, i) => taskRow(`gw${i}`)), now);
    for (let i = 0; i < 3; i++) await s.store.createTerminal({ id: `kg${i}`, name: `Kiosk ${i}`, departments: ['cut'], tokenHash: tokenHash(`kg-token-${i}`) }, now);
    // An overview that has its first snapshot page and has not acknowledged it: still loading.
    const overview = await page({ token: tok.ada });
    await overview.waitFor((f) => f.type === 'changes');
    expect(s.ctx.supervisors.snapshotsInProgress).toBe(1);
    // The turn of the event loop each kiosk's snapshot page goes out in.
    const hub = s.ctx.hub as unknown as { send(conn: unknown, frame: { type: string; mode?: string }): void };
    const send = hub.send.bind(hub);
    const turns: number[] = [];
    hub.send = (conn, frame) => {
      if (frame.type === 'changes' && frame.mode === 'snapshot') turns.push(budget.turn);
      send(conn, frame);
    };
    const snapshotOf = async (i: number) => {
      const k = await kiosk(`kg${i}`, `kg-token-${i}`);
      const ids = new Set<string>();
      for (let from = 0; ; ) {
        const p = await k.waitFor<Extract<ServerFrame, { type: 'changes' }>>((f) => f.type === 'changes' && k.frames.indexOf(f) >= from, 10_000);
        from = k.frames.indexOf(p) + 1;
        for (const t of p.tasks) ids.add(t.id);
        k.sendRaw({ type: 'ack', cursor: p.cursor ?? 0 });
        if (!p.more) return ids;
      }
    };
    const got = await Promise.all([0, 1, 2].map(snapshotOf));
    for (const ids of got) expect([...ids].filter((id) => id.startsWith('gw'))).toHaveLength(60);
    // Three kiosks' pages of 5 tasks: dozens of pages, never two in one turn.
    expect(turns.length).toBeGreaterThan(30);
    expect(new Set(turns).size).toBe(turns.length);
    // Loaded, the overview no longer holds them back.
    await overview.sync();
    expect(s.ctx.supervisors.snapshotsInProgress).toBe(0);
  });

  it('SUP-1 a snapshot page whose read failed is read again, and the overview loads', async () => {
    const s = await boot({ supervisorHub: { pageSize: 2 } });
    const read = s.store.supervisorSnapshotPage.bind(s.store);
    let calls = 0;
    // The second read (the page read ahead while the first is applied) fails once.
    s.store.supervisorSnapshotPage = (...args) => (++calls === 2 ? Promise.reject(new Error('read thread lost')) : read(...args));
    const c = await page({ token: tok.sue });
    const snapshot = await c.sync(5000);
    expect(calls).toBeGreaterThan(2);
    expect([...merged(snapshot).tasks.keys()].sort()).toEqual(['draft1', 'insp1', 'make1', 't1', 't2', 't3']);
  });

  it('SUP-1 an overview closed while its first snapshot page is read reads no further page', async () => {
    const s = await boot({ supervisorHub: { pageSize: 2 } });
    const reads = holdCalls(s.store, 'supervisorSnapshotPage', holds, { when: 'after', only: 'every' });
    const c = await page({ token: tok.sue });
    await eventually(() => reads.calls === 1, 2000, 'the first page read');
    c.close();
    await eventually(() => s.ctx.supervisors.snapshotsInProgress === 0, 2000, 'the server to see the page gone');
    reads.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(reads.calls).toBe(1);
  });

  it('SUP-1 an overview that never finishes loading holds kiosks\' snapshots back for 10 s at most, and a closed one not at all', async () => {
    const s = await boot({ supervisorHub: { pageSize: 2 } });
    const stuck = await page({ token: tok.ada });
    await stuck.waitFor((f) => f.type === 'changes');
    expect(s.ctx.supervisors.snapshotsInProgress).toBe(1);
    s.clock.advance(GIVE_WAY_MS + 1);
    expect(s.ctx.supervisors.snapshotsInProgress).toBe(0);
    const closing = await page({ token: tok.sue });
    await closing.waitFor((f) => f.type === 'changes');
    expect(s.ctx.supervisors.snapshotsInProgress).toBe(1);
    closing.close();
    await eventually(() => s.ctx.supervisors.snapshotsInProgress === 0, 3000, 'the closed page to stop counting');
  });
});

describe('SYNC-6 pacing of a caught-up page', () => {
  it('SYNC-6 SUP-1 under a steady stream of changes a caught-up page gets about one page per push tick, not one per acknowledgement, and ends up current', async () => {
    await boot({ hub: { pushIntervalMs: 250 } });
    const s = srv();
    const ids = Array.from({ length: 400 }, (_, i) => `s${i}`);
    await s.store.importTasks(ids.map((id) => taskRow(id)), s.clock.now());
    const c = await livePage(tok.sue);
    // A page on a slower link (or a busier browser): its acknowledgements come 40 ms after a page,
    // while commits come every few milliseconds.
    c.autoAck = false;
    c.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; cursor?: number | null };
      if (frame.type === 'changes') setTimeout(() => c.ack(frame.cursor ?? 0), 40);
    });
    const k = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k, 'ann');
    const from = c.frames.length;
    // About 1.5 s of changes a few milliseconds apart: ann claims a task and releases it, task after task.
    const started = performance.now();
    let last = '';
    for (const id of ids) {
      if (performance.now() - started > 1500) break;
      const [claimed, released] = await k.mutate([
        { name: 'claim', args: { taskId: id }, operatorId: 'ann', clientTime: s.clock.now() },
        { name: 'release', args: { taskId: id }, operatorId: 'ann', clientTime: s.clock.now() },
      ]);
      expect([claimed!.status, released!.status]).toEqual(['applied', 'applied']);
      last = id;
    }
    expect(ids.indexOf(last)).toBeGreaterThan(20);
    // The last change reaches the page.
    await eventually(() => merged(c.changes(from)).tasks.get(last)?.status === 'pending', 3000, 'the last release on the page');
    const settled = performance.now() - started;
    // One page per 250 ms tick (plus one at once after a quiet tick, plus the tick in flight at the
    // end): before, every acknowledgement brought the next page, one per round trip (about 35 here).
    const deltas = c.changes(from).filter((x) => x.mode === 'delta').length;
    expect(deltas).toBeLessThanOrEqual(Math.ceil(settled / 250) + 3);
  });
});

describe('SUP-1 sessions end', () => {
  it('SUP-1 signing out closes that session\u2019s pages with 4401; the user\u2019s other sessions stay live', async () => {
    const s = await boot();
    const signIn = async () => {
      const a = await http('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass', for: 'supervisor' } });
      expect(a.status).toBe(200);
      return a.body.token as string;
    };
    const one = await signIn();
    const two = await signIn();
    const a = await livePage(one);
    const b = await livePage(two);
    expect((await http('/api/auth/sign-out', { token: one, body: {} })).status).toBe(200);
    expect(await a.waitClose()).toBe(4401);
    expect(errorFrame(a)!.error).toMatchObject({ code: 'unauthenticated', details: { problem: expect.stringMatching(/signed out/) } });
    const from = b.frames.length;
    await claim(tok.ann, 't1');
    await b.waitForChange((p) => p.tasks.some((t) => t.id === 't1'), 2000, from);
    expect(b.closeCode).toBeNull();

    // The page of a cookie session closes when that session signs out with its cookie.
    const cookieSignIn = await http('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass', cookie: true, for: 'supervisor' } });
    const cookie = /^sf_session=[^;]+/.exec(cookieSignIn.headers.get('set-cookie') ?? '')![0];
    const c = await page({ headers: { Cookie: cookie, Origin: s.url } });
    expect(c.welcome).toBeDefined();
    expect((await http('/api/auth/sign-out', { body: {}, headers: { Cookie: cookie, Origin: s.url } })).status).toBe(200);
    expect(await c.waitClose()).toBe(4401);
    expect(b.closeCode).toBeNull();
  });

  it('SUP-1 revoking the token with DELETE /api/tokens/:id closes its pages with 4401', async () => {
    const s = await boot();
    const t = await apiToken(s, 'sue');
    const c = await livePage(t.token);
    const other = await livePage(tok.sue);
    expect((await http(`/api/tokens/${t.id}`, { method: 'DELETE', token: tok.ada })).status).toBe(200);
    expect(await c.waitClose()).toBe(4401);
    // Revocation closes pages at once, in one pass: had it closed `other` too, its close came before a pong.
    await other.ping();
    expect(other.closeCode).toBeNull();
  });

  it('SUP-1 a session closes its page with 4401 when it expires', async () => {
    const s = await boot();
    const expiresAt = s.clock.now() + 200;
    const t = await apiToken(s, 'sue', { kind: 'session', expiresAt });
    const started = Date.now();
    const c = await livePage(t.token);
    expect(c.welcome!.sessionExpiresAt).toBe(expiresAt);
    expect(await c.waitClose(2000)).toBe(4401);
    // Not before the session's time was up (200 ms from the hello, on the real clock).
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(errorFrame(c)!.error.details.problem).toBe('the session expired');
  });

  it('SUP-1 an expiry the server clock passed is noticed by revalidation and closes the page with 4401', async () => {
    const s = await boot({ supervisorHub: { revalidateMs: 50 } });
    const t = await apiToken(s, 'sue', { kind: 'session', expiresAt: s.clock.now() + 60 * MINUTE_MS });
    const c = await livePage(t.token);
    await revalidationPassed(c);
    expect(c.closeCode).toBeNull();
    s.clock.advance(60 * MINUTE_MS);
    expect(await c.waitClose(1000)).toBe(4401);
  });

  it('SUP-1 AUTH-3 an administrator\u2019s change of a supervisor (fewer departments, deactivated, role taken) closes their pages at once, not at the next revalidation', async () => {
    // The default revalidation interval (15 s): only the change itself can close the pages in time.
    const s = await boot();
    await s.store.updateUser('sue', { departmentIds: ['cut', 'qa'] }, s.clock.now());
    const wide = await livePage(tok.sue);
    expect(wide.welcome!.scope).toEqual({ all: false, departmentIds: ['cut', 'qa'] });
    const other = await livePage(tok.quinn);
    // Sue no longer supervises Quality: her page must not go on receiving Quality's work.
    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { departmentIds: ['cut'] } })).status).toBe(200);
    expect(await wide.waitClose(1000)).toBe(4205);
    const narrow = await livePage(tok.sue);
    expect(narrow.welcome!.scope).toEqual({ all: false, departmentIds: ['cut'] });
    // Deactivated: her tokens are refused at once (AUTH-3), her open page too.
    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { active: false } })).status).toBe(200);
    expect(await narrow.waitClose(1000)).toBe(4401);
    expect(errorFrame(narrow)!.error.code).toBe('user_inactive');
    // No longer a supervisor.
    expect((await http('/api/users/quinn', { method: 'PATCH', token: tok.ada, body: { roles: ['operator'] } })).status).toBe(200);
    expect(await other.waitClose(1000)).toBe(4403);
  });

  it('SUP-1 AUTH-3 a change of a supervisor made while their page is still being signed in closes it at once too', async () => {
    const s = await boot();
    await s.store.updateUser('sue', { departmentIds: ['cut', 'qa'] }, s.clock.now());
    // Hold the page's sign-in after its token is checked, as a busy server might.
    const hub = s.ctx.supervisors as unknown as { authenticate: (token: string) => Promise<unknown> };
    const authenticate = hub.authenticate;
    let checked!: () => void;
    const inAuthentication = new Promise<void>((r) => (checked = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    hub.authenticate = async (token) => {
      const principal = await authenticate(token);
      checked();
      await held;
      return principal;
    };
    const c = await SupervisorClient.open(s.url);
    pages.push(c);
    c.hello({ token: tok.sue });
    await inAuthentication;
    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { departmentIds: ['cut'] } })).status).toBe(200);
    release();
    expect(await c.waitClose(2000)).toBe(4205);
  });

  it('SUP-1 new departments for the supervisor close the page with 4205 after revalidation; losing the role closes it with 4403', async () => {
    await boot({ supervisorHub: { revalidateMs: 50 } });
    const c = await livePage(tok.sue);
    // A change that leaves the scope as it was keeps the page.
    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { displayName: 'Sue W.' } })).status).toBe(200);
    await revalidationPassed(c);
    expect(c.closeCode).toBeNull();

    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { departmentIds: ['cut', 'qa'] } })).status).toBe(200);
    expect(await c.waitClose(1000)).toBe(4205);
    const wider = await livePage(tok.sue);
    expect(wider.welcome!.scope).toEqual({ all: false, departmentIds: ['cut', 'qa'] });
    expect(merged(wider.changes()).tasks.has('q1')).toBe(true);

    expect((await http('/api/users/sue', { method: 'PATCH', token: tok.ada, body: { roles: ['operator'] } })).status).toBe(200);
    expect(await wider.waitClose(1000)).toBe(4403);
    expect(errorFrame(wider)!.error.code).toBe('supervisor_only');
  });
});

describe('SUP-3 people and terminals', () => {
  it('SUP-3 a person row carries active tasks across departments, the limit that applies, performance and presence', async () => {
    const s = await boot();
    const now = s.clock.now();
    await s.store.updateUser('ann', { departmentIds: ['cut', 'qa'] }, now);
    await s.store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: 6 }, now);
    await s.store.upsertDepartment({ id: 'qa', name: 'Quality', taskLimit: 4 }, now);
    await s.store.updateUser('bob', { taskLimit: 7 }, now);
    const c = await livePage(tok.sue);

    await claim(tok.ann, 't2');
    expect((await http('/api/tasks/t2/start', { token: tok.ann, body: {} })).status).toBe(200);
    expect((await http('/api/tasks/t2/complete', { token: tok.ann, body: {} })).status).toBe(200);
    await claim(tok.ann, 't1');
    await claim(tok.ann, 'q1');
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    s.clock.advance(1000);
    await signInAt(k1, 'ann');

    const p = await c.waitForChange((x) => x.people.some((u) => u.id === 'ann' && u.presence !== null));
    expect(p.people.find((u) => u.id === 'ann')).toEqual({
      id: 'ann',
      displayName: 'Name ann',
      roles: ['operator'],
      departmentIds: ['cut'],
      active: true,
      skills: [],
      activeCount: 2,
      limit: 4,
      performance: { score: 0.833, submitted: 1, rejected: 0, expired: 0 },
      presence: { terminalId: 'k1', since: now + 1000 },
    });
    const k1Row = merged(c.changes()).terminals.get('k1');
    expect(k1Row).toMatchObject({ signedInUserId: 'ann', signedInAt: now + 1000 });
    // Signing out at the kiosk clears where they are.
    const from = c.frames.length;
    expect((await k1.mutate([{ name: 'signOut', args: {}, operatorId: 'ann', clientTime: now }]))[0]!.status).toBe('applied');
    await c.waitForChange((x) => x.people.some((u) => u.id === 'ann' && u.presence === null), 2000, from);
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.signedInUserId === null), 2000, from);
    // A person's own limit beats their departments'.
    expect(merged(c.changes()).people.get('bob')).toMatchObject({ limit: 7, activeCount: 0 });
  });

  it('SUP-3 a person\u2019s limit and score follow a change of their department\u2019s limit, the site\u2019s default or the performance window, live', async () => {
    const s = await boot();
    await claim(tok.ann, 't2');
    expect((await http('/api/tasks/t2/start', { token: tok.ann, body: {} })).status).toBe(200);
    expect((await http('/api/tasks/t2/complete', { token: tok.ann, body: {} })).status).toBe(200);
    s.clock.advance(3 * 24 * 3600_000);
    const c = await livePage(tok.sue);
    const ann = () => merged(c.changes()).people.get('ann');
    expect(ann()).toMatchObject({ limit: 10, performance: { submitted: 1 } });
    const annRow = (pred: (p: NonNullable<ReturnType<typeof ann>>) => boolean) => c.waitForChange((x) => x.people.some((p) => p.id === 'ann' && pred(p)));

    expect((await http('/api/departments/cut', { token: tok.ada, method: 'PUT', body: { taskLimit: 3 } })).status).toBe(200);
    await annRow((p) => p.limit === 3);
    expect((await http('/api/departments/cut', { token: tok.ada, method: 'PUT', body: { taskLimit: null } })).status).toBe(200);
    await annRow((p) => p.limit === 10);
    expect((await http('/api/config', { token: tok.ada, method: 'PATCH', body: { defaultTaskLimit: 2 } })).status).toBe(200);
    await annRow((p) => p.limit === 2);
    const settings = (await http('/api/supervision', { token: tok.ada })).body.settings as Record<string, unknown>;
    expect((await http('/api/supervision', { token: tok.ada, method: 'PUT', body: { ...settings, performanceWindowDays: 1 } })).status).toBe(200);
    await annRow((p) => p.performance.submitted === 0);
    // An operator of two departments: a change of one's limit reaches the other's supervisor too.
    await s.store.updateUser('ann', { departmentIds: ['cut', 'qa'] }, s.clock.now());
    const quinn = await livePage(tok.quinn);
    expect(merged(quinn.changes()).people.get('ann')).toMatchObject({ limit: 2 });
    expect((await http('/api/departments/cut', { token: tok.ada, method: 'PUT', body: { taskLimit: 1 } })).status).toBe(200);
    await quinn.waitForChange((x) => x.people.some((p) => p.id === 'ann' && p.limit === 1));
    // A department's change sends again its own operators only (an administrator's page sees all).
    const all = await livePage(tok.ada);
    const from = all.frames.length;
    expect((await http('/api/departments/qa', { token: tok.ada, method: 'PUT', body: { taskLimit: 4 } })).status).toBe(200);
    const qa = await all.waitForChange((x) => x.people.length > 0, 3000, from);
    expect(qa.people.map((p) => [p.id, p.limit]).sort()).toEqual([
      ['ann', 1],
      ['qin', 4],
    ]);
  });

  it('SUP-3 a terminal row shows connection, app version, clock offset and outbox from the v2 hello, heartbeats, and the disconnection', async () => {
    const s = await boot({ hub: { heartbeatMs: 50 } });
    const c = await livePage(tok.sue);
    const now = s.clock.now();
    const k1 = await kiosk('k1', TERMINAL_TOKEN, { clientTime: now - 1500, outbox: 3 });
    const up = await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.connected));
    expect(up.terminals.find((t) => t.id === 'k1')).toMatchObject({
      connected: true,
      connectedAt: now,
      appVersion: 'test',
      clockOffsetMs: 1500,
      outbox: 3,
      departments: ['cut'],
    });

    k1.sendRaw({ type: 'ping', t: 42, outbox: 7 });
    await k1.waitFor((f) => f.type === 'pong');
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.outbox === 7), 2000);

    s.clock.advance(5000);
    const from = c.frames.length;
    k1.close();
    const down = await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && !t.connected), 2000, from);
    expect(down.terminals.find((t) => t.id === 'k1')).toMatchObject({ connected: false, disconnectedAt: now + 5000, outbox: 7 });
  });
});

describe('SUP-3 terminal state after operator activity', () => {
  it('SUP-3 a kiosk that goes offline right after an operator signed in there shows offline, and its outbox updates show', async () => {
    const s = await boot({ hub: { heartbeatMs: 50 } });
    const c = await livePage(tok.sue);
    const k1 = await kiosk('k1', TERMINAL_TOKEN, { outbox: 0 });
    await signInAt(k1, 'ann');
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.signedInUserId === 'ann'));
    // Nothing else happens on the floor: the kiosk reports a queue, then drops off.
    k1.sendRaw({ type: 'ping', t: 1, outbox: 5 });
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.outbox === 5), 1500);
    s.clock.advance(1000);
    const from = c.frames.length;
    k1.close();
    const down = await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && !t.connected), 1500, from);
    expect(down.terminals.find((t) => t.id === 'k1')).toMatchObject({ connected: false, disconnectedAt: s.clock.now(), signedInUserId: 'ann' });
  });

  it('SUP-3 SUP-5 a kiosk whose link drops during its handshake shows offline, and its queued work is alerted', async () => {
    const s = await boot();
    // The handshake's write (connected, outbox) is slow, as when the store is busy: held until released.
    const write = holdCalls(s.store, 'recordHandshake', holds, { when: 'before', only: 'every' });
    const k1 = await TestClient.open(s.wsUrl);
    kiosks.push(k1);
    k1.sendRaw({ type: 'hello', protocolVersion: 3, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: s.clock.now(), appVersion: 'x', outbox: 2 });
    await eventually(() => write.calls === 1, 2000, 'the held handshake write');
    k1.close();
    await eventually(() => s.ctx.hub.connectedTerminals().length === 0, 2000, 'the server to see the kiosk gone');
    write.release();
    // k1 never connected before: offline with a disconnection time means this handshake was undone.
    await eventually(async () => (await s.store.getTerminal('k1'))!.disconnectedAt !== null, 2000, 'k1 stored as disconnected');
    expect(await s.store.getTerminal('k1')).toMatchObject({ connected: false, outbox: 2 });
    // The offline alert an hour later (SUP-5) names it, with its queue.
    const later = s.clock.now() + 3600_000;
    expect((await s.store.alertOfflineTerminals(later - 60_000, later)).map((a) => a.terminalId)).toEqual(['k1']);
  });
});

describe('SUP-3 after a restart', () => {
  it('SUP-3 a server that restarts shows no kiosk as connected until it says hello again', async () => {
    const s = await boot();
    await kiosk('k1', TERMINAL_TOKEN, { outbox: 1 });
    expect((await s.store.getTerminal('k1'))!.connected).toBe(true);
    const dataDir = s.dataDir;
    await s.close();
    for (const k of kiosks.splice(0)) k.close();
    server = await startTestServer({ dataDir, seed: false });
    const c = await livePage((await apiToken(server, 'sue')).token);
    expect(merged(c.changes()).terminals.get('k1')).toMatchObject({ connected: false, outbox: 1 });
    await kiosk('k1', TERMINAL_TOKEN, { outbox: 0 });
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1' && t.connected && t.outbox === 0));
  });
});

describe('SUP-4 and SUP-5 live on the page', () => {
  it('SUP-5 an operator\u2019s reject reaches every active supervisor of the department live, with the reason; reading it shows live', async () => {
    const s = await boot();
    const now = s.clock.now();
    await s.store.createUser(newUser('sid', { roles: ['supervisor'], departmentIds: ['cut'] }), now);
    await s.store.createUser(newUser('sal', { roles: ['supervisor'], departmentIds: ['cut'], active: false }), now);
    const sue = await livePage(tok.sue);
    const sid = await livePage((await apiToken(s, 'sid')).token);

    await claim(tok.ann, 't1');
    expect((await http('/api/tasks/t1/reject', { token: tok.ann, body: { reason: 'Blade is dull' } })).status).toBe(200);
    const expected = { event: 'task_rejected', taskId: 't1', byUserId: 'ann', readAt: null, details: { reason: 'Blade is dull', departmentId: 'cut' } };
    const forSue = (await sue.waitForChange((p) => p.notifications.length > 0)).notifications;
    expect(forSue).toEqual([expect.objectContaining(expected)]);
    const forSid = (await sid.waitForChange((p) => p.notifications.length > 0)).notifications;
    expect(forSid).toEqual([expect.objectContaining(expected)]);
    expect(forSid[0]!.id).not.toBe(forSue[0]!.id);
    const exception = await sue.waitForChange((p) => p.exceptions.some((e) => e.kind === 'task_rejected'));
    expect(exception.exceptions[0]).toMatchObject({ taskId: 't1', userId: 'ann', userName: 'Name ann', reason: 'Blade is dull', acknowledgedAt: null });
    // Not the deactivated supervisor, not the other department's, not the operator.
    expect(await s.store.listNotifications('sal', 10)).toEqual([]);
    expect(await s.store.listNotifications('quinn', 10)).toEqual([]);
    expect((await s.store.listNotifications('ann', 10)).map((n) => n.event)).not.toContain('task_rejected');

    s.clock.advance(2000);
    const from = sue.frames.length;
    const read = await http('/api/notifications/read', { token: tok.sue, body: { ids: [forSue[0]!.id] } });
    expect(read.body).toEqual({ ok: true, changed: 1 });
    const after = await sue.waitForChange((p) => p.notifications.some((n) => n.id === forSue[0]!.id), 2000, from);
    expect(after.notifications[0]!.readAt).toBe(now + 2000);
    expect((await s.store.listNotifications('sid', 10))[0]!.readAt).toBeNull();
    expect(sid.changes().some((p) => p.notifications.some((n) => n.readAt !== null))).toBe(false);

    // Who the supervisors are follows changes to the people: one added later gets the next
    // reject, one deactivated does not.
    const reject = async (taskId: string) => {
      await claim(tok.ann, taskId);
      expect((await http(`/api/tasks/${taskId}/reject`, { token: tok.ann, body: { reason: 'No drawing' } })).status).toBe(200);
    };
    const notified = async (userId: string) => (await s.store.listNotifications(userId, 10)).map((n) => n.taskId);
    await s.store.createUser(newUser('sam', { roles: ['supervisor'], departmentIds: ['cut'] }), now);
    await reject('t2');
    expect(await notified('sam')).toEqual(['t2']);
    await s.store.updateUser('sid', { active: false }, now);
    await reject('t3');
    expect(await notified('sid')).toEqual(['t2', 't1']);
    expect(await notified('sue')).toEqual(['t3', 't2', 't1']);
  });

  it('SUP-4 a refused terminal claim appears on the page live; acknowledging it shows who and when', async () => {
    const s = await boot();
    const c = await livePage(tok.sue);
    await claim(tok.ann, 't1');
    const k2 = await kiosk('k2', TERMINAL2_TOKEN);
    await signInAt(k2, 'bob');
    const [o] = await k2.mutate([{ name: 'claim', args: { taskId: 't1' }, operatorId: 'bob', clientTime: s.clock.now() }]);
    expect(o).toMatchObject({ status: 'rejected', error: { code: 'task_conflict' } });
    const p = await c.waitForChange((x) => x.exceptions.some((e) => e.kind === 'claim_conflict'));
    const e = p.exceptions.find((x) => x.kind === 'claim_conflict')!;
    expect(e).toMatchObject({ taskId: 't1', userId: 'bob', holderId: 'ann', holderName: 'Name ann', terminalId: 'k2', acknowledgedAt: null });

    s.clock.advance(3000);
    const from = c.frames.length;
    expect((await http(`/api/exceptions/${e.id}/acknowledge`, { token: tok.sue, body: {} })).status).toBe(200);
    const acked = await c.waitForChange((x) => x.exceptions.some((y) => y.id === e.id && y.acknowledgedAt !== null), 2000, from);
    expect(acked.exceptions.find((y) => y.id === e.id)).toMatchObject({ acknowledgedAt: s.clock.now(), acknowledgedBy: 'sue', resolution: 'acknowledged' });
  });

  it('SUP-5 a kiosk offline past the alert time with work queued notifies its supervisors once per disconnection', async () => {
    const s = await boot({ offlineAlertSweepMs: 50 });
    const c = await livePage(tok.sue);
    const alertsOf = async (user: string) => (await s.store.listNotifications(user, 50)).filter((n) => n.event === 'terminal_offline');
    // The marker that a sweep ran: a canary kiosk of a department of its own (supervised by pat
    // alone), offline with work queued, whose alert falls due at a chosen moment. The sweep alerts
    // every terminal due in one statement, so once pat is alerted, a kiosk due then was alerted too.
    const now = s.clock.now();
    await s.store.upsertDepartment({ id: 'paint', name: 'Paint', taskLimit: null }, now);
    await s.store.createUser(newUser('pat', { roles: ['supervisor'], departmentIds: ['paint'] }), now);
    await s.store.createTerminal({ id: 'kc', name: 'Canary', departments: ['paint'], tokenHash: tokenHash('canary-token') }, now);
    const canaryOffline = async () => {
      (await kiosk('kc', 'canary-token', { outbox: 1 })).close();
      await eventually(async () => !(await s.store.getTerminal('kc'))!.connected, 2000, 'the canary to be offline');
    };
    const canaryAlerted = (n: number) => eventually(async () => (await alertsOf('pat')).length === n, 2000, `canary alert ${n}`);
    await canaryOffline();
    s.clock.advance(2 * MINUTE_MS);

    const k1 = await kiosk('k1', TERMINAL_TOKEN, { outbox: 4 });
    const k2 = await kiosk('k2', TERMINAL2_TOKEN, { outbox: 0 });
    const offlineSince = s.clock.now();
    k1.close();
    k2.close();
    await eventually(async () => (await s.store.listTerminals()).every((t) => !t.connected), 2000, 'both kiosks to be offline');

    // 9 minutes: k1 is not due yet; the canary (offline 11) is.
    s.clock.advance(9 * MINUTE_MS);
    await canaryAlerted(1);
    expect(await alertsOf('sue')).toEqual([]);

    s.clock.advance(2 * MINUTE_MS);
    const p = await c.waitForChange((x) => x.notifications.some((n) => n.event === 'terminal_offline'), 2000);
    expect(p.notifications).toEqual([
      expect.objectContaining({ event: 'terminal_offline', taskId: null, readAt: null, details: { terminalId: 'k1', outbox: 4, offlineSince } }),
    ]);
    // Later sweeps, with k1 still offline, do not alert again: the canary, offline anew, is alerted
    // by a sweep after k1's alert.
    await canaryOffline();
    s.clock.advance(10 * MINUTE_MS);
    await canaryAlerted(2);
    expect(await alertsOf('sue')).toHaveLength(1);
    expect(await alertsOf('quinn')).toEqual([]);
    expect(await s.store.alertOfflineTerminals(s.clock.now(), s.clock.now())).toEqual([]);

    // Back, then gone again with work queued: a new disconnection, a new alert.
    const again = await kiosk('k1', TERMINAL_TOKEN, { outbox: 2 });
    again.close();
    await eventually(async () => !(await s.store.getTerminal('k1'))!.connected, 2000, 'k1 to be offline again');
    s.clock.advance(11 * MINUTE_MS);
    await eventually(async () => (await alertsOf('sue')).length === 2, 2000, 'the second alert');
    expect((await alertsOf('sue'))[0]!.details).toMatchObject({ terminalId: 'k1', outbox: 2 });
  });
});

describe('PROTO-1 PROTO-14 terminal protocol version 2', () => {
  async function rawTerminal(): Promise<TestClient> {
    const c = await TestClient.open(srv().wsUrl);
    kiosks.push(c);
    return c;
  }

  it('PROTO-1 a v1 terminal (no outbox in its hello) is still welcomed with protocol 1 and works; its outbox is unknown', async () => {
    const s = await boot();
    const c = await rawTerminal();
    c.sendRaw({ type: 'hello', protocolVersion: 1, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: s.clock.now(), appVersion: 'old-kiosk' });
    const welcome = await c.waitFor<Extract<ServerFrame, { type: 'welcome' }>>((f) => f.type === 'welcome');
    expect(welcome.protocolVersion).toBe(1);
    const [signIn, claimed] = await c.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: s.clock.now() },
      { name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: s.clock.now() },
    ]);
    expect([signIn!.status, claimed!.status]).toEqual(['applied', 'applied']);
    expect(await s.store.getTerminal('k1')).toMatchObject({ protocolVersion: 1, outbox: null, appVersion: 'old-kiosk', connected: true });
  });

  it('PROTO-14 a v4 hello with unknown fields and no cursor gets incompatible server_too_old and 4426, not invalid_input', async () => {
    await boot();
    const c = await rawTerminal();
    c.sendRaw({ type: 'hello', protocolVersion: 4, terminalId: 'k1', token: TERMINAL_TOKEN, clientTime: 0, appVersion: 'x', outbox: 0, capabilities: ['delta-v4'] });
    const f = await c.waitFor((x) => x.type === 'incompatible' || x.type === 'error');
    expect(f).toMatchObject({ type: 'incompatible', reason: 'server_too_old', minProtocolVersion: 1, maxProtocolVersion: 3 });
    expect(await c.waitClose()).toBe(4426);
  });

  it('PROTO-14 a v2 hello without its outbox is invalid_input naming outbox (4400)', async () => {
    const s = await boot();
    const c = await rawTerminal();
    c.sendRaw({ type: 'hello', protocolVersion: 2, terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: s.clock.now(), appVersion: 'x' });
    const f = await c.waitFor<Extract<ServerFrame, { type: 'error' }>>((x) => x.type === 'error');
    expect(f.error).toMatchObject({ code: 'invalid_input', details: { field: 'outbox' } });
    expect(await c.waitClose()).toBe(4400);
  });
});

describe('SUP-1 faults the feed oracle found (test/supervisor-feed-oracle.test.ts)', () => {
  it('SUP-1 SUP-3 renaming an operator sends the tasks they hold again: the board shows the new name on them, as a fresh view does', async () => {
    await boot();
    const c = await livePage(tok.sue);
    await claim(tok.ann, 't1');
    const from = c.frames.length;
    const a = await http('/api/users/ann', { method: 'PATCH', token: tok.ada, body: { displayName: 'Ann Lee-Park' } });
    expect(a.status, a.text).toBe(200);
    // The person's row and the tasks they hold are logged in one commit: the page that brings the
    // one brings the other.
    await c.waitForChange((x) => x.people.some((p) => p.id === 'ann' && p.displayName === 'Ann Lee-Park'), 3000, from);
    expect(merged(c.changes(from)).tasks.get('t1')).toMatchObject({ operatorId: 'ann', operatorName: 'Ann Lee-Park' });
    const fresh = await livePage(tok.sue);
    expect(merged(fresh.changes()).tasks.get('t1')).toMatchObject({ operatorName: 'Ann Lee-Park' });
  });

  it('SUP-1 SUP-3 a kiosk moved out of (or into) the view while an operator is signed in there: their presence stops (or starts) naming it, as a fresh view does', async () => {
    await boot();
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k1, 'ann');
    const c = await livePage(tok.sue);
    expect(merged(c.changes()).people.get('ann')?.presence).toMatchObject({ terminalId: 'k1' });
    let from = c.frames.length;
    const out = await http('/api/terminals/k1', { method: 'PATCH', token: tok.ada, body: { departments: ['qa'] } });
    expect(out.status, out.text).toBe(200);
    // The kiosk leaves the view; the person signed in there is sent in the same commit.
    await c.waitForChange((x) => x.removed.terminals.includes('k1'), 3000, from);
    expect(merged(c.changes(from)).people.get('ann')?.presence).toMatchObject({ terminalId: null });
    const fresh = await livePage(tok.sue);
    expect(merged(fresh.changes()).people.get('ann')?.presence).toMatchObject({ terminalId: null });
    from = c.frames.length;
    const back = await http('/api/terminals/k1', { method: 'PATCH', token: tok.ada, body: { departments: ['qa', 'cut'] } });
    expect(back.status, back.text).toBe(200);
    await c.waitForChange((x) => x.terminals.some((t) => t.id === 'k1'), 3000, from);
    expect(merged(c.changes(from)).people.get('ann')?.presence).toMatchObject({ terminalId: 'k1' });
  });

  it('SUP-1 SUP-5 EXP-1 a supervisor who also works tasks gets her own notifications live on her overview (a task assigned to her, her own claim, both expiring), as a fresh view shows them', async () => {
    const intervals = new ManualIntervals();
    const s = await boot({ intervals });
    await s.store.createUser(newUser('mia', { roles: ['supervisor', 'operator'], departmentIds: ['cut'], displayName: 'Mia Lead' }), s.clock.now());
    const mia = (await apiToken(s, 'mia')).token;
    const c = await livePage(mia);
    const from = c.frames.length;
    const assigned = await http('/api/tasks/t1/assign', { token: tok.sue, body: { userId: 'mia' } });
    expect(assigned.status, assigned.text).toBe(200);
    await claim(mia, 't2');
    // Two hours pass unstarted and the server's expiry sweep runs: both go back to the pool.
    s.clock.advance(121 * MINUTE_MS);
    await intervals.run('expiry');
    await c.waitForChange((x) => x.tasks.some((t) => t.id === 't2' && t.operatorId === null), 3000, from);
    const fresh = await livePage(mia);
    expect(notificationTrail(fresh.changes())).toEqual([
      ['task_assigned', 't1', 'unread'],
      ['task_claimed', 't2', 'read'],
      ['task_expired', 't1', 'unread'],
      ['task_expired', 't2', 'unread'],
    ]);
    // The page that was open all along holds the same (the commits that wrote them brought them).
    expect(notificationTrail(c.changes(from))).toEqual(notificationTrail(fresh.changes()));
  });

  it('SUP-3 PERF-1 a person\u2019s score on an overview left open follows the performance window into a new day, as a fresh view shows it', async () => {
    const intervals = new ManualIntervals();
    const s = await boot({ intervals });
    const put = await http('/api/supervision', { method: 'PUT', token: tok.ada, body: { ...DEFAULT_SUPERVISION_SETTINGS, performanceWindowDays: 1 } });
    expect(put.status, put.text).toBe(200);
    for (const op of ['claim', 'start', 'complete']) expect((await http(`/api/tasks/t1/${op}`, { token: tok.ann, body: {} })).status).toBe(200);
    const c = await livePage(tok.sue);
    expect(merged(c.changes()).people.get('ann')?.performance).toMatchObject({ submitted: 1 });
    const from = c.frames.length;
    // A day later the completion is out of the one-day window; the server's timers run.
    s.clock.advance(24 * 3600_000);
    await intervals.run('performanceDay');
    await c.waitForChange((x) => x.people.some((p) => p.id === 'ann'), 2000, from).catch(() => undefined);
    const fresh = await livePage(tok.sue);
    expect(merged(fresh.changes()).people.get('ann')?.performance).toMatchObject({ submitted: 0 });
    expect(merged(c.changes()).people.get('ann')?.performance).toEqual(merged(fresh.changes()).people.get('ann')?.performance);
  });

  it('SUP-1 an overview whose link dropped while its supervisor\u2019s departments changed loads the new scope afresh when it comes back, instead of merging a delta of it onto the old board', async () => {
    // No revalidation: the change is noticed by the page's return alone, as when the link drops first.
    const s = await boot({ supervisorHub: { revalidateMs: 0 } });
    await s.store.createUser(newUser('mia', { roles: ['supervisor'], departmentIds: ['cut'], displayName: 'Mia Lead' }), s.clock.now());
    const mia = await apiToken(s, 'mia');
    // The page's own feed client and board store, on a real WebSocket with the session cookie.
    const board = createBoardStore();
    let socket: WebSocket | null = null;
    let live = false;
    const feed = new FeedClient(
      {
        url: superviseUrl(s.url),
        open: (url) => (socket = new WebSocket(url, { headers: { cookie: `sf_session=${mia.token}` } })) as unknown as FeedSocket,
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      },
      {
        welcome: (w) => board.getState().setWelcome(w),
        changes: (p) => board.getState().applyPage(p, Date.now()),
        state: (st) => (live = st.kind === 'live'),
        ended: () => undefined,
      },
    );
    try {
      feed.start();
      await eventually(() => live && board.getState().loaded, 3000, 'the overview to load');
      expect(board.getState().tasks.has('t1')).toBe(true);
      // Mia now supervises Quality only; her overview's link drops before anything tells it.
      const a = await http('/api/users/mia', { method: 'PATCH', token: tok.ada, body: { departmentIds: ['qa'] } });
      expect(a.status, a.text).toBe(200);
      live = false;
      (socket as WebSocket | null)?.terminate();
      await eventually(() => live && board.getState().welcome?.scope.departmentIds.join() === 'qa', 3000, 'the overview back, live, for Quality');
      const b = board.getState();
      expect([...b.departments.keys()]).toEqual(['qa']);
      expect([...b.tasks.keys()].sort()).toEqual(['q1']);
      expect([...b.people.keys()].sort()).toEqual(['qin']);
      expect([...b.terminals.keys()]).toEqual([]);
    } finally {
      feed.stop();
    }
  });
});
