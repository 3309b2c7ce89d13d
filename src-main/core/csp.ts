/**
 * The Content-Security-Policy of the terminal's screen: only the app's own scripts, styles and
 * connections (the browser host's /api WebSocket is same-origin), no frames, no plugins. The
 * browser host sends it as a header; the Electron shell adds it to its session's responses, and
 * src-renderer/index.html carries the same policy in a meta tag for file:// loads.
 */
export const TERMINAL_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
