/** A test client for a browser-hosted terminal's `/api` bridge (the TerminalApi over WebSocket). */
import WebSocket from 'ws';
import type { BridgeFrame, TerminalApi } from '../../src-shared/terminal-api.js';
import type { ErrorData } from '../../src-shared/domain/errors.js';

export class BridgeError extends Error {
  constructor(readonly data: ErrorData) {
    super(`${data.code}: ${data.message}`);
  }
}

export class BridgeClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as BridgeFrame;
      if (f.kind !== 'result') return;
      const w = this.waiting.get(f.id);
      if (!w) return;
      this.waiting.delete(f.id);
      if (f.ok) w.resolve(f.value);
      else w.reject(new BridgeError(f.error));
    });
    // A terminal process that goes away answers nothing more: every call still waiting fails now.
    ws.on('close', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the terminal's bridge closed (${code}) before answering`));
      this.waiting.clear();
    });
  }

  static async open(terminalUrl: string): Promise<BridgeClient> {
    const ws = new WebSocket(`${terminalUrl.replace(/^http/, 'ws')}/api`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new BridgeClient(ws);
  }

  /** One call, answered within `ms` or failed saying which call went unanswered. */
  call<M extends keyof TerminalApi>(method: M, input?: Parameters<TerminalApi[M]>[0], ms = 15_000): ReturnType<TerminalApi[M]> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error(`the terminal's bridge is closed; ${method} was not sent`));
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the terminal did not answer ${method} within ${ms} ms`));
      }, ms);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.ws.send(JSON.stringify({ id, method, input: input ?? {} }));
    }) as ReturnType<TerminalApi[M]>;
  }

  /** Poll `getSnapshot` until `pred` holds (bounded). */
  async until(pred: (s: Awaited<ReturnType<TerminalApi['getSnapshot']>>) => boolean, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await this.call('getSnapshot', undefined, Math.max(1000, deadline - Date.now()));
      if (pred(s)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.sync)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.ws.close();
  }
}
