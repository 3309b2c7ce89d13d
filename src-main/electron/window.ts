/**
 * The kiosk window: full screen without window controls when the kiosk setting is on; the page
 * runs isolated and sandboxed with no Node; it may not navigate away, open windows, attach
 * webviews or ask for permissions; every response gets the strict CSP.
 */
import { BrowserWindow, session, type Session } from 'electron';
import { pathToFileURL } from 'node:url';
import { TERMINAL_CSP } from '../core/csp.js';
import { isOverviewPage, supervisorUrl } from './overview-url.js';

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

/**
 * Session-wide rules: no permission is ever granted, and every response carries a CSP: the
 * kiosk's own (`csp`), or, for the supervisor window, the one the sync server sends with its
 * overview (null: keep the server's header).
 */
export function hardenSession(s: Session = session.defaultSession, csp: string | null = TERMINAL_CSP): void {
  if (csp !== null) {
    s.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
  }
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
}

/** The hardened web preferences both windows use: isolated, sandboxed, no Node, no webviews. */
function webPreferences(devTools: boolean, preload?: string): Electron.WebPreferences {
  return {
    ...(preload ? { preload } : {}),
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    devTools,
  };
}

/**
 * The supervisor's window: a normal, resizable desktop window on the server's overview, with the
 * same isolation as the kiosk's but no preload (the overview talks to the server only); it may not
 * leave the overview or open other windows.
 */
export function createSupervisorWindow(o: { serverUrl: string }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1600,
    height: 960,
    minWidth: 1200,
    minHeight: 700,
    show: false,
    autoHideMenuBar: true,
    backgroundColor: '#f1f4f8',
    title: 'Shop-floor overview',
    webPreferences: webPreferences(true),
  });
  const wc = win.webContents;
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayHome = (event: Electron.Event, url: string) => {
    if (!isOverviewPage(url, o.serverUrl)) event.preventDefault();
  };
  wc.on('will-navigate', stayHome);
  wc.on('will-redirect', stayHome);
  wc.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadURL(supervisorUrl(o.serverUrl));
  return win;
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
    webPreferences: webPreferences(!o.kiosk, o.preload),
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
