/**
 * The kiosk window: full screen without window controls when the kiosk setting is on; the page
 * runs isolated and sandboxed with no Node; it may not navigate away, open windows, attach
 * webviews or ask for permissions; every response gets the strict CSP.
 */
import { BrowserWindow, session, type Session } from 'electron';
import { pathToFileURL } from 'node:url';
import { TERMINAL_CSP } from '../core/csp.js';

export interface ScreenLocation {
  /** The built renderer's index.html (file://), used unless `devUrl` is set. */
  indexHtml: string;
  /** electron-vite's dev server (ELECTRON_RENDERER_URL) during development. */
  devUrl: string | null;
}

export function screenUrl(where: ScreenLocation): string {
  return where.devUrl ?? pathToFileURL(where.indexHtml).toString();
}

/** True for URLs of the terminal's own screen; everything else is foreign. */
export function isOwnScreen(url: string, where: ScreenLocation): boolean {
  if (where.devUrl) return url.startsWith(new URL(where.devUrl).origin + '/');
  return url.split(/[?#]/)[0] === screenUrl(where);
}

/** Session-wide rules: the CSP header on every response, and no permission is ever granted. */
export function hardenSession(s: Session = session.defaultSession): void {
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [TERMINAL_CSP] } });
  });
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
}

export function createTerminalWindow(o: { preload: string; kiosk: boolean; where: ScreenLocation }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    kiosk: o.kiosk,
    fullscreen: o.kiosk,
    autoHideMenuBar: true,
    backgroundColor: '#0f172a',
    title: 'Shop-floor terminal',
    webPreferences: {
      preload: o.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !o.kiosk,
    },
  });
  win.setMenu(null);
  const wc = win.webContents;
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', (event, url) => {
    if (!isOwnScreen(url, o.where)) event.preventDefault();
  });
  wc.on('will-redirect', (event, url) => {
    if (!isOwnScreen(url, o.where)) event.preventDefault();
  });
  wc.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadURL(screenUrl(o.where));
  return win;
}
