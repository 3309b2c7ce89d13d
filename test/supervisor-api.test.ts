/**
 * The supervisors' HTTP routes against a real server (port 0, temp SQLite, manual clock): the
 * session cookie (AUTH-8), supervision settings (SUP-2), the exceptions feed (SUP-4), notifications
 * (SUP-5), the audit trail and its CSV export (SUP-6), performance (PERF-1), unassign and cancel
 * (ASG-6, CNL-1), the operator picker (ASG-7), refusals that name the operator picked (ERR-3),
 * the auto-assign preview (AUTO-6) and the overview's static page (SUP-1).
 */
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTO_ASSIGN_STRATEGIES } from '../src-shared/domain/autoassign.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { DEFAULT_SUPERVISION_SETTINGS } from '../src-shared/domain/supervision.js';
import type { ServerOptions } from '../src-server/app.js';
import { apiToken, call, type Answer, type Body, type CallOptions } from './support/http-client.js';
import { T0, TERMINAL2_TOKEN, TERMINAL_TOKEN, newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { SupervisorClient } from './support/supervisor-client.js';
import { TestClient } from './support/ws-client.js';

let server: TestServer;
const sockets: Array<{ close(): void }> = [];
let tok: Record<'ann' | 'bob' | 'qin' | 'sue' | 'ada' | 'quinn', string>;

async function boot(options: Partial<ServerOptions> = {}): Promise<void> {
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
}

/** Replace the running server with one started with `options`. */
async function reboot(options: Partial<ServerOptions>): Promise<void> {
  await server.stop();
  await boot(options);
}

beforeEach(async () => {
  await boot();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await server.stop();
});

const http = (p: string, options: CallOptions = {}) => call(server, p, options);
const post = (p: string, token: string, body: unknown = {}, headers: Record<string, string> = {}) => http(p, { token, body, headers });

/** The common error shape (ERR-1). */
function expectError(a: Answer, status: number, code: string): Body {
  expect(a.status, a.text).toBe(status);
  expect(a.body).toMatchObject({
    code,
    message: expect.any(String),
    details: expect.any(Object),
    retry: { canRetry: expect.any(Boolean), suggestion: expect.any(String), actionText: expect.any(String) },
  });
  return a.body;
}

async function ok(a: Answer | Promise<Answer>): Promise<Body> {
  const r = await a;
  expect(r.status, r.text).toBe(200);
  return r.body;
}

const claim = (who: keyof typeof tok, taskId: string) => ok(post(`/api/tasks/${taskId}/claim`, tok[who]));
const start = (who: keyof typeof tok, taskId: string) => ok(post(`/api/tasks/${taskId}/start`, tok[who]));
const complete = (who: keyof typeof tok, taskId: string) => ok(post(`/api/tasks/${taskId}/complete`, tok[who]));
const reject = (who: keyof typeof tok, taskId: string, reason: string) => ok(post(`/api/tasks/${taskId}/reject`, tok[who], { reason }));

async function kiosk(terminalId: string, token: string, clientTime = server.clock.now()): Promise<TestClient> {
  const c = await TestClient.connect(server.wsUrl, { terminalId, token, clientTime });
  sockets.push(c);
  expect(c.frames[0]?.type).toBe('welcome');
  return c;
}

async function signInAt(t: TestClient, userId: string): Promise<void> {
  const [o] = await t.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: userId, clientTime: server.clock.now() }]);
  expect(o!.status).toBe('applied');
}

interface ExceptionItem {
  id: number;
  kind: string;
  taskId: string;
  [key: string]: unknown;
}

async function exceptions(token: string, query = ''): Promise<{ items: ExceptionItem[]; total: number }> {
  return (await ok(http(`/api/exceptions${query}`, { token }))) as unknown as { items: ExceptionItem[]; total: number };
}

async function supervisorCookie(): Promise<string> {
  const a = await http('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass', cookie: true, for: 'supervisor' } });
  expect(a.status, a.text).toBe(200);
  return /^sf_session=[^;]+/.exec(a.headers.get('set-cookie') ?? '')![0];
}

// ---------------------------------------------------------------------------------------------

describe('AUTH-8 the session cookie', () => {
  it('AUTH-8 a supervisor signing in with cookie: true gets an HttpOnly SameSite=Strict cookie and no token in the body', async () => {
    const a = await http('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass', cookie: true, for: 'supervisor' } });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ tokenId: expect.any(String), expiresAt: server.clock.now() + 12 * 60 * MINUTE_MS, user: { id: 'sue' } });
    expect(a.body).not.toHaveProperty('token');
    const setCookie = a.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^sf_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const value = /^sf_session=([^;]+)/.exec(setCookie)![1]!;
    expect(a.text).not.toContain(value);
    // The cookie authenticates reads.
    const me = await ok(http('/api/me', { headers: { Cookie: `sf_session=${value}` } }));
    expect(me).toMatchObject({ user: { id: 'sue' }, token: { kind: 'session' } });
    expect((await http('/api/exceptions', { headers: { Cookie: `sf_session=${value}` } })).status).toBe(200);
    expectError(await http('/api/me', { headers: { Cookie: 'sf_session=ses_forged' } }), 401, 'unauthenticated');
  });

  it('AUTH-8 a change made with the cookie must carry this server\u2019s Origin: none or another site\u2019s is 403 and changes nothing', async () => {
    const cookie = await supervisorCookie();
    const assign = (headers: Record<string, string>) => http('/api/tasks/t1/assign', { body: { userId: 'ann' }, headers: { Cookie: cookie, ...headers } });
    expect(expectError(await assign({}), 403, 'permission_denied').details).toMatchObject({ problem: expect.stringContaining('page of this server') });
    expectError(await assign({ Origin: 'http://evil.example' }), 403, 'permission_denied');
    expectError(await assign({ Origin: server.url.replace(/:\d+$/, ':1') }), 403, 'permission_denied');
    expect((await ok(http('/api/tasks/t1', { token: tok.sue }))).task).toMatchObject({ operatorId: null });
    expect((await ok(assign({ Origin: server.url }))).task).toMatchObject({ operatorId: 'ann' });
    // A bearer token is not a cookie: no Origin needed.
    await ok(post('/api/notifications/read', tok.sue, { all: true }));
  });

  it('AUTH-8 an operator signing in for the supervisor overview is refused supervisor_only and gets no session', async () => {
    const a = await http('/api/auth/sign-in', { body: { badge: 'B-ANN', cookie: true, for: 'supervisor' } });
    expect(expectError(a, 403, 'supervisor_only').message).toMatch(/for supervisors and administrators/);
    expect(a.headers.get('set-cookie')).toBeNull();
    expect(a.body).not.toHaveProperty('token');
    expect((await server.store.listApiTokens('ann')).filter((t) => t.kind === 'session')).toEqual([]);
    const audit = (await server.store.listAudit({ limit: 20 })).filter((e) => e.action === 'sign_in');
    expect(audit[0]).toMatchObject({ outcome: 'supervisor_only' });
    // The same badge signs in anywhere else.
    expect((await ok(http('/api/auth/sign-in', { body: { badge: 'B-ANN' } }))).token).toEqual(expect.any(String));
  });

  it('AUTH-8 signing out with the cookie revokes the session and clears the cookie (Max-Age=0)', async () => {
    const cookie = await supervisorCookie();
    const out = await http('/api/auth/sign-out', { body: {}, headers: { Cookie: cookie, Origin: server.url } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^sf_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expectError(await http('/api/me', { headers: { Cookie: cookie } }), 401, 'unauthenticated');
  });
});

