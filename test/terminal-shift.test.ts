/**
 * The terminal core through a shift, against a real server on loopback (real SQLite on both
 * sides, real WebSockets), with a TCP proxy that cuts one terminal off or holds back what the
 * server sends it: the count of an operator's tasks across departments (CAP-3), failed PINs that
 * survive a restart (KIO-2), a supervisor at the kiosk (KIO-1), scanned codes (KIO-3), the list's
 * filters (LIST-2), notifications (NTF-1, NTF-2) and truthful refusals (KIO-5).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { badgeHash, hashSecret, verifySecret } from '../src-shared/crypto/hash.js';
import { DEFAULT_SITE_CONFIG } from '../src-shared/domain/config.js';
import { TerminalStore, terminalMigrationsDir } from '../src-main/core/store.js';
import { DomainError } from '../src-shared/domain/errors.js';
import type { NotificationView } from '../src-shared/terminal-api.js';
import type { TaskOperation } from '../src-server/engine/mutations.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN, T0, newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';

let server: TestServer;
let proxy: TcpProxy;
const terminals: TestTerminal[] = [];

async function terminal(id: 'k1' | 'k2', via: 'proxy' | 'direct' = 'proxy', sync?: { pongTimeoutMs: number }) {
  const t = await openTerminal({ serverUrl: via === 'proxy' ? proxy.url : server.url, terminalId: id, token: id === 'k1' ? TERMINAL_TOKEN : TERMINAL2_TOKEN, sync });
  terminals.push(t);
  await waitOnline(t);
  return t;
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected the operation to be refused');
}

/** An operation by someone else, on the server (as over HTTP). */
async function op(op: TaskOperation, actorId: string) {
  return server.ctx.committer.submit({ kind: 'operation', op, actorId, via: 'http' });
}

async function offline(t: TestTerminal): Promise<void> {
  proxy.cut();
  await t.waitFor(() => t.core.syncStatus().status === 'offline', 'the terminal to be offline');
}

beforeEach(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
  const now = server.clock.now();
  const salt = await server.store.siteSalt();
  // mia works in Cutting and Quality, three tasks at most across both (CAP-3).
  await server.store.createUser(newUser('mia', { departmentIds: ['cut', 'qa'], taskLimit: 3, badgeHash: badgeHash(salt, 'B-MIA') }), now);
  await server.store.importTasks(
    [taskRow('q2', { departmentId: 'qa', step: 'inspect', workOrderNumber: 'WO-3' }), taskRow('q3', { departmentId: 'qa', step: 'inspect', workOrderNumber: 'WO-3' })],
    now,
  );
  // KIO-3: this plant's barcodes are work orders and task ids.
  await server.store.setConfig({ ...(await server.store.getConfig()), taskCodePattern: '^(WO-|t[0-9]|make|insp|draft)' }, now);
});
afterEach(async () => {
  for (const t of terminals.splice(0)) {
    t.close();
    fs.rmSync(t.dataDir, { recursive: true, force: true });
  }
  await proxy.close();
  await server.stop();
});

