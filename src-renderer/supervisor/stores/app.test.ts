/**
 * ASG-6 ASG-7 SUP-6 on the page: a supervisor's actions while their requests are on their way. A
 * double click on "release to pool" sends one request; an assign dialog closed before its answer
 * came neither closes the dialog opened since nor loses a refusal; an audit search answered after
 * its supervisor signed out is not shown to the next one. A fake fetch whose answers the test
 * releases stands in for the server; the feed's link never opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errorText } from '../../i18n/index.js';
import { createSupervisorI18n } from '../i18n.js';
import { testSupervisorApp } from '../../testing/supervisor-app.js';
import type { SupervisorApp } from './app.js';

interface Pending {
  url: string;
  method: string;
  answer(status: number, body: unknown): void;
}

let app: SupervisorApp | null = null;
afterEach(() => {
  app?.dispose();
  app = null;
});

function start(): { app: SupervisorApp; requests: Pending[] } {
  const requests: Pending[] = [];
  const fake = ((url: string, init?: RequestInit) =>
    new Promise<Response>((resolve) =>
      requests.push({ url, method: init?.method ?? 'GET', answer: (status, body) => resolve(new Response(JSON.stringify(body), { status })) }),
    )) as typeof fetch;
  app = testSupervisorApp({
    fetch: fake,
  });
  return { app, requests };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const refusal = { code: 'task_not_claimed', message: 'Nobody holds this task.', details: { taskId: 't1' }, retry: { canRetry: false, suggestion: '', actionText: '' } };

describe('ASG-6 ASG-7 actions while their requests are on their way', () => {
  it('a double click on release to pool sends one request', async () => {
    const { app, requests } = start();
    const first = app.actions.unassign('t1');
    const second = app.actions.unassign('t1');
    expect(await second).toBe(false);
    expect(requests.filter((r) => r.url.endsWith('/api/tasks/t1/unassign'))).toHaveLength(1);
    requests[0]!.answer(200, { ok: true });
    expect(await first).toBe(true);
    expect(app.toasts.getState().items.map((t) => t.tone)).toEqual(['success']);
  });

  it('an assign dialog closed before its answer leaves the dialog opened since, and its refusal is a toast', async () => {
    const { app, requests } = start();
    app.actions.openAssign('t1', 'assign');
    requests[0]!.answer(200, { items: [{ userId: 'ann', displayName: 'Ann' }] });
    await settle();
    const assigned = app.actions.assignTo('ann');
    // Esc, then the supervisor opens the cancel dialog of another task.
    app.ui.getState().close();
    app.assign.getState().reset();
    app.ui.getState().open({ kind: 'cancel', taskId: 't2' });
    requests[1]!.answer(409, refusal);
    expect(await assigned).toBe(false);
    expect(app.ui.getState().dialog).toEqual({ kind: 'cancel', taskId: 't2' });
    expect(app.toasts.getState().items).toMatchObject([{ tone: 'error', error: { code: 'task_not_claimed' } }]);
    expect(app.assign.getState().error).toBeNull();
  });

  it('SUP-1 a supervisor\u2019s toasts are gone at sign-out, and an action answered after it toasts nothing to the next supervisor', async () => {
    const { app, requests } = start();
    app.session.setState({ status: 'signedIn' });
    app.toasts.getState().show({ tone: 'alert', key: 'notification.rejected', params: { reason: 'Blade worn' } }, 10_000);
    const release = app.actions.unassign('t1');
    const cancel = app.actions.cancel('t2', 'ordered twice');
    app.session.setState({ status: 'signedOut' });
    expect(app.toasts.getState().items).toEqual([]);
    app.session.setState({ status: 'signedIn' });
    requests.find((r) => r.url.endsWith('/api/tasks/t1/unassign'))!.answer(409, refusal);
    requests.find((r) => r.url.endsWith('/api/tasks/t2/cancel'))!.answer(200, { ok: true });
    expect(await release).toBe(false);
    expect(await cancel).toBeNull();
    expect(app.toasts.getState().items).toEqual([]);
  });

  it('CNL-1 a cancel refused after its dialog was closed is a toast, not lost; refused with the dialog open, the dialog says it', async () => {
    const { app, requests } = start();
    app.ui.getState().open({ kind: 'cancel', taskId: 't1' });
    const open = app.actions.cancel('t1', 'ordered twice');
    requests[0]!.answer(409, refusal);
    expect(await open).toMatchObject({ code: 'task_not_claimed' });
    expect(app.toasts.getState().items).toEqual([]);
    const closed = app.actions.cancel('t1', 'ordered twice');
    app.ui.getState().close();
    requests[1]!.answer(409, refusal);
    expect(await closed).toMatchObject({ code: 'task_not_claimed' });
    expect(app.toasts.getState().items).toMatchObject([{ tone: 'error', error: { code: 'task_not_claimed' } }]);
  });

  it('SUP-6 an audit period that ends before it starts is refused on the page, in its language, without asking the server', async () => {
    const { app, requests } = start();
    app.session.setState({ status: 'signedIn' });
    app.audit.getState().setFilter({ from: '2026-11-27T10:00', to: '2026-11-27T09:00' });
    await app.audit.getState().search();
    expect(requests.filter((r) => r.url.includes('/api/audit'))).toEqual([]);
    expect(app.audit.getState().error).toMatchObject({ code: 'invalid_input', details: { field: 'query.to', reason: 'to_before_from' } });
    app.audit.getState().setFilter({ to: '2026-11-27T11:00' });
    const search = app.audit.getState().search();
    requests.find((r) => r.url.includes('/api/audit'))!.answer(200, { items: [], total: 0 });
    await search;
    expect(app.audit.getState()).toMatchObject({ error: null, total: 0 });
  });

  it('SUP-6 an audit search answered after its supervisor signed out is not shown to the next one', async () => {
    const { app, requests } = start();
    app.session.setState({ status: 'signedIn' });
    const search = app.audit.getState().search();
    app.session.setState({ status: 'signedOut' });
    requests.find((r) => r.url.includes('/api/audit'))!.answer(200, { items: [{ id: 1, action: 'claim' }], total: 1 });
    await search;
    expect(app.audit.getState()).toMatchObject({ items: [], total: null, loading: false });
  });
});

describe('ERR-1 actions the server never answered', () => {
  it('ERR-1 a release or cancel sent while the server cannot be reached says nothing is known to be done, not that it was saved to be sent later (the overview queues nothing)', async () => {
    app = testSupervisorApp({
      // The plant network is down: the browser's fetch fails.
      fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch,
    });
    app.session.setState({ status: 'signedIn' });
    expect(await app.actions.unassign('t1')).toBe(false);
    const toast = app.toasts.getState().items[0]!;
    expect(toast).toMatchObject({ tone: 'error', error: { code: 'unavailable' } });
    const refused = await app.actions.cancel('t2', 'ordered twice');
    expect(refused).toMatchObject({ code: 'unavailable' });
    for (const locale of ['en', 'zh'] as const) {
      const i18n = createSupervisorI18n(locale);
      for (const error of [toast.error!, refused!]) {
        const text = errorText(i18n.t.bind(i18n), error);
        // Not the kiosk's promise: nothing waits in an outbox on the overview.
        expect(text.suggestion).not.toMatch(/terminal|终端|is saved|已保存/);
        expect(text.suggestion).toBe(
          locale === 'en'
            ? 'It may not have been done: this page keeps nothing to send later. When the overview says Live again (top right), check, and do it again if needed.'
            : '操作可能没有完成：本页面不会保存操作稍后再发送。待右上角恢复“实时”后请查看，如有需要请重新操作。',
        );
      }
    }
    // Signing in with no answer says what to do about that.
    app.session.setState({ status: 'signedOut' });
    expect(await app.session.getState().signIn({ method: 'password', userId: 'sue', password: 'x' })).toBe(false);
    const i18n = createSupervisorI18n('en');
    expect(errorText(i18n.t.bind(i18n), app.session.getState().error!)).toMatchObject({
      message: 'The server is not reachable right now.',
      suggestion: 'Check the network, then sign in again.',
    });
  });

  it('ERR-1 AUTH-8 a sign-in the server answers unavailable (its database is out of reach) keeps the server\u2019s reason, not "check the network"', async () => {
    const { app, requests } = start();
    app.session.setState({ status: 'signedOut' });
    const signingIn = app.session.getState().signIn({ method: 'password', userId: 'sue', password: 'x' });
    await settle();
    const unreachable = { code: 'unavailable', message: 'The database cannot be reached.', details: { reason: 'database_unreachable' }, retry: { canRetry: true, suggestion: '', actionText: '' } };
    requests.find((r) => r.url.endsWith('/api/auth/sign-in'))!.answer(503, unreachable);
    expect(await signingIn).toBe(false);
    expect(app.session.getState().error).toMatchObject({ code: 'unavailable', details: { reason: 'database_unreachable' } });
  });

  it('CNL-1 a cancel sent without a reason says to type one in the dialog, not the kiosk\u2019s "tap one of the reasons"', async () => {
    const { app, requests } = start();
    app.ui.getState().open({ kind: 'cancel', taskId: 't1' });
    const cancel = app.actions.cancel('t1', '   ');
    requests[0]!.answer(400, {
      code: 'reason_required',
      message: 'Please give a reason for cancelling this task.',
      details: { field: 'reason', problem: 'is empty', reason: 'cancel' },
      retry: { canRetry: true, suggestion: '', actionText: '' },
    });
    const refused = await cancel;
    for (const [locale, suggestion] of [
      ['en', 'Type why the task is cancelled (it is kept in the audit trail), then cancel it again.'],
      ['zh', '请输入取消该任务的原因（会记入审计记录），然后再次取消。'],
    ] as const) {
      const i18n = createSupervisorI18n(locale);
      expect(errorText(i18n.t.bind(i18n), refused!).suggestion).toBe(suggestion);
    }
  });
});
