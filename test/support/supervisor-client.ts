/**
 * A bare supervisor-subscription client for tests (SUP-1): opens /supervise like a supervisor's
 * page, validates every frame it receives against the shared schema, keeps each frame's raw text
 * (to prove what a page never receives), and waits for frames with a timeout.
 */
import WebSocket from 'ws';
import {
  SUPERVISOR_PATH,
  SUPERVISOR_PROTOCOL,
  SUPERVISOR_PROTOCOL_VERSION,
  decodeChanges,
  supervisorServerFrameSchema,
  type SupervisorChanges,
  type SupervisorChangesFrame,
  type SupervisorMessage,
} from '../../src-shared/protocol/supervisor.js';

export type Changes = SupervisorChanges;
export type Welcome = Extract<SupervisorMessage, { type: 'welcome' }>;
export type ErrorFrame = Extract<SupervisorMessage, { type: 'error' }>;

/** The /supervise URL of a server whose HTTP base is `baseUrl`. */
export function superviseUrl(baseUrl: string): string {
  return baseUrl.replace(/^http/, 'ws') + SUPERVISOR_PATH;
}

/** Open a WebSocket and report how the upgrade ended: open, or the HTTP status it was refused with. */
export function tryUpgrade(url: string, headers: Record<string, string> = {}, ms = 3000): Promise<{ opened: boolean; status: number | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('upgrade neither opened nor was refused in time'));
    }, ms);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve({ opened: true, status: null });
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      ws.terminate();
      resolve({ opened: false, status: res.statusCode ?? null });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export class SupervisorClient {
  readonly frames: SupervisorMessage[] = [];
  /** Every frame exactly as received. */
  readonly texts: string[] = [];
  /** Frames that did not match the shared schema (a server bug). */
  readonly invalid: string[] = [];
  closeCode: number | null = null;
  closeReason = '';
  /** Acknowledge every change page as soon as it arrives (a page that keeps up). */
  autoAck = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = String(data);
      this.texts.push(text);
      const parsed = supervisorServerFrameSchema.safeParse(JSON.parse(text));
      if (!parsed.success) this.invalid.push(`${parsed.error.message} in ${text.slice(0, 300)}`);
      const raw = JSON.parse(text) as SupervisorMessage | SupervisorChangesFrame;
      // Change pages carry tasks as a table; tests read them as objects.
      const frame = (raw.type === 'changes' && !Array.isArray(raw.tasks) ? decodeChanges(raw as SupervisorChangesFrame) : raw) as SupervisorMessage;
      this.frames.push(frame);
      if (this.autoAck && frame.type === 'changes') this.ack(frame.cursor ?? 0);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      this.wake();
    });
  }

  static async open(baseUrl: string, headers: Record<string, string> = {}): Promise<SupervisorClient> {
    const ws = new WebSocket(superviseUrl(baseUrl), { headers });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('supervisor WebSocket did not open')), 3000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new SupervisorClient(ws);
  }

  /** Open, say hello, and wait for the first answer (welcome, error or incompatible). */
  static async connect(
    baseUrl: string,
    opts: { token?: string; cursor?: number | null; headers?: Record<string, string>; protocolVersion?: number } = {},
  ): Promise<SupervisorClient> {
    const c = await SupervisorClient.open(baseUrl, opts.headers);
    c.hello(opts);
    await c.waitFor((f) => f.type === 'welcome' || f.type === 'error' || f.type === 'incompatible');
    return c;
  }

  hello(opts: { token?: string; cursor?: number | null; protocolVersion?: number } = {}): void {
    this.send({
      type: 'hello',
      protocol: SUPERVISOR_PROTOCOL,
      protocolVersion: opts.protocolVersion ?? SUPERVISOR_PROTOCOL_VERSION,
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      cursor: opts.cursor ?? null,
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  ack(cursor: number): void {
    if (this.ws.readyState === WebSocket.OPEN) this.send({ type: 'ack', cursor });
  }

  get welcome(): Welcome | undefined {
    return this.frames.find((f): f is Welcome => f.type === 'welcome');
  }

  changes(from = 0): Changes[] {
    return this.frames.slice(from).filter((f): f is Changes => f.type === 'changes');
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Wait until a frame at index >= `from` matches `pred`, up to `ms`. */
  async waitFor<T extends SupervisorMessage>(pred: (f: SupervisorMessage) => boolean, ms = 3000, from = 0): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.invalid.length) throw new Error(`the server sent a frame outside the schema: ${this.invalid[0]}`);
      const found = this.frames.slice(from).find(pred);
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

  /**
   * Send a ping and wait for its pong. Frames on a connection arrive in the order the server sent
   * them, so everything the server sent this page before answering has arrived by then: the marker
   * to wait for before asserting that something did not come.
   */
  async ping(ms = 3000): Promise<void> {
    const from = this.frames.length;
    const t = Date.now();
    this.send({ type: 'ping', t });
    await this.waitFor((f) => f.type === 'pong' && f.t === t, ms, from);
  }

  /** Wait for a change page at index >= `from` holding something `pred` accepts. */
  waitForChange(pred: (c: Changes) => boolean, ms = 3000, from = 0): Promise<Changes> {
    return this.waitFor<Changes>((f) => f.type === 'changes' && pred(f), ms, from);
  }

  async waitClose(ms = 3000): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error(`connection did not close within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeCode;
  }

  /**
   * Read the snapshot (or catch-up) page by page, acknowledging each, until the server says the
   * page is caught up (a delta page with nothing more); from then on acknowledge automatically.
   */
  async sync(ms = 3000): Promise<Changes[]> {
    const pages: Changes[] = [];
    let index = this.frames.findIndex((f) => f.type === 'welcome') + 1;
    for (;;) {
      const page = await this.waitFor<Changes>((f) => f.type === 'changes', ms, index);
      index = this.frames.indexOf(page) + 1;
      pages.push(page);
      this.ack(page.cursor ?? 0);
      if (page.mode === 'delta' && !page.more) break;
    }
    this.autoAck = true;
    return pages;
  }

  /** The last cursor the server gave this page. */
  get cursor(): number | null {
    const withCursor = this.changes().filter((c) => c.cursor !== null);
    return withCursor.at(-1)?.cursor ?? null;
  }

  close(): void {
    this.ws.close();
  }
}

/** Everything a list of pages holds, merged by kind (later pages win). */
export function merged(pages: readonly Changes[]) {
  const tasks = new Map<string, Changes['tasks'][number]>();
  const people = new Map<string, Changes['people'][number]>();
  const terminals = new Map<string, Changes['terminals'][number]>();
  const exceptions = new Map<number, Changes['exceptions'][number]>();
  const notifications = new Map<number, Changes['notifications'][number]>();
  const departments = new Map<string, Changes['departments'][number]>();
  for (const p of pages) {
    for (const t of p.tasks) tasks.set(t.id, t);
    for (const x of p.people) people.set(x.id, x);
    for (const t of p.terminals) terminals.set(t.id, t);
    for (const e of p.exceptions) exceptions.set(e.id, e);
    for (const n of p.notifications) notifications.set(n.id, n);
    for (const d of p.departments) departments.set(d.id, d);
  }
  return { tasks, people, terminals, exceptions, notifications, departments };
}

/** A page's notifications in id order, each as [event, task, read or unread]: what a supervisor's bell lists. */
export function notificationTrail(pages: readonly Changes[]): Array<[string, string | null, 'read' | 'unread']> {
  return [...merged(pages).notifications.values()].sort((a, b) => a.id - b.id).map((n) => [n.event, n.taskId, n.readAt === null ? 'unread' : 'read']);
}
