/**
 * The kiosk through a shift, on the server side: a real server on port 0 (temp SQLite, manual
 * clock), kiosks as raw protocol clients over real WebSockets, supervisors and operators over HTTP.
 * Accepting an assignment (ACC-1), operators' notifications (NTF-1..3), every kiosk counting an
 * operator's tasks of other departments (CAP-3), a supervisor at a kiosk (KIO-1), older terminals
 * (PROTO-1) and the kiosks' settings (PATCH /api/config).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { badgeHash, hashSecret, tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS, siteConfigSchema } from '../src-shared/domain/config.js';
import {
  changesSchema,
  directoryUserSchema,
  errorDataSchema,
  serverFrameSchema,
  syncTaskSchema,
  welcomeSchema,
  type ChangesFrame,
  type ServerFrame,
  type SyncTask,
  type TerminalNotification,
} from '../src-shared/protocol/terminal.js';
import { apiToken, call } from './support/http-client.js';
import { TERMINAL2_TOKEN, TERMINAL_TOKEN, newUser, taskRow } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

const QA_TOKEN = 'term_test_token_qa';

let server: TestServer;
const open: TestClient[] = [];
let tok: Record<'ann' | 'bob' | 'mia' | 'sue' | 'ada', string>;

beforeEach(async () => {
  server = await startTestServer();
  const now = server.clock.now();
  const salt = await server.store.siteSalt();
  // Quality's kiosk, an operator of both departments, an administrator.
  await server.store.createTerminal({ id: 'kq', name: 'Quality kiosk', departments: ['qa'], tokenHash: tokenHash(QA_TOKEN) }, now);
  await server.store.createUser(newUser('mia', { departmentIds: ['cut', 'qa'], badgeHash: badgeHash(salt, 'B-MIA') }), now);
  await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: ['cut'], badgeHash: badgeHash(salt, 'B-ADA'), displayName: 'Ada Admin' }), now);
  await server.store.importTasks([taskRow('q2', { departmentId: 'qa', step: 'inspect', workOrderNumber: 'WO-3' })], now);
  tok = {
    ann: (await apiToken(server, 'ann')).token,
    bob: (await apiToken(server, 'bob')).token,
    mia: (await apiToken(server, 'mia')).token,
    sue: (await apiToken(server, 'sue')).token,
    ada: (await apiToken(server, 'ada')).token,
  };
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await server.stop();
});

const TOKENS: Record<string, string> = { k1: TERMINAL_TOKEN, k2: TERMINAL2_TOKEN, kq: QA_TOKEN };

/** A kiosk (raw protocol client) that has read its snapshot. */
async function kiosk(terminalId: 'k1' | 'k2' | 'kq', protocolVersion?: number): Promise<TestClient> {
  const c = await TestClient.connect(server.wsUrl, { terminalId, token: TOKENS[terminalId]!, clientTime: server.clock.now(), protocolVersion });
  open.push(c);
  await pageWhere(c, (p) => p.cursor !== null && !p.more, 'the snapshot');
  return c;
}

function pagesOf(c: TestClient, from = 0): ChangesFrame[] {
  return c.frames.slice(from).filter((f): f is ChangesFrame => f.type === 'changes');
}

/**
 * Acknowledge change pages as they come (the server sends one at a time) until one received at or
 * after frame `from` satisfies `pred`.
 */
