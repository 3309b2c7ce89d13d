/**
 * The HTTP API (docs/API.md) on the same port as the WebSocket protocol: a plain `node:http`
 * handler that routes the request, runs its handler and writes the answer. Nothing escapes it: a
 * domain error becomes its status and error body in the caller's language (ERR-1, API-3); any
 * other exception is logged with a request id and answered `internal_error` (500) without
 * internals (API-9). Every request is counted by method, route pattern and status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomHex } from '../../src-shared/crypto/hash.js';
import { DomainError } from '../../src-shared/domain/errors.js';
import { parseLocale } from '../../src-shared/domain/i18n.js';
import type { AppContext } from '../context.js';
import { PayloadTooLarge } from './body.js';
import { noQuery } from './schemas.js';
import { errorReply, writeReply, type Reply } from './respond.js';
import { Router } from './router.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { importRoutes } from './routes/import.js';
import { supervisorRoutes } from './routes/supervisor.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';
import { Scope } from './scope.js';
import { serveSupervisorPage } from './static.js';

const METHOD_LABELS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export function buildRouter(): Router {
  const router = new Router();
  systemRoutes(router);
  accountRoutes(router);
  importRoutes(router);
  supervisorRoutes(router);
  taskRoutes(router);
  adminRoutes(router);
  return router;
}

export function createHttpHandler(ctx: AppContext): (req: IncomingMessage, res: ServerResponse) => void {
  const router = buildRouter();
  // Request ids: unique per server process (a random prefix, then a counter), without drawing
  // random bytes for every request.
  const idPrefix = randomHex(4);
  let requests = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const requestId = `${idPrefix}${(++requests).toString(16).padStart(8, '0')}`;
    const method = req.method ?? 'GET';
    const locale = parseLocale(req.headers['accept-language']);
    let routeLabel = 'unmatched';
    let scope: Scope | null = null;
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (serveSupervisorPage(ctx.rendererDir, req, res, url.pathname)) {
        // Counted once answered: a file is looked up on the disk first (a missing one is a 404).
        res.once('close', () => ctx.metrics.httpRequests.inc({ method: METHOD_LABELS.has(method) ? method : 'other', route: 'static', status: String(res.statusCode) }));
        return;
      }
      const match = router.match(method, url.pathname);
      switch (match.kind) {
        case 'found':
          routeLabel = match.route.pattern;
          scope = new Scope(ctx, req, url, match.params, requestId, startedAt);
          if (!match.route.query) scope.queryAs(noQuery);
          reply = await match.route.handler(scope);
          break;
        case 'wrong_method': {
          routeLabel = match.pattern;
          const allowed = [...new Set(match.allowed)];
          reply = errorReply(new DomainError('not_found', { method, allowed, problem: `${method} is not supported here; use ${allowed.join(' or ')}` }), locale);
          reply.headers = { ...reply.headers, allow: allowed.join(', ') };
          break;
        }
        case 'bad_path':
          reply = errorReply(new DomainError('invalid_input', { field: 'path', problem: 'is not valid URL encoding' }), locale);
          break;
        case 'none':
          reply = errorReply(new DomainError('not_found', { path: url.pathname.slice(0, 200) }), locale);
          break;
      }
    } catch (err) {
      if (err instanceof DomainError) {
        reply = errorReply(err, locale);
        if (err instanceof PayloadTooLarge && err.close && scope) scope.closeConnection = true;
      } else {
        ctx.log.error({ err, requestId, method, path: req.url?.slice(0, 200), route: routeLabel }, 'HTTP request failed');
        reply = errorReply(new DomainError('internal_error', { requestId }), locale);
      }
    }
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (scope?.closeConnection) headers.connection = 'close';
    try {
      writeReply(res, reply, headers);
    } catch (err) {
      ctx.log.error({ err, requestId }, 'writing the HTTP answer failed');
      res.destroy();
    }
    ctx.metrics.httpRequests.inc({ method: METHOD_LABELS.has(method) ? method : 'other', route: routeLabel, status: String(reply.status) });
    ctx.log.debug({ requestId, method, route: routeLabel, status: reply.status, ms: Math.round(performance.now() - startedAt) }, 'http');
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      ctx.log.error({ err }, 'HTTP handler crashed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(new DomainError('internal_error').toData()));
      } else res.destroy();
    });
  };
}
