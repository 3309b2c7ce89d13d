/** Prometheus metrics (prom-client), served at GET /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'shopfloor_terminal_connections', help: 'Terminals connected over WebSocket', registers: [this.registry] });
  readonly supervisorConnections = new Gauge({
    name: 'shopfloor_supervisor_connections',
    help: 'Supervisor pages subscribed over WebSocket',
    registers: [this.registry],
  });
  readonly commitLanes = new Gauge({ name: 'shopfloor_commit_lanes', help: 'Groups of mutations that may commit at once (start --commit-lanes; 2 on SQLite: one running, one being flushed)', registers: [this.registry] });
  readonly mutations = new Counter({
    name: 'shopfloor_mutations_total',
    help: 'Mutations processed, by name, route and outcome',
    labelNames: ['name', 'via', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly claimLatency = new Histogram({
    name: 'shopfloor_claim_duration_seconds',
    help: 'Time from receiving a claim to its durable outcome',
    labelNames: ['via'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly groupSize = new Histogram({
    name: 'shopfloor_commit_group_size',
    help: 'Mutations committed per transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({
    name: 'shopfloor_commit_duration_seconds',
    help: 'Time to run and durably commit one group of mutations',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly frames = new Counter({
    name: 'shopfloor_ws_frames_total',
    help: 'WebSocket frames, by direction and type',
    labelNames: ['direction', 'type'] as const,
    registers: [this.registry],
  });
  readonly protocolErrors = new Counter({
    name: 'shopfloor_protocol_errors_total',
    help: 'Frames refused, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'shopfloor_http_requests_total',
    help: 'HTTP requests, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly secretChecks = new Counter({
    name: 'shopfloor_secret_checks_total',
    help: 'scrypt checks of PINs and passwords at sign-in (one per attempt, SEC-2)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
