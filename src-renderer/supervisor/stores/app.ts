/**
 * Every store of the overview, created around one HTTP client and one subscription, and the
 * wiring between them: signing in starts the live feed and signing out stops it; each page of the
 * feed updates the board, the task table and the open task; new notifications become toasts; the
 * view's filters rebuild the table. The actions a supervisor takes are here too (stores act,
 * components render).
 */
import type { StoreApi } from 'zustand/vanilla';
import type { Locale } from '../../../src-shared/domain/i18n.js';
import { fromErrorData, type DomainError } from '../../../src-shared/domain/errors.js';
import { shiftBounds } from '../../../src-shared/domain/supervision.js';
import { toDomainError } from '../../api/errors.js';
import { FeedClient, type FeedSocket } from '../api/feed.js';
import { Http } from '../api/http.js';
import { localInputToInstant } from '../format.js';
import { createAssignStore } from './assign.js';
import { createAuditStore } from './audit.js';
import { createAutoAssignStore } from './autoassign.js';
import { createBoardStore } from './board.js';
import { createDetailStore } from './detail.js';
import { createImportStore } from './importer.js';
import { createSessionStore, endReasonOf } from './session.js';
import { createTableStore, TableModel } from './table.js';
import { createToastsStore } from '../../stores/toasts.js';
import { createUiStore } from './ui.js';
import { createViewStore } from './view.js';

export interface SupervisorAppOptions {
  feedUrl: string;
  openSocket(url: string): FeedSocket;
  /** The URL's query string at start, and how to write it back (history). */
  search: string;
  writeSearch(search: string, push: boolean): void;
  locale: Locale;
  onLocale(locale: Locale): void;
  now?: () => number;
  fetch?: typeof fetch;
  /** How often "now" advances for overdue and shift counts (ms). */
  tickMs?: number;
}

