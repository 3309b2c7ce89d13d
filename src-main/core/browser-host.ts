/**
 * The browser-hosted terminal: one HTTP listener that serves the built renderer with a strict CSP
 * and, at `/api`, bridges the TerminalApi over a local WebSocket (frames: `BridgeRequest` in,
 * `BridgeFrame` out, see src-shared/terminal-api.ts). Every request is validated (envelope and the
 * method's input schema); a bad frame gets an error result naming the problem and the connection
 * carries on; core events are pushed to every connected screen.
 *
 * Only same-origin pages may open the bridge, and only under a Host that cannot be DNS-rebound
 * (localhost, an IP literal, or one listed in `allowedHosts`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DomainError } from '../../src-shared/domain/errors.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import type { ExposedTerminalApi } from '../../src-shared/exposed-api.js';
import type { BridgeFrame } from '../../src-shared/terminal-api.js';
import { ApiDispatcher } from './api-dispatch.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';
import type { TerminalLogger } from './terminal.js';

export const BRIDGE_PATH = '/api';
/** A request frame above this gets a `payload_too_large` result; the connection stays. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** A frame above this closes the connection (1009): memory stays bounded. */
export const HARD_MAX_REQUEST_BYTES = 1024 * 1024;
/** Calls one connection may have running at once; more get `rate_limited`. */
export const MAX_CALLS_IN_FLIGHT = 32;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** SEC-7: a frame that is not well-formed UTF-8 is refused (fatal), never decoded with U+FFFD in it. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export interface BrowserHostOptions {
  /** The TerminalApi plus its event subscription: the same shape the Electron preload exposes. */
  api: ExposedTerminalApi;
  /** The built renderer (out/renderer); null serves a page saying how to build it. */
  rendererDir: string | null;
  port: number;
  host: string;
  locale: Locale;
  log: TerminalLogger;
  /** Host names (besides localhost and IP literals) under which the terminal may be opened. */
  allowedHosts?: string[];
  maxRequestBytes?: number;
}

export interface RunningHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return null;
  }
}

export function isAllowedHost(hostHeader: string | undefined, allowed: readonly string[] = []): boolean {
  const name = hostnameOf(hostHeader);
  if (!name) return false;
  return name === 'localhost' || net.isIP(name) !== 0 || allowed.map((h) => h.toLowerCase()).includes(name);
}

function sendFrame(ws: WebSocket, frame: BridgeFrame, log: TerminalLogger): void {
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
    log('warn', 'terminal screen is not reading its frames; dropping the connection');
    ws.terminate();
    return;
  }
  ws.send(JSON.stringify(frame));
}

export async function startBrowserHost(o: BrowserHostOptions): Promise<RunningHost> {
  const dispatcher = new ApiDispatcher(o.api, o.locale, o.log);
  const maxRequest = o.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const allowed = o.allowedHosts ?? [];

  const server = http.createServer((req, res) => {
    if (!isAllowedHost(req.headers.host, allowed)) {
      res.writeHead(421, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('This terminal answers only under localhost, an IP address, or a host given with --allowed-host.\n');
      return;
    }
    serveStatic(o.rendererDir, req, res);
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_REQUEST_BYTES, perMessageDeflate: false });

  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
    };
    const pathname = new URL(req.url ?? '/', 'http://terminal').pathname;
    if (pathname !== BRIDGE_PATH) return reject(404, 'no such endpoint');
    if (!isAllowedHost(req.headers.host, allowed)) return reject(421, 'host not allowed');
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
      o.log('warn', 'refused a bridge connection from another origin', { origin });
      return reject(403, 'only the terminal screen itself may connect');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    let inFlight = 0;
    let alive = true;
    const unsubscribe = o.api.subscribe((event) => sendFrame(ws, { kind: 'event', event }, o.log));
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    heartbeat.unref();
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (bytes.length > maxRequest) {
        const error = new DomainError('payload_too_large', { field: 'frame', problem: `is ${bytes.length} bytes; the limit is ${maxRequest}` });
        sendFrame(ws, { kind: 'result', id: 0, ok: false, error: error.toData(dispatcher.locale) }, o.log);
        return;
      }
      // SEC-7: bytes that are not UTF-8 are refused, never turned into U+FFFD on their way to the
      // core (ws checks text frames itself; a binary frame reaches here as it came).
      let text: string;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        const error = new DomainError('invalid_input', { field: 'frame', problem: 'is not UTF-8 text' });
        sendFrame(ws, { kind: 'result', id: 0, ok: false, error: error.toData(dispatcher.locale) }, o.log);
        return;
      }
      const request = dispatcher.parseFrame(text);
      if (!request.ok) {
        sendFrame(ws, { kind: 'result', id: request.id, ok: false, error: request.error }, o.log);
        return;
      }
      if (inFlight >= MAX_CALLS_IN_FLIGHT) {
        const error = new DomainError('rate_limited', { retryAfterSeconds: 1, problem: `more than ${MAX_CALLS_IN_FLIGHT} calls at once` });
        sendFrame(ws, { kind: 'result', id: request.id, ok: false, error: error.toData(dispatcher.locale) }, o.log);
        return;
      }
      inFlight++;
      void dispatcher.call(request.method, request.input).then((result) => {
        inFlight--;
        sendFrame(ws, { kind: 'result', id: request.id, ...result }, o.log);
      });
    });
    ws.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    ws.on('error', (err) => o.log('warn', 'bridge connection error', { err: err.message }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.close(1001, 'terminal stopping');
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
