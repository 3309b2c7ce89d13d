/**
 * UI-S1..S6: the screen's stores against a test double of the TerminalApi boundary. They keep
 * what the core answers (errors as DomainErrors), ask for a PIN when the core does, coalesce
 * refreshes, follow events, and sign out when the idle countdown ends.
 */
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../src-shared/domain/errors.js';
import { conflictView, FakeClient, settle, SYNC_ONLINE, taskView } from '../testing/fake-client.js';
import { createAppStores } from './app.js';
import { secondsLeft, warningSeconds } from './idle.js';
import { primaryAction } from './tasks.js';
import { screenOf } from './terminal.js';

async function signedIn(api = new FakeClient(), o: Parameters<typeof createAppStores>[1] = {}) {
  const stores = createAppStores(api, { pageSize: 2, ...o });
  api.setLink(true);
  await settle();
  await stores.session.getState().signIn('B1', 'badge');
  await settle(20);
  return { api, stores };
}

describe('UI-S1 session', () => {
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

describe('UI-S2 tasks', () => {
  it('loads the first page and my tasks on sign-in; a claim moves the task and refreshes', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1'), taskView('t2'), taskView('t3')];
    const { stores } = await signedIn(api);
    expect(stores.tasks.getState().claimable).toMatchObject({ total: 3, items: [{ id: 't1' }, { id: 't2' }] });
    expect(await stores.tasks.getState().run('claim', 't1')).toBe(true);
    expect(stores.tasks.getState().mine).toMatchObject([{ id: 't1', pending: true }]);
    expect(stores.tasks.getState().claimable?.items.map((t) => t.id)).toEqual(['t2', 't3']);
    expect(stores.tasks.getState().busy).toEqual({});
  });

  it('a refused operation keeps the core\'s error; a missing reason for reject is the core\'s reason_required', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1')];
    const { stores } = await signedIn(api);
    api.failNext.set('claim', new DomainError('task_conflict', { taskId: 't1', currentOwner: { id: 'bob', name: 'Bob' } }));
    expect(await stores.tasks.getState().run('claim', 't1')).toBe(false);
    expect(stores.tasks.getState().error).toMatchObject({ code: 'task_conflict', details: { currentOwner: { name: 'Bob' } } });
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

  it('a page that emptied under the operator falls back to the last page', async () => {
    const api = new FakeClient();
    api.free = [taskView('t1'), taskView('t2'), taskView('t3')];
    const { stores } = await signedIn(api);
    await stores.tasks.getState().showPage(2);
    expect(stores.tasks.getState().claimable?.items.map((t) => t.id)).toEqual(['t3']);
    api.free = [taskView('t1'), taskView('t2')];
    await stores.tasks.getState().refresh();
    expect(stores.tasks.getState()).toMatchObject({ offset: 0, claimable: { items: [{ id: 't1' }, { id: 't2' }] } });
  });

  it('the next step of a held task follows its status', () => {
    expect(primaryAction({ status: 'pending' })).toBe('start');
    expect(primaryAction({ status: 'in_progress' })).toBe('complete');
    expect(primaryAction({ status: 'completed' })).toBeNull();
  });
});

describe('UI-S3 events', () => {
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
    expect(stores.tasks.getState().claimable).toBeNull();
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
    api.session = { userId: 'ann', displayName: 'Ann', roles: ['operator'], departmentIds: ['cut'], signedInAt: 0 };
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

describe('UI-S4 screens', () => {
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

describe('UI-S5 idle countdown', () => {
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
