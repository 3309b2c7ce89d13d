/**
 * UI-S1..S6, KIO-3, KIO-4, NTF-1: the screen's stores against a test double of the TerminalApi
 * boundary. They keep what the core answers (errors as DomainErrors), ask for a PIN when the core
 * does, coalesce refreshes, load the rows the list shows, confirm what an action did, need a second
 * touch to release, act on scans, announce notifications, follow events, and sign out when the idle
 * countdown ends.
 */
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../src-shared/domain/errors.js';
import type { OperationAck } from '../../src-shared/terminal-api.js';
import { conflictView, FakeClient, notificationView, settle, SYNC_ONLINE, taskView } from '../testing/fake-client.js';
import { createAppStores } from './app.js';
import { secondsLeft, warningSeconds } from './idle.js';
import { createI18n } from '../i18n/index.js';
import { notificationText, unreadCount } from './notifications.js';
import { atLimit, CONFIRM_MS, primaryAction, SETTLE_MS, STEP_CHIPS, stepChips, WINDOW_BEFORE, WINDOW_SIZE } from './tasks.js';
import { REFUSAL_SHOWN_MS } from './session.js';
import { screenOf } from './terminal.js';

/** Timers a test runs by hand. */
function manualTimers() {
  const pending: Array<{ at: number; fn: () => void }> = [];
  let now = 0;
  return {
    clock: () => now,
    timers: { setTimeout: (fn: () => void, ms: number) => pending.push({ at: now + ms, fn }) },
    advance(ms: number) {
      now += ms;
      for (const p of pending.splice(0)) {
        if (p.at <= now) p.fn();
        else pending.push(p);
      }
    },
  };
}

async function signedIn(api = new FakeClient(), o: Parameters<typeof createAppStores>[1] = {}) {
  const stores = createAppStores(api, o);
  api.setLink(true);
  await settle();
  await stores.session.getState().signIn('B1', 'badge');
  await settle(20);
  return { api, stores };
}

describe('UI-2 UI-3 session', () => {
  it('signs in with a badge; an unknown badge keeps the refusal as a DomainError', async () => {
    const api = new FakeClient();
    const stores = createAppStores(api);
    await stores.session.getState().signIn('B9', 'badge');
    const e = stores.session.getState().error;
    expect(e).toBeInstanceOf(DomainError);
    expect(e?.code).toBe('sign_in_failed');
    expect(stores.session.getState().pin).toBeNull();
    await stores.session.getState().signIn('B1', 'manual');
    expect(stores.session.getState().session?.displayName).toBe('Ann');
    expect(api.calls.find((c) => c.method === 'signIn' && (c.input as { badge: string }).badge === 'B1')?.input).toEqual({ badge: 'B1', method: 'manual' });
  });

  it('asks for a PIN when the core answers pin_required; a wrong PIN keeps the pad with the error; the right one signs in', async () => {
    const api = new FakeClient();
    const stores = createAppStores(api);
    await stores.session.getState().signIn('B2', 'badge');
    expect(stores.session.getState()).toMatchObject({ pin: { badge: 'B2', method: 'badge', userName: 'Bob' }, error: null, session: null });
    await stores.session.getState().submitPin('0000');
    expect(stores.session.getState().pin).not.toBeNull();
    expect(stores.session.getState().error?.details.reason).toBe('wrong_pin');
    await stores.session.getState().submitPin('1234');
    expect(stores.session.getState()).toMatchObject({ pin: null, error: null, session: { displayName: 'Bob' } });
    expect(api.calls.filter((c) => c.method === 'signIn').at(-1)?.input).toEqual({ badge: 'B2', method: 'badge', pin: '1234' });
  });
});

describe('LIST-2 the filter bar', () => {
  it('LIST-2 the step filtered on always has its chip, when the counts move it out of the top six or no task of it is left', () => {
    const steps = ['cut', 'weld', 'bend', 'drill', 'paint', 'pack', 'inspect', 'ship'].map((step, i) => ({ step, count: 20 - i }));
    expect(stepChips(steps, undefined).map((s) => s.step)).toEqual(['cut', 'weld', 'bend', 'drill', 'paint', 'pack']);
    expect(stepChips(steps, 'weld')).toEqual(steps.slice(0, STEP_CHIPS));
    expect(stepChips(steps, 'ship')).toEqual([...steps.slice(0, STEP_CHIPS - 1), { step: 'ship', count: 13 }]);
    expect(stepChips(steps, 'gone').at(-1)).toEqual({ step: 'gone', count: 0 });
    expect(stepChips(steps, 'gone')).toHaveLength(STEP_CHIPS);
  });
});

