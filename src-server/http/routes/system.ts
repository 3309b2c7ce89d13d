/**
 * Operations endpoints for IT, without authentication: `GET /healthz` (is the server up, which
 * backend) and `GET /metrics` (Prometheus text: connections, mutations by outcome, claim latency,
 * HTTP requests by route and status, commit group sizes).
 */
import { ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import type { Scope } from '../scope.js';

async function healthz(s: Scope): Promise<Reply> {
  return ok({ ok: true, backend: s.ctx.store.backend, serverTime: s.ctx.clock.now() });
}

async function metrics(s: Scope): Promise<Reply> {
  const registry = s.ctx.metrics.registry;
  return { status: 200, text: { contentType: registry.contentType, content: await registry.metrics() } };
}

export function systemRoutes(router: Router): void {
  router.get('/healthz', healthz);
  router.get('/metrics', metrics);
}
