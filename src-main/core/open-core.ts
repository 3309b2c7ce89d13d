/**
 * Build the real terminal core from settings: the SQLite cache at `<dataDir>/terminal.db`, the
 * system clock, real timers, real WebSockets, and network watching. The browser-hosted terminal
 * and the Electron main process both start their core here, so they behave the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src-shared/clock.js';
import { coreSettings, type HostSettings } from './settings.js';
import { TerminalStore } from './store.js';
import { realScheduler, type SyncClientOptions } from './sync-client.js';
import { TerminalCore, type TerminalLogger } from './terminal.js';
import { wsDialer } from './ws-dialer.js';

export const DATABASE_FILE = 'terminal.db';

export type SyncTuning = Pick<SyncClientOptions, 'pingIntervalMs' | 'pongTimeoutMs' | 'backoffInitialMs' | 'backoffMaxMs'>;

export interface OpenCoreOptions {
  appVersion: string;
  log?: TerminalLogger;
  /** A better_sqlite3.node built for this runtime (Electron keeps its own build). */
  nativeBinding?: string;
  sync?: SyncTuning;
}

export function openTerminalCore(settings: HostSettings, o: OpenCoreOptions): TerminalCore {
  fs.mkdirSync(settings.dataDir, { recursive: true });
  const store = new TerminalStore(path.join(settings.dataDir, DATABASE_FILE), o.nativeBinding ? { nativeBinding: o.nativeBinding } : {});
  return new TerminalCore({
    store,
    settings: coreSettings(settings),
    clock: systemClock,
    scheduler: realScheduler,
    random: Math.random,
    dialer: (url) => wsDialer(url),
    appVersion: o.appVersion,
    watchNetwork: true,
    ...(o.log ? { log: o.log } : {}),
    ...(o.sync ? { sync: o.sync } : {}),
  });
}

/** The app's version from the package.json above this file (source, out/node or out/main). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'shopfloor-claims' && pkg.version) return pkg.version;
      } catch {
        // not ours; keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}