describe('SUP-2 supervision settings', () => {
  it('SUP-2 supervisors read the settings; only admins change them, and they are validated', async () => {
    expect(await ok(http('/api/supervision', { token: tok.sue }))).toEqual({ settings: DEFAULT_SUPERVISION_SETTINGS });
    expectError(await http('/api/supervision', { token: tok.ann }), 403, 'permission_denied');
    const berlin = { timeZone: 'Europe/Berlin', shiftStarts: ['06:00', '18:00'], terminalOfflineAlertMinutes: 5, performanceWindowDays: 7 };
    expectError(await http('/api/supervision', { method: 'PUT', token: tok.sue, body: berlin }), 403, 'permission_denied');
    expect(await ok(http('/api/supervision', { method: 'PUT', token: tok.ada, body: berlin }))).toEqual({ settings: berlin });

    const bad = async (body: unknown, field: string) => {
      const b = expectError(await http('/api/supervision', { method: 'PUT', token: tok.ada, body }), 400, 'invalid_input');
      expect(b.details).toMatchObject({ field });
    };
    await bad({ ...berlin, timeZone: 'Mars/Olympus_Mons' }, 'timeZone');
    await bad({ ...berlin, shiftStarts: ['6:00'] }, 'shiftStarts.0');
    await bad({ ...berlin, shiftStarts: ['24:00'] }, 'shiftStarts.0');
    await bad({ ...berlin, shiftStarts: ['06:00', '06:00'] }, 'shiftStarts');
    await bad({ ...berlin, shiftStarts: [] }, 'shiftStarts');
    await bad({ ...berlin, shift: 'night' }, 'shift');
    expect(await ok(http('/api/supervision', { token: tok.sue }))).toEqual({ settings: berlin });
    expect((await server.store.listAudit({ limit: 10 })).filter((e) => e.action === 'supervision_update')).toHaveLength(1);
  });

  it('SUP-2 a settings change reaches supervisor pages live', async () => {
    const page = await SupervisorClient.connect(server.url, { token: tok.sue });
    sockets.push(page);
    await page.sync();
    const from = page.frames.length;
    const utc8 = { ...DEFAULT_SUPERVISION_SETTINGS, timeZone: 'Asia/Shanghai' };
    await ok(http('/api/supervision', { method: 'PUT', token: tok.ada, body: utc8 }));
    const p = await page.waitForChange((x) => x.supervision !== null, 2000, from);
    expect(p.supervision).toEqual(utc8);
  });
});

