/**
 * The overview's side of the supervisor subscription (docs/PROTOCOL.md, SUP-1): open the
 * WebSocket, say hello with the last cursor, hand every validated page to the board and
 * acknowledge it, ping to notice a dead link, and reconnect with backoff. It reports its state as
 * live / reconnecting / stale (since when), and why it stopped when the server ends the session.
 */
import { fromErrorData, type DomainError } from '../../../src-shared/domain/errors.js';
import {
  SUPERVISOR_CLOSE_CODES,
  SUPERVISOR_PATH,
  SUPERVISOR_PROTOCOL,
  SUPERVISOR_PROTOCOL_VERSION,
  decodeChanges,
  supervisorServerFrameSchema,
  type SupervisorChanges,
  type SupervisorWelcome,
} from '../../../src-shared/protocol/supervisor.js';

export type FeedState =
  /** Opening the link, before the first caught-up page. */
  | { kind: 'connecting' }
  /** Caught up and receiving changes as they happen. */
  | { kind: 'live' }
  /** The link dropped; trying again. The data shown is as of `since`. */
  | { kind: 'reconnecting'; since: number; attempt: number }
  /** Stopped: signed out, or the server refused this page. */
  | { kind: 'stopped' };

export interface FeedHandlers {
  welcome(w: SupervisorWelcome): void;
  /** Apply a page; return the cursor to remember (the frame's). */
  changes(page: SupervisorChanges): void;
  state(s: FeedState): void;
  /** The server ended the session (4401), refused the user (4403) or the page is outdated (4426). */
  ended(reason: 'session' | 'forbidden' | 'incompatible', error: DomainError | null): void;
}

