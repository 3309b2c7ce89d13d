/**
 * The WebSocket side of protocol v1 (docs/PROTOCOL.md): handshake, mutations in, outcomes and
 * change pages out, presence and heartbeats. Every frame is validated at this edge; a bad frame
 * gets an error frame naming the problem and the connection's other work carries on.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Clock } from '../../src-shared/clock.js';
import { hashEquals, tokenHash } from '../../src-shared/crypto/hash.js';
import { DomainError, toErrorData, type ErrorCode, type ErrorData, type ErrorDetails } from '../../src-shared/domain/errors.js';
import {
  CHANGE_PAGE_SIZE,
  CLOSE_CODES,
  HARD_MAX_FRAME_BYTES,
  HELLO_SCHEMAS,
  MAX_FRAME_BYTES,
  MAX_HELLO_BYTES,
  MAX_MUTATIONS_PER_PUSH,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  describeIssue,
  frameForVersion,
  mutationArgsSchemas,
  sessionFrameSchema,
  type Hello,
  type MutationOutcome,
  type ServerFrame,
} from '../../src-shared/protocol/terminal.js';
import { ILL_FORMED_PROBLEM, illFormedTextPath, jsonNestsDeeperThan } from '../../src-shared/domain/text.js';
import type { Committer } from '../engine/committer.js';
import { DeferredError } from '../engine/units.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { frameBytes, NOT_UTF8_PROBLEM, parseFrame, wsText } from './frames.js';
import { REFUSALS, RefusalBudget, closingDetails } from './refusals.js';
import { Line, loopBudget, PageSizer, Slicer, TurnBudget, TurnGate, type LoopBudget } from '../slices.js';
import type { ChangeData, ChangesPage, ServerStore, SnapshotPage, SnapshotPosition } from '../store/types.js';

export interface HubOptions {
  /** WebSocket ping interval; a terminal that misses one is dropped. */
  heartbeatMs: number;
  /** Live changes are coalesced and pushed at most this often per terminal. */
  pushIntervalMs: number;
  pageSize: number;
  /** Time allowed between connecting and a valid hello. */
  handshakeTimeoutMs: number;
  /** A terminal whose unread output exceeds this is disconnected (it will resume from its cursor). */
  maxBufferedBytes: number;
  /**
   * How often each connected terminal's row is read again (0: never): a terminal disabled, given a
   * new token or other departments by another server instance, or by a CLI command on the same
   * database, is disconnected as this instance's own administration would have (API-8).
   */
  revalidateMs: number;
  /** Mutations of one terminal waiting for their group; beyond this, pushes get `retry`. */
  maxPendingMutations: number;
  /** A terminal further behind than this many changes gets a snapshot instead of a replay. */
  maxReplay: number;
  /** Where its timers run: Node's by default; the simulation's virtual time in tests. */
  timers: HubTimers;
  /**
   * The event loop's budget per turn that page reads, sends and push rounds share (slices.ts): the
   * process's by default; the simulation gives one without limit, so its seeded runs never wait
   * for a real timer.
   */
  loopBudget: LoopBudget;
}

export interface HubTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIMERS: HubTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** How long a full change page read for one terminal serves others at the same cursor (deltaPage). */
const PAGE_CACHE_MS = 1000;
/** At most this many pages are kept (a department's catch-up needs a few at a time). */
const PAGE_CACHE_ENTRIES = 64;

export const HUB_DEFAULTS: HubOptions = {
  heartbeatMs: 10_000,
  pushIntervalMs: 100,
  pageSize: CHANGE_PAGE_SIZE,
  handshakeTimeoutMs: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  revalidateMs: 15_000,
  maxPendingMutations: 10_000,
  maxReplay: 250_000,
  timers: NODE_TIMERS,
  loopBudget,
};

/** SEC-4: metric labels come from closed sets only; anything else is `other`. */
const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set(['hello', 'push', 'ack', 'ping']);
const MUTATION_LABELS: ReadonlySet<string> = new Set(Object.keys(mutationArgsSchemas));
export function frameTypeLabel(type: unknown): string {
  return typeof type === 'string' && CLIENT_FRAME_TYPES.has(type) ? type : 'other';
}
export function mutationLabel(name: unknown): string {
  return typeof name === 'string' && MUTATION_LABELS.has(name) ? name : 'other';
}


/**
 * One connected peer, whatever carries it: a `ws` WebSocket in production, a simulated link in
 * the sync simulation.
 */
export interface PeerSocket {
  readonly bufferedAmount: number;
  /**
   * Send a text frame. `bytes`, when given, is `text` already encoded as UTF-8: a page shared by a
   * department's terminals is encoded once, not once for each of them.
   */
  send(text: string, bytes?: Uint8Array): void;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
}

/** What the transport tells the hub about a peer it accepted. */
export interface PeerHandle {
  /** `notUtf8`: a text frame whose bytes are not UTF-8 (`text` is then empty; SEC-7). */
  message(text: string, isBinary: boolean, size: number, notUtf8?: boolean): void;
  pong(): void;
  closed(): void;
}

interface Connection {
  ws: PeerSocket;
  remote: string;
  terminalId: string | null;
  /** When its handshake was recorded: which connection the store's presence names (recordDisconnect). */
  connectedAt: number | undefined;
  departments: string[];
  /** The token hash its handshake was accepted with (revalidateAll). */
  tokenHash: string | null;
  alive: boolean;
  /** Change cursor up to which pages were sent. */
  sentCursor: number;
  /** A change page is waiting for the terminal's ack. */
  awaitingAck: boolean;
  pumping: boolean;
  dirty: boolean;
  snapshot: { pos: SnapshotPosition | null; head: number; first: boolean; prefetched: Promise<SnapshotPage> | null } | null;
  /** Numbers this terminal's connections, so a new one starts with a clean slate (PROTO-9). */
  seq: number;
  /** After the handshake, the terminal must hear once that it is caught up, even if nothing changed. */
  owesCaughtUp: boolean;
  /** The protocol version agreed in the handshake. */
  protocolVersion: number;
  /** Its outbox depth as last reported, and whether the store has not heard of it yet. */
  outbox: number | null;
  outboxUnsaved: boolean;
  closed: boolean;
  handshakeTimer: unknown;
  /** PROTO-3: a connection is one terminal for its whole life; a second hello ends it. */
  helloSeen: boolean;
  /** Its welcome went out: change pages may follow (never before it). */
  welcomed: boolean;
  /** SEC-5: how many more frames may be refused before the connection is closed. */
  refusals: RefusalBudget;
  /** The handshake's write of this connection's presence, which its disconnection waits for. */
  presence?: Promise<unknown>;
}