describe('SUP-4 exceptions', () => {
  it('SUP-4 a terminal claim refused with task_conflict records who tried, who holds it, the terminal and how long it waited', async () => {
    await claim('ann', 't1');
    const now = server.clock.now();
    // The kiosk's clock runs 30 s behind; the claim was made 45 s (server time) before it arrived.
    const k2 = await kiosk('k2', TERMINAL2_TOKEN, now - 30_000);
    await signInAt(k2, 'bob');
    const [o] = await k2.mutate([{ name: 'claim', args: { taskId: 't1' }, operatorId: 'bob', clientTime: now - 30_000 - 45_000 }]);
    expect(o).toMatchObject({ status: 'rejected', error: { code: 'task_conflict' } });
    // The kiosk re-sends it (a lost answer): the stored outcome, and no second exception.
    k2.sendRaw({ type: 'push', mutations: [{ id: o!.id, name: 'claim', args: { taskId: 't1' }, operatorId: 'bob', clientTime: now - 30_000 - 45_000 }] });
    await k2.waitFor(() => k2.outcomes().filter((x) => x.id === o!.id).length === 2);
    expect(k2.outcomes().filter((x) => x.id === o!.id).map((x) => x.status)).toEqual(['rejected', 'rejected']);
    const list = await exceptions(tok.sue);
    expect(list.total).toBe(1);
    expect(list.items[0]).toEqual({
      id: expect.any(Number),
      kind: 'claim_conflict',
      taskId: 't1',
      departmentId: 'cut',
      userId: 'bob',
      userName: 'Name bob',
      holderId: 'ann',
      holderName: 'Name ann',
      terminalId: 'k2',
      operation: 'claim',
      errorCode: 'task_conflict',
      reason: null,
      waitedMs: 45_000,
      createdAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolution: null,
    });
  });

  it('SUP-4 a stale queued claim records claim_stale; another refused terminal operation records operation_refused; success records nothing', async () => {
    const now = server.clock.now();
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k1, 'ann');
    const out = await k1.mutate([
      { name: 'claim', args: { taskId: 't2' }, operatorId: 'ann', clientTime: now - 9 * 60 * MINUTE_MS },
      { name: 'start', args: { taskId: 't3' }, operatorId: 'ann', clientTime: now },
      { name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: now },
    ]);
    expect(out.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['claim_stale', 'task_not_claimed', 'applied']);
    const list = await exceptions(tok.sue);
    expect(list.total).toBe(2);
    expect(list.items.map((e) => [e.kind, e.taskId, e.operation, e.errorCode, e.userId, e.holderId])).toEqual([
      ['operation_refused', 't3', 'start', 'task_not_claimed', 'ann', null],
      ['claim_stale', 't2', 'claim', 'claim_stale', 'ann', null],
    ]);
    expect(list.items[1]!.waitedMs).toBe(9 * 60 * MINUTE_MS);
  });

  it('SUP-4 an operator\u2019s reject records task_rejected with the reason; it resolves itself as "claimed" when someone claims the task', async () => {
    await claim('ann', 't1');
    await reject('ann', 't1', 'Wrong drawing revision');
    const [e] = (await exceptions(tok.sue, '?open=true')).items;
    expect(e).toMatchObject({ kind: 'task_rejected', taskId: 't1', userId: 'ann', userName: 'Name ann', reason: 'Wrong drawing revision', terminalId: null, acknowledgedAt: null });
    server.clock.advance(60_000);
    await claim('bob', 't1');
    expect((await exceptions(tok.sue, '?open=true')).total).toBe(0);
    const [done] = (await exceptions(tok.sue, '?open=false')).items;
    expect(done).toMatchObject({ id: e!.id, acknowledgedAt: server.clock.now(), acknowledgedBy: 'bob', resolution: 'claimed' });
  });

  it('SUP-4 an expired assignment records assignment_expired; assigning the task resolves it as "assigned"', async () => {
    await claim('ann', 't2');
    server.clock.advance(121 * MINUTE_MS);
    expect(await server.ctx.committer.submit({ kind: 'expire' })).toEqual(['t2']);
    const [e] = (await exceptions(tok.sue, '?kind=assignment_expired')).items;
    expect(e).toMatchObject({ taskId: 't2', userId: 'ann', userName: 'Name ann', reason: null, acknowledgedAt: null, createdAt: server.clock.now() });
    await ok(post('/api/tasks/t2/assign', tok.sue, { userId: 'bob' }));
    expect((await exceptions(tok.sue, '?kind=assignment_expired')).items[0]).toMatchObject({ acknowledgedBy: 'sue', resolution: 'assigned' });
  });

  it('SUP-4 cancelling a task resolves its open rejection as "cancelled"', async () => {
    await claim('ann', 't3');
    await reject('ann', 't3', 'Material missing');
    await ok(post('/api/tasks/t3/cancel', tok.sue, { reason: 'Order withdrawn' }));
    const [e] = (await exceptions(tok.sue, '?taskId=t3')).items;
    expect(e).toMatchObject({ kind: 'task_rejected', acknowledgedAt: server.clock.now(), resolution: 'cancelled' });
  });

  it('SUP-4 the list filters by department, open, kind and task, newest first, paged with a total', async () => {
    for (const t of ['t1', 't2', 't3']) {
      await claim('ann', t);
      await reject('ann', t, `No good: ${t}`);
    }
    await claim('qin', 'q1');
    await reject('qin', 'q1', 'Gauge broken');
    const all = await exceptions(tok.sue);
    expect(all.total).toBe(3);
    expect(all.items.map((e) => e.taskId)).toEqual(['t3', 't2', 't1']);
    expect((await exceptions(tok.sue, '?taskId=t2')).items.map((e) => e.reason)).toEqual(['No good: t2']);
    expect((await exceptions(tok.sue, '?kind=claim_conflict')).total).toBe(0);
    expect((await exceptions(tok.sue, '?departmentId=cut&open=true&kind=task_rejected')).total).toBe(3);
    const page1 = await exceptions(tok.sue, '?limit=2&offset=0');
    const page2 = await exceptions(tok.sue, '?limit=2&offset=2');
    expect([page1.total, page2.total]).toEqual([3, 3]);
    expect([...page1.items, ...page2.items].map((e) => e.id)).toEqual(all.items.map((e) => e.id));
    expect((await exceptions(tok.ada)).total).toBe(4);
    expect((await exceptions(tok.ada, '?departmentId=qa')).items.map((e) => e.taskId)).toEqual(['q1']);
    expect(expectError(await http('/api/exceptions?kind=bogus', { token: tok.sue }), 400, 'invalid_input').details).toMatchObject({ field: 'query.kind' });
    expect(expectError(await http('/api/exceptions?open=yes', { token: tok.sue }), 400, 'invalid_input').details).toMatchObject({ field: 'query.open' });
  });

  it('SUP-4 acknowledging records when and who, once; other departments\u2019 supervisors can neither see nor acknowledge it; operators are refused', async () => {
    await claim('ann', 't1');
    await reject('ann', 't1', 'Blade is dull');
    const [e] = (await exceptions(tok.sue)).items;
    // Another department's supervisor: filtered out, refused by department, and "no such exception".
    expect((await exceptions(tok.quinn)).total).toBe(0);
    expectError(await http('/api/exceptions?departmentId=cut', { token: tok.quinn }), 403, 'permission_denied');
    expectError(await post(`/api/exceptions/${e!.id}/acknowledge`, tok.quinn), 404, 'not_found');
    // Operators.
    expectError(await http('/api/exceptions', { token: tok.ann }), 403, 'permission_denied');
    expectError(await post(`/api/exceptions/${e!.id}/acknowledge`, tok.ann), 403, 'permission_denied');
    expect((await exceptions(tok.sue)).items[0]!.acknowledgedAt).toBeNull();

    server.clock.advance(5000);
    const acked = await ok(post(`/api/exceptions/${e!.id}/acknowledge`, tok.sue));
    const when = server.clock.now();
    expect(acked).toMatchObject({ ok: true, exception: { id: e!.id, acknowledgedAt: when, acknowledgedBy: 'sue', resolution: 'acknowledged' } });
    // A second acknowledgement (an admin's) keeps the first; so does a later claim of the task.
    server.clock.advance(5000);
    expect((await ok(post(`/api/exceptions/${e!.id}/acknowledge`, tok.ada))).exception).toMatchObject({ acknowledgedAt: when, acknowledgedBy: 'sue' });
    await claim('bob', 't1');
    expect((await exceptions(tok.sue)).items[0]).toMatchObject({ acknowledgedAt: when, acknowledgedBy: 'sue', resolution: 'acknowledged' });
    // The audit keeps both, the second as what it was (not a second "applied").
    const acks = (await server.store.listAudit({ limit: 50 })).filter((a) => a.action === 'exception_acknowledge').sort((a, b) => a.at - b.at);
    expect(acks.map((a) => [a.actorId, a.outcome])).toEqual([
      ['sue', 'applied'],
      ['ada', 'already_acknowledged'],
    ]);
    expect(acks[1]!.details).toMatchObject({ acknowledgedBy: 'sue', acknowledgedAt: when });

    expect(expectError(await post('/api/exceptions/abc/acknowledge', tok.sue), 400, 'invalid_input').details).toMatchObject({ field: 'path.id' });
    expectError(await post('/api/exceptions/99999/acknowledge', tok.sue), 404, 'not_found');
    expectError(await post(`/api/exceptions/${e!.id}/acknowledge`, tok.sue, { note: 'seen' }), 400, 'invalid_input');
  });
});

