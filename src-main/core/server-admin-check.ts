/**
 * SEC-30: an administrator's credential, checked by the server a terminal is enrolled with. The
 * core signs in there with the user id and password (`POST /api/auth/sign-in`), so the server's
 * own throttling, lockout and sign-in audit apply; only a user with the admin role passes. With
 * that session it reports the re-enrollment (`POST /api/terminals/:id/re-enrollment`, best
 * effort: an older server lacks the route) and then revokes the session (`POST /api/auth/sign-out`).
 * Nothing of the password is kept.
 */
import { DomainError, fromErrorData, isErrorCode } from '../../src-shared/domain/errors.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import type { Enrollment } from '../../src-shared/terminal-api.js';
import type { TerminalLogger } from './terminal.js';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'error' }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

export const ADMIN_CHECK_TIMEOUT_MS = 10_000;

/** `http://host:8080`, `ws://host:8080/sync`, … → the server's HTTP URL for `route` (`/api/...`). */
export function serverApiUrl(serverUrl: string, route: string): string {
  const u = new URL(serverUrl);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  if (u.protocol === 'wss:') u.protocol = 'https:';
  const base = u.pathname.replace(/\/sync\/?$/, '').replace(/\/$/, '');
  u.pathname = `${base}${route}`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

function unreachable(serverUrl: string, problem: string): DomainError {
  return new DomainError('unavailable', { reason: 'reenroll_server_unreachable', serverUrl, problem });
}

/**
 * Resolves with the administrator's user id when `userId` / `password` sign in at `current`'s
 * server as a user with the admin role; throws the server's refusal (`sign_in_failed`,
 * `sign_in_locked`, `rate_limited`, `user_inactive`), `permission_denied` (not an admin) or
 * `unavailable` (the server cannot be reached or answers nonsense).
 */
export async function checkAdminWithServer(o: {
  current: Enrollment;
  target: Enrollment;
  userId: string;
  password: string;
  locale: Locale;
  fetch: FetchLike;
  log?: TerminalLogger | undefined;
  timeoutMs?: number;
}): Promise<string> {
  const { current, fetch } = o;
  const post = (route: string, body: unknown, token?: string) =>
    fetch(serverApiUrl(current.serverUrl, route), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': o.locale, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? ADMIN_CHECK_TIMEOUT_MS),
      redirect: 'error',
    });

  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await post('/api/auth/sign-in', { userId: o.userId, password: o.password });
  } catch (e) {
    throw unreachable(current.serverUrl, `could not ask ${current.serverUrl}: ${(e as Error).message}`);
  }
  const answer = (await res.json().catch(() => null)) as { code?: unknown; details?: unknown; token?: unknown; user?: { id?: unknown; roles?: unknown } } | null;
  if (!res.ok) {
    if (answer && isErrorCode(answer.code)) throw fromErrorData({ code: answer.code, details: answer.details });
    throw unreachable(current.serverUrl, `${current.serverUrl} answered ${res.status}`);
  }
  const token = typeof answer?.token === 'string' ? answer.token : null;
  const user = answer?.user;
  if (!token || !user || typeof user.id !== 'string' || !Array.isArray(user.roles)) {
    throw unreachable(current.serverUrl, `${current.serverUrl} answered the sign-in without a session`);
  }
  try {
    if (!user.roles.includes('admin')) {
      throw new DomainError('permission_denied', { reason: 'reenroll_not_admin', userId: user.id, problem: `${user.id} is not an administrator` });
    }
    try {
      const r = await post(`/api/terminals/${encodeURIComponent(current.terminalId)}/re-enrollment`, { serverUrl: o.target.serverUrl, terminalId: o.target.terminalId }, token);
      if (!r.ok) o.log?.('warn', 'the server did not record the re-enrollment in its audit', { status: r.status });
    } catch (e) {
      o.log?.('warn', 'the server did not record the re-enrollment in its audit', { err: (e as Error).message });
    }
    return user.id;
  } finally {
    // The session was only for this check: revoke it at once.
    try {
      const r = await post('/api/auth/sign-out', {}, token);
      if (!r.ok) o.log?.('warn', "could not sign the administrator's check session out; it expires by itself", { status: r.status });
    } catch (e) {
      o.log?.('warn', "could not sign the administrator's check session out; it expires by itself", { err: (e as Error).message });
    }
  }
}