export class SyncHub {
  private wss: WebSocketServer | null = null;
  private readonly conns = new Map<string, Connection>();
  private readonly all = new Set<Connection>();
  private committer: Committer | null = null;
  private connections = 0;
  private readonly options: HubOptions;
  private heartbeat: unknown = null;
  private pusher: unknown = null;
  private revalidator: unknown = null;
  private stopped = false;
  private head = 0;
  /** The change log's head as the push timer last read it (tick). */
  private tickHead = 0;

  constructor(
    private readonly store: ServerStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    options: Partial<HubOptions> = {},
  ) {
    this.options = { ...HUB_DEFAULTS, ...options };
    this.reads = new TurnBudget(this.options.loopBudget);
    this.sendLine = new Line(this.options.loopBudget);
    this.snapshotGate = new TurnGate(() => this.giveWay(), this.options.loopBudget);
    // Off the loop a kiosk taking its snapshot alone gets full pages; while several take theirs, the
    // loop's sends of their pages compete with everything else, and smaller pages keep them short.
    this.snapshotSizer = new PageSizer(this.options.pageSize, () => store.pagesHoldTheLoop, undefined, undefined, () =>
      this.snapshotsInProgress > 1 ? THREAD_SNAPSHOT_PAGE : this.options.pageSize,
    );
    this.changeSizer = new PageSizer(this.options.pageSize, () => store.pagesHoldTheLoop);
  }

  setCommitter(committer: Committer): void {
    this.committer = committer;
  }

  /** Take an HTTP upgrade to /sync (the server routes upgrades by path). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.wss) this.listen();
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.wss!.emit('connection', ws, req));
  }

  private listen(): void {
    // SEC-7 PROTO-3: ws's own UTF-8 check would close the connection (1007) before the hub saw the
    // frame; the hub checks it (wsText) and refuses such a frame with an error, as any bad frame.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_FRAME_BYTES, perMessageDeflate: false, skipUTF8Validation: true });
    this.wss.on('error', (err) => this.log.debug({ err: err.message }, 'websocket server error'));
    this.wss.on('connection', (ws, req) => {
      const handle = this.accept(wsPeer(ws), req.socket.remoteAddress ?? '?');
      ws.on('message', (data, isBinary) => {
        const bytes = frameBytes(data);
        const text = isBinary ? '' : wsText(bytes);
        handle.message(text ?? '', isBinary, bytes.byteLength, text === null);
      });
      ws.on('pong', () => handle.pong());
      ws.on('close', () => handle.closed());
      ws.on('error', (err) => this.log.warn({ err: err.message }, 'websocket error'));
    });
  }

  /** Start the heartbeat and live-push timers (0 disables one; the simulation drives them itself). */
  startTimers(): void {
    void this.store.headSeq().then((h) => (this.head = Math.max(this.head, h)));
    if (this.options.heartbeatMs > 0) {
      const beat = () => {
        if (this.stopped) return;
        void this.beat();
        this.heartbeat = this.options.timers.setTimeout(beat, this.options.heartbeatMs);
      };
      this.heartbeat = this.options.timers.setTimeout(beat, this.options.heartbeatMs);
    }
    if (this.options.revalidateMs > 0) {
      const revalidate = () => {
        if (this.stopped) return;
        void this.revalidateAll().finally(() => {
          if (!this.stopped) this.revalidator = this.options.timers.setTimeout(revalidate, this.options.revalidateMs);
        });
      };
      this.revalidator = this.options.timers.setTimeout(revalidate, this.options.revalidateMs);
    }
    if (this.options.pushIntervalMs > 0) {
      const push = () => {
        if (this.stopped) return;
        void this.tick();
        this.pusher = this.options.timers.setTimeout(push, this.options.pushIntervalMs);
      };
      this.pusher = this.options.timers.setTimeout(push, this.options.pushIntervalMs);
    }
  }

  /**
   * API-8: every connected terminal's row as the store has it now. One disabled, given a new token
   * or other departments since its handshake (by another instance, or a CLI command) is
   * disconnected as disconnect() would have.
   */
  private async revalidateAll(): Promise<void> {
    for (const conn of [...this.conns.values()]) {
      const id = conn.terminalId;
      if (!id || conn.closed) continue;
      let row: Awaited<ReturnType<ServerStore['getTerminal']>>;
      try {
        row = await this.store.getTerminal(id);
      } catch (err) {
        this.log.warn({ err, terminal: id }, 'revalidating a terminal failed');
        continue;
      }
      if (conn.closed || this.conns.get(id) !== conn) continue;
      if (!row || !row.active) this.disconnect(id, 'terminal disabled', CLOSE_CODES.unauthorized);
      else if (row.tokenHash !== conn.tokenHash) this.disconnect(id, 'terminal token replaced', CLOSE_CODES.unauthorized);
      else if ([...row.departments].sort().join('\u0000') !== conn.departments.join('\u0000')) this.disconnect(id, 'terminal departments changed', CLOSE_CODES.reconfigured);
    }
  }

  /** Terminals connected now, by id. */
  connectedTerminals(): string[] {
    return [...this.conns.keys()];
  }

  /**
   * Drop a terminal's live connection: `unauthorized` when it was disabled or its token replaced
   * (it must authenticate again), `reconfigured` when its departments changed (it reconnects at
   * once and gets a fresh view of them).
   */
  disconnect(terminalId: string, reason: string, code: (typeof CLOSE_CODES)['unauthorized' | 'reconfigured']): void {
    // API-8: also a handshake whose read of the terminal is under way (not in `conns` yet) must
    // not go on with the row as it was before this change (onHello compares the generation).
    const before = this.disconnects.get(terminalId);
    this.disconnects.set(terminalId, { generation: (before?.generation ?? 0) + 1, reason, code });
    const conn = this.conns.get(terminalId);
    if (!conn) return;
    this.log.info({ terminal: terminalId, reason }, 'disconnecting terminal');
    conn.ws.close(code, reason);
    conn.closed = true;
    this.forget(conn);
  }

