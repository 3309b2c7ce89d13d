/**
 * Abuse (issue 10, SPEC SEC-*): what an attacker or a broken client does to a real server process
 * on a plant's shape (4 departments, 200 operators of whom a quarter have PINs, 10,000 tasks), while
 * a connected kiosk pings it every 20 ms. The kiosk's ping round trips are the figure of merit: they
 * are what every terminal on the floor waits for while the abuse runs. Reported side by side with
 * the same probe on the idle server, in the same run.
 *
 * Phases: idle; 80 concurrent wrong sign-ins from four loopback addresses (SEC-1, SEC-11); one
 * badge-only operator signing in as fast as they can for 10 s (SEC-3); BENCH_JUNK one-frame junk
 * connections (SEC-4; default 100,000); a 50,000-row CSV import (SEC-9); auto-assign of 1,000
 * tasks (SEC-9).
 */
import Database from 'better-sqlite3';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { badgeHash, hashSecret, tokenHash } from '../src-shared/crypto/hash.js';
import { PROTOCOL_VERSION } from '../src-shared/protocol/terminal.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { report, round, rssMiB, startServerProcess, summarize, tempDir } from './lib.js';

const DEPARTMENTS = ['d0', 'd1', 'd2', 'd3'];
const OPERATORS = 200;
const TASKS = 10_000;
const JUNK = Number(process.env.BENCH_JUNK ?? 100_000);
const TERMINAL_TOKEN = 'bench-terminal-token-0001';
const ADMIN_TOKEN = 'bench-admin-api-token-0001';

/** A kiosk that pings every 20 ms and keeps the round trips of the current phase. */
export class Probe {
  private ws!: WebSocket;
  private rtts: number[] = [];
  private pending = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  async open(wsUrl: string): Promise<void> {
    this.ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { type: string; t?: number; cursor?: number | null };
      if (f.type === 'pong' && f.t !== undefined) {
        const sent = this.pending.get(f.t);
        if (sent !== undefined) {
          this.rtts.push(performance.now() - sent);
          this.pending.delete(f.t);
        }
      } else if (f.type === 'changes' && f.cursor !== null && f.cursor !== undefined) this.ws.send(JSON.stringify({ type: 'ack', cursor: f.cursor }));
    });
    this.ws.send(
      JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, terminalId: 'k0', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: Date.now(), appVersion: 'bench', outbox: 0 }),
    );
    this.timer = setInterval(() => {
      const t = Date.now() * 1000 + (this.seq++ % 1000);
      this.pending.set(t, performance.now());
      this.ws.send(JSON.stringify({ type: 'ping', t }));
    }, 20);
  }

  /** Round trips since the last call (pings still out count as lasting until now). */
  take(): ReturnType<typeof summarize> {
    const now = performance.now();
    const all = [...this.rtts, ...[...this.pending.values()].map((sent) => now - sent)];
    this.rtts = [];
    return summarize(all);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.ws.close();
  }
}

