#!/usr/bin/env node
/**
 * `npm run terminal -- [options]`: run a terminal without Electron. The terminal core runs in this
 * Node process and the screen is any Chromium pointed at the printed URL (a thin-client kiosk, or
 * Playwright in tests). Settings come from flags, SHOPFLOOR_* variables and terminal.json (see
 * settings.ts); without a server and token the screen asks for them (enrollment).
 *
 * Logs are JSON lines (pino; human-readable on a TTY). `{"msg":"terminal listening","url":...}`
 * tells a supervisor process which port `--port 0` picked. SIGTERM / SIGINT close the core cleanly;
 * a second signal within REPEAT_SIGNAL_GRACE_MS is the same request, a later one exits at once.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { startBrowserHost, type RunningHost } from './browser-host.js';
import { openTerminalCore, packageVersion, reportTerminalFaults, startupProblem, type SyncTuning } from './open-core.js';
import { describeSettings, loadSettings, SETTINGS, SettingsError, type HostSettings } from './settings.js';
import { findRendererDir } from './static-files.js';
import type { TerminalSnapshot } from '../../src-shared/terminal-api.js';
import type { TerminalCore, TerminalLogger } from './terminal.js';

const BIN = 'npm run terminal --';

/**
 * A second SIGINT/SIGTERM within this long of the first is taken as the same request to stop (a
 * Ctrl+C reaches every process of the group, and a supervising script may forward one too); a
 * later one means "stop now" and exits 1 without the clean shutdown.
 */
export const REPEAT_SIGNAL_GRACE_MS = 2000;

export function defaultTerminalDataDir(): string {
  return path.join(os.homedir(), '.shopfloor-claims', 'terminal');
}

interface HostCliOptions {
  server?: string;
  terminalId?: string;
  token?: string;
  data?: string;
  config?: string;
  idleSeconds?: string;
  locale?: string;
  port: number;
  host: string;
  allowedHost: string[];
  renderer?: string;
  syncBackoffMaxMs?: number;
  syncPingMs?: number;
}

function parseIntIn(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function buildProgram(run: (opts: HostCliOptions) => Promise<void>): Command {
  return new Command('terminal')
    .description('Run a shop-floor terminal in this Node process and serve its screen to a browser (no Electron needed).')
    .addHelpText(
      'after',
      `
Settings may also come from the environment (SHOPFLOOR_SERVER_URL, SHOPFLOOR_TERMINAL_ID,
SHOPFLOOR_TERMINAL_TOKEN, SHOPFLOOR_DATA, SHOPFLOOR_IDLE_SECONDS, SHOPFLOOR_LOCALE) or from
<data>/terminal.json. Prefer SHOPFLOOR_TERMINAL_TOKEN to --token: flags show in the process list.

Example:
  ${BIN} --server http://server:8080 --terminal-id kiosk-1 --data /var/lib/shopfloor --port 8090`,
    )
    .option('--server <url>', 'sync server address, e.g. http://server:8080')
    .option('--terminal-id <id>', "this terminal's id, as enrolled on the server")
    .option('--token <token>', "this terminal's token (printed once by the server's add-terminal)")
    .option('--data <dir>', `folder for terminal.db (default ${path.join('~', '.shopfloor-claims', 'terminal')})`)
    .option('--config <file>', 'JSON settings file (default <data>/terminal.json when it exists)')
    .option('--idle-seconds <n>', 'seconds without a touch before the operator is signed out (0: never)')
    .option('--locale <locale>', 'screen language: en or zh')
    .addOption(new Option('--port <port>', 'TCP port of the screen (0 picks a free one)').argParser(parseIntIn(0, 65535)).default(8090))
    .option('--host <host>', 'address to listen on; anything but loopback lets other machines use this terminal', '127.0.0.1')
    .option('--allowed-host <name>', 'a host name the screen may be opened under (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--renderer <dir>', 'the built screen (default: out/renderer of this install)')
    .addOption(new Option('--sync-backoff-max-ms <ms>', 'longest wait between reconnect attempts').argParser(parseIntIn(50, 600_000)))
    .addOption(new Option('--sync-ping-ms <ms>', 'heartbeat interval on the server link').argParser(parseIntIn(100, 600_000)))
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`${str.trimEnd()} (see: ${BIN} --help)\n`) })
    .action((opts: HostCliOptions) => run(opts));
}

function createLog(): { log: TerminalLogger; logger: Logger } {
  const logger = process.stdout.isTTY
    ? pino({ level: process.env.LOG_LEVEL ?? 'info' }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }))
    : pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'shopfloor-terminal' } });
  const log: TerminalLogger = (level, message, data) => logger[level](data ?? {}, message);
  return { log, logger };
}

