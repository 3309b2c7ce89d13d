/**
 * Abuse (SPEC "Hardening", SEC-*): what an attacker, or a broken client, tries against the sync
 * server. Where the defect is about the process (an event loop held), the server is a real child
 * process of the compiled CLI and a probe measures how long its pings take to come back while
 * the abuse runs; bounds are generous (several times the healthy figure, well under the stall the
 * defect caused) so a busy machine does not make them flaky. The rest runs against a real server
 * in this process on port 0, over real HTTP and WebSocket connections.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src-shared/clock.js';
import { PIN_SCRYPT_PARAMS } from '../src-shared/crypto/hash.js';
import type { ServerFrame } from '../src-shared/protocol/terminal.js';
import { PROTOCOL_VERSION } from '../src-shared/protocol/terminal.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { apiToken, call, eventually } from './support/http-client.js';
import { AUTO_ASSIGN_SLICE } from '../src-server/http/routes/tasks.js';
import { T0, TERMINAL_TOKEN, newUser, seedPlant } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { SupervisorClient } from './support/supervisor-client.js';
import { TestClient } from './support/ws-client.js';

const CLI = path.resolve('out/node/src-server/cli.js');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function inProcess(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  cleanup.push(() => server.stop());
  return server;
}

/** A seeded plant served by a real `cli.js start` child process; resolves with its URL. */
async function serverProcess(): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'abuse-'));
  const store = new SqliteServerStore(path.join(data, 'claims.db'));
  await seedPlant(store, Date.now());
  await store.close();
  const child = spawn(process.execPath, [CLI, 'start', '--data', data, '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, LOG_LEVEL: 'info' } });
  cleanup.push(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    fs.rmSync(data, { recursive: true, force: true });
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', () => reject(new Error(`the server exited: ${out}`)));
  });
  return { url, child };
}

/**
 * Measure the server's responsiveness: a connected terminal sends a ping every 10 ms and records
 * each round trip until stopped. `worst()` is the longest round trip seen.
 */
async function probe(url: string): Promise<{ stop(): Promise<number[]> }> {
  const c = await TestClient.connect(url.replace(/^http/, 'ws') + '/sync', { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0 });
  c.ackAll();
  const rtts: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 10_000; i++) {
      const t = Date.now() * 1000 + (i % 1000);
      const sent = performance.now();
      c.sendRaw({ type: 'ping', t });
      await c.waitFor((f) => f.type === 'pong' && f.t === t, 30_000);
      rtts.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      c.close();
      return rtts;
    },
  };
}