describe('SUP-5 notifications', () => {
  it('SUP-5 POST /api/notifications/read marks the caller\u2019s own notifications read: some, or all', async () => {
    await server.store.createUser(newUser('sid', { roles: ['supervisor'], departmentIds: ['cut'] }), server.clock.now());
    const sid = (await apiToken(server, 'sid')).token;
    await claim('ann', 't1');
    await reject('ann', 't1', 'one');
    await claim('ann', 't2');
    await reject('ann', 't2', 'two');
    const mine = async (token: string) => ((await ok(http('/api/notifications', { token }))).items as Array<{ id: number; readAt: number | null; details: Body }>);
    const sue = await mine(tok.sue);
    const sids = await mine(sid);
    expect(sue.map((n) => n.details.reason)).toEqual(['two', 'one']);
    server.clock.advance(1000);
    // Someone else's id is not the caller's to mark.
    expect(await ok(post('/api/notifications/read', tok.sue, { ids: [sue[1]!.id, sids[0]!.id] }))).toEqual({ ok: true, changed: 1 });
    expect((await mine(tok.sue)).map((n) => n.readAt)).toEqual([null, server.clock.now()]);
    expect((await mine(sid)).map((n) => n.readAt)).toEqual([null, null]);
    expect(await ok(post('/api/notifications/read', tok.sue, { all: true }))).toEqual({ ok: true, changed: 1 });
    expect(await ok(post('/api/notifications/read', tok.sue, { all: true }))).toEqual({ ok: true, changed: 0 });
    expect((await mine(tok.sue)).every((n) => n.readAt !== null)).toBe(true);
    expect((await mine(sid)).every((n) => n.readAt === null)).toBe(true);

    expectError(await post('/api/notifications/read', tok.sue, {}), 400, 'invalid_input');
    expectError(await post('/api/notifications/read', tok.sue, { ids: [1], all: true }), 400, 'invalid_input');
    expectError(await post('/api/notifications/read', tok.sue, { ids: [] }), 400, 'invalid_input');
  });
});

