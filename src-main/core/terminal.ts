/**
 * The terminal core: everything a kiosk does, in plain Node (no Electron). It implements the
 * TerminalApi the renderer talks to. Each operation runs the shared rules against the local cache
 * first (so a claim that cannot succeed is refused at once with the server's own error), then
 * writes its optimistic effect and its outbox entry in one transaction, then returns; the sync
 * client delivers the outbox and reconciles with the server when the link is up.
 */
import os from 'node:os';
import type { Clock } from '../../src-shared/clock.js';
import { badgeHash, verifySecret } from '../../src-shared/crypto/hash.js';
import { DEFAULT_SITE_CONFIG, type SiteConfig } from '../../src-shared/domain/config.js';
import { DomainError, type ErrorData } from '../../src-shared/domain/errors.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import { isClaimableBy, resolveTaskLimit } from '../../src-shared/domain/rules.js';
import { badgeNeedsPin, looksOnlyAtKiosk } from '../../src-shared/domain/types.js';
import { compilePattern } from '../../src-shared/domain/config.js';
import { badgeSchema } from '../../src-shared/domain/credentials.js';
import { MAX_NOTIFICATION_IDS, type DirectoryUser, type SyncTask, type TerminalNotification, type Welcome } from '../../src-shared/protocol/terminal.js';
import type {
  ConflictView,
  MyWork,
  NotificationView,
  ScanResult,
  Workload,
  EnrollInput,
  OperationAck,
  PageInput,
  RejectInput,
  SessionInfo,
  SignInInput,
  SyncStatus,
  TaskInput,
  TaskPage,
  TaskView,
  TerminalApi,
  TerminalEvent,
  TerminalIdentity,
  TerminalSnapshot,
} from '../../src-shared/terminal-api.js';
import { codeInputSchema, enrollInputSchema, pageInputSchema, readNotificationsInputSchema, signInInputSchema, type Enrollment } from '../../src-shared/terminal-api.js';
import { checkAdminWithServer, type FetchLike } from './server-admin-check.js';
import {
  activeCountEverywhere,
  applyChanges,
  applyLocal,
  applyOutcome,
  decideLocal,
  type OutcomeEffect,
  directoryUserToUser,
  type TerminalOperation,
} from './reconcile.js';
import type { ClaimableCandidate, ConflictRecord, EnrollmentAuditRecord, OutboxEntry, StoredNotification, TerminalStore } from './store.js';
import { jsonColumn } from '../../src-shared/db/task-row.js';
import { SyncClient, type Dialer, type Scheduler } from './sync-client.js';

export interface TerminalSettings {
  /** From the config file / environment; when absent, the stored enrollment is used. */
  serverUrl?: string | null;
  terminalId?: string | null;
  token?: string | null;
  idleTimeoutSeconds: number;
  locale: Locale;
  /** SEC-30: the scrypt hash of the maintenance secret that authorises re-enrollment offline. */
  maintenanceSecretHash?: string | null;
}