function settingsFrom(opts: HostCliOptions): HostSettings {
  const settings = loadSettings({
    flags: {
      serverUrl: opts.server,
      terminalId: opts.terminalId,
      token: opts.token,
      dataDir: opts.data,
      idleTimeoutSeconds: opts.idleSeconds,
      locale: opts.locale,
    },
    env: process.env,
    ...(opts.config ? { configFile: opts.config } : {}),
    defaults: { dataDir: defaultTerminalDataDir(), kiosk: false },
  });
  if (settings.mode !== 'kiosk') {
    throw new SettingsError([
      `${SETTINGS.mode.env} = "${settings.mode}": the browser-hosted terminal is always a kiosk; supervisors open ${settings.serverUrl ?? 'http://server:8080'}/supervisor/ in a browser, or run the desktop app with --mode supervisor`,
    ]);
  }
  return settings;
}

async function run(opts: HostCliOptions): Promise<void> {
  const settings = settingsFrom(opts);
  const { log, logger } = createLog();
  const sync: SyncTuning = {};
  if (opts.syncBackoffMaxMs !== undefined) sync.backoffMaxMs = opts.syncBackoffMaxMs;
  if (opts.syncPingMs !== undefined) {
    sync.pingIntervalMs = opts.syncPingMs;
    sync.pongTimeoutMs = opts.syncPingMs * 2;
  }
  const rendererDir = opts.renderer ? path.resolve(opts.renderer) : findRendererDir();
  if (!rendererDir || !fs.existsSync(path.join(rendererDir, 'index.html'))) {
    log('warn', 'the terminal screen is not built; run `npm run build:app`', { rendererDir });
  }
  const core: TerminalCore = openTerminalCore(settings, { appVersion: packageVersion(), log, sync });
  // Signals are handled from before the screen server listens: one that comes as soon as (or
  // before) the listening line is out stops the terminal cleanly once it has started (HOST-1).
  let host: RunningHost | null = null;
  let firstSignalAt: number | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const shutDown = (running: RunningHost) => {
    running
      .close()
      .catch((e: unknown) => log('error', 'closing the screen server failed', { err: String(e) }))
      .finally(() => {
        core.close();
        log('info', 'terminal stopped');
        stopped();
      });
  };
  const stop = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== null) {
      // A terminal's Ctrl+C reaches the whole process group, and a supervising script (npm start)
      // may pass a signal on as well: a second one this soon is the same request (HOST-1).
      if (performance.now() - firstSignalAt < REPEAT_SIGNAL_GRACE_MS) {
        log('info', 'already shutting down', { signal });
        return;
      }
      log('warn', 'second signal while shutting down; exiting now', { signal });
      process.exit(1);
    }
    firstSignalAt = performance.now();
    log('info', 'shutting down', { signal });
    if (host) shutDown(host);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // HOST-1: a promise rejected with nobody to hear it (a fault of ours) is logged with its stack,
  // and the terminal goes on instead of going dead in front of the operator.
  const stopReportingFaults = reportTerminalFaults(log);
  void done.then(stopReportingFaults);
  try {
    let snapshot: TerminalSnapshot;
    try {
      core.startSyncing();
      snapshot = await core.getSnapshot();
    } catch (e) {
      // HOST-3: damage that opening did not touch shows in the first reads.
      throw startupProblem(e, settings.dataDir);
    }
    host = await startBrowserHost({
      api: core,
      rendererDir,
      port: opts.port,
      host: opts.host,
      locale: snapshot.locale,
      log,
      allowedHosts: opts.allowedHost,
    });
    logger.info(
      { url: host.url, dataDir: settings.dataDir, terminalId: snapshot.identity.terminalId, enrolled: snapshot.identity.terminalId !== null, settings: describeSettings(settings) },
      'terminal listening',
    );
  } catch (e) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stopReportingFaults();
    core.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} on ${opts.host} is already in use; pick another with --port (0 picks a free one)`, { cause: e });
    if (code === 'EADDRNOTAVAIL') throw new Error(`${opts.host} is not an address of this machine; check --host`, { cause: e });
    throw e;
  }
  if (firstSignalAt !== null) shutDown(host);
  await done;
}

/** Run the CLI; resolves to the exit code (after a signal, once the terminal has stopped). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram(run).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof SettingsError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(e as Error).message ?? String(e)}\n`);
    if (process.env.SHOPFLOOR_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 1000).unref();
  });
}
