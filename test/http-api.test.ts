/**
 * The HTTP API against a real server (port 0, temp SQLite, manual clock): authentication and
 * roles, sign-in with throttling and lockout, input validation and status mapping, task lists,
 * administration, metrics, and injection strings.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { DomainError } from '../src-shared/domain/errors.js';
import { compareClaimable } from '../src-shared/domain/rules.js';
import type { Task } from '../src-shared/domain/types.js';
import { hashSecretAsync } from '../src-server/secrets.js';
import { newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

type Body = Record<string, unknown>;
interface Answer {
  status: number;
  headers: Headers;
  body: Body;
  text: string;
}
interface CallOptions {
  method?: string;
  token?: string | null;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

let server: TestServer;

async function call(path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${server.url}${path}`, { method: options.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  let parsed: Body = {};
  try {
    parsed = JSON.parse(text) as Body;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** An API token for `userId`, made directly in the store (only its hash is kept). */
async function apiToken(userId: string, over: { expiresAt?: number | null; kind?: 'api' | 'session' } = {}): Promise<string> {
  const token = `api_test_${userId}_${Math.random().toString(36).slice(2)}`;
  await server.store.createApiToken(
    {
      id: `tok-${token.slice(-8)}`,
      userId,
      name: 'test',
      kind: over.kind ?? 'api',
      expiresAt: over.expiresAt ?? null,
      revokedAt: null,
      tokenHash: tokenHash(token),
    },
    server.clock.now(),
  );
  return token;
}

/** The common error shape (ERR-1). */
function expectError(a: Answer, status: number, code: string): Body {
  expect(a.status).toBe(status);
  expect(a.body).toMatchObject({
    code,
    message: expect.any(String),
    details: expect.any(Object),
    retry: { canRetry: expect.any(Boolean), suggestion: expect.any(String), actionText: expect.any(String) },
  });
  return a.body;
}

let ann: string;
let bob: string;
let sue: string;
let ada: string;

beforeEach(async () => {
  server = await startTestServer();
  await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [], displayName: 'Ada Admin' }), server.clock.now());
  ann = await apiToken('ann');
  bob = await apiToken('bob');
  sue = await apiToken('sue');
  ada = await apiToken('ada');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await server.stop();
});