describe('UI-3 a refusal is not left for the next person', () => {
  it('UI-3 a sign-in refusal goes after REFUSAL_SHOWN_MS; a newer one keeps its own full time', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    const stores = createAppStores(api, { clock: clock.clock, timers: clock.timers });
    await stores.session.getState().signIn('B9', 'badge');
    expect(stores.session.getState().error?.code).toBe('sign_in_failed');
    clock.advance(REFUSAL_SHOWN_MS - 5000);
    expect(stores.session.getState().error).not.toBeNull();
    // Another unknown badge 5 s before the first would go: the new refusal is shown its full time.
    await stores.session.getState().signIn('B8', 'badge');
    const second = stores.session.getState().error;
    expect(second?.code).toBe('sign_in_failed');
    clock.advance(5000);
    expect(stores.session.getState().error).toBe(second);
    clock.advance(REFUSAL_SHOWN_MS - 5000);
    expect(stores.session.getState().error).toBeNull();
    // A wrong PIN on the pad goes the same way; the pad stays for its badge.
    await stores.session.getState().signIn('B2', 'badge');
    await stores.session.getState().submitPin('0000');
    expect(stores.session.getState().error?.details.reason).toBe('wrong_pin');
    clock.advance(REFUSAL_SHOWN_MS);
    expect(stores.session.getState()).toMatchObject({ error: null, pin: { badge: 'B2' } });
  });

  it('UI-3 a sign-in begun (a key in the badge field, a PIN pad opened for another badge) clears the last refusal at once', async () => {
    const api = new FakeClient();
    const stores = createAppStores(api);
    await stores.session.getState().signIn('B9', 'badge');
    expect(stores.session.getState().error).not.toBeNull();
    stores.session.getState().entryStarted();
    expect(stores.session.getState().error).toBeNull();
    await stores.session.getState().signIn('B9', 'badge');
    expect(stores.session.getState().error).not.toBeNull();
    await stores.session.getState().signIn('B2', 'badge');
    expect(stores.session.getState()).toMatchObject({ error: null, pin: { badge: 'B2' } });
  });
});

