/**
 * Build the real terminal core from settings: the SQLite cache at `<dataDir>/terminal.db`, the
 * system clock, real timers, real WebSockets, and network watching. The browser-hosted terminal
 * and the Electron main process both start their core here, so they behave the same.
 */
import Database from 'better-sqlite3';
import { verifySecretNative } from './native-scrypt.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src-shared/clock.js';
import { reportUnhandledRejections } from '../../src-shared/process-faults.js';
import { coreSettings, type HostSettings } from './settings.js';
import { DATA_DIR_MODE, databaseFiles, TerminalStore } from './store.js';
import { storageProblem, type StorageRole } from './storage-problem.js';
import { realScheduler, type SyncClientOptions } from './sync-client.js';
import { TerminalCore, type TerminalLogger } from './terminal.js';
import { wsDialer } from './ws-dialer.js';

export const DATABASE_FILE = 'terminal.db';
/** HOST-2: held (an exclusive SQLite lock, which the OS lets go when the process ends) by the terminal using the folder. */
export const LOCK_FILE = 'terminal.lock';

/**
 * HOST-2: one terminal process per data folder. Two on one database (a service and a copy started
 * by hand, the browser host beside the Electron app) would both sync as the same terminal id,
 * replacing each other's connection, and show one session on two screens. The lock is an exclusive
 * SQLite lock on `terminal.lock`, so a process that dies (a power cut, SIGKILL) leaves nothing
 * that blocks the next start. Returns the release.
 */
export function lockDataDir(dir: string, nativeBinding?: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: 0, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(
        `another terminal process is using the data folder ${dir}: stop it first, or give this terminal a data folder of its own (--data, SHOPFLOOR_DATA or dataDir); two terminals on one database would both sync as one terminal id and replace each other's connection`,
        { cause: err },
      );
    }
    throw err;
  }
  return () => {
    if (db.open) db.close();
  };
}

export type SyncTuning = Pick<SyncClientOptions, 'pingIntervalMs' | 'pongTimeoutMs' | 'backoffInitialMs' | 'backoffMaxMs'>;

export interface OpenCoreOptions {
  appVersion: string;
  log?: TerminalLogger;
  /** A better_sqlite3.node built for this runtime (Electron keeps its own build). */
  nativeBinding?: string;
  sync?: SyncTuning;
}

/**
 * SEC-33: the data folder is for this user only. A new one is made 0700; an existing one that
 * others may read or enter is tightened to 0700 when it is plainly the terminal's own (owned by
 * this user; not the home folder, a file-system root or a shared sticky folder like /tmp), else
 * reported. Returns the mode it tightened from, or the problem left, for the log.
 */
export function secureDataDir(dir: string): { tightened: string | null; problem: string | null } {
  fs.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  if (process.platform === 'win32') return { tightened: null, problem: null };
  const st = fs.statSync(dir);
  if ((st.mode & 0o077) === 0) return { tightened: null, problem: null };
  const was = (st.mode & 0o7777).toString(8);
  const resolved = path.resolve(dir);
  const mine = typeof process.getuid === 'function' && st.uid === process.getuid();
  const shared = (st.mode & 0o1000) !== 0 || resolved === path.resolve(os.homedir()) || resolved === path.parse(resolved).root;
  if (mine && !shared) {
    try {
      fs.chmodSync(dir, DATA_DIR_MODE);
      return { tightened: was, problem: null };
    } catch (e) {
      return { tightened: null, problem: `cannot make it private (${(e as Error).message})` };
    }
  }
  return { tightened: null, problem: `its mode is ${was}; other users may read it (use a folder of its own, owned by this user, mode 700)` };
}

/**
 * Open the terminal core on `settings.dataDir`. HOST-3: a data folder or database that cannot be
 * used (damaged, not writable, a full disk) is thrown as a TerminalStorageError that names the file
 * and says what to do; nothing is moved, deleted or rewritten.
 */
export function openTerminalCore(settings: HostSettings, o: OpenCoreOptions): TerminalCore {
  const dataDir = settings.dataDir;
  const file = path.join(dataDir, DATABASE_FILE);
  const step = <T>(role: StorageRole, at: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw storageProblem(err, { dataDir, file: at, role }) ?? err;
    }
  };
  const dir = step('folder', dataDir, () => secureDataDir(dataDir));
  if (dir.tightened) o.log?.('info', 'the data folder was open to other users; now only this user may read it', { dataDir, was: dir.tightened });
  if (dir.problem) o.log?.('warn', `the data folder is not private: ${dir.problem}`, { dataDir });
  const unlock = step('lock', path.join(dataDir, LOCK_FILE), () => lockDataDir(dataDir, o.nativeBinding));
  let store: TerminalStore;
  try {
    store = step('database', file, () => new TerminalStore(file, o.nativeBinding ? { nativeBinding: o.nativeBinding } : {}));
  } catch (err) {
    unlock();
    throw err;
  }
  if (process.platform !== 'win32') {
    const loose = databaseFiles(file).filter((f) => fs.existsSync(f) && (fs.statSync(f).mode & 0o077) !== 0);
    if (loose.length) o.log?.('warn', 'terminal database files are readable by other users and could not be made private', { files: loose });
  }
  try {
    return step(
      'database',
      file,
      () =>
        new TerminalCore({
          store,
          settings: coreSettings(settings),
          clock: systemClock,
          // The time since boot, suspend included (CLOCK_BOOTTIME on Linux): it never jumps as the wall clock can.
          monotonic: () => os.uptime() * 1000,
          scheduler: realScheduler,
          random: Math.random,
          dialer: (url) => wsDialer(url),
          appVersion: o.appVersion,
          watchNetwork: true,
          verifySecret: verifySecretNative,
          onClose: unlock,
          ...(o.log ? { log: o.log } : {}),
          ...(o.sync ? { sync: o.sync } : {}),
        }),
    );
  } catch (err) {
    store.close();
    unlock();
    throw err;
  }
}

/**
 * HOST-3: a failure of a terminal's first reads after it opened (its snapshot for the screen), as
 * a TerminalStorageError where it is one: a damaged page deep in the database shows only there.
 */
export function startupProblem(err: unknown, dataDir: string): unknown {
  return storageProblem(err, { dataDir, file: path.join(dataDir, DATABASE_FILE), role: 'database' }) ?? err;
}

/**
 * HOST-1, ELE-4: from now on a promise of this process that fails with nobody to handle it (a
 * fault) is logged as an error with its stack, and the terminal goes on. Both hosts (the browser
 * host and the Electron main process) call this; the server does the same (CLI-7). Returns the stop.
 */
export function reportTerminalFaults(log: TerminalLogger): () => void {
  return reportUnhandledRejections(process, 'terminal', (message, err) => log('error', message, { err: err.stack ?? err.message }));
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
