/**
 * SEC-30: re-enrolling a terminal its server has accepted needs an administrator's user id and
 * password, checked by that server (a real server process here), or the terminal's maintenance
 * secret when the server is gone; every attempt is audited on the terminal, and the server's
 * audit names the administrator. First enrollment needs neither.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../src-shared/crypto/hash.js';
import { DomainError } from '../src-shared/domain/errors.js';
import { PLANT, seedPlant } from '../e2e/support/plant.js';
import { startServer, type RunningProcess } from '../e2e/support/processes.js';
import { openTerminal, waitOnline, type TestTerminal } from './support/terminal.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(): Promise<{ srv: RunningProcess; dataDir: string }> {
  const dataDir = tmp('srv');
  await seedPlant(dataDir);
  const srv = await startServer(dataDir);
  cleanups.push(() => srv.stop());
  return { srv, dataDir };
}

async function terminal(serverUrl: string, over: { maintenanceSecretHash?: string } = {}): Promise<TestTerminal> {
  const k1 = PLANT.terminals.k1;
  const t = await openTerminal({ serverUrl, terminalId: k1.id, token: k1.token, dataDir: tmp('term'), ...over });
  cleanups.push(() => t.close());
  await waitOnline(t);
  return t;
}

/** The server's audit rows of one action (read-only, beside the running server). */
function serverAudit(dataDir: string, action: string): Array<{ outcome: string; actor: string | null; terminal: string | null; details: Record<string, unknown> }> {
  const db = new Database(path.join(dataDir, 'claims.db'), { readonly: true });
  try {
    return (db.prepare('SELECT outcome, actor_id AS actor, terminal_id AS terminal, details FROM audit_events WHERE action = ? ORDER BY id').all(action) as Array<{ outcome: string; actor: string | null; terminal: string | null; details: string }>).map(
      (r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }),
    );
  } finally {
    db.close();
  }
}

