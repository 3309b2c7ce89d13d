/**
 * Real processes for the browser tests: the sync server (`cli.js start`) and browser-hosted
 * terminals (`host-cli.js`), each on port 0. We read their JSON log lines to learn the URL,
 * keep the output for failure reports, and stop them with SIGTERM (SIGKILL if they hang).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 15_000;

export interface RunningProcess {
  url: string;
  name: string;
  child: ChildProcess;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startProcess(name: string, script: string, args: string[], listeningMsg: string): Promise<RunningProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === listeningMsg && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a JSON log line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  return {
    url,
    name,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function startServer(dataDir: string): Promise<RunningProcess> {
  return startProcess('sync server', 'out/node/src-server/cli.js', ['start', '--data', dataDir, '--port', '0', '--host', '127.0.0.1'], 'sync server listening');
}

export interface TerminalProcessOptions {
  dataDir: string;
  /** Enrolled from the command line; omit to start unenrolled (the enrollment screen). */
  enrollment?: { serverUrl: string; terminalId: string; token: string };
  idleSeconds?: number;
  locale?: 'en' | 'zh';
}

export function startTerminalHost(o: TerminalProcessOptions): Promise<RunningProcess> {
  const args = ['--data', o.dataDir, '--port', '0', '--host', '127.0.0.1', '--sync-backoff-max-ms', '300', '--sync-ping-ms', '500'];
  if (o.enrollment) args.push('--server', o.enrollment.serverUrl, '--terminal-id', o.enrollment.terminalId, '--token', o.enrollment.token);
  args.push('--idle-seconds', String(o.idleSeconds ?? 0));
  if (o.locale) args.push('--locale', o.locale);
  return startProcess(`terminal ${o.enrollment?.terminalId ?? '(not enrolled)'}`, 'out/node/src-main/core/host-cli.js', args, 'terminal listening');
}