describe('UI-4 KIO-4 tasks', () => {
  it('UI-4 loads the rows around what the list shows, and my tasks with the workload, on sign-in; a claim moves the task, says so and highlights it', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1'), taskView('t2'), taskView('t3')];
    const { stores } = await signedIn(api);
    expect(stores.tasks.getState()).toMatchObject({ total: 3, window: { offset: 0, items: [{ id: 't1' }, { id: 't2' }, { id: 't3' }] }, workload: { active: 0, limit: 10 } });
    expect(api.calls.find((c) => c.method === 'listClaimable')?.input).toEqual({ offset: 0, limit: WINDOW_SIZE });
    expect(await stores.tasks.getState().run('claim', 't1')).toBe(true);
    expect(stores.tasks.getState().mine).toMatchObject([{ id: 't1', pending: true }]);
    expect(stores.tasks.getState().window.items.map((t) => t.id)).toEqual(['t2', 't3']);
    expect(stores.tasks.getState()).toMatchObject({ busy: {}, highlight: 't1' });
    expect(stores.toasts.getState().items).toMatchObject([{ tone: 'success', key: 'done.claim', params: { task: 'WO-1 · cut' } }]);
  });

  it('LIST-2 the list scrolls through a window: rows outside it are fetched around the visible range; filters start again at the top', async () => {
    const api = new FakeClient();
    api.free = Array.from({ length: 1000 }, (_, i) => taskView(`t${i}`, { step: i % 2 ? 'cut' : 'weld' }));
    const { stores } = await signedIn(api);
    const loads = api.count('listClaimable');
    stores.tasks.getState().setRange(10, 20);
    await settle(20);
    expect(api.count('listClaimable')).toBe(loads);
    stores.tasks.getState().setRange(500, 510);
    await settle(20);
    expect(api.calls.filter((c) => c.method === 'listClaimable').at(-1)?.input).toEqual({ offset: 500 - WINDOW_BEFORE, limit: WINDOW_SIZE });
    expect(stores.tasks.getState().window.items[WINDOW_BEFORE]?.id).toBe('t500');
    stores.tasks.getState().setFilters({ step: 'weld', search: '' });
    await settle(20);
    expect(api.calls.filter((c) => c.method === 'listClaimable').at(-1)?.input).toEqual({ step: 'weld', offset: 0, limit: WINDOW_SIZE });
    expect(stores.tasks.getState()).toMatchObject({ filters: { step: 'weld' }, total: 500, window: { offset: 0 } });
    stores.tasks.getState().clearFilters();
    await settle(20);
    expect(stores.tasks.getState()).toMatchObject({ filters: {}, total: 1000 });
  });

  it('a refused operation keeps the core\'s error; a missing reason for reject is the core\'s reason_required', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1')];
    const { stores } = await signedIn(api);
    api.failNext.set('claim', new DomainError('task_conflict', { taskId: 't1', currentOwner: { id: 'bob', name: 'Bob' } }));
    expect(await stores.tasks.getState().run('claim', 't1')).toBe(false);
    expect(stores.tasks.getState().error).toMatchObject({ code: 'task_conflict', details: { currentOwner: { name: 'Bob' } } });
    expect(stores.toasts.getState().items).toEqual([]);
    expect(await stores.tasks.getState().reject('t1', '  ')).toBe(false);
    expect(stores.tasks.getState().error?.code).toBe('reason_required');
  });

  it('many "tasks" events at once cause at most one extra load (coalesced)', async () => {
    const { api } = await signedIn();
    const before = api.count('listMine');
    for (let i = 0; i < 20; i++) api.emit({ type: 'tasks' });
    await settle(50);
    expect(api.count('listMine') - before).toBeLessThanOrEqual(2);
    expect(api.count('listMine') - before).toBeGreaterThanOrEqual(1);
  });

  it('ACC-1 the next step of a held task: accept a supervisor\'s assignment, then start, then complete', () => {
    const assigned = { status: 'assigned' as const, assignedBy: 'sue', assignedByName: 'Sue', at: 0 };
    expect(primaryAction({ status: 'pending', operatorId: 'ann', assignment: assigned })).toBe('accept');
    expect(primaryAction({ status: 'pending', operatorId: 'ann', assignment: { ...assigned, status: 'accepted' } })).toBe('start');
    expect(primaryAction({ status: 'pending', operatorId: 'ann', assignment: { ...assigned, assignedBy: 'ann', status: 'accepted' } })).toBe('start');
    expect(primaryAction({ status: 'in_progress', operatorId: 'ann', assignment: null })).toBe('complete');
    expect(primaryAction({ status: 'completed', operatorId: 'ann', assignment: null })).toBeNull();
  });

  it('CAP-3 KIO-4 at the limit of a department Claim is blocked; below it, or with no workload (look-only), it is not', () => {
    const workload = { active: 3, limits: { cut: 3, qa: 5 }, limit: 3 };
    expect(atLimit(workload, 'cut')).toBe(true);
    expect(atLimit(workload, 'qa')).toBe(false);
    expect(atLimit({ ...workload, active: 2 }, 'cut')).toBe(false);
    expect(atLimit(null, 'cut')).toBe(false);
  });
});

