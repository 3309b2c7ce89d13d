/**
 * Reconnect storm (issue 4): 500 terminal cores, each with 10 claims queued during a plant-wide
 * outage (the server is down), reconnect at once when it comes back. All 5,000 outcomes must be
 * delivered, none lost or duplicated; reports the time until every outbox is empty.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../src-shared/clock.js';
import { badgeHash, tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { TerminalStore } from '../src-main/core/store.js';
import { realScheduler } from '../src-main/core/sync-client.js';
import { TerminalCore } from '../src-main/core/terminal.js';
import { wsDialer } from '../src-main/core/ws-dialer.js';
import { report, round, startServerProcess, tempDir } from './lib.js';

const TERMINALS = Number(process.env.BENCH_STORM_TERMINALS ?? 500);
const QUEUED = 10;
const PER_DEPARTMENT = 10;

async function until(pred: () => boolean, what: string, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function run(): Promise<void> {
  const dir = tempDir('storm');
  const serverDir = path.join(dir, 'server');
  fs.mkdirSync(serverDir);
  const now = Date.now();
  const store = new SqliteServerStore(path.join(serverDir, 'claims.db'), { synchronous: 'NORMAL' });
  const salt = await store.siteSalt();
  const departments = Math.ceil(TERMINALS / PER_DEPARTMENT);
  for (let d = 0; d < departments; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  const rows: ImportTaskRow[] = [];
  for (let t = 0; t < TERMINALS; t++) {
    const dept = `d${Math.floor(t / PER_DEPARTMENT)}`;
    await store.createUser(
      { id: `op${t}`, displayName: `Operator ${t}`, roles: ['operator'], departmentIds: [dept], badgeHash: badgeHash(salt, `B${t}`), pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 },
      now,
    );
    await store.createTerminal({ id: `k${t}`, name: `Kiosk ${t}`, departments: [dept], tokenHash: tokenHash(`storm-token-${t}`) }, now);
    for (let i = 0; i < QUEUED; i++) {
      rows.push({ taskId: `k${t}-t${i}`, workOrderNumber: `WO-${t}-${i}`, workOrderTitle: '', step: 'cut', workContent: `Part ${i} of kiosk ${t}`, departmentId: dept, status: 'pending', priority: 0, dueAt: null, requiredSkills: [] });
    }
  }
  if (!(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
  await store.close();

  let server = await startServerProcess(serverDir);
  const port = Number(new URL(server.url).port);
  const cores: TerminalCore[] = [];
  try {
    for (let t = 0; t < TERMINALS; t++) {
      const core = new TerminalCore({
        store: new TerminalStore(path.join(dir, `k${t}.db`)),
        settings: { serverUrl: server.url, terminalId: `k${t}`, token: `storm-token-${t}`, idleTimeoutSeconds: 0, locale: 'en' },
        clock: systemClock,
        scheduler: realScheduler,
        random: Math.random,
        dialer: (url) => wsDialer(url, { connectTimeoutMs: 10_000 }),
        appVersion: 'bench',
        sync: { backoffInitialMs: 250, backoffMaxMs: 2000, pingIntervalMs: 2000, pongTimeoutMs: 30_000 },
      });
      core.startSyncing();
      cores.push(core);
    }
    await until(() => cores.every((c) => c.syncStatus().status === 'online'), 'every terminal to sync');
    for (let t = 0; t < TERMINALS; t++) await cores[t]!.signIn({ badge: `B${t}` });
    await until(() => cores.every((c) => c.syncStatus().pending === 0), 'sign-ins to be sent');

    // Plant-wide outage: the server goes away; every kiosk queues ten claims.
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    await until(() => cores.every((c) => c.syncStatus().status !== 'online'), 'every terminal to notice');
    for (let t = 0; t < TERMINALS; t++) for (let i = 0; i < QUEUED; i++) await cores[t]!.claim({ taskId: `k${t}-t${i}` });
    const queued = cores.reduce((n, c) => n + c.syncStatus().pending, 0);

    server = await startServerProcess(serverDir, { port });
    const start = performance.now();
    for (const c of cores) c.kick(); // the network is back: everyone at once
    await until(() => cores.every((c) => c.syncStatus().pending === 0), 'every outbox to drain');
    const seconds = (performance.now() - start) / 1000;
    const outcomes = cores.reduce((n, c) => n + c.store.outcomeCount(), 0) - TERMINALS; // minus the sign-ins
    await server.stop();

    const db = new Database(path.join(serverDir, 'claims.db'), { readonly: true });
    const claims = db.prepare(`SELECT COUNT(*) AS n, COUNT(DISTINCT terminal_id || '/' || json_extract(details, '$.mutationId')) AS d, SUM(outcome = 'applied') AS applied FROM audit_events WHERE action = 'claim'`).get() as { n: number; d: number; applied: number };
    const held = db.prepare('SELECT COUNT(*) FROM tasks WHERE operator_id IS NOT NULL').pluck().get() as number;
    db.close();
    report({
      bench: 'reconnect-storm: 500 terminals reconnect with 10 queued claims each',
      figures: {
        terminals: TERMINALS,
        queuedClaims: queued,
        outcomesDelivered: outcomes,
        serverProcessedClaims: claims.n,
        distinctMutations: claims.d,
        applied: claims.applied,
        tasksHeld: held,
        secondsUntilAllOutboxesEmpty: round(seconds, 2),
        claimsPerSec: Math.round(queued / seconds),
      },
      targets: {
        'all outcomes delivered, none lost or duplicated': {
          target: `${TERMINALS * QUEUED}`,
          met: queued === TERMINALS * QUEUED && outcomes === queued && claims.n === queued && claims.d === queued && held === queued,
        },
      },
    });
  } finally {
    for (const c of cores) c.close();
    if (server.child.exitCode === null) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