/** Sessions the server issued to `userId` that are still live (not revoked). */
function liveSessions(dataDir: string, userId: string): number {
  const db = new Database(path.join(dataDir, 'claims.db'), { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM api_tokens WHERE user_id = ? AND kind = 'session' AND revoked_at IS NULL`).pluck().get(userId) as number;
  } finally {
    db.close();
  }
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('SEC-30 re-enrolling an enrolled terminal', () => {
  it('SEC-30 is refused without a credential, with a supervisor\u2019s or a wrong password; an administrator checked by the enrolled server re-enrolls it, audited on both sides', async () => {
    const a = await server();
    const b = await server();
    const t = await terminal(a.srv.url);
    const k2 = PLANT.terminals.k2;
    const elsewhere = { serverUrl: b.srv.url, terminalId: k2.id, token: k2.token };

    // No credential: refused, named, and nothing changes.
    const bare = await refusal(t.core.enroll(elsewhere));
    expect(bare.code).toBe('permission_denied');
    expect(bare.details).toMatchObject({ reason: 'reenroll_needs_admin', serverUrl: a.srv.url });
    expect(bare.message).toBe(
      `This terminal is already enrolled with ${a.srv.url}; re-enrolling needs an administrator's user id and password (or the maintenance secret).`,
    );
    expect((await t.core.getSnapshot()).identity).toMatchObject({ terminalId: 'k1', serverUrl: a.srv.url });
    expect(t.core.syncStatus().status).toBe('online');

    // A supervisor is not an administrator: the server checks the password, the role does not pass.
    const sue = PLANT.supervisors.sue;
    const notAdmin = await refusal(t.core.enroll({ ...elsewhere, adminUserId: sue.id, adminPassword: sue.password }));
    expect(notAdmin.code).toBe('permission_denied');
    expect(notAdmin.details).toMatchObject({ reason: 'reenroll_not_admin', userId: 'sue' });
    expect(liveSessions(a.dataDir, 'sue')).toBe(0);

    // A wrong password: the server's own refusal (and its failure count).
    const wrong = await refusal(t.core.enroll({ ...elsewhere, adminUserId: PLANT.admin.id, adminPassword: 'not-the-password' }));
    expect(wrong.code).toBe('sign_in_failed');
    expect(wrong.details.attemptsLeft).toBe(4);
    expect((await t.core.getSnapshot()).identity).toMatchObject({ terminalId: 'k1', serverUrl: a.srv.url });

    // The administrator: re-enrolled, and the terminal goes to the other server as k2.
    const identity = await t.core.enroll({ ...elsewhere, adminUserId: PLANT.admin.id, adminPassword: PLANT.admin.password });
    expect(identity).toMatchObject({ terminalId: 'k2', serverUrl: b.srv.url });
    await waitOnline(t);
    await t.waitFor(async () => (await t.core.getSnapshot()).identity.name === k2.name, 'the other server to welcome k2');

    // The enrolled server's audit: the admin's sign-in and the re-enrollment; the check session is revoked.
    const signIns = serverAudit(a.dataDir, 'sign_in');
    expect(signIns.filter((r) => r.outcome === 'applied').map((r) => r.actor)).toEqual(['sue', 'ada']);
    expect(signIns.filter((r) => r.outcome === 'sign_in_failed').map((r) => r.actor)).toEqual(['ada']);
    expect(serverAudit(a.dataDir, 'terminal_reenroll')).toEqual([
      expect.objectContaining({ outcome: 'applied', actor: 'ada', terminal: 'k1', details: expect.objectContaining({ toServerUrl: b.srv.url, toTerminalId: 'k2' }) }),
    ]);
    expect(liveSessions(a.dataDir, 'ada')).toBe(0);

    // The terminal's own record, newest first; never a password.
    const audit = t.core.enrollmentAudit();
    expect(audit.map((r) => [r.outcome, r.method, r.adminUserId, r.problem])).toEqual([
      ['applied', 'admin', 'ada', null],
      ['refused', 'admin', 'ada', 'sign_in_failed'],
      ['refused', 'admin', 'sue', 'permission_denied'],
      ['refused', 'none', null, 'permission_denied'],
    ]);
    expect(audit[0]).toMatchObject({ fromServerUrl: a.srv.url, fromTerminalId: 'k1', toServerUrl: b.srv.url, toTerminalId: 'k2' });
    const stored = ['terminal.db', 'terminal.db-wal']
      .map((f) => path.join(t.dataDir, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f).toString('latin1'))
      .join('');
    expect(stored).not.toContain(PLANT.admin.password);

    // Now enrolled with the other server: re-enrolling again needs authority there.
    const again = await refusal(t.core.enroll({ serverUrl: a.srv.url, terminalId: 'k1', token: PLANT.terminals.k1.token }));
    expect(again.details).toMatchObject({ reason: 'reenroll_needs_admin', serverUrl: b.srv.url });
  });

  it('SEC-30 when the enrolled server is gone, the administrator cannot be checked; the maintenance secret (wrong ones counted) re-enrolls it', async () => {
    const a = await server();
    const b = await server();
    const secret = 'kiosk-maintenance-2026';
    const t = await terminal(a.srv.url, { maintenanceSecretHash: hashSecret(secret) });
    await a.srv.stop();
    await t.waitFor(() => t.core.syncStatus().status !== 'online', 'the terminal to notice its server is gone');
    const k2 = PLANT.terminals.k2;
    const elsewhere = { serverUrl: b.srv.url, terminalId: k2.id, token: k2.token };

    const unreachable = await refusal(t.core.enroll({ ...elsewhere, adminUserId: PLANT.admin.id, adminPassword: PLANT.admin.password }));
    expect(unreachable.code).toBe('unavailable');
    expect(unreachable.details).toMatchObject({ reason: 'reenroll_server_unreachable', serverUrl: a.srv.url });

    const wrong = await refusal(t.core.enroll({ ...elsewhere, maintenanceSecret: 'not-the-secret' }));
    expect(wrong.code).toBe('permission_denied');
    expect(wrong.details).toMatchObject({ reason: 'reenroll_wrong_maintenance_secret', attemptsLeft: 4 });
    expect((await t.core.getSnapshot()).identity).toMatchObject({ terminalId: 'k1', serverUrl: a.srv.url });

    expect(await t.core.enroll({ ...elsewhere, maintenanceSecret: secret })).toMatchObject({ terminalId: 'k2', serverUrl: b.srv.url });
    await waitOnline(t);
    expect(t.core.enrollmentAudit().map((r) => [r.outcome, r.method, r.problem])).toEqual([
      ['applied', 'maintenance_secret', null],
      ['refused', 'maintenance_secret', 'permission_denied'],
      ['refused', 'admin', 'unavailable'],
    ]);
  });

  it('SEC-30 five wrong maintenance secrets lock re-enrollment, also for the right one; a terminal without a secret set says so', async () => {
    const a = await server();
    const withSecret = await terminal(a.srv.url, { maintenanceSecretHash: hashSecret('the-right-secret-1') });
    const target = { serverUrl: 'http://127.0.0.1:9', terminalId: 'k9', token: 'some-long-token' };
    for (let i = 0; i < 4; i++) expect((await refusal(withSecret.core.enroll({ ...target, maintenanceSecret: `wrong-${i}` }))).code).toBe('permission_denied');
    expect((await refusal(withSecret.core.enroll({ ...target, maintenanceSecret: 'wrong-5' }))).code).toBe('sign_in_locked');
    const locked = await refusal(withSecret.core.enroll({ ...target, maintenanceSecret: 'the-right-secret-1' }));
    expect(locked.code).toBe('sign_in_locked');
    expect(locked.details.retryAfterSeconds).toBeGreaterThan(0);
    expect((await withSecret.core.getSnapshot()).identity).toMatchObject({ terminalId: 'k1', serverUrl: a.srv.url });

    const without = await terminal(a.srv.url);
    const none = await refusal(without.core.enroll({ ...target, maintenanceSecret: 'anything-at-all' }));
    expect(none.details).toMatchObject({ reason: 'reenroll_no_maintenance_secret' });
  });

  it('SEC-30 first enrollment of a terminal no server has accepted needs no credential, as before', async () => {
    const a = await server();
    const k1 = PLANT.terminals.k1;
    // Enrolled with a wrong token first: never accepted, so correcting it needs nothing either.
    const t = await openTerminal({ serverUrl: a.srv.url, terminalId: k1.id, token: 'a-wrong-token-123', dataDir: tmp('term') });
    cleanups.push(() => t.close());
    await t.waitFor(() => t.core.syncStatus().lastError !== null, 'the server to refuse the wrong token');
    expect(await t.core.enroll({ serverUrl: a.srv.url, terminalId: k1.id, token: k1.token })).toMatchObject({ terminalId: 'k1' });
    await waitOnline(t);
    expect(t.core.enrollmentAudit()[0]).toMatchObject({ outcome: 'applied', method: 'first', adminUserId: null });
  });
});
