/**
 * The supervisor subscription (docs/PROTOCOL.md, "Supervisor subscription"; SUP-1): a live view of
 * the floor for supervisors' pages, over WebSocket at /supervise. A page authenticates with its
 * session (the HttpOnly cookie a browser sends with the upgrade, or a token in the hello), must
 * belong to a supervisor or an administrator, and receives only its scope: the supervisor's
 * departments (an administrator: all). Snapshot first, then change pages by cursor, one in flight
 * until acknowledged, pushed live after each commit and coalesced.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Clock } from '../../src-shared/clock.js';
import { DomainError, toErrorData, type ErrorCode, type ErrorDetails } from '../../src-shared/domain/errors.js';
import { hasRole } from '../../src-shared/domain/types.js';
import { describeIssue } from '../../src-shared/protocol/terminal.js';
import {
  MIN_SUPERVISOR_PROTOCOL_VERSION,
  SUPERVISOR_CLOSE_CODES,
  SUPERVISOR_MAX_FRAME_BYTES,
  SUPERVISOR_PAGE_SIZE,
  SUPERVISOR_PROTOCOL_VERSION,
  emptySupervisorChanges,
  encodeChanges,
  supervisorClientFrameSchema,
  supervisorHelloSchema,
  type SupervisorServerFrame,
} from '../../src-shared/protocol/supervisor.js';
import type { Principal } from '../auth.js';
import { cookieValue, isCrossOrigin, SESSION_COOKIE } from '../session.js';
import type { Logger } from '../log.js';
import { ILL_FORMED_PROBLEM, illFormedTextPath } from '../../src-shared/domain/text.js';
import { frameBytes, NOT_UTF8_PROBLEM, parseFrame, wsText } from './frames.js';
import { REFUSALS, RefusalBudget, closingDetails } from './refusals.js';
import type { Metrics } from '../metrics.js';
import { route } from '../store/sqlite/rows.js';
import { PageSizer, TurnBudget } from '../slices.js';
import type { RevokeReason, ServerStore, SupervisorChangesPage, SupervisorPageData, SupervisorScope, SupervisorSnapshotPage, SupervisorSnapshotPosition } from '../store/types.js';

export interface SupervisorHubOptions {
  heartbeatMs: number;
  pushIntervalMs: number;
  pageSize: number;
  handshakeTimeoutMs: number;
  /** How often a connection's session, roles and departments are checked again. */
  revalidateMs: number;
  maxBufferedBytes: number;
}

const DEFAULTS: SupervisorHubOptions = {
  heartbeatMs: 10_000,
  pushIntervalMs: 100,
  pageSize: SUPERVISOR_PAGE_SIZE,
  handshakeTimeoutMs: 10_000,
  revalidateMs: 15_000,
  maxBufferedBytes: 32 * 1024 * 1024,
};

/** Resolve a bearer or session token to its user, or throw (unauthenticated, user_inactive). */
export type TokenAuthenticator = (token: string) => Promise<Principal>;

interface Conn {
  ws: WebSocket;
  remote: string;
  /** The session cookie sent with the upgrade, if any. */
  cookieToken: string | null;
  principal: Principal | null;
  scope: SupervisorScope | null;
  /** Its welcome went out: change pages may follow (never before it). */
  welcomed: boolean;
  /** Routing keys whose changes this page reads (null: all, for admins). */
  keys: Set<string> | null;
  sentCursor: number;
  awaitingAck: boolean;
  pumping: boolean;
  dirty: boolean;
  owesCaughtUp: boolean;
  snapshot: {
    pos: SupervisorSnapshotPosition | null;
    head: number;
    first: boolean;
    /** When it began (the server's clock): kiosks' snapshots give way to it for GIVE_WAY_MS at most. */
    startedAt: number;
    /** The next page, read while the page sent before it is being applied (one ahead at most). */
    ahead: Promise<SupervisorSnapshotPage> | null;
  } | null;
  alive: boolean;
  closed: boolean;
  timers: NodeJS.Timeout[];
  /** A connection is one page's subscription for its whole life; a second hello ends it. */
  helloSeen: boolean;
  /** SEC-5: how many more frames may be refused before the connection is closed. */
  refusals: RefusalBudget;
}

