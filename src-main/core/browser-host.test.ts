/**
 * BRG-1..4: the browser host's local bridge and screen server, in process, with a real terminal
 * core on a temp SQLite file. Every frame is validated; a bad frame gets an error result naming
 * the problem and the bridge carries on; core events are pushed; only the screen's own origin,
 * under a host name that cannot be DNS-rebound, may connect; files are served with the CSP.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { BridgeFrame } from '../../src-shared/terminal-api.js';
import { isAllowedHost, MAX_REQUEST_BYTES, startBrowserHost, type RunningHost } from './browser-host.js';
import { openTerminalCore } from './open-core.js';
import { loadSettings } from './settings.js';
import type { TerminalCore } from './terminal.js';
import { hashSecret } from '../../src-shared/crypto/hash.js';
import { newUser, TERMINAL_TOKEN } from '../../test/support/plant.js';
import { startTestServer } from '../../test/support/server.js';

let dir: string;
let core: TerminalCore;
let host: RunningHost;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-'));
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  core = openTerminalCore(loadSettings({ defaults: { dataDir: path.join(dir, 'data') } }), { appVersion: 'test' });
  core.startSyncing();
  host = await startBrowserHost({ api: core, rendererDir: renderer, port: 0, host: '127.0.0.1', locale: 'en', log: () => undefined });
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await host.close();
  core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A GET of `p` exactly as written, dots and all. */
