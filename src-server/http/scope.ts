/**
 * One request as the route handlers see it: path parameters, query, the caller's language, the
 * authenticated principal (read lazily, from the store, on every request) and validated bodies.
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { parseLocale, type Locale } from '../../src-shared/domain/i18n.js';
import { idSchema } from '../../src-shared/protocol/terminal.js';
import { DomainError } from '../../src-shared/domain/errors.js';
import { authenticate, authenticateToken, requireRole, type Principal } from '../auth.js';
import { cookieValue, isCrossOrigin, SESSION_COOKIE } from '../session.js';
import type { AppContext } from '../context.js';
import type { Role } from '../../src-shared/domain/types.js';
import { MAX_JSON_BYTES, parseJson, readBody, validate } from './body.js';

export class Scope {
  readonly locale: Locale;
  readonly query: Record<string, string>;
  private principal: Promise<Principal> | null = null;
  /** Set when the body was refused unread: the connection is closed after the answer. */
  closeConnection = false;

  constructor(
    readonly ctx: AppContext,
    readonly req: IncomingMessage,
    readonly url: URL,
    readonly params: Record<string, string>,
    readonly requestId: string,
    /** performance.now() when the request arrived (for latency metrics). */
    readonly startedAt: number,
  ) {
    this.locale = parseLocale(req.headers['accept-language']);
    this.query = Object.fromEntries(url.searchParams);
    assertWellFormedQuery(url.searchParams, url.search);
  }

  /** The remote address (sign-in throttling keys on it). */
  get remote(): string {
    return this.req.socket.remoteAddress ?? 'unknown';
  }

  /**
   * AUTH-1..3: the caller, from their bearer token, or from the session cookie of a supervisor's
   * page (AUTH-8); 401/403 otherwise.
   */
  auth(): Promise<Principal> {
    this.principal ??= this.resolvePrincipal();
    return this.principal;
  }

  private async resolvePrincipal(): Promise<Principal> {
    if (this.req.headers.authorization !== undefined) return authenticate(this.ctx, this.req.headers.authorization);
    const cookie = cookieValue(this.req.headers.cookie, SESSION_COOKIE);
    if (cookie === null) return authenticate(this.ctx, undefined);
    // AUTH-8: a cookie rides along with any request the browser sends; a change must come from a
    // page of this server, never from another site's form or script.
    if (this.req.method !== 'GET' && this.req.method !== 'HEAD' && (isCrossOrigin(this.req) || !this.req.headers.origin)) {
      throw new DomainError('permission_denied', { problem: 'a change made with the session cookie must come from a page of this server' });
    }
    return authenticateToken(this.ctx, cookie);
  }

  /** Signed in with the session cookie (a supervisor's page) rather than a bearer token. */
  get viaCookie(): boolean {
    return this.req.headers.authorization === undefined && cookieValue(this.req.headers.cookie, SESSION_COOKIE) !== null;
  }

  /** AUTH-2: the caller, who must hold one of `roles` (admins always pass). */
  async authAs(...roles: Role[]): Promise<Principal> {
    const p = await this.auth();
    requireRole(p.user, ...roles);
    return p;
  }

  /** The display names of these users, by id (unknown ids and nulls left out), for answers that name people. */
  async displayNames(ids: Iterable<string | null>): Promise<Record<string, string>> {
    const names: Record<string, string> = {};
    for (const id of new Set(ids)) {
      const u = id === null ? null : await this.ctx.store.getUser(id);
      if (u) names[u.id] = u.displayName;
    }
    return names;
  }

  /** A path parameter that must be an id (API-5). */
  id(name = 'id'): string {
    return validate(idSchema, this.params[name], `path.${name}`);
  }

  /** The query string, validated. */
  queryAs<S extends z.ZodType>(schema: S): z.infer<S> {
    return validate(schema, this.query, 'query');
  }

  /** The body, read with a size limit, parsed as JSON and validated (API-4, API-5). */
  async json<S extends z.ZodType>(schema: S, limit = MAX_JSON_BYTES): Promise<z.infer<S>> {
    return validate(schema, parseJson(await this.body(limit)));
  }

  async body(limit: number): Promise<Buffer> {
    return readBody(this.req, limit);
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }
}

/**
 * SEC-7: URLSearchParams turns percent-encoded bytes that are not UTF-8 (such as an encoded lone
 * surrogate) into U+FFFD without a word; refuse them instead, naming the parameter. A U+FFFD the
 * client really sent in a parameter (encoded or not) is kept, and says nothing about the others.
 * An encoded NUL (%00) is refused too. API-5: a parameter given twice is refused (which one would
 * count?).
 */
function assertWellFormedQuery(params: URLSearchParams, search: string): void {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) throw new DomainError('invalid_input', { field: `query.${key.slice(0, 64)}`, problem: 'is given more than once; give it once' });
    seen.add(key);
  }
  if (!search.includes('%')) return;
  for (const raw of search.replace(/^\?/, '').split('&')) {
    for (const [key, value] of new URLSearchParams(raw)) {
      const name = key.split('\u0000').join('').slice(0, 64);
      if (key.includes('\u0000') || value.includes('\u0000')) {
        throw new DomainError('invalid_input', { field: `query.${name}`, problem: 'holds a NUL character (%00), which is not allowed in text' });
      }
      if ((key.includes('\uFFFD') || value.includes('\uFFFD')) && !/%EF%BF%BD|\uFFFD/i.test(raw)) {
        throw new DomainError('invalid_input', { field: `query.${name}`, problem: 'is not valid percent-encoded UTF-8' });
      }
    }
  }
}