describe('SUP-6 audit trail', () => {
  /** Events at T0 (claim t1), T0+1h (bob's refused claim of t1, claim make1), T0+2h (assign t2 to bob, kiosk claim t3), and in qa. */
  async function history(): Promise<void> {
    await claim('ann', 't1');
    server.clock.advance(60 * MINUTE_MS);
    expectError(await post('/api/tasks/t1/claim', tok.bob), 409, 'task_conflict');
    await claim('ann', 'make1');
    server.clock.advance(60 * MINUTE_MS);
    await ok(post('/api/tasks/t2/assign', tok.sue, { userId: 'bob' }));
    const k1 = await kiosk('k1', TERMINAL_TOKEN);
    await signInAt(k1, 'bob');
    const [o] = await k1.mutate([{ name: 'claim', args: { taskId: 't3' }, operatorId: 'bob', clientTime: server.clock.now() }]);
    expect(o!.status).toBe('applied');
    await claim('qin', 'q1');
  }

  interface AuditItem {
    id: number;
    at: number;
    action: string;
    outcome: string;
    actorId: string | null;
    terminalId: string | null;
    taskId: string | null;
    departmentId: string | null;
    details: Body;
  }
  const audit = async (token: string, query = '') => (await ok(http(`/api/audit${query}`, { token }))) as unknown as { items: AuditItem[]; total: number; limit: number; offset: number };

  it('SUP-6 supervisors search the trail of their own departments, admins all of it, operators none', async () => {
    await history();
    const sue = await audit(tok.sue);
    // Five events about cut's tasks, and the sign-in at cut's kiosk k1.
    expect(sue.total).toBe(6);
    expect(sue.items.filter((e) => e.taskId === null).map((e) => [e.action, e.terminalId])).toEqual([['signIn', 'k1']]);
    expect(new Set(sue.items.map((e) => e.departmentId))).toEqual(new Set(['cut']));
    expect(sue.items.map((e) => e.taskId)).not.toContain('q1');
    expect(sue.items.map((e) => e.id)).toEqual([...sue.items.map((e) => e.id)].sort((a, b) => b - a));
    expect((await audit(tok.quinn)).items.map((e) => [e.action, e.taskId])).toEqual([['claim', 'q1']]);
    const ada = await audit(tok.ada);
    expect(ada.items.map((e) => e.taskId)).toEqual(expect.arrayContaining(['q1', 't1']));
    expect(ada.total).toBeGreaterThan(sue.total);
    expectError(await http('/api/audit?departmentId=qa', { token: tok.sue }), 403, 'permission_denied');
    expectError(await http('/api/audit', { token: tok.ann }), 403, 'permission_denied');
  });

  it('SUP-6 a page of the trail names the people who acted in it, a supervisor and an administrator too (the overview knows only its operators by name)', async () => {
    await history();
    await ok(post('/api/tasks/t1/unassign', tok.ada, {}));
    const page = (await ok(http('/api/audit', { token: tok.sue }))) as unknown as { items: AuditItem[]; names: Record<string, string> };
    const actors = new Set(page.items.map((e) => e.actorId).filter((a): a is string => a !== null));
    expect(actors).toEqual(new Set(['ann', 'bob', 'sue', 'ada']));
    expect(page.names).toEqual({ ann: 'Name ann', bob: 'Name bob', sue: 'Name sue', ada: 'Ada Admin' });
  });

  it('SUP-6 the trail filters by task, work order, person, action, outcome and terminal, paged with a total', async () => {
    await history();
    const pick = async (query: string) => (await audit(tok.sue, query)).items.map((e) => [e.action, e.outcome, e.actorId, e.taskId]);
    expect(await pick('?taskId=t1')).toEqual([
      ['claim', 'task_conflict', 'bob', 't1'],
      ['claim', 'applied', 'ann', 't1'],
    ]);
    expect(await pick('?workOrder=WO-2')).toEqual([['claim', 'applied', 'ann', 'make1']]);
    // A person: what they did, and what was done to them (the assign names bob in its details).
    expect(await pick('?userId=bob')).toEqual([
      ['claim', 'applied', 'bob', 't3'],
      ['signIn', 'applied', 'bob', null],
      ['assign', 'applied', 'sue', 't2'],
      ['claim', 'task_conflict', 'bob', 't1'],
    ]);
    expect(await pick('?action=assign')).toEqual([['assign', 'applied', 'sue', 't2']]);
    expect(await pick('?outcome=task_conflict')).toEqual([['claim', 'task_conflict', 'bob', 't1']]);
    expect(await pick('?outcome=refused')).toEqual([['claim', 'task_conflict', 'bob', 't1']]);
    expect((await audit(tok.sue, '?outcome=applied')).items.every((e) => e.outcome === 'applied')).toBe(true);
    expect((await audit(tok.sue, '?outcome=applied')).total).toBe(5);
    expect(await pick('?terminalId=k1')).toEqual([
      ['claim', 'applied', 'bob', 't3'],
      ['signIn', 'applied', 'bob', null],
    ]);
    const p1 = await audit(tok.sue, '?limit=4&offset=0');
    const p2 = await audit(tok.sue, '?limit=4&offset=4');
    expect([p1.items.length, p2.items.length, p1.total, p2.total, p2.offset]).toEqual([4, 2, 6, 6, 4]);
    expect([...p1.items, ...p2.items].map((e) => e.id)).toEqual((await audit(tok.sue)).items.map((e) => e.id));
  });

  it('SUP-6 from and to take epoch ms or ISO 8601 with an offset (to is exclusive); a bad value is 400 naming query.from', async () => {
    await history();
    const hour = 60 * MINUTE_MS;
    const tasks = async (query: string) => (await audit(tok.sue, query)).items.map((e) => e.taskId);
    expect(await tasks(`?from=${T0 + hour}&to=${T0 + 2 * hour}`)).toEqual(['make1', 't1']);
    // 07:00 UTC written as 08:00 in UTC+1, and 08:00 UTC with Z.
    expect(await tasks('?from=2026-01-05T08:00:00%2B01:00&to=2026-01-05T08:00:00Z')).toEqual(['make1', 't1']);
    expect(await tasks(`?to=${T0 + 1}`)).toEqual(['t1']);
    // After 08:00: the claim at the kiosk, the sign-in before it (no task), and the assign.
    expect(await tasks(`?from=${T0 + 2 * hour}`)).toEqual(['t3', null, 't2']);
    for (const bad of ['yesterday', '2026-01-05T07:00:00', '2026-13-45T99:00:00Z']) {
      const b = expectError(await http(`/api/audit?from=${encodeURIComponent(bad)}`, { token: tok.sue }), 400, 'invalid_input');
      expect(b.details, bad).toMatchObject({ field: 'query.from' });
    }
    expect(expectError(await http(`/api/audit?from=${T0 + hour}&to=${T0}`, { token: tok.sue }), 400, 'invalid_input').details).toMatchObject({ field: 'query.to' });
  });

  it('SUP-6 format=csv exports the filtered trail as text/csv: a header row, then one row per event', async () => {
    await history();
    const reason = 'Burr, "sharp"\nsecond line';
    await claim('bob', 'insp1');
    await reject('bob', 'insp1', reason);
    const a = await http('/api/audit?format=csv', { token: tok.sue });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(a.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-2026-01-05\.csv"$/);
    // Opens in Excel as UTF-8 (a byte order mark first; fetch's text() drops it), Chinese names intact.
    const bytes = Buffer.from(await (await fetch(`${server.url}/api/audit?format=csv`, { headers: { authorization: `Bearer ${tok.sue}` } })).arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0xef, 0xbb, 0xbf, 'i'.charCodeAt(0)]);
    const rows = parseCsv(a.text) as string[][];
    expect(rows[0]).toEqual(['id', 'at', 'action', 'outcome', 'actorId', 'via', 'terminalId', 'taskId', 'departmentId', 'details']);
    const json = await audit(tok.sue, '?limit=500');
    expect(rows.length - 1).toBe(json.total);
    expect(a.headers.get('x-total-count')).toBe(String(json.total));
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(json.items.map((e) => e.id));
    const rejected = rows.find((r) => r[2] === 'reject')!;
    expect(rejected.slice(1, 9)).toEqual([new Date(server.clock.now()).toISOString(), 'reject', 'applied', 'bob', 'http', '', 'insp1', 'cut']);
    expect(JSON.parse(rejected[9]!)).toMatchObject({ reason });
    expect(a.text).not.toContain('q1');
    // Filters apply to the export too.
    const filtered = parseCsv((await http('/api/audit?format=csv&taskId=t1', { token: tok.sue })).text) as string[][];
    expect(filtered.slice(1).map((r) => r[7])).toEqual(['t1', 't1']);
  });
});

describe('PERF-1 performance', () => {
  it('PERF-1 a person\u2019s performance is their own history in the window, blended with their starting score', async () => {
    await server.store.importTasks([taskRow('t4'), taskRow('t5')], server.clock.now());
    for (const t of ['t1', 't2']) {
      await claim('ann', t);
      await start('ann', t);
      await complete('ann', t);
    }
    for (const t of ['t3', 'make1']) {
      await claim('bob', t);
      await reject('bob', t, 'not today');
    }
    const perf = async () => {
      const items = (await ok(http('/api/tasks/t4/candidates', { token: tok.sue }))).items as Array<{ userId: string; performance: number }>;
      return Object.fromEntries(items.map((c) => [c.userId, c.performance]));
    };
    // (submitted + 5 × 0.8) / (finished + 5)
    expect(await perf()).toEqual({ ann: 0.857, bob: 0.571 });
    server.clock.advance(31 * 24 * 60 * MINUTE_MS);
    expect(await perf()).toEqual({ ann: 0.8, bob: 0.8 });
    await ok(http('/api/supervision', { method: 'PUT', token: tok.ada, body: { ...DEFAULT_SUPERVISION_SETTINGS, performanceWindowDays: 60 } }));
    expect(await perf()).toEqual({ ann: 0.857, bob: 0.571 });
  });

  it('PERF-1 AUTO-4 performance_weighted auto-assign prefers the operator with the better record', async () => {
    await server.store.importTasks([taskRow('t4'), taskRow('t5')], server.clock.now());
    const run = async (dryRun: boolean) =>
      (await ok(post('/api/departments/cut/auto-assign', tok.sue, { strategy: 'performance_weighted', limit: 1, dryRun }))).assigned as Array<Body>;
    // Equal records: the tie goes to the lower id.
    expect((await run(true)).map((p) => p.userId)).toEqual(['ann']);
    for (const t of ['t4', 't5']) {
      await claim('ann', t);
      await reject('ann', t, 'not today');
    }
    for (const t of ['t1', 't2']) {
      await claim('bob', t);
      await start('bob', t);
      await complete('bob', t);
    }
    const picks = await run(false);
    expect(picks).toEqual([expect.objectContaining({ taskId: 't3', userId: 'bob', userName: 'Name bob', performance: 0.857, eligible: 2 })]);
    expect((await ok(http('/api/tasks/t3', { token: tok.sue }))).task).toMatchObject({ operatorId: 'bob' });
  });
});

