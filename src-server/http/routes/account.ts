/**
 * Account routes: sign-in and sign-out (AUTH-4..6), who am I, my notifications, and API tokens
 * (AUTH-7: shown once, stored hashed, revocable).
 */
import { DomainError } from '../../../src-shared/domain/errors.js';
import { MINUTE_MS } from '../../../src-shared/domain/config.js';
import { isAdmin, issueToken, signIn, type SignInRequest } from '../../auth.js';
import { ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import { emptyBody, limitQuery, notificationsReadBody, signInBody, tokenCreateBody, tokensQuery } from '../schemas.js';
import type { Scope } from '../scope.js';
import { publicUser, tokenView } from '../views.js';
import { SESSION_COOKIE } from '../../session.js';

const DAY_MS = 24 * 60 * MINUTE_MS;

/** AUTH-8: the session of a supervisor's page, in a cookie its scripts (and other sites) cannot read. */
function sessionCookie(s: Scope, token: string, maxAgeSeconds: number): string {
  const secure = (s.req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/**
 * SEC-9: a sign-in body is a few hundred bytes; before anyone is signed in, a megabyte of JSON
 * built to be costly (333,000 `{}`) held the event loop 0.15-0.4 s. Larger bodies are refused unread.
 */
export const MAX_SIGN_IN_BYTES = 16 * 1024;

async function signInRoute(s: Scope): Promise<Reply> {
  const body = await s.json(signInBody, MAX_SIGN_IN_BYTES);
  let request: SignInRequest;
  if (body.badge !== undefined && body.userId === undefined && body.password === undefined) {
    request = { method: 'badge', badge: body.badge, pin: body.pin };
  } else if (body.userId !== undefined && body.password !== undefined && body.badge === undefined && body.pin === undefined) {
    request = { method: 'password', userId: body.userId, password: body.password };
  } else {
    throw new DomainError('invalid_input', { field: 'body', problem: 'must hold either badge (and pin if you have one) or userId and password' });
  }
  // SUP-1: the overview is for supervisors and admins; an operator is told so (after the right secret).
  const result = await signIn(s.ctx, request, s.remote, undefined, body.for === 'supervisor' ? ['supervisor', 'admin'] : null);
  const view = { tokenId: result.record.id, expiresAt: result.record.expiresAt, user: publicUser(result.user) };
  if (body.cookie) {
    const maxAge = Math.max(1, Math.round(((result.record.expiresAt ?? s.ctx.clock.now()) - s.ctx.clock.now()) / 1000));
    return { status: 200, body: view, headers: { 'set-cookie': sessionCookie(s, result.token, maxAge) } };
  }
  return ok({ token: result.token, ...view });
}

async function signOut(s: Scope): Promise<Reply> {
  const { token } = await s.auth();
  await s.json(emptyBody);
  if (token.kind !== 'session') {
    throw new DomainError('invalid_input', { field: 'Authorization', problem: 'is an API token; revoke it with DELETE /api/tokens/:id instead' });
  }
  await s.ctx.store.revokeApiToken(token.id, s.ctx.clock.now(), 'signed_out');
  s.ctx.supervisors.revokeToken(token.id, 'signed_out');
  return s.viaCookie ? { status: 200, body: { ok: true }, headers: { 'set-cookie': sessionCookie(s, '', 0) } } : ok({ ok: true });
}

/**
 * AUTH-8: is this page signed in? Always 200 (a page asks before it has a session): `signedIn`
 * false with the reason, or the user and when the session ends.
 */
async function session(s: Scope): Promise<Reply> {
  try {
    const { user, token } = await s.auth();
    return ok({ signedIn: true, user: publicUser(user), expiresAt: token.expiresAt });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return ok({ signedIn: false, reason: err.code === 'user_inactive' ? 'inactive' : typeof err.details.reason === 'string' ? err.details.reason : 'none' });
  }
}

async function me(s: Scope): Promise<Reply> {
  const { user, token } = await s.auth();
  return ok({ user: publicUser(user), token: tokenView(token) });
}

async function notifications(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const q = s.queryAs(limitQuery);
  return ok({ items: await s.ctx.store.listNotifications(user.id, q.limit ?? 50) });
}

/** SUP-5: mark one's own notifications read (some, or all); pages of the same user see it live. */
async function readNotifications(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const body = await s.json(notificationsReadBody);
  if ((body.ids === undefined) === (body.all === undefined)) {
    throw new DomainError('invalid_input', { field: 'body', problem: 'must hold either ids (a list) or all: true' });
  }
  const changed = await s.ctx.store.markNotificationsRead(user.id, body.all ? null : body.ids!, s.ctx.clock.now());
  return ok({ ok: true, changed });
}

/** AUTH-7: admins create API tokens for anyone; everybody else only for themself. */
async function createToken(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const body = await s.json(tokenCreateBody);
  if (body.userId !== user.id && !isAdmin(user)) {
    throw new DomainError('permission_denied', { userId: user.id, problem: 'only administrators create tokens for other users' });
  }
  const owner = await s.ctx.store.getUser(body.userId);
  if (!owner) throw new DomainError('user_not_found', { userId: body.userId });
  const ttlMs = body.expiresInDays ? body.expiresInDays * DAY_MS : null;
  const issued = await issueToken(s.ctx, { userId: owner.id, kind: 'api', name: body.name, ttlMs });
  await s.ctx.store.audit(
    { action: 'token_create', outcome: 'applied', actorId: user.id, terminalId: null, via: 'http', taskId: null, details: { tokenId: issued.record.id, userId: owner.id } },
    s.ctx.clock.now(),
  );
  return ok({ token: issued.token, record: tokenView(issued.record) }, 201);
}

async function listTokens(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const q = s.queryAs(tokensQuery);
  const userId = isAdmin(user) ? q.userId : user.id;
  if (!isAdmin(user) && q.userId !== undefined && q.userId !== user.id) {
    throw new DomainError('permission_denied', { userId: user.id, problem: 'only administrators see other users\u2019 tokens' });
  }
  return ok({ items: (await s.ctx.store.listApiTokens(userId)).map(tokenView) });
}

async function revokeToken(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const id = s.id();
  const token = (await s.ctx.store.listApiTokens(isAdmin(user) ? undefined : user.id)).find((t) => t.id === id);
  if (!token) throw new DomainError('not_found', { tokenId: id });
  const now = s.ctx.clock.now();
  await s.ctx.store.revokeApiToken(id, now);
  s.ctx.supervisors.revokeToken(id, 'revoked');
  await s.ctx.store.audit(
    { action: 'token_revoke', outcome: 'applied', actorId: user.id, terminalId: null, via: 'http', taskId: null, details: { tokenId: id, userId: token.userId } },
    now,
  );
  return ok({ ok: true, record: tokenView({ ...token, revokedAt: token.revokedAt ?? now }) });
}

export function accountRoutes(router: Router): void {
  router.post('/api/auth/sign-in', signInRoute);
  router.post('/api/auth/sign-out', signOut);
  router.get('/api/me', me);
  router.get('/api/auth/session', session);
  router.get('/api/notifications', notifications, { query: true });
  router.post('/api/notifications/read', readNotifications);
  router.get('/api/tokens', listTokens, { query: true });
  router.post('/api/tokens', createToken);
  router.delete('/api/tokens/:id', revokeToken);
}