  /**
   * Each terminal's administrative disconnections (disconnect): how many, and the last one's close
   * code and reason. A handshake that read the terminal's row before one of them ends as it would.
   */
  private readonly disconnects = new Map<string, { generation: number; reason: string; code: number }>();

  /** The terminal's connection is over: the store (and supervisors) hear it is offline. */
  private forget(conn: Connection): void {
    if (!conn.terminalId || this.conns.get(conn.terminalId) !== conn) return;
    this.conns.delete(conn.terminalId);
    this.metrics.connections.set(this.conns.size);
    const id = conn.terminalId;
    const at = this.clock.now();
    void (conn.presence ?? Promise.resolve())
      .then(() => this.store.recordDisconnect(id, at, conn.connectedAt))
      .catch((err) => this.log.warn({ err }, 'recording a disconnect failed'));
  }

  /** Called after each durable commit: mark interested terminals for the next push. */
  notifyChanged(departments: Set<string>, headSeq: number): void {
    this.head = Math.max(this.head, headSeq);
    const everyone = departments.has('');
    for (const c of this.conns.values()) {
      if (everyone || c.departments.some((d) => departments.has(d))) c.dirty = true;
    }
    this.pushIfQuiet();
  }

  /**
   * Another server instance committed changes up to `head` (the store's watchHead): what the push
   * timer would notice on its next read of the head, noticed now.
   */
  noticeHead(head: number): void {
    // Not recorded as the tick's head: a page read already under way may predate this commit and
    // clear a connection's mark, and the tick's own read of the head must still catch that.
    this.head = Math.max(this.head, head);
    for (const c of this.conns.values()) c.dirty = true;
    this.pushIfQuiet();
  }

  /**
   * INST-2, SYNC-1: a change after a quiet spell (no live page sent for a push interval) goes out at
   * once instead of waiting for the tick; under load, pages go out on the tick, one per
   * department for all its kiosks, as before. So a plant's usual few changes a second reach the
   * screens in milliseconds, and a busy one costs no more pages.
   */
  private pushIfQuiet(): void {
    if (this.options.pushIntervalMs <= 0 || this.stopped || this.pushing) return;
    if (performance.now() - this.lastLivePush < this.options.pushIntervalMs) return;
    this.lastLivePush = performance.now();
    void this.pushRound();
  }

  /** When this hub last sent a live change page (performance.now()). */
  private lastLivePush = -Infinity;

  async close(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) this.options.timers.clearTimeout(this.heartbeat);
    if (this.pusher) this.options.timers.clearTimeout(this.pusher);
    if (this.revalidator) this.options.timers.clearTimeout(this.revalidator);
    for (const c of this.all) c.ws.close(CLOSE_CODES.shuttingDown, 'server shutting down');
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  // -------------------------------------------------------------------------------------------

  /** Take a new peer; the transport reports its frames and its end to the returned handle. */
  accept(ws: PeerSocket, remote: string): PeerHandle {
    const conn: Connection = {
      ws,
      remote,
      terminalId: null,
      connectedAt: undefined,
      departments: [],
      tokenHash: null,
      alive: true,
      sentCursor: 0,
      awaitingAck: false,
      pumping: false,
      dirty: false,
      snapshot: null,
      seq: ++this.connections,
      owesCaughtUp: true,
      protocolVersion: PROTOCOL_VERSION,
      outbox: null,
      outboxUnsaved: false,
      closed: false,
      handshakeTimer: null,
      helloSeen: false,
      welcomed: false,
      refusals: new RefusalBudget(REFUSALS.burst, REFUSALS.perSecond),
    };
    this.all.add(conn);
    if (this.options.handshakeTimeoutMs > 0) {
      conn.handshakeTimer = this.options.timers.setTimeout(() => {
        this.fail(conn, 'unauthenticated', { problem: 'no hello within the handshake time' }, CLOSE_CODES.badHandshake);
      }, this.options.handshakeTimeoutMs);
    }
    return {
      message: (text, isBinary, size, notUtf8) => this.onMessage(conn, text, isBinary, size, notUtf8 === true),
      pong: () => (conn.alive = true),
      closed: () => this.onClose(conn),
    };
  }

  private onClose(conn: Connection): void {
    conn.closed = true;
    if (conn.handshakeTimer) this.options.timers.clearTimeout(conn.handshakeTimer);
    this.all.delete(conn);
    if (conn.terminalId && this.conns.get(conn.terminalId) === conn) {
      this.log.info({ terminal: conn.terminalId }, 'terminal disconnected');
      this.forget(conn);
    }
  }

  /** PROTO-1: each terminal gets frames of the version it said hello with. */
  private send(conn: Connection, frame: ServerFrame): void {
    // SYNC-1 SEC-10: an outcome (new, stored or sent again) carries its task only when the task is
    // of a department this terminal serves; a mutation naming another department's task id must
    // not read that task (its work, its holder).
    if (frame.type === 'results') frame = { ...frame, outcomes: frame.outcomes.map((o) => outcomeInScope(o, conn.departments)) };
    this.sendText(conn, JSON.stringify(frameForVersion(frame, conn.protocolVersion)), frame.type);
  }

