/**
 * The supervisors' overview as static files (SUP-1): `/supervisor/` serves the built page
 * (out/renderer/supervisor.html) and `/supervisor/assets/*` its scripts and styles, read-only,
 * with a strict Content-Security-Policy; `/` and `/supervisor` lead there.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUPERVISOR_PREFIX = '/supervisor/';
const PAGE = 'supervisor.html';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** out/renderer with the supervisor page, above this file (source or out/node), or null if not built. */
export function findRendererDir(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'out', 'renderer');
    if (fs.existsSync(path.join(candidate, PAGE))) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The page's policy: only this server's scripts, styles and connections (the live subscription is
 * a WebSocket to the same host, named explicitly for browsers whose 'self' does not cover ws:).
 */
export function supervisorCsp(hostHeader: string | undefined, tls: boolean): string {
  const host = hostHeader && HOST.test(hostHeader) ? hostHeader : null;
  const ws = host ? ` ${tls ? 'wss' : 'ws'}://${host}` : '';
  return [
    "default-src 'self'",
    `connect-src 'self'${ws}`,
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function headers(req: IncomingMessage): Record<string, string> {
  return {
    'content-security-policy': supervisorCsp(req.headers.host, Boolean((req.socket as { encrypted?: boolean }).encrypted)),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers(req), 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Serve `/`, `/supervisor` and `/supervisor/...`; false when the path is not one of these. */
export function serveSupervisorPage(rendererDir: string | null, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (pathname === '/' || pathname === '/supervisor') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    sendText(req, res, 302, `See ${SUPERVISOR_PREFIX}\n`, { location: SUPERVISOR_PREFIX });
    return true;
  }
  if (!pathname.startsWith(SUPERVISOR_PREFIX)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(req, res, 405, 'Only GET and HEAD are served here.\n', { allow: 'GET, HEAD' });
    return true;
  }
  if (!rendererDir) {
    sendText(req, res, 503, 'The supervisor overview is not built on this server. Run `npm run build` and restart the server.\n');
    return true;
  }
  const rest = pathname.slice(SUPERVISOR_PREFIX.length);
  const relative = rest === '' || rest === 'index.html' ? PAGE : rest.startsWith('assets/') ? rest : null;
  const file = relative ? path.resolve(rendererDir, relative) : null;
  if (!file || pathname.includes('\0') || !file.startsWith(rendererDir + path.sep)) {
    sendText(req, res, 404, 'Not found.\n');
    return true;
  }
  fs.stat(file, (err, stat) => {
    if (err || !stat.isFile()) {
      sendText(req, res, 404, 'Not found.\n');
      return;
    }
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const cache = relative!.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, { ...headers(req), 'content-type': type, 'content-length': String(stat.size), 'cache-control': cache });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  return true;
}