export function request(url: string, options: { method?: string; path: string; body?: string; headers?: Record<string, string>; localAddress?: string }): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: options.path,
        method: options.method ?? 'POST',
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        headers: { 'content-type': 'application/json', ...(options.body ? { 'content-length': Buffer.byteLength(options.body) } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metricsLines(url: string): Promise<number> {
  return (await request(url, { method: 'GET', path: '/metrics' })).text.split('\n').length;
}

/** The database file and its write-ahead log, in MiB. */
function dataMiB(dir: string): { db: number; wal: number } {
  const size = (f: string) => (fs.existsSync(path.join(dir, f)) ? round(fs.statSync(path.join(dir, f)).size / 1024 / 1024, 1) : 0);
  return { db: size('claims.db'), wal: size('claims.db-wal') };
}

export async function run(): Promise<void> {
  const dir = tempDir('abuse');
  const store = new SqliteServerStore(path.join(dir, 'claims.db'));
  const now = Date.now();
  const salt = await store.siteSalt();
  for (const d of DEPARTMENTS) await store.upsertDepartment({ id: d, name: `Department ${d}`, taskLimit: null }, now);
  const pinHash = hashSecret('4821');
  for (let i = 0; i < OPERATORS; i++) {
    await store.createUser(
      {
        id: `op${i}`,
        displayName: `Operator ${i}`,
        roles: ['operator'],
        departmentIds: [DEPARTMENTS[i % 4]!],
        badgeHash: badgeHash(salt, `B-${i}`),
        pinHash: i % 4 === 0 ? pinHash : null,
        passwordHash: null,
        active: true,
        taskLimit: 10,
        skills: [],
        qualityScore: 0.5,
      },
      now,
    );
  }
  await store.createUser({ id: 'root', displayName: 'Admin', roles: ['admin'], departmentIds: [], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
  await store.createApiToken({ id: 'tok-root', userId: 'root', name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(ADMIN_TOKEN) }, now);
  await store.createTerminal({ id: 'k0', name: 'Kiosk 0', departments: ['d1'], tokenHash: tokenHash(TERMINAL_TOKEN) }, now);
  const rows = Array.from({ length: TASKS }, (_, i) => ({
    taskId: `t${i}`,
    workOrderNumber: `WO-${Math.floor(i / 10)}`,
    workOrderTitle: '',
    step: 'cut',
    workContent: `Part ${i}`,
    departmentId: DEPARTMENTS[i % 4]!,
    status: 'pending' as const,
    priority: i % 5,
    dueAt: null,
    requiredSkills: [],
  }));
  if (!(await store.importTasks(rows, now)).ok) throw new Error('seed failed');
  await store.close();

  const server = await startServerProcess(dir);
  const pid = server.child.pid!;
  const probe = new Probe();
  await probe.open(server.url.replace(/^http/, 'ws') + '/sync');
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  try {
    await sleep(1500);
    probe.take();
    await sleep(2000);
    const idle = probe.take();

    // SEC-1: 80 wrong sign-ins at once from four addresses.
    const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
    let started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        request(server.url, { path: '/api/auth/sign-in', body: JSON.stringify({ badge: `B-${(i * 4) % OPERATORS}`, pin: String(1000 + i) }), localAddress: addresses[i % 4]! }).then((r) => r.status),
      ),
    );
    const signInStormMs = performance.now() - started;
    const storm = probe.take();
    const byStatus: Record<string, number> = {};
    for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;

    // SEC-3: one badge-only operator signing in as fast as they can for 10 s.
    const beforeMiB = dataMiB(dir);
    let ok = 0;
    let limited = 0;
    const until = performance.now() + 10_000;
    while (performance.now() < until) {
      const r = await request(server.url, { path: '/api/auth/sign-in', body: JSON.stringify({ badge: 'B-1' }) });
      if (r.status === 200) ok++;
      else limited++;
    }
    const loop = probe.take();
    const peek = new Database(path.join(dir, 'claims.db'), { readonly: true });
    const liveSessions = peek.prepare("SELECT COUNT(*) FROM api_tokens WHERE user_id = 'op1' AND kind = 'session' AND revoked_at IS NULL").pluck().get() as number;
    const allSessions = peek.prepare("SELECT COUNT(*) FROM api_tokens WHERE user_id = 'op1'").pluck().get() as number;
    peek.close();

    // SEC-4: junk one-frame connections.
    const linesBefore = await metricsLines(server.url);
    const rssBefore = rssMiB(pid);
    const wsUrl = server.url.replace(/^http/, 'ws') + '/sync';
    started = performance.now();
    for (let done = 0; done < JUNK; ) {
      const n = Math.min(200, JUNK - done);
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const ws = new WebSocket(wsUrl);
          await new Promise<void>((resolve) => {
            ws.once('open', () => {
              ws.send(JSON.stringify({ type: `junk-${done + i}` }));
              ws.once('close', () => resolve());
            });
            ws.once('error', () => resolve());
          });
        }),
      );
      done += n;
    }
    const junkMs = performance.now() - started;
    const junk = probe.take();
    const linesAfter = await metricsLines(server.url);
    const rssAfter = rssMiB(pid);

    // SEC-9: a 50,000-row import, then auto-assign of 1,000 tasks.
    const csv = ['taskId,workOrderNumber,step,workContent,departmentId,priority'];
    for (let i = 0; i < 50_000; i++) csv.push(`BIG-${i},WO-BIG-${Math.floor(i / 20)},cut,Cut part ${i} to drawing rev B,d2,${i % 5}`);
    await sleep(500);
    probe.take();
    started = performance.now();
    const imp = await request(server.url, { path: '/api/tasks/import', body: csv.join('\n'), headers: { ...admin, 'content-type': 'text/csv' } });
    const importMs = performance.now() - started;
    const importProbe = probe.take();
    await sleep(500);
    probe.take();
    started = performance.now();
    const aa = await request(server.url, { path: '/api/departments/d0/auto-assign', body: JSON.stringify({ strategy: 'hybrid', limit: 1000 }), headers: admin });
    const autoAssignMs = performance.now() - started;
    const autoProbe = probe.take();
    const aaBody = JSON.parse(aa.text) as { assigned?: unknown[]; unassigned?: unknown[] };

    report({
      bench: 'abuse: a kiosk\u2019s ping round trips while the server is abused (4 departments, 200 operators, 10,000 tasks)',
      figures: {
        idlePingMs: idle,
        wrongSignIns: { count: 80, addresses: 4, ms: round(signInStormMs, 0), statuses: byStatus, pingMs: storm, maxVsIdle: round(storm.max / Math.max(idle.max, 0.001), 1) },
        signInLoop10s: { succeeded: ok, refused429: limited, liveSessionsAfter: liveSessions, sessionRowsAfter: allSessions, dataMiBBefore: beforeMiB, dataMiBAfter: dataMiB(dir), pingMs: loop },
        junkConnections: { count: JUNK, ms: round(junkMs, 0), metricsLinesBefore: linesBefore, metricsLinesAfter: linesAfter, rssMiBBefore: rssBefore, rssMiBAfter: rssAfter, pingMs: junk },
        import50k: { status: imp.status, ms: round(importMs, 0), pingMs: importProbe, maxVsIdle: round(importProbe.max / Math.max(idle.max, 0.001), 1) },
        autoAssign1000: { status: aa.status, decided: (aaBody.assigned?.length ?? 0) + (aaBody.unassigned?.length ?? 0), ms: round(autoAssignMs, 0), pingMs: autoProbe },
      },
    });
  } finally {
    probe.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
