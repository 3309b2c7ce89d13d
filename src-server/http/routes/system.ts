/**
 * Operations endpoints for IT, without authentication: `GET /healthz` (is the server up, which
 * backend, can it reach its database) and `GET /metrics` (Prometheus text: connections, mutations by outcome, claim latency,
 * HTTP requests by route and status, commit group sizes).
 */
import { ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import type { Scope } from '../scope.js';
import { hasLink } from '../../store/types.js';

/**
 * API-1: up, which backend, and the database link. A store behind a network link (PostgreSQL) is
 * pinged (at most 2 s); when it does not answer, 503 with `ok: false` and what went wrong, so a
 * load balancer sends clients to another instance until it is back.
 */
async function healthz(s: Scope): Promise<Reply> {
  const { store, clock, lease } = s.ctx;
  // Which instance runs the deployment-wide timers (expiry, pruning, offline alerts, stale presence).
  const timers = { lease: lease.held ? 'held' : 'standby', since: lease.since };
  if (!hasLink(store)) return ok({ ok: true, backend: store.backend, serverTime: clock.now(), database: { ok: true }, timers });
  const started = performance.now();
  try {
    await store.ping(2_000);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return ok({ ok: true, backend: store.backend, serverTime: clock.now(), database: { ok: true, latencyMs }, timers });
  } catch (err) {
    const error = String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 200);
    return ok({ ok: false, backend: store.backend, serverTime: clock.now(), database: { ok: false, error }, timers }, 503);
  }
}

async function metrics(s: Scope): Promise<Reply> {
  const registry = s.ctx.metrics.registry;
  return { status: 200, text: { contentType: registry.contentType, content: await registry.metrics() } };
}

export function systemRoutes(router: Router): void {
  router.get('/healthz', healthz);
  router.get('/metrics', metrics);
}