async function post(url: string, pathname: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function metricsText(server: TestServer): Promise<string> {
  return (await call(server, '/metrics')).text;
}

function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('sign-in under attack (real server process)', () => {
  it('SEC-1 80 concurrent wrong sign-ins from four addresses do not stall the other terminals: every ping still comes back promptly', async () => {
    const { url } = await serverProcess();
    const p = await probe(url);
    await new Promise((r) => setTimeout(r, 200));
    const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const statuses = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        // Each attempt on its own connection from one of four loopback addresses.
        const { request } = await import('node:http');
        return new Promise<number>((resolve, reject) => {
          const body = JSON.stringify({ badge: 'B-BOB', pin: String(1000 + i) });
          const u = new URL(`${url}/api/auth/sign-in`);
          const req = request(
            { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress: addresses[i % 4], headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      }),
    );
    const rtts = await p.stop();
    // Wrong PINs are refused (401), or throttled, locked or shed (429); none is accepted.
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(rtts.length).toBeGreaterThan(10);
    // Before hashing moved off the event loop, these pings waited 4-5 s.
    expect(Math.max(...rtts)).toBeLessThan(1000);
  });

  it('SEC-9 a 50,000-row import never holds the event loop: pings keep coming back while it runs, and it still imports all or nothing', async () => {
    const { url } = await serverProcess();
    const session = await post(url, '/api/auth/sign-in', { userId: 'sue', password: 'supervisor-pass' });
    expect(session.status).toBe(200);
    const token = session.body.token as string;
    const lines = ['taskId,workOrderNumber,step,workContent,departmentId,priority'];
    for (let i = 0; i < 50_000; i++) lines.push(`BIG-${i},WO-BIG-${Math.floor(i / 20)},cut,Cut part ${i} to drawing rev B,cut,${i % 5}`);
    const p = await probe(url);
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${url}/api/tasks/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` },
      body: lines.join('\n'),
      signal: AbortSignal.timeout(120_000),
    });
    const rtts = await p.stop();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: 50_000, created: 50_000 });
    expect(rtts.length).toBeGreaterThan(20);
    // Before the import ran in slices, one such import held every ping for 0.7-1.3 s (more on a busy machine).
    expect(Math.max(...rtts)).toBeLessThan(600);
    // All or nothing: one bad row at the very end of a big file, and not one row of it is kept.
    const bad = ['taskId,workOrderNumber,step,workContent,departmentId'];
    for (let i = 0; i < 2_000; i++) bad.push(`HALF-${i},WO-HALF,cut,Part ${i},cut`);
    bad.push('HALF-LAST,WO-HALF,cut,Part last,nosuchdept');
    const refused = await fetch(`${url}/api/tasks/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` },
      body: bad.join('\n'),
    });
    expect(refused.status).toBe(422);
    const list = await fetch(`${url}/api/tasks?workOrder=WO-HALF`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await list.json()) as { total: number }).total).toBe(0);
  });
});

describe('sign-in limits', () => {
  it('SEC-2 every refusal costs exactly one check of its kind: unknown badge, a supervisor\u2019s badge without a PIN, a wrong PIN, an unknown user, a wrong password', async () => {
    const server = await inProcess();
    const attempts: Array<[string, Record<string, unknown>, string]> = [
      ['unknown badge', { badge: 'B-NOBODY' }, 'pin'],
      ['supervisor badge without a PIN', { badge: 'B-SUE' }, 'pin'],
      ['wrong PIN', { badge: 'B-BOB', pin: '0000' }, 'pin'],
      ['unknown user', { userId: 'nobody', password: 'whatever-long' }, 'password'],
      ['wrong password', { userId: 'sue', password: 'not-her-password' }, 'password'],
    ];
    for (const [what, body, kind] of attempts) {
      const before = await metricsText(server);
      const res = await call(server, '/api/auth/sign-in', { body });
      expect(res.status, what).toBe(401);
      const after = await metricsText(server);
      expect(counter(after, 'shopfloor_secret_checks_total', `kind="${kind}"`) - counter(before, 'shopfloor_secret_checks_total', `kind="${kind}"`), what).toBe(1);
      const other = kind === 'pin' ? 'password' : 'pin';
      expect(counter(after, 'shopfloor_secret_checks_total', `kind="${other}"`), what).toBe(counter(before, 'shopfloor_secret_checks_total', `kind="${other}"`));
    }
    // A PIN hashed with the older, cheaper parameters is hashed again once given right, so a known
    // badge's refusal costs what an unknown one's does (SEC-31 parameters).
    expect((await server.store.getUser('bob'))!.pinHash).toMatch(/^scrypt\$16384\$/);
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-BOB', pin: '4321' } })).status).toBe(200);
    expect((await server.store.getUser('bob'))!.pinHash).toMatch(new RegExp(`^scrypt\\$${PIN_SCRYPT_PARAMS.N}\\$`));
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-BOB', pin: '4321' } })).status).toBe(200);
  });

  it('SEC-3 a loop of successful sign-ins is limited per user, keeps at most 10 live sessions (the oldest revoked), and ended sessions are pruned', async () => {
    const server = await inProcess({ authPruneMs: 25 });
    const tokens: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await call(server, '/api/auth/sign-in', { body: { badge: 'B-ANN' } });
      statuses.push(res.status);
      if (res.status === 200) tokens.push(res.body.token as string);
      else expect(res.body).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    const live = (await server.store.listApiTokens('ann')).filter((t) => t.kind === 'session' && t.revokedAt === null);
    expect(live).toHaveLength(10);
    expect((await call(server, '/api/me', { token: tokens[0]! })).status).toBe(401);
    expect((await call(server, '/api/me', { token: tokens.at(-1)! })).status).toBe(200);
    // A day after the sessions ended, they are gone from the database.
    server.clock.advance(13 * 3600_000 + 25 * 3600_000);
    await eventually(async () => (await server.store.listApiTokens('ann')).length === 0, 5000, 'ended sessions to be pruned');
    // And the window has passed: ann signs in again.
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-ANN' } })).status).toBe(200);
  });

  it('SEC-11 past the plant-wide ceiling of failures per minute every failure is answered slowly, successes are not; the per-badge lock still holds', async () => {
    const server = await inProcess({ signInPolicy: { globalFailuresPerMinute: 3, globalFailureDelayMs: 2500, ipLockAfter: 1000 } });
    for (let i = 0; i < 3; i++) expect((await call(server, '/api/auth/sign-in', { body: { badge: `B-GUESS-${i}` } })).status).toBe(401);
    const started = performance.now();
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-GUESS-X' } })).status).toBe(401);
    // A timer never fires early: the slowed failure took at least the delay.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2490);
    const ok = performance.now();
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-ANN' } })).status).toBe(200);
    expect(performance.now() - ok).toBeLessThan(2490);
  });

  it('SEC-11 AUTH-6 the per-badge lock is the real guard: guesses at one PIN from many addresses lock the badge, even against its right PIN', async () => {
    const server = await inProcess({ signInPolicy: { ipLockAfter: 1000 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Each guess waits out the throttle, as a patient attacker's would (the address lock is out of reach).
      server.clock.advance(6_000);
      codes.push((await call(server, '/api/auth/sign-in', { body: { badge: 'B-BOB', pin: `99${i}9` } })).body.code as string);
    }
    expect(codes).toContain('sign_in_locked');
    server.clock.advance(6_000);
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-BOB', pin: '4321' } })).body.code).toBe('sign_in_locked');
  });
});

describe('WebSocket abuse', () => {
  it('SEC-4 metric labels come only from closed sets: thousands of junk frame types and mutation names leave /metrics the same size', async () => {
    const server = await inProcess();
    const c = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now() });
    cleanup.push(() => c.close());
    c.ackAll();
    await c.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' }]);
    const before = (await metricsText(server)).split('\n').length;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const ws = new WebSocket(server.wsUrl);
          await new Promise<void>((resolve, reject) => {
            ws.once('open', () => resolve());
            ws.once('error', reject);
          });
          ws.send(JSON.stringify({ type: `junk-${batch}-${i}` }));
          await new Promise<void>((resolve) => ws.once('close', () => resolve()));
        }),
      );
    }
    const outcomes = await c.mutate(Array.from({ length: 200 }, (_, i) => ({ name: `mutation-${i}`, args: {}, operatorId: 'ann' })));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    const after = await metricsText(server);
    expect(after).not.toMatch(/junk-|mutation-1/);
    expect(counter(after, 'shopfloor_ws_frames_total', 'direction="in",type="other"')).toBeGreaterThanOrEqual(500);
    expect(after.split('\n').length - before).toBeLessThan(60);
  });

  it('SEC-5 a push of 500 mutations without ids gets one error frame; a connection that keeps sending garbage is closed (4429) after a bounded number of answers', async () => {
    const server = await inProcess();
    const c = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now() });
    cleanup.push(() => c.close());
    c.ackAll();
    c.sendRaw({ type: 'push', mutations: Array.from({ length: 500 }, () => ({ name: 'claim', args: { taskId: 't1' } })) });
    c.sendRaw({ type: 'ping', t: 1 });
    await c.waitFor((f) => f.type === 'pong' && f.t === 1);
    const errors = c.frames.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.details).toMatchObject({ field: 'mutations.0.id' });
    expect(String(errors[0]!.error.details.problem)).toMatch(/500 mutations/);
    for (let i = 0; i < 200; i++) c.sendRaw('garbage that is not JSON');
    expect(await c.waitClose()).toBe(4429);
    const answered = c.frames.filter((f) => f.type === 'error').length;
    expect(answered).toBeLessThanOrEqual(25);
    expect(c.frames.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error').at(-1)!.fatal).toBe(true);
  });

  it('SEC-13 PROTO-3 a second hello on one connection, even before the first is answered, closes it (4400): a connection is one terminal', async () => {
    const server = await inProcess();
    const c = await TestClient.open(server.wsUrl);
    cleanup.push(() => c.close());
    const hello = (terminalId: string, token: string) => ({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      terminalId,
      token,
      cursor: null,
      lastAckedMutationId: 0,
      clientTime: server.clock.now(),
      appVersion: 'test',
      outbox: 0,
    });
    c.sendRaw(hello('k1', TERMINAL_TOKEN));
    c.sendRaw(hello('k2', 'term_test_token_2'));
    expect(await c.waitClose()).toBe(4400);
    expect(c.frames.filter((f) => f.type === 'welcome').length).toBeLessThanOrEqual(1);
    const err = c.frames.find((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error' && f.fatal)!;
    expect(err.error.details).toMatchObject({ field: 'type' });
    expect(server.ctx.hub.connectedTerminals()).not.toContain('k2');
  });
});

describe('ill-formed text', () => {
  const LONE = 'A\uD83DB';

  it('SEC-7 a lone UTF-16 surrogate is refused at every edge with invalid_input naming the field, and nothing is stored changed', async () => {
    const server = await inProcess();
    const sue = (await call(server, '/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    // JSON import over HTTP.
    const imp = await call(server, '/api/tasks/import', { token: sue, body: { rows: [{ taskId: 'u1', workOrderNumber: 'WO-U', step: 'cut', workContent: LONE, departmentId: 'cut' }] } });
    expect(imp.status).toBe(400);
    expect(imp.body).toMatchObject({ code: 'invalid_input', details: { field: 'rows.0.workContent' } });
    expect(await server.store.getTask('u1', server.clock.now())).toBeNull();
    // A reason in an HTTP body.
    const ann = (await call(server, '/api/auth/sign-in', { body: { badge: 'B-ANN' } })).body.token as string;
    await call(server, '/api/tasks/t1/claim', { token: ann, body: {} });
    const reject = await call(server, '/api/tasks/t1/reject', { token: ann, body: { reason: LONE } });
    expect(reject.body).toMatchObject({ code: 'invalid_input', details: { field: 'reason' } });
    // Bytes that are not UTF-8, as JSON and as CSV.
    const badBytes = Buffer.from([0x7b, 0x22, 0x72, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0xbd, 0x22, 0x7d]);
    const res = await fetch(`${server.url}/api/tasks/t1/reject`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ann}` }, body: badBytes });
    expect(await res.json()).toMatchObject({ code: 'invalid_input', details: { field: 'body' } });
    const csv = Buffer.concat([Buffer.from('taskId,workOrderNumber,step,workContent\nu2,WO-U,cut,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    const csvRes = await fetch(`${server.url}/api/tasks/import`, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${sue}` }, body: csv });
    expect(csvRes.status).toBe(400);
    // A query parameter.
    const q = await call(server, '/api/tasks?q=%ED%A0%BD', { token: sue });
    expect(q.body).toMatchObject({ code: 'invalid_input', details: { field: 'query.q' } });
    // A real U+FFFD sent in one parameter does not let a broken one through in another.
    const both = await call(server, '/api/tasks?workOrder=%EF%BF%BD&q=%ED%A0%BD', { token: sue });
    expect(both.body).toMatchObject({ code: 'invalid_input', details: { field: 'query.q' } });
    expect((await call(server, '/api/tasks?q=%EF%BF%BD', { token: sue })).status).toBe(200);
    // API-5: a parameter given twice is refused, not read as the last one.
    const twice = await call(server, '/api/tasks?status=pending&status=completed', { token: sue });
    expect(twice.body).toMatchObject({ code: 'invalid_input', details: { field: 'query.status', problem: expect.stringContaining('more than once') } });
    // A WebSocket mutation: rejected alone, its id consumed, the task untouched.
    const c = await TestClient.connect(server.wsUrl, { terminalId: 'k2', token: 'term_test_token_2', cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now() });
    cleanup.push(() => c.close());
    c.ackAll();
    const [, rejected] = await c.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' },
      { name: 'reject', args: { taskId: 't1', reason: LONE }, operatorId: 'ann' },
    ]);
    expect(rejected).toMatchObject({ status: 'rejected', error: { code: 'invalid_input', details: { field: 'args.reason' } } });
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBe('ann');
    // Well-formed text beyond the BMP is kept exactly.
    const emoji = await call(server, '/api/tasks/import', { token: sue, body: { rows: [{ taskId: 'u3', workOrderNumber: 'WO-U', step: 'cut', workContent: 'A\uD83D\uDE00B', departmentId: 'cut' }] } });
    expect(emoji.status).toBe(200);
    expect((await server.store.getTask('u3', server.clock.now()))!.workContent).toBe('A\uD83D\uDE00B');
  });
  it('SEC-7 PROTO-3 SEC-5 a WebSocket text frame whose bytes are not UTF-8 gets invalid_input naming the frame, on the terminal and the supervisor feed; the connection carries on, and a stream of them is closed (4429)', async () => {
    const server = await inProcess();
    const notUtf8 = Buffer.concat([Buffer.from('{"type":"ping","t":1,"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    type Err = { type: 'error'; error: { code: string; details: Record<string, unknown> }; fatal: boolean };
    const expectRefused = (errors: Err[]) => {
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ error: { code: 'invalid_input', details: { field: 'frame' } }, fatal: false });
      expect(String(errors[0]!.error.details.problem)).toMatch(/not valid UTF-8/);
    };
    // A terminal.
    const k = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now() });
    cleanup.push(() => k.close());
    k.ws.send(notUtf8, { binary: false });
    k.sendRaw({ type: 'ping', t: 2 });
    await k.waitFor((f) => f.type === 'pong' && f.t === 2);
    expectRefused(k.frames.filter((f) => f.type === 'error') as Err[]);
    expect(k.closeCode).toBeNull();
    for (let i = 0; i < 100; i++) k.ws.send(notUtf8, { binary: false });
    expect(await k.waitClose()).toBe(4429);
    expect(k.frames.filter((f) => f.type === 'error').length).toBeLessThanOrEqual(25);
    // A supervisor page.
    const p = await SupervisorClient.connect(server.url, { token: (await apiToken(server, 'sue')).token });
    cleanup.push(() => p.ws.close());
    expect(p.welcome).toBeDefined();
    p.ws.send(notUtf8, { binary: false });
    await p.ping();
    expectRefused(p.frames.filter((f) => f.type === 'error') as unknown as Err[]);
    expect(p.closeCode).toBeNull();
    for (let i = 0; i < 100; i++) p.ws.send(notUtf8, { binary: false });
    expect(await p.waitClose()).toBe(4429);
  });
});

