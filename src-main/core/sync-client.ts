/**
 * The terminal side of protocol v1 (docs/PROTOCOL.md): connect, handshake, send the outbox in
 * order, hand outcomes and change pages to the terminal core, acknowledge pages, detect a dead
 * link with heartbeats, and reconnect with exponential backoff and jitter. The transport, clock,
 * timers and randomness are injected, so the same client runs over real WebSockets and over the
 * simulated network of the sync simulation.
 */
import type { Clock } from '../../src-shared/clock.js';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  MAX_MUTATIONS_PER_PUSH,
  PROTOCOL_VERSION,
  serverFrameSchema,
  type ChangesFrame,
  type MutationEnvelope,
  type MutationOutcome,
  type ServerFrame,
  type Welcome,
} from '../../src-shared/protocol/terminal.js';
import type { ConnectionStatus } from '../../src-shared/terminal-api.js';
import { waitedOffline } from './reconcile.js';

type PushMutation = Omit<MutationEnvelope, 'args'> & { args: Record<string, unknown> };
/** A push's own bytes around its mutations (`{"type":"push","mutations":[…]}`), rounded up. */
const PUSH_ENVELOPE_BYTES = 64;
/** What one push may weigh: the server's frame limit, with room to spare. */
const PUSH_MAX_BYTES = Math.floor(MAX_FRAME_BYTES * 0.9);
import type { OutboxEntry } from './store.js';

