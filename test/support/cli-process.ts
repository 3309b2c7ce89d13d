/**
 * The server's admin CLI as real child processes of the compiled `out/node/src-server/cli.js`
 * (built by test/global-setup.ts): commands run to completion, and `start` as a server process
 * whose "listening" log line gives its URL. Every wait is bounded; `killAll` SIGKILLs what is left.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const CLI = path.resolve('out/node/src-server/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: neither SHOPFLOOR_DATA nor DATABASE_URL unless given. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SHOPFLOOR_DATA;
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 60_000,
    env: cleanEnv(options.env),
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  wsUrl: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait (bounded) for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcessWithoutNullStreams>();

/** `start … --port 0 --host 127.0.0.1 <args>`, resolved once it logs "sync server listening". */
export async function startCliServer(args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'start', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: cleanEnv({ LOG_LEVEL: 'info', ...options.env }),
  });
  started.add(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg === 'sync server listening' && entry.url) resolve(entry.url);
          } catch {
            // A line still being written.
          }
        }
      });
      void exited.then(({ code }) => reject(new Error(`server exited early with ${code}: ${err}`)));
    }),
    30_000,
    'the "sync server listening" log line',
  );
  return {
    child,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/sync`,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return withTimeout(exited, 15_000, 'the server to exit');
    },
  };
}

/** SIGKILL every server process still running (afterEach). */
export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
}

/** One line on stderr starting "error: ", no stack trace. */
export function oneLineError(r: CliRun): string | null {
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1 || !lines[0]!.startsWith('error: ') || /\n\s+at /.test(r.stderr)) return null;
  return lines[0]!;
}