describe('KIO-4 confirmations belong to one operator', () => {
  it('signing out, or another badge taking over, clears the last operator\'s toasts and filters', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1'), taskView('t2')];
    const { stores } = await signedIn(api);
    await stores.tasks.getState().run('claim', 't1');
    stores.tasks.getState().setFilters({ search: 'Cut' });
    expect(stores.toasts.getState().items).toHaveLength(1);
    api.users.B3 = { name: 'Cai' };
    await stores.scan.getState().scan('B3', 'scan');
    await settle(20);
    expect(stores.session.getState().session?.displayName).toBe('Cai');
    expect(stores.toasts.getState().items).toEqual([]);
    expect(stores.tasks.getState().filters).toEqual({});
    await stores.tasks.getState().run('claim', 't2');
    await stores.session.getState().signOut();
    await settle();
    expect(stores.toasts.getState().items).toEqual([]);
  });

  it('a claim answered after its operator signed out changes nothing the next one sees: no task, highlight, toast or disabled buttons', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1')];
    const { stores } = await signedIn(api);
    let answer!: (ack: OperationAck) => void;
    api.claim = () => new Promise<OperationAck>((resolve) => (answer = resolve));
    const claim = stores.tasks.getState().run('claim', 't1');
    await stores.session.getState().signOut();
    await settle();
    answer({ result: 'queued', task: { ...taskView('t1'), operatorId: 'ann', pending: true } });
    expect(await claim).toBe(false);
    expect(stores.tasks.getState()).toMatchObject({ mine: [], highlight: null, settling: false, busy: {} });
    expect(stores.toasts.getState().items).toEqual([]);
  });
});

describe('KIO-4 one tap, one action', () => {
  it('a double tap\u2019s second touch, landing on the next task\u2019s Claim or on the Complete that replaced Start, does nothing', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    api.free = [taskView('t1'), taskView('t2')];
    const { stores } = await signedIn(api, { clock: clock.clock, timers: clock.timers });
    expect(await stores.tasks.getState().run('claim', 't1')).toBe(true);
    // The task buttons are disabled for the moment, then enabled again.
    expect(stores.tasks.getState().settling).toBe(true);
    // 150 ms later the second touch lands where t1's Claim was: t2's now.
    clock.advance(150);
    expect(await stores.tasks.getState().run('claim', 't2')).toBe(false);
    expect(api.count('claim')).toBe(1);
    expect(await stores.tasks.getState().run('start', 't1')).toBe(false);
    // A deliberate tap after the moment passes acts.
    clock.advance(SETTLE_MS);
    expect(stores.tasks.getState().settling).toBe(false);
    expect(await stores.tasks.getState().run('start', 't1')).toBe(true);
    clock.advance(100);
    expect(await stores.tasks.getState().run('complete', 't1')).toBe(false);
    expect(api.count('complete')).toBe(0);
  });
});

describe('KIO-4 UI-7 one tap acknowledges one conflict', () => {
  it('a double tap on a conflict\u2019s button does not acknowledge the next one, which took its place unread; a deliberate tap after the moment does', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    api.conflicts = [conflictView(1, 'ann'), conflictView(2, 'ann', { taskId: 't2', taskLabel: 'WO-1 · cut · Cut t2' })];
    const { stores } = await signedIn(api, { clock: clock.clock, timers: clock.timers });
    expect(stores.conflicts.getState().list.map((c) => c.id)).toEqual([1, 2]);
    await stores.acknowledgeConflict(1);
    expect(stores.conflicts.getState().list.map((c) => c.id)).toEqual([2]);
    // The button is disabled for the moment: the second touch, 150 ms later, lands on conflict 2's.
    expect(stores.conflicts.getState().settling).toBe(true);
    clock.advance(150);
    await stores.acknowledgeConflict(2);
    expect(stores.conflicts.getState().list.map((c) => c.id)).toEqual([2]);
    expect(api.count('acknowledgeConflict')).toBe(1);
    clock.advance(SETTLE_MS);
    expect(stores.conflicts.getState().settling).toBe(false);
    await stores.acknowledgeConflict(2);
    expect(stores.conflicts.getState().list).toEqual([]);
  });
});

describe('KIO-4 a dialog closed by a touch', () => {
  it('the last conflict acknowledged, or the scan panel closed: a double tap\u2019s second touch on the task buttons beneath does nothing', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    api.mine = [taskView('t1', { operatorId: 'ann' })];
    api.conflicts = [conflictView(1, 'ann', { taskId: 't3' })];
    const { stores } = await signedIn(api, { clock: clock.clock, timers: clock.timers });
    await stores.acknowledgeConflict(1);
    expect(stores.conflicts.getState().list).toEqual([]);
    clock.advance(150);
    expect(await stores.tasks.getState().run('start', 't1')).toBe(false);
    expect(api.count('start')).toBe(0);
    clock.advance(SETTLE_MS);
    api.codes.t2 = { kind: 'task', task: taskView('t2'), mine: false, claimable: true, reason: null };
    await stores.scan.getState().scan('t2', 'scan');
    expect(stores.scan.getState().found?.task.id).toBe('t2');
    stores.scan.getState().dismiss();
    expect(stores.scan.getState().found).toBeNull();
    clock.advance(150);
    expect(await stores.tasks.getState().run('start', 't1')).toBe(false);
    clock.advance(SETTLE_MS);
    expect(await stores.tasks.getState().run('start', 't1')).toBe(true);
  });
});