/** The scope a principal may see (SUP-1): admins every department, supervisors their own. */
export function scopeOf(p: Principal): SupervisorScope | null {
  if (!p.user.active) return null;
  if (hasRole(p.user, 'admin')) return { userId: p.user.id, all: true, departmentIds: [] };
  if (hasRole(p.user, 'supervisor')) return { userId: p.user.id, all: false, departmentIds: [...p.user.departmentIds].sort() };
  return null;
}

function scopeKeys(scope: SupervisorScope): Set<string> | null {
  if (scope.all) return null;
  return new Set(['', route.allSupervisors, route.user(scope.userId), ...scope.departmentIds, ...scope.departmentIds.map(route.supervisors)]);
}

/** The longest delay a Node timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const sameScope = (a: SupervisorScope, b: SupervisorScope) =>
  a.all === b.all && a.userId === b.userId && a.departmentIds.join(',') === b.departmentIds.join(',');

export class SupervisorHub {
  private wss: WebSocketServer | null = null;
  private readonly conns = new Set<Conn>();
  private readonly options: SupervisorHubOptions;
  private timers: NodeJS.Timeout[] = [];
  private head = 0;
  /** The change log's head as the push timer last read it (tick). */
  private tickHead = 0;

  constructor(
    private readonly store: ServerStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly authenticate: TokenAuthenticator,
    options: Partial<SupervisorHubOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.snapshotSizer = new PageSizer(this.options.pageSize, () => store.pagesHoldTheLoop);
    this.changeSizer = new PageSizer(this.options.pageSize, () => store.pagesHoldTheLoop);
  }

  start(): void {
    void this.store.headSeq().then((h) => (this.head = Math.max(this.head, h)));
    if (this.options.heartbeatMs > 0) this.timers.push(setInterval(() => this.beat(), this.options.heartbeatMs));
    if (this.options.pushIntervalMs > 0) this.timers.push(setInterval(() => void this.tick(), this.options.pushIntervalMs));
    if (this.options.revalidateMs > 0) this.timers.push(setInterval(() => void this.revalidateAll(), this.options.revalidateMs));
    for (const t of this.timers) t.unref();
  }

  /** Supervisor pages connected now. */
  get size(): number {
    return this.conns.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A page of another site must not ride on the supervisor's cookie (cross-site WebSocket hijacking).
    if (isCrossOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nThe supervisor subscription only serves pages of this server.\n');
      return;
    }
    // SEC-7 PROTO-3: the hub checks UTF-8 itself (wsText) and answers with an error frame; ws's own
    // check closed the connection (1007) without one.
    this.wss ??= new WebSocketServer({ noServer: true, maxPayload: SUPERVISOR_MAX_FRAME_BYTES, perMessageDeflate: false, skipUTF8Validation: true });
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  /** Called after each durable commit with the routing keys it wrote. */
  notifyChanged(keys: ReadonlySet<string>, headSeq: number): void {
    this.head = Math.max(this.head, headSeq);
    for (const c of this.conns) if (!c.keys || [...keys].some((k) => c.keys!.has(k))) c.dirty = true;
    this.pushIfQuiet();
  }

  /** Another server instance committed changes up to `head` (the store's watchHead). */
  noticeHead(head: number): void {
    // Not recorded as the tick's head: a page read already under way may predate this commit and
    // clear a connection's mark, and the tick's own read of the head must still catch that.
    this.head = Math.max(this.head, head);
    for (const c of this.conns) c.dirty = true;
    this.pushIfQuiet();
  }

  /** A change after a quiet push interval goes out at once; under load, on the tick (as SyncHub). */
  private pushIfQuiet(): void {
    if (this.options.pushIntervalMs <= 0 || this.timers.length === 0) return;
    if (performance.now() - this.lastLivePush < this.options.pushIntervalMs) return;
    this.lastLivePush = performance.now();
    for (const c of this.conns) if (c.dirty && !c.awaitingAck && !c.pumping) this.pump(c);
  }

  /** Counts userChanged and revokeToken calls: a page signing in meanwhile is checked again (onHello). */
  private userChanges = 0;

  /** When a live change page last went out (performance.now()). */
  private lastLivePush = -Infinity;

  /** A session was signed out or revoked: its pages go back to sign-in at once, told which. */
  revokeToken(tokenId: string, reason: RevokeReason): void {
    this.userChanges++;
    const problem = reason === 'signed_out' ? 'the session was signed out' : 'the session was revoked';
    for (const c of this.conns) {
      if (c.principal?.token.id === tokenId) this.fail(c, 'unauthenticated', { problem, reason }, SUPERVISOR_CLOSE_CODES.unauthorized);
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    for (const c of this.conns) c.ws.close(SUPERVISOR_CLOSE_CODES.shuttingDown, 'server shutting down');
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  // -------------------------------------------------------------------------------------------

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const conn: Conn = {
      ws,
      remote: req.socket.remoteAddress ?? '?',
      cookieToken: cookieValue(req.headers.cookie, SESSION_COOKIE),
      principal: null,
      scope: null,
      keys: null,
      sentCursor: 0,
      awaitingAck: false,
      pumping: false,
      welcomed: false,
      dirty: false,
      owesCaughtUp: true,
      snapshot: null,
      alive: true,
      closed: false,
      timers: [],
      helloSeen: false,
      refusals: new RefusalBudget(REFUSALS.burst, REFUSALS.perSecond),
    };
    this.conns.add(conn);
    this.metrics.supervisorConnections.set(this.conns.size);
    if (this.options.handshakeTimeoutMs > 0) {
      conn.timers.push(
        setTimeout(() => {
          if (!conn.principal) this.fail(conn, 'unauthenticated', { problem: 'no hello within the handshake time' }, SUPERVISOR_CLOSE_CODES.badHandshake);
        }, this.options.handshakeTimeoutMs),
      );
    }
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : wsText(frameBytes(data));
      this.onMessage(conn, text, !isBinary && text === null);
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('close', () => {
      conn.closed = true;
      for (const t of conn.timers) clearTimeout(t);
      this.conns.delete(conn);
      this.metrics.supervisorConnections.set(this.conns.size);
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'supervisor websocket error'));
  }

  private send(conn: Conn, frame: SupervisorServerFrame): void {
    this.sendText(conn, JSON.stringify(frame));
  }

  private sendText(conn: Conn, text: string): void {
    if (conn.closed || conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(text);
    if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.log.warn({ user: conn.principal?.user.id, buffered: conn.ws.bufferedAmount }, 'supervisor page reads too slowly; disconnecting');
      conn.ws.close(SUPERVISOR_CLOSE_CODES.slowConsumer, 'reading too slowly; reconnect and resume from your cursor');
      conn.closed = true;
    }
  }

  private sendError(conn: Conn, code: ErrorCode, details: ErrorDetails, fatal = false): void {
    if (!fatal && !conn.refusals.take()) {
      return this.fail(
        conn,
        code,
        closingDetails(details),
        SUPERVISOR_CLOSE_CODES.tooManyErrors,
      );
    }
    this.send(conn, { type: 'error', error: toErrorData(code, details), fatal });
  }

  private fail(conn: Conn, code: ErrorCode, details: ErrorDetails, closeCode: number): void {
    if (conn.closed) return;
    this.sendError(conn, code, details, true);
    conn.ws.close(closeCode, String(details.problem ?? toErrorData(code, details).message).slice(0, 120));
    conn.closed = true;
  }

  /** `text` is null for a binary frame, and for a text frame that is not UTF-8 (`notUtf8`, SEC-7). */
  private onMessage(conn: Conn, text: string | null, notUtf8 = false): void {
    if (conn.closed) return;
    if (notUtf8) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: NOT_UTF8_PROBLEM });
    if (text === null) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: 'is binary; frames are JSON text' });
    const parsedFrame = parseFrame(text);
    if (!parsedFrame.ok) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: parsedFrame.problem });
    const value = parsedFrame.value;
    const type = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
    if (type === 'hello') {
      if (conn.helloSeen) {
        return this.fail(
          conn,
          'invalid_input',
          { field: 'type', problem: 'a second hello on one connection; open a new connection instead' },
          SUPERVISOR_CLOSE_CODES.badHandshake,
        );
      }
      conn.helloSeen = true;
      void this.onHello(conn, value as Record<string, unknown>).catch((err) => {
        this.log.error({ err }, 'supervisor handshake failed');
        this.fail(conn, 'internal_error', {}, 1011);
      });
      return;
    }
    if (!conn.principal) return this.fail(conn, 'unauthenticated', { field: 'type', problem: 'the first frame must be a hello' }, SUPERVISOR_CLOSE_CODES.badHandshake);
    const parsed = supervisorClientFrameSchema.safeParse(value);
    if (!parsed.success) return this.sendError(conn, 'invalid_input', describeIssue(parsed.error));
    const frame = parsed.data;
    if (frame.type === 'ack') {
      if (frame.cursor > conn.sentCursor) {
        return this.sendError(conn, 'invalid_input', { field: 'cursor', problem: `acknowledges ${frame.cursor}, beyond the ${conn.sentCursor} sent` });
      }
      conn.awaitingAck = false;
      // A page still catching up (a snapshot, or changes with more to come) gets its next page at
      // once. One that is caught up waits for the push tick (as kiosks do, SyncHub): before, each
      // acknowledgement brought the next page, so under a plant's steady load every overview got a
      // page of a few changes each round trip (134 pages/s for 4 overviews, 10 % of the server)
      // instead of one per tick.
      if (conn.snapshot || conn.owesCaughtUp) this.pump(conn);
    } else if (frame.type === 'ping') {
      this.send(conn, { type: 'pong', t: frame.t, serverTime: this.clock.now() });
    }
  }

  private async onHello(conn: Conn, raw: Record<string, unknown>): Promise<void> {
    const version = raw.protocolVersion;
    if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
      return this.fail(conn, 'invalid_input', { field: 'protocolVersion', problem: 'must be a whole number' }, SUPERVISOR_CLOSE_CODES.badHandshake);
    }
    if (version < MIN_SUPERVISOR_PROTOCOL_VERSION || version > SUPERVISOR_PROTOCOL_VERSION) {
      const tooOld = version < MIN_SUPERVISOR_PROTOCOL_VERSION;
      this.send(conn, {
        type: 'incompatible',
        reason: tooOld ? 'client_too_old' : 'server_too_old',
        minProtocolVersion: MIN_SUPERVISOR_PROTOCOL_VERSION,
        maxProtocolVersion: SUPERVISOR_PROTOCOL_VERSION,
        message: tooOld ? 'This page is older than the server: reload it.' : 'This page is newer than the server: update the server.',
      });
      conn.ws.close(SUPERVISOR_CLOSE_CODES.incompatible, tooOld ? 'page too old' : 'server too old');
      conn.closed = true;
      return;
    }
    const illFormed = illFormedTextPath(raw);
    if (illFormed !== null) return this.fail(conn, 'invalid_input', { field: illFormed, problem: ILL_FORMED_PROBLEM }, SUPERVISOR_CLOSE_CODES.badHandshake);
    const parsed = supervisorHelloSchema.safeParse(raw);
    if (!parsed.success) return this.fail(conn, 'invalid_input', describeIssue(parsed.error), SUPERVISOR_CLOSE_CODES.badHandshake);
    const hello = parsed.data;
    const token = hello.token ?? conn.cookieToken;
    if (!token) return this.fail(conn, 'unauthenticated', { problem: 'not signed in' }, SUPERVISOR_CLOSE_CODES.unauthorized);
    let principal: Principal;
    const changesBefore = this.userChanges;
    try {
      principal = await this.authenticate(token);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return this.fail(conn, err.code, err.details, SUPERVISOR_CLOSE_CODES.unauthorized);
    }
    const scope = scopeOf(principal);
    if (!scope) return this.fail(conn, 'supervisor_only', { userId: principal.user.id }, SUPERVISOR_CLOSE_CODES.forbidden);
    if (conn.closed) return;
    conn.principal = principal;
    conn.scope = scope;
    conn.keys = scopeKeys(scope);
    // A user changed or a session revoked while this one was being checked (userChanged and
    // revokeToken passed this page by, having no principal yet): check it again before the welcome.
    if (this.userChanges !== changesBefore) {
      await this.revalidateAll((c) => c === conn);
      if (conn.closed) return;
    }
    const expiresAt = principal.token.expiresAt;
    if (expiresAt !== null) this.closeAtExpiry(conn, expiresAt);
    const head = await this.store.headSeq();
    this.head = Math.max(this.head, head);
    const pruned = await this.store.prunedThroughSeq();
    const needSnapshot = hello.cursor === null || hello.cursor < pruned || hello.cursor > head;
    this.send(conn, {
      type: 'welcome',
      protocolVersion: SUPERVISOR_PROTOCOL_VERSION,
      serverTime: this.clock.now(),
      user: { id: principal.user.id, displayName: principal.user.displayName, roles: principal.user.roles },
      scope: { all: scope.all, departmentIds: [...scope.departmentIds] },
      sessionExpiresAt: expiresAt,
      sync: needSnapshot ? 'snapshot' : 'delta',
    });
    this.log.info({ user: principal.user.id, remote: conn.remote, sync: needSnapshot ? 'snapshot' : 'delta' }, 'supervisor page connected');
    if (needSnapshot) conn.snapshot = { pos: null, head, first: true, startedAt: this.clock.now(), ahead: null };
    else conn.sentCursor = hello.cursor!;
    conn.welcomed = true;
    conn.dirty = true;
    this.pump(conn);
  }

  /** Close the page when its session expires (timers wait at most ~24.8 days: re-arm until due). */
  private closeAtExpiry(conn: Conn, expiresAt: number): void {
    const left = expiresAt - this.clock.now();
    const timer = setTimeout(
      () => {
        if (conn.closed) return;
        if (expiresAt - this.clock.now() > 0 && left > MAX_TIMER_MS) this.closeAtExpiry(conn, expiresAt);
        else this.fail(conn, 'unauthenticated', { problem: 'the session expired', reason: 'expired' }, SUPERVISOR_CLOSE_CODES.unauthorized);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, left)),
    );
    conn.timers.push(timer);
  }

  // -------------------------------------------------------------------------------------------

  private async tick(): Promise<void> {
    // Writes outside the committer (heartbeats, acknowledgements, administration) move the head too.
    // Compared with what this timer saw last, not with the committer's notices (which could hide an
    // outside write committed just before a group).
    const head = await this.store.headSeq().catch(() => this.tickHead);
    if (head > this.tickHead) {
      this.tickHead = head;
      this.head = Math.max(this.head, head);
      for (const c of this.conns) c.dirty = true;
    }
    for (const c of this.conns) if (c.dirty && !c.awaitingAck && !c.pumping) this.pump(c);
  }

  /**
   * Page reads share a budget per turn of the event loop (TurnBudget): a connection whose page would
   * start after this turn's budget is spent gets it in a later turn.
   */
  private readonly reads = new TurnBudget();
  /**
   * How many open supervisor pages are loading their snapshot, begun within the last GIVE_WAY_MS:
   * kiosks' snapshots give way to them, and a page that never finishes (a frozen tab) must not
   * hold the kiosks back for longer.
   */
  get snapshotsInProgress(): number {
    const since = this.clock.now() - GIVE_WAY_MS;
    let n = 0;
    for (const c of this.conns) if (c.snapshot && !c.closed && c.snapshot.startedAt >= since) n++;
    return n;
  }

  /** Page sizes by cost on a store that reads on the event loop (PageSizer): snapshot and change pages. */
  private readonly snapshotSizer: PageSizer;
  private readonly changeSizer: PageSizer;

  private snapshotPage(scope: SupervisorScope, pos: SupervisorSnapshotPosition | null, now: number): Promise<SupervisorSnapshotPage> {
    return this.snapshotSizer.read((limit) => this.store.supervisorSnapshotPage(scope, pos, limit, now), entities);
  }

  private pump(conn: Conn): void {
    this.reads.run(conn, () => void this.pumpNow(conn));
  }

  private async pumpNow(conn: Conn): Promise<void> {
    if (conn.pumping || conn.awaitingAck || conn.closed || !conn.scope || !conn.welcomed) return;
    conn.pumping = true;
    try {
      const now = this.clock.now();
      if (conn.snapshot) {
        const snap = conn.snapshot;
        // Taken before it is awaited: a read that failed is not handed to every retry.
        const ahead = snap.ahead;
        snap.ahead = null;
        const page = await (ahead ?? this.snapshotPage(conn.scope, snap.pos, now));
        // Gone while it waited: neither the page nor a read of the next is for anyone.
        if (conn.closed || !conn.scope) return;
        const last = page.next === null;
        const { next: _next, ...data } = page;
        this.send(conn, { type: 'changes', mode: 'snapshot', reset: snap.first, cursor: last ? snap.head : null, more: !last, ...data });
        snap.first = false;
        snap.pos = page.next;
        if (last) {
          conn.snapshot = null;
          conn.sentCursor = snap.head;
          conn.dirty = true;
        } else {
          // Read the next page while the page applies this one: a fresh view arrives in about the
          // time the slower of the two takes, not their sum. Still one page in flight on the wire.
          snap.ahead = this.snapshotPage(conn.scope, snap.pos, this.clock.now());
          snap.ahead.catch(() => undefined);
        }
        conn.awaitingAck = true;
        return;
      }
      if (!conn.dirty) return;
      const read = this.deltaPage(conn.scope, conn.sentCursor, now);
      // The head when the read began, which may be another page's read of the same scope and cursor.
      const headAtRead = read.head;
      const { page, text } = await read.page;
      if (page.lastSeq === conn.sentCursor) {
        // SUP-1: a commit noticed while the page was read keeps its mark for the next round.
        if (this.head === headAtRead) conn.dirty = false;
        if (conn.owesCaughtUp) {
          conn.owesCaughtUp = false;
          this.send(conn, encodeChanges(emptySupervisorChanges('delta', conn.sentCursor)));
          conn.awaitingAck = true;
        }
        return;
      }
      this.sendText(conn, text);
      this.lastLivePush = performance.now();
      conn.sentCursor = page.lastSeq;
      conn.awaitingAck = true;
      conn.owesCaughtUp = page.more;
      if (!page.more && page.lastSeq >= this.head) conn.dirty = false;
    } catch (err) {
      this.log.error({ err, user: conn.principal?.user.id }, 'sending supervisor changes failed');
    } finally {
      conn.pumping = false;
    }
  }

  /**
   * One page read and encoded per scope and cursor per turn, shared by every page of that scope,
   * with the head it was read at (a page that joins a read begun before a commit must not take its
   * empty answer for "nothing since").
   */
  private readonly pageCache = new Map<string, { head: number; page: Promise<{ page: SupervisorChangesPage; text: string }> }>();

  private deltaPage(scope: SupervisorScope, cursor: number, now: number): { head: number; page: Promise<{ page: SupervisorChangesPage; text: string }> } {
    const key = `${scope.all ? '*' : scope.departmentIds.join(',')}|${scope.userId}|${cursor}`;
    let cached = this.pageCache.get(key);
    if (!cached) {
      if (this.pageCache.size === 0) setImmediate(() => this.pageCache.clear());
      const page = this.changeSizer.read((limit) => this.store.supervisorChangesPage(scope, cursor, limit, now), entities).then((page) => {
        const { lastSeq, more, ...data } = page;
        return { page, text: JSON.stringify({ type: 'changes', mode: 'delta', reset: false, cursor: lastSeq, more, ...data } satisfies SupervisorServerFrame) };
      });
      cached = { head: this.head, page };
      this.pageCache.set(key, cached);
    }
    return cached;
  }

  private beat(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      if (c.ws.readyState === WebSocket.OPEN) c.ws.ping();
    }
  }

  /**
   * AUTH-3 SUP-1: a user was changed (deactivated, other roles or departments), on this instance or
   * on another that shares the database (ServerStore.watchAccounts): their pages are checked again
   * now, not at the next revalidation, so a page of a department they no longer supervise receives
   * nothing more of it. The CLI's changes are noticed at the revalidation.
   */
  userChanged(userId: string): Promise<void> {
    this.userChanges++;
    return this.revalidateAll((c) => c.principal?.user.id === userId);
  }

  /** Sessions revoked elsewhere, deactivated users, changed roles or departments take effect. */
  private async revalidateAll(which: (c: Conn) => boolean = () => true): Promise<void> {
    for (const c of [...this.conns]) {
      if (!c.principal || c.closed || !which(c)) continue;
      try {
        const p = await this.recheck(c);
        const scope = scopeOf(p);
        if (!scope) this.fail(c, 'supervisor_only', { userId: p.user.id }, SUPERVISOR_CLOSE_CODES.forbidden);
        else if (!sameScope(scope, c.scope!)) this.fail(c, 'permission_denied', { problem: 'your departments changed; reloading the view' }, SUPERVISOR_CLOSE_CODES.rescoped);
      } catch (err) {
        if (err instanceof DomainError) this.fail(c, err.code, err.details, SUPERVISOR_CLOSE_CODES.unauthorized);
        else this.log.warn({ err }, 'revalidating a supervisor page failed');
      }
    }
  }

  /** The connection's session as the store has it now (by its record: the plain token is not kept). */
  private async recheck(c: Conn): Promise<Principal> {
    const record = c.principal!.token;
    const now = this.clock.now();
    if (record.expiresAt !== null && record.expiresAt <= now) throw new DomainError('unauthenticated', { problem: 'the session expired', reason: 'expired' });
    const user = await this.store.getUser(record.userId);
    if (!user) throw new DomainError('unauthenticated', { problem: 'the session belongs to no user' });
    if (!user.active) throw new DomainError('user_inactive', { userId: user.id });
    const current = await this.store.getApiToken(record.id);
    if (!current || current.userId !== user.id || current.revokedAt !== null) throw new DomainError('unauthenticated', { problem: 'the session was signed out or revoked', reason: 'revoked' });
    return { user, token: current };
  }
}

/**
 * The longest kiosks' snapshots give way to one overview loading its snapshot (SUP-1): the
 * overview of 50,000 tasks loads in 1-2 s here, a plant's largest in a few seconds.
 */
export const GIVE_WAY_MS = 10_000;

/** What a supervisor page holds, for its cost per entity (PageSizer). */
function entities(page: SupervisorPageData): number {
  return page.tasks.id.length + page.people.length + page.terminals.length + page.exceptions.length + page.notifications.length;
}