function rawGet(p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(host.url, { method: 'GET', path: p, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface Client {
  ws: WebSocket;
  frames: BridgeFrame[];
  send(data: string | Buffer): void;
  result(id: number): Promise<Extract<BridgeFrame, { kind: 'result' }>>;
  next(pred: (f: BridgeFrame) => boolean): Promise<BridgeFrame>;
}

async function connect(headers: Record<string, string> = {}): Promise<Client> {
  const url = host.url.replace('http', 'ws') + '/api';
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  const frames: BridgeFrame[] = [];
  const waiters: Array<{ pred: (f: BridgeFrame) => boolean; resolve: (f: BridgeFrame) => void }> = [];
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as BridgeFrame;
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.pred(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // Each frame answers one wait: two waits for `id: 0` get two different frames.
  const taken = new Set<BridgeFrame>();
  const next = (pred: (f: BridgeFrame) => boolean) =>
    new Promise<BridgeFrame>((resolve, reject) => {
      const seen = frames.find((f) => !taken.has(f) && pred(f));
      if (seen) {
        taken.add(seen);
        return resolve(seen);
      }
      const timer = setTimeout(() => reject(new Error('no such frame within 5 s')), 5000);
      waiters.push({
        pred: (f) => !taken.has(f) && pred(f),
        resolve: (f) => {
          clearTimeout(timer);
          taken.add(f);
          resolve(f);
        },
      });
    });
  return {
    ws,
    frames,
    send: (data) => ws.send(data),
    next,
    result: (id) => next((f) => f.kind === 'result' && f.id === id) as Promise<Extract<BridgeFrame, { kind: 'result' }>>,
  };
}

function refusal(f: BridgeFrame) {
  if (f.kind !== 'result' || f.ok) throw new Error(`expected an error result, got ${JSON.stringify(f)}`);
  return f.error;
}

describe('BRG-1 every bridge frame is validated; a bad one gets an error naming the problem and the bridge carries on', () => {
  it('answers a valid call with its value', async () => {
    const c = await connect();
    c.send(JSON.stringify({ id: 1, method: 'getSnapshot', input: {} }));
    const r = await c.result(1);
    expect(r.ok).toBe(true);
    expect(r.ok && (r.value as { identity: { terminalId: string | null } }).identity.terminalId).toBeNull();
  });

  it('not JSON, an unknown method, a missing or extra field, a bad input: each refused by name; then a good call still works', async () => {
    const c = await connect();
    c.send('{not json');
    expect(refusal(await c.result(0))).toMatchObject({ code: 'invalid_input', details: { field: 'frame', problem: 'is not JSON' } });

    c.send(JSON.stringify({ id: 2, method: 'dropTables', input: {} }));
    expect(refusal(await c.result(2))).toMatchObject({ code: 'invalid_input', details: { field: 'method' } });

    c.send(JSON.stringify({ id: 3, method: 'claim', input: {}, extra: 1 }));
    expect(refusal(await c.result(3))).toMatchObject({ code: 'invalid_input', details: { field: 'frame', problem: expect.stringContaining('extra') } });

    c.send(JSON.stringify({ id: 31, method: 'getSnapshot' }));
    expect(refusal(await c.result(31))).toMatchObject({ code: 'invalid_input', details: { field: 'input' } });

    c.send(JSON.stringify({ id: 4, method: 'claim', input: { taskId: '' } }));
    const e4 = refusal(await c.result(4));
    expect(e4).toMatchObject({ code: 'invalid_input', details: { field: 'input.taskId' } });
    expect(e4.message).toContain('input.taskId');

    c.send(JSON.stringify({ id: 5, method: 'listClaimable', input: { offset: -1 } }));
    expect(refusal(await c.result(5))).toMatchObject({ code: 'invalid_input', details: { field: 'input.offset' } });

    c.send(JSON.stringify({ id: 6, method: 'enroll', input: { serverUrl: 'ftp://x', terminalId: 'k1', token: 'long-enough-token' } }));
    expect(refusal(await c.result(6))).toMatchObject({ code: 'invalid_input', details: { field: 'input.serverUrl' } });

    c.send(JSON.stringify({ id: -7, method: 'getSnapshot', input: {} }));
    expect(refusal(await c.result(0))).toMatchObject({ code: 'invalid_input', details: { field: 'id' } });

    c.send(JSON.stringify({ id: 8, method: 'getSnapshot', input: {} }));
    expect((await c.result(8)).ok).toBe(true);
  });

  it('SEC-7 text with a lone UTF-16 surrogate is refused naming the field, whatever the method', async () => {
    const c = await connect();
    c.send(JSON.stringify({ id: 1, method: 'reject', input: { taskId: 't1', reason: 'A\uD83DB' } }));
    expect(refusal(await c.result(1))).toMatchObject({ code: 'invalid_input', details: { field: 'input.reason' } });
    c.send(JSON.stringify({ id: 2, method: 'signIn', input: { badge: '\uDC00B-ANN' } }));
    expect(refusal(await c.result(2))).toMatchObject({ code: 'invalid_input', details: { field: 'input.badge' } });
    c.send(JSON.stringify({ id: 3, method: 'getSnapshot', input: {} }));
    expect((await c.result(3)).ok).toBe(true);
  });

  it('SEC-9 a bridge frame nested more than 32 levels deep is refused unparsed, naming the frame; the bridge carries on', async () => {
    const c = await connect();
    c.send(`{"id":1,"method":"reject","input":{"taskId":"t1","reason":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`);
    expect(refusal(await c.result(0))).toMatchObject({ code: 'invalid_input', details: { field: 'frame', problem: expect.stringContaining('more than 32 levels deep') } });
    c.send(JSON.stringify({ id: 2, method: 'getSnapshot', input: {} }));
    expect((await c.result(2)).ok).toBe(true);
  });

  it('SEC-7 a binary frame whose bytes are not UTF-8 is refused with invalid_input naming the frame, not passed on with U+FFFD in it; a well-formed one still works', async () => {
    const c = await connect();
    const calls: unknown[] = [];
    const signIn = core.signIn.bind(core);
    core.signIn = async (input) => {
      calls.push(input);
      return signIn(input);
    };
    // {"id":1,"method":"signIn","input":{"badge":"B-<0xff>ANN"}} as a binary frame.
    const head = Buffer.from('{"id":1,"method":"signIn","input":{"badge":"B-');
    c.send(Buffer.concat([head, Buffer.from([0xff]), Buffer.from('ANN"}}')]));
    expect(refusal(await c.result(0))).toMatchObject({ code: 'invalid_input', details: { field: 'frame', problem: 'is not UTF-8 text' } });
    // A lone surrogate encoded as UTF-8 bytes (CESU), which is not UTF-8 either.
    c.send(Buffer.concat([head, Buffer.from([0xed, 0xa0, 0xbd]), Buffer.from('ANN"}}')]));
    expect(refusal(await c.result(0))).toMatchObject({ code: 'invalid_input', details: { field: 'frame' } });
    expect(calls).toEqual([]);
    c.send(Buffer.from(JSON.stringify({ id: 2, method: 'getSnapshot', input: {} })));
    expect((await c.result(2)).ok).toBe(true);
  });

  it('a refusal by the core comes back as its domain error, in the terminal language', async () => {
    const c = await connect();
    c.send(JSON.stringify({ id: 1, method: 'claim', input: { taskId: 't1' } }));
    expect(refusal(await c.result(1))).toMatchObject({ code: 'not_signed_in', retry: { canRetry: false } });
    c.send(JSON.stringify({ id: 2, method: 'setLocale', input: { locale: 'zh' } }));
    expect((await c.result(2)).ok).toBe(true);
    c.send(JSON.stringify({ id: 3, method: 'signIn', input: { badge: 'B1' } }));
    const e = refusal(await c.result(3));
    expect(e.code).toBe('unavailable');
    expect(e.message).toBe('暂时无法连接服务器。');
  });

  it('BRG-2 a frame over the limit is refused with payload_too_large and the connection stays; a huge one closes it', async () => {
    const c = await connect();
    c.send(JSON.stringify({ id: 1, method: 'signIn', input: { badge: 'x'.repeat(MAX_REQUEST_BYTES) } }));
    expect(refusal(await c.result(0))).toMatchObject({ code: 'payload_too_large' });
    c.send(JSON.stringify({ id: 2, method: 'getSnapshot', input: {} }));
    expect((await c.result(2)).ok).toBe(true);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.send(Buffer.alloc(2 * 1024 * 1024, 0x20));
    expect(await closed).toBe(1009);
    // The bridge itself is fine: a new connection works.
    const d = await connect();
    d.send(JSON.stringify({ id: 1, method: 'getSnapshot', input: {} }));
    expect((await d.result(1)).ok).toBe(true);
  });

  it('BRG-3 core events are pushed to every connected screen', async () => {
    const a = await connect();
    const b = await connect();
    a.send(JSON.stringify({ id: 1, method: 'enroll', input: { serverUrl: 'http://127.0.0.1:9', terminalId: 'k9', token: 'some-long-token' } }));
    expect((await a.result(1)).ok).toBe(true);
    for (const c of [a, b]) {
      const e = await c.next((f) => f.kind === 'event' && f.event.type === 'identity');
      expect(e).toMatchObject({ kind: 'event', event: { type: 'identity', identity: { terminalId: 'k9', serverUrl: 'http://127.0.0.1:9' } } });
    }
  });
});

describe('SEC-30 the bridge cannot re-enroll a terminal its server has accepted without authority', () => {
  it('SEC-30 refuses enroll over the bridge without an administrator\u2019s credential, naming the server; with one checked by that server it re-enrolls', async () => {
    const server = await startTestServer();
    try {
      await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [], passwordHash: hashSecret('ada-administers-1') }), server.clock.now());
      const c = await connect();
      // First enrollment: as before, nothing else needed.
      c.send(JSON.stringify({ id: 1, method: 'enroll', input: { serverUrl: server.url, terminalId: 'k1', token: TERMINAL_TOKEN } }));
      expect((await c.result(1)).ok).toBe(true);
      await c.next((f) => f.kind === 'event' && f.event.type === 'identity' && f.event.identity.name === 'Kiosk 1');

      // A page (or anyone who reaches the bridge) tries to point the running kiosk elsewhere.
      const elsewhere = { serverUrl: 'http://127.0.0.1:9', terminalId: 'k9', token: 'some-long-token' };
      c.send(JSON.stringify({ id: 2, method: 'enroll', input: elsewhere }));
      const refused = refusal(await c.result(2));
      expect(refused).toMatchObject({ code: 'permission_denied', details: { reason: 'reenroll_needs_admin', serverUrl: server.url } });
      expect(refused.message).toBe(
        `This terminal is already enrolled with ${server.url}; re-enrolling needs an administrator's user id and password (or the maintenance secret).`,
      );
      c.send(JSON.stringify({ id: 3, method: 'getSnapshot', input: {} }));
      const snap = await c.result(3);
      expect(snap.ok && snap.value).toMatchObject({ identity: { terminalId: 'k1', serverUrl: server.url, name: 'Kiosk 1' } });

      // Half a credential is a bad frame, named; a wrong password is the server's refusal.
      c.send(JSON.stringify({ id: 4, method: 'enroll', input: { ...elsewhere, adminUserId: 'ada' } }));
      expect(refusal(await c.result(4))).toMatchObject({ code: 'invalid_input', details: { field: 'input.adminPassword' } });
      c.send(JSON.stringify({ id: 5, method: 'enroll', input: { ...elsewhere, adminUserId: 'ada', adminPassword: 'guess' } }));
      expect(refusal(await c.result(5))).toMatchObject({ code: 'sign_in_failed' });

      c.send(JSON.stringify({ id: 6, method: 'enroll', input: { ...elsewhere, adminUserId: 'ada', adminPassword: 'ada-administers-1' } }));
      const moved = await c.result(6);
      expect(moved.ok && moved.value).toMatchObject({ terminalId: 'k9', serverUrl: 'http://127.0.0.1:9' });
      expect(core.enrollmentAudit()[0]).toMatchObject({ outcome: 'applied', method: 'admin', adminUserId: 'ada', fromTerminalId: 'k1', toTerminalId: 'k9' });
    } finally {
      await server.stop();
    }
  });
});

describe('BRG-4 only the screen itself may use the bridge, and files are served with the strict CSP', () => {
  it('refuses another origin (403) and a host name that could be DNS-rebound (421); accepts its own origin', async () => {
    const port = new URL(host.url).port;
    await expect(connect({ Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect({ Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` })).rejects.toThrow(/421/);
    const ok = await connect({ Origin: host.url });
    ok.send(JSON.stringify({ id: 1, method: 'getSnapshot', input: {} }));
    expect((await ok.result(1)).ok).toBe(true);
    expect(isAllowedHost('localhost:1')).toBe(true);
    expect(isAllowedHost('[::1]:1')).toBe(true);
    expect(isAllowedHost('kiosk.plant.local:1')).toBe(false);
    expect(isAllowedHost('kiosk.plant.local:1', ['kiosk.plant.local'])).toBe(true);
  });

  it('serves the renderer with the CSP header; nothing outside its folder; GET and HEAD only', async () => {
    const index = await fetch(host.url);
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const asset = await fetch(`${host.url}/assets/app.js`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    // Sent as written (fetch would resolve the dots away before sending): a file beside the
    // renderer's folder is never served, however the path climbs out.
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/%2E%2E%2Fsecret.txt', '/..%5csecret.txt']) {
      const r = await rawGet(p);
      expect(r.body, p).not.toContain('secret');
      expect(r.status, p).toBeGreaterThanOrEqual(400);
    }
    expect((await fetch(`${host.url}/missing.js`)).status).toBe(404);
    expect((await fetch(host.url, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