export interface Link {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface LinkEvents {
  message(text: string): void;
  close(code: number, reason: string): void;
}

/** Open a connection to the server; rejects if it cannot be opened. */
export type Dialer = (events: LinkEvents) => Promise<Link>;

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SyncHandlers {
  cursor(): number | null;
  lastAckedMutationId(): number;
  /** Mutations in the outbox waiting for an outcome (reported to the server, protocol v2). */
  outboxDepth(): number;
  /** Outbox entries with an id above `afterId`, oldest first. */
  pendingAfter(afterId: number, limit: number): OutboxEntry[];
  onWelcome(welcome: Welcome): void;
  /** Store outcomes (synchronously, durably) before returning. */
  onOutcomes(outcomes: Array<Extract<MutationOutcome, { status: 'applied' | 'rejected' }>>): void;
  /** Apply a change page (synchronously, durably) before returning. */
  onChanges(page: ChangesFrame): void;
  onStatus(): void;
  /**
   * PROTO-13: called before a hello and before each push, so that a jump of the terminal's clock
   * is taken into account (clockJumped) before a time of it goes to the server.
   */
  checkClock?(): void;
  log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

export interface SyncClientOptions {
  terminalId: string;
  token: string;
  appVersion: string;
  dial: Dialer;
  clock: Clock;
  scheduler: Scheduler;
  /** In [0, 1); injected so simulations are deterministic. */
  random: () => number;
  pingIntervalMs?: number;
  /** No frame for this long after a ping means the link is dead. */
  pongTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  handshakeTimeoutMs?: number;
  /**
   * OFF-8: a connection that stayed up this long after its welcome was a good one: the next
   * reconnect starts again from the shortest backoff. A welcome alone does not reset it (a server
   * that welcomes and then closes, e.g. another kiosk running as this id, would be redialled at
   * the shortest wait forever).
   */
  stableAfterMs?: number;
}

/** OFF-8: the least backoff step after a close 4409 (another connection of this id took over): 2^4 × the initial wait. */
const REPLACED_MIN_ATTEMPT = 4;

export class SyncClient {
  status: ConnectionStatus = 'offline';
  lastError: string | null = null;
  lastSyncAt: number | null = null;
  /** When the current connection was welcomed (terminal clock); null while not connected. */
  welcomedAt: number | null = null;
  nextAttemptAt: number | null = null;

  private link: Link | null = null;
  private generation = 0;
  private attempt = 0;
  /**
   * Frames in a row whose effect could not be stored (a full disk), or results and changes frames
   * that could not be parsed: each such reconnect backs off as a failed connection does, until a
   * frame is stored.
   */
  private storeFailures = 0;
  private stopped = true;
  private welcomed = false;
  /** Highest outbox id sent on this connection (or known processed by the server). */
  private sentUpTo = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private deadTimer: unknown = null;
  private retryTimer: unknown = null;
  private resendFrom: number | null = null;
  private readonly o: Required<SyncClientOptions>;

  constructor(
    options: SyncClientOptions,
    private readonly h: SyncHandlers,
  ) {
    this.o = {
      pingIntervalMs: 3000,
      pongTimeoutMs: 6000,
      backoffInitialMs: 250,
      backoffMaxMs: 15_000,
      handshakeTimeoutMs: 10_000,
      stableAfterMs: 30_000,
      ...options,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.generation++;
    const link = this.link;
    this.link = null;
    link?.close(1000, 'terminal stopping');
    this.setStatus('offline');
  }

  /** The network came back (or an operator asked): try now instead of waiting out the backoff. */
  kick(): void {
    if (this.stopped || this.link) return;
    if (this.reconnectTimer !== null) this.o.scheduler.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempt = 0;
    void this.connect();
  }

  /**
   * PROTO-13, CLM-13: the terminal's clock jumped by `ms`. The times kept in its clock move with
   * it, and a connection is dropped and made again at once, so the server measures the clock's
   * offset anew: with the one measured before the jump, a claim made now would be judged `ms` older
   * (or younger) than it is.
   */
  clockJumped(ms: number): void {
    if (this.welcomedAt !== null) this.welcomedAt += ms;
    if (this.lastSyncAt !== null) this.lastSyncAt += ms;
    if (this.nextAttemptAt !== null) this.nextAttemptAt += ms;
    if (!this.link) return;
    this.h.log('warn', 'reconnecting so that the server measures the clock offset again');
    this.dropLink('the terminal clock jumped');
    // Not a failure of the server or of this terminal: try again at once.
    if (this.reconnectTimer !== null) this.o.scheduler.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempt = 0;
    void this.connect();
  }

  /** New outbox entries were committed: send them if connected. */
  outboxChanged(): void {
    if (this.welcomed) this.sendPending();
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.h.onStatus();
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.pingTimer, this.deadTimer, this.retryTimer]) if (t !== null) this.o.scheduler.clearTimeout(t);
    this.reconnectTimer = this.pingTimer = this.deadTimer = this.retryTimer = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.link) return;
    const gen = ++this.generation;
    this.nextAttemptAt = null;
    this.setStatus('connecting');
    let link: Link;
    try {
      link = await this.o.dial({
        message: (text) => {
          if (gen === this.generation) this.onMessage(text);
        },
        close: (code, reason) => {
          if (gen === this.generation) this.onClose(code, reason);
        },
      });
    } catch (err) {
      if (gen !== this.generation) return;
      this.lastError = `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`;
      this.scheduleReconnect();
      return;
    }
    // PROTO-13: a jump of the clock while the connection was being made is taken into account
    // before the hello, whose time the server measures the offset by.
    if (gen === this.generation && !this.stopped) this.h.checkClock?.();
    if (gen !== this.generation || this.stopped) {
      link.close(1000, 'superseded');
      return;
    }
    this.link = link;
    this.welcomed = false;
    this.welcomedAt = null;
    this.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      terminalId: this.o.terminalId,
      token: this.o.token,
      cursor: this.h.cursor(),
      lastAckedMutationId: this.h.lastAckedMutationId(),
      clientTime: this.o.clock.now(),
      appVersion: this.o.appVersion,
      outbox: this.h.outboxDepth(),
    });
    this.armDeadTimer(this.o.handshakeTimeoutMs);
  }

  private send(frame: unknown): void {
    try {
      this.link?.send(JSON.stringify(frame));
    } catch (err) {
      this.h.log('warn', 'send failed; dropping the connection', { err: String(err) });
      this.dropLink('send failed');
    }
  }

  private dropLink(reason: string): void {
    const link = this.link;
    if (!link) return;
    this.generation++;
    this.link = null;
    link.close(4000, reason);
    this.onClose(4000, reason, true);
  }

  private armDeadTimer(ms: number): void {
    if (this.deadTimer !== null) this.o.scheduler.clearTimeout(this.deadTimer);
    this.deadTimer = this.o.scheduler.setTimeout(() => {
      this.deadTimer = null;
      this.h.log('warn', 'no answer from the server; the link is dead');
      this.lastError = 'the server stopped answering';
      this.dropLink('heartbeat timeout');
    }, ms);
  }

  private schedulePing(): void {
    if (this.pingTimer !== null) this.o.scheduler.clearTimeout(this.pingTimer);
    this.pingTimer = this.o.scheduler.setTimeout(() => {
      this.pingTimer = null;
      if (!this.link) return;
      this.send({ type: 'ping', t: this.o.clock.now(), outbox: this.h.outboxDepth() });
      if (this.deadTimer === null) this.armDeadTimer(this.o.pongTimeoutMs);
      this.schedulePing();
    }, this.o.pingIntervalMs);
  }

  private onClose(code: number, reason: string, alreadyDropped = false): void {
    if (!alreadyDropped) this.generation++;
    // OFF-8: only a connection that stayed up a while resets the backoff; one closed soon after its
    // welcome keeps the waits growing.
    if (this.welcomedAt !== null && this.storeFailures === 0 && this.o.clock.now() - this.welcomedAt >= this.o.stableAfterMs) this.attempt = 0;
    this.link = null;
    this.welcomed = false;
    this.welcomedAt = null;
    for (const t of [this.pingTimer, this.deadTimer, this.retryTimer]) if (t !== null) this.o.scheduler.clearTimeout(t);
    this.pingTimer = this.deadTimer = this.retryTimer = null;
    this.resendFrom = null;
    // Refused credentials or protocol: retrying at once cannot help, so wait the longest backoff.
    if (code === CLOSE_CODES.unauthorized || code === CLOSE_CODES.incompatible) this.attempt = Math.max(this.attempt, 6);
    // PROTO-10: another connection under this terminal id took over. Two machines running as one
    // id (a cloned kiosk, a spare left on) would otherwise replace each other several times a second.
    if (code === CLOSE_CODES.replaced) {
      this.attempt = Math.max(this.attempt, REPLACED_MIN_ATTEMPT);
      this.h.log('warn', `another connection uses terminal id ${this.o.terminalId} and replaced this one (close 4409): is a second machine (a cloned or spare kiosk) running as ${this.o.terminalId}?`, {
        terminalId: this.o.terminalId,
        code,
      });
      if (!this.lastError) this.lastError = `another connection uses terminal id ${this.o.terminalId}`;
    }
    // The server changed this terminal's departments and asked it to reconnect at once.
    if (code === CLOSE_CODES.reconfigured) this.attempt = 0;
    if (!this.lastError) this.lastError = reason ? `connection closed: ${reason}` : `connection closed (${code})`;
    if (this.stopped) {
      this.setStatus('offline');
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setStatus('offline');
    const ceiling = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + this.o.random() * (ceiling / 2));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.nextAttemptAt = this.o.clock.now() + delay;
    this.h.onStatus();
    this.reconnectTimer = this.o.scheduler.setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private onMessage(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.h.log('warn', 'server sent a frame that is not JSON; ignored');
      return;
    }
    const parsed = serverFrameSchema.safeParse(value);
    if (!parsed.success) {
      const type = value !== null && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
      const issue = parsed.error.issues[0];
      const field = issue && issue.path.length ? issue.path.join('.') : '(frame)';
      const problem = issue?.message ?? 'does not match the protocol';
      if (type === 'results' || type === 'changes') {
        // OFF-8: outcomes or a change page cannot be skipped: ignored, the outbox would wait for
        // those outcomes forever, or the server for this page's ack. Drop the link and back off as
        // after a frame that could not be stored; the next connection gets them again, and a
        // terminal older than its server keeps retrying (and saying why) instead of sticking.
        this.h.log('error', `the server sent a ${type} frame this terminal cannot parse (${field}: ${problem}); dropping the link to retry later`, { type, field, problem });
        this.lastError = `the server sent a ${type} frame this terminal does not understand (${field}: ${problem}); is the server newer than this terminal?`;
        this.storeFailures++;
        this.attempt = Math.max(this.attempt, this.storeFailures);
        this.dropLink(`a ${type} frame could not be parsed`);
        return;
      }
      this.h.log('warn', 'server sent a frame this terminal does not understand; ignored', { type: typeof type === 'string' ? type : null, field, problem });
      return;
    }
    // Any frame proves the link is alive.
    if (this.welcomed && this.deadTimer !== null) {
      this.o.scheduler.clearTimeout(this.deadTimer);
      this.deadTimer = null;
    }
    try {
      this.onFrame(parsed.data);
    } catch (err) {
      // OFF-2: a frame whose effect could not be stored (a full disk, an I/O error): its
      // transaction kept nothing, and the link is dropped rather than left half-handled. Outcomes
      // are answered again after the next hello (from the last one stored), a welcome is taken again,
      // and what waits in the outbox is sent then; an error must not escape into the socket's handler.
      this.h.log('error', `a ${parsed.data.type} frame could not be handled; reconnecting`, { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      this.lastError = 'this terminal could not store what the server sent';
      this.storeFailures++;
      this.attempt = Math.max(this.attempt, this.storeFailures);
      this.dropLink(`a ${parsed.data.type} frame could not be stored`);
      return;
    }
    if (this.storeFailures > 0 && (parsed.data.type === 'results' || parsed.data.type === 'changes')) {
      this.storeFailures = 0;
      this.attempt = 0;
    }
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome': {
        if (this.deadTimer !== null) this.o.scheduler.clearTimeout(this.deadTimer);
        this.deadTimer = null;
        this.welcomed = true;
        this.welcomedAt = this.o.clock.now();
        // OFF-8: the backoff is not reset here but once the connection has stayed up (onClose).
        this.lastError = null;
        this.h.onWelcome(frame);
        this.sentUpTo = Math.max(frame.lastMutationId, this.h.lastAckedMutationId());
        this.lastSyncAt = this.o.clock.now();
        this.setStatus('syncing');
        this.sendPending();
        this.schedulePing();
        return;
      }
      case 'incompatible':
        this.lastError = frame.message;
        this.attempt = Math.max(this.attempt, 8);
        this.h.log('error', 'protocol mismatch with the server', { reason: frame.reason });
        return;
      case 'error':
        if (frame.fatal) {
          this.lastError = String(frame.error.details.problem ?? frame.error.message);
          this.h.log('error', 'server refused this terminal', { code: frame.error.code, problem: this.lastError });
        } else {
          this.h.log('warn', 'server refused a frame', { code: frame.error.code, details: frame.error.details });
        }
        return;
      case 'results': {
        const final = frame.outcomes.filter((o): o is Extract<MutationOutcome, { status: 'applied' | 'rejected' }> => o.status !== 'retry');
        if (final.length) this.h.onOutcomes(final);
        const retries = frame.outcomes.filter((o) => o.status === 'retry');
        if (retries.length) {
          const from = Math.min(...retries.map((r) => r.id));
          const wait = Math.max(...retries.map((r) => (r.status === 'retry' ? r.retryAfterMs : 0)));
          this.scheduleResend(from, wait);
        }
        this.lastSyncAt = this.o.clock.now();
        this.h.onStatus();
        return;
      }
      case 'changes': {
        // SYNC-1 SYNC-3 PROTO-12 (issue 12): a page with more to come (a snapshot page before the last, or a
        // catch-up page) is acknowledged as it arrives: the ack only asks for the next page (the
        // server keeps no cursor of ours; ours is stored with each page's data), which then travels
        // while this one is stored. Before, a 50,000-task snapshot waited 1.3 s in all for the
        // server between pages. The last page (`more: false`) is acknowledged once it is stored.
        const early = frame.more;
        if (early) this.send({ type: 'ack', cursor: 0 });
        // A page that cannot be stored throws (onMessage drops the link): nothing of it is kept (one
        // transaction), and its cursor is not stored, so the next connection starts from the cursor
        // this terminal has, and a snapshot starts again.
        this.h.onChanges(frame);
        if (!early) this.send({ type: 'ack', cursor: frame.cursor ?? 0 });
        this.lastSyncAt = this.o.clock.now();
        if (!frame.more) this.setStatus('online');
        else this.setStatus('syncing');
        this.h.onStatus();
        return;
      }
      case 'pong':
        this.lastSyncAt = this.o.clock.now();
        if (this.status === 'syncing' && this.welcomed) this.h.onStatus();
        return;
    }
  }

  private scheduleResend(fromId: number, waitMs: number): void {
    this.resendFrom = Math.min(this.resendFrom ?? fromId, fromId);
    if (this.retryTimer !== null) return;
    const delay = Math.round(waitMs * (1 + this.o.random() * 0.5));
    this.retryTimer = this.o.scheduler.setTimeout(() => {
      this.retryTimer = null;
      if (this.resendFrom === null || !this.welcomed) return;
      this.sentUpTo = Math.min(this.sentUpTo, this.resendFrom - 1);
      this.resendFrom = null;
      this.sendPending();
    }, delay);
  }

  private sendPending(): void {
    if (!this.link || !this.welcomed) return;
    this.h.checkClock?.();
    if (!this.link || !this.welcomed) return;
    for (;;) {
      const batch = this.h.pendingAfter(this.sentUpTo, MAX_MUTATIONS_PER_PUSH);
      if (batch.length === 0) return;
      // PROTO-4: a push also stays under the server's frame limit, whatever its mutations hold (500
      // of them can pass it: a server refuses such a push whole, answering retry, again and again).
      const mutations: PushMutation[] = [];
      let bytes = PUSH_ENVELOPE_BYTES;
      for (const e of batch) {
        const m: PushMutation = {
          id: e.id,
          name: e.name,
          args: e.args,
          operatorId: e.operatorId,
          clientTime: e.createdLocal,
          // KIO-5, NTF-1: it waited offline (made offline, or before this connection began).
          ...(waitedOffline(e, this.welcomedAt) ? { offline: true } : {}),
        };
        const size = Buffer.byteLength(JSON.stringify(m)) + 1;
        if (mutations.length > 0 && bytes + size > PUSH_MAX_BYTES) break;
        mutations.push(m);
        bytes += size;
      }
      this.send({ type: 'push', mutations });
      this.sentUpTo = mutations[mutations.length - 1]!.id;
      if (!this.link) return;
    }
  }
}