describe('big requests in slices', () => {
  it('SEC-9 auto-assign runs in slices: every task decided once, the limit kept, the result the same shape', async () => {
    const server = await inProcess({ clock: new ManualClock(T0) });
    for (let i = 0; i < 20; i++) await server.store.createUser(newUser(`op${i}`, { taskLimit: 3 }), server.clock.now());
    const rows = Array.from({ length: 120 }, (_, i) => ({ taskId: `aa${i}`, workOrderNumber: `WO-A${i}`, step: 'cut', workContent: `Part ${i}`, departmentId: 'cut' }));
    const sue = (await call(server, '/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token as string;
    expect((await call(server, '/api/tasks/import', { token: sue, body: { rows } })).status).toBe(200);
    const res = await call(server, '/api/departments/cut/auto-assign', { token: sue, body: { strategy: 'least_loaded', limit: 100 } });
    expect(res.status).toBe(200);
    const assigned = res.body.assigned as Array<{ taskId: string; userId: string }>;
    const unassigned = res.body.unassigned as Array<{ taskId: string }>;
    const decided = [...assigned.map((a) => a.taskId), ...unassigned.map((u) => u.taskId)];
    expect(decided.length).toBe(100);
    expect(new Set(decided).size).toBe(100);
    // Later slices see what earlier ones assigned: nobody goes over their limit across slices.
    const perUser = new Map<string, number>();
    for (const a of assigned) perUser.set(a.userId, (perUser.get(a.userId) ?? 0) + 1);
    for (const [user, n] of perUser) expect(n, user).toBeLessThanOrEqual(user.startsWith('op') ? 3 : 10);
    expect(assigned.length).toBeGreaterThan(AUTO_ASSIGN_SLICE);
    expect(unassigned.every((u) => (u as { reason?: string }).reason === 'no_eligible_operator')).toBe(true);
    for (const a of assigned) expect((await server.store.getTask(a.taskId, server.clock.now()))!.operatorId).toBe(a.userId);
  });
});
