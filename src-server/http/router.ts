/**
 * A small router for `node:http`: routes are a method and a path pattern with `:name` segments;
 * of the patterns a path matches, those with the most literal segments count, and the first of
 * them with the request's method wins. A path that matches with another method reports the
 * allowed methods.
 */
import type { Reply } from './respond.js';
import type { Scope } from './scope.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Handler = (scope: Scope) => Promise<Reply>;

export interface RouteOptions {
  /**
   * The handler reads the query string (and validates it with `scope.queryAs`). Every other route
   * refuses any query parameter before its handler runs (API-5): a parameter a route does not
   * read, such as `?dryRun=true` on a route whose dry run is a body field, must never be ignored
   * while the request goes on to change things.
   */
  query?: true;
}

export interface Route extends RouteOptions {
  method: Method;
  /** e.g. `/api/tasks/:id/claim`; also the metrics label. */
  pattern: string;
  handler: Handler;
  segments: string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong_method'; allowed: Method[]; pattern: string }
  | { kind: 'none' }
  | { kind: 'bad_path' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    this.routes.push({ method, pattern, handler, segments: pattern.split('/').filter(Boolean), ...options });
    return this;
  }

  get(pattern: string, handler: Handler, options?: RouteOptions): this {
    return this.add('GET', pattern, handler, options);
  }
  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }
  put(pattern: string, handler: Handler): this {
    return this.add('PUT', pattern, handler);
  }
  patch(pattern: string, handler: Handler): this {
    return this.add('PATCH', pattern, handler);
  }
  delete(pattern: string, handler: Handler): this {
    return this.add('DELETE', pattern, handler);
  }

  match(method: string, pathname: string): Match {
    let parts: string[];
    try {
      parts = pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    } catch {
      return { kind: 'bad_path' };
    }
    // The routes this path matches with the most literal segments: `/api/tasks/import` is the
    // import's path (POST only), never a task called "import" (GET /api/tasks/:id).
    let best: Array<{ route: Route; params: Record<string, string> }> = [];
    let bestLiterals = -1;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      const literals = route.segments.filter((x) => !x.startsWith(':')).length;
      if (literals > bestLiterals) {
        best = [];
        bestLiterals = literals;
      }
      if (literals === bestLiterals) best.push({ route, params });
    }
    const found = best.find((b) => b.route.method === method);
    if (found) return { kind: 'found', route: found.route, params: found.params };
    return best.length ? { kind: 'wrong_method', allowed: best.map((b) => b.route.method), pattern: best[0]!.route.pattern } : { kind: 'none' };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return null;
  }
  return params;
}
