/**
 * Authentication for the HTTP API.
 *
 * - Bearer tokens (AUTH-1): long random strings shown once; the store keeps only `tokenHash`. A
 *   token belongs to a user; every request reads that user (roles, departments, active flag) from
 *   the store, so a role change or deactivation takes effect at once (AUTH-2, AUTH-3).
 * - Sign-in (AUTH-4): badge (+ PIN when the user has one) or user id + password, checked against
 *   scrypt hashes; success issues a session token that expires (AUTH-5).
 * - Throttling and lockout (AUTH-6): failures are counted per user (or unknown badge) and per
 *   remote address in a sliding window; a few failures slow the next try down, more lock the key
 *   for a while. Every failure, refusal and lockout is written to the audit log.
 *
 * Time always comes from `ctx.clock` (an injected clock).
 */
import { badgeHash, newToken, randomHex, tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { DomainError } from '../src-shared/domain/errors.js';
import { badgeNeedsPin, hasRole, type Role } from '../src-shared/domain/types.js';
import type { AppContext } from './context.js';
import { hashSecretAsync, verifySecretAsync } from './secrets.js';
import type { ApiTokenRecord, SignInFailureState, UserRecord } from './store/types.js';

/** Sessions from a sign-in last one long shift. */
export const SESSION_TTL_MS = 12 * 60 * MINUTE_MS;

export interface SignInPolicy {
  /** Failures are counted within this window, from the first one. */
  windowMs: number;
  /** From this many failures of one user/badge on, each further try must wait `throttleMs`. */
  throttleAfter: number;
  throttleMs: number;
  /** This many failures of one user/badge lock it for `lockMs`. */
  lockAfter: number;
  /** This many failures from one remote address lock that address for `lockMs`. */
  ipLockAfter: number;
  lockMs: number;
}

export const SIGN_IN_POLICY: SignInPolicy = {
  windowMs: 15 * MINUTE_MS,
  throttleAfter: 3,
  throttleMs: 5_000,
  lockAfter: 5,
  ipLockAfter: 20,
  lockMs: 15 * MINUTE_MS,
};

/** Who is calling: the token they used and the user it belongs to, as the store has them now. */
export interface Principal {
  user: UserRecord;
  token: ApiTokenRecord;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return m ? m[1]! : null;
}

/** AUTH-1..3: resolve a bearer token to its (active) user, or throw 401/403. */
export async function authenticate(ctx: AppContext, authorization: string | undefined): Promise<Principal> {
  const token = bearerToken(authorization);
  if (!token) throw new DomainError('unauthenticated', { problem: 'no bearer token in the Authorization header' });
  return authenticateToken(ctx, token);
}

/** AUTH-1..3 for a token however it came (header, session cookie, supervisor hello). */
export async function authenticateToken(ctx: Pick<AppContext, 'store' | 'clock'>, token: string): Promise<Principal> {
  const record = await ctx.store.findApiToken(tokenHash(token));
  if (!record) throw new DomainError('unauthenticated', { problem: 'the token is unknown' });
  const now = ctx.clock.now();
  if (record.revokedAt !== null) throw new DomainError('unauthenticated', { problem: 'the token was revoked', reason: 'revoked' });
  if (record.expiresAt !== null && record.expiresAt <= now) throw new DomainError('unauthenticated', { problem: 'the token expired', reason: 'expired' });
  const user = await ctx.store.getUser(record.userId);
  if (!user) throw new DomainError('unauthenticated', { problem: 'the token belongs to no user' });
  if (!user.active) throw new DomainError('user_inactive', { userId: user.id });
  return { user, token: record };
}

/** AUTH-2: the caller must hold one of `roles` (admins pass every role check). */
export function requireRole(user: UserRecord, ...roles: Role[]): void {
  if (hasRole(user, 'admin')) return;
  if (roles.some((r) => hasRole(user, r))) return;
  throw new DomainError('permission_denied', { userId: user.id, problem: `needs the role ${roles.join(' or ')}` });
}

export function isAdmin(user: UserRecord): boolean {
  return hasRole(user, 'admin');
}

/** Create a token for a user; returns the plain token (to show once) and its stored record. */
export async function issueToken(
  ctx: AppContext,
  input: { userId: string; kind: 'api' | 'session'; name: string; ttlMs: number | null },
): Promise<{ token: string; record: ApiTokenRecord }> {
  const now = ctx.clock.now();
  const token = newToken(input.kind === 'session' ? 'ses' : 'api');
  const record: ApiTokenRecord = {
    id: `${input.kind === 'session' ? 'ses' : 'tok'}-${randomHex(8)}`,
    userId: input.userId,
    name: input.name,
    kind: input.kind,
    expiresAt: input.ttlMs === null ? null : now + input.ttlMs,
    revokedAt: null,
  };
  await ctx.store.createApiToken({ ...record, tokenHash: tokenHash(token) }, now);
  return { token, record };
}

// ---------------------------------------------------------------------------------------------
// Sign-in

export type SignInRequest =
  | { method: 'badge'; badge: string; pin?: string | undefined }
  | { method: 'password'; userId: string; password: string };

export interface SignInSuccess {
  token: string;
  record: ApiTokenRecord;
  user: UserRecord;
}

/** A hash to verify against when there is no real one, so unknown users take as long as known ones. */
let dummyHash: Promise<string> | null = null;
async function burnVerify(secret: string): Promise<void> {
  dummyHash ??= hashSecretAsync(randomHex(16));
  await verifySecretAsync(secret, await dummyHash);
}

/** Sign-ins are checked one at a time, so parallel guesses cannot race past the failure counter. */
const queues = new WeakMap<AppContext, Promise<unknown>>();
function serialized<T>(ctx: AppContext, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(ctx) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  queues.set(
    ctx,
    next.catch(() => undefined),
  );
  return next;
}

interface Key {
  key: string;
  lockAfter: number;
  throttleAfter: number;
}

function fresh(state: SignInFailureState | null, now: number, policy: SignInPolicy): SignInFailureState | null {
  if (!state) return null;
  const locked = state.lockedUntil !== null && state.lockedUntil > now;
  if (locked) return state;
  // A served lock, or a window that has passed, starts counting again.
  if (state.lockedUntil !== null && state.failures >= policy.lockAfter) return null;
  if (now - state.firstFailedAt >= policy.windowMs) return null;
  return state;
}

/**
 * AUTH-4..6: check credentials with throttling and lockout; on success issue a session token.
 * Throws `sign_in_failed` (401), `rate_limited` / `sign_in_locked` (429, details.retryAfterSeconds)
 * or `user_inactive` (403).
 */
export function signIn(
  ctx: AppContext,
  req: SignInRequest,
  remote: string,
  policy: SignInPolicy = SIGN_IN_POLICY,
  /** Only users with one of these roles may sign in here (SUP-1: the supervisor overview). */
  roles: readonly Role[] | null = null,
): Promise<SignInSuccess> {
  return serialized(ctx, () => signInNow(ctx, req, remote, policy, roles));
}

async function signInNow(ctx: AppContext, req: SignInRequest, remote: string, policy: SignInPolicy, roles: readonly Role[] | null): Promise<SignInSuccess> {
  const { store } = ctx;
  const now = ctx.clock.now();
  let user: UserRecord | null;
  let credentialKey: string;
  if (req.method === 'badge') {
    const hash = badgeHash(await store.siteSalt(), req.badge);
    user = await store.findUserByBadgeHash(hash);
    credentialKey = user ? `user:${user.id}` : `badge:${hash}`;
  } else {
    user = await store.getUser(req.userId);
    credentialKey = `user:${req.userId}`;
  }
  const keys: Key[] = [
    { key: credentialKey, lockAfter: policy.lockAfter, throttleAfter: policy.throttleAfter },
    { key: `ip:${remote}`, lockAfter: policy.ipLockAfter, throttleAfter: Number.POSITIVE_INFINITY },
  ];
  const audit = (outcome: string, details: Record<string, unknown>) =>
    store.audit({ action: 'sign_in', outcome, actorId: user?.id ?? null, terminalId: null, via: 'http', taskId: null, details: { method: req.method, remote, ...details } }, now);

  // Refuse while a key is locked or throttled, before looking at the secret.
  for (const k of keys) {
    const state = fresh(await store.getSignInFailures(k.key), now, policy);
    if (state && state.lockedUntil !== null && state.lockedUntil > now) {
      const retryAfterSeconds = Math.max(1, Math.ceil((state.lockedUntil - now) / 1000));
      const code = state.failures >= k.lockAfter ? 'sign_in_locked' : 'rate_limited';
      await audit(code === 'sign_in_locked' ? 'sign_in_locked' : 'sign_in_throttled', { key: k.key.split(':')[0], retryAfterSeconds, refused: true });
      throw new DomainError(code, { retryAfterSeconds });
    }
  }

  let valid: boolean;
  if (req.method === 'badge') {
    if (user?.pinHash) valid = await verifySecretAsync(req.pin ?? '', user.pinHash);
    // A badge alone is enough only for operators: a supervisor or admin needs a PIN or a password.
    else if (user) valid = !badgeNeedsPin(user);
    else {
      await burnVerify(req.pin ?? '');
      valid = false;
    }
  } else if (user?.passwordHash) {
    valid = await verifySecretAsync(req.password, user.passwordHash);
  } else {
    await burnVerify(req.password);
    valid = false;
  }

  if (!valid) {
    const lockouts: Array<{ key: string; failures: number; lockedUntil: number }> = [];
    let throttled = false;
    let failures = 1;
    for (const k of keys) {
      const before = fresh(await store.getSignInFailures(k.key), now, policy);
      const count = (before?.failures ?? 0) + 1;
      const next: SignInFailureState = { failures: count, firstFailedAt: before?.firstFailedAt ?? now, lockedUntil: null };
      if (count >= k.lockAfter) {
        next.lockedUntil = now + policy.lockMs;
        lockouts.push({ key: k.key.split(':')[0]!, failures: count, lockedUntil: next.lockedUntil });
      } else if (count >= k.throttleAfter) {
        next.lockedUntil = now + policy.throttleMs;
        throttled = true;
      }
      if (k.key === credentialKey) failures = count;
      await store.setSignInFailures(k.key, next);
    }
    await audit('sign_in_failed', { failures, ...(user ? {} : { knownUser: false }) });
    for (const l of lockouts) await audit('sign_in_locked', l);
    if (lockouts.length > 0) throw new DomainError('sign_in_locked', { retryAfterSeconds: Math.ceil(policy.lockMs / 1000) });
    throw new DomainError('sign_in_failed', {
      attemptsLeft: Math.max(0, policy.lockAfter - failures),
      ...(throttled ? { retryAfterSeconds: Math.ceil(policy.throttleMs / 1000) } : {}),
    });
  }

  const who = user!;
  await store.setSignInFailures(credentialKey, null);
  if (!who.active) {
    await audit('user_inactive', {});
    throw new DomainError('user_inactive', { userId: who.id });
  }
  if (roles && !roles.some((r) => hasRole(who, r))) {
    await audit('supervisor_only', {});
    throw new DomainError('supervisor_only', { userId: who.id });
  }
  const issued = await issueToken(ctx, { userId: who.id, kind: 'session', name: `sign-in (${req.method})`, ttlMs: SESSION_TTL_MS });
  await audit('applied', { tokenId: issued.record.id });
  return { ...issued, user: who };
}