describe('ASG-6 unassign and CNL-1 cancel', () => {
  it('ASG-6 a supervisor releases a held task to the pool; the holder is told and may claim it again at once', async () => {
    const claimed = (await claim('ann', 't1')).task as Body;
    await start('ann', 't1');
    const r = await ok(post('/api/tasks/t1/unassign', tok.sue));
    expect(r).toMatchObject({ ok: true, previousOwner: { id: 'ann', name: 'Name ann' }, task: { operatorId: null, status: 'pending', version: (claimed.version as number) + 2 } });
    const notes = (await ok(http('/api/notifications', { token: tok.ann }))).items as Body[];
    expect(notes[0]).toMatchObject({ event: 'task_released_by_supervisor', taskId: 't1', byUserId: 'sue' });
    const detail = await ok(http('/api/tasks/t1', { token: tok.sue }));
    expect((detail.assignments as Body[]).map((a) => [a.userId, a.status])).toEqual([['ann', 'released']]);
    // No cooldown: it was not the holder's choice.
    expect((await claim('ann', 't1')).task).toMatchObject({ operatorId: 'ann' });
  });

  it('ASG-6 operators and other departments\u2019 supervisors may not unassign; a task nobody holds is task_not_claimed', async () => {
    await claim('ann', 't1');
    expectError(await post('/api/tasks/t1/unassign', tok.ann), 403, 'permission_denied');
    expectError(await post('/api/tasks/t1/unassign', tok.quinn), 403, 'permission_denied');
    expect((await ok(http('/api/tasks/t1', { token: tok.sue }))).task).toMatchObject({ operatorId: 'ann' });
    expectError(await post('/api/tasks/t2/unassign', tok.sue), 422, 'task_not_claimed');
    // Admins may in every department.
    await claim('qin', 'q1');
    expect((await ok(post('/api/tasks/q1/unassign', tok.ada))).task).toMatchObject({ operatorId: null, status: 'pending' });
  });

  it('CNL-1 cancelling needs a reason; the holder\u2019s assignment closes released with it, they are told, and nobody can take the task', async () => {
    expect(expectError(await post('/api/tasks/t1/cancel', tok.sue, {}), 400, 'invalid_input').details).toMatchObject({ field: 'reason' });
    expect(expectError(await post('/api/tasks/t1/cancel', tok.sue, { reason: '   ' }), 400, 'reason_required').message).toBe('Please give a reason for cancelling this task.');
    await claim('ann', 't1');
    const reason = 'Customer withdrew the order';
    const r = await ok(post('/api/tasks/t1/cancel', tok.sue, { reason }));
    expect(r).toMatchObject({ ok: true, previousOwner: { id: 'ann' }, task: { status: 'cancelled', operatorId: null } });
    const detail = await ok(http('/api/tasks/t1', { token: tok.sue }));
    expect((detail.assignments as Body[]).map((a) => [a.userId, a.status, a.reason])).toEqual([['ann', 'released', reason]]);
    expect(((await ok(http('/api/notifications', { token: tok.ann }))).items as Body[])[0]).toMatchObject({ event: 'task_cancelled', taskId: 't1', byUserId: 'sue' });
    expect((detail.audit as Body[])[0]).toMatchObject({ action: 'cancel', actorId: 'sue', details: { reason } });
    expectError(await post('/api/tasks/t1/claim', tok.bob), 422, 'task_cancelled');
    expectError(await post('/api/tasks/t1/assign', tok.sue, { userId: 'bob' }), 422, 'task_cancelled');
    expectError(await post('/api/tasks/t1/cancel', tok.sue, { reason }), 422, 'task_cancelled');
    // A pending task nobody holds can be cancelled too.
    expect((await ok(post('/api/tasks/t2/cancel', tok.sue, { reason }))).task).toMatchObject({ status: 'cancelled' });
  });

  it('CNL-1 operators and other departments\u2019 supervisors may not cancel', async () => {
    expectError(await post('/api/tasks/t1/cancel', tok.ann, { reason: 'mine' }), 403, 'permission_denied');
    expectError(await post('/api/tasks/t1/cancel', tok.quinn, { reason: 'not mine' }), 403, 'permission_denied');
    expect((await ok(http('/api/tasks/t1', { token: tok.sue }))).task).toMatchObject({ status: 'pending' });
  });
});