describe('authentication and roles', () => {
  it('AUTH-2 a missing, malformed, unknown, revoked or expired token is 401 unauthenticated', async () => {
    expect(expectError(await call('/api/me'), 401, 'unauthenticated').details).toMatchObject({ problem: expect.stringContaining('no bearer token') });
    expectError(await call('/api/me', { headers: { authorization: 'Basic abc' } }), 401, 'unauthenticated');
    expect(expectError(await call('/api/me', { token: 'api_nope' }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token is unknown' });
    const revoked = await apiToken('ann');
    const id = (await server.store.listApiTokens('ann')).at(-1)!.id;
    await server.store.revokeApiToken(id, server.clock.now());
    expect(expectError(await call('/api/me', { token: revoked }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
    const expiring = await apiToken('ann', { expiresAt: server.clock.now() + 1000 });
    expect((await call('/api/me', { token: expiring })).status).toBe(200);
    server.clock.advance(1000);
    expect(expectError(await call('/api/me', { token: expiring }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token expired' });
  });

  it('AUTH-3 a deactivated user is refused with 403 user_inactive at once', async () => {
    expect((await call('/api/me', { token: ann })).body).toMatchObject({ user: { id: 'ann', roles: ['operator'] } });
    await server.store.updateUser('ann', { active: false }, server.clock.now());
    expectError(await call('/api/me', { token: ann }), 403, 'user_inactive');
    expectError(await call('/api/tasks/t1/claim', { token: ann, body: {} }), 403, 'user_inactive');
  });

  it('AUTH-5 an administrator who sets a new password for someone ends their sessions (a stolen one with it); their API tokens and the administrator\u2019s own session stay', async () => {
    const signIn = async (userId: string, password: string) => (await call('/api/auth/sign-in', { body: { userId, password } })).body.token as string;
    const sueSession = await signIn('sue', 'supervisor-pass');
    expect((await call('/api/me', { token: sueSession })).status).toBe(200);
    // The administrator works through a session too, and resets Sue's password with it.
    await server.store.updateUser('ada', { passwordHash: await hashSecretAsync('admin-pass-1') }, server.clock.now());
    const adaSession = await signIn('ada', 'admin-pass-1');
    expect((await call('/api/users/sue', { token: adaSession, method: 'PATCH', body: { password: 'a-new-password' } })).status).toBe(200);
    expect(expectError(await call('/api/me', { token: sueSession }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
    expect((await call('/api/me', { token: sue })).status).toBe(200);
    expect((await call('/api/me', { token: adaSession })).status).toBe(200);
    expect((await call('/api/me', { token: await signIn('sue', 'a-new-password') })).status).toBe(200);
    // Her own new password ends the administrator's other sessions, not the one that set it.
    const adaOther = await signIn('ada', 'admin-pass-1');
    expect((await call('/api/users/ada', { token: adaSession, method: 'PATCH', body: { password: 'admin-pass-2' } })).status).toBe(200);
    expect((await call('/api/me', { token: adaSession })).status).toBe(200);
    expectError(await call('/api/me', { token: adaOther }), 401, 'unauthenticated');
    // Any other change (a name) ends nothing.
    const sueAgain = await signIn('sue', 'a-new-password');
    expect((await call('/api/users/sue', { token: adaSession, method: 'PATCH', body: { displayName: 'Sue P.' } })).status).toBe(200);
    expect((await call('/api/me', { token: sueAgain })).status).toBe(200);
  });

  it('AUTH-3 an administrator who deactivates someone revokes their sessions and API tokens: reactivating them brings none back', async () => {
    const sueSession = (await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    expect((await call('/api/me', { token: sueSession })).status).toBe(200);
    const off = await call('/api/users/sue', { token: ada, method: 'PATCH', body: { active: false } });
    expect(off.status).toBe(200);
    expectError(await call('/api/me', { token: sue }), 401, 'unauthenticated');
    expect((await server.store.listApiTokens('sue')).every((t) => t.revokedAt !== null)).toBe(true);
    // Back at work (a rehire, a mistake put right): the old session and API token stay dead, a
    // new sign-in works.
    expect((await call('/api/users/sue', { token: ada, method: 'PATCH', body: { active: true } })).status).toBe(200);
    expect(expectError(await call('/api/me', { token: sueSession }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
    expect(expectError(await call('/api/me', { token: sue }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
    const fresh = (await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    expect((await call('/api/me', { token: fresh })).status).toBe(200);
    // Other users' credentials are untouched.
    expect((await call('/api/me', { token: ann })).status).toBe(200);
  });

  it('AUTH-3 deactivating someone already inactive (before this rule, or a revocation cut short) revokes what they still hold', async () => {
    await server.store.updateUser('ann', { active: false }, server.clock.now());
    expect((await call('/api/users/ann', { token: ada, method: 'PATCH', body: { active: false } })).status).toBe(200);
    expect((await call('/api/users/ann', { token: ada, method: 'PATCH', body: { active: true } })).status).toBe(200);
    expect(expectError(await call('/api/me', { token: ann }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
  });

  it('AUTH-3 a sign-in whose secret was being checked while the user was deactivated gets no session (one would come back on reactivation)', async () => {
    // The deactivation lands just before the new session is written (the sign-in had read the
    // user as active before checking the password): its revocation found nothing to revoke.
    const create = server.store.createApiToken.bind(server.store);
    server.store.createApiToken = async (record, now) => {
      if (record.userId === 'sue' && record.kind === 'session') await server.store.updateUser('sue', { active: false }, now);
      return create(record, now);
    };
    const res = await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } });
    expectError(res, 403, 'user_inactive');
    expect((await server.store.listApiTokens('sue')).filter((t) => t.kind === 'session' && t.revokedAt === null)).toEqual([]);
  });

  it('AUTH-2 roles come from the store: operators may not import, assign, auto-assign or administer', async () => {
    const denied = async (path: string, body: unknown, method = 'POST') =>
      expectError(await call(path, { token: ann, body, method }), 403, 'permission_denied');
    await denied('/api/tasks/import', { rows: [] });
    await denied('/api/tasks/t1/assign', { userId: 'bob' });
    await denied('/api/departments/cut/auto-assign', { strategy: 'round_robin' });
    await denied('/api/departments', { id: 'x', name: 'X' });
    await denied('/api/users', { id: 'x', displayName: 'X', roles: ['operator'] });
    await denied('/api/terminals', { id: 'x', name: 'X', departments: ['cut'] });
    await denied('/api/config', { defaultTaskLimit: 3 }, 'PUT');
    expectError(await call('/api/users', { token: ann }), 403, 'permission_denied');
    expectError(await call('/api/terminals', { token: ann }), 403, 'permission_denied');
    // Supervisors read users and terminals but do not administer.
    expect((await call('/api/users', { token: sue })).status).toBe(200);
    expect((await call('/api/terminals', { token: sue })).status).toBe(200);
    expectError(await call('/api/users', { token: sue, body: { id: 'x', displayName: 'X', roles: ['operator'] } }), 403, 'permission_denied');
    // A role granted in the store counts on the very next request; the request cannot claim one.
    expectError(await call('/api/departments', { token: ann, body: { id: 'x', name: 'X' }, headers: { 'x-role': 'admin' } }), 403, 'permission_denied');
    await server.store.updateUser('ann', { roles: ['operator', 'admin'] }, server.clock.now());
    expect((await call('/api/departments', { token: ann, body: { id: 'x', name: 'X' } })).status).toBe(201);
  });

  it('AUTH-4 sign-in with badge + PIN, badge alone (no PIN set) and user id + password issues a working session token', async () => {
    const withPin = await call('/api/auth/sign-in', { body: { badge: 'b-bob', pin: '4321' } });
    expect(withPin.status).toBe(200);
    expect(withPin.body).toMatchObject({ token: expect.stringMatching(/^ses_/), user: { id: 'bob', hasPin: true }, expiresAt: server.clock.now() + 12 * 60 * MINUTE_MS });
    expect(JSON.stringify(withPin.body)).not.toMatch(/scrypt|Hash"/);
    expect((await call('/api/me', { token: withPin.body.token as string })).body).toMatchObject({ user: { id: 'bob' }, token: { kind: 'session' } });

    const badgeOnly = await call('/api/auth/sign-in', { body: { badge: ' B-ANN ' } });
    expect(badgeOnly.body).toMatchObject({ user: { id: 'ann' } });

    const password = await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } });
    expect(password.status).toBe(200);
    const session = password.body.token as string;
    expect((await call('/api/users', { token: session })).status).toBe(200);

    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-BOB', pin: '0000' } }), 401, 'sign_in_failed');
    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-BOB' } }), 401, 'sign_in_failed');
    // A supervisor without a PIN cannot sign in with the badge number alone (it is printed on the card).
    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-SUE' } }), 401, 'sign_in_failed');
    expectError(await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'nope' } }), 401, 'sign_in_failed');
    expectError(await call('/api/auth/sign-in', { body: { userId: 'nobody', password: 'nope' } }), 401, 'sign_in_failed');
    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-BOB', userId: 'sue', password: 'x' } }), 400, 'invalid_input');

    await server.store.updateUser('ann', { active: false }, server.clock.now());
    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-ANN' } }), 403, 'user_inactive');
  });

  it('AUTH-5 a session expires after 12 hours and sign-out revokes it; API tokens are not signed out', async () => {
    const a = (await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    server.clock.advance(12 * 60 * MINUTE_MS);
    expectError(await call('/api/me', { token: a }), 401, 'unauthenticated');
    const b = (await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    expect((await call('/api/auth/sign-out', { token: b, body: {} })).body).toEqual({ ok: true });
    expect(expectError(await call('/api/me', { token: b }), 401, 'unauthenticated').details).toMatchObject({ problem: 'the token was revoked' });
    expectError(await call('/api/auth/sign-out', { token: sue, body: {} }), 400, 'invalid_input');
    expect((await call('/api/me', { token: sue })).status).toBe(200);
  });

  it('AUTH-6 failed sign-ins are throttled, then locked for 15 minutes, then allowed again; all of it is audited', async () => {
    const wrong = () => call('/api/auth/sign-in', { body: { userId: 'sue', password: 'wrong-password' } });
    const right = () => call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } });
    expect(expectError(await wrong(), 401, 'sign_in_failed').details).toMatchObject({ attemptsLeft: 4 });
    expect(expectError(await wrong(), 401, 'sign_in_failed').details).toMatchObject({ attemptsLeft: 3 });
    // From the third failure on, the next try must wait a few seconds.
    expect(expectError(await wrong(), 401, 'sign_in_failed').details).toMatchObject({ attemptsLeft: 2, retryAfterSeconds: 5 });
    const throttled = await right();
    expect(expectError(throttled, 429, 'rate_limited').details).toMatchObject({ retryAfterSeconds: 5 });
    expect(throttled.headers.get('retry-after')).toBe('5');
    server.clock.advance(5_000);
    expectError(await wrong(), 401, 'sign_in_failed');
    server.clock.advance(5_000);
    const locked = await wrong();
    expect(expectError(locked, 429, 'sign_in_locked').details).toMatchObject({ retryAfterSeconds: 900 });
    expect(locked.headers.get('retry-after')).toBe('900');
    expect(locked.body.message).toContain('900');
    // Locked: even the right password is refused until the lock ends.
    server.clock.advance(14 * MINUTE_MS);
    expect(expectError(await right(), 429, 'sign_in_locked').details).toMatchObject({ retryAfterSeconds: 60 });
    server.clock.advance(MINUTE_MS);
    expect((await right()).status).toBe(200);
    // A success clears the count.
    expect(expectError(await wrong(), 401, 'sign_in_failed').details).toMatchObject({ attemptsLeft: 4 });

    const audit = (await server.store.listAudit({ limit: 100 })).filter((e) => e.action === 'sign_in');
    const outcomes = audit.map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'sign_in_failed')).toHaveLength(6);
    expect(outcomes.filter((o) => o === 'sign_in_locked')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'sign_in_throttled')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(audit.every((e) => e.via === 'http' && e.actorId === 'sue' && e.details.remote)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain('wrong-password');
  });

  it('AUTH-6 one remote address that fails 20 times is locked, whatever badge it tries next', async () => {
    for (let i = 0; i < 19; i++) expectError(await call('/api/auth/sign-in', { body: { badge: `UNKNOWN-${i}` } }), 401, 'sign_in_failed');
    expectError(await call('/api/auth/sign-in', { body: { badge: 'UNKNOWN-LAST' } }), 429, 'sign_in_locked');
    expectError(await call('/api/auth/sign-in', { body: { badge: 'B-ANN' } }), 429, 'sign_in_locked');
    const audit = await server.store.listAudit({ limit: 100 });
    expect(audit.find((e) => e.outcome === 'sign_in_locked' && e.details.key === 'ip')).toBeTruthy();
    server.clock.advance(15 * MINUTE_MS);
    expect((await call('/api/auth/sign-in', { body: { badge: 'B-ANN' } })).status).toBe(200);
  });

  it('AUTH-7 API tokens are shown once, stored only as a hash, listed without secrets and revocable', async () => {
    const created = await call('/api/tokens', { token: ada, body: { userId: 'sue', name: 'ERP link', expiresInDays: 30 } });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    const record = created.body.record as { id: string; expiresAt: number };
    expect(token).toMatch(/^api_[0-9a-f]{64}$/);
    expect(record.expiresAt).toBe(server.clock.now() + 30 * 24 * 60 * MINUTE_MS);
    expect((await call('/api/me', { token })).body).toMatchObject({ user: { id: 'sue', roles: ['supervisor'] } });
    // AUTH-1: the store holds the hash, never the token.
    const rows = server.store.db.prepare('SELECT * FROM api_tokens WHERE id = ?').all(record.id);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(JSON.stringify(rows)).toContain(tokenHash(token));
    const listed = await call('/api/tokens?userId=sue', { token: ada });
    expect(listed.text).not.toContain(token);
    expect(listed.text).not.toContain(tokenHash(token));
    expect(listed.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: record.id, name: 'ERP link' })]));
    // Only admins make tokens for others; anyone may make one for themself.
    expectError(await call('/api/tokens', { token: sue, body: { userId: 'ann', name: 'x' } }), 403, 'permission_denied');
    expect((await call('/api/tokens', { token: sue, body: { userId: 'sue', name: 'mine' } })).status).toBe(201);
    // Revoke: the token stops working at once.
    expectError(await call(`/api/tokens/${record.id}`, { token: ann, method: 'DELETE' }), 404, 'not_found');
    expect((await call(`/api/tokens/${record.id}`, { token: ada, method: 'DELETE' })).body).toMatchObject({ ok: true });
    expectError(await call('/api/me', { token }), 401, 'unauthenticated');
  });
});

describe('bodies, status codes and errors', () => {
  it('API-4 malformed JSON is 400 invalid_input naming the body and the problem', async () => {
    const r = expectError(await call('/api/tasks/t1/reject', { token: ann, raw: '{"reason": "x"', headers: { 'content-type': 'application/json' } }), 400, 'invalid_input');
    expect(r.details).toMatchObject({ field: 'body', problem: expect.stringContaining('not valid JSON') });
    expect(r.message).toContain('body');
  });

  it('API-4 SEC-9 a body nested more than 32 levels deep is 400 invalid_input saying so; a sign-in body over 16 KiB is refused unread; brackets inside strings are text', async () => {
    const deep = `{"reason":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const r = expectError(await call('/api/tasks/t1/reject', { token: ann, raw: deep, headers: { 'content-type': 'application/json' } }), 400, 'invalid_input');
    expect(r.details).toMatchObject({ field: 'body', problem: expect.stringContaining('more than 32 levels deep') });
    // Before anyone is signed in, no megabyte is parsed at all: a sign-in is a few hundred bytes.
    const junk = `{"badge":[${Array(6000).fill('{}').join(',')},"\\u0000"]}`;
    expect(junk.length).toBeGreaterThan(16 * 1024);
    expect(expectError(await call('/api/auth/sign-in', { raw: junk, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large').details).toMatchObject({ limitBytes: 16 * 1024 });
    expect((await call('/api/auth/sign-in', { body: { badge: 'b-bob', pin: '4321' } })).status).toBe(200);
    expect((await call('/api/tasks/t1/claim', { token: ann, body: {} })).status).toBe(200);
    const reason = `${'[{'.repeat(100)} \\" ]]`;
    const rejected = await call('/api/tasks/t1/reject', { token: ann, body: { reason } });
    expect(rejected.status, rejected.text).toBe(200);
  });

  it('API-5 invalid fields, unknown fields and bad query parameters are named', async () => {
    const field = async (a: Promise<Answer>) => (expectError(await a, 400, 'invalid_input').details as Body).field;
    expect(await field(call('/api/tasks/t1/reject', { token: ann, body: { reason: 42 } }))).toBe('reason');
    expect(await field(call('/api/tasks/t1/reject', { token: ann, body: {} }))).toBe('reason');
    expect(await field(call('/api/tasks/t1/claim', { token: ann, body: { taskId: 't2' } }))).toBe('taskId');
    expect(await field(call('/api/tasks/t1/assign', { token: sue, body: { userId: 'not an id!' } }))).toBe('userId');
    expect(await field(call('/api/tasks?limit=501', { token: ann }))).toBe('query.limit');
    expect(await field(call('/api/tasks?limit=abc', { token: ann }))).toBe('query.limit');
    expect(await field(call('/api/tasks?status=done', { token: ann }))).toBe('query.status');
    expect(await field(call('/api/tasks?colour=red', { token: ann }))).toBe('query.colour');
    expect(await field(call('/api/tasks/bad%20id/claim', { token: ann, body: {} }))).toBe('path.id');
    expect(await field(call('/api/tasks/%E0%A4%A/claim', { token: ann, body: {} }))).toBe('path');
    expect(await field(call('/api/departments/cut/auto-assign', { token: sue, body: { strategy: 'fastest' } }))).toBe('strategy');
    // REJ-1 stays a rule: a blank reason passes the schema and the rules answer reason_required.
    await call('/api/tasks/t1/claim', { token: ann, body: {} });
    expectError(await call('/api/tasks/t1/reject', { token: ann, body: { reason: '   ' } }), 400, 'reason_required');
  });

  it('API-5 a query parameter a route does not read is refused before anything changes: ?dryRun=true never runs auto-assign for real', async () => {
    const pendingBefore = (await call('/api/tasks?departmentId=cut&status=pending', { token: sue })).body.total;
    const r = expectError(await call('/api/departments/cut/auto-assign?dryRun=true', { token: sue, body: { strategy: 'least_loaded', limit: 4 } }), 400, 'invalid_input');
    expect(r.details).toMatchObject({ field: 'query.dryRun', problem: expect.stringContaining('not a known field') });
    expect((await call('/api/tasks?departmentId=cut&status=pending', { token: sue })).body.total).toBe(pendingBefore);
    expect((expectError(await call('/api/tasks/t1/claim?force=1', { token: ann, body: {} }), 400, 'invalid_input').details as Body).field).toBe('query.force');
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBeNull();
    expect((expectError(await call('/api/me?x=1', { token: ann }), 400, 'invalid_input').details as Body).field).toBe('query.x');
    // The routes that read a query still take theirs.
    expect((await call('/api/tasks?departmentId=cut&limit=1', { token: sue })).status).toBe(200);
  });

  it('API-5 two requests creating the same user at once (a double click): one is created, the other is told the id is taken, never a 500', async () => {
    const body = { id: 'dan', displayName: 'Dan', roles: ['operator'], departmentIds: ['cut'], pin: '246813', badge: 'B-DAN' };
    // The PIN's hashing takes tens of milliseconds: both requests pass the "is the id free" check first.
    const answers = await Promise.all([call('/api/users', { token: ada, body }), call('/api/users', { token: ada, body })]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 400]);
    const refused = answers.find((a) => a.status === 400)!;
    expect(expectError(refused, 400, 'invalid_input').details).toMatchObject({ field: 'id', problem: expect.stringContaining('already used') });
    // The same badge for another new user at once: the badge is named.
    const other = await Promise.all([
      call('/api/users', { token: ada, body: { ...body, id: 'eve', badge: 'B-EVE', pin: '135792' } }),
      call('/api/users', { token: ada, body: { ...body, id: 'fay', badge: 'B-EVE', pin: '135792' } }),
    ]);
    expect(other.map((a) => a.status).sort()).toEqual([201, 400]);
    expect(expectError(other.find((a) => a.status === 400)!, 400, 'invalid_input').details).toMatchObject({ field: 'badge' });
  });

  it('API-4 a body over the limit is 413 payload_too_large and the server carries on', async () => {
    const big = JSON.stringify({ reason: 'x'.repeat(1024 * 1024 + 10) });
    const r = expectError(await call('/api/tasks/t1/reject', { token: ann, raw: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    expect(r.details).toMatchObject({ limitBytes: 64 * 1024 });
    expect((await call('/api/tasks/t1/claim', { token: ann, body: {} })).status).toBe(200);
  });

  it('API-2 an unknown task is 404 task_not_found; an unknown route or method is 404 not_found', async () => {
    expect(expectError(await call('/api/tasks/nope', { token: ann }), 404, 'task_not_found').message).toContain('nope');
    expectError(await call('/api/tasks/nope/claim', { token: ann, body: {} }), 404, 'task_not_found');
    expectError(await call('/api/nothing-here', { token: ann }), 404, 'not_found');
    const wrongMethod = expectError(await call('/api/tasks/t1/claim', { token: ann }), 404, 'not_found');
    expect(wrongMethod.details).toMatchObject({ allowed: ['POST'] });
    // The import's path read with GET is the import's, not a task called "import".
    expect(expectError(await call('/api/tasks/import', { token: ann }), 404, 'not_found').details).toMatchObject({ allowed: ['POST'] });
    expect(expectError(await call('/api/users/nobody', { token: sue }), 404, 'user_not_found').details).toMatchObject({ userId: 'nobody' });
    expect(expectError(await call('/api/tasks/t1/assign', { token: sue, body: { userId: 'nobody' } }), 404, 'user_not_found').details).toMatchObject({ userId: 'nobody' });
    expectError(await call('/api/departments/nowhere/auto-assign', { token: ada, body: { strategy: 'hybrid' } }), 404, 'department_not_found');
  });

  it('CLM-7 API-3 a conflict is 409 task_conflict with currentOwner and taskId at the top level and a retry suggestion', async () => {
    expect((await call('/api/tasks/t1/claim', { token: bob, body: {} })).status).toBe(200);
    const r = expectError(await call('/api/tasks/t1/claim', { token: ann, body: {} }), 409, 'task_conflict');
    expect(r).toMatchObject({
      currentOwner: { id: 'bob', name: 'Name bob' },
      taskId: 't1',
      message: 'This task is already taken by Name bob.',
      details: { taskId: 't1', currentOwner: { id: 'bob', name: 'Name bob' } },
      retry: { canRetry: true, suggestion: 'Refresh the list and pick another task.', actionText: 'Refresh' },
      task: { id: 't1', operatorId: 'bob' },
    });
  });

  it('CLM-6 API-7 a repeat self-claim is 200 with alreadyClaimed and changes nothing', async () => {
    const first = await call('/api/tasks/t1/claim', { token: ann, body: {} });
    expect(first.body).toMatchObject({ ok: true, alreadyClaimed: false, task: { operatorId: 'ann', version: 2 } });
    // No body at all is the same as {}.
    const again = await call('/api/tasks/t1/claim', { token: ann, method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ok: true, alreadyClaimed: true, task: { operatorId: 'ann', version: 2 } });
  });

  it('ERR-1 API-3 Accept-Language zh answers errors in Simplified Chinese', async () => {
    await call('/api/tasks/t1/claim', { token: bob, body: {} });
    const r = await call('/api/tasks/t1/claim', { token: ann, body: {}, headers: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'task_conflict', message: '该任务已被 Name bob 认领。', retry: { actionText: '刷新' } });
    const en = await call('/api/tasks/t1/claim', { token: ann, body: {}, headers: { 'accept-language': 'en-GB' } });
    expect(en.body.message).toBe('This task is already taken by Name bob.');
    expect(expectError(await call('/api/me', { headers: { 'accept-language': 'zh' } }), 401, 'unauthenticated').message).toContain('需要登录');
  });

  it('API-9 an unexpected exception is 500 internal_error without internals, logged with a request id', async () => {
    vi.spyOn(server.store, 'listTasks').mockRejectedValue(new Error('SQLITE_CORRUPT at /secret/path/claims.db'));
    const errors: unknown[] = [];
    vi.spyOn(server.ctx.log, 'error').mockImplementation((obj: unknown) => void errors.push(obj));
    const r = await call('/api/tasks', { token: ann });
    const body = expectError(r, 500, 'internal_error');
    expect(r.text).not.toContain('secret');
    expect(r.text).not.toContain('SQLITE');
    expect(body.details).toEqual({ requestId: r.headers.get('x-request-id') });
    expect(errors).toEqual([expect.objectContaining({ requestId: r.headers.get('x-request-id') })]);
    expect((await call('/api/me', { token: ann })).status).toBe(200);
  });
});

describe('task routes', () => {
  it('API-6 the task list filters by department, status, operator, work order and text, with paging and a total', async () => {
    await call('/api/tasks/t2/claim', { token: ann, body: {} });
    const all = await call('/api/tasks?limit=3', { token: ada });
    expect(all.body).toMatchObject({ total: 7, limit: 3, offset: 0 });
    expect(all.body.items).toHaveLength(3);
    const rest = await call('/api/tasks?limit=3&offset=6', { token: ada });
    expect(rest.body).toMatchObject({ total: 7, offset: 6 });
    expect(rest.body.items).toHaveLength(1);
    const ids = async (q: string) => ((await call(`/api/tasks?${q}`, { token: ada })).body.items as Task[]).map((t) => t.id).sort();
    expect(await ids('departmentId=qa')).toEqual(['q1']);
    expect(await ids('status=draft')).toEqual(['draft1']);
    expect(await ids('operatorId=ann')).toEqual(['t2']);
    expect(await ids('workOrder=WO-2')).toEqual(['insp1', 'make1']);
    expect(await ids('q=part%20make')).toEqual(['make1']);
    expect(await ids(`q=${encodeURIComponent("%' OR 1=1 --")}`)).toEqual([]);
  });

  it('SEC-10 an operator reads only the tasks of their departments and only their own part of a task\u2019s history; a supervisor reads the people and terminals of theirs', async () => {
    await call('/api/tasks/t2/claim', { token: ann, body: {} });
    await call('/api/tasks/t2/release', { token: ann, body: {} });
    const mine = (await call('/api/tasks?limit=50', { token: ann })).body as { items: Task[]; total: number };
    expect(mine.total).toBe(6);
    expect(mine.items.every((t) => t.departmentId === 'cut')).toBe(true);
    expect(expectError(await call('/api/tasks?departmentId=qa', { token: ann }), 403, 'permission_denied').details).toMatchObject({ departmentId: 'qa' });
    expectError(await call('/api/tasks/q1', { token: ann }), 403, 'permission_denied');
    // Someone else's actions on a task of ann's department are not hers to read; her own are.
    await call('/api/tasks/t2/assign', { token: sue, body: { userId: 'ann' } });
    const detail = (await call('/api/tasks/t2', { token: ann })).body as { audit: Array<{ actorId: string | null }>; exceptions: unknown[] };
    expect(detail.audit.length).toBeGreaterThan(0);
    expect(detail.audit.every((e) => e.actorId === 'ann')).toBe(true);
    expect(detail.exceptions).toEqual([]);
    const bySupervisor = (await call('/api/tasks/t2', { token: sue })).body as { audit: Array<{ actorId: string | null }> };
    expect(bySupervisor.audit.some((e) => e.actorId === 'sue')).toBe(true);
    // Nor are another operator's assignments of it (the task itself still says who rejected it
    // last and why, as it does on every kiosk of the department: NTF-3).
    await call('/api/tasks/t3/claim', { token: bob, body: {} });
    await call('/api/tasks/t3/start', { token: bob, body: {} });
    await call('/api/tasks/t3/release', { token: bob, body: {} });
    await call('/api/tasks/t3/claim', { token: ann, body: {} });
    const t3 = (await call('/api/tasks/t3', { token: ann })).body as { assignments: Array<{ userId: string }>; names: Record<string, string> };
    expect(t3.assignments.map((a) => a.userId)).toEqual(['ann']);
    expect(t3.names).not.toHaveProperty('bob');
    const t3BySupervisor = (await call('/api/tasks/t3', { token: sue })).body as { assignments: Array<{ userId: string }> };
    expect(t3BySupervisor.assignments.map((a) => a.userId)).toEqual(['bob', 'ann']);
    // A supervisor of cut sees cut's people and terminals, not qa's; an admin sees all.
    expectError(await call('/api/users?departmentId=qa', { token: sue }), 403, 'permission_denied');
    const people = ((await call('/api/users', { token: sue })).body.items as Array<{ id: string }>).map((u) => u.id);
    expect(people).toContain('ann');
    expect(people).not.toContain('qin');
    expectError(await call('/api/users/qin', { token: sue }), 404, 'user_not_found');
    const terminals = (await call('/api/terminals', { token: sue })).body.items as Array<{ departments: string[] }>;
    expect(terminals.every((t) => t.departments.includes('cut'))).toBe(true);
    expect(((await call('/api/users', { token: ada })).body.items as Array<{ id: string }>).map((u) => u.id)).toContain('qin');
  });

  it('SEC-10 a refused task operation on a task of another department does not answer with that task', async () => {
    // q1 is Quality's, held by qin; ann is an operator and sue a supervisor of Cutting only.
    expect((await call('/api/tasks/q1/claim', { token: await apiToken('qin'), body: {} })).status).toBe(200);
    const refusals = [
      expectError(await call('/api/tasks/q1/claim', { token: ann, body: {} }), 403, 'not_in_department'),
      expectError(await call('/api/tasks/q1/unassign', { token: sue, body: {} }), 403, 'permission_denied'),
      expectError(await call('/api/tasks/q1/cancel', { token: sue, body: { reason: 'peek' } }), 403, 'permission_denied'),
      expectError(await call('/api/tasks/q1/assign', { token: sue, body: { userId: 'ann' } }), 403, 'permission_denied'),
    ];
    for (const body of refusals) {
      expect(body.task ?? null).toBeNull();
      expect(JSON.stringify(body)).not.toContain('Cut part q1');
    }
    // A refusal about a task of the caller's own department still carries the task (API-3).
    const own = expectError(await call('/api/tasks/draft1/claim', { token: ann, body: {} }), 422, 'task_draft');
    expect(own.task).toMatchObject({ id: 'draft1', departmentId: 'cut' });
    // An admin reads every department's tasks, refused or not.
    const byAdmin = expectError(await call('/api/tasks/q1/assign', { token: ada, body: { userId: 'qin' } }), 409, 'duplicate_assignment');
    expect(byAdmin.task).toMatchObject({ id: 'q1', operatorId: 'qin' });
  });

  it('SEC-10 HLD-1 an operator acting on a task of another department is not told who holds it or what state it is in; a holder still acts on their own', async () => {
    const qin = await apiToken('qin');
    expect((await call('/api/tasks/q1/claim', { token: qin, body: {} })).status).toBe(200);
    for (const op of ['start', 'complete', 'release', 'accept']) {
      const refused = expectError(await call(`/api/tasks/q1/${op}`, { token: ann, body: {} }), 403, 'permission_denied');
      expect(JSON.stringify(refused)).not.toContain('qin');
      expect(refused.task ?? null).toBeNull();
    }
    const reject = expectError(await call('/api/tasks/q1/reject', { token: ann, body: { reason: 'x' } }), 403, 'permission_denied');
    expect(JSON.stringify(reject)).not.toContain('qin');
    // Within her own department the holder is named (HLD-1).
    expect((await call('/api/tasks/t1/claim', { token: bob, body: {} })).status).toBe(200);
    expect(expectError(await call('/api/tasks/t1/start', { token: ann, body: {} }), 409, 'task_conflict')).toMatchObject({ currentOwner: { id: 'bob' } });
    // A holder moved out of the task's department still works on the task she holds, and reads it.
    await server.store.updateUser('qin', { departmentIds: ['cut'] }, server.clock.now());
    const early = expectError(await call('/api/tasks/q1/complete', { token: qin, body: {} }), 422, 'task_not_started');
    expect(early.task).toMatchObject({ id: 'q1', operatorId: 'qin' });
    expect((await call('/api/tasks/q1/release', { token: qin, body: {} })).status).toBe(200);
  });

  it('LIST-1 the claimable list is the caller\u2019s, in claimable order, paged with the claimable count', async () => {
    const page1 = await call('/api/tasks/claimable?limit=2', { token: ann });
    expect(page1.body).toMatchObject({ userId: 'ann', total: 5, limit: 2, offset: 0 });
    const page2 = await call('/api/tasks/claimable?limit=2&offset=2', { token: ann });
    const page3 = await call('/api/tasks/claimable?limit=2&offset=4', { token: ann });
    const items = [...(page1.body.items as Task[]), ...(page2.body.items as Task[]), ...(page3.body.items as Task[])];
    expect(items.map((t) => t.id)).toEqual(['t1', 't3', 't2', 'insp1', 'make1'].sort((a, b) => compareClaimable(items.find((t) => t.id === a)!, items.find((t) => t.id === b)!)));
    expect(items[0]!.id).toBe('t1');
    expect(items[1]!.id).toBe('t3');
    await call('/api/tasks/make1/claim', { token: ann, body: {} });
    const after = await call('/api/tasks/claimable', { token: ann });
    // make1 is now held and insp1 is excluded for its maker (XSTEP-1).
    expect(after.body.total).toBe(3);
    expect((after.body.items as Task[]).map((t) => t.id)).toEqual(['t1', 't3', 't2']);
    // A supervisor may look at an operator's list; an operator may not look at another's.
    expect((await call('/api/tasks/claimable?userId=ann', { token: sue })).body).toMatchObject({ userId: 'ann', total: 3 });
    expectError(await call('/api/tasks/claimable?userId=ann', { token: bob }), 403, 'permission_denied');
    expect((await call('/api/tasks/claimable', { token: await apiToken('qin') })).body).toMatchObject({ total: 1, items: [{ id: 'q1' }] });
  });

  it('SEC-10 LIST-1 a supervisor sees of another operator\u2019s list only the departments they supervise (another department\u2019s operator reads as 404); an admin all of it', async () => {
    // Dan works in cut and qa; Sue supervises cut only.
    await server.store.createUser(newUser('dan', { departmentIds: ['cut', 'qa'] }), server.clock.now());
    const bySue = await call('/api/tasks/claimable?userId=dan', { token: sue });
    expect(bySue.status).toBe(200);
    const ids = (bySue.body.items as Task[]).map((t) => t.id);
    expect(ids).not.toContain('q1');
    expect((bySue.body.items as Task[]).every((t) => t.departmentId === 'cut')).toBe(true);
    expect(bySue.body.total).toBe(ids.length);
    const byAda = await call('/api/tasks/claimable?userId=dan', { token: ada });
    expect((byAda.body.items as Task[]).map((t) => t.id)).toContain('q1');
    expect(byAda.body.total).toBe((bySue.body.total as number) + 1);
    // A supervisor of none of the operator's departments may not look, and reads them as
    // GET /api/users/:id does: as no one (404), the same answer as for an id nobody has.
    expectError(await call('/api/tasks/claimable?userId=qin', { token: sue }), 404, 'user_not_found');
    expectError(await call('/api/users/qin', { token: sue }), 404, 'user_not_found');
    expectError(await call('/api/tasks/claimable?userId=nobody', { token: sue }), 404, 'user_not_found');
  });

  it('CLM-8 one task shows its assignments and recent audit; notifications are the caller\u2019s', async () => {
    await call('/api/tasks/t1/claim', { token: ann, body: {} });
    await call('/api/tasks/t1/start', { token: ann, body: {} });
    const r = await call('/api/tasks/t1', { token: sue });
    expect(r.body).toMatchObject({
      task: { id: 't1', status: 'in_progress', operatorId: 'ann', operatorName: 'Name ann', version: 3 },
      assignments: [{ userId: 'ann', status: 'in_progress' }],
      audit: [
        { action: 'start', outcome: 'applied', actorId: 'ann', via: 'http' },
        { action: 'claim', outcome: 'applied', actorId: 'ann', via: 'http' },
      ],
    });
    expect((await call('/api/notifications', { token: ann })).body).toMatchObject({ items: [{ event: 'task_claimed', taskId: 't1' }] });
    expect((await call('/api/notifications', { token: bob })).body).toEqual({ items: [] });
  });

  it('AUTO-1 auto-assign over HTTP gives the department\u2019s pending tasks to eligible operators; supervisors of the department only', async () => {
    expectError(await call('/api/departments/qa/auto-assign', { token: sue, body: { strategy: 'least_loaded' } }), 403, 'permission_denied');
    const r = await call('/api/departments/cut/auto-assign', { token: sue, body: { strategy: 'least_loaded', limit: 4 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, departmentId: 'cut', strategy: 'least_loaded' });
    const assigned = r.body.assigned as Array<{ taskId: string; userId: string }>;
    expect(assigned.length).toBeGreaterThan(0);
    for (const a of assigned) expect(['ann', 'bob']).toContain(a.userId);
    const t = await server.store.getTask(assigned[0]!.taskId, server.clock.now());
    expect(t!.operatorId).toBe(assigned[0]!.userId);
  });

  it('AUTO-1 SEC-9 an auto-assign that fails after some of its slices were committed says what they assigned and why it stopped', async () => {
    await server.store.importTasks(Array.from({ length: 60 }, (_, i) => taskRow(`bulk${i}`)), server.clock.now());
    await server.store.createUser(newUser('cat'), server.clock.now());
    await server.store.createUser(newUser('dex'), server.clock.now());
    const committer = server.ctx.committer;
    const submit = committer.submit.bind(committer);
    let slices = 0;
    vi.spyOn(committer, 'submit').mockImplementation(((d: Parameters<typeof submit>[0]) => {
      if (d.kind === 'autoAssign' && ++slices === 2) return Promise.reject(new DomainError('unavailable', { problem: 'the database went away' }));
      return submit(d);
    }) as typeof submit);
    const r = await call('/api/departments/cut/auto-assign', { token: sue, body: { strategy: 'least_loaded', limit: 50 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, complete: false, stoppedBy: { code: 'unavailable' } });
    const assigned = r.body.assigned as Array<{ taskId: string; userId: string }>;
    expect(assigned.length).toBeGreaterThan(0);
    for (const a of assigned) expect((await server.store.getTask(a.taskId, server.clock.now()))!.operatorId).toBe(a.userId);
    // A run that fails before anything was committed is an error, as before.
    slices = 1;
    expectError(await call('/api/departments/cut/auto-assign', { token: sue, body: { strategy: 'least_loaded', limit: 50 } }), 503, 'unavailable');
  });

  it('ASG-1 RSG-1 API-7 assign and reassign over HTTP answer the task and notify', async () => {
    const r = await call('/api/tasks/t1/assign', { token: sue, body: { userId: 'ann' } });
    expect(r.body).toMatchObject({ ok: true, previousOwner: null, task: { operatorId: 'ann' } });
    const re = await call('/api/tasks/t1/reassign', { token: sue, body: { userId: 'bob' } });
    expect(re.body).toMatchObject({ ok: true, previousOwner: { id: 'ann' }, task: { operatorId: 'bob' } });
  });
});

describe('administration', () => {
  it('API-8 terminals: the token is shown once, works for a WebSocket hello, rotating it retires the old one, other departments reconnect it', async () => {
    const created = await call('/api/terminals', { token: ada, body: { id: 'k9', name: 'Kiosk 9', departments: ['cut'] } });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token).toMatch(/^term_[0-9a-f]{64}$/);
    expect(created.body.terminal).toMatchObject({ id: 'k9', name: 'Kiosk 9', departments: ['cut'], active: true, connected: false });
    expect((await server.store.getTerminal('k9'))!.tokenHash).toBe(tokenHash(token));
    expectError(await call('/api/terminals', { token: ada, body: { id: 'k9', name: 'again', departments: ['cut'] } }), 400, 'invalid_input');
    expect(expectError(await call('/api/terminals', { token: ada, body: { id: 'k8', name: 'x', departments: ['nowhere'] } }), 400, 'invalid_input').details).toMatchObject({
      field: 'departments.0',
    });

    const client = await TestClient.connect(server.wsUrl, { terminalId: 'k9', token, clientTime: server.clock.now() });
    expect(client.frames.some((f) => f.type === 'welcome')).toBe(true);
    const [signIn] = await client.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() }]);
    expect(signIn!.status).toBe('applied');
    const listed = await call('/api/terminals', { token: sue });
    expect(listed.text).not.toContain(token);
    expect((listed.body.items as Array<{ id: string }>).find((t) => t.id === 'k9')).toMatchObject({
      connected: true,
      signedInUserId: 'ann',
      lastSeenAt: server.clock.now(),
    });
    client.close();

    const rotated = await call('/api/terminals/k9', { token: ada, method: 'PATCH', body: { rotateToken: true, name: 'Kiosk nine' } });
    expect(rotated.body).toMatchObject({ terminal: { name: 'Kiosk nine' }, token: expect.stringMatching(/^term_/) });
    const fresh = rotated.body.token as string;
    expect(fresh).not.toBe(token);
    const old = await TestClient.connect(server.wsUrl, { terminalId: 'k9', token });
    expect(old.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: 'unauthenticated' } });
    old.close();
    const renewed = await TestClient.connect(server.wsUrl, { terminalId: 'k9', token: fresh });
    expect(renewed.frames.some((f) => f.type === 'welcome')).toBe(true);
    // Other departments drop the live connection with "reconfigured", not "unauthorized": the
    // terminal reconnects at once and gets the new departments' view.
    expect((await call('/api/terminals/k9', { token: ada, method: 'PATCH', body: { departments: ['cut', 'qa'] } })).body).toMatchObject({ terminal: { departments: ['cut', 'qa'] } });
    expect(await renewed.waitClose()).toBe(4205);
    const reconfigured = await TestClient.connect(server.wsUrl, { terminalId: 'k9', token: fresh });
    expect(reconfigured.frames.find((f) => f.type === 'welcome')).toMatchObject({ terminal: { departments: ['cut', 'qa'] } });
    // Disabling a terminal drops its live connection at once.
    expect((await call('/api/terminals/k9', { token: ada, method: 'PATCH', body: { active: false } })).body).toMatchObject({ terminal: { active: false } });
    expect(await reconfigured.waitClose()).toBe(4401);
    expectError(await call('/api/terminals/nope', { token: ada, method: 'PATCH', body: { active: false } }), 404, 'not_found');
  });

  it('API-8 users: secrets are hashed on arrival and never returned; the new user signs in with badge + PIN', async () => {
    const created = await call('/api/users', {
      token: ada,
      body: { id: 'dan', displayName: 'Dan', roles: ['operator'], departmentIds: ['cut', 'qa'], badge: 'B-DAN', pin: '2468', skills: ['weld'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.user).toEqual({
      id: 'dan',
      displayName: 'Dan',
      roles: ['operator'],
      departmentIds: ['cut', 'qa'],
      active: true,
      taskLimit: null,
      skills: ['weld'],
      qualityScore: 0.8,
      hasBadge: true,
      hasPin: true,
      hasPassword: false,
    });
    expect(created.text).not.toContain('2468');
    expect((await server.store.getUser('dan'))!.pinHash).toMatch(/^scrypt\$/);
    expect((await call('/api/auth/sign-in', { body: { badge: 'B-DAN', pin: '2468' } })).status).toBe(200);
    expect((await call('/api/users?departmentId=qa', { token: ada })).body.items).toEqual([
      expect.objectContaining({ id: 'dan' }),
      expect.objectContaining({ id: 'qin' }),
    ]);
    expect((await call('/api/users', { token: sue })).text).not.toMatch(/scrypt|badgeHash|pinHash/);

    expect(expectError(await call('/api/users', { token: ada, body: { id: 'eve', displayName: 'Eve', roles: ['operator'], badge: 'b-dan' } }), 400, 'invalid_input').details).toMatchObject({
      field: 'badge',
    });
    expect(expectError(await call('/api/users', { token: ada, body: { id: 'eve', displayName: 'Eve', roles: [] } }), 400, 'invalid_input').details).toMatchObject({ field: 'roles' });
    expect(expectError(await call('/api/users', { token: ada, body: { id: 'eve', displayName: 'Eve', roles: ['operator'], pin: '12' } }), 400, 'invalid_input').details).toMatchObject({ field: 'pin' });

    const patched = await call('/api/users/dan', { token: ada, method: 'PATCH', body: { pin: null, taskLimit: 3, displayName: 'Dan D.' } });
    expect(patched.body.user).toMatchObject({ displayName: 'Dan D.', taskLimit: 3, hasPin: false });
    expect((await call('/api/auth/sign-in', { body: { badge: 'B-DAN' } })).status).toBe(200);
    expectError(await call('/api/users/ada', { token: ada, method: 'PATCH', body: { active: false } }), 400, 'invalid_input');
    expectError(await call('/api/users/nobody', { token: ada, method: 'PATCH', body: { active: false } }), 404, 'user_not_found');
  });

  it('API-8 departments and the site configuration are validated and audited', async () => {
    expect((await call('/api/departments', { token: ada, body: { id: 'paint', name: 'Paint shop', taskLimit: 4 } })).status).toBe(201);
    expectError(await call('/api/departments', { token: ada, body: { id: 'paint', name: 'Again' } }), 400, 'invalid_input');
    expect((await call('/api/departments/paint', { token: ada, method: 'PUT', body: { name: 'Painting' } })).body).toEqual({
      department: { id: 'paint', name: 'Painting', taskLimit: 4 },
    });
    expectError(await call('/api/departments/nowhere', { token: ada, method: 'PUT', body: { name: 'x' } }), 404, 'department_not_found');
    expect(((await call('/api/departments', { token: ann })).body.items as Array<{ id: string }>).map((d) => d.id)).toEqual(['cut', 'paint', 'qa']);

    const config = (await call('/api/config', { token: ann })).body.config as Record<string, unknown>;
    expect(config).toMatchObject({ defaultTaskLimit: 10, cooldownMinutes: 15 });
    expect(expectError(await call('/api/config', { token: ada, method: 'PUT', body: { ...config, cooldownMinutes: -1 } }), 400, 'invalid_input').details).toMatchObject({
      field: 'cooldownMinutes',
    });
    expect((await call('/api/config', { token: ada, method: 'PUT', body: { ...config, cooldownMinutes: 0 } })).body).toMatchObject({ config: { cooldownMinutes: 0 } });
    // API-5: a patch's unknown field is named, as on every other route.
    expect(expectError(await call('/api/config', { token: ada, method: 'PATCH', body: { rejectReason: ['x'] } }), 400, 'invalid_input').details).toMatchObject({
      field: 'rejectReason',
      problem: 'is not a known field',
    });
    await call('/api/tasks/t1/claim', { token: ann, body: {} });
    await call('/api/tasks/t1/release', { token: ann, body: {} });
    expect((await call('/api/tasks/t1/claim', { token: ann, body: {} })).status).toBe(200);
    const actions = (await server.store.listAudit({ limit: 50 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['department_create', 'department_update', 'config_update']));
  });

  it('API-10 injection strings in every text field are stored and returned verbatim', async () => {
    const evil = [
      "Robert'); DROP TABLE tasks; --",
      '<script>alert("x")</script>',
      "' OR '1'='1",
      '"; DELETE FROM users; --',
      '工单 ✓ 🚀 \u202Eevil\u202C ${process.env} {{constructor}} %s %n \\x00',
    ];
    for (const [i, text] of evil.entries()) {
      const dept = `d${i}`;
      expect((await call('/api/departments', { token: ada, body: { id: dept, name: text } })).body).toEqual({ department: { id: dept, name: text, taskLimit: null } });
      const user = await call('/api/users', { token: ada, body: { id: `u${i}`, displayName: text, roles: ['operator'], departmentIds: [dept], skills: [text.slice(0, 60)] } });
      expect(user.body.user).toMatchObject({ displayName: text, skills: [text.slice(0, 60)] });
      const imported = await call('/api/tasks/import', {
        token: ada,
        body: { rows: [{ taskId: `x${i}`, workOrderNumber: `WO-X${i}`, workOrderTitle: text, step: text.slice(0, 60), workContent: text, departmentId: dept }] },
      });
      expect(imported.body).toMatchObject({ ok: true, created: 1 });
      const task = (await call(`/api/tasks/x${i}`, { token: ada })).body.task as Task;
      expect(task).toMatchObject({ workContent: text, step: text.slice(0, 60) });
      const op = await apiToken(`u${i}`);
      expect((await call(`/api/tasks/x${i}/claim`, { token: op, body: {} })).body).toMatchObject({ ok: true, task: { operatorName: text } });
      await call(`/api/tasks/x${i}/reject`, { token: op, body: { reason: text } });
      expect((await server.store.listAssignments(`x${i}`))[0]!.reason).toBe(text.trim());
      const found = (await call(`/api/tasks?q=${encodeURIComponent(text)}`, { token: ada })).body.items as Task[];
      expect(found.map((t) => t.id)).toContain(`x${i}`);
    }
    // Nothing was dropped or deleted along the way.
    expect((await call('/api/tasks?limit=1', { token: ada })).body.total).toBe(7 + evil.length);
    expect((await call('/api/users', { token: ada })).body.items).toHaveLength(5 + evil.length);
  });

  it('API-1 healthz and metrics: the mutation counter, claim latency and HTTP requests after a claim', async () => {
    expect((await call('/healthz')).body).toMatchObject({ ok: true, backend: 'sqlite' });
    await call('/api/tasks/t1/claim', { token: ann, body: {} });
    await call('/api/tasks/t1/claim', { token: bob, body: {} });
    const m = await call('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(m.text).toMatch(/shopfloor_mutations_total\{name="claim",via="http",outcome="applied"\} 1/);
    expect(m.text).toMatch(/shopfloor_mutations_total\{name="claim",via="http",outcome="rejected"\} 1/);
    expect(m.text).toMatch(/shopfloor_claim_duration_seconds_count\{via="http"\} 2/);
    expect(m.text).toMatch(/shopfloor_http_requests_total\{method="POST",route="\/api\/tasks\/:id\/claim",status="409"\} 1/);
  });
});
