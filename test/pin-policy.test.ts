/**
 * The offline PIN directory (SEC-31, SEC-32): PINs go to terminals, so they are hashed with the
 * parameters chosen by the kiosk's measured budget (passwords keep theirs), old hashes keep
 * verifying, and a site may ask for longer PINs (`pinMinLength`) wherever one is set: the admin
 * API, the CLI and the demo. The policy stays on the server: terminals are not sent it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecretAsync, hashPinAsync } from '../src-server/secrets.js';
import { seedDemo } from '../src-server/demo.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { hashSecret, PASSWORD_SCRYPT_PARAMS, PIN_SCRYPT_PARAMS, scryptParamsOf, verifySecret } from '../src-shared/crypto/hash.js';
import { MAX_PIN_DIGITS } from '../src-shared/domain/credentials.js';
import { apiToken, call, type Answer } from './support/http-client.js';
import { newUser, TERMINAL_TOKEN } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

const CLI = path.resolve('out/node/src-server/cli.js');
const dirs: string[] = [];
let server: TestServer;
let ada: string;

beforeEach(async () => {
  server = await startTestServer();
  await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [], displayName: 'Ada Admin' }), server.clock.now());
  ada = (await apiToken(server, 'ada')).token;
});
afterEach(async () => {
  await server.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-'));
  dirs.push(d);
  return d;
}

function invalid(a: Answer, field: string): string {
  expect(a.status, a.text).toBe(400);
  expect(a.body).toMatchObject({ code: 'invalid_input', details: { field } });
  return String((a.body.details as { problem: string }).problem);
}

async function storedPinHash(userId: string): Promise<string> {
  return (await server.store.getUser(userId))!.pinHash!;
}

describe('SEC-31 PIN hashes cost what the kiosk can afford; passwords keep theirs', () => {
  it('SEC-31 PINs are hashed with the PIN parameters, passwords with theirs; both formats verify on terminals and the server', async () => {
    const pin = await hashPinAsync('482913');
    expect(scryptParamsOf(pin)).toEqual({ N: PIN_SCRYPT_PARAMS.N, r: 8, p: 1 });
    expect(PIN_SCRYPT_PARAMS.N).toBeGreaterThan(PASSWORD_SCRYPT_PARAMS.N);
    expect(verifySecret('482913', pin)).toBe(true);
    expect(verifySecret('482914', pin)).toBe(false);
    expect(scryptParamsOf(await hashSecretAsync('a long password'))).toEqual({ N: PASSWORD_SCRYPT_PARAMS.N, r: 8, p: 1 });
    // A PIN hashed before SEC-31 (N = 2^14) keeps verifying: the format carries N.
    expect(verifySecret('4321', hashSecret('4321', { N: 2 ** 14, r: 8, p: 1, dkLen: 32 }))).toBe(true);
    // A stored hash asking for absurd work is refused, never computed.
    for (const bad of ['scrypt$1000$8$1$aa$bb', `scrypt$${2 ** 21}$8$1$aa$bb`, 'scrypt$16384$64$1$aa$bb', 'scrypt$16384$8$99$aa$bb']) {
      expect(scryptParamsOf(bad)).toBeNull();
      expect(verifySecret('4321', bad)).toBe(false);
    }
  });

  it('SEC-31 a PIN set through the admin API gets the PIN parameters; a PIN from before still signs in', async () => {
    const created = await call(server, '/api/users', { token: ada, body: { id: 'cy', displayName: 'Cy', roles: ['operator'], departmentIds: ['cut'], badge: 'B-CY', pin: '2580' } });
    expect(created.status, created.text).toBe(201);
    expect(scryptParamsOf(await storedPinHash('cy'))?.N).toBe(PIN_SCRYPT_PARAMS.N);
    expect(verifySecret('2580', await storedPinHash('cy'))).toBe(true);
    // bob's PIN was hashed with N = 2^14 by the plant seed.
    expect(scryptParamsOf(await storedPinHash('bob'))?.N).toBe(2 ** 14);
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-BOB', pin: '4321' } })).status).toBe(200);
    expect((await call(server, '/api/auth/sign-in', { body: { badge: 'B-CY', pin: '2580' } })).status).toBe(200);
  });
});

describe('SEC-32 the site sets the shortest PIN; every place that sets one applies it', () => {
  it('SEC-32 pinMinLength is 4 by default, 4..12, changed with PATCH /api/config, and kept from terminals', async () => {
    expect((await call(server, '/api/config', { token: ada })).body).toMatchObject({ config: { pinMinLength: 4 } });
    expect(invalid(await call(server, '/api/config', { token: ada, method: 'PATCH', body: { pinMinLength: 3 } }), 'pinMinLength')).toMatch(/at least 4/);
    expect(invalid(await call(server, '/api/config', { token: ada, method: 'PATCH', body: { pinMinLength: MAX_PIN_DIGITS + 1 } }), 'pinMinLength')).toMatch(/at most 12/);
    const patched = await call(server, '/api/config', { token: ada, method: 'PATCH', body: { pinMinLength: 6 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ config: { pinMinLength: 6 } });

    // A terminal's welcome carries the site config without the server-side PIN policy.
    const k1 = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, clientTime: server.clock.now() });
    try {
      const welcome = await k1.waitFor((f) => f.type === 'welcome');
      expect(welcome.type === 'welcome' && welcome.config).toMatchObject({ defaultTaskLimit: 10 });
      expect(Object.keys(welcome.type === 'welcome' ? welcome.config : {})).not.toContain('pinMinLength');
    } finally {
      k1.ws.close();
    }
  });

  it('SEC-32 the admin API refuses a PIN shorter than the site asks, on create and on change; a long enough one is taken', async () => {
    await call(server, '/api/config', { token: ada, method: 'PATCH', body: { pinMinLength: 6 } });
    const user = { id: 'cy', displayName: 'Cy', roles: ['operator'], departmentIds: ['cut'], badge: 'B-CY' };
    expect(invalid(await call(server, '/api/users', { token: ada, body: { ...user, pin: '1234' } }), 'pin')).toBe("must have at least 6 digits (the site's pinMinLength)");
    expect(await server.store.getUser('cy')).toBeNull();
    expect((await call(server, '/api/users', { token: ada, body: { ...user, pin: '123456' } })).status).toBe(201);
    expect(invalid(await call(server, '/api/users/bob', { token: ada, method: 'PATCH', body: { pin: '12345' } }), 'pin')).toMatch(/at least 6 digits/);
    expect(verifySecret('4321', await storedPinHash('bob'))).toBe(true);
    const longest = '9'.repeat(MAX_PIN_DIGITS);
    expect((await call(server, '/api/users/bob', { token: ada, method: 'PATCH', body: { pin: longest } })).status).toBe(200);
    expect(verifySecret(longest, await storedPinHash('bob'))).toBe(true);
    // Clearing a PIN is not setting one.
    expect((await call(server, '/api/users/bob', { token: ada, method: 'PATCH', body: { pin: null } })).status).toBe(200);
  });

  it('SEC-32 the CLI add-user refuses a PIN shorter than the site asks and hashes a good one with the PIN parameters', async () => {
    const data = tempDir();
    const store = new SqliteServerStore(path.join(data, 'claims.db'));
    await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, Date.now());
    await store.setConfig({ ...(await store.getConfig()), pinMinLength: 8 }, Date.now());
    await store.close();
    const cli = (args: string[], input = '') => {
      const env = { ...process.env };
      delete env.SHOPFLOOR_DATA;
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 30_000, env });
      if (r.error) throw r.error;
      return r;
    };
    const short = cli(['add-user', '--data', data, '--id', 'dee', '--name', 'Dee', '--role', 'operator', '--department', 'cut', '--pin', '123456']);
    expect(short.status, short.stderr).toBe(2);
    expect(short.stderr).toContain("--pin must have at least 8 digits (the site's pinMinLength)");
    const ok = cli(['add-user', '--data', data, '--id', 'dee', '--name', 'Dee', '--role', 'operator', '--department', 'cut', '--pin', '12345678']);
    expect(ok.status, ok.stderr).toBe(0);
    const check = new SqliteServerStore(path.join(data, 'claims.db'));
    try {
      const hash = (await check.getUser('dee'))!.pinHash;
      expect(scryptParamsOf(hash)?.N).toBe(PIN_SCRYPT_PARAMS.N);
      expect(verifySecret('12345678', hash)).toBe(true);
    } finally {
      await check.close();
    }

    // SEC-30: the maintenance secret's hash for a terminal's settings, read from a pipe.
    const hashed = cli(['hash-secret'], 'kiosk-maintenance-2026');
    expect(hashed.status, hashed.stderr).toBe(0);
    expect(verifySecret('kiosk-maintenance-2026', hashed.stdout.trim())).toBe(true);
    expect(hashed.stderr).toContain('maintenanceSecretHash');
    const tooShort = cli(['hash-secret'], 'short');
    expect(tooShort.status).toBe(2);
    expect(tooShort.stderr).toContain('12 to 200 characters');
  });

  it('SEC-32 the demo gives its operators PINs of the site\u2019s length, hashed with the PIN parameters', async () => {
    const data = tempDir();
    const store = new SqliteServerStore(path.join(data, 'claims.db'));
    try {
      await store.setConfig({ ...(await store.getConfig()), pinMinLength: 7 }, Date.now());
      const plant = await seedDemo(store, { now: Date.now(), sizes: { operators: 12, workOrders: 2 } });
      const withPin = plant.operators.filter((o) => o.pin);
      expect(withPin.length).toBeGreaterThan(0);
      for (const o of withPin) {
        expect(o.pin).toMatch(/^\d{7}$/);
        const hash = (await store.getUser(o.id))!.pinHash;
        expect(scryptParamsOf(hash)?.N).toBe(PIN_SCRYPT_PARAMS.N);
        expect(verifySecret(o.pin!, hash)).toBe(true);
      }
    } finally {
      await store.close();
    }
  });
});