describe('ASG-7 the operator picker', () => {
  interface Candidate {
    userId: string;
    eligible: boolean;
    error: { code: string; message: string; details: Body } | null;
    activeCount: number;
    limit: number;
    performance: number;
    cooldownUntil: number | null;
  }
  const candidates = async (taskId: string, token: string, query = '', headers: Record<string, string> = {}) =>
    (await ok(http(`/api/tasks/${taskId}/candidates${query}`, { token, headers }))).items as Candidate[];

  it('ASG-7 lists the operators of the task\u2019s department and the supervisor\u2019s other departments, judged as the assign would, eligible first', async () => {
    const now = server.clock.now();
    await server.store.updateUser('sue', { departmentIds: ['cut', 'qa'] }, now);
    await server.store.createUser(newUser('cal'), now);
    await server.store.createUser(newUser('ina', { active: false }), now);
    await server.store.updateUser('bob', { taskLimit: 1 }, now);
    await claim('bob', 't1');
    await claim('ann', 'make1');
    await start('ann', 'make1');

    const items = await candidates('insp1', tok.sue);
    expect(items.map((c) => c.userId).sort()).toEqual(['ann', 'bob', 'cal', 'ina', 'qin']);
    expect(items[0]).toEqual({
      userId: 'cal',
      displayName: 'Name cal',
      active: true,
      departmentIds: ['cut'],
      eligible: true,
      error: null,
      activeCount: 0,
      limit: 10,
      performance: 0.8,
      cooldownUntil: null,
    });
    const by = Object.fromEntries(items.map((c) => [c.userId, c]));
    expect(items.slice(1).every((c) => !c.eligible)).toBe(true);
    expect(by.ann).toMatchObject({ activeCount: 1, error: { code: 'cross_step_excluded', message: 'Name ann did step "make" on this work order, so may not also do step "inspect".' } });
    expect(by.bob).toMatchObject({ activeCount: 1, limit: 1, error: { code: 'capacity_reached', message: 'Name bob already has 1 active tasks; the limit is 1.' } });
    expect(by.ina).toMatchObject({ active: false, error: { code: 'user_inactive', message: 'The account of Name ina is deactivated.' } });
    expect(by.qin).toMatchObject({ departmentIds: ['qa'], error: { code: 'not_in_department', message: 'Name qin is not in Cutting.' } });

    const zh = await candidates('insp1', tok.sue, '', { 'Accept-Language': 'zh-CN' });
    expect(zh.find((c) => c.userId === 'qin')!.error!.message).toBe('Name qin 不属于部门 Cutting。');
    // A supervisor of cut alone is not shown qa's people.
    await server.store.updateUser('sue', { departmentIds: ['cut'] }, now);
    expect((await candidates('insp1', tok.sue)).map((c) => c.userId)).not.toContain('qin');
  });

  it('ASG-7 someone in cooldown for the task is eligible with cooldownUntil; reassign judges the holder a duplicate and the rest eligible', async () => {
    await claim('ann', 't2');
    await ok(post('/api/tasks/t2/release', tok.ann));
    const until = server.clock.now() + 15 * MINUTE_MS;
    const t2 = await candidates('t2', tok.sue);
    expect(t2.find((c) => c.userId === 'ann')).toMatchObject({ eligible: true, error: null, cooldownUntil: until });
    expect(t2.find((c) => c.userId === 'bob')).toMatchObject({ eligible: true, cooldownUntil: null });

    await claim('ann', 't3');
    const reassign = await candidates('t3', tok.sue, '?mode=reassign');
    expect(reassign.map((c) => [c.userId, c.eligible, c.error?.code ?? null])).toEqual([
      ['bob', true, null],
      ['ann', false, 'duplicate_assignment'],
    ]);
    const assign = await candidates('t3', tok.sue, '?mode=assign');
    expect(assign.find((c) => c.userId === 'bob')).toMatchObject({ eligible: false, error: { code: 'task_conflict' } });
  });

  it('ASG-7 operators and other departments\u2019 supervisors are refused; an unknown task is 404; a bad mode is 400', async () => {
    expectError(await http('/api/tasks/t1/candidates', { token: tok.ann }), 403, 'permission_denied');
    expectError(await http('/api/tasks/t1/candidates', { token: tok.quinn }), 403, 'permission_denied');
    expectError(await http('/api/tasks/nope/candidates', { token: tok.sue }), 404, 'task_not_found');
    expect(expectError(await http('/api/tasks/t1/candidates?mode=steal', { token: tok.sue }), 400, 'invalid_input').details).toMatchObject({ field: 'query.mode' });
    // Admins are shown every operator, so "not in this department" is explained too.
    const forAdmin = (await ok(http('/api/tasks/q1/candidates', { token: tok.ada }))).items as Candidate[];
    expect(forAdmin.map((c) => [c.userId, c.eligible, c.error?.code ?? null])).toEqual([
      ['qin', true, null],
      ['ann', false, 'not_in_department'],
      ['bob', false, 'not_in_department'],
    ]);
  });
});

describe('ERR-3 refusals name the person they are about', () => {
  it('ERR-3 a refused assign names the operator picked, in English and Chinese; an operator\u2019s own refusal still says "you"', async () => {
    const notInDept = expectError(await post('/api/tasks/t1/assign', tok.sue, { userId: 'qin' }), 403, 'not_in_department');
    expect(notInDept).toMatchObject({ message: 'Name qin is not in Cutting.', details: { targetName: 'Name qin', departmentName: 'Cutting' } });
    expect((notInDept.retry as Body).suggestion).toBe('Pick an operator of Cutting, or ask an administrator to add Name qin to it.');
    const zh = expectError(await http('/api/tasks/t1/assign', { token: tok.sue, body: { userId: 'qin' }, headers: { 'Accept-Language': 'zh' } }), 403, 'not_in_department');
    expect(zh.message).toBe('Name qin 不属于部门 Cutting。');

    await server.store.updateUser('bob', { taskLimit: 0 }, server.clock.now());
    expect(expectError(await post('/api/tasks/t1/assign', tok.sue, { userId: 'bob' }), 422, 'capacity_reached').message).toBe(
      'Name bob already has 0 active tasks; the limit is 0.',
    );
    await claim('ann', 'make1');
    await start('ann', 'make1');
    expect(expectError(await post('/api/tasks/insp1/assign', tok.sue, { userId: 'ann' }), 422, 'cross_step_excluded').message).toBe(
      'Name ann did step "make" on this work order, so may not also do step "inspect".',
    );
    const own = expectError(await post('/api/tasks/q1/claim', tok.ann), 403, 'not_in_department');
    expect(own.message).toBe('You do not belong to department Quality, so you cannot take this task.');
    expect(own.details).not.toHaveProperty('targetName');
  });
});