  private sendText(conn: Connection, text: string, type: ServerFrame['type'], bytes?: Uint8Array): void {
    if (conn.closed) return;
    conn.ws.send(text, bytes);
    this.metrics.frames.inc({ direction: 'out', type });
    if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.log.warn({ terminal: conn.terminalId, buffered: conn.ws.bufferedAmount }, 'terminal reads too slowly; disconnecting');
      conn.ws.close(CLOSE_CODES.slowConsumer, 'reading too slowly; reconnect and resume from your cursor');
      conn.closed = true;
    }
  }

  private sendError(conn: Connection, code: ErrorCode, details: ErrorDetails, fatal = false): void {
    this.metrics.protocolErrors.inc({ code });
    if (!fatal && !conn.refusals.take()) {
      this.log.warn({ terminal: conn.terminalId, remote: conn.remote }, 'connection keeps sending refused frames; closing it');
      return this.fail(
        conn,
        code,
        closingDetails(details),
        CLOSE_CODES.tooManyErrors,
      );
    }
    this.send(conn, { type: 'error', error: toErrorData(code, details), fatal });
  }

  private fail(conn: Connection, code: ErrorCode, details: ErrorDetails, closeCode: number): void {
    if (conn.closed) return;
    this.sendError(conn, code, details, true);
    conn.ws.close(closeCode, toErrorData(code, details).message.slice(0, 120));
    conn.closed = true;
  }

  private onMessage(conn: Connection, data: string, isBinary: boolean, size: number, notUtf8 = false): void {
    if (conn.closed) return;
    if (isBinary) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: 'is binary; protocol v1 frames are JSON text' });
    if (!conn.helloSeen && size > MAX_HELLO_BYTES) {
      // SEC-9: before its hello a connection is nobody's; it gets no megabyte of parsing.
      const details = { field: 'frame', problem: `is ${size} bytes before the hello; the first frame must be a hello, at most ${MAX_HELLO_BYTES} bytes` };
      return this.fail(conn, 'payload_too_large', details, CLOSE_CODES.badHandshake);
    }
    if (size > MAX_FRAME_BYTES) {
      const details = { field: 'frame', problem: `is ${size} bytes; the limit is ${MAX_FRAME_BYTES}` };
      this.sendError(conn, 'payload_too_large', details);
      // SIM-1: a push's mutations the terminal counts as sent are answered, not stranded.
      if (conn.terminalId && !notUtf8 && !conn.closed) this.refuseWhole(conn, readablePushIds(parseOversized(data)), toErrorData('payload_too_large', details));
      return;
    }
    if (notUtf8) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: NOT_UTF8_PROBLEM });
    const parsedFrame = parseFrame(data);
    if (!parsedFrame.ok) return this.sendError(conn, 'invalid_input', { field: 'frame', problem: parsedFrame.problem });
    const value = parsedFrame.value;
    const type = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
    this.metrics.frames.inc({ direction: 'in', type: frameTypeLabel(type) });
    if (type === 'hello') {
      if (conn.helloSeen) {
        return this.fail(
          conn,
          'invalid_input',
          { field: 'type', problem: 'a second hello on one connection; a connection is one terminal for its whole life (open a new connection)' },
          CLOSE_CODES.badHandshake,
        );
      }
      conn.helloSeen = true;
      void this.onHello(conn, value as Record<string, unknown>).catch((err) => {
        this.log.error({ err }, 'handshake failed');
        this.fail(conn, 'internal_error', {}, 1011);
      });
      return;
    }
    if (!conn.terminalId) {
      return this.fail(conn, 'unauthenticated', { field: 'type', problem: 'the first frame must be a hello' }, CLOSE_CODES.badHandshake);
    }
    const parsed = sessionFrameSchema.safeParse(value);
    if (!parsed.success) {
      const known = ['hello', 'push', 'ack', 'ping'];
      const details =
        typeof type === 'string' && !known.includes(type)
          ? { field: 'type', problem: `"${type.slice(0, 40)}" is not a message type of protocol v${conn.protocolVersion} (expected ${known.join(', ')})` }
          : describeIssue(parsed.error);
      this.sendError(conn, 'invalid_input', details);
      // SIM-1: a push refused as a whole (more than 500 mutations, a field too many) still answers
      // each id it holds, so the terminal sends them again rather than counting them as sent.
      if (type === 'push' && !conn.closed) this.refuseWhole(conn, readablePushIds(value), toErrorData('invalid_input', details));
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case 'push':
        return this.onPush(conn, frame.mutations);
      case 'ack':
        if (frame.cursor > conn.sentCursor) {
          return this.sendError(conn, 'invalid_input', { field: 'cursor', problem: `acknowledges ${frame.cursor}, beyond the ${conn.sentCursor} sent` });
        }
        conn.awaitingAck = false;
        // A terminal still catching up (a snapshot, or a replay with more to come) gets its next
        // page at once. One that is caught up waits for the push tick, with every other terminal:
        // they then all read from the same cursor, so each department's page is read and encoded
        // once per tick for its ~50 kiosks instead of once per kiosk (deltaPage).
        if (conn.snapshot || conn.owesCaughtUp) this.pump(conn);
        return;
      case 'ping':
        if (frame.outbox !== undefined && frame.outbox !== conn.outbox) {
          // Saved with the next heartbeat write (SUP-3: supervisors see queued work).
          conn.outbox = frame.outbox;
          conn.outboxUnsaved = true;
        }
        this.send(conn, { type: 'pong', t: frame.t, serverTime: this.clock.now() });
        return;
    }
  }

  /**
   * PROTO-1: the version is read first; a version this server does not speak is answered
   * `incompatible` whatever else the hello holds (a later version may have other fields). The
   * rest is then validated against that version's hello.
   */
  private async onHello(conn: Connection, raw: Record<string, unknown>): Promise<void> {
    if (conn.handshakeTimer) this.options.timers.clearTimeout(conn.handshakeTimer);
    const version = raw.protocolVersion;
    if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
      return this.fail(conn, 'invalid_input', { field: 'protocolVersion', problem: 'must be a whole number' }, CLOSE_CODES.badHandshake);
    }
    if (version < MIN_PROTOCOL_VERSION || version > PROTOCOL_VERSION) {
      const tooOld = version < MIN_PROTOCOL_VERSION;
      this.send(conn, {
        type: 'incompatible',
        reason: tooOld ? 'terminal_too_old' : 'server_too_old',
        minProtocolVersion: MIN_PROTOCOL_VERSION,
        maxProtocolVersion: PROTOCOL_VERSION,
        message: tooOld
          ? `This terminal speaks protocol ${version}; the server needs ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}. Update the terminal.`
          : `This terminal speaks protocol ${version}; the server only knows up to ${PROTOCOL_VERSION}. Update the server.`,
      });
      conn.ws.close(CLOSE_CODES.incompatible, tooOld ? 'terminal too old' : 'server too old');
      conn.closed = true;
      return;
    }
    const illFormed = illFormedTextPath(raw);
    if (illFormed !== null) return this.fail(conn, 'invalid_input', { field: illFormed, problem: ILL_FORMED_PROBLEM }, CLOSE_CODES.badHandshake);
    const parsed = HELLO_SCHEMAS[version]!.safeParse(raw);
    if (!parsed.success) return this.fail(conn, 'invalid_input', describeIssue(parsed.error), CLOSE_CODES.badHandshake);
    const hello: Hello = parsed.data;
    conn.protocolVersion = version;
    conn.outbox = 'outbox' in hello ? hello.outbox : null;
    const generation = this.disconnects.get(hello.terminalId)?.generation ?? 0;
    const terminal = await this.store.getTerminal(hello.terminalId);
    if (!terminal || !terminal.active || !hashEquals(terminal.tokenHash, tokenHash(hello.token))) {
      this.log.warn({ terminal: hello.terminalId, remote: conn.remote }, 'terminal handshake refused: bad token');
      const problem = !terminal
        ? `terminal ${hello.terminalId} is not enrolled`
        : !terminal.active
          ? `terminal ${hello.terminalId} is disabled`
          : 'the terminal token is wrong or was replaced';
      return this.fail(conn, 'unauthenticated', { problem }, CLOSE_CODES.unauthorized);
    }
    if (conn.closed) return;
    // API-8: an administrator disabled the terminal, replaced its token or changed its departments
    // while its row was being read (on PostgreSQL, a round trip): the row read may be the old one,
    // and disconnect() found no connection to close. It is closed now, as disconnect() would have.
    const since = this.disconnects.get(terminal.id);
    if (since && since.generation !== generation) {
      this.log.info({ terminal: terminal.id, reason: since.reason }, 'disconnecting terminal during its handshake');
      conn.ws.close(since.code, since.reason);
      conn.closed = true;
      return;
    }
    const previous = this.conns.get(terminal.id);
    if (previous && previous !== conn) {
      previous.ws.close(CLOSE_CODES.replaced, 'replaced by a newer connection of this terminal');
      previous.closed = true;
    }
    conn.terminalId = terminal.id;
    conn.tokenHash = terminal.tokenHash;
    conn.departments = [...terminal.departments].sort();
    this.conns.set(terminal.id, conn);
    this.refusedFrom.delete(terminal.id);
    this.metrics.connections.set(this.conns.size);

    const now = this.clock.now();
    conn.connectedAt = now;
    // SYNC-4 judges how far behind the terminal was when it said hello (its own handshake is a change too).
    // SUP-3 SUP-5: a link that drops (or is replaced) while this is written records its
    // disconnection only after it (forget waits for `presence`), so the store never keeps a gone
    // kiosk as connected; one gone before the write does not write it.
    const handshake = (async () => {
      const headAtHello = await this.store.headSeq();
      if (this.conns.get(terminal.id) !== conn) return headAtHello;
      await this.store.recordHandshake(terminal.id, {
        now,
        clockOffsetMs: now - hello.clientTime,
        ackedMutationId: hello.lastAckedMutationId,
        appVersion: hello.appVersion,
        protocolVersion: version,
        outbox: conn.outbox,
      });
      return headAtHello;
    })();
    conn.presence = handshake.catch(() => {});
    const headAtHello = await handshake;
    const [head, pruned, config, salt] = await Promise.all([
      this.store.headSeq(),
      this.store.prunedThroughSeq(),
      this.store.getConfig(),
      this.store.siteSalt(),
    ]);
    this.head = Math.max(this.head, head);
    // SYNC-4: a replay of more than maxReplay changes costs more than a snapshot of the departments.
    const needSnapshot = hello.cursor === null || hello.cursor < pruned || hello.cursor > head || headAtHello - hello.cursor > this.options.maxReplay;
    this.send(conn, {
      type: 'welcome',
      protocolVersion: version,
      serverTime: now,
      terminal: { id: terminal.id, name: terminal.name, departments: terminal.departments },
      lastMutationId: terminal.lastMutationId,
      siteSalt: salt,
      config,
      sync: needSnapshot ? 'snapshot' : 'delta',
    });
    this.log.info({ terminal: terminal.id, remote: conn.remote, sync: needSnapshot ? 'snapshot' : 'delta' }, 'terminal connected');
    // Outcomes the terminal has not stored yet (lost with the previous connection).
    for (let after = hello.lastAckedMutationId; ; ) {
      const outcomes = await this.store.outcomesAfter(terminal.id, after, 500, this.clock.now());
      if (outcomes.length === 0 || conn.closed) break;
      this.send(conn, { type: 'results', outcomes });
      after = outcomes[outcomes.length - 1]!.id;
    }
    if (needSnapshot) conn.snapshot = { pos: null, head, first: true, prefetched: null };
    else conn.sentCursor = hello.cursor!;
    conn.welcomed = true;
    conn.dirty = true;
    this.pump(conn);
  }

  private onPush(conn: Connection, mutations: unknown[]): void {
    const committer = this.committer!;
    const terminalId = conn.terminalId!;
    const valid: Array<{ id: number; raw: unknown }> = [];
    const noId: number[] = [];
    mutations.forEach((raw, index) => {
      const id = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) noId.push(index);
      else valid.push({ id, raw });
    });
    if (noId.length > 0) {
      // SEC-5: one refused frame gets one answer, however many of its mutations lack an id.
      const shown = noId.slice(0, 10).join(', ');
      this.sendError(conn, 'invalid_input', {
        field: `mutations.${noId[0]}.id`,
        problem:
          noId.length === 1
            ? 'must be a positive integer; this mutation was ignored'
            : `must be a positive integer; ${noId.length} mutations of this push have none (indexes ${shown}${noId.length > 10 ? ', …' : ''}) and were ignored`,
      });
      if (conn.closed) return;
    }
    if (valid.length === 0) return;
    // Counted by terminal, not by connection: a kiosk that reconnects while its earlier connection's
    // mutations still wait in the queue re-sends them, and each reconnect would add another copy
    // (below the limit they are queued again and answered from their stored outcomes, PROTO-5).
    const pending = this.pendingByTerminal.get(terminalId) ?? 0;
    const queued = this.queuedIds.get(terminalId) ?? new Map<number, number>();
    const lowest = Math.min(...valid.map((m) => m.id));
    const heldFrom = this.refusedFrom.get(terminalId);
    // PROTO-9 PROTO-12: once a push was refused from id X, a later push of ids all above X is refused
    // too, until X is re-sent: else a smaller later push went in first, and X came back "already used".
    if ((heldFrom !== undefined && lowest > heldFrom) || pending + valid.length > this.options.maxPendingMutations) {
      return this.refuseWhole(conn, valid.map(({ id }) => id), toErrorData('rate_limited', { retryAfterSeconds: 1 }));
    }
    this.refusedFrom.delete(terminalId);
    this.pendingByTerminal.set(terminalId, pending + valid.length);
    for (const { id } of valid) queued.set(id, (queued.get(id) ?? 0) + 1);
    this.queuedIds.set(terminalId, queued);
    for (const { id, raw } of valid) {
      const started = performance.now();
      const name = (raw as { name?: unknown }).name;
      committer
        .submit({ kind: 'terminal', terminalId, connection: conn.seq, id, raw })
        .then(
          (outcome) => {
            this.metrics.mutations.inc({ name: mutationLabel(name), via: 'terminal', outcome: outcome.status });
            if (name === 'claim') this.metrics.claimLatency.observe({ via: 'terminal' }, (performance.now() - started) / 1000);
            this.sendOutcome(conn, outcome);
          },
          (err: unknown) => {
            if (!(err instanceof DeferredError)) this.log.error({ err, terminal: terminalId, mutation: id }, 'mutation failed; terminal will retry');
            const code: ErrorCode = err instanceof DomainError ? err.code : 'internal_error';
            this.metrics.mutations.inc({ name: mutationLabel(name), via: 'terminal', outcome: 'retry' });
            this.sendOutcome(conn, { id, status: 'retry', error: toErrorData(code, {}), retryAfterMs: 1000 });
          },
        )
        .finally(() => {
          const left = (this.pendingByTerminal.get(terminalId) ?? 1) - 1;
          if (left > 0) this.pendingByTerminal.set(terminalId, left);
          else this.pendingByTerminal.delete(terminalId);
          const ids = this.queuedIds.get(terminalId);
          const copies = (ids?.get(id) ?? 1) - 1;
          if (copies > 0) ids!.set(id, copies);
          else ids?.delete(id);
          if (ids?.size === 0) this.queuedIds.delete(terminalId);
        });
    }
  }

  /**
   * A push refused as a whole (too many waiting, too large, malformed): each of `ids` is answered
   * `retry` (not consumed), and the terminal's later pushes wait for the lowest of them (refusedFrom).
   */
  private refuseWhole(conn: Connection, ids: number[], error: ErrorData): void {
    const terminalId = conn.terminalId!;
    // The lowest refused id that is not already queued (a copy an earlier connection sent is
    // committed, and a re-sent one answered from its outcome, without it).
    const queued = this.queuedIds.get(terminalId);
    let from = this.refusedFrom.get(terminalId) ?? Infinity;
    for (const id of ids) if (id < from && !queued?.has(id)) from = id;
    if (from !== Infinity) this.refusedFrom.set(terminalId, from);
    if (ids.length > 0) this.send(conn, { type: 'results', outcomes: ids.map((id) => ({ id, status: 'retry' as const, error, retryAfterMs: 1000 })) });
  }

  /** PROTO-12: each terminal's mutations in the committer's queue, whichever connection sent them. */
  private readonly pendingByTerminal = new Map<string, number>();
  /** The ids of those mutations, with how many copies of each are queued (a reconnect may re-send one). */
  private readonly queuedIds = new Map<string, Map<number, number>>();
  /**
   * PROTO-9 PROTO-12 SIM-1: the lowest id of a terminal's push refused as a whole (rate-limited, too
   * large, malformed: refuseWhole) that was not already queued, until a push from that id (or below)
   * is queued: a later push of ids all above it is refused too (`rate_limited`), so the refused ones
   * still go in first. (The terminal re-sends everything from the lowest id answered `retry`.) A new
   * connection of the terminal clears it: the terminal re-sends from the welcome's `lastMutationId`,
   * so its first push holds the refused id if it still waits.
   */
  private readonly refusedFrom = new Map<string, number>();

  /** Outcomes of one event-loop turn go out together in one frame per terminal. */
  private outbox = new Map<Connection, MutationOutcome[]>();
  private outboxScheduled = false;

  private sendOutcome(conn: Connection, outcome: MutationOutcome): void {
    const list = this.outbox.get(conn) ?? [];
    list.push(outcome);
    this.outbox.set(conn, list);
    if (this.outboxScheduled) return;
    this.outboxScheduled = true;
    queueMicrotask(() => {
      this.outboxScheduled = false;
      const batches = this.outbox;
      this.outbox = new Map();
      for (const [c, outcomes] of batches) this.send(c, { type: 'results', outcomes });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Read sync

  /**
   * The push timer: changes committed outside the group committer (administration, imports, the
   * admin CLI in another process) move the log's head without telling the hub; notice that, then
   * push.
   */
  private async tick(): Promise<void> {
    const head = await this.store.headSeq().catch(() => this.tickHead);
    // Compared with what this timer saw last, not with the committer's notices: a group committed
    // after an outside write would otherwise raise `head` past that write, and it would never go out.
    if (head > this.tickHead) {
      this.tickHead = head;
      this.head = Math.max(this.head, head);
      for (const c of this.conns.values()) c.dirty = true;
    }
    await this.pushRound();
  }

  /** Send what is pending to every marked terminal that is not waiting to acknowledge a page. */
  private async pushRound(): Promise<void> {
    if (this.pushing) return;
    this.pushing = true;
    try {
      // SEC-9: a page not read yet is read right where its first terminal asks for it; after an
      // import, terminals catching up sit at many cursors, so the reads are spread over turns of
      // the event loop (about SLICE_MS each) instead of one long stretch.
      const slicer = new Slicer(this.options.loopBudget);
      for (const c of [...this.conns.values()]) {
        if (c.dirty && !c.awaitingAck && !c.pumping) this.pump(c);
        const due = slicer.due();
        if (due) await due;
      }
    } finally {
      this.pushing = false;
    }
  }

  /** A push round of the timer is under way (tick). */
  private pushing = false;

  /** Send pending live changes to every marked terminal (at once: the simulation drives this). */
  pushDirty(): void {
    for (const c of this.conns.values()) if (c.dirty && !c.awaitingAck && !c.pumping) this.pump(c);
  }

  /**
   * Page reads share a budget per turn of the event loop (TurnBudget): a connection whose page would
   * start after this turn's budget is spent gets it in a later turn.
   */
  private readonly reads: TurnBudget;
  /** Page sizes by cost on a store that reads on the event loop (PageSizer): snapshot and change pages. */
  private readonly snapshotSizer: PageSizer;
  private readonly changeSizer: PageSizer;

  /** How many connected terminals are taking a snapshot now. */
  get snapshotsInProgress(): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.snapshot) n++;
    return n;
  }

  private snapshotPage(departments: string[], pos: SnapshotPosition | null, now: number): Promise<SnapshotPage> {
    return this.snapshotSizer.read((limit) => this.store.snapshotPage(departments, pos, limit, now), entities);
  }

  private pump(conn: Connection): void {
    this.reads.run(conn, () => void this.pumpNow(conn));
  }

  /**
   * Issue 12: a place in the line of page sends (the event loop's budget per turn, slices.ts). A
   * department's page, read once, goes to its 50 kiosks: writing it to their sockets one after
   * another took 30-65 ms of a turn after an import. Returns what to call once the send is done.
   */
  private async sendSlot(): Promise<() => void> {
    const turn = this.sendLine.enter();
    if (turn) await turn;
    return () => this.sendLine.next(turn !== null);
  }

  private readonly sendLine: Line;

  /** Whether something waits that kiosks' snapshot pages give way to (an overview loading its own). */
  private giveWay: () => boolean = () => false;
  /**
   * SUP-1: while `giveWay` says so, one kiosk's snapshot page is let through to the send line per
   * turn of the event loop (TurnGate): a person waits at the overview, and 60 kiosks enrolled at
   * once would otherwise take most of each turn with their pages. They still go, one every turn.
   */
  private readonly snapshotGate: TurnGate;

  /** What kiosks' snapshot pages give way to (the app: a supervisor's overview loading its snapshot). */
  giveWayTo(giveWay: () => boolean): void {
    this.giveWay = giveWay;
  }

  private async pumpNow(conn: Connection): Promise<void> {
    if (conn.pumping || conn.awaitingAck || conn.closed || !conn.welcomed) return;
    conn.pumping = true;
    let sent = () => {};
    try {
      const now = this.clock.now();
      if (conn.snapshot) {
        const snap = conn.snapshot;
        // Taken before it is awaited: a read that failed is not handed to every retry.
        const prefetched = snap.prefetched;
        snap.prefetched = null;
        const page = await (prefetched ?? this.snapshotPage(conn.departments, snap.pos, now));
        await this.snapshotGate.pass();
        // Gone while it waited: neither the page nor a read of the next is for anyone.
        if (conn.closed) return;
        sent = await this.sendSlot();
        const last = page.next === null;
        this.send(conn, {
          type: 'changes',
          mode: 'snapshot',
          reset: snap.first,
          cursor: last ? snap.head : null,
          more: !last,
          tasks: page.tasks,
          users: page.users,
          departments: page.departments,
          config: page.config,
          notifications: page.notifications,
        });
        snap.first = false;
        snap.pos = page.next;
        if (!last) {
          // Read the next page while the terminal applies this one (one page ahead, no more), so a
          // snapshot costs the slower of the two sides per page, not both.
          snap.prefetched = this.snapshotPage(conn.departments, snap.pos, this.clock.now());
          snap.prefetched.catch(() => {});
        }
        if (last) {
          conn.snapshot = null;
          conn.sentCursor = snap.head;
          conn.dirty = true;
        }
        conn.awaitingAck = true;
        return;
      }
      if (!conn.dirty) return;
      const read = this.deltaEntry(conn.departments, conn.sentCursor, conn.protocolVersion, now);
      const headAtRead = read.head;
      const { page, text, bytes } = await read.page;
      sent = await this.sendSlot();
      if (page.lastSeq === conn.sentCursor) {
        // SYNC-1: nothing (more) for this terminal's departments as of the head when the read began
        // (perhaps a peer's read of the same page, begun earlier). A commit noticed since marked this
        // terminal again and was skipped (it was pumping): the mark stays, and the next round reads again.
        if (this.head === headAtRead) conn.dirty = false;
        if (conn.owesCaughtUp) {
          conn.owesCaughtUp = false;
          this.send(conn, {
            type: 'changes',
            mode: 'delta',
            reset: false,
            cursor: conn.sentCursor,
            more: false,
            tasks: [],
            users: [],
            departments: [],
            config: null,
            notifications: [],
          });
          conn.awaitingAck = true;
        }
        return;
      }
      this.sendText(conn, text, 'changes', bytes);
      this.lastLivePush = performance.now();
      conn.sentCursor = page.lastSeq;
      conn.awaitingAck = true;
      conn.owesCaughtUp = page.more;
      if (!page.more && page.lastSeq >= this.head) conn.dirty = false;
      if (page.more) {
        // Catching up: read the next page while the terminal applies this one (the page cache keeps
        // a full page for PAGE_CACHE_MS), as snapshots do, within the turn's budget for page reads.
        const { departments, protocolVersion } = conn;
        this.reads.run(`ahead|${protocolVersion}|${departments.join(',')}|${page.lastSeq}`, () => {
          this.deltaPage(departments, page.lastSeq, protocolVersion, this.clock.now()).catch(() => undefined);
        });
      }
    } catch (err) {
      this.log.error({ err, terminal: conn.terminalId }, 'sending changes failed');
    } finally {
      conn.pumping = false;
      sent();
    }
  }

  /**
   * A delta page, read and serialised once for every terminal of the same departments at the same
   * cursor, not once per terminal. Caught-up terminals of a department read together on the push
   * tick. A full page (`more`: the first pageSize changes after its cursor, a range later commits
   * cannot add to) also serves, for PAGE_CACHE_MS, the terminals that reach its cursor later:
   * terminals catching up after an import of thousands of tasks acknowledge at different moments,
   * and each finds the page its peers read a moment before (what changed since has a later sequence,
   * so a later page brings it, and terminals keep the newer version of a task). A partial page
   * serves only while the head has not moved since it was read.
   */
  private readonly pageCache = new Map<string, { at: number; head: number; full: boolean | null; page: Promise<SharedPage> }>();

  private deltaPage(departments: string[], cursor: number, version: number, now: number): Promise<SharedPage> {
    return this.deltaEntry(departments, cursor, version, now).page;
  }

  private deltaEntry(departments: string[], cursor: number, version: number, now: number): { head: number; page: Promise<SharedPage> } {
    const key = `${version}|${departments.join(',')}|${cursor}`;
    // The hub's clock, not the wall's: the simulation's virtual time keeps its runs reproducible.
    const at = this.clock.now();
    // Still being read (as fresh as any), nothing committed since, or a full page young enough.
    const usable = (e: { at: number; head: number; full: boolean | null }) => e.full === null || e.head === this.head || (e.full && at - e.at < PAGE_CACHE_MS);
    const cached = this.pageCache.get(key);
    if (cached && usable(cached)) return cached;
    for (const [k, e] of this.pageCache) if (!usable(e)) this.pageCache.delete(k);
    if (this.pageCache.size >= PAGE_CACHE_ENTRIES) this.pageCache.delete(this.pageCache.keys().next().value!);
    const entry: { at: number; head: number; full: boolean | null; page: Promise<SharedPage> } = { at, head: this.head, full: null, page: null! };
    entry.page = this.changeSizer.read((limit) => this.store.changesPage(departments, cursor, limit, now), entities).then((page) => {
      entry.full = page.more;
      const text = JSON.stringify(
        frameForVersion(
            {
              type: 'changes',
              mode: 'delta',
              reset: false,
              cursor: page.lastSeq,
              more: page.more,
              tasks: page.tasks,
              users: page.users,
              departments: page.departments,
              config: page.config,
              notifications: page.notifications,
            },
            version,
          ),
      );
      // Encoded once for all who get it: a catch-up page of 1,000 tasks is ~350 KB, and after an
      // import 200 kiosks get 13 each; encoded for each send, that was 900 MB of UTF-8 encoding.
      return { page, text, bytes: Buffer.from(text) };
    });
    // A failed read is not kept: the next terminal tries again.
    entry.page.catch(() => {
      if (this.pageCache.get(key) === entry) this.pageCache.delete(key);
    });
    this.pageCache.set(key, entry);
    return entry;
  }

  /**
   * A heartbeat round (the heartbeat timer's): ping every connection, drop those that did not answer
   * the last ping, and record the others seen now (INST-3). Resolves once that is written.
   */
  beat(): Promise<void> {
    const seen: string[] = [];
    const outboxes = new Map<string, number>();
    for (const c of this.all) {
      if (!c.alive) {
        this.log.info({ terminal: c.terminalId }, 'terminal missed a heartbeat; dropping the connection');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      if (c.terminalId) seen.push(c.terminalId);
      if (c.terminalId && c.outboxUnsaved && c.outbox !== null) {
        outboxes.set(c.terminalId, c.outbox);
        c.outboxUnsaved = false;
      }
    }
    // One write (one fsync) for every terminal that answered, not one each.
    return this.store.touchTerminals(seen, this.clock.now(), outboxes).catch((err: unknown) => this.log.warn({ err }, 'recording terminals seen failed'));
  }
}

/** A delta page as sent: serialised once, and encoded once, for every terminal that gets it. */
interface SharedPage {
  page: ChangesPage;
  text: string;
  bytes: Uint8Array;
}

/**
 * Most entities in a kiosk's snapshot page read off the event loop while several kiosks take
 * snapshots at once (about 15 ms of a read thread's time). Pages of 1,000 then raised the overview's
 * commit-to-visible p50 from 53-54 to 57-61 ms (the loop sends them); a kiosk alone took its
 * snapshot in 0.88x the time with them, so it gets full pages (README, "A plant's shape", 36.).
 */
export const THREAD_SNAPSHOT_PAGE = 500;

/**
 * Commas, braces and brackets an oversized frame may hold and still be read for its ids: a push of
 * 500 mutations has about 4,000; a frame of 4 MiB crafted of tiny values or deep nesting took 70 ms
 * to over a second to parse (SEC-9), and is answered with its error frame alone.
 */
const OVERSIZED_MAX_TOKENS = 20 * MAX_MUTATIONS_PER_PUSH;

/** An oversized frame's JSON value, or null when it is not JSON or too costly to parse. */
function parseOversized(text: string): unknown {
  let tokens = 0;
  for (const ch of [',', '{', '[']) {
    for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) if (++tokens > OVERSIZED_MAX_TOKENS) return null;
  }
  if (jsonNestsDeeperThan(text)) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The ids a push refused as a whole holds (SIM-1): each mutation's that is a positive whole number,
 * the first MAX_MUTATIONS_PER_PUSH of them and the lowest (the terminal re-sends from the lowest id
 * answered `retry`), so a huge frame is not answered with a huger one.
 */
export function readablePushIds(value: unknown): number[] {
  if (!value || typeof value !== 'object') return [];
  const { type, mutations } = value as { type?: unknown; mutations?: unknown };
  if (type !== 'push' || !Array.isArray(mutations)) return [];
  const ids = new Set<number>();
  let lowest = Infinity;
  for (const m of mutations) {
    const id = m && typeof m === 'object' ? (m as { id?: unknown }).id : undefined;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) continue;
    if (ids.size < MAX_MUTATIONS_PER_PUSH) ids.add(id);
    lowest = Math.min(lowest, id);
  }
  if (lowest !== Infinity) ids.add(lowest);
  return [...ids];
}

/** What a page holds, for its cost per entity (PageSizer). */
function entities(page: ChangeData): number {
  return page.tasks.length + page.users.length + page.notifications.length + page.departments.length;
}

function wsPeer(ws: WebSocket): PeerSocket {
  return {
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (text, bytes) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // The same bytes, sent as a text frame (ws would otherwise call a Buffer binary).
      if (bytes) ws.send(bytes, { binary: false });
      else ws.send(text);
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    ping: () => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
  };
}

/** SYNC-1 SEC-10: an outcome as a terminal serving `departments` may read it. */
function outcomeInScope(o: MutationOutcome, departments: readonly string[]): MutationOutcome {
  if (o.status === 'retry' || o.task === null || (o.task.departmentId !== null && departments.includes(o.task.departmentId))) return o;
  return { ...o, task: null };
}