describe('KIO-4 release needs a deliberate second touch', () => {
  it('a double tap on Release only arms it (its buttons wait the settling moment); a deliberate touch after that releases', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    api.mine = [taskView('t1', { operatorId: 'ann' })];
    const { stores } = await signedIn(api, { clock: clock.clock, timers: clock.timers });
    expect(await stores.tasks.getState().release('t1')).toBe(false);
    expect(stores.tasks.getState()).toMatchObject({ armed: { taskId: 't1' }, settling: true });
    // The glove's second touch, 150 ms later.
    clock.advance(150);
    expect(await stores.tasks.getState().release('t1')).toBe(false);
    expect(api.count('release')).toBe(0);
    expect(stores.tasks.getState().armed?.taskId).toBe('t1');
    clock.advance(SETTLE_MS);
    expect(stores.tasks.getState().settling).toBe(false);
    expect(await stores.tasks.getState().release('t1')).toBe(true);
    expect(api.count('release')).toBe(1);
  });
});

describe('KIO-4 release needs a second touch', () => {
  it('the first touch only arms; a second within the window releases and confirms; after the window it arms again', async () => {
    const api = new FakeClient();
    const clock = manualTimers();
    api.mine = [taskView('t1', { operatorId: 'ann' }), taskView('t2', { operatorId: 'ann' })];
    const { stores } = await signedIn(api, { clock: clock.clock, timers: clock.timers });
    expect(await stores.tasks.getState().release('t1')).toBe(false);
    expect(api.count('release')).toBe(0);
    expect(stores.tasks.getState().armed?.taskId).toBe('t1');
    // A touch on another task's Release (after the settling moment) arms that one instead.
    clock.advance(SETTLE_MS);
    expect(await stores.tasks.getState().release('t2')).toBe(false);
    expect(stores.tasks.getState().armed?.taskId).toBe('t2');
    clock.advance(CONFIRM_MS + 1);
    expect(stores.tasks.getState().armed).toBeNull();
    expect(await stores.tasks.getState().release('t2')).toBe(false);
    clock.advance(CONFIRM_MS - 100);
    expect(await stores.tasks.getState().release('t2')).toBe(true);
    expect(api.count('release')).toBe(1);
    expect(stores.tasks.getState().armed).toBeNull();
    expect(stores.toasts.getState().items.at(-1)).toMatchObject({ key: 'done.release' });
  });
});

