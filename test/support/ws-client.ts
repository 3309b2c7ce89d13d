/** A bare protocol-v1 client for tests: sends frames, records what comes back, waits for frames. */
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type MutationOutcome, type ServerFrame } from '../../src-shared/protocol/terminal.js';

/**
 * PROTO-5: what must be the same when an outcome is sent again: its decision, and which task it
 * was about (the task itself comes as it is at that moment, so it may have moved on).
 */
export function decisionOf(o: MutationOutcome | undefined): unknown {
  return o && o.status !== 'retry' ? { ...o, task: o.task?.id ?? null } : o;
}

export class TestClient {
  readonly frames: ServerFrame[] = [];
  /** Frames that came as binary (protocol v1 frames are JSON text: there should be none). */
  binaryFrames = 0;
  closeCode: number | null = null;
  closeReason = '';
  private waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaryFrames++;
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      this.wake();
    });
  }

  static async open(url: string): Promise<TestClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestClient(ws);
  }

  /** Connect and say hello; resolves after the welcome (and the first sync page) arrived. */
  static async connect(
    url: string,
    hello: {
      terminalId: string;
      token: string;
      cursor?: number | null;
      lastAckedMutationId?: number;
      clientTime?: number;
      outbox?: number;
      /** An older terminal (PROTO-1); the current version by default. */
      protocolVersion?: number;
    },
  ): Promise<TestClient> {
    const c = await TestClient.open(url);
    c.sendRaw({
      type: 'hello',
      protocolVersion: hello.protocolVersion ?? PROTOCOL_VERSION,
      terminalId: hello.terminalId,
      token: hello.token,
      cursor: hello.cursor ?? null,
      lastAckedMutationId: hello.lastAckedMutationId ?? 0,
      clientTime: hello.clientTime ?? Date.now(),
      appVersion: 'test',
      outbox: hello.outbox ?? 0,
    });
    await c.waitFor((f) => f.type === 'welcome' || f.type === 'error' || f.type === 'incompatible');
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  sendRaw(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Wait until a frame matching `pred` has arrived (searching all frames so far), up to `ms`. */
  async waitFor<T extends ServerFrame>(pred: (f: ServerFrame) => boolean, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(pred);
      if (found) return found as T;
      if (this.closeCode !== null) throw new Error(`connection closed (${this.closeCode} ${this.closeReason}) before the frame arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClose(ms = 5000): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error('connection did not close');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeCode;
  }

  /**
   * Send a ping and wait for its pong. Frames on a connection arrive in the order the server sent
   * them, so everything the server sent this connection before answering has arrived by then: the
   * marker to wait for before asserting that something did not come.
   */
  async ping(ms = 5000): Promise<void> {
    const from = this.frames.length;
    const t = Date.now();
    this.sendRaw({ type: 'ping', t });
    await this.waitFor((f) => f.type === 'pong' && f.t === t && this.frames.indexOf(f) >= from, ms);
  }

  /** Acknowledge every change page received so far (keeps the server sending). */
  ackAll(): void {
    const pages = this.frames.filter((f) => f.type === 'changes' && f.cursor !== null);
    const last = pages[pages.length - 1];
    if (last && last.type === 'changes') this.sendRaw({ type: 'ack', cursor: last.cursor });
  }

  outcomes(): MutationOutcome[] {
    return this.frames.flatMap((f) => (f.type === 'results' ? f.outcomes : []));
  }

  /** Send mutations and wait for all their outcomes. */
  async mutate(items: Array<{ name: string; args: unknown; operatorId: string; clientTime?: number; id?: number; offline?: boolean }>): Promise<MutationOutcome[]> {
    const mutations = items.map((m) => ({
      id: m.id ?? this.nextId++,
      name: m.name,
      args: m.args,
      operatorId: m.operatorId,
      clientTime: m.clientTime ?? Date.now(),
      ...(m.offline !== undefined ? { offline: m.offline } : {}),
    }));
    for (const m of mutations) this.nextId = Math.max(this.nextId, m.id + 1);
    this.sendRaw({ type: 'push', mutations });
    const ids = new Set(mutations.map((m) => m.id));
    const out: MutationOutcome[] = [];
    for (const id of ids) {
      await this.waitFor((f) => f.type === 'results' && f.outcomes.some((o) => o.id === id && o.status !== 'retry'));
      out.push(this.outcomes().filter((o) => o.id === id && o.status !== 'retry').at(-1)!);
    }
    return out;
  }

  /**
   * As a terminal does it: push, and push again the mutations answered `retry` (PROTO-9: the
   * server was busy, or held the push back), until each has its decision or `ms` pass.
   */
  async mutateUntilDecided(items: Array<{ id: number; name: string; args: unknown; operatorId: string }>, ms = 20_000): Promise<MutationOutcome[]> {
    const deadline = Date.now() + ms;
    const decided = new Map<number, MutationOutcome>();
    let waiting = items;
    while (waiting.length > 0) {
      const from = this.frames.length;
      this.sendRaw({ type: 'push', mutations: waiting.map((m) => ({ ...m, clientTime: Date.now() })) });
      const answered = (id: number) =>
        this.frames.slice(from).flatMap((f) => (f.type === 'results' ? f.outcomes : [])).filter((o) => o.id === id).at(-1);
      for (const m of waiting) await this.waitFor(() => answered(m.id) !== undefined, Math.max(1, deadline - Date.now()));
      for (const m of waiting) {
        const o = answered(m.id)!;
        if (o.status !== 'retry') decided.set(m.id, o);
      }
      waiting = waiting.filter((m) => !decided.has(m.id));
      if (waiting.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    return items.map((m) => decided.get(m.id)!);
  }

  close(): void {
    this.ws.close();
  }
}
