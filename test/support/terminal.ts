/** Terminal cores for tests: real SQLite in a temp folder, real WebSockets to a server URL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../../src-shared/clock.js';
import { TerminalCore } from '../../src-main/core/terminal.js';
import { TerminalStore } from '../../src-main/core/store.js';
import { realScheduler } from '../../src-main/core/sync-client.js';
import { wsDialer } from '../../src-main/core/ws-dialer.js';

export interface TestTerminal {
  core: TerminalCore;
  dataDir: string;
  /** Close the core (as a restart would) and open it again on the same data folder. */
  restart(): Promise<TestTerminal>;
  close(): void;
  waitFor(pred: () => boolean | Promise<boolean>, what: string, ms?: number): Promise<void>;
}

export async function openTerminal(opts: {
  serverUrl: string;
  terminalId: string;
  token: string;
  dataDir?: string;
  idleTimeoutSeconds?: number;
  /** SEC-30: the maintenance secret's hash, as terminal.json would give it. */
  maintenanceSecretHash?: string;
  /** Heartbeat and backoff settings over the fast defaults below. */
  sync?: { pingIntervalMs?: number; pongTimeoutMs?: number };
  /** The terminal's wall clock (default: the system's). */
  clock?: Clock;
  /** A clock that never jumps (milliseconds since any start), to tell the wall clock's jumps from time passing. */
  monotonic?: () => number;
  /** How the terminal checks a PIN (default: the core's own scrypt check). */
  verifySecret?: (secret: string, stored: string | null | undefined) => Promise<boolean>;
  /** Sees every frame the terminal receives and sends, as text (the real WebSocket dialer underneath). */
  tap?: {
    received?(text: string): void;
    sent?(text: string): void;
    /** An error that escaped the core's handling of a frame, caught here (as Electron's main process goes on after one) instead of reaching the socket. */
    escaped?(err: unknown): void;
  };
}): Promise<TestTerminal> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'term-'));
  const store = new TerminalStore(path.join(dataDir, 'terminal.db'), { faultHooks: true });
  const core = new TerminalCore({
    store,
    settings: {
      serverUrl: opts.serverUrl,
      terminalId: opts.terminalId,
      token: opts.token,
      idleTimeoutSeconds: opts.idleTimeoutSeconds ?? 0,
      locale: 'en',
      maintenanceSecretHash: opts.maintenanceSecretHash ?? null,
    },
    clock: opts.clock ?? systemClock,
    ...(opts.monotonic ? { monotonic: opts.monotonic } : {}),
    scheduler: realScheduler,
    random: Math.random,
    dialer: (url) => {
      const dial = wsDialer(url, { connectTimeoutMs: 1000 });
      const tap = opts.tap;
      if (!tap) return dial;
      return (events) =>
        dial({
          message: (text) => {
            tap.received?.(text);
            if (!tap.escaped) return events.message(text);
            try {
              events.message(text);
            } catch (err) {
              tap.escaped(err);
            }
          },
          close: (code, reason) => events.close(code, reason),
        }).then((link) => ({
          send: (text: string) => {
            tap.sent?.(text);
            link.send(text);
          },
          close: (code?: number, reason?: string) => link.close(code, reason),
        }));
    },
    appVersion: 'test',
    ...(opts.verifySecret ? { verifySecret: opts.verifySecret } : {}),
    sync: { pingIntervalMs: 300, pongTimeoutMs: 1000, backoffInitialMs: 50, backoffMaxMs: 400, ...opts.sync },
  });
  core.startSyncing();
  const t: TestTerminal = {
    core,
    dataDir,
    async restart() {
      core.close();
      return openTerminal({ ...opts, dataDir });
    },
    close() {
      core.close();
    },
    async waitFor(pred, what, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sync=${JSON.stringify(core.syncStatus())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  return t;
}

export async function waitOnline(t: TestTerminal): Promise<void> {
  await t.waitFor(() => t.core.syncStatus().status === 'online', 'the terminal to be online');
}

export async function waitDrained(t: TestTerminal): Promise<void> {
  await t.waitFor(() => t.core.syncStatus().pending === 0, 'the outbox to drain');
}
