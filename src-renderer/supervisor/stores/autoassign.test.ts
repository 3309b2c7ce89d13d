/**
 * AUTO-6 on the page: what is applied is what was previewed. While a preview or an apply is under
 * way, what to ask cannot change; an answer that comes after the dialog was opened anew is not
 * shown in it. A fake HTTP client whose answers the test releases stands in for the server.
 */
import { describe, expect, it } from 'vitest';
import type { Http } from '../api/http.js';
import { createAutoAssignStore, differences, type AutoResult } from './autoassign.js';

function fakeHttp() {
  const calls: Array<{ path: string; body: Record<string, unknown>; answer(r: AutoResult): void }> = [];
  const http = {
    post: (path: string, body: Record<string, unknown>) => new Promise<AutoResult>((resolve) => calls.push({ path, body, answer: resolve })),
  } as unknown as Http;
  return { http, calls };
}

const result = (taskId: string, userName: string): AutoResult => ({
  assigned: [{ taskId, userId: userName.toLowerCase(), userName, activeCount: 1, limit: 10, performance: 0.5, eligible: 2 }],
  unassigned: [],
});

const settle = () => new Promise((r) => setTimeout(r, 0));

/** A dialog for Cutting whose preview (Ann takes t1) came back, and whose apply is on its way. */
async function applying() {
  const { http, calls } = fakeHttp();
  const store = createAutoAssignStore(http);
  store.getState().reset('cut');
  void store.getState().runPreview();
  calls[0]!.answer(result('t1', 'Ann'));
  await settle();
  void store.getState().apply();
  return { store, calls };
}

describe('AUTO-6 the auto-assign dialog', () => {
  it('keeps what was asked while a preview runs, and applies to the department previewed', async () => {
    const { http, calls } = fakeHttp();
    const store = createAutoAssignStore(http);
    store.getState().reset('cut');
    void store.getState().runPreview();
    // The supervisor picks another department while Cutting's preview is on its way: refused.
    store.getState().configure({ departmentId: 'weld' });
    expect(store.getState().departmentId).toBe('cut');
    calls[0]!.answer(result('t1', 'Ann'));
    await settle();
    expect(store.getState().preview).toEqual(result('t1', 'Ann'));
    void store.getState().apply();
    expect(calls[1]!.path).toBe('/api/departments/cut/auto-assign');
    expect(calls[1]!.body).toMatchObject({ dryRun: false });
  });

  it('does not show an earlier dialog\u2019s late answer in a dialog opened anew', async () => {
    const { store, calls } = await applying();
    // Closed with Esc and opened again for Welding while Cutting's apply is still on its way.
    store.getState().reset('weld');
    calls[1]!.answer(result('t1', 'Ann'));
    await settle();
    expect(store.getState()).toMatchObject({ departmentId: 'weld', preview: null, applied: null, busy: null, diff: [] });
  });

  it('an apply that stopped part way shows what it assigned and why the rest was not', async () => {
    const { store, calls } = await applying();
    calls[1]!.answer({ ...result('t1', 'Ann'), complete: false, stoppedBy: { code: 'unavailable', message: 'x', details: {}, retry: { canRetry: true, suggestion: '', actionText: '' } } });
    await settle();
    expect(store.getState().applied?.assigned).toHaveLength(1);
    expect(store.getState().error?.code).toBe('unavailable');
  });

  it('AUTO-6 a task applied to another operator of the same name as the previewed one is listed as a difference, each named with their id', () => {
    // Two operators called 张伟 (a common name in a large plant): the preview picked one, the apply the other.
    const pick = (userId: string) => ({ taskId: 't1', userId, userName: '张伟', activeCount: 1, limit: 10, performance: 0.5, eligible: 2 });
    const preview: AutoResult = { assigned: [pick('zhangwei1')], unassigned: [] };
    const applied: AutoResult = { assigned: [pick('zhangwei2')], unassigned: [] };
    expect(differences(preview, applied)).toEqual([{ taskId: 't1', previewed: '张伟 (zhangwei1)', applied: '张伟 (zhangwei2)' }]);
    // The same person: no difference, named as usual.
    expect(differences(preview, { assigned: [pick('zhangwei1')], unassigned: [] })).toEqual([]);
    expect(differences(preview, { assigned: [], unassigned: [] })).toEqual([{ taskId: 't1', previewed: '张伟', applied: null }]);
  });
});
