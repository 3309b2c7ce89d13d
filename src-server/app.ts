/**
 * The sync server: one HTTP(S) listener that serves the HTTP API and, at /sync, the WebSocket
 * protocol; the group committer in front of the store; and the timers that run on the server's
 * clock (assignment expiry, change-log pruning).
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { systemClock, type Clock } from '../src-shared/clock.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import { epochDay } from '../src-shared/domain/supervision.js';
import { SUPERVISOR_PATH } from '../src-shared/protocol/supervisor.js';
import { SIGN_IN_POLICY, authenticateToken, type SignInPolicy } from './auth.js';
import type { AppContext } from './context.js';
import { GroupCommitter, type Committer } from './engine/committer.js';
import { createHttpHandler } from './http/index.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import type { PgServerStore } from './store/pg/store.js';
import { DATABASE_FILE, SqliteServerStore } from './store/sqlite/store.js';
import type { ServerStore } from './store/types.js';
import { findRendererDir } from './http/static.js';
import { HUB_DEFAULTS, SyncHub, type HubOptions } from './sync/hub.js';
import { SupervisorHub, type SupervisorHubOptions } from './sync/supervisor-hub.js';
import { DEFAULT_SUPERVISION_SETTINGS, supervisionSettingsSchema } from '../src-shared/domain/supervision.js';

export interface ServerOptions {
  /** Folder for the SQLite database (created if missing; unused when `store` is given). */
  dataDir: string;
  port: number;
  host: string;
  tls?: { certFile: string; keyFile: string };
  clock?: Clock;
  logger?: Logger;
  /** Use this store instead of opening one in dataDir (tests, other backends). */
  store?: ServerStore;
  /** How often expired assignments are swept (EXP-1). */
  expirySweepMs?: number;
  /** Change-log rows older than this are pruned (SYNC-4; default 48 hours). */
  changeRetentionMs?: number;
  hub?: Partial<HubOptions>;
  supervisorHub?: Partial<SupervisorHubOptions>;
  /** How often offline terminals with queued work are checked (SUP-5). */
  offlineAlertSweepMs?: number;
  /** The built renderer to serve the supervisor overview from; default: out/renderer, found from here. */
  rendererDir?: string | null;
  /** Sign-in throttling and limits (AUTH-6, SEC-1..3, SEC-11); defaults from SIGN_IN_POLICY. */
  signInPolicy?: Partial<SignInPolicy>;
  /** How often expired sessions and stale sign-in counters are pruned (SEC-3; default hourly). */
  authPruneMs?: number;
  /** Most units committed in one transaction (default 5,000; 1 turns group commit off). */
  commitGroupMax?: number;
  /**
   * How often the timer lease is checked, taken or kept (default 2 s), and stale presence swept
   * (store.holdTimerLease, store.disconnectStale).
   */
  leaseCheckMs?: number;
  /** Where the periodic work above is scheduled: Node's intervals by default (tests run it on demand). */
  intervals?: ServerIntervals;
}

/** The server's periodic work, by name (INST-4: all but `lease` run only where the lease is held). */
export type ServerTimerName = 'lease' | 'expiry' | 'offlineAlerts' | 'pruneChanges' | 'pruneAuth' | 'performanceDay';

/**
 * Schedules the server's periodic work. `work` never fails (its faults are logged) and resolves
 * when everything it started is done; `every` returns what stops it.
 */
export interface ServerIntervals {
  every(name: ServerTimerName, ms: number, work: () => Promise<void>): () => void;
}