describe('KIO-3 scans at the work screen', () => {
  it('a task code opens the task; a work order filters the list; an unknown code says so', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1', { workOrderNumber: 'WO-7' }), taskView('t2')];
    api.codes = {
      t1: { kind: 'task', task: api.free[0]!, mine: false, claimable: true, reason: null },
      'WO-7': { kind: 'workOrder', workOrderNumber: 'WO-7', claimable: 1, tasks: 2 },
      'WO-404': { kind: 'unknown', code: 'WO-404' },
    };
    const { stores } = await signedIn(api);
    await stores.scan.getState().scan('t1', 'scan');
    expect(stores.scan.getState().found).toMatchObject({ kind: 'task', task: { id: 't1' }, claimable: true });
    await stores.scan.getState().scan('WO-7', 'scan');
    await settle(20);
    expect(stores.scan.getState().found).toBeNull();
    expect(stores.tasks.getState()).toMatchObject({ filters: { workOrder: 'WO-7' }, total: 1 });
    expect(stores.toasts.getState().items.at(-1)).toMatchObject({ key: 'scan.workOrder', params: { number: 'WO-7', count: 1 } });
    await stores.scan.getState().scan('WO-404', 'scan');
    expect(stores.toasts.getState().items.at(-1)).toMatchObject({ key: 'scan.unknown', params: { code: 'WO-404' } });
  });

  it('a claim from the panel that someone else beat shows the task as it is now and why, in the panel; a claim that works closes it', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1'), taskView('t2')];
    api.codes = { t1: { kind: 'task', task: api.free[0]!, mine: false, claimable: true, reason: null }, t2: { kind: 'task', task: api.free[1]!, mine: false, claimable: true, reason: null } };
    const { stores } = await signedIn(api);
    await stores.scan.getState().scan('t1', 'scan');
    // Bob claimed t1 at another kiosk meanwhile.
    const conflict = new DomainError('task_conflict', { taskId: 't1', currentOwner: { id: 'bob', name: 'Bob' } });
    api.failNext.set('claim', conflict);
    api.codes.t1 = { kind: 'task', task: taskView('t1', { operatorId: 'bob' }), mine: false, claimable: false, reason: conflict.toData('en') };
    expect(await stores.scan.getState().claimFound()).toBe(false);
    expect(stores.scan.getState().found).toMatchObject({ task: { id: 't1', operatorId: 'bob' }, claimable: false, reason: { code: 'task_conflict' } });
    await stores.scan.getState().scan('t2', 'scan');
    await new Promise((r) => setTimeout(r, SETTLE_MS + 50));
    expect(await stores.scan.getState().claimFound()).toBe(true);
    expect(stores.scan.getState().found).toBeNull();
  });

  it('the operator\'s own badge signs out; another badge switches the operator; a typed badge is only a search', async () => {
    const api = new FakeClient();
    const { stores } = await signedIn(api);
    await stores.scan.getState().scan('B9', 'manual');
    expect(api.count('signIn')).toBe(1);
    await stores.scan.getState().scan('B1', 'scan');
    expect(stores.session.getState().session).toBeNull();
    await stores.session.getState().signIn('B1', 'badge');
    api.users.B3 = { name: 'Cai' };
    await stores.scan.getState().scan('B3', 'scan');
    expect(stores.session.getState().session?.displayName).toBe('Cai');
  });

  it('another badge that needs a PIN signs the current operator out and opens the PIN pad for the next', async () => {
    const api = new FakeClient();
    const { stores } = await signedIn(api);
    await stores.scan.getState().scan('B2', 'scan');
    expect(stores.session.getState()).toMatchObject({ session: null, pin: { badge: 'B2', userName: 'Bob' } });
    expect(api.count('signOut')).toBe(1);
    await stores.session.getState().submitPin('1234');
    expect(stores.session.getState().session?.displayName).toBe('Bob');
  });
});

describe('NTF-1 NTF-2 notifications', () => {
  it('a notification arriving for the signed-in operator is announced and listed; marking it read asks the core and shows it read', async () => {
    const api = new FakeClient();
    const { stores } = await signedIn(api);
    const n = notificationView(7, 'ann', { details: { holderName: 'Bob' }, event: 'rejected_task_claimed' });
    api.notifications = [n];
    api.emit({ type: 'notifications', fresh: [n] });
    await settle(20);
    expect(stores.toasts.getState().items.at(-1)).toMatchObject({ tone: 'info', key: 'ntf.rejected_task_claimed', params: { task: 'WO-1 · cut · Cut t1', holder: 'Bob' } });
    expect(unreadCount(stores.notifications.getState())).toBe(1);
    await stores.notifications.getState().markRead([7]);
    expect(api.calls.filter((c) => c.method === 'markNotificationsRead').at(-1)?.input).toEqual({ ids: [7] });
    expect(unreadCount(stores.notifications.getState())).toBe(0);
  });

  it('NTF-1 a notification with no one to name (a system event) reads without a name in its toast and in the list, in English and Chinese', async () => {
    const api = new FakeClient();
    const { stores } = await signedIn(api);
    const n = notificationView(8, 'ann', { byUserId: null, byName: null, taskLabel: 'WO-1 · cut' });
    api.notifications = [n];
    api.emit({ type: 'notifications', fresh: [n] });
    await settle(20);
    const toast = stores.toasts.getState().items.at(-1)!;
    const en = createI18n('en');
    const zh = createI18n('zh');
    expect(en.t(toast.key!, toast.params)).toBe('WO-1 · cut was assigned to you.');
    expect(zh.t(toast.key!, toast.params)).toBe('WO-1 · cut 已分派给您。');
    // The list says it the same way; a notification that names someone still names them.
    const listed = notificationText(stores.notifications.getState().list[0]!);
    expect(en.t(listed.key, listed.params)).toBe('WO-1 · cut was assigned to you.');
    const named = notificationText(notificationView(9, 'ann', { taskLabel: 'WO-1 · cut' }));
    expect(en.t(named.key, named.params)).toBe('Sue assigned WO-1 · cut to you.');
    const cancelled = notificationText(notificationView(10, 'ann', { event: 'task_cancelled', byUserId: null, byName: null, taskLabel: 'WO-1 · cut' }));
    expect(en.t(cancelled.key, cancelled.params)).toBe('WO-1 · cut was cancelled.');
  });

  it('signing out clears the list; signing in loads the operator\'s own', async () => {
    const api = new FakeClient();
    api.notifications = [notificationView(1, 'ann'), notificationView(2, 'ann', { read: true, readAt: 5 })];
    const { stores } = await signedIn(api);
    expect(stores.notifications.getState().list.map((n) => n.id)).toEqual([1, 2]);
    await stores.session.getState().signOut();
    await settle();
    expect(stores.notifications.getState().list).toEqual([]);
  });
});

