/**
 * AUTH-8: how a supervisor's page carries its session. The sign-in puts the session token in an
 * HttpOnly, SameSite=Strict cookie, so no script (of this page or of another site) can read it; the
 * browser sends it with the page's API requests and its WebSocket upgrade. A change made with the
 * cookie must come from a page of this server (its Origin), never from another site.
 */
import type { IncomingMessage } from 'node:http';

/** The session cookie's name. */
export const SESSION_COOKIE = 'sf_session';

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.length > 0 && v.length <= 512 ? v : null;
    }
  }
  return null;
}

/** A browser's cross-site request: its Origin names another host than the one it was sent to. */
export function isCrossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host.toLowerCase() !== String(req.headers.host ?? '').toLowerCase();
  } catch {
    return true;
  }
}
