import type { Clock } from '../src-shared/clock.js';
import type { SignInPolicy } from './auth.js';
import type { Committer } from './engine/committer.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { ServerStore } from './store/types.js';
import type { SyncHub } from './sync/hub.js';
import type { SupervisorHub } from './sync/supervisor-hub.js';

/** Whether this instance runs the deployment-wide timers (the lease, app.ts), for /healthz. */
export interface TimerLease {
  /** This instance runs them now. */
  held: boolean;
  /** When this instance last took or lost the lease (null: it never held it). */
  since: number | null;
}

/** What the parts of a running server share. */
export interface AppContext {
  store: ServerStore;
  committer: Committer;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  hub: SyncHub;
  /** Supervisor pages' live subscriptions (SUP-1). */
  supervisors: SupervisorHub;
  /** The built supervisor overview (out/renderer), or null when it was not built. */
  rendererDir: string | null;
  /** Sign-in throttling (AUTH-6, SEC-1..3, SEC-11); the defaults unless a test or IT changed them. */
  signInPolicy?: SignInPolicy;
  /** The timer lease as this instance last saw it. */
  lease: TimerLease;
}