export const NODE_INTERVALS: ServerIntervals = {
  every(_name, ms, work) {
    const timer = setInterval(() => void work(), ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};


export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  ctx: AppContext;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger();
  const metrics = new Metrics();
  if (!options.store || options.store instanceof SqliteServerStore) fs.mkdirSync(options.dataDir, { recursive: true });
  const store = options.store ?? new SqliteServerStore(path.join(options.dataDir, DATABASE_FILE));
  if (store instanceof SqliteServerStore) {
    store.startBackgroundCheckpoints(1000, (message) => log.warn({ message }, 'background checkpoint failed'));
    // Before the hubs: they size their pages by where pages are read.
    store.startReadThread((why) => log.warn({ why }, 'the page read thread stopped; a new one starts at the next read'));
  }
  // By its backend, not its class: a server on SQLite never loads the PostgreSQL store.
  if (store.backend === 'postgres') {
    (store as PgServerStore).onLostRace = (err) => {
      const e = err as { code?: string; message?: string; detail?: string; where?: string };
      log.warn({ code: e.code, message: e.message, detail: e.detail, where: e.where }, 'PostgreSQL rolled back a change as the loser of a race; answered as unavailable (retry)');
    };
  }
  // One server on its store: a terminal marked connected was connected to a server that is gone.
  // Several instances: the others' terminals are connected; the stale-presence sweep finds a dead
  // instance's terminals instead.
  if (!store.sharedByInstances) await store.resetConnections(clock.now());
  // The overview's settings' check, run once before anything is served (on the defaults: no
  // database round trip that could hold the start): its first run loads the runtime's time-zone
  // data and compiles the check (55-75 ms of this thread on this machine), which would otherwise
  // stall the first turn that needs them, such as an auto-assign's first slice while the plant's
  // kiosks wait (issue 12, `stall`).
  supervisionSettingsSchema.parse(DEFAULT_SUPERVISION_SETTINGS);
  const hub = new SyncHub(store, clock, log, metrics, options.hub);
  const supervisors = new SupervisorHub(store, clock, log, metrics, (token) => authenticateToken({ store, clock }, token), {
    ...(options.hub?.pushIntervalMs !== undefined ? { pushIntervalMs: options.hub.pushIntervalMs } : {}),
    ...options.supervisorHub,
  });
  hub.giveWayTo(() => supervisors.snapshotsInProgress > 0);
  metrics.commitLanes.set(store.groupLanes);
  const committer: Committer = new GroupCommitter(
    store,
    clock,
    (departments, head) => {
      hub.notifyChanged(departments, head);
      supervisors.notifyChanged(departments, head);
    },
    (units, seconds) => {
      metrics.groupSize.observe(units);
      metrics.commitDuration.observe(seconds);
    },
    options.commitGroupMax,
  );
  const rendererDir = options.rendererDir === undefined ? findRendererDir() : options.rendererDir;
  const signInPolicy = { ...SIGN_IN_POLICY, ...options.signInPolicy };
  const ctx: AppContext = { store, committer, clock, log, metrics, hub, supervisors, rendererDir, signInPolicy, lease: { held: false, since: null } };
  hub.setCommitter(committer);
  // Another instance's commits, heard at once where the store can tell (PostgreSQL LISTEN).
  (store as ServerStore).watchHead?.((head) => {
    hub.noticeHead(head);
    supervisors.noticeHead(head);
  });
  // Users changed and sessions revoked through another instance: its supervisor pages here follow.
  // In the order they were committed: a deactivation's own notice, then its sessions' (so a page
  // closes saying the user was deactivated, not merely that its session was revoked).
  let accounts: Promise<unknown> = Promise.resolve();
  const inOrder = (work: () => unknown) => {
    accounts = accounts.then(work).catch((err: unknown) => log.warn({ err }, 'following an account change made through another instance failed'));
  };
  (store as ServerStore).watchAccounts?.({
    userChanged: (userId) => inOrder(() => supervisors.userChanged(userId)),
    tokenRevoked: (tokenId, reason) => inOrder(() => supervisors.revokeToken(tokenId, reason)),
  });

  const handler = createHttpHandler(ctx);
  const server = options.tls
    ? https.createServer({ cert: fs.readFileSync(options.tls.certFile), key: fs.readFileSync(options.tls.keyFile) }, handler)
    : http.createServer(handler);
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  // WebSocket upgrades by path: terminals at /sync, supervisor pages at /supervise.
  server.on('upgrade', (req, socket, head) => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname === '/sync') hub.handleUpgrade(req, socket, head);
    else if (pathname === SUPERVISOR_PATH) supervisors.handleUpgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nWebSockets are served at /sync (terminals) and /supervise (supervisor pages).\n');
  });
  hub.startTimers();
  supervisors.start();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}`;

  // Timers that must run once per deployment run only where the lease is held (one instance; with
  // SQLite, always this one). The lease is checked every leaseCheckMs and moves when its holder dies.
  const lease = ctx.lease;
  const heartbeatMs = options.hub?.heartbeatMs ?? HUB_DEFAULTS.heartbeatMs;
  const intervals = options.intervals ?? NODE_INTERVALS;
  let sweepingStale: Promise<void> | null = null;
  const checkLease = async () => {
    const held = await store.holdTimerLease();
    if (held !== lease.held) {
      lease.held = held;
      lease.since = clock.now();
      log.info({ timers: held ? 'this instance' : 'another instance' }, held ? 'took the timer lease: this instance runs the timers' : 'lost the timer lease');
    }
    // Several instances: a terminal marked connected but silent for three heartbeats was connected
    // to an instance that died. (Alone on its store, this server's presence is exact.) Not waited
    // for: a sweep queued behind a long write (an import) must not stop the lease checks, or an
    // instance whose lease session died would go on running the timers beside the new holder.
    if (held && store.sharedByInstances && heartbeatMs > 0 && !sweepingStale) {
      const now = clock.now();
      sweepingStale = store
        .disconnectStale(now - 3 * heartbeatMs, now)
        .then(
          (stale) => {
            if (stale.length) log.info({ terminals: stale }, 'terminals marked disconnected: not seen for three heartbeats');
          },
          (err: unknown) => log.error({ err }, 'stale presence sweep failed'),
        )
        .finally(() => (sweepingStale = null));
    }
  };
  // One check at a time: a slow database must not pile checks on each other.
  let checking: Promise<void> | null = null;
  const leaseCheck = () => {
    checking ??= checkLease()
      .catch((err) => log.error({ err }, 'timer lease check failed'))
      .finally(() => (checking = null));
    // What it started, the stale sweep too (the interval waits for neither).
    return checking.then(() => sweepingStale ?? undefined);
  };
  const stops = [intervals.every('lease', options.leaseCheckMs ?? 2_000, leaseCheck)];
  await checkLease().catch((err) => log.error({ err }, 'timer lease check failed'));
  const leader = (fn: () => Promise<void>) => async () => {
    if (lease.held) await fn();
  };

  const expire = async () => {
    await committer.submit({ kind: 'expire' }).then(
      (expired) => {
        if (expired.length) log.info({ tasks: expired }, 'assignments expired; tasks returned to the pool');
      },
      (err) => log.error({ err }, 'expiry sweep failed'),
    );
  };
  stops.push(intervals.every('expiry', options.expirySweepMs ?? 15_000, leader(expire)));
  const alertOffline = async () => {
    try {
      const settings = await store.getSupervision();
      const now = clock.now();
      const alerts = await store.alertOfflineTerminals(now - settings.terminalOfflineAlertMinutes * MINUTE_MS, now);
      for (const a of alerts) log.warn(a, 'terminal offline with work queued; supervisors notified');
    } catch (err) {
      log.error({ err }, 'offline terminal check failed');
    }
  };
  stops.push(intervals.every('offlineAlerts', options.offlineAlertSweepMs ?? 30_000, leader(alertOffline)));
  const retention = options.changeRetentionMs ?? 48 * 3600_000;
  const pruneChanges = async () => {
    await store.pruneChanges(clock.now() - retention).catch((err) => log.error({ err }, 'change-log pruning failed'));
  };
  stops.push(intervals.every('pruneChanges', 3600_000, leader(pruneChanges)));
  // SEC-3: sessions that ended more than a day ago, and failure counters that lock nothing, go.
  const pruneAuth = async () => {
    const now = clock.now();
    await store.pruneAuth(now - 24 * 60 * MINUTE_MS, now - signInPolicy.windowMs, now).then(
      (n) => {
        if (n.sessions + n.failureKeys > 0) log.info(n, 'pruned ended sessions and stale sign-in counters');
      },
      (err) => log.error({ err }, 'pruning sessions failed'),
    );
  };
  void leader(pruneAuth)();
  stops.push(intervals.every('pruneAuth', options.authPruneMs ?? 3600_000, leader(pruneAuth)));
  // SUP-3 PERF-1: at a new day the performance window moves: the pages get every person again
  // (their scores are worked out for the day they are read), within a minute of midnight.
  const performanceDay = async () => {
    const now = clock.now();
    await store.markPerformanceDay(epochDay(now), now).catch((err) => log.error({ err }, 'moving the performance window to a new day failed'));
  };
  stops.push(intervals.every('performanceDay', 60_000, leader(performanceDay)));

  log.info({ url, ...(store instanceof SqliteServerStore ? { dataDir: options.dataDir } : {}), backend: store.backend }, 'sync server listening');

  let closing: Promise<void> | null = null;
  const running: RunningServer = {
    url,
    wsUrl: url.replace(/^http/, 'ws') + '/sync',
    port,
    ctx,
    close() {
      closing ??= (async () => {
        for (const stop of stops) stop();
        await supervisors.close();
        await hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await committer.close();
        await store.close();
        log.info('sync server stopped');
      })();
      return closing;
    },
  };
  return running;
}
