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
 * - Abuse (SEC-1..3, SEC-11): every attempt costs exactly one scrypt check of the kind its secret
 *   would have (so no refusal is faster than another), run on the libuv pool with a bound on how
 *   many run at once; attempts on one user/badge and one address are checked one at a time (the
 *   counters stay exact); one address may have only a few attempts in flight; successes are
 *   limited per user and each user keeps a bounded number of live sessions; past a plant-wide
 *   ceiling of failures per minute, every failure is answered slowly.
 *
 * Time always comes from `ctx.clock` (an injected clock).
 */
import { PIN_SCRYPT_PARAMS, badgeHash, newToken, randomHex, scryptParamsOf, tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { DomainError } from '../src-shared/domain/errors.js';
import { badgeNeedsPin, hasRole, type Role } from '../src-shared/domain/types.js';
import type { AppContext } from './context.js';
import { hashPinAsync, hashSecretAsync, tokenHashNative, verifySecretAsync } from './secrets.js';
import type { ApiTokenRecord, SignInFailureState, UserRecord } from './store/types.js';

/** Sessions from a sign-in last one long shift. */
export const SESSION_TTL_MS = 12 * 60 * MINUTE_MS;

export interface SignInPolicy {
  /** SEC-3: successful sign-ins of one user within `windowMs`; more are refused (429). */
  successesPerWindow: number;
  /** SEC-3: live sessions one user may hold; a new one revokes the oldest. */
  maxSessionsPerUser: number;
  /** SEC-11: failed sign-ins per minute across the whole server before every failure is slowed. */
  globalFailuresPerMinute: number;
  /** SEC-11: how long a failure's answer is held once the ceiling is passed. */
  globalFailureDelayMs: number;
  /** SEC-1: secret checks running at once (each on a libuv thread). */
  maxConcurrentChecks: number;
  /** SEC-1: attempts waiting for a check; beyond this, new attempts are refused at once (429). */
  maxWaitingChecks: number;
  /** SEC-1: attempts one remote address may have in flight. */
  maxInFlightPerAddress: number;
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
  successesPerWindow: 30,
  maxSessionsPerUser: 10,
  globalFailuresPerMinute: 120,
  globalFailureDelayMs: 2_000,
  maxConcurrentChecks: 2,
  maxWaitingChecks: 64,
  maxInFlightPerAddress: 4,
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
  const found = await ctx.store.findApiTokenWithUser(tokenHashNative(token));
  if (!found) throw new DomainError('unauthenticated', { problem: 'the token is unknown' });
  const { token: record, user } = found;
  const now = ctx.clock.now();
  if (record.revokedAt !== null) throw new DomainError('unauthenticated', { problem: 'the token was revoked', reason: 'revoked' });
  if (record.expiresAt !== null && record.expiresAt <= now) throw new DomainError('unauthenticated', { problem: 'the token expired', reason: 'expired' });
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

/** The kind of secret an attempt offers: PINs and passwords may be hashed with different costs. */
type SecretKind = 'pin' | 'password';

/** Hashes to verify against when there is no real one, of each kind, so every refusal costs one check. */
const dummyHashes = new Map<SecretKind, Promise<string>>();
function dummyHash(kind: SecretKind): Promise<string> {
  let h = dummyHashes.get(kind);
  if (!h) {
    h = kind === 'pin' ? hashPinAsync(randomHex(16)) : hashSecretAsync(randomHex(16));
    dummyHashes.set(kind, h);
  }
  return h;
}

/** What one server's sign-ins share: key locks, the check queue, counters. Per context (server). */
interface SignInState {
  /** Tail of each key's queue: attempts on one user/badge/address run one at a time. */
  keyTails: Map<string, Promise<void>>;
  checksRunning: number;
  waiting: Array<() => void>;
  inFlightByAddress: Map<string, number>;
  /** Times of recent failures anywhere (SEC-11) and of each user's recent successes (SEC-3). */
  recentFailures: number[];
  recentSuccesses: Map<string, number[]>;
}
const states = new WeakMap<object, SignInState>();
function stateOf(ctx: object): SignInState {
  let st = states.get(ctx);
  if (!st) {
    st = { keyTails: new Map(), checksRunning: 0, waiting: [], inFlightByAddress: new Map(), recentFailures: [], recentSuccesses: new Map() };
    states.set(ctx, st);
  }
  return st;
}

/** Run `fn` once every earlier attempt on any of `keys` has finished (keys taken in one order: no deadlock). */
async function withKeys<T>(st: SignInState, keys: string[], fn: () => Promise<T>): Promise<T> {
  const sorted = [...new Set(keys)].sort();
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const before = sorted.map((k) => st.keyTails.get(k) ?? Promise.resolve());
  for (const k of sorted) st.keyTails.set(k, done);
  try {
    await Promise.all(before);
    return await fn();
  } finally {
    release();
    for (const k of sorted) if (st.keyTails.get(k) === done) st.keyTails.delete(k);
  }
}

/** SEC-1: one scrypt check, at most `maxConcurrentChecks` at once (the rest wait their turn). */
async function checkSecret(ctx: AppContext, st: SignInState, policy: SignInPolicy, kind: SecretKind, secret: string, stored: string | null): Promise<boolean> {
  if (st.checksRunning >= policy.maxConcurrentChecks) await new Promise<void>((resolve) => st.waiting.push(resolve));
  st.checksRunning++;
  try {
    ctx.metrics.secretChecks.inc({ kind });
    // SEC-2: with no secret on record, check against a dummy of the same kind: every refusal costs the same.
    const matches = await verifySecretAsync(secret, stored ?? (await dummyHash(kind)));
    return stored !== null && matches;
  } finally {
    st.checksRunning--;
    st.waiting.shift()?.();
  }
}

function sameParams(stored: string, params: { N: number; r: number; p: number }): boolean {
  const have = scryptParamsOf(stored);
  return have !== null && have.N === params.N && have.r === params.r && have.p === params.p;
}

function within(times: number[], now: number, windowMs: number): number[] {
  let i = 0;
  while (i < times.length && times[i]! <= now - windowMs) i++;
  return i === 0 ? times : times.slice(i);
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
export async function signIn(
  ctx: AppContext,
  req: SignInRequest,
  remote: string,
  policy: SignInPolicy = ctx.signInPolicy ?? SIGN_IN_POLICY,
  /** Only users with one of these roles may sign in here (SUP-1: the supervisor overview). */
  roles: readonly Role[] | null = null,
): Promise<SignInSuccess> {
  const st = stateOf(ctx);
  // SEC-1: shed load before any work: an address with too many attempts in flight, or a full queue.
  const inFlight = st.inFlightByAddress.get(remote) ?? 0;
  if (inFlight >= policy.maxInFlightPerAddress || st.waiting.length >= policy.maxWaitingChecks) {
    throw new DomainError('rate_limited', {
      retryAfterSeconds: 1,
      problem: inFlight >= policy.maxInFlightPerAddress ? 'too many sign-ins at once from this address' : 'too many sign-ins at once; the server is busy',
    });
  }
  st.inFlightByAddress.set(remote, inFlight + 1);
  let failed = false;
  try {
    return await signInNow(ctx, st, req, remote, policy, roles);
  } catch (err) {
    failed = err instanceof DomainError && (err.code === 'sign_in_failed' || err.code === 'sign_in_locked');
    throw err;
  } finally {
    if (failed) {
      // SEC-11: past the plant-wide ceiling, every failure is answered slowly (successes are not).
      const now = ctx.clock.now();
      st.recentFailures = within(st.recentFailures, now, MINUTE_MS);
      st.recentFailures.push(now);
      if (st.recentFailures.length > policy.globalFailuresPerMinute + 1) st.recentFailures.splice(0, st.recentFailures.length - policy.globalFailuresPerMinute - 1);
      if (st.recentFailures.length > policy.globalFailuresPerMinute) await new Promise((r) => setTimeout(r, policy.globalFailureDelayMs));
    }
    const left = (st.inFlightByAddress.get(remote) ?? 1) - 1;
    if (left <= 0) st.inFlightByAddress.delete(remote);
    else st.inFlightByAddress.set(remote, left);
  }
}

async function signInNow(
  ctx: AppContext,
  st: SignInState,
  req: SignInRequest,
  remote: string,
  policy: SignInPolicy,
  roles: readonly Role[] | null,
): Promise<SignInSuccess> {
  const { store } = ctx;
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
  // Attempts on one user/badge and from one address are checked one at a time, so parallel
  // guesses cannot race past the failure counters; others run alongside.
  return withKeys(st, keys.map((k) => k.key), () => checkAndIssue(ctx, st, req, remote, policy, roles, user, credentialKey, keys));
}

async function checkAndIssue(
  ctx: AppContext,
  st: SignInState,
  req: SignInRequest,
  remote: string,
  policy: SignInPolicy,
  roles: readonly Role[] | null,
  user: UserRecord | null,
  credentialKey: string,
  keys: Key[],
): Promise<SignInSuccess> {
  const { store } = ctx;
  const now = ctx.clock.now();
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

  // SEC-2: exactly one check of the secret's kind on every path, so no answer is faster than another.
  let valid: boolean;
  if (req.method === 'badge') {
    const pinMatches = await checkSecret(ctx, st, policy, 'pin', req.pin ?? '', user?.pinHash ?? null);
    if (user?.pinHash) valid = pinMatches;
    // A badge alone is enough only for operators: a supervisor or admin needs a PIN or a password.
    else valid = user !== null && !badgeNeedsPin(user);
  } else {
    valid = await checkSecret(ctx, st, policy, 'password', req.password, user?.passwordHash ?? null);
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
  // SEC-2, SEC-31: a PIN hashed with older, cheaper parameters is hashed again now that it was
  // given right, so a known badge's refusal costs as much as an unknown one's (and a copied
  // terminal database holds the dearer hash).
  if (req.method === 'badge' && who.pinHash && req.pin !== undefined && !sameParams(who.pinHash, PIN_SCRYPT_PARAMS)) {
    await store.updateUser(who.id, { pinHash: await hashPinAsync(req.pin) }, now);
  }
  if (!who.active) {
    await audit('user_inactive', {});
    throw new DomainError('user_inactive', { userId: who.id });
  }
  if (roles && !roles.some((r) => hasRole(who, r))) {
    await audit('supervisor_only', {});
    throw new DomainError('supervisor_only', { userId: who.id });
  }
  // SEC-3: successes are limited per user, and a user holds a bounded number of live sessions.
  const successes = within(st.recentSuccesses.get(who.id) ?? [], now, policy.windowMs);
  if (successes.length >= policy.successesPerWindow) {
    st.recentSuccesses.set(who.id, successes);
    const retryAfterSeconds = Math.max(1, Math.ceil((successes[0]! + policy.windowMs - now) / 1000));
    await audit('sign_in_throttled', { reason: 'too_many_sign_ins', retryAfterSeconds, refused: true });
    throw new DomainError('rate_limited', { retryAfterSeconds, problem: `${successes.length} sign-ins of this user in ${Math.round(policy.windowMs / MINUTE_MS)} minutes` });
  }
  successes.push(now);
  st.recentSuccesses.set(who.id, successes);
  const issued = await issueToken(ctx, { userId: who.id, kind: 'session', name: `sign-in (${req.method})`, ttlMs: SESSION_TTL_MS });
  // AUTH-3: a deactivation that landed while the secret was being checked may have revoked the
  // user's sessions before this one existed: read the user again now that it does, and take the
  // session back, or a reactivation would bring it to life.
  if (!(await store.getUser(who.id))?.active) {
    await store.revokeApiToken(issued.record.id, now);
    await audit('user_inactive', {});
    throw new DomainError('user_inactive', { userId: who.id });
  }
  const revoked = await store.revokeOldestSessions(who.id, policy.maxSessionsPerUser, now);
  for (const id of revoked) ctx.supervisors.revokeToken(id, 'signed_out');
  await audit('applied', { tokenId: issued.record.id, ...(revoked.length > 0 ? { revokedSessions: revoked } : {}) });
  return { ...issued, user: who };
}