export function createSupervisorApp(o: SupervisorAppOptions) {
  const now = o.now ?? (() => Date.now());
  const ui = createUiStore(o.locale, o.onLocale, now());
  const toasts = createToastsStore();
  const http = new Http({
    locale: () => ui.getState().locale,
    // Called only after a request, by which time the session store exists.
    onUnauthenticated: (e: DomainError) => session.getState().end(endReasonOf(e)),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  const session = createSessionStore(http);
  const board = createBoardStore();
  const view = createViewStore(o.search, o.writeSearch);
  const table = createTableStore();
  // The table judges "overdue" at the page's "now", as the summary whose numbers open it does (SUP-2).
  const model = new TableModel(
    table,
    () => board.getState(),
    () => ui.getState().now,
    () => ui.getState().locale,
  );
  const assign = createAssignStore(http, (taskId) => {
    const task = board.getState().tasks.get(taskId);
    return task ? (task.operatorId ? 'reassign' : 'assign') : null;
  });
  const detail = createDetailStore(http);
  const autoAssign = createAutoAssignStore(http);
  const importer = createImportStore(http);
  const audit = createAuditStore(http, (local) => localInputToInstant(local, board.getState().supervision.timeZone));

  const feed = new FeedClient(
    {
      url: o.feedUrl,
      open: o.openSocket,
      now,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    },
    {
      welcome: (w) => board.getState().setWelcome(w),
      changes: (page) => {
        const effect = board.getState().applyPage(page, now());
        model.pageApplied(effect, page.exceptions.length > 0, page.departments.length > 0);
        for (const n of effect.newNotifications) toasts.getState().show({ tone: 'alert', key: `notification.${n.event}`, params: notificationParams(n) }, 10_000);
        refreshDetail();
      },
      state: (s) => board.getState().setFeed(s),
      ended: (reason, error) => session.getState().end(reason === 'session' ? endReasonOf(error) : reason),
    },
  );

  const notificationParams = (n: { taskId: string | null; byUserId: string | null; details: Record<string, unknown> }) => {
    const b = board.getState();
    const terminalId = typeof n.details.terminalId === 'string' ? n.details.terminalId : null;
    return {
      task: n.taskId ?? '',
      by: n.byUserId ? (b.people.get(n.byUserId)?.displayName ?? n.byUserId) : '',
      reason: typeof n.details.reason === 'string' ? n.details.reason : '',
      terminal: terminalId ? (b.terminals.get(terminalId)?.name ?? terminalId) : '',
      outbox: typeof n.details.outbox === 'number' ? n.details.outbox : 0,
    };
  };

  /** The open task's history follows the task's version on the board. */
  const refreshDetail = () => {
    const taskId = view.getState().taskId;
    const version = taskId ? (board.getState().tasks.get(taskId)?.version ?? null) : null;
    void detail.getState().load(taskId, version);
  };

  // Signing in starts the feed; signing out stops it and forgets the floor, and everything the
  // last supervisor had open (audit results, a task's history, dialogs), which the next one must
  // not see. Those stores ignore answers to what was asked before a reset (assign and detail by
  // task, auto-assign, import and audit by number).
  // Toasts too, and the answers of actions asked for before (`sessionNumber`): a refusal or a
  // notification's reason is the last supervisor's business.
  const forget = <S>(store: StoreApi<S>) => () => store.setState(store.getInitialState(), true);
  const signedOutStates = [
    forget(assign),
    forget(detail),
    () => autoAssign.getState().reset(null),
    () => importer.getState().reset(),
    () => audit.getState().forget(),
    () => toasts.getState().clear(),
  ];
  let sessionNumber = 0;
  session.subscribe((s, prev) => {
    if (s.status === prev.status) return;
    sessionNumber++;
    if (s.status === 'signedIn') feed.start();
    else {
      feed.stop();
      board.getState().clear();
      model.rebuild();
      for (const reset of signedOutStates) reset();
      ui.getState().close();
    }
  });

  view.subscribe((s, prev) => {
    if (s.filter !== prev.filter || s.sort !== prev.sort) model.rebuild(s.filter, s.sort);
    if (s.taskId !== prev.taskId) refreshDetail();
  });
  ui.subscribe((s, prev) => {
    if (s.locale !== prev.locale) model.localeChanged();
  });
  table.subscribe((s, prev) => {
    if (s.frozen !== prev.frozen) model.freezeChanged();
  });
  model.rebuild(view.getState().filter, view.getState().sort);

  // "Now" moves on: overdue tasks and the shift's counts follow.
  const clock = setInterval(() => {
    ui.getState().tick(now());
    model.tick();
  }, o.tickMs ?? 30_000);

  /**
   * Toasts of an action's outcome, shown only to the session that asked for it (`asked`: the
   * session number when the action began); an answer that comes after a sign-out is dropped.
   */
  const toastsOf = (asked: number) => ({
    notify(tone: 'success' | 'error', key: string, params: Record<string, unknown> = {}) {
      if (asked === sessionNumber) toasts.getState().show({ tone, key, params });
    },
    refused(e: unknown) {
      if (asked === sessionNumber) toasts.getState().show({ tone: 'error', error: toDomainError(e) }, 10_000);
    },
  });

  /** Tasks whose release to the pool is on its way. */
  const releasing = new Set<string>();
  const actions = {
    /**
     * ASG-6: back to the pool; from an exception, that exception is handled too. A second click
     * while the first is on its way sends nothing (it would be refused: the task is in the pool).
     */
    async unassign(taskId: string, exceptionId: number | null = null): Promise<boolean> {
      if (releasing.has(taskId)) return false;
      releasing.add(taskId);
      const { notify, refused } = toastsOf(sessionNumber);
      try {
        await http.post(`/api/tasks/${encodeURIComponent(taskId)}/unassign`, {});
        notify('success', 'sv.toast.unassigned', { task: taskId });
        if (exceptionId !== null) await actions.acknowledge(exceptionId);
        return true;
      } catch (e) {
        refused(e);
        return false;
      } finally {
        releasing.delete(taskId);
      }
    },
    /** CNL-1 */
    async cancel(taskId: string, reason: string): Promise<DomainError | null> {
      const { notify, refused } = toastsOf(sessionNumber);
      const dialog = ui.getState().dialog;
      try {
        await http.post(`/api/tasks/${encodeURIComponent(taskId)}/cancel`, { reason });
        notify('success', 'sv.toast.cancelled', { task: taskId });
        // Only the cancel dialog it came from, not one opened since.
        if (ui.getState().dialog === dialog) ui.getState().close();
        return null;
      } catch (e) {
        // The dialog shows a refusal; closed meanwhile, it would be lost: a toast says it then.
        if (ui.getState().dialog !== dialog) refused(e);
        return toDomainError(e);
      }
    },
    /** SUP-4 */
    async acknowledge(exceptionId: number): Promise<void> {
      const { refused } = toastsOf(sessionNumber);
      try {
        await http.post(`/api/exceptions/${exceptionId}/acknowledge`, {});
      } catch (e) {
        refused(e);
      }
    },
    /** ASG-7: open the picker. */
    openAssign(taskId: string, mode: 'assign' | 'reassign', exceptionId: number | null = null): void {
      ui.getState().open({ kind: 'assign', taskId, mode, exceptionId });
      void assign.getState().load(taskId, mode);
    },
    /** Assign to the picked operator; from an exception, that exception is handled too. */
    async assignTo(userId: string): Promise<boolean> {
      const dialog = ui.getState().dialog;
      const { taskId, mode, candidates, submitting } = assign.getState();
      if (!taskId || submitting) return false;
      const { notify, refused } = toastsOf(sessionNumber);
      const name = candidates?.find((c) => c.userId === userId)?.displayName ?? userId;
      const error = await assign.getState().submit(userId);
      // The dialog may have been closed (or another opened) while the request was on its way: what
      // it says then goes to a toast, and only this dialog is closed.
      const stillOpen = ui.getState().dialog === dialog;
      if (error) {
        if (!stillOpen) refused(error);
        return false;
      }
      notify('success', mode === 'reassign' ? 'sv.toast.reassigned' : 'sv.toast.assigned', { task: taskId, name });
      if (dialog?.kind === 'assign' && dialog.exceptionId !== null) await actions.acknowledge(dialog.exceptionId);
      if (stillOpen && ui.getState().dialog === dialog) {
        ui.getState().close();
        assign.getState().reset();
      }
      return true;
    },
    openAutoAssign(departmentId: string | null): void {
      const first = departmentId ?? [...board.getState().departments.keys()][0] ?? null;
      autoAssign.getState().reset(first);
      ui.getState().open({ kind: 'autoAssign', departmentId: first });
    },
    /** SUP-5 */
    async markRead(ids: number[] | null): Promise<void> {
      const { refused } = toastsOf(sessionNumber);
      try {
        await http.post('/api/notifications/read', ids === null ? { all: true } : { ids });
      } catch (e) {
        refused(e);
      }
    },
    /** Start of the current shift (SUP-2). */
    shift() {
      return shiftBounds(ui.getState().now, board.getState().supervision);
    },
  };

  return {
    http,
    session,
    board,
    view,
    table,
    ui,
    toasts,
    assign,
    detail,
    autoAssign,
    importer,
    audit,
    actions,
    feed,
    dispose() {
      clearInterval(clock);
      feed.stop();
    },
  };
}

export type SupervisorApp = ReturnType<typeof createSupervisorApp>;

/** Error data from a notification or an exception's code, as a DomainError to show. */
export function errorOf(code: string | null, details: Record<string, unknown> = {}): DomainError {
  return fromErrorData({ code, details });
}
