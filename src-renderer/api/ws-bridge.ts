/**
 * The browser transport: the TerminalApi over the browser-hosted terminal's `/api` WebSocket
 * (frames per `BridgeRequest` / `BridgeFrame`). Reconnects with backoff; calls made while the
 * link is down wait for it (up to a limit); a call whose link drops before its answer fails with
 * `unavailable`, since whether it ran is unknown (the screen refreshes from the core after).
 */
import { DomainError, fromErrorData } from '../../src-shared/domain/errors.js';
import type { BridgeFrame, BridgeRequest, TerminalEvent, TerminalMethod } from '../../src-shared/terminal-api.js';

export interface BridgeLink {
  call(method: TerminalMethod, input: unknown): Promise<unknown>;
  subscribe(listener: (event: TerminalEvent) => void): () => void;
  onLink(listener: (up: boolean) => void): () => void;
  close(): void;
}

export interface BridgeOptions {
  url: string;
  /** WebSocket constructor (tests pass a fake). */
  WebSocketImpl?: typeof WebSocket;
  callTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: DomainError): void;
  timer: ReturnType<typeof setTimeout>;
  /** Sent on the current socket (so a drop fails it) or still queued. */
  sent: boolean;
  frame: string;
}

/** `ws://host/api` for the page's own origin. */
export function bridgeUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
}

export function connectBridge(o: BridgeOptions): BridgeLink {
  const WS = o.WebSocketImpl ?? WebSocket;
  const callTimeoutMs = o.callTimeoutMs ?? 15_000;
  const backoffInitial = o.backoffInitialMs ?? 200;
  const backoffMax = o.backoffMaxMs ?? 3_000;
  const events = new Set<(e: TerminalEvent) => void>();
  const links = new Set<(up: boolean) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  /** null until the first connection attempt has succeeded or failed. */
  let up: boolean | null = null;
  let closed = false;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  const setUp = (value: boolean) => {
    if (up === value) return;
    // Up → down, down → up, and the first answer either way.
    up = value;
    for (const l of links) l(value);
  };

  const flush = () => {
    if (!socket || socket.readyState !== WS.OPEN) return;
    for (const p of pending.values()) {
      if (p.sent) continue;
      p.sent = true;
      socket.send(p.frame);
    }
  };

  const onFrame = (text: string) => {
    let frame: BridgeFrame;
    try {
      frame = JSON.parse(text) as BridgeFrame;
    } catch {
      console.warn('terminal bridge: a frame that is not JSON was ignored');
      return;
    }
    if (frame.kind === 'event') {
      for (const l of events) l(frame.event);
      return;
    }
    const p = pending.get(frame.id);
    if (!p) {
      if (!frame.ok) console.warn('terminal bridge refused a frame:', frame.error.message);
      return;
    }
    pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.ok) p.resolve(frame.value);
    else p.reject(fromErrorData(frame.error));
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer) return;
    const base = Math.min(backoffMax, backoffInitial * 2 ** attempt);
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      open();
    }, base / 2 + Math.random() * (base / 2));
  };

  const open = () => {
    if (closed) return;
    const ws = new WS(o.url);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setUp(true);
      flush();
    };
    ws.onmessage = (m: MessageEvent) => onFrame(typeof m.data === 'string' ? m.data : String(m.data));
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      for (const [id, p] of pending) {
        if (!p.sent) continue;
        pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new DomainError('unavailable', { problem: 'lost the link to the terminal before it answered' }));
      }
      setUp(false);
      scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and handles it.
    };
  };

  open();

  return {
    call(method, input) {
      if (closed) return Promise.reject(new DomainError('unavailable', { problem: 'the terminal link is closed' }));
      const id = nextId++;
      const request: BridgeRequest = { id, method, input: input ?? {} };
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new DomainError('unavailable', { problem: 'the terminal did not answer in time' }));
        }, callTimeoutMs);
        pending.set(id, { resolve, reject, timer, sent: false, frame: JSON.stringify(request) });
        flush();
      });
    },
    subscribe(listener) {
      events.add(listener);
      return () => events.delete(listener);
    },
    onLink(listener) {
      links.add(listener);
      return () => links.delete(listener);
    },
    close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      socket?.close(1000, 'screen closing');
      socket = null;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new DomainError('unavailable', { problem: 'the terminal link is closed' }));
      }
      pending.clear();
      setUp(false);
    },
  };
}
