/**
 * Where a process's SQLite time goes, statement by statement: preloaded into a server
 * (`BENCH_SERVER_NODE_ARGS="--import ./out/bench/bench/sql-profile.js" npm run bench -- plant-load`,
 * after `npx tsc -p tsconfig.bench.json`) or a benchmark that runs the store in-process
 * (`node --import ./out/bench/bench/sql-profile.js out/bench/bench/run-all.js plant-engine`). It
 * times every `run`, `get`, `all` and `iterate` of the main thread's prepared statements and writes,
 * once a second and at exit, a table by total time (ms, calls, µs a call, the statement) to
 * `SQL_PROFILE_OUT` (default `/tmp/sql-profile.<pid>.txt`). `kill -USR2 <pid>` starts the counts
 * over (say, when the phase to be measured begins). A measuring tool, never loaded by the product.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';

type Totals = { calls: number; us: number };

if (isMainThread) {
  const stats = new Map<string, Totals>();
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    proto[method] = function timed(this: { source: string }, ...args: unknown[]) {
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const us = Number(process.hrtime.bigint() - start) / 1000;
        const key = this.source.replace(/\s+/g, ' ').trim().slice(0, 120);
        const t = stats.get(key) ?? { calls: 0, us: 0 };
        t.calls++;
        t.us += us;
        stats.set(key, t);
      }
    };
  }
  const out = process.env.SQL_PROFILE_OUT ?? `/tmp/sql-profile.${process.pid}.txt`;
  const write = () => {
    const rows = [...stats].sort((a, b) => b[1].us - a[1].us);
    const lines = rows.map(([sql, t]) => `${(t.us / 1000).toFixed(0).padStart(8)} ms ${String(t.calls).padStart(9)} ${(t.us / t.calls).toFixed(1).padStart(8)} µs  ${sql}`);
    fs.writeFileSync(out, `${'total'.padStart(11)} ${'calls'.padStart(9)} ${'a call'.padStart(11)}  statement\n${lines.join('\n')}\n`);
  };
  setInterval(write, 1000).unref();
  process.on('exit', write);
  process.on('SIGUSR2', () => stats.clear());
}