describe('UI-5 UI-13 events', () => {
  it('sync and identity events update the terminal store; a session event to null clears the lists', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1')];
    const { stores } = await signedIn(api);
    api.emit({ type: 'sync', sync: { ...SYNC_ONLINE, status: 'offline', pending: 3 } });
    expect(stores.terminal.getState().sync).toMatchObject({ status: 'offline', pending: 3 });
    api.emit({ type: 'identity', identity: { terminalId: 'k1', name: 'Renamed', serverUrl: 'http://s', departments: [] } });
    expect(stores.terminal.getState().identity?.name).toBe('Renamed');
    api.emit({ type: 'session', session: null });
    await settle();
    expect(stores.tasks.getState()).toMatchObject({ total: null, mine: [], window: { items: [] } });
  });

  it('KIO-5 UI-8 a session the server ended says why on the badge screen', async () => {
    const { api, stores } = await signedIn();
    api.emit({ type: 'session', session: null, ended: new DomainError('user_inactive', { userId: 'ann' }).toData('en') });
    await settle();
    expect(stores.session.getState()).toMatchObject({ session: null, error: { code: 'user_inactive' } });
  });

  it('UI-7 a conflict event for the signed-in operator opens it; another operator\'s is ignored; acknowledging removes it and refreshes', async () => {
    const { api, stores } = await signedIn();
    api.emit({ type: 'conflict', conflict: conflictView(1, 'someone-else') });
    expect(stores.conflicts.getState().list).toEqual([]);
    api.conflicts = [conflictView(2, 'ann')];
    api.emit({ type: 'conflict', conflict: api.conflicts[0]! });
    api.emit({ type: 'conflict', conflict: api.conflicts[0]! });
    expect(stores.conflicts.getState().list.map((c) => c.id)).toEqual([2]);
    const loads = api.count('listClaimable');
    await stores.acknowledgeConflict(2);
    expect(stores.conflicts.getState().list).toEqual([]);
    expect(api.count('acknowledgeConflict')).toBe(1);
    expect(api.count('listClaimable')).toBeGreaterThan(loads);
  });

  it('a reopened link reloads the snapshot, the session and its conflicts', async () => {
    const api = new FakeClient();
    const stores = createAppStores(api);
    api.session = { userId: 'ann', displayName: 'Ann', roles: ['operator'], departmentIds: ['cut'], signedInAt: 0, lookOnly: false };
    api.conflicts = [conflictView(5, 'ann')];
    api.setLink(true);
    await settle(30);
    expect(stores.terminal.getState()).toMatchObject({ loaded: true, linkUp: true, idleTimeoutSeconds: 60 });
    expect(stores.session.getState().session?.userId).toBe('ann');
    expect(stores.conflicts.getState().list.map((c) => c.id)).toEqual([5]);
    api.setLink(false);
    expect(stores.terminal.getState().linkUp).toBe(false);
  });
});