describe('the terminal core through a shift', () => {
  it('CAP-3 OFF-3 the claim pre-check counts the operator’s tasks of other departments: at the limit it refuses with the count and the limit, nothing queued; the workload shows the true count', async () => {
    expect((await op({ name: 'claim', taskId: 'q1' }, 'mia')).ok).toBe(true);
    expect((await op({ name: 'claim', taskId: 'q2' }, 'mia')).ok).toBe(true);
    const a = await terminal('k1');
    await a.waitFor(() => a.core.store.user('mia')?.activeTasks.qa === 2, 'mia’s Quality tasks in the directory');
    await a.core.signIn({ badge: 'B-MIA' });
    expect(await a.core.listMine()).toEqual({ tasks: [], workload: { active: 2, limit: 3, limits: { cut: 3 } } });
    expect((await a.core.claim({ taskId: 't1' })).result).toBe('queued');
    expect((await a.core.listMine()).workload).toEqual({ active: 3, limit: 3, limits: { cut: 3 } });
    await waitDrained(a);

    const e = await refusal(a.core.claim({ taskId: 't2' }));
    expect(e.code).toBe('capacity_reached');
    expect(e.details).toMatchObject({ count: 3, limit: 3 });
    expect(a.core.syncStatus().pending).toBe(0);
    expect(a.core.store.task('t2')!.operatorId).toBeNull();
    // The server agrees.
    const server3 = await op({ name: 'claim', taskId: 't2' }, 'mia');
    expect(server3.ok).toBe(false);
    expect(server3.error!.code).toBe('capacity_reached');

    // A Quality task given back elsewhere frees a place here, as soon as the directory says so.
    expect((await op({ name: 'release', taskId: 'q1' }, 'mia')).ok).toBe(true);
    await a.waitFor(async () => (await a.core.listMine()).workload!.active === 2, 'the lower count');
    expect((await a.core.claim({ taskId: 't2' })).result).toBe('queued');
    await waitDrained(a);
    expect(await a.core.listConflicts()).toEqual([]);
  });

  it('ACC-1 the holder accepts a task a supervisor assigned: shown pending at once, confirmed by the server with the version bumped; accepting again queues nothing', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    expect((await op({ name: 'assign', taskId: 't1', userId: 'ann' }, 'sue')).ok).toBe(true);
    await a.waitFor(() => a.core.store.task('t1')?.operatorId === 'ann', 't1 assigned to ann');
    const [assigned] = (await a.core.listMine()).tasks;
    expect(assigned).toMatchObject({ id: 't1', assignment: { status: 'assigned', assignedBy: 'sue', assignedByName: 'Name sue' }, pending: false });
    await waitDrained(a);
    const ack = await a.core.accept({ taskId: 't1' });
    expect(ack).toMatchObject({ result: 'queued', task: { id: 't1', version: assigned!.version + 1, pending: true, assignment: { status: 'accepted', assignedBy: 'sue' } } });
    await waitDrained(a);
    expect(a.core.store.baseTask('t1')).toMatchObject({ version: assigned!.version + 1, assignment: { status: 'accepted', assignedBy: 'sue' } });
    expect((await server.store.listAssignments('t1')).map((x) => [x.userId, x.status])).toEqual([['ann', 'accepted']]);
    expect(await a.core.accept({ taskId: 't1' })).toMatchObject({ result: 'unchanged', task: { pending: false } });
    expect(a.core.syncStatus().pending).toBe(0);
    // Start works from an assigned task too; someone else's task is refused with the holder's name.
    await op({ name: 'assign', taskId: 't2', userId: 'ann' }, 'sue');
    await a.waitFor(() => a.core.store.task('t2')?.operatorId === 'ann', 't2 assigned to ann');
    expect(await a.core.start({ taskId: 't2' })).toMatchObject({ result: 'queued', task: { status: 'in_progress', assignment: { status: 'in_progress' } } });
    await op({ name: 'claim', taskId: 't3' }, 'bob');
    await a.waitFor(() => a.core.store.task('t3')?.operatorId === 'bob', 't3 held by bob');
    const e = await refusal(a.core.accept({ taskId: 't3' }));
    expect(e.code).toBe('task_conflict');
    expect(e.details).toMatchObject({ currentOwner: { id: 'bob', name: 'Name bob' } });
    await waitDrained(a);
    expect(await a.core.listConflicts()).toEqual([]);
  });

  it('KIO-2 failed PINs are counted in the terminal’s database: each wrong PIN says how many tries are left, a restart does not reset them, the fifth locks the badge', async () => {
    let a = await terminal('k1');
    const wrong = () => refusal(a.core.signIn({ badge: 'B-BOB', pin: '0000' }));
    const left = async () => {
      const e = await wrong();
      expect(e.code).toBe('sign_in_failed');
      expect(e.details).toMatchObject({ reason: 'wrong_pin', userName: 'Name bob' });
      expect(e.toData('en').message).toContain(String(e.details.attemptsLeft));
      return e.details.attemptsLeft;
    };
    expect(await left()).toBe(4);
    expect(await left()).toBe(3);
    a = await a.restart();
    terminals.push(a);
    expect(await left()).toBe(2);
    a = await a.restart();
    terminals.push(a);
    expect(await left()).toBe(1);
    const locked = await wrong();
    expect(locked.code).toBe('sign_in_locked');
    expect(locked.details).toMatchObject({ retryAfterSeconds: 300 });
    a = await a.restart();
    terminals.push(a);
    expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '4321' }))).code).toBe('sign_in_locked');
    // The lock is bob's badge's, on this terminal only.
    expect(await a.core.signIn({ badge: 'B-ANN' })).toMatchObject({ userId: 'ann' });
    const b = await terminal('k2', 'direct');
    expect(await b.core.signIn({ badge: 'B-BOB', pin: '4321' })).toMatchObject({ userId: 'bob' });
  });

  it('KIO-2 PROTO-13 a badge locked before the clock was set back (while the terminal was off) stays locked 5 minutes at most, not the hours the clock went back', async () => {
    let shiftMs = 0;
    const clock = { now: () => Date.now() + shiftMs };
    let a = await openTerminal({ serverUrl: server.url, terminalId: 'k1', token: TERMINAL_TOKEN, clock });
    terminals.push(a);
    await waitOnline(a);
    for (let i = 0; i < 4; i++) expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '0000' }))).code).toBe('sign_in_failed');
    expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '0000' }))).details).toMatchObject({ retryAfterSeconds: 300 });
    // The clock was 10 h fast; it is set right while the terminal is off, so no jump is seen.
    shiftMs = -10 * 3600_000;
    a = await a.restart();
    terminals.push(a);
    const locked = await refusal(a.core.signIn({ badge: 'B-BOB', pin: '4321' }));
    expect(locked.code).toBe('sign_in_locked');
    expect(locked.details.retryAfterSeconds).toBeLessThanOrEqual(300);
    // And it ends when it says: 5 minutes on, the right PIN signs in.
    shiftMs += 5 * 60_000 + 1000;
    expect(await a.core.signIn({ badge: 'B-BOB', pin: '4321' })).toMatchObject({ userId: 'bob' });
  });

  it('KIO-2 AUTH-4 PROTO-8 an operator deactivated while their PIN is being checked is refused, not signed in; a PIN changed meanwhile is checked again', async () => {
    // What happens to the directory while the PIN is checked (as a change page arriving then would).
    let meanwhile: (() => void) | null = null;
    const a = await openTerminal({
      serverUrl: server.url,
      terminalId: 'k1',
      token: TERMINAL_TOKEN,
      verifySecret: async (secret, stored) => {
        const change = meanwhile;
        meanwhile = null;
        change?.();
        return verifySecret(secret, stored);
      },
    });
    terminals.push(a);
    await waitOnline(a);
    const bob = a.core.store.user('bob')!;
    meanwhile = () => a.core.store.upsertUser({ ...bob, pinHash: hashSecret('9999') }, null);
    expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '4321' }))).details).toMatchObject({ reason: 'wrong_pin' });
    expect(await a.core.signIn({ badge: 'B-BOB', pin: '9999' })).toMatchObject({ userId: 'bob' });
    await a.core.signOut();
    await waitDrained(a);
    meanwhile = () => a.core.store.upsertUser({ ...a.core.store.user('bob')!, active: false }, null);
    expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '9999' }))).code).toBe('user_inactive');
    expect((await a.core.getSnapshot()).session).toBeNull();
    expect(a.core.store.outbox()).toEqual([]);
  });

  it('KIO-2 a right PIN clears the count of earlier failures', async () => {
    let a = await terminal('k1');
    for (let i = 0; i < 4; i++) await refusal(a.core.signIn({ badge: 'B-BOB', pin: '0000' }));
    await a.core.signIn({ badge: 'B-BOB', pin: '4321' });
    await a.core.signOut();
    a = await a.restart();
    terminals.push(a);
    expect((await refusal(a.core.signIn({ badge: 'B-BOB', pin: '0000' }))).details).toMatchObject({ attemptsLeft: 4 });
  });

  it('KIO-1 a supervisor without a PIN is refused (an administrator must set one); with one they are asked for it; signed in they only look: every held task of the department, no workload, and their task operations are refused', async () => {
    await op({ name: 'claim', taskId: 't1' }, 'ann');
    await op({ name: 'claim', taskId: 't2' }, 'bob');
    await op({ name: 'claim', taskId: 'q1' }, 'qin');
    const a = await terminal('k1');
    await a.waitFor(() => a.core.store.task('t2')?.operatorId === 'bob', 't2 held by bob');
    const notSet = await refusal(a.core.signIn({ badge: 'B-SUE' }));
    expect(notSet.code).toBe('sign_in_failed');
    expect(notSet.details).toMatchObject({ reason: 'pin_not_set', userName: 'Name sue' });
    expect(notSet.toData('en').message).toMatch(/administrator/i);
    expect(await a.core.getSnapshot()).toMatchObject({ session: null, sync: { pending: 0 } });

    await server.store.updateUser('sue', { pinHash: hashSecret('2468') }, server.clock.now());
    await a.waitFor(() => a.core.store.user('sue')?.pinHash !== null, 'sue’s PIN in the directory');
    expect((await refusal(a.core.signIn({ badge: 'B-SUE' }))).details).toMatchObject({ reason: 'pin_required' });
    expect(await a.core.signIn({ badge: 'B-SUE', pin: '2468' })).toMatchObject({ userId: 'sue', roles: ['supervisor'], lookOnly: true });
    const mine = await a.core.listMine();
    expect(mine.workload).toBeNull();
    expect(mine.tasks.map((t) => [t.id, t.operatorId])).toEqual([
      ['t1', 'ann'],
      ['t2', 'bob'],
    ]);
    expect((await a.core.listClaimable({ offset: 0, limit: 50 })).items.map((t) => t.id)).toEqual(['t3', 'insp1', 'make1']);
    for (const name of ['claim', 'start'] as const) expect((await refusal(a.core[name]({ taskId: name === 'claim' ? 't3' : 't1' }))).code).toBe('permission_denied');
    await waitDrained(a);
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBe('sue');
    expect(a.core.store.outbox()).toEqual([]);

    // A supervisor who is also an operator works as one.
    await server.store.updateUser('sue', { roles: ['supervisor', 'operator'] }, server.clock.now());
    await a.waitFor(async () => (await a.core.getSnapshot()).session?.lookOnly === false, 'sue to work as an operator');
    expect((await a.core.claim({ taskId: 't3' })).result).toBe('queued');
    expect((await a.core.listMine()).tasks.map((t) => t.id)).toEqual(['t3']);
  });

  it('AUTH-3 CLM-10 an operator deactivated while signed in is signed out at the kiosk as soon as its directory says so; a changed record reaches the screen', async () => {
    const a = await terminal('k1');
    const sessions: Array<{ userId: string; displayName: string } | null> = [];
    const ended: Array<string | null> = [];
    a.core.subscribe((e) => {
      if (e.type !== 'session') return;
      sessions.push(e.session && { userId: e.session.userId, displayName: e.session.displayName });
      ended.push(e.ended?.code ?? null);
    });
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    // A new name: the screen's session shows it.
    await server.store.updateUser('ann', { displayName: 'Ann Lee' }, server.clock.now());
    await a.waitFor(() => sessions.some((x) => x?.displayName === 'Ann Lee'), 'the new name in a session event');
    // Deactivated: she can no longer work anywhere, this kiosk included.
    await server.store.updateUser('ann', { active: false }, server.clock.now());
    await a.waitFor(async () => (await a.core.getSnapshot()).session === null, 'ann signed out');
    expect(sessions.at(-1)).toBeNull();
    expect(ended.at(-1)).toBe('user_inactive');
    expect((await refusal(a.core.claim({ taskId: 't1' }))).code).toBe('not_signed_in');
    await waitDrained(a);
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBeNull();
  });

  it('KIO-3 a scanned code of the site’s pattern finds a task (claimable, or why not, or one’s own) or a work order; an unknown one says so; anything else is a badge', async () => {
    await op({ name: 'claim', taskId: 't1' }, 'bob');
    const a = await terminal('k1');
    await a.waitFor(() => a.core.store.task('t1')?.operatorId === 'bob', 't1 held by bob');
    await a.core.signIn({ badge: 'B-ANN' });
    await a.core.claim({ taskId: 't2' });

    expect(await a.core.findByCode({ code: 't3' })).toMatchObject({ kind: 'task', task: { id: 't3', operatorId: null }, mine: false, claimable: true, reason: null });
    const held = await a.core.findByCode({ code: 'T1' });
    expect(held).toMatchObject({
      kind: 'task',
      task: { id: 't1', operatorId: 'bob' },
      mine: false,
      claimable: false,
      reason: { code: 'task_conflict', details: { currentOwner: { id: 'bob', name: 'Name bob' } } },
    });
    expect(held.kind === 'task' && held.reason!.message).toContain('Name bob');
    expect(await a.core.findByCode({ code: 'draft1' })).toMatchObject({ kind: 'task', claimable: false, reason: { code: 'task_draft' } });
    expect(await a.core.findByCode({ code: ' t2 ' })).toMatchObject({ kind: 'task', task: { id: 't2', operatorId: 'ann', pending: true }, mine: true, reason: null });
    expect(await a.core.findByCode({ code: 'WO-2' })).toEqual({ kind: 'workOrder', workOrderNumber: 'WO-2', claimable: 2, tasks: 2 });
    // WO-1 in Cutting: t1 (bob's), t2 (ann's), t3, draft1; only t3 is claimable.
    expect(await a.core.findByCode({ code: 'wo-1' })).toEqual({ kind: 'workOrder', workOrderNumber: 'WO-1', claimable: 1, tasks: 4 });
    expect(await a.core.findByCode({ code: 'WO-404' })).toEqual({ kind: 'unknown', code: 'WO-404' });
    expect(await a.core.findByCode({ code: 't9' })).toEqual({ kind: 'unknown', code: 't9' });
    // Quality's task is not in this terminal's cache.
    expect(await a.core.findByCode({ code: 'q1' })).toEqual({ kind: 'badge', self: false });
    // Another's badge switches the operator; one's own signs out.
    expect(await a.core.findByCode({ code: 'B-BOB' })).toEqual({ kind: 'badge', self: false });
    expect(await a.core.findByCode({ code: 'b-ann' })).toEqual({ kind: 'badge', self: true });
    // The pattern is the site's: a new one applies as soon as it arrives.
    await server.store.setConfig({ ...(await server.store.getConfig()), taskCodePattern: '^B-' }, server.clock.now());
    await a.waitFor(async () => (await a.core.findByCode({ code: 't3' })).kind === 'badge', 'the new pattern');
    expect(await a.core.findByCode({ code: 'B-404' })).toEqual({ kind: 'unknown', code: 'B-404' });
  });

  it('KIO-3 KIO-6 a kiosk upgraded from protocol v2 while the server is unreachable takes the defaults of the settings v2 did not store: a badge scanned at the work screen is a badge', async () => {
    // A terminal database as protocol v2 left it (migration 1 only, its site settings without v3's).
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'term-'));
    const v2Migrations = path.join(dataDir, 'v2-migrations');
    fs.mkdirSync(v2Migrations);
    fs.copyFileSync(path.join(terminalMigrationsDir(), '001_init.sql'), path.join(v2Migrations, '001_init.sql'));
    const old = new TerminalStore(path.join(dataDir, 'terminal.db'), { migrationsDir: v2Migrations });
    const salt = await server.store.siteSalt();
    const { rejectReasons: _reasons, taskCodePattern: _pattern, ...v2Config } = DEFAULT_SITE_CONFIG;
    old.setMeta('siteSalt', salt);
    old.setMeta('config', v2Config);
    old.setMeta('terminal', { id: 'k1', name: 'Kiosk 1', departments: ['cut'] });
    const insert = old.db.prepare(
      `INSERT INTO directory (id, display_name, badge_hash, pin_hash, roles, department_ids, active, task_limit, skills) VALUES (?, ?, ?, NULL, '["operator"]', '["cut"]', 1, NULL, '[]')`,
    );
    insert.run('ann', 'Name ann', badgeHash(salt, 'B-ANN'));
    insert.run('bob', 'Name bob', badgeHash(salt, 'B-BOB'));
    old.close();

    const a = await openTerminal({ serverUrl: 'http://127.0.0.1:9', terminalId: 'k1', token: TERMINAL_TOKEN, dataDir });
    terminals.push(a);
    await a.core.signIn({ badge: 'B-ANN' });
    expect(await a.core.findByCode({ code: 'B-BOB' })).toEqual({ kind: 'badge', self: false });
    expect(await a.core.findByCode({ code: 'WO-1' })).toEqual({ kind: 'unknown', code: 'WO-1' });
    expect((await a.core.getSnapshot()).config).toMatchObject({ ...v2Config, rejectReasons: [], taskCodePattern: '^WO-' });
  });

  it('LIST-2 the claimable list narrows by search words, work order, step, high priority and overdue, with counts over the whole list', async () => {
    await server.store.importTasks(
      [
        taskRow('w1', { workOrderNumber: 'WO-7', step: 'weld', workContent: 'Weld frame corners', dueAt: T0 - 3600_000 }),
        taskRow('w2', { workOrderNumber: 'WO-7', step: 'weld', workContent: 'Weld hinge plates', priority: 2 }),
      ],
      server.clock.now(),
    );
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    const list = (filters: Record<string, unknown>) => a.core.listClaimable({ offset: 0, limit: 50, ...filters });
    const ids = async (filters: Record<string, unknown>) => (await list(filters)).items.map((t) => t.id);

    const all = await list({});
    expect(all.items.map((t) => t.id)).toEqual(['w2', 't1', 'w1', 't3', 'insp1', 'make1', 't2']);
    const facets = { all: 7, overdue: 1, highPriority: 2, steps: [{ step: 'cut', count: 3 }, { step: 'weld', count: 2 }, { step: 'inspect', count: 1 }, { step: 'make', count: 1 }] };
    expect(all).toMatchObject({ total: 7, facets });
    expect(all.items.filter((t) => t.overdue).map((t) => t.id)).toEqual(['w1']);

    expect(await ids({ search: 'weld FRAME' })).toEqual(['w1']);
    expect(await ids({ search: 'wo-7' })).toEqual(['w2', 'w1']);
    expect(await ids({ search: 'hinge wo-7' })).toEqual(['w2']);
    expect(await ids({ search: 'insp1' })).toEqual(['insp1']);
    expect(await ids({ search: 'nothing like this' })).toEqual([]);
    expect(await ids({ workOrder: 'wo-2' })).toEqual(['insp1', 'make1']);
    expect(await ids({ step: 'weld' })).toEqual(['w2', 'w1']);
    expect(await ids({ highPriority: true })).toEqual(['w2', 't1']);
    expect(await ids({ overdue: true })).toEqual(['w1']);
    const narrow = await list({ step: 'weld', overdue: true });
    expect(narrow).toMatchObject({ total: 1, facets });
    const page = await a.core.listClaimable({ offset: 1, limit: 2, step: 'cut' });
    expect(page).toMatchObject({ total: 3, offset: 1, limit: 2, facets });
    expect(page.items.map((t) => t.id)).toEqual(['t3', 't2']);

    // Counts follow the list: a claim elsewhere takes a task out of every count.
    await op({ name: 'claim', taskId: 'w1' }, 'bob');
    await a.waitFor(async () => (await list({})).total === 6, 'w1 to leave the list');
    expect((await list({})).facets).toEqual({ all: 6, overdue: 0, highPriority: 2, steps: [{ step: 'cut', count: 3 }, { step: 'inspect', count: 1 }, { step: 'make', count: 1 }, { step: 'weld', count: 1 }] });
  });

  it('LIST-2 UI-4 the overdue count and the rows\' overdue marks agree at every moment, also within the minute the list is kept for', async () => {
    // serverNow is T0 + 10 s at the first listing: due at T0 + 20 s, w1 falls due 10 s later, in the same minute.
    await server.store.importTasks([taskRow('w1', { step: 'weld', dueAt: T0 + 20_000 })], server.clock.now());
    const clock = { skew: 0, now: () => Date.now() + clock.skew };
    const a = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, clock });
    terminals.push(a);
    await waitOnline(a);
    await a.core.signIn({ badge: 'B-ANN' });
    clock.skew += 10_000;
    const before = await a.core.listClaimable({ offset: 0, limit: 50 });
    expect(before.facets.overdue).toBe(0);
    expect(before.items.filter((t) => t.overdue)).toEqual([]);
    clock.skew += 20_000;
    const after = await a.core.listClaimable({ offset: 0, limit: 50 });
    expect(after.items.filter((t) => t.overdue).map((t) => t.id)).toEqual(['w1']);
    expect(after.facets.overdue).toBe(1);
    expect((await a.core.listClaimable({ offset: 0, limit: 50, overdue: true })).total).toBe(1);
  });

  it('NTF-1 NTF-2 a notification for the signed-in operator arrives as fresh news; marking it read is immediate here, queued once, and reaches the server and the other kiosks', async () => {
    const a = await terminal('k1');
    const b = await terminal('k2', 'direct');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    const fresh: NotificationView[] = [];
    a.core.subscribe((e) => {
      if (e.type === 'notifications') fresh.push(...e.fresh);
    });
    expect((await op({ name: 'assign', taskId: 't1', userId: 'ann' }, 'sue')).ok).toBe(true);
    await a.waitFor(() => fresh.length > 0, 'the fresh notification');
    expect(fresh).toEqual([
      expect.objectContaining({ userId: 'ann', event: 'task_assigned', taskId: 't1', byUserId: 'sue', byName: 'Name sue', readAt: null, read: false }),
    ]);
    const id = fresh[0]!.id;
    // Someone else's news is kept (for when they sign in) but not announced to ann.
    expect((await op({ name: 'assign', taskId: 't2', userId: 'bob' }, 'sue')).ok).toBe(true);
    await a.waitFor(() => a.core.store.notificationsOf('bob', 10).length === 1, 'bob’s notification to be kept');
    expect(fresh.map((n) => n.userId)).toEqual(['ann']);
    expect((await a.core.listNotifications()).map((n) => [n.id, n.read])).toEqual([[id, false]]);

    await offline(a);
    await a.core.markNotificationsRead({});
    expect((await a.core.listNotifications()).map((n) => [n.id, n.read])).toEqual([[id, true]]);
    await a.core.markNotificationsRead({ ids: [id] });
    expect(a.core.store.outbox().filter((e) => e.name === 'readNotifications')).toEqual([
      expect.objectContaining({ name: 'readNotifications', args: { ids: [id] }, operatorId: 'ann', taskId: null, offline: true }),
    ]);
    proxy.restore();
    await waitDrained(a);
    const stored = await server.store.listNotifications('ann', 10);
    expect(stored.find((n) => n.id === id)!.readAt).not.toBeNull();
    expect((await server.store.listNotifications('bob', 10))[0]!.readAt).toBeNull();
    await b.waitFor(() => (b.core.store.notificationsOf('ann', 10).find((n) => n.id === id)?.readAt ?? null) !== null, 'the read mark at k2');
    await a.waitFor(() => a.core.store.notificationsOf('ann', 10)[0]!.readAt !== null, 'the server’s read mark at k1');
    expect((await a.core.listNotifications())[0]!.read).toBe(true);
  });

  it('NTF-1 the list holds the last 30 and every older unread notification: the bell counts all unread, not those among the last 30', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    const now = server.clock.now();
    // 40 notifications: the 3 oldest unread, the 37 newest read.
    for (let i = 1; i <= 40; i++) {
      const id = 900_000 + i;
      a.core.store.upsertNotification(
        { id, userId: 'ann', event: 'task_expired', taskId: 't1', taskLabel: null, byUserId: null, byName: null, details: {}, createdAt: now, readAt: i <= 3 ? null : now },
        null,
      );
    }
    const list = await a.core.listNotifications();
    expect(list.filter((n) => !n.read).map((n) => n.id)).toEqual([900_003, 900_002, 900_001]);
    expect(list.filter((n) => n.read)).toHaveLength(30);
    expect(list).toHaveLength(33);
    expect(list.map((n) => n.id)).toEqual([...list.map((n) => n.id)].sort((x, y) => y - x));
    // Fewer kept than the limit: all of them.
    expect(a.core.store.notificationsOf('ann', 50)).toHaveLength(40);
    // Bounded all the same: an operator who never opens the bell gets the newest ones only.
    expect(a.core.store.notificationsOf('ann', 30, 32).map((n) => n.id)).toEqual(list.slice(0, 32).map((n) => n.id));
  });

  it('NTF-2 a read mark the server refuses (the offline sign-in it depended on was refused) is taken back: the kiosk shows the notification unread, as the server has it', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    expect((await op({ name: 'assign', taskId: 't1', userId: 'ann' }, 'sue')).ok).toBe(true);
    await a.waitFor(() => a.core.store.notificationsOf('ann', 10).length === 1, 'the notification');
    await a.core.signOut();
    await waitDrained(a);
    await offline(a);
    await a.core.signIn({ badge: 'B-ANN' });
    await a.core.markNotificationsRead({});
    expect((await a.core.listNotifications()).map((n) => n.read)).toEqual([true]);
    // Meanwhile ann was deactivated: the server refuses the sign-in, then the read mark (not signed in).
    await server.store.updateUser('ann', { active: false }, server.clock.now());
    proxy.restore();
    await waitDrained(a);
    expect(a.core.store.notificationsOf('ann', 10).map((n) => [n.readAt, n.readLocal])).toEqual([[null, null]]);
    expect((await server.store.listNotifications('ann', 10))[0]!.readAt).toBeNull();
  });

  it('KIO-5 UI-8 an offline sign-in the server refuses (the operator was deactivated meanwhile) ends the session saying why', async () => {
    const a = await terminal('k1');
    const ended: Array<string | null> = [];
    a.core.subscribe((e) => {
      if (e.type === 'session' && e.session === null) ended.push(e.ended?.code ?? null);
    });
    await offline(a);
    await a.core.signIn({ badge: 'B-ANN' });
    expect((await a.core.claim({ taskId: 't1' })).result).toBe('queued');
    await server.store.updateUser('ann', { active: false }, server.clock.now());
    proxy.restore();
    await waitDrained(a);
    await a.waitFor(async () => (await a.core.getSnapshot()).session === null, 'ann signed out');
    // Whichever came first, the refusal of her sign-in or the directory's word: the screen is told why.
    expect(ended).toEqual(['user_inactive']);
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBeNull();
  });

  it('NTF-1 a claim confirmed after it waited offline is news at the kiosk; one confirmed online is not', async () => {
    const a = await terminal('k1');
    await a.core.signIn({ badge: 'B-ANN' });
    const fresh: NotificationView[] = [];
    a.core.subscribe((e) => {
      if (e.type === 'notifications') fresh.push(...e.fresh);
    });
    await a.core.claim({ taskId: 't1' });
    await waitDrained(a);
    await offline(a);
    await a.core.claim({ taskId: 't3' });
    proxy.restore();
    await waitDrained(a);
    await a.waitFor(() => fresh.length > 0, 'the offline claim’s confirmation');
    expect(fresh).toEqual([expect.objectContaining({ event: 'task_claimed', taskId: 't3', read: false, details: { offline: true, waitedMinutes: expect.any(Number) } })]);
    expect((await a.core.listNotifications()).map((n) => n.taskId)).toEqual(['t3']);
  });

  it('KIO-5 a refusal the server gave while the terminal was online is not one "after waiting offline"; one made offline, or answered on a later connection, is', async () => {
    // Holding back the server's frames holds back its pongs too: the link must not be judged dead meanwhile.
    const a = await terminal('k1', 'proxy', { pongTimeoutMs: 8000 });
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    const refused = async (taskId: string) =>
      a.waitFor(async () => (await server.store.listAudit({ taskId, limit: 10 })).some((x) => x.actorId === 'ann' && x.outcome === 'task_conflict'), `the server to refuse ${taskId}`);

    // Online: the server's news of bob's claim is held back, so ann's claim goes out at once and is refused.
    proxy.hold();
    await op({ name: 'claim', taskId: 't1' }, 'bob');
    expect(a.core.syncStatus().status).toBe('online');
    expect((await a.core.claim({ taskId: 't1' })).result).toBe('queued');
    await refused('t1');
    proxy.release();
    await waitDrained(a);
    expect(await a.core.listConflicts()).toEqual([
      expect.objectContaining({ taskId: 't1', offline: false, error: expect.objectContaining({ code: 'task_conflict' }), currentOwner: { id: 'bob', name: 'Name bob' } }),
    ]);

    // Made offline.
    await offline(a);
    await a.core.claim({ taskId: 't2' });
    await op({ name: 'claim', taskId: 't2' }, 'bob');
    proxy.restore();
    await waitDrained(a);

    // Made online, but its answer was lost with the connection: answered on the next one.
    proxy.hold();
    await op({ name: 'claim', taskId: 't3' }, 'bob');
    await a.core.claim({ taskId: 't3' });
    await refused('t3');
    proxy.cut();
    proxy.release();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'the link to drop');
    proxy.restore();
    await waitDrained(a);
    expect((await a.core.listConflicts()).map((c) => [c.taskId, c.offline])).toEqual([
      ['t1', false],
      ['t2', true],
      ['t3', true],
    ]);
  });
});