describe('AUTO-6 auto-assign preview', () => {
  it.each(AUTO_ASSIGN_STRATEGIES)('AUTO-6 a %s dry run shows what a real run assigns and changes nothing; the real run then assigns exactly that', async (strategy) => {
    const now = server.clock.now();
    await server.store.updateUser('ann', { taskLimit: 2 }, now);
    await server.store.updateUser('bob', { taskLimit: 2 }, now);
    await server.store.importTasks([taskRow('t4'), taskRow('t5', { priority: 2 })], now);
    const tasks = async () => ((await ok(http('/api/tasks?departmentId=cut&limit=100', { token: tok.sue }))).items as Body[]).map((t) => [t.id, t.operatorId, t.status, t.version]);
    const before = { tasks: await tasks(), audit: (await server.store.listAudit({ limit: 10_000 })).length, head: await server.store.headSeq() };
    const request = { strategy, dryRun: true };

    const dry = await ok(post('/api/departments/cut/auto-assign', tok.sue, request));
    expect(dry).toMatchObject({ ok: true, dryRun: true, departmentId: 'cut', strategy });
    const assigned = dry.assigned as Array<Body>;
    const unassigned = dry.unassigned as Array<{ taskId: string; reason: string; details: { ineligible: Record<string, number> } }>;
    expect(assigned).toHaveLength(4);
    for (const p of assigned) {
      expect(p).toEqual({
        taskId: expect.any(String),
        userId: expect.stringMatching(/^(ann|bob)$/),
        userName: `Name ${String(p.userId)}`,
        activeCount: expect.any(Number),
        limit: 2,
        performance: 0.8,
        eligible: expect.any(Number),
      });
      expect(p.eligible as number).toBeGreaterThanOrEqual(1);
    }
    // Nobody takes more than their limit; what is left over says why.
    expect(assigned.filter((p) => p.userId === 'ann')).toHaveLength(2);
    expect(unassigned.length).toBe(3);
    for (const u of unassigned) {
      expect(u.reason).toBe('no_eligible_operator');
      expect(Object.values(u.details.ineligible).reduce((a, b) => a + b, 0)).toBe(2);
      expect(u.details.ineligible.capacity_reached).toBeGreaterThanOrEqual(1);
    }
    // Nothing changed: tasks, audit, change log (so no notification or push), round-robin position.
    expect(await tasks()).toEqual(before.tasks);
    expect((await server.store.listAudit({ limit: 10_000 })).length).toBe(before.audit);
    expect(await server.store.headSeq()).toBe(before.head);
    expect(await server.store.listNotifications('ann', 10)).toEqual([]);
    expect(await ok(post('/api/departments/cut/auto-assign', tok.sue, request))).toEqual(dry);

    const real = await ok(post('/api/departments/cut/auto-assign', tok.sue, { strategy }));
    expect(real.dryRun).toBe(false);
    expect(real.assigned).toEqual(dry.assigned);
    expect(real.unassigned).toEqual(dry.unassigned);
    const held = new Map((await tasks()).map(([id, operatorId]) => [id, operatorId]));
    for (const p of assigned) expect(held.get(p.taskId), String(p.taskId)).toBe(p.userId);
    expect((await server.store.listAudit({ limit: 10_000 })).filter((e) => e.action === 'auto_assign')).toHaveLength(4);
  });

  it('AUTO-6 a preview is refused to operators and other departments\u2019 supervisors like a real run', async () => {
    expectError(await post('/api/departments/cut/auto-assign', tok.ann, { strategy: 'least_loaded', dryRun: true }), 403, 'permission_denied');
    expectError(await post('/api/departments/cut/auto-assign', tok.quinn, { strategy: 'least_loaded', dryRun: true }), 403, 'permission_denied');
  });
});

describe('SUP-1 the overview page', () => {
  function renderer(): { dir: string; parent: string } {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'renderer-'));
    const dir = path.join(parent, 'renderer');
    fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'supervisor.html'), '<!doctype html><title>Overview</title><script type="module" src="./assets/app.js"></script>');
    fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log("overview");');
    fs.writeFileSync(path.join(dir, 'index.html'), '<title>kiosk screen</title>');
    fs.writeFileSync(path.join(parent, 'secret.txt'), 'TOP SECRET');
    return { dir, parent };
  }

  /** A raw request, so the path reaches the server exactly as written (fetch would normalise "..") */
  function raw(method: string, p: string): Promise<{ status: number; headers: nodeHttp.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = nodeHttp.request(`${server.url}${p}`, { method, path: p, timeout: 3000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  it('SUP-1 / and /supervisor redirect to /supervisor/, which serves the page and its assets under a strict CSP naming the WebSocket host', async () => {
    const { dir, parent } = renderer();
    try {
      await reboot({ rendererDir: dir });
      for (const p of ['/', '/supervisor']) {
        const a = await http(p);
        expect([a.status, a.headers.get('location')], p).toEqual([302, '/supervisor/']);
      }
      const page = await http('/supervisor/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('<title>Overview</title>');
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://${new URL(server.url).host}`);
      expect(csp).toContain("frame-ancestors 'none'");
      const js = await http('/supervisor/assets/app.js');
      expect([js.status, js.headers.get('content-type'), js.text]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("overview");']);
      expect(js.headers.get('content-security-policy')).toContain("script-src 'self'");
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('SUP-1 nothing outside the page and its assets is served; other methods are 405', async () => {
    const { dir, parent } = renderer();
    try {
      await reboot({ rendererDir: dir });
      for (const p of ['/supervisor/../secret.txt', '/supervisor/assets/../../secret.txt', '/supervisor/assets/..%2f..%2fsecret.txt', '/supervisor/index.html/../../secret.txt']) {
        const a = await raw('GET', p);
        expect(a.status, p).toBe(404);
        expect(a.body, p).not.toContain('TOP SECRET');
      }
      // Only the overview and its assets: not the kiosk screen beside it, not missing assets.
      expect((await raw('GET', '/supervisor/other.html')).status).toBe(404);
      expect((await raw('GET', '/supervisor/assets/missing.js')).status).toBe(404);
      // API-1: counted by what was answered (the file is looked up on the disk first).
      const metrics = (await raw('GET', '/metrics')).body;
      expect(metrics).toMatch(/shopfloor_http_requests_total\{method="GET",route="static",status="404"\} [1-9]/);
      expect(metrics).not.toMatch(/shopfloor_http_requests_total\{method="GET",route="static",status="200"\}/);
      const post = await raw('POST', '/supervisor/');
      expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
      expect((await raw('HEAD', '/supervisor/')).status).toBe(200);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('SUP-1 without a built overview /supervisor/ says how to build it (503)', async () => {
    await reboot({ rendererDir: null });
    const a = await http('/supervisor/');
    expect(a.status).toBe(503);
    expect(a.text).toMatch(/npm run build/);
  });
});
