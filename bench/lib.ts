/**
 * Shared helpers for the benchmarks: timing, percentiles, temp folders, server processes, and the
 * report every benchmark prints (one JSON line, then a readable table). Benchmarks report figures;
 * they never fail on a number (these machines are noisy), so ratios are measured side by side.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type ServerFrame } from '../src-shared/protocol/terminal.js';

/** The repository root (the folder with package.json), from wherever this file was compiled to. */
export const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samplesMs: number[]): { n: number; p50: number; p99: number; max: number; mean: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: round(percentile(s, 50)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
  };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Rate of fsync'd single-row write transactions on this disk: WAL, synchronous=FULL, one INSERT
 * per transaction — the baseline every durable write here pays.
 */
export function rawFsyncRate(dir: string, count = 1000): { txPerSec: number; p50Ms: number; p99Ms: number } {
  const db = new Database(path.join(dir, 'raw-fsync.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  // Warm up (the WAL file's first growth is slower than its steady state), then measure.
  for (let i = 0; i < 200; i++) insert.run('warm-up');
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    insert.run(`row ${i}`);
    samples.push(performance.now() - t);
  }
  const elapsed = performance.now() - start;
  db.close();
  const s = summarize(samples);
  return { txPerSec: Math.round((count / elapsed) * 1000), p50Ms: s.p50, p99Ms: s.p99 };
}

export interface Report {
  bench: string;
  figures: Record<string, unknown>;
  targets?: Record<string, { target: string; met: boolean }>;
}

/** Print the result: a JSON line (for machines) and a table (for people). */
export function report(r: Report): void {
  console.log(JSON.stringify({ ...r, machine: { cpus: os.cpus().length, node: process.version, at: new Date().toISOString() } }));
  const rows = Object.entries(r.figures).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  for (const [k, t] of Object.entries(r.targets ?? {})) rows.push([`target: ${k}`, `${t.target} -> ${t.met ? 'met' : 'NOT met'}`]);
  const w = Math.max(...rows.map((x) => x[0]!.length));
  console.log(`\n${r.bench}\n${'-'.repeat(r.bench.length)}`);
  for (const [k, v] of rows) console.log(`${k!.padEnd(w)}  ${v}`);
  console.log('');
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Start a compiled entry point of ours; resolves with its URL once it logs `listeningMsg`. */
async function startListening(script: string, args: string[], listeningMsg: string, nodeArgs: string[] = [], root = ROOT): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string };
        if (rec.msg === listeningMsg && rec.url) {
          clearTimeout(timer);
          resolve(rec.url);
        }
      } catch {
        // not JSON
      }
    });
  });
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface ServerProcessOptions {
  port?: number;
  /** More `start` options (e.g. `--commit-group-max 1`). */
  args?: string[];
  /** Another checkout's root (built with `npm run build:node`): the code a same-run comparison measures against. */
  root?: string;
}

/** Start the real server (compiled CLI) on a data folder; resolves when it listens. */
export function startServerProcess(dataDir: string, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startListening(
    'out/node/src-server/cli.js',
    ['start', '--data', dataDir, '--port', String(options.port ?? 0), '--host', '127.0.0.1', ...(options.args ?? [])],
    'sync server listening',
    nodeArgs,
    options.root,
  );
}

/**
 * BENCH_BASELINE_ROOT: a checkout of earlier code, built (`git worktree add /tmp/base <commit> &&
 * cd /tmp/base && ln -s $PWD/node_modules . && npx tsc -p tsconfig.node.json`). Benchmarks that
 * support it run the same load against it in the same run, alternating, and report the ratio.
 */
export function baselineRoot(): string | null {
  const root = process.env.BENCH_BASELINE_ROOT;
  if (!root) return null;
  if (!fs.existsSync(path.join(root, 'out/node/src-server/cli.js'))) {
    throw new Error(`BENCH_BASELINE_ROOT=${root} has no out/node/src-server/cli.js: build it there first (npx tsc -p tsconfig.node.json)`);
  }
  return root;
}

/** Start a browser-hosted terminal (the kiosk's core and screen) enrolled with a server. */
export function startTerminalProcess(dataDir: string, enrollment: { serverUrl: string; terminalId: string; token: string }): Promise<ServerProcess> {
  return startListening(
    'out/node/src-main/core/host-cli.js',
    ['--data', dataDir, '--port', '0', '--host', '127.0.0.1', '--server', enrollment.serverUrl, '--terminal-id', enrollment.terminalId, '--token', enrollment.token, '--idle-seconds', '0'],
    'terminal listening',
  );
}

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid: number = process.pid): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time a process has used so far, all its threads, user and system, in ms (Linux `/proc`, whose
 * clock ticks are 1/100 s); NaN elsewhere. The difference over a phase, per operation, is a figure
 * a noisy machine disturbs far less than a latency: it counts the work, not the waiting.
 */
export function cpuMs(pid: number = process.pid): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * A terminal as the load benchmarks simulate it: one WebSocket, the hello of a terminal that has
 * synced up to `cursor`, mutations pushed one per frame and resolved with their round trip once
 * durable, and change pages acknowledged by their cursor without parsing the tasks in them (many
 * terminals share the benchmark's process; the server's work is what is measured).
 */
export class BenchTerminal {
  ws!: WebSocket;
  nextId = 1;
  cursor = 0;
  pages = 0;
  /** Bytes of change pages received: what live push costs this terminal. */
  liveBytes = 0;
  private readonly pending = new Map<number, { sent: number; done: (ms: number) => void }>();

  constructor(readonly id: string) {}

  async connect(wsUrl: string, cursor: number, ack = true): Promise<void> {
    this.ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    let welcomed!: () => void;
    const welcome = new Promise<void>((r) => (welcomed = r));
    this.ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"changes"')) {
        this.liveBytes += text.length;
        const m = /"cursor":(\d+|null)/.exec(text);
        const c = m && m[1] !== 'null' ? Number(m[1]) : null;
        this.pages++;
        if (c !== null) this.cursor = c;
        if (ack) this.ws.send(`{"type":"ack","cursor":${c ?? 0}}`);
        return;
      }
      const f = JSON.parse(text) as ServerFrame;
      if (f.type === 'welcome') welcomed();
      else if (f.type === 'results') {
        const now = performance.now();
        for (const o of f.outcomes) {
          const p = this.pending.get(o.id);
          if (!p || o.status === 'retry') continue;
          this.pending.delete(o.id);
          p.done(now - p.sent);
        }
      }
    });
    this.ws.send(
      JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, terminalId: this.id, token: `token-${this.id}`, cursor, lastAckedMutationId: 0, clientTime: Date.now(), appVersion: 'bench', outbox: 0 }),
    );
    await welcome;
  }

  /** Push one mutation; resolves with its round trip in ms once its durable outcome is back. */
  push(name: string, args: unknown, operatorId: string): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { sent: performance.now(), done: resolve });
      this.ws.send(JSON.stringify({ type: 'push', mutations: [{ id, name, args, operatorId, clientTime: Date.now() }] }));
    });
  }
}
