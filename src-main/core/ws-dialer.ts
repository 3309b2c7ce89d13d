/** The real transport: a `ws` WebSocket to the server's /sync endpoint. */
import WebSocket from 'ws';
import { HARD_MAX_FRAME_BYTES } from '../../src-shared/protocol/terminal.js';
import type { Dialer } from './sync-client.js';

/** `http://host:8080` (or ws://…) → `ws://host:8080/sync`. */
export function syncUrl(serverUrl: string): string {
  const u = new URL(serverUrl);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith('/sync')) u.pathname = `${u.pathname.replace(/\/$/, '')}/sync`;
  return u.toString();
}

export function wsDialer(serverUrl: string, options: { connectTimeoutMs?: number } = {}): Dialer {
  const url = syncUrl(serverUrl);
  return (events) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: options.connectTimeoutMs ?? 5000, maxPayload: HARD_MAX_FRAME_BYTES * 16, perMessageDeflate: false });
      let open = false;
      ws.on('open', () => {
        open = true;
        resolve({
          send: (text) => ws.send(text),
          close: (code, reason) => {
            if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code ?? 1000, reason);
            else ws.terminate();
          },
        });
      });
      ws.on('message', (data) => events.message(String(data)));
      ws.on('close', (code, reason) => {
        if (open) events.close(code, String(reason));
        else reject(new Error(`closed before opening (${code})`));
      });
      ws.on('error', (err) => {
        if (!open) reject(err);
      });
    });
}
