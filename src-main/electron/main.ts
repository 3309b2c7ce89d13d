/**
 * The Electron main process of a kiosk terminal: one instance per machine, the terminal core
 * (the same one the browser host runs) with its SQLite cache, the IPC handlers built from the
 * channel table, and one hardened kiosk window that is reloaded after a renderer or GPU crash
 * (and the app relaunched if crashes keep coming). Settings as in settings.ts, with
 * `--config FILE`, `--mode` and `--server` on the command line; the data folder defaults to
 * Electron's userData. With mode "supervisor" it opens the sync server's overview in a desktop
 * window instead (SUP-7).
 */
import { app, dialog, ipcMain, Menu, type BrowserWindow } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { ApiDispatcher } from '../core/api-dispatch.js';
import { openTerminalCore, reportTerminalFaults, startupProblem } from '../core/open-core.js';
import { describeSettings, loadSettings, SettingsError, type HostSettings } from '../core/settings.js';
import type { TerminalSnapshot } from '../../src-shared/terminal-api.js';
import { TerminalStorageError } from '../core/storage-problem.js';
import type { TerminalCore, TerminalLogger } from '../core/terminal.js';
import { CrashBudget } from './crash-budget.js';
import { forwardEvents, registerApiHandlers } from './ipc.js';
import { createSupervisorWindow, createTerminalWindow, hardenSession, isOwnScreen, type ScreenLocation } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(here, '..', 'preload', 'index.cjs');
const where: ScreenLocation = {
  indexHtml: path.join(here, '..', 'renderer', 'index.html'),
  devUrl: !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? process.env.ELECTRON_RENDERER_URL : null,
};

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'shopfloor-terminal', shell: 'electron' } });
const log: TerminalLogger = (level, message, data) => logger[level](data ?? {}, message);
// ELE-4: a fault in this process (a promise failed with nobody to handle it) is logged with its
// stack and the kiosk keeps working, as the browser host and the server do.
reportTerminalFaults(log);

/** better-sqlite3 built for Electron's ABI by `npm run rebuild:electron`, if present. */
function electronNativeBinding(): string | undefined {
  const file = path.join(app.getAppPath(), 'native', 'electron', 'better_sqlite3.node');
  return fs.existsSync(file) ? file : undefined;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

function readSettings(): HostSettings {
  const configFile = argValue('--config');
  return loadSettings({
    flags: { mode: argValue('--mode'), serverUrl: argValue('--server') },
    env: process.env,
    ...(configFile ? { configFile } : {}),
    defaults: { dataDir: app.getPath('userData'), kiosk: app.isPackaged },
  });
}

function fail(title: string, message: string): void {
  log('error', title, { message });
  dialog.showErrorBox(title, message);
  app.exit(1);
}

let win: BrowserWindow | null = null;
let core: TerminalCore | null = null;

function openWindow(settings: HostSettings): void {
  win = createTerminalWindow({ preload: PRELOAD, kiosk: settings.kiosk, where });
  const budget = new CrashBudget();
  const recover = (what: string, details: Record<string, unknown>) => {
    const action = budget.record();
    log('error', `${what}; ${action === 'reload' ? 'reloading the screen' : 'relaunching the app'}`, details);
    if (action === 'relaunch') {
      app.relaunch();
      app.exit(0);
    } else if (win && !win.isDestroyed()) {
      win.webContents.reload();
    } else {
      openWindow(settings);
    }
  };
  win.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') recover('the screen crashed', { reason: details.reason, exitCode: details.exitCode });
  });
  win.webContents.on('unresponsive', () => log('warn', 'the screen is not responding'));
  win.on('closed', () => {
    win = null;
  });
  app.removeAllListeners('child-process-gone');
  app.on('child-process-gone', (_e, details) => {
    if (details.type === 'GPU' && details.reason !== 'clean-exit') recover('the GPU process crashed', { reason: details.reason, exitCode: details.exitCode });
  });
}

async function start(): Promise<void> {
  let settings: HostSettings;
  try {
    settings = readSettings();
  } catch (e) {
    fail('Terminal settings are not valid', e instanceof SettingsError ? e.message : String(e));
    return;
  }
  if (settings.mode === 'supervisor') {
    // The overview lives on the server: no terminal core, no database here.
    log('info', 'supervisor window starting', { serverUrl: settings.serverUrl });
    Menu.setApplicationMenu(null);
    hardenSession(undefined, null);
    win = createSupervisorWindow({ serverUrl: settings.serverUrl! });
    win.on('closed', () => {
      win = null;
    });
    return;
  }
  let snapshot: TerminalSnapshot;
  try {
    const nativeBinding = electronNativeBinding();
    core = openTerminalCore(settings, { appVersion: app.getVersion(), log, ...(nativeBinding ? { nativeBinding } : {}) });
    snapshot = await core.getSnapshot();
  } catch (caught) {
    core?.close();
    core = null;
    // HOST-3: a damaged, unwritable or full data folder is told as such, with what to do.
    const e = startupProblem(caught, settings.dataDir);
    const message = (e as Error).message;
    const abi = /NODE_MODULE_VERSION|was compiled against a different Node.js version/.test(message);
    fail(
      e instanceof TerminalStorageError ? e.title : 'The terminal database cannot be opened',
      abi ? `${message}\n\nbetter-sqlite3 is not built for Electron here: run \`npm run rebuild:electron\` (needs internet) and start again.` : message,
    );
    return;
  }
  log('info', 'terminal starting', { settings: describeSettings(settings) });
  const dispatcher = new ApiDispatcher(core, snapshot.locale, log);
  registerApiHandlers(ipcMain, dispatcher, (event) => Boolean(event.senderFrame && isOwnScreen(event.senderFrame.url, where)));
  forwardEvents(
    (listener) => core!.subscribe(listener),
    () => win?.webContents ?? null,
  );
  core.startSyncing();
  Menu.setApplicationMenu(null);
  hardenSession();
  openWindow(settings);
}

if (!app.requestSingleInstanceLock()) {
  // Another terminal already runs on this machine (and owns the database): let it take focus.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    core?.close();
    core = null;
  });
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => fail('The terminal could not start', e instanceof Error ? e.stack ?? e.message : String(e)));
}