async function pageWhere(c: TestClient, pred: (p: ChangesFrame) => boolean, what: string, from = 0, ms = 5000): Promise<ChangesFrame> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = pagesOf(c, from).find(pred);
    if (found) return found;
    const last = pagesOf(c).at(-1);
    if (last) c.sendRaw({ type: 'ack', cursor: last.cursor ?? 0 });
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; pages: ${JSON.stringify(pagesOf(c, from))}`);
    const n = c.frames.length;
    await c.waitFor((f) => c.frames.indexOf(f) >= n, Math.max(1, deadline - Date.now())).catch(() => undefined);
  }
}

/** Wait for a notification matching `pred` in the kiosk's change pages (after frame `from`). */
async function notificationWhere(c: TestClient, pred: (n: TerminalNotification) => boolean, what: string, from = 0): Promise<TerminalNotification> {
  const page = await pageWhere(c, (p) => p.notifications.some(pred), what, from);
  return page.notifications.find(pred)!;
}

function userIn(page: ChangesFrame, id: string) {
  return page.users.find((u) => u.id === id);
}

describe('accept (ACC-1)', () => {
  it('ACC-1 a supervisor assigns over HTTP; the holder accepts at a kiosk or over HTTP: assigned → accepted, version + 1, and kiosks see the assignment change', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    const assigned = await call(server, '/api/tasks/t1/assign', { token: tok.sue, body: { userId: 'ann' } });
    expect(assigned.status).toBe(200);
    const version = (assigned.body.task as SyncTask).version;
    const seen = await pageWhere(k1, (p) => p.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 't1 assigned to ann', from);
    expect(seen.tasks.find((t) => t.id === 't1')!.assignment).toEqual({ status: 'assigned', assignedBy: 'sue', assignedByName: 'Name sue', at: server.clock.now() });

    const [signIn, accepted] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' },
      { name: 'accept', args: { taskId: 't1' }, operatorId: 'ann' },
    ]);
    expect(signIn!.status).toBe('applied');
    expect(accepted).toMatchObject({
      status: 'applied',
      value: { alreadyAccepted: false },
      task: { id: 't1', operatorId: 'ann', status: 'pending', version: version + 1, assignment: { status: 'accepted', assignedBy: 'sue', assignedByName: 'Name sue' } },
    });
    const page = await pageWhere(k1, (p) => p.tasks.some((t) => t.id === 't1' && t.assignment?.status === 'accepted'), 'the acceptance', from);
    expect(page.tasks.find((t) => t.id === 't1')!.version).toBe(version + 1);

    // Accepting again, now over HTTP, changes nothing.
    const again = await call(server, '/api/tasks/t1/accept', { token: tok.ann, body: {} });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ok: true, alreadyAccepted: true, task: { version: version + 1 } });

    // Over HTTP from the start.
    await call(server, '/api/tasks/t2/assign', { token: tok.sue, body: { userId: 'ann' } });
    const viaHttp = await call(server, '/api/tasks/t2/accept', { token: tok.ann, body: {} });
    expect(viaHttp.body).toMatchObject({ ok: true, alreadyAccepted: false, task: { operatorId: 'ann', assignment: { status: 'accepted', assignedBy: 'sue' } } });
    expect((await server.store.listAssignments('t2')).map((a) => [a.userId, a.status, a.assignedBy])).toEqual([['ann', 'accepted', 'sue']]);
    const notHers = await call(server, '/api/tasks/t2/accept', { token: tok.bob, body: {} });
    expect(notHers.status).toBe(409);
    expect(notHers.body).toMatchObject({ code: 'task_conflict', currentOwner: { id: 'ann' } });

    // A task one claimed is accepted already; a finished one cannot be accepted.
    await call(server, '/api/tasks/t3/claim', { token: tok.ann, body: {} });
    expect((await call(server, '/api/tasks/t3/accept', { token: tok.ann, body: {} })).body).toMatchObject({ ok: true, alreadyAccepted: true, task: { assignment: { status: 'accepted', assignedBy: 'ann' } } });
    await call(server, '/api/tasks/t2/start', { token: tok.ann, body: {} });
    expect((await call(server, '/api/tasks/t2/accept', { token: tok.ann, body: {} })).body).toMatchObject({ ok: true, alreadyAccepted: true });
    await call(server, '/api/tasks/t2/complete', { token: tok.ann, body: {} });
    const done = await call(server, '/api/tasks/t2/accept', { token: tok.ann, body: {} });
    expect(done.status).toBe(422);
    expect(done.body).toMatchObject({ code: 'task_completed' });

    const audit = (await server.store.listAudit({ limit: 100 })).filter((a) => a.action === 'accept').reverse();
    expect(audit.map((a) => [a.taskId, a.via, a.outcome])).toEqual([
      ['t1', 'terminal', 'applied'],
      ['t1', 'http', 'applied'],
      ['t2', 'http', 'applied'],
      ['t2', 'http', 'task_conflict'],
      ['t3', 'http', 'applied'],
      ['t2', 'http', 'applied'],
      ['t2', 'http', 'task_completed'],
    ]);
  });
});

describe('notifications (NTF-1, NTF-2, NTF-3)', () => {
  it('NTF-1 an assignment reaches the kiosks of the operator’s departments as an unread notification naming who assigned it, while they are signed out; other departments’ kiosks do not get it', async () => {
    const k1 = await kiosk('k1');
    const kq = await kiosk('kq');
    const from = k1.frames.length;
    const fromQa = kq.frames.length;
    expect((await call(server, '/api/tasks/t1/assign', { token: tok.sue, body: { userId: 'ann' } })).status).toBe(200);
    const n = await notificationWhere(k1, (x) => x.event === 'task_assigned', 'the assignment notification', from);
    expect(n).toEqual({
      id: expect.any(Number),
      userId: 'ann',
      event: 'task_assigned',
      taskId: 't1',
      taskLabel: 'WO-1 · cut · Cut part t1',
      byUserId: 'sue',
      byName: 'Name sue',
      details: {},
      createdAt: server.clock.now(),
      readAt: null,
    });
    // mia (Cutting and Quality) is assigned: both kiosks hear it.
    await call(server, '/api/tasks/t2/assign', { token: tok.sue, body: { userId: 'mia' } });
    await notificationWhere(kq, (x) => x.userId === 'mia' && x.event === 'task_assigned', 'mia’s notification at Quality', fromQa);
    await notificationWhere(k1, (x) => x.userId === 'mia' && x.event === 'task_assigned', 'mia’s notification at Cutting', from);
    expect(pagesOf(kq, fromQa).flatMap((p) => p.notifications).filter((x) => x.userId === 'ann')).toEqual([]);
    // A kiosk that connects later finds the unread notification in its snapshot.
    const k2 = await kiosk('k2');
    expect(pagesOf(k2).flatMap((p) => p.notifications).filter((x) => x.userId === 'ann')).toEqual([expect.objectContaining({ id: n.id, readAt: null })]);
  });

  it('NTF-1 a claim made online is stored already read and not delivered; one that waited offline arrives unread with how long it waited', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    const now = server.clock.now();
    const [, online] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: now },
      { name: 'claim', args: { taskId: 't1' }, operatorId: 'ann', clientTime: now },
    ]);
    expect(online!.status).toBe('applied');
    expect((await call(server, '/api/tasks/t2/claim', { token: tok.ann, body: {} })).status).toBe(200);
    const stored = await server.store.listNotifications('ann', 10);
    expect(stored.map((x) => [x.event, x.taskId, x.readAt])).toEqual([
      ['task_claimed', 't2', now],
      ['task_claimed', 't1', now],
    ]);

    const [offline] = await k1.mutate([{ name: 'claim', args: { taskId: 't3' }, operatorId: 'ann', clientTime: now - 30 * MINUTE_MS, offline: true }]);
    expect(offline!.status).toBe('applied');
    const news = await notificationWhere(k1, (x) => x.event === 'task_claimed', 'the offline claim’s confirmation', from);
    expect(news).toMatchObject({ userId: 'ann', taskId: 't3', byUserId: 'ann', readAt: null, details: { offline: true, waitedMinutes: 30 } });
    // Also the task pages of the online claims have been delivered by now: none carried their notification.
    await pageWhere(k1, (p) => p.tasks.some((t) => t.id === 't2' && t.operatorId === 'ann'), 't2 claimed', from);
    expect(pagesOf(k1, from).flatMap((p) => p.notifications).map((x) => [x.event, x.taskId])).toEqual([['task_claimed', 't3']]);
  });

  it('NTF-1 a task reassigned away, released or cancelled by a supervisor, or expired: each reaches the holder’s kiosks unread, naming who did it', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    for (const id of ['t1', 't2', 't3', 'make1']) expect((await call(server, `/api/tasks/${id}/claim`, { token: tok.ann, body: {} })).status).toBe(200);
    expect((await call(server, '/api/tasks/t1/reassign', { token: tok.sue, body: { userId: 'bob' } })).status).toBe(200);
    expect((await call(server, '/api/tasks/t2/unassign', { token: tok.sue, body: {} })).status).toBe(200);
    expect((await call(server, '/api/tasks/t3/cancel', { token: tok.sue, body: { reason: 'Order withdrawn' } })).status).toBe(200);
    expect((await call(server, '/api/tasks/t1/start', { token: tok.bob, body: {} })).status).toBe(200);
    server.clock.advance(121 * MINUTE_MS);
    expect(await server.ctx.committer.submit({ kind: 'expire' })).toEqual(['make1']);
    const events = ['task_reassigned_away', 'task_released_by_supervisor', 'task_cancelled', 'task_expired'];
    await pageWhere(k1, () => events.every((e) => pagesOf(k1, from).some((p) => p.notifications.some((n) => n.event === e))), 'the four notifications', from);
    const got = pagesOf(k1, from)
      .flatMap((p) => p.notifications)
      .filter((n) => n.userId === 'ann')
      .map((n) => [n.event, n.taskId, n.byName, n.readAt]);
    expect(got).toEqual([
      ['task_reassigned_away', 't1', 'Name sue', null],
      ['task_released_by_supervisor', 't2', 'Name sue', null],
      ['task_cancelled', 't3', 'Name sue', null],
      ['task_expired', 'make1', null, null],
    ]);
  });

  it('NTF-2 readNotifications at one kiosk marks the operator’s own notifications read, and they arrive read at every kiosk of their departments; others’ ids are ignored', async () => {
    const k1 = await kiosk('k1');
    const k2 = await kiosk('k2');
    const from2 = k2.frames.length;
    await call(server, '/api/tasks/t1/assign', { token: tok.sue, body: { userId: 'ann' } });
    await call(server, '/api/tasks/t2/assign', { token: tok.sue, body: { userId: 'bob' } });
    const annNote = (await server.store.listNotifications('ann', 10))[0]!;
    const bobNote = (await server.store.listNotifications('bob', 10))[0]!;
    await notificationWhere(k2, (x) => x.id === annNote.id && x.readAt === null, 'ann’s unread notification at k2', from2);

    const [signIn, read] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' },
      { name: 'readNotifications', args: { ids: [annNote.id, bobNote.id] }, operatorId: 'ann' },
    ]);
    expect(signIn!.status).toBe('applied');
    expect(read).toEqual({ id: read!.id, status: 'applied', value: { marked: 1 }, task: null });
    const arrived = await notificationWhere(k2, (x) => x.id === annNote.id && x.readAt !== null, 'the read mark at k2', from2);
    expect(arrived).toMatchObject({ userId: 'ann', event: 'task_assigned', readAt: server.clock.now() });
    expect((await server.store.listNotifications('ann', 10))[0]!.readAt).toBe(server.clock.now());
    expect((await server.store.listNotifications('bob', 10))[0]!.readAt).toBeNull();

    // Marking them again changes nothing; someone not signed in here may not mark anything.
    const [twice, forged] = await k1.mutate([
      { name: 'readNotifications', args: { ids: [annNote.id] }, operatorId: 'ann' },
      { name: 'readNotifications', args: { ids: [bobNote.id] }, operatorId: 'bob' },
    ]);
    expect(twice).toMatchObject({ status: 'applied', value: { marked: 0 } });
    expect(forged).toMatchObject({ status: 'rejected', error: { code: 'not_signed_in' } });
    expect((await server.store.listNotifications('bob', 10))[0]!.readAt).toBeNull();
  });

  it('NTF-3 who rejected a task is told when someone claims it, a supervisor assigns it, or cancels it; not when they take it back', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    for (const id of ['t1', 't2', 't3', 'make1']) {
      expect((await call(server, `/api/tasks/${id}/claim`, { token: tok.ann, body: {} })).status).toBe(200);
      expect((await call(server, `/api/tasks/${id}/reject`, { token: tok.ann, body: { reason: 'Blade is dull' } })).status).toBe(200);
    }
    expect((await call(server, '/api/tasks/t1/claim', { token: tok.bob, body: {} })).status).toBe(200);
    expect((await call(server, '/api/tasks/t2/assign', { token: tok.sue, body: { userId: 'bob' } })).status).toBe(200);
    expect((await call(server, '/api/tasks/t3/cancel', { token: tok.sue, body: { reason: 'Order withdrawn' } })).status).toBe(200);
    server.clock.advance(16 * MINUTE_MS);
    expect((await call(server, '/api/tasks/make1/claim', { token: tok.ann, body: {} })).status).toBe(200);

    const fates = await pageWhere(
      k1,
      () => pagesOf(k1, from).flatMap((p) => p.notifications).filter((x) => x.event.startsWith('rejected_task_')).length >= 3,
      'three fates',
      from,
    ).then(() => pagesOf(k1, from).flatMap((p) => p.notifications).filter((x) => x.event.startsWith('rejected_task_')));
    expect(fates.map((x) => [x.userId, x.event, x.taskId, x.byName, x.details, x.readAt])).toEqual([
      ['ann', 'rejected_task_claimed', 't1', 'Name bob', { holderId: 'bob', holderName: 'Name bob' }, null],
      ['ann', 'rejected_task_assigned', 't2', 'Name sue', { holderId: 'bob', holderName: 'Name bob' }, null],
      ['ann', 'rejected_task_cancelled', 't3', 'Name sue', { reason: 'Order withdrawn' }, null],
    ]);
    // Taking make1 back herself told her nothing; bob was told nothing either (he rejected nothing).
    const ann = (await server.store.listNotifications('ann', 50)).filter((x) => x.event.startsWith('rejected_task_'));
    expect(ann.map((x) => x.taskId).sort()).toEqual(['t1', 't2', 't3']);
    expect((await server.store.listNotifications('bob', 50)).filter((x) => x.event.startsWith('rejected_task_'))).toEqual([]);
  });
});

describe('notifications from auto-assignment (NTF-3)', () => {
  it('NTF-3 a rejected task given out by auto-assignment tells who rejected it who got it', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    await call(server, '/api/tasks/t1/claim', { token: tok.ann, body: {} });
    await call(server, '/api/tasks/t1/reject', { token: tok.ann, body: { reason: 'Blade is dull' } });
    const r = await call(server, '/api/departments/cut/auto-assign', { token: tok.sue, body: { strategy: 'least_loaded', limit: 10 } });
    expect(r.status).toBe(200);
    const pick = (r.body.assigned as Array<{ taskId: string; userId: string; userName: string }>).find((a) => a.taskId === 't1')!;
    expect(pick.userId).not.toBe('ann');
    const fate = await notificationWhere(k1, (n) => n.event === 'rejected_task_assigned', 'the fate of t1', from);
    expect(fate).toMatchObject({ userId: 'ann', taskId: 't1', byUserId: 'sue', readAt: null, details: { holderId: pick.userId, holderName: pick.userName } });
  });
});

describe('capacity across departments (CAP-3)', () => {
  it('CAP-3 a change of an operator’s active tasks reaches the kiosks of their other departments in their directory row, by HTTP and by terminal', async () => {
    const kq = await kiosk('kq');
    const k1 = await kiosk('k1');
    expect(userIn(pagesOf(kq).find((p) => userIn(p, 'mia'))!, 'mia')!.activeTasks).toEqual({});
    let fromQa = kq.frames.length;
    expect((await call(server, '/api/tasks/t1/claim', { token: tok.mia, body: {} })).status).toBe(200);
    await pageWhere(kq, (p) => userIn(p, 'mia')?.activeTasks.cut === 1, 'mia’s count at Quality after an HTTP claim', fromQa);

    fromQa = kq.frames.length;
    const [, claimed] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'mia' },
      { name: 'claim', args: { taskId: 't2' }, operatorId: 'mia' },
    ]);
    expect(claimed!.status).toBe('applied');
    const two = await pageWhere(kq, (p) => userIn(p, 'mia')?.activeTasks.cut === 2, 'mia’s count at Quality after a kiosk claim', fromQa);
    expect(userIn(two, 'mia')!.activeTasks).toEqual({ cut: 2 });

    const from1 = k1.frames.length;
    const [, inQa] = await kq.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'mia' },
      { name: 'claim', args: { taskId: 'q1' }, operatorId: 'mia' },
    ]);
    expect(inQa!.status).toBe('applied');
    const atCut = await pageWhere(k1, (p) => userIn(p, 'mia')?.activeTasks.qa === 1, 'mia’s Quality task at Cutting', from1);
    expect(userIn(atCut, 'mia')!.activeTasks).toEqual({ cut: 2, qa: 1 });

    // Giving one back, or finishing one, lowers the count the other department's kiosks see.
    fromQa = kq.frames.length;
    await call(server, '/api/tasks/t1/release', { token: tok.mia, body: {} });
    await pageWhere(kq, (p) => userIn(p, 'mia')?.activeTasks.cut === 1, 'the release at Quality', fromQa);
    fromQa = kq.frames.length;
    await call(server, '/api/tasks/t2/start', { token: tok.mia, body: {} });
    await call(server, '/api/tasks/t2/complete', { token: tok.mia, body: {} });
    const after = await pageWhere(kq, (p) => userIn(p, 'mia') !== undefined && userIn(p, 'mia')!.activeTasks.cut === undefined, 'the completion at Quality', fromQa);
    expect(userIn(after, 'mia')!.activeTasks).toEqual({ qa: 1 });
    // Supervisors' moves count too: assigning a Cutting task to mia.
    fromQa = kq.frames.length;
    await call(server, '/api/tasks/t3/assign', { token: tok.sue, body: { userId: 'mia' } });
    await pageWhere(kq, (p) => userIn(p, 'mia')?.activeTasks.cut === 1, 'the assignment at Quality', fromQa);

    // A kiosk's snapshot carries the counts too.
    const k2 = await kiosk('k2');
    expect(pagesOf(k2).flatMap((p) => p.users).find((u) => u.id === 'mia')!.activeTasks).toEqual({ cut: 1, qa: 1 });
  });
});

describe('a supervisor at a kiosk (KIO-1)', () => {
  it('KIO-1 AUTH-4 the server refuses a supervisor’s or admin’s kiosk sign-in without a PIN; with one they sign in, and their task operations are refused', async () => {
    const k1 = await kiosk('k1');
    const [badgeOnly, adminBadge] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'sue' },
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'ada' },
    ]);
    expect(badgeOnly).toMatchObject({ status: 'rejected', error: { code: 'sign_in_failed', details: { userName: 'Name sue' } } });
    expect(adminBadge).toMatchObject({ status: 'rejected', error: { code: 'sign_in_failed' } });
    // sue has no PIN at all: a sign-in that says it used one cannot be true.
    const [noPin] = await k1.mutate([{ name: 'signIn', args: { method: 'badge_pin' }, operatorId: 'sue' }]);
    expect(noPin).toMatchObject({ status: 'rejected', error: { code: 'sign_in_failed', details: { reason: 'pin_not_set' } } });
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBeNull();

    await server.store.updateUser('sue', { pinHash: hashSecret('2468') }, server.clock.now());
    const [withPin, claim] = await k1.mutate([
      { name: 'signIn', args: { method: 'badge_pin' }, operatorId: 'sue' },
      { name: 'claim', args: { taskId: 't1' }, operatorId: 'sue' },
    ]);
    expect(withPin!.status).toBe('applied');
    expect((await server.store.getTerminal('k1'))!.signedInUserId).toBe('sue');
    expect(claim).toMatchObject({ status: 'rejected', error: { code: 'permission_denied' } });
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBeNull();
    // An operator's badge alone is still enough.
    const [ann] = await k1.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' }]);
    expect(ann!.status).toBe('applied');
  });
});

describe('older terminals (PROTO-1)', () => {
  // What a version 2 terminal knows: v3's frames without the fields and entities v3 added. Strict,
  // as the terminal's own schemas are: an unknown field is refused.
  const v2Task = syncTaskSchema.omit({ assignment: true, lastRejection: true }).strict();
  const v2User = directoryUserSchema.omit({ activeTasks: true }).strict();
  const v2Config = siteConfigSchema.omit({ rejectReasons: true, taskCodePattern: true }).strict();
  const v2Outcome = z.union([
    z.object({ id: z.number(), status: z.literal('applied'), value: z.record(z.string(), z.unknown()), task: v2Task.nullable() }).strict(),
    z.object({ id: z.number(), status: z.literal('rejected'), error: errorDataSchema, task: v2Task.nullable() }).strict(),
    z.object({ id: z.number(), status: z.literal('retry'), error: errorDataSchema, retryAfterMs: z.number() }).strict(),
  ]);
  const v2Frame = z.discriminatedUnion('type', [
    welcomeSchema.extend({ config: v2Config }).strict(),
    changesSchema
      .omit({ notifications: true })
      .extend({ tasks: z.array(v2Task), users: z.array(v2User), config: v2Config.nullable() })
      .strict(),
    z.object({ type: z.literal('results'), outcomes: z.array(v2Outcome) }).strict(),
  ]);

  it('PROTO-1 a version 2 terminal gets welcome, change and result frames without what version 3 added; a version 3 terminal gets it all', async () => {
    // Give the plant everything v3 adds: an assignment, a rejection, notifications, counts, settings.
    await server.store.setConfig({ ...(await server.store.getConfig()), rejectReasons: ['Machine down'] }, server.clock.now());
    await call(server, '/api/tasks/t1/claim', { token: tok.ann, body: {} });
    await call(server, '/api/tasks/t1/reject', { token: tok.ann, body: { reason: 'No drawing' } });
    await call(server, '/api/tasks/t2/assign', { token: tok.sue, body: { userId: 'ann' } });

    const v2 = await kiosk('k1', 2);
    const v3 = await kiosk('k2');
    expect((v2.frames[0] as Extract<ServerFrame, { type: 'welcome' }>).protocolVersion).toBe(2);
    const fromV2 = v2.frames.length;
    const fromV3 = v3.frames.length;
    // Live changes: a rejected task claimed by someone else, an assignment, a count.
    await call(server, '/api/tasks/t1/claim', { token: tok.bob, body: {} });
    await call(server, '/api/tasks/t3/assign', { token: tok.sue, body: { userId: 'mia' } });
    await pageWhere(v2, (p) => p.tasks.some((t) => t.id === 't3' && t.operatorId === 'mia'), 't3 at the v2 terminal', fromV2);
    const [signIn, claim] = await v2.mutate([
      { name: 'signIn', args: { method: 'badge' }, operatorId: 'bob' },
      { name: 'claim', args: { taskId: 'make1' }, operatorId: 'bob' },
    ]);
    expect(claim).toMatchObject({ status: 'applied', task: { id: 'make1', operatorId: 'bob' } });
    expect(signIn!.status).toBe('applied');

    for (const f of v2.frames) {
      const parsed = v2Frame.safeParse(f);
      expect(parsed.success, `${f.type} frame: ${parsed.success ? '' : JSON.stringify(parsed.error.issues[0])}`).toBe(true);
    }
    const v2Pages = pagesOf(v2);
    expect(v2Pages.flatMap((p) => p.tasks).map((t) => t.id)).toEqual(expect.arrayContaining(['t1', 't2', 't3']));
    expect(v2Pages.flatMap((p) => p.users).map((u) => u.id)).toEqual(expect.arrayContaining(['ann', 'mia']));
    expect(v2Pages.every((p) => !('notifications' in p))).toBe(true);

    // The v3 terminal: every frame valid for v3, with what v3 added.
    for (const f of v3.frames) expect(serverFrameSchema.safeParse(f).success).toBe(true);
    const welcome = v3.frames[0] as Extract<ServerFrame, { type: 'welcome' }>;
    expect(welcome.config).toMatchObject({ rejectReasons: ['Machine down'], taskCodePattern: '^WO-' });
    const snapshot = pagesOf(v3).flatMap((p) => p.tasks);
    expect(snapshot.find((t) => t.id === 't2')!.assignment).toMatchObject({ status: 'assigned', assignedBy: 'sue' });
    expect(snapshot.find((t) => t.id === 't1')!.lastRejection).toMatchObject({ userId: 'ann', userName: 'Name ann', reason: 'No drawing' });
    expect(pagesOf(v3).flatMap((p) => p.users).find((u) => u.id === 'ann')!.activeTasks).toEqual({ cut: 1 });
    await notificationWhere(v3, (n) => n.event === 'rejected_task_claimed', 'the fate at the v3 terminal', fromV3);
  });
});

describe('the kiosks’ settings (PATCH /api/config)', () => {
  it('KIO-6 API-8 an admin changes some settings and keeps the rest; an invalid setting is refused naming it, and nothing changes; others may not', async () => {
    const k1 = await kiosk('k1');
    const from = k1.frames.length;
    const before = await server.store.getConfig();
    const r = await call(server, '/api/config', { token: tok.ada, method: 'PATCH', body: { rejectReasons: ['Material missing', ' Machine down '] } });
    expect(r.status).toBe(200);
    expect(r.body.config).toEqual({ ...before, rejectReasons: ['Material missing', 'Machine down'] });
    expect(await server.store.getConfig()).toEqual({ ...before, rejectReasons: ['Material missing', 'Machine down'] });
    const page = await pageWhere(k1, (p) => p.config !== null, 'the new settings at the kiosk', from);
    expect(page.config!.rejectReasons).toEqual(['Material missing', 'Machine down']);

    const now = await server.store.getConfig();
    const bad = await call(server, '/api/config', { token: tok.ada, method: 'PATCH', body: { taskCodePattern: '(' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_input', details: { field: 'taskCodePattern' } });
    const mixed = await call(server, '/api/config', { token: tok.ada, method: 'PATCH', body: { cooldownMinutes: 5, rejectReasons: [''] } });
    expect(mixed.status).toBe(400);
    expect(mixed.body).toMatchObject({ code: 'invalid_input', details: { field: expect.stringMatching(/^rejectReasons/) } });
    const unknown = await call(server, '/api/config', { token: tok.ada, method: 'PATCH', body: { colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(await server.store.getConfig()).toEqual(now);

    for (const token of [tok.sue, tok.ann]) {
      const denied = await call(server, '/api/config', { token, method: 'PATCH', body: { rejectReasons: [] } });
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ code: 'permission_denied' });
    }
    const ok = await call(server, '/api/config', { token: tok.ada, method: 'PATCH', body: { taskCodePattern: '^(WO-|T-)' } });
    expect(ok.body.config).toEqual({ ...now, taskCodePattern: '^(WO-|T-)' });
    expect((await server.store.listAudit({ limit: 20 })).filter((a) => a.action === 'config_update')).toHaveLength(2);
  });
});