describe('UI-1 screens', () => {
  it('enrollment until the terminal has met its server; then badge or work', () => {
    const identity = (terminalId: string | null, name: string | null) => ({ loaded: true, identity: { terminalId, name, serverUrl: null, departments: [] } });
    expect(screenOf({ loaded: false, identity: null }, false)).toBe('loading');
    expect(screenOf(identity(null, null), false)).toBe('enroll');
    expect(screenOf(identity('k1', null), false)).toBe('enroll');
    expect(screenOf(identity('k1', 'Kiosk'), false)).toBe('badge');
    expect(screenOf(identity('k1', 'Kiosk'), true)).toBe('work');
  });

  it('enroll keeps the core\'s refusal', async () => {
    const api = new FakeClient();
    const stores = createAppStores(api);
    api.failNext.set('enroll', new DomainError('invalid_input', { field: 'input.serverUrl', problem: 'must be a URL' }));
    expect(await stores.terminal.getState().enroll({ serverUrl: 'x', terminalId: 'k1', token: 'tok' })).toBe(false);
    expect(stores.terminal.getState().enrollError?.details.field).toBe('input.serverUrl');
    expect(await stores.terminal.getState().enroll({ serverUrl: 'http://s', terminalId: 'k1', token: 'token-123456' })).toBe(true);
    expect(stores.terminal.getState().identity?.terminalId).toBe('k1');
  });
});

describe('KIO-8 LIST-1 LIST-2 the lists follow the clock', () => {
  it('while someone is signed in the lists are read again every minute, with no event (a task falls due, a cooldown ends, offline too); not after sign-out; not activity', async () => {
    vi.useFakeTimers();
    try {
      const api = new FakeClient();
      const { stores } = await signedIn(api, { clock: () => 0, tickMs: 1000 });
      const loads = api.count('listClaimable');
      const touches = api.count('touch');
      await vi.advanceTimersByTimeAsync(61_000);
      expect(api.count('listClaimable')).toBe(loads + 1);
      expect(api.count('touch')).toBe(touches);
      await stores.session.getState().signOut();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(api.count('listClaimable')).toBe(loads + 1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('UI-9 OFF-7 the core hears of the last touch', () => {
  it('a touch within the throttle of the last one still reaches the core, a little later, so its idle timer ends with the countdown and not seconds before it', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const api = new FakeClient();
      const { stores } = await signedIn(api, { clock: () => now, tickMs: 100_000 });
      now = 10_000;
      stores.idle.getState().activity();
      const touches = api.count('touch');
      now = 14_000;
      stores.idle.getState().activity();
      expect(api.count('touch')).toBe(touches);
      now = 15_000;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(api.count('touch')).toBe(touches + 1);
      // Nothing more without more activity.
      await vi.advanceTimersByTimeAsync(20_000);
      expect(api.count('touch')).toBe(touches + 1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('UI-9 OFF-7 idle countdown', () => {
  it('counts down from the last activity; warns in the last 30 s (or half of a shorter timeout)', () => {
    expect(secondsLeft({ lastActivity: 0, now: 0 }, 0)).toBeNull();
    expect(secondsLeft({ lastActivity: 0, now: 12_500 }, 60)).toBe(48);
    expect(secondsLeft({ lastActivity: 0, now: 99_000 }, 60)).toBe(0);
    expect(warningSeconds(120)).toBe(30);
    expect(warningSeconds(10)).toBe(5);
  });

  it('signs out when the countdown ends; activity restarts it and touches the core (throttled)', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const api = new FakeClient();
      const { stores } = await signedIn(api, { clock: () => now, tickMs: 100 });
      const touches = api.count('touch');
      now = 30_000;
      stores.idle.getState().activity();
      stores.idle.getState().activity();
      expect(api.count('touch')).toBe(touches + 1);
      now = 30_000 + 59_000;
      await vi.advanceTimersByTimeAsync(200);
      expect(stores.session.getState().session).not.toBeNull();
      now = 30_000 + 60_500;
      await vi.advanceTimersByTimeAsync(200);
      await settle();
      expect(api.count('signOut')).toBe(1);
      expect(stores.session.getState().session).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