export interface TerminalLogger {
  (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

export interface TerminalCoreOptions {
  store: TerminalStore;
  settings: TerminalSettings;
  clock: Clock;
  /**
   * PROTO-13: a clock that never jumps (milliseconds from any start; the time since boot), beside
   * the wall clock. With it the core tells a jump of the wall clock (a correction of a wrong clock)
   * from time passing, and moves the times it keeps in the terminal's clock with the jump. Without
   * it, jumps go unnoticed (tests with a manual clock).
   */
  monotonic?: () => number;
  scheduler: Scheduler;
  random: () => number;
  /** Build a transport for a server URL (real WebSockets, or the simulation's network). */
  dialer: (serverUrl: string) => Dialer;
  appVersion: string;
  log?: TerminalLogger;
  /** Poll the machine's network interfaces and reconnect at once when they change (OFF-8). */
  watchNetwork?: boolean;
  /**
   * What the network looks like now, compared between polls (on the injected scheduler); the
   * machine's non-internal interface addresses by default. Tests inject their own.
   */
  networkSignature?: () => string;
  sync?: { pingIntervalMs?: number; pongTimeoutMs?: number; backoffInitialMs?: number; backoffMaxMs?: number; stableAfterMs?: number };
  /** HTTP to the server, for an administrator's re-enrollment check (SEC-30); the global fetch by default. */
  fetch?: FetchLike;
  /**
   * Checks a PIN or the maintenance secret against its stored scrypt hash. Where the core runs in
   * Node this is Node's native scrypt off the event loop (native-scrypt.ts, SEC-1); by default the
   * pure-JS check of src-shared.
   */
  verifySecret?: (secret: string, stored: string | null | undefined) => Promise<boolean>;
  /** Called once the database is closed (the host lets go of its data folder, HOST-2). */
  onClose?: () => void;
}

interface TerminalMeta {
  id: string;
  name: string;
  departments: string[];
}

const MAX_PIN_FAILURES = 5;
/** OFF-8: how often the network interfaces are compared. */
const NETWORK_POLL_MS = 2000;
/** Stored outcomes and acknowledged conflicts are kept this long for diagnosis, then dropped. */
const OUTCOME_RETENTION_MS = 7 * 24 * 3600_000;
const PIN_LOCK_MS = 5 * 60_000;

/** PROTO-13: the wall clock moving this much more (or less) than the monotonic one between two looks is a jump. */
const CLOCK_JUMP_MS = 30_000;
/** How often the clocks are compared when nothing else looks. */
const CLOCK_POLL_MS = 2000;
/** OFF-7: a sign-out that could not be written (a full disk) is tried again after this long. */
const SIGN_OUT_RETRY_MS = 5000;
/** A kiosk shows this many of an operator's notifications, and keeps read ones this long. */
const NOTIFICATIONS_SHOWN = 30;
const READ_NOTIFICATIONS_KEPT_MS = 24 * 3600_000;
/** While a connection stays up, what is kept for a while is pruned at most this often. */
const PRUNE_EVERY_MS = 3600_000;
/** SEC-30: failed maintenance secrets are counted (and locked) like a badge's PINs, under this key. */
const MAINTENANCE_SECRET_KEY = 'maintenance-secret';

export class TerminalCore implements TerminalApi {
  readonly store: TerminalStore;
  private sync: SyncClient | null = null;
  private readonly listeners = new Set<(e: TerminalEvent) => void>();
  private idleTimer: unknown = null;
  private netTimer: unknown = null;
  private netSignature = '';
  private locale: Locale;
  /** Bumped whenever the visible tasks may have changed: the claimable list is computed once per value. */
  private tasksGeneration = 0;
  private claimableCache: ClaimableCache | null = null;
  /** Enrollments run one at a time (a re-enrollment waits for the server's check). */
  private enrolling: Promise<unknown> = Promise.resolve();
  /** Sign-ins run one at a time, so the PIN failure count stays exact while a check is awaited (KIO-2). */
  private signingIn: Promise<unknown> = Promise.resolve();
  private readonly verify: (secret: string, stored: string | null | undefined) => Promise<boolean>;
  /** The server's lastMutationId in the current connection's welcome. */
  private lastMutationIdAtWelcome: number | null = null;
  /** OFF-7: the last activity time written to the session row (terminal clock). */
  private activityStored = 0;
  /** When outcomes and read notifications were last pruned (terminal clock). */
  private prunedAt = 0;
  /** PROTO-13: the wall and monotonic clocks at the last look. */
  private clockSeen: { wall: number; mono: number } | null = null;
  private clockTimer: unknown = null;
  /** OFF-7: a sign-out that could not be written, to be tried again. */
  private signOutRetryTimer: unknown = null;

  constructor(private readonly o: TerminalCoreOptions) {
    this.store = o.store;
    this.locale = this.store.meta<Locale>('locale', o.settings.locale);
    this.verify = o.verifySecret ?? (async (secret, stored) => verifySecret(secret, stored));
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle and events

  /** Begin syncing (if enrolled) and enforcing the idle timeout. */
  startSyncing(): void {
    this.checkClock();
    this.watchClock();
    this.restartSync();
    this.resumeSession();
    if (this.o.watchNetwork) this.watchNetwork();
  }

  /**
   * OFF-7: a session kept across a restart (a power cut, a crash) gets only what was left of its
   * idle period when the operator was last active, not a fresh one; one idle for longer than the
   * timeout is ended now, as the idle timer would have ended it.
   */
  private resumeSession(): void {
    const s = this.store.session();
    if (!s) return;
    const timeoutMs = this.o.settings.idleTimeoutSeconds * 1000;
    if (timeoutMs <= 0) return;
    const idleMs = Math.max(0, this.o.clock.now() - (s.activeLocal ?? s.signedInLocal));
    if (idleMs >= timeoutMs) {
      this.log('info', 'the session was idle longer than the idle timeout when the terminal started; signing out', {
        userId: s.userId,
        idleSeconds: Math.round(idleMs / 1000),
        idleTimeoutSeconds: this.o.settings.idleTimeoutSeconds,
      });
      this.endSessionInBackground('idle at start', undefined, true);
      return;
    }
    this.armIdle(timeoutMs - idleMs);
  }

  stopSyncing(): void {
    this.sync?.stop();
    this.sync = null;
    if (this.idleTimer !== null) this.o.scheduler.clearTimeout(this.idleTimer);
    if (this.netTimer !== null) this.o.scheduler.clearTimeout(this.netTimer);
    this.netTimer = null;
    if (this.clockTimer !== null) this.o.scheduler.clearTimeout(this.clockTimer);
    this.clockTimer = null;
    if (this.signOutRetryTimer !== null) this.o.scheduler.clearTimeout(this.signOutRetryTimer);
    this.signOutRetryTimer = null;
  }

  /**
   * PROTO-13, CLM-13: has the wall clock jumped since the last look (NTP correcting a clock that
   * was wrong, a dead CMOS battery's clock set right)? Then every time the terminal kept in its
   * clock (queued actions, the session, PIN locks, the server's offset) moves with it, and the
   * connection is made again so the server measures the offset anew. Otherwise a claim made after
   * the clock was set back 10 h would be judged by the server 10 h old, stale (CLM-13), and one
   * queued offline before it was set forward would be too. Returns the jump (0: none).
   */
  private checkClock(): number {
    const mono = this.o.monotonic;
    if (!mono || !this.store.db.open) return 0;
    const seen = { wall: this.o.clock.now(), mono: mono() };
    const before = this.clockSeen;
    this.clockSeen = seen;
    if (!before) return 0;
    const jump = Math.round(seen.wall - before.wall - (seen.mono - before.mono));
    if (Math.abs(jump) < CLOCK_JUMP_MS) return 0;
    try {
      this.store.tx(() => this.store.shiftLocalTimes(jump));
    } catch (err) {
      this.log('error', 'the terminal clock jumped, and the times kept in it could not be moved with it', { jumpMs: jump, err: String(err) });
    }
    this.activityStored += jump;
    this.log('warn', `the terminal clock jumped ${jump > 0 ? 'forward' : 'back'} by ${Math.round(Math.abs(jump) / 1000)} s; the times kept in it move with it`, { jumpMs: jump });
    this.sync?.clockJumped(jump);
    return jump;
  }

  private watchClock(): void {
    if (!this.o.monotonic || this.clockTimer !== null) return;
    const poll = () => {
      this.clockTimer = this.o.scheduler.setTimeout(() => {
        this.clockTimer = null;
        this.checkClock();
        poll();
      }, CLOCK_POLL_MS);
    };
    poll();
  }

  /** Stop and close the database. */
  close(): void {
    this.stopSyncing();
    try {
      this.store.close();
    } finally {
      this.o.onClose?.();
    }
  }

  subscribe(listener: (e: TerminalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: TerminalEvent): void {
    if (e.type === 'tasks') this.tasksGeneration++;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log('error', 'event listener failed', { err: String(err) });
      }
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void {
    this.o.log?.(level, message, data);
  }

  /** Reconnect now (e.g. the network came back). */
  kick(): void {
    this.sync?.kick();
  }

  private enrollment(): Enrollment | null {
    const s = this.o.settings;
    if (s.serverUrl && s.terminalId && s.token) return { serverUrl: s.serverUrl, terminalId: s.terminalId, token: s.token };
    return this.store.meta<Enrollment | null>('enrollment', null);
  }

  private restartSync(): void {
    this.sync?.stop();
    this.sync = null;
    const e = this.enrollment();
    if (!e) {
      this.emit({ type: 'sync', sync: this.syncStatus() });
      return;
    }
    this.sync = new SyncClient(
      {
        terminalId: e.terminalId,
        token: e.token,
        appVersion: this.o.appVersion,
        dial: this.o.dialer(e.serverUrl),
        clock: this.o.clock,
        scheduler: this.o.scheduler,
        random: this.o.random,
        ...this.o.sync,
      },
      {
        cursor: () => this.store.meta<number | null>('cursor', null),
        lastAckedMutationId: () => {
          const first = this.store.firstOutboxId();
          return first !== null ? first - 1 : this.store.meta<number>('nextMutationId', 1) - 1;
        },
        pendingAfter: (afterId, limit) => this.store.outbox(afterId, limit),
        outboxDepth: () => this.store.outboxSize(),
        onWelcome: (w) => this.onWelcome(w, e),
        onOutcomes: (outcomes) => {
          const now = this.o.clock.now();
          // One transaction (one fsync) for every outcome of the frame.
          let renumbered = false;
          const results = this.store.tx(() => {
            this.store.setMeta('lastSyncAt', now);
            this.pruneKept();
            const departments = this.departments();
            const serverNow = this.serverNow();
            const config = this.config();
            const connectedSince = this.sync?.welcomedAt ?? null;
            const lastAtWelcome = this.lastMutationIdAtWelcome;
            let foreign: OutboxEntry | null = null;
            const applied: Array<{ o: (typeof outcomes)[number]; r: OutcomeEffect }> = [];
            for (const o of outcomes) {
              // PROTO-5: once an outcome proved to be another database's, no outcome for an id the
              // server had processed before this connection is taken as ours.
              if (foreign && lastAtWelcome !== null && o.id <= lastAtWelcome) continue;
              const r = applyOutcome(this.store, o, departments, serverNow, config, connectedSince);
              if (r.foreign) foreign ??= r.foreign;
              applied.push({ o, r });
            }
            if (foreign) renumbered = this.foreignOutcome(foreign, lastAtWelcome) > 0;
            return applied;
          });
          if (renumbered) this.sync?.outboxChanged();
          for (const { o, r } of results) {
            if (r.conflict) this.emit({ type: 'conflict', conflict: this.conflictView(r.conflict) });
            // A refused sign-in that was the session on screen ended it: the screen says why, not
            // just "scan your badge".
            if (r.endedSession) this.emit({ type: 'session', session: this.sessionInfo(), ...(o.status === 'rejected' ? { ended: o.error } : {}) });
          }
          if (results.some(({ o, r }) => o.status === 'rejected' && r.entry?.name === 'readNotifications')) this.emit({ type: 'notifications', fresh: [] });
          this.emit({ type: 'tasks' });
        },
        onChanges: (page) => {
          // The page and the sync time in one transaction (one fsync).
          const fresh: TerminalNotification[] = [];
          const changed = this.store.tx(() => {
            this.store.setMeta('lastSyncAt', this.o.clock.now());
            return applyChanges(this.store, page, this.departments(), this.serverNow(), DEFAULT_SITE_CONFIG, fresh);
          });
          // The signed-in operator left this terminal's directory (removed from its departments) or
          // was deactivated (AUTH-3, CLM-10: they stop working everywhere at once): end the
          // session, as the screen cannot act for them any more. Their record changed otherwise
          // (a role, a name): the screen's session follows (a supervisor role taken away means
          // working as an operator, and back).
          const signedIn = this.store.session();
          const me = signedIn ? this.store.user(signedIn.userId) : null;
          if (signedIn && me && !me.active) this.endSessionInBackground('deactivated', new DomainError('user_inactive', { userId: me.id }).toData());
          else if (signedIn && !me) this.endSessionInBackground('left the departments');
          else if (signedIn && page.users.some((u) => u.id === signedIn.userId)) this.emit({ type: 'session', session: this.sessionInfo() });
          if (changed.length || page.config || page.users.length) this.emit({ type: 'tasks' });
          if (page.config) this.emit({ type: 'config', config: page.config });
          const mine = this.store.session()?.userId;
          if (mine && page.notifications.some((n) => n.userId === mine)) {
            this.emit({ type: 'notifications', fresh: fresh.filter((n) => n.userId === mine).map((n) => ({ ...n, read: false })) });
          }
        },
        onStatus: () => this.emit({ type: 'sync', sync: this.syncStatus() }),
        checkClock: () => void this.checkClock(),
        log: (level, message, data) => this.log(level, message, data),
      },
    );
    this.sync.start();
  }

  /**
   * PROTO-5: an outcome about another task than the outbox entry of its id answers another
   * database's mutation under this terminal id: this one was restored or cloned, although the
   * server's lastMutationId at the welcome did not show it (it had queued more than the other
   * database sent since). Its entries at or below that lastMutationId are moved behind the others
   * and sent as new, so no stored outcome of another mutation is taken for them.
   */
  private foreignOutcome(entry: OutboxEntry, lastAtWelcome: number | null): number {
    const moved = this.store.moveOutboxToEnd(Math.max(entry.id, lastAtWelcome ?? 0));
    const terminalId = this.enrollment()?.terminalId ?? null;
    this.log(
      'error',
      `the server's outcome of mutation ${entry.id} of terminal ${terminalId} is about another task than this database's ${entry.name} of that id: this database is not the one the server last heard from (restored from a backup or snapshot, or another machine ran as ${terminalId}); ${moved} queued action(s) are numbered anew and sent again`,
      { terminalId, mutationId: entry.id, name: entry.name, taskId: entry.taskId, serverLastMutationId: lastAtWelcome, moved },
    );
    return moved;
  }

  private onWelcome(w: Welcome, by: Enrollment): void {
    this.lastMutationIdAtWelcome = w.lastMutationId;
    const before = this.store.meta<TerminalMeta | null>('terminal', null);
    const now: TerminalMeta = { id: w.terminal.id, name: w.terminal.name, departments: [...w.terminal.departments].sort() };
    let foreignNumbering = null as { nextMutationId: number; lastMutationId: number; queued: number } | null;
    this.store.tx(() => {
      this.store.setMeta('terminal', now);
      // SEC-30: from now on, changing this enrollment needs an administrator or the maintenance secret.
      this.store.setMeta('acceptedBy', { serverUrl: by.serverUrl, terminalId: by.terminalId } satisfies AcceptedBy);
      this.store.setMeta('siteSalt', w.siteSalt);
      this.store.setMeta('config', w.config);
      this.store.setMeta('serverOffsetMs', w.serverTime - this.o.clock.now());
      // A database never welcomed under this id (a replaced disk, a re-enrolled id) has sent
      // nothing yet, so its ids must follow the ones the server already processed for this
      // terminal. Otherwise queued ids at or below lastMutationId are normally ours, processed
      // while their answers were lost, and the server replays those answers (PROTO-5): no renumbering.
      // But the server can only have processed ids this database handed out, so one that has
      // processed nextMutationId or more heard from another database under this id: this one was
      // restored from a backup or a snapshot, or a spare ran as this id meanwhile. Its ids at or
      // below lastMutationId name other mutations there, and the outcomes the server replays for
      // them are theirs: queued work is numbered after lastMutationId (in order) and sent as new,
      // so no replayed outcome can match it (PROTO-5, OFF-2).
      const next = this.store.meta<number>('nextMutationId', 1);
      if (before?.id !== w.terminal.id || this.store.meta<boolean>('renumberAtWelcome', false)) {
        this.store.numberOutboxAfter(w.lastMutationId);
        this.store.setMeta('renumberAtWelcome', null);
      } else if (w.lastMutationId >= next) {
        const queued = this.store.outboxSize();
        this.store.numberOutboxAfter(w.lastMutationId);
        foreignNumbering = { nextMutationId: next, lastMutationId: w.lastMutationId, queued };
      }
      this.pruneKept(true);
      if (before && before.departments.join() !== now.departments.join()) {
        // Serving other departments: the cursor says nothing about them; resync from scratch.
        this.store.setMeta('cursor', null);
      }
    });
    if (foreignNumbering) {
      this.log(
        'warn',
        `the server has processed mutations of terminal ${w.terminal.id} up to ${foreignNumbering.lastMutationId}, but this database had numbered only up to ${foreignNumbering.nextMutationId - 1}: it is not the database the server last heard from (restored from a backup or snapshot, or another machine ran as ${w.terminal.id}); its ${foreignNumbering.queued} queued action(s) are numbered after ${foreignNumbering.lastMutationId} and sent as new`,
        { terminalId: w.terminal.id, serverLastMutationId: foreignNumbering.lastMutationId, localNextMutationId: foreignNumbering.nextMutationId, queued: foreignNumbering.queued },
      );
    }
    this.emit({ type: 'identity', identity: this.identity() });
    this.emit({ type: 'config', config: w.config });
    if (before && before.departments.join() !== now.departments.join() && w.sync === 'delta') {
      this.log('info', 'departments changed; resyncing');
      this.restartSync();
    }
  }

  /**
   * What is kept for diagnosis (outcomes, acknowledged conflicts) and read notifications go after
   * their time: at each welcome, and at most hourly while a connection stays up for days (a kiosk
   * on a steady network may not reconnect for weeks). Inside the caller's transaction.
   */
  private pruneKept(always = false): void {
    const now = this.o.clock.now();
    if (!always && Math.abs(now - this.prunedAt) < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.store.pruneOutcomes(now - OUTCOME_RETENTION_MS);
    this.store.pruneNotifications(this.serverNow() - READ_NOTIFICATIONS_KEPT_MS, now - READ_NOTIFICATIONS_KEPT_MS);
  }

  /** OFF-8: poll the network interfaces on the injected scheduler; a change means reconnect now. */
  private watchNetwork(): void {
    const signature = this.o.networkSignature ?? networkInterfaceSignature;
    this.netSignature = signature();
    const poll = () => {
      this.netTimer = this.o.scheduler.setTimeout(() => {
        const s = signature();
        if (s !== this.netSignature) {
          this.netSignature = s;
          this.log('info', 'network changed; reconnecting now');
          this.kick();
        }
        poll();
      }, NETWORK_POLL_MS);
    };
    poll();
  }

  // -------------------------------------------------------------------------------------------
  // State

  /** The server's time as this terminal estimates it (its clock + the offset seen at the last welcome). */
  private serverNow(): number {
    return this.o.clock.now() + this.store.meta<number>('serverOffsetMs', 0);
  }

  /** The site settings as last received; settings an older protocol did not carry take their defaults. */
  private config(): SiteConfig {
    return { ...DEFAULT_SITE_CONFIG, ...this.store.meta<Partial<SiteConfig>>('config', {}) };
  }

  private departments(): string[] {
    return this.store.meta<TerminalMeta | null>('terminal', null)?.departments ?? [];
  }

  private identity(): TerminalIdentity {
    const e = this.enrollment();
    const t = this.store.meta<TerminalMeta | null>('terminal', null);
    return {
      terminalId: e?.terminalId ?? null,
      name: t?.name ?? null,
      serverUrl: e?.serverUrl ?? null,
      departments: (t?.departments ?? []).map((id) => ({ id, name: this.store.department(id)?.name ?? id })),
    };
  }

  syncStatus(): SyncStatus {
    const s = this.sync;
    return {
      status: s?.status ?? 'offline',
      pending: this.store.outboxSize(),
      lastSyncAt: s?.lastSyncAt ?? this.store.meta<number | null>('lastSyncAt', null),
      lastError: s ? s.lastError : this.enrollment() ? null : 'this terminal is not enrolled yet',
      nextAttemptAt: s?.nextAttemptAt ?? null,
    };
  }

  private sessionInfo(): SessionInfo | null {
    const s = this.store.session();
    if (!s) return null;
    const u = this.store.user(s.userId);
    if (!u) return null;
    return {
      userId: u.id,
      displayName: u.displayName,
      roles: u.roles,
      departmentIds: u.departmentIds,
      signedInAt: s.signedInLocal,
      lookOnly: looksOnlyAtKiosk(u),
    };
  }

  /** The signed-in operator, or not_signed_in. Only operations (`activity`) reset the idle timer, never reads. */
  private requireSession(activity = false): SessionInfo {
    const s = this.sessionInfo();
    if (!s) throw new DomainError('not_signed_in', { problem: 'scan your badge first' });
    if (activity) this.activity();
    return s;
  }

  async getSnapshot(): Promise<TerminalSnapshot> {
    const session = this.sessionInfo();
    return {
      identity: this.identity(),
      sync: this.syncStatus(),
      session,
      openConflicts: session ? this.store.openConflicts(session.userId).length : 0,
      config: this.store.meta<SiteConfig | null>('config', null) ? this.config() : null,
      idleTimeoutSeconds: this.o.settings.idleTimeoutSeconds,
      locale: this.locale,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Session

  private armIdle(ms = this.o.settings.idleTimeoutSeconds * 1000): void {
    if (this.idleTimer !== null) this.o.scheduler.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.o.settings.idleTimeoutSeconds <= 0 || !this.store.session()) return;
    this.idleTimer = this.o.scheduler.setTimeout(() => {
      this.idleTimer = null;
      this.log('info', 'idle timeout; signing out');
      this.endSessionInBackground('idle timeout', undefined, true);
    }, ms);
  }

  /**
   * The operator did something: a full idle period from now (OFF-7), and the time kept with the
   * session (at most once a second: the screen touches every few seconds while in use), so that a
   * restart does not start a fresh idle period.
   */
  private activity(): void {
    this.armIdle();
    if (this.o.settings.idleTimeoutSeconds <= 0) return;
    const now = this.o.clock.now();
    if (Math.abs(now - this.activityStored) < 1000) return;
    try {
      this.store.touchSession(now);
      this.activityStored = now;
    } catch (err) {
      // Not kept (a full disk): the timer still runs; only a restart would count from earlier.
      this.log('warn', 'could not store the operator\'s last activity', { err: String(err) });
    }
  }

  async touch(): Promise<void> {
    if (this.store.session()) this.activity();
  }

  async signIn(input: SignInInput): Promise<SessionInfo> {
    const run = this.signingIn.then(
      () => this.signInNow(input),
      () => this.signInNow(input),
    );
    this.signingIn = run.catch(() => undefined);
    return run;
  }

  private async signInNow(input: SignInInput): Promise<SessionInfo> {
    const { badge, pin, method } = signInInputSchema.parse(input);
    this.checkClock();
    const salt = this.store.meta<string | null>('siteSalt', null);
    if (!salt) {
      throw new DomainError('unavailable', { problem: 'this terminal has not downloaded its operator list yet; connect it to the server once' });
    }
    const now = this.o.clock.now();
    const hash = badgeHash(salt, badge);
    // KIO-2: failed PINs are counted in the database, so a restart does not reset the count.
    const lock = this.store.pinFailures(hash);
    const lockedFor = this.lockLeftMs(hash, lock, now);
    if (lockedFor > 0) throw new DomainError('sign_in_locked', { retryAfterSeconds: Math.ceil(lockedFor / 1000) });
    let user = this.signInCandidate(hash);
    if (user.pinHash) {
      if (!pin) throw new DomainError('sign_in_failed', { reason: 'pin_required', userName: user.displayName });
      for (;;) {
        const checked: string = user.pinHash!;
        if (!(await this.verify(pin, checked))) {
          const failures = (lock?.failures ?? 0) + 1;
          const locked = failures >= MAX_PIN_FAILURES;
          this.store.setPinFailures(hash, { failures: locked ? 0 : failures, lockedUntil: locked ? now + PIN_LOCK_MS : null });
          if (locked) throw new DomainError('sign_in_locked', { retryAfterSeconds: PIN_LOCK_MS / 1000 });
          throw new DomainError('sign_in_failed', { reason: 'wrong_pin', attemptsLeft: MAX_PIN_FAILURES - failures, userName: user.displayName });
        }
        // A change page may have arrived while the PIN was checked: the directory as it is now
        // decides (deactivated, moved away, a new PIN), not what was read before.
        user = this.signInCandidate(hash);
        if (!user.pinHash || user.pinHash === checked) break;
      }
    }
    if (lock) this.store.setPinFailures(hash, null);
    const current = this.store.session();
    if (current?.userId !== user.id) {
      // PROTO-13: the PIN check took a while; a clock jump seen meanwhile moved the times kept, so
      // the session and its outbox entries take the clock as it is now.
      this.checkClock();
      const now = this.o.clock.now();
      const offline = this.isOffline();
      this.store.tx(() => {
        if (current) this.store.appendOutbox({ name: 'signOut', args: {}, operatorId: current.userId, taskId: null, createdLocal: now, offline });
        this.store.setSession({ userId: user.id, signedInLocal: now, activeLocal: now });
        this.store.appendOutbox({
          name: 'signIn',
          args: { method: pin ? 'badge_pin' : method },
          operatorId: user.id,
          taskId: null,
          createdLocal: now,
          offline,
        });
      });
      this.sync?.outboxChanged();
      this.emit({ type: 'sync', sync: this.syncStatus() });
    }
    this.activity();
    const session = this.sessionInfo()!;
    this.emit({ type: 'session', session });
    return session;
  }

  /** Who the badge names, if they may sign in at this terminal (before any PIN). */
  private signInCandidate(hash: string): DirectoryUser {
    const user = this.store.userByBadgeHash(hash);
    if (!user) throw new DomainError('sign_in_failed', { reason: 'unknown_badge' });
    if (!user.active) throw new DomainError('user_inactive', { userId: user.id });
    const departments = this.departments();
    if (!user.departmentIds.some((d) => departments.includes(d))) {
      throw new DomainError('not_in_department', {
        userId: user.id,
        departmentName: departments.map((d) => this.store.department(d)?.name ?? d).join(', '),
      });
    }
    // AUTH-4, KIO-1: a supervisor or admin needs a PIN here too, never the badge alone.
    if (badgeNeedsPin(user) && !user.pinHash) throw new DomainError('sign_in_failed', { reason: 'pin_not_set', userName: user.displayName });
    return user;
  }

  /** The terminal is not connected to the server (an action now waits offline). */
  private isOffline(): boolean {
    const status = this.sync?.status ?? 'offline';
    return status === 'offline' || status === 'connecting';
  }

  async signOut(): Promise<void> {
    return this.endSession();
  }

  /**
   * OFF-7: a sign-out nobody waits for (the idle timeout, a deactivated operator). One that cannot
   * be written (a full disk) is logged and tried again a little later: a rejection nobody handles
   * would end the terminal's process (Node's default), and at its next start the same sign-out
   * would fail again.
   */
  private endSessionInBackground(why: string, ended?: ErrorData, idle = false): void {
    if (this.signOutRetryTimer !== null) this.o.scheduler.clearTimeout(this.signOutRetryTimer);
    this.signOutRetryTimer = null;
    const session = this.store.session();
    this.endSession(ended).catch((err: unknown) => {
      this.log('error', `the operator could not be signed out (${why}); trying again in ${SIGN_OUT_RETRY_MS / 1000} s`, { err: String(err) });
      this.signOutRetryTimer = this.o.scheduler.setTimeout(() => {
        this.signOutRetryTimer = null;
        if (!this.store.db.open) return;
        // Only the session it was meant for: not the next operator's, who badged in meanwhile, and
        // not one the operator took up again before an idle sign-out went through (the idle timer
        // runs again then).
        const now = this.store.session();
        if (!session || !now || now.userId !== session.userId || now.signedInLocal !== session.signedInLocal) return;
        if (idle && this.idleTimer !== null) return;
        this.endSessionInBackground(why, ended, idle);
      }, SIGN_OUT_RETRY_MS);
    });
  }

  /** Sign out; `ended`: why, when it is not the operator's own doing (the screen says it). */
  private async endSession(ended?: ErrorData): Promise<void> {
    this.checkClock();
    const current = this.store.session();
    if (!current) return;
    this.store.tx(() => {
      this.store.setSession(null);
      this.store.appendOutbox({ name: 'signOut', args: {}, operatorId: current.userId, taskId: null, createdLocal: this.o.clock.now(), offline: this.isOffline() });
    });
    if (this.idleTimer !== null) this.o.scheduler.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.sync?.outboxChanged();
    this.emit({ type: 'session', session: null, ...(ended ? { ended } : {}) });
    this.emit({ type: 'sync', sync: this.syncStatus() });
  }

  // -------------------------------------------------------------------------------------------
  // Lists

  /**
   * LIST-1 for the signed-in operator, computed once per change of the cache (and per minute, as
   * cooldowns run out), with the counts the filter buttons show (but overdue: see `overdueAt`).
   */
  private claimableFor(userId: string, now: number): ClaimableCache {
    const key = `${userId}|${this.tasksGeneration}|${Math.floor(now / 60_000)}`;
    if (this.claimableCache?.key === key) return this.claimableCache;
    const user = directoryUserToUser(this.store.user(userId))!;
    const config = this.config();
    const worked = this.store.workedStepsByWorkOrder(user.id);
    const list: ClaimableCandidate[] = [];
    for (const c of this.store.claimableCandidates(user.departmentIds)) {
      const cooldownUntil = c.cooldowns ? (jsonColumn<Array<{ userId: string; until: number }>>(c.cooldowns, []).find((x) => x.userId === user.id)?.until ?? null) : null;
      const task = { status: 'pending' as const, operatorId: null, departmentId: c.departmentId, step: c.step };
      if (isClaimableBy(task, user, { cooldownUntil, workedSteps: worked.get(c.workOrderId) ?? [] }, now, config)) list.push(c);
    }
    const steps = new Map<string, number>();
    const dueTimes: number[] = [];
    let highPriority = 0;
    for (const t of list) {
      steps.set(t.step, (steps.get(t.step) ?? 0) + 1);
      if (t.dueAt !== null) dueTimes.push(t.dueAt);
      if (t.priority > 0) highPriority++;
    }
    dueTimes.sort((a, b) => a - b);
    const facets = {
      all: list.length,
      highPriority,
      steps: [...steps].map(([step, count]) => ({ step, count })).sort((a, b) => b.count - a.count || a.step.localeCompare(b.step)),
    };
    this.claimableCache = { key, list, facets, dueTimes, text: null };
    return this.claimableCache;
  }

  async listClaimable(input: PageInput): Promise<TaskPage> {
    const q = pageInputSchema.parse(input);
    const session = this.requireSession();
    // One moment for the rows' overdue marks, the overdue filter and its count: they agree.
    const now = this.serverNow();
    const cache = this.claimableFor(session.userId, now);
    const words = (q.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    // The searchable text is read only when someone searches, once per change of the cache.
    const text = words.length ? (cache.text ??= this.store.claimableText(this.store.user(session.userId)?.departmentIds ?? [])) : null;
    const workOrder = q.workOrder?.toLowerCase();
    const filtered =
      words.length || workOrder || q.step || q.highPriority || q.overdue
        ? cache.list.filter((t) => {
            if (workOrder && t.workOrderNumber.toLowerCase() !== workOrder) return false;
            if (q.step && t.step !== q.step) return false;
            if (q.highPriority && t.priority <= 0) return false;
            if (q.overdue && !(t.dueAt !== null && t.dueAt < now)) return false;
            if (text) {
              const s = text.get(t.id) ?? '';
              if (!words.every((w) => s.includes(w))) return false;
            }
            return true;
          })
        : cache.list;
    const pending = this.store.pendingTaskIds();
    const rows = this.store.tasksByIds(filtered.slice(q.offset, q.offset + q.limit).map((t) => t.id));
    return {
      items: rows.map((t) => toView(t, pending.has(t.id), now)),
      total: filtered.length,
      offset: q.offset,
      limit: q.limit,
      facets: { ...cache.facets, overdue: overdueAt(cache.dueTimes, now) },
    };
  }

  /** CAP-3: the operator's active tasks plant-wide against the limits of this terminal's departments. */
  private workload(userId: string): Workload {
    const user = directoryUserToUser(this.store.user(userId))!;
    const config = this.config();
    const departments = this.departments();
    const limits: Record<string, number> = {};
    for (const d of departments) {
      if (user.departmentIds.includes(d)) limits[d] = resolveTaskLimit(config, this.store.department(d), user);
    }
    const values = Object.values(limits);
    return {
      active: activeCountEverywhere(this.store, userId, departments),
      limits,
      limit: values.length ? Math.min(...values) : resolveTaskLimit(config, null, user),
    };
  }

  async listMine(): Promise<MyWork> {
    const session = this.requireSession();
    const pending = this.store.pendingTaskIds();
    const now = this.serverNow();
    if (session.lookOnly) {
      return { tasks: this.store.heldTasks(this.departments()).map((t) => toView(t, pending.has(t.id), now)), workload: null };
    }
    return { tasks: this.store.tasksOf(session.userId).map((t) => toView(t, pending.has(t.id), now)), workload: this.workload(session.userId) };
  }

  /**
   * KIO-3: a code scanned (or typed) at the work screen. One that does not look like a task code
   * (the site's pattern) is a badge; otherwise a task id, then a work-order number, of this
   * terminal's cache. A task says whether the operator may claim it, and if not, why (the rules'
   * own answer).
   */
  async findByCode(input: { code: string }): Promise<ScanResult> {
    const { code } = codeInputSchema.parse(input);
    const session = this.requireSession();
    const pattern = compilePattern(this.config().taskCodePattern);
    if (!pattern?.test(code)) {
      const salt = this.store.meta<string | null>('siteSalt', null);
      const badge = badgeSchema.safeParse(code);
      const self = salt !== null && badge.success && this.store.userByBadgeHash(badgeHash(salt, badge.data))?.id === session.userId;
      return { kind: 'badge', self };
    }
    const now = this.serverNow();
    const task = this.store.taskByCode(code);
    if (task) {
      const pending = this.store.outboxForTask(task.id).length > 0;
      const mine = task.operatorId === session.userId;
      const d = session.lookOnly || mine ? null : decideLocal(this.store, { name: 'claim', taskId: task.id }, session.userId, now, this.config(), this.departments());
      return {
        kind: 'task',
        task: toView(task, pending, now),
        mine,
        claimable: d?.ok === true && d.value.effects.length > 0,
        reason: d && !d.ok ? d.error.toData(this.locale) : null,
      };
    }
    const tasks = this.store.tasksOfWorkOrder(code);
    if (tasks.length) {
      const claimable = this.claimableFor(session.userId, now).list.filter((t) => t.workOrderId === tasks[0]!.workOrderId).length;
      return { kind: 'workOrder', workOrderNumber: tasks[0]!.workOrderNumber, claimable, tasks: tasks.length };
    }
    return { kind: 'unknown', code };
  }

  // -------------------------------------------------------------------------------------------
  // Task operations

  private perform(op: TerminalOperation): OperationAck {
    this.checkClock();
    const session = this.requireSession(true);
    const now = this.serverNow();
    const offline = this.isOffline();
    const outcome = this.store.tx(() => {
      const decision = decideLocal(this.store, op, session.userId, now, this.config(), this.departments());
      if (!decision.ok) return decision;
      if (decision.value.effects.length === 0) return { ok: true as const, written: null };
      const written = applyLocal(this.store, this.store.task(op.taskId)!, decision.value.effects, now);
      this.store.appendOutbox({
        name: op.name,
        args: op.name === 'reject' ? { taskId: op.taskId, reason: op.reason } : { taskId: op.taskId },
        operatorId: session.userId,
        taskId: op.taskId,
        createdLocal: this.o.clock.now(),
        offline,
      });
      return { ok: true as const, written };
    });
    if (!outcome.ok) throw outcome.error;
    if (outcome.written) {
      this.sync?.outboxChanged();
      this.emit({ type: 'tasks' });
      this.emit({ type: 'sync', sync: this.syncStatus() });
      return { result: 'queued', task: toView(outcome.written, true, now) };
    }
    const task = this.store.task(op.taskId);
    return { result: 'unchanged', task: task ? toView(task, this.store.outboxForTask(task.id).length > 0, now) : null };
  }

  async claim(input: TaskInput): Promise<OperationAck> {
    return this.perform({ name: 'claim', taskId: input.taskId });
  }
  async accept(input: TaskInput): Promise<OperationAck> {
    return this.perform({ name: 'accept', taskId: input.taskId });
  }
  async start(input: TaskInput): Promise<OperationAck> {
    return this.perform({ name: 'start', taskId: input.taskId });
  }
  async complete(input: TaskInput): Promise<OperationAck> {
    return this.perform({ name: 'complete', taskId: input.taskId });
  }
  async release(input: TaskInput): Promise<OperationAck> {
    return this.perform({ name: 'release', taskId: input.taskId });
  }
  async reject(input: RejectInput): Promise<OperationAck> {
    return this.perform({ name: 'reject', taskId: input.taskId, reason: input.reason });
  }

  // -------------------------------------------------------------------------------------------
  // Conflicts

  private conflictView(c: ConflictRecord): ConflictView {
    const error = c.error as ErrorData;
    const owner = error?.details?.currentOwner as { id: string; name: string } | undefined;
    return {
      id: c.id,
      mutationId: c.mutationId,
      operation: c.operation,
      taskId: c.taskId,
      taskLabel: c.taskLabel,
      operatorId: c.operatorId,
      error,
      currentOwner: owner ?? null,
      createdAt: c.createdLocal,
      offline: c.offline,
    };
  }

  async listConflicts(): Promise<ConflictView[]> {
    const session = this.requireSession();
    return this.store.openConflicts(session.userId).map((c) => this.conflictView(c));
  }

  async acknowledgeConflict(input: { id: number }): Promise<void> {
    const session = this.requireSession(true);
    const c = this.store.conflict(input.id);
    if (!c) throw new DomainError('not_found', { problem: `no conflict record ${input.id}` });
    if (c.operatorId !== session.userId) throw new DomainError('permission_denied', { problem: 'this conflict belongs to another operator' });
    this.store.acknowledgeConflict(input.id, this.o.clock.now());
  }

  // -------------------------------------------------------------------------------------------
  // Notifications (NTF-1, NTF-2)

  async listNotifications(): Promise<NotificationView[]> {
    const session = this.requireSession();
    return this.store.notificationsOf(session.userId, NOTIFICATIONS_SHOWN).map(notificationView);
  }

  async markNotificationsRead(input: { ids?: number[] }): Promise<void> {
    const { ids } = readNotificationsInputSchema.parse(input);
    this.checkClock();
    const session = this.requireSession(true);
    const now = this.o.clock.now();
    const offline = this.isOffline();
    const marked = this.store.tx(() => {
      const unread = this.store.markNotificationsRead(session.userId, ids ?? null, now);
      for (let i = 0; i < unread.length; i += MAX_NOTIFICATION_IDS) {
        this.store.appendOutbox({
          name: 'readNotifications',
          args: { ids: unread.slice(i, i + MAX_NOTIFICATION_IDS) },
          operatorId: session.userId,
          taskId: null,
          createdLocal: now,
          offline,
        });
      }
      return unread.length;
    });
    if (marked === 0) return;
    this.sync?.outboxChanged();
    this.emit({ type: 'notifications', fresh: [] });
    this.emit({ type: 'sync', sync: this.syncStatus() });
  }

  // -------------------------------------------------------------------------------------------
  // Enrollment and settings

  /**
   * Enroll this terminal: first enrollment as given; re-enrolling a terminal its server has
   * accepted (SEC-30) needs an administrator's user id and password, checked by that server, or
   * the maintenance secret. Every enrollment and every refused re-enrollment is audited here.
   */
  async enroll(input: EnrollInput): Promise<TerminalIdentity> {
    const run = this.enrolling.then(
      () => this.enrollNow(input),
      () => this.enrollNow(input),
    );
    this.enrolling = run.catch(() => undefined);
    return run;
  }

  private async enrollNow(input: EnrollInput): Promise<TerminalIdentity> {
    const { adminUserId, adminPassword, maintenanceSecret, ...rest } = enrollInputSchema.parse(input);
    const target: Enrollment = { serverUrl: rest.serverUrl, terminalId: rest.terminalId, token: rest.token };
    const current = this.enrollment();
    const accepted = current !== null && this.acceptedUnder(current);
    if (accepted && sameEnrollment(current, target)) return this.identity();
    const checkOutbox = () => {
      if (current && current.terminalId !== target.terminalId && this.store.outboxSize() > 0) {
        throw new DomainError('invalid_input', {
          field: 'terminalId',
          problem: `this terminal still has ${this.store.outboxSize()} unsent actions as ${current.terminalId}; reconnect it to its server first`,
        });
      }
    };
    checkOutbox();
    const audit = { fromServerUrl: current?.serverUrl ?? null, fromTerminalId: current?.terminalId ?? null, toServerUrl: target.serverUrl, toTerminalId: target.terminalId };
    let method: EnrollmentAuditRecord['method'] = 'first';
    let admin: string | null = null;
    if (accepted) {
      method = adminUserId !== undefined ? 'admin' : maintenanceSecret !== undefined ? 'maintenance_secret' : 'none';
      try {
        if (adminUserId !== undefined && adminPassword !== undefined) {
          admin = await checkAdminWithServer({
            current,
            target,
            userId: adminUserId,
            password: adminPassword,
            locale: this.locale,
            fetch: this.o.fetch ?? (globalThis.fetch as unknown as FetchLike),
            log: this.o.log,
          });
        } else if (maintenanceSecret !== undefined) {
          await this.checkMaintenanceSecret(maintenanceSecret);
        } else {
          throw new DomainError('permission_denied', {
            reason: 'reenroll_needs_admin',
            serverUrl: current.serverUrl,
            problem: `this terminal is already enrolled with ${current.serverUrl}; re-enrolling needs an administrator's user id and password (or the maintenance secret)`,
          });
        }
      } catch (err) {
        const code = err instanceof DomainError ? err.code : 'internal_error';
        this.store.recordEnrollment({ at: this.o.clock.now(), outcome: 'refused', method, adminUserId: adminUserId ?? null, ...audit, problem: code });
        this.log('warn', 're-enrollment refused', { method, adminUserId: adminUserId ?? null, ...audit, code });
        throw err;
      }
      // Operators may have queued actions while the server checked the administrator.
      checkOutbox();
    }
    this.store.tx(() => {
      // Another server's task versions are not this one's: the cached rows give way to its
      // snapshot (whether the terminal id changes too or not).
      if (current && current.serverUrl !== target.serverUrl) this.store.discountTaskVersions();
      if (current && current.terminalId !== target.terminalId) {
        // Another identity: its cursor and mutation numbering mean nothing here.
        this.store.setMeta('cursor', null);
        this.store.setMeta('terminal', null);
      } else if (current && current.serverUrl !== target.serverUrl) {
        // Another server, as for another id: the old one's change cursor means nothing there (the
        // terminal starts from a snapshot), and the ids it processed are not the ones the new one
        // processed, so queued actions are numbered after the new server's lastMutationId at its
        // first welcome. (Were it the same server at a new address, an action it processed while
        // its answer was lost is then sent again: a claim or start is answered as done already, a
        // release or reject is refused and shows as a conflict; nothing is taken silently.)
        this.store.setMeta('cursor', null);
        this.store.setMeta('renumberAtWelcome', true);
      }
      this.store.setMeta('enrollment', target);
      this.store.recordEnrollment({ at: this.o.clock.now(), outcome: 'applied', method, adminUserId: admin, ...audit, problem: null });
    });
    this.log(accepted ? 'warn' : 'info', accepted ? 'terminal re-enrolled' : 'terminal enrolled', { method, adminUserId: admin, ...audit });
    if (accepted && this.o.settings.serverUrl && !sameEnrollment(current, target)) {
      this.log('warn', 'this terminal was enrolled by its settings (terminal.json or SHOPFLOOR_*); they apply again at the next start unless changed there too');
    }
    this.o.settings.serverUrl = null;
    this.o.settings.terminalId = null;
    this.o.settings.token = null;
    this.restartSync();
    const identity = this.identity();
    this.emit({ type: 'identity', identity });
    return identity;
  }

  /**
   * SEC-30: the server of this enrollment has accepted the terminal under it (welcomed it), so
   * the terminal is in service there and changing the enrollment needs authority. A database
   * from before SEC-30 has no record of which server: the terminal id it was welcomed under counts.
   */
  private acceptedUnder(e: Enrollment): boolean {
    const t = this.store.meta<TerminalMeta | null>('terminal', null);
    if (!t || t.id !== e.terminalId) return false;
    const by = this.store.meta<AcceptedBy | null>('acceptedBy', null);
    return by === null || (by.serverUrl === e.serverUrl && by.terminalId === e.terminalId);
  }

  /**
   * KIO-2: how long a lock has left, never more than a lock lasts: a clock set back while the
   * terminal was off (so no jump was seen, PROTO-13) would otherwise lock a badge for the hours it
   * went back. Such a lock is cut to a full lock from now, in the database too.
   */
  private lockLeftMs(key: string, lock: { failures: number; lockedUntil: number | null } | null, now: number): number {
    if (!lock?.lockedUntil) return 0;
    if (lock.lockedUntil - now > PIN_LOCK_MS) {
      this.store.setPinFailures(key, { failures: lock.failures, lockedUntil: now + PIN_LOCK_MS });
      return PIN_LOCK_MS;
    }
    return lock.lockedUntil - now;
  }

  /** SEC-30: the maintenance secret, against its hash in the settings; wrong ones count towards a lock, like PINs. */
  private async checkMaintenanceSecret(secret: string): Promise<void> {
    const hash = this.o.settings.maintenanceSecretHash;
    if (!hash) {
      throw new DomainError('permission_denied', {
        reason: 'reenroll_no_maintenance_secret',
        problem: 'no maintenance secret is set on this terminal (maintenanceSecretHash)',
      });
    }
    const now = this.o.clock.now();
    const lock = this.store.pinFailures(MAINTENANCE_SECRET_KEY);
    const lockedFor = this.lockLeftMs(MAINTENANCE_SECRET_KEY, lock, now);
    if (lockedFor > 0) throw new DomainError('sign_in_locked', { retryAfterSeconds: Math.ceil(lockedFor / 1000) });
    if (!(await this.verify(secret, hash))) {
      const failures = (lock?.failures ?? 0) + 1;
      const locked = failures >= MAX_PIN_FAILURES;
      this.store.setPinFailures(MAINTENANCE_SECRET_KEY, { failures: locked ? 0 : failures, lockedUntil: locked ? now + PIN_LOCK_MS : null });
      if (locked) throw new DomainError('sign_in_locked', { retryAfterSeconds: PIN_LOCK_MS / 1000 });
      throw new DomainError('permission_denied', { reason: 'reenroll_wrong_maintenance_secret', attemptsLeft: MAX_PIN_FAILURES - failures });
    }
    if (lock) this.store.setPinFailures(MAINTENANCE_SECRET_KEY, null);
  }

  /** SEC-30: this terminal's enrollments and refused re-enrollments, newest first. */
  enrollmentAudit(limit = 100): EnrollmentAuditRecord[] {
    return this.store.enrollmentAudit(limit);
  }

  async setLocale(input: { locale: Locale }): Promise<void> {
    this.locale = input.locale;
    this.store.setMeta('locale', input.locale);
  }
}

/** Which server accepted this terminal, under which id (SEC-30). */
interface AcceptedBy {
  serverUrl: string;
  terminalId: string;
}

/** The machine's non-internal interface addresses, sorted: it changes when the network does. */
function networkInterfaceSignature(): string {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal)
    .map((a) => a!.address)
    .sort()
    .join(',');
}

function sameEnrollment(a: Enrollment, b: Enrollment): boolean {
  return a.serverUrl === b.serverUrl && a.terminalId === b.terminalId && a.token === b.token;
}

/** LIST-1 for one operator at one state of the cache, with the filter counts (and, once searched, the search text). */
interface ClaimableCache {
  key: string;
  list: ClaimableCandidate[];
  /** All but the overdue count, which is counted at each listing (`overdueAt`). */
  facets: Omit<TaskPage['facets'], 'overdue'>;
  /** The due times of the list's tasks that have one, ascending. */
  dueTimes: number[];
  text: Map<string, string> | null;
}

/** How many of these due times (ascending) are before `now`: the overdue count at that moment. */
function overdueAt(dueTimes: readonly number[], now: number): number {
  let lo = 0;
  let hi = dueTimes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (dueTimes[mid]! < now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toView(t: SyncTask, pending: boolean, now: number): TaskView {
  const { cooldowns: _cooldowns, workedBy: _workedBy, ...task } = t;
  return { ...task, pending, overdue: t.dueAt !== null && t.dueAt < now && (t.status === 'pending' || t.status === 'in_progress') };
}

function notificationView(n: StoredNotification): NotificationView {
  const { readLocal, ...rest } = n;
  return { ...rest, read: rest.readAt !== null || readLocal !== null };
}