/** The minimal WebSocket the feed needs (the browser's, or a test's). */
export interface FeedSocket {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

export interface FeedOptions {
  url: string;
  open(url: string): FeedSocket;
  now(): number;
  /** Injected so tests can drive time. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random?: () => number;
  pingMs?: number;
  /** No frame for this long after a ping: the link is dead. */
  deadMs?: number;
  backoffMaxMs?: number;
}

/** A User Timing mark (the benchmark reads them; a no-op where there is no `performance`). */
function mark(name: string): void {
  globalThis.performance?.mark?.(name);
}

/** ws(s)://host/supervise for a page served from `location`. */
export function feedUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SUPERVISOR_PATH}`;
}

/** Who a view is for and what it covers, as a welcome says. */
function scopeKey(w: SupervisorWelcome): string {
  return JSON.stringify([w.user.id, w.scope.all, w.scope.departmentIds]);
}

export class FeedClient {
  private socket: FeedSocket | null = null;
  private cursor: number | null = null;
  private attempt = 0;
  private stopped = true;
  private timers = new Set<unknown>();
  private pingTimer: unknown = null;
  private deadTimer: unknown = null;
  private disconnectedAt: number | null = null;
  private readonly o: Required<FeedOptions>;

  constructor(
    options: FeedOptions,
    private readonly h: FeedHandlers,
  ) {
    this.o = { pingMs: 5000, deadMs: 12_000, backoffMaxMs: 10_000, random: Math.random, ...options };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.h.state({ kind: 'connecting' });
    this.connect();
  }

  /**
   * Stop (signed out, or the session ended): the board this fed is forgotten, so the next start
   * takes a fresh snapshot instead of resuming from the cursor (a delta onto an empty board would
   * never finish loading; another supervisor may sign in next).
   */
  stop(): void {
    this.stopped = true;
    this.cursor = null;
    for (const t of this.timers) this.o.clearTimeout(t);
    this.timers.clear();
    this.pingTimer = this.deadTimer = null;
    const s = this.socket;
    this.socket = null;
    s?.close(1000, 'signed out');
    this.h.state({ kind: 'stopped' });
  }

  /** Start over with a fresh snapshot (a reset of the view). */
  resync(): void {
    this.cursor = null;
    this.socket?.close(4000, 'resync');
  }

  private later(fn: () => void, ms: number): unknown {
    const handle = this.o.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  private cancel(handle: unknown): void {
    if (handle === null) return;
    this.o.clearTimeout(handle);
    this.timers.delete(handle);
  }

  private connect(): void {
    if (this.stopped) return;
    let socket: FeedSocket;
    try {
      socket = this.o.open(this.o.url);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      mark('sv:open');
      socket.send(JSON.stringify({ type: 'hello', protocol: SUPERVISOR_PROTOCOL, protocolVersion: SUPERVISOR_PROTOCOL_VERSION, cursor: this.cursor }));
      this.schedulePing();
    };
    socket.onmessage = (e) => {
      if (socket === this.socket) this.onMessage(String(e.data));
    };
    socket.onerror = () => undefined;
    socket.onclose = (e) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.onClose(e.code);
    };
  }

  private schedulePing(): void {
    this.cancel(this.pingTimer);
    this.pingTimer = this.later(() => {
      const s = this.socket;
      if (!s) return;
      s.send(JSON.stringify({ type: 'ping', t: this.o.now() }));
      if (this.deadTimer === null) {
        this.deadTimer = this.later(() => {
          this.deadTimer = null;
          // Nothing came back: drop the link and reconnect.
          const dead = this.socket;
          this.socket = null;
          dead?.close(4000, 'no answer');
          this.onClose(4000);
        }, this.o.deadMs);
      }
      this.schedulePing();
    }, this.o.pingMs);
  }

  private onMessage(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = supervisorServerFrameSchema.safeParse(value);
    if (!parsed.success) return;
    this.cancel(this.deadTimer);
    this.deadTimer = null;
    const frame = parsed.data;
    switch (frame.type) {
      case 'welcome': {
        const scope = scopeKey(frame);
        if (frame.sync === 'delta' && this.scope !== null && scope !== this.scope) {
          // SUP-1: the user's departments or roles changed while the link was down (before the
          // server's 4205 said so): the cursor belongs to the old scope, and a delta of the new one
          // merged onto the board would keep the departments it left and miss what it gained.
          // Start over with a snapshot, as after a 4205.
          this.cursor = null;
          const s = this.socket;
          this.socket = null;
          s?.close(4000, 'rescoped');
          this.onClose(SUPERVISOR_CLOSE_CODES.rescoped);
          return;
        }
        mark('sv:welcome');
        this.attempt = 0;
        this.scope = scope;
        if (frame.sync === 'snapshot') this.cursor = null;
        this.h.welcome(frame);
        return;
      }
      case 'changes':
        this.h.changes(decodeChanges(frame));
        if (frame.cursor !== null) this.cursor = frame.cursor;
        this.socket?.send(JSON.stringify({ type: 'ack', cursor: frame.cursor ?? 0 }));
        if (!frame.more) {
          mark('sv:live');
          this.disconnectedAt = null;
          this.h.state({ kind: 'live' });
        }
        return;
      case 'error':
        if (frame.fatal) this.lastError = fromErrorData(frame.error);
        return;
      case 'incompatible':
      case 'pong':
        return;
    }
  }

  private lastError: DomainError | null = null;
  /** The scope of the last welcome, which the cursor held belongs to. */
  private scope: string | null = null;

  private onClose(code: number): void {
    this.cancel(this.pingTimer);
    this.cancel(this.deadTimer);
    this.pingTimer = this.deadTimer = null;
    if (this.stopped) return;
    const error = this.lastError;
    this.lastError = null;
    if (code === SUPERVISOR_CLOSE_CODES.unauthorized || code === SUPERVISOR_CLOSE_CODES.forbidden || code === SUPERVISOR_CLOSE_CODES.incompatible) {
      this.stopped = true;
      this.h.state({ kind: 'stopped' });
      this.h.ended(code === SUPERVISOR_CLOSE_CODES.unauthorized ? 'session' : code === SUPERVISOR_CLOSE_CODES.forbidden ? 'forbidden' : 'incompatible', error);
      return;
    }
    if (code === SUPERVISOR_CLOSE_CODES.rescoped) this.cursor = null;
    this.retry();
  }

  private retry(): void {
    this.disconnectedAt ??= this.o.now();
    this.h.state({ kind: 'reconnecting', since: this.disconnectedAt, attempt: this.attempt + 1 });
    const ceiling = Math.min(this.o.backoffMaxMs, 250 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.later(() => this.connect(), this.attempt === 1 ? 0 : Math.round(ceiling / 2 + this.o.random() * (ceiling / 2)));
  }
}
