/**
 * Tasks on the screen: the claimable list (a window of rows around what the virtualised list
 * shows, with its filters and counts), the operator's own tasks with their workload, and the task
 * operations. Every operation goes to the core, which runs the rules and answers or refuses; the
 * store shows the answer (a short confirmation, a highlight, the error) and refreshes. Refreshes
 * are coalesced: events may ask for many at once.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { ClaimableFilters, OperationAck, TaskPage, TaskView, Workload } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import type { ToastsStore } from './toasts.js';
import type { Timers } from './timers.js';

export type TaskOperation = 'claim' | 'accept' | 'start' | 'complete' | 'release' | 'reject';

/** Rows fetched around the visible range: the list scrolls through a window, not 10,000 rows. */
export const WINDOW_BEFORE = 40;
export const WINDOW_SIZE = 160;
/** How long a second touch confirms a release (KIO-4), and how long a claimed task stays highlighted. */
export const CONFIRM_MS = 4000;
export const HIGHLIGHT_MS = 8000;
/**
 * After an action on a task ends, touches on task buttons are ignored this long. A gloved double
 * tap's second touch comes 100-250 ms after the first, by which time the first is often done: the
 * claimed task has left the list and the next one's Claim sits under the finger, or Complete has
 * taken the place of Start. One tap, one action.
 */
export const SETTLE_MS = 600;

/**
 * KIO-4: a settling moment: `start` sets `settling` for SETTLE_MS from now (a later start extends
 * it: only the last one's timer ends it); `cancel` forgets a moment under way (its timer does
 * nothing).
 */
export function settlingMoment(o: { clock: () => number; timers: Timers; set(settling: boolean): void }) {
  let settledAt = -Infinity;
  return {
    start(): void {
      const until = o.clock() + SETTLE_MS;
      settledAt = until;
      o.set(true);
      o.timers.setTimeout(() => {
        if (settledAt === until) o.set(false);
      }, SETTLE_MS);
    },
    cancel(): void {
      settledAt = -Infinity;
    },
  };
}

export interface TasksState {
  filters: ClaimableFilters;
  /** Claimable tasks matching the filters; null until the first load. */
  total: number | null;
  facets: TaskPage['facets'] | null;
  /** Loaded rows: `items[i]` is row `offset + i` of the filtered list. */
  window: { offset: number; items: TaskView[] };
  /** The rows the list shows now (from the virtualiser). */
  range: { start: number; end: number };
  mine: TaskView[];
  workload: Workload | null;
  /** Operations running, by task id (their buttons are disabled meanwhile). */
  busy: Record<string, TaskOperation>;
  /** SETTLE_MS after an action: task buttons are disabled (a double tap's second touch does nothing). */
  settling: boolean;
  /** KIO-4: a release waiting for its second touch. */
  armed: { taskId: string; until: number } | null;
  /** The task just claimed: shown first among my tasks, highlighted. */
  highlight: string | null;
  error: DomainError | null;
  refresh(): Promise<void>;
  setRange(start: number, end: number): void;
  setFilters(patch: Partial<ClaimableFilters>): void;
  clearFilters(): void;
  run(operation: 'claim' | 'accept' | 'start' | 'complete', taskId: string): Promise<boolean>;
  /** KIO-4: the first touch arms, a second within CONFIRM_MS releases. Returns true once released. */
  release(taskId: string): Promise<boolean>;
  reject(taskId: string, reason: string): Promise<boolean>;
  /** A touch just closed a dialog over the task buttons: they wait SETTLE_MS (KIO-4). */
  settle(): void;
  clear(): void;
  clearError(): void;
  setError(error: DomainError | null): void;
}

/** The main next step for a task the operator holds: accept an assignment, start, complete. */
export function primaryAction(task: Pick<TaskView, 'status' | 'assignment' | 'operatorId'>): 'accept' | 'start' | 'complete' | null {
  if (task.status === 'pending' && task.assignment?.status === 'assigned' && task.assignment.assignedBy !== task.operatorId) return 'accept';
  if (task.status === 'pending') return 'start';
  if (task.status === 'in_progress') return 'complete';
  return null;
}

/** CAP-3, KIO-4: the operator is at their limit for tasks of this department. */
export function atLimit(workload: Workload | null, departmentId: string | null): boolean {
  if (!workload) return false;
  const limit = (departmentId !== null ? workload.limits[departmentId] : undefined) ?? workload.limit;
  return workload.active >= limit;
}

/** "WO-2026-0101 · cut": how a confirmation names a task. */
export function taskName(t: Pick<TaskView, 'workOrderNumber' | 'step'> | null | undefined, fallback: string): string {
  return t ? `${t.workOrderNumber} · ${t.step}` : fallback;
}

const EMPTY_FILTERS: ClaimableFilters = {};

export interface TasksStoreOptions {
  toasts: ToastsStore;
  clock?: () => number;
  timers?: Timers;
  /** Whether the terminal is offline now (a confirmation then says the action waits). */
  offline?: () => boolean;
}

export function createTasksStore(api: TerminalClient, o: TasksStoreOptions) {
  const clock = o.clock ?? (() => Date.now());
  const timers = o.timers ?? globalThis;
  return createStore<TasksState>()((set, get) => {
    let running: Promise<void> | null = null;
    let again = false;
    /** Bumped when filters change: an answer for older filters is dropped. */
    let query = 0;
    /** Bumped at sign-out (`clear`): an action's answer for the last operator is dropped. */
    let cleared = 0;

    const windowStart = (start: number) => Math.max(0, start - WINDOW_BEFORE);

    const load = async () => {
      const q = query;
      const { filters, range } = get();
      const offset = windowStart(range.start);
      const [page, mine] = await Promise.all([api.listClaimable({ ...filters, offset, limit: WINDOW_SIZE }), api.listMine()]);
      if (q !== query) {
        again = true;
        return;
      }
      set({ total: page.total, facets: page.facets, window: { offset, items: page.items }, mine: mine.tasks, workload: mine.workload });
    };

    const refresh = (): Promise<void> => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        try {
          do {
            again = false;
            await load();
          } while (again);
        } catch (e) {
          const err = toDomainError(e);
          // Signed out meanwhile: the session store shows the badge screen; nothing to report.
          if (err.code !== 'not_signed_in') set({ error: err });
        } finally {
          running = null;
        }
      })();
      return running;
    };

    const findTask = (taskId: string): TaskView | undefined =>
      get().mine.find((t) => t.id === taskId) ?? get().window.items.find((t) => t.id === taskId);

    const confirm = (operation: TaskOperation, task: TaskView | undefined, taskId: string) => {
      o.toasts.getState().show({ tone: 'success', key: `done.${operation}`, params: { task: taskName(task, taskId) } }, 3500);
      if (o.offline?.()) o.toasts.getState().show({ tone: 'info', key: 'done.offline' }, 3500);
    };

    /**
     * Show what the core just wrote at once (the ack carries the task as it is now, pending), before
     * the lists are read again: the pending mark appears one round trip after the tap (KIO-4).
     */
    const showAck = (operation: TaskOperation, taskId: string, ack: OperationAck) => {
      const t = ack.task;
      set((s) => {
        const others = s.mine.filter((x) => x.id !== taskId);
        const held = t !== null && (t.status === 'pending' || t.status === 'in_progress') && (operation === 'claim' || s.mine.some((x) => x.id === taskId));
        return {
          mine: held ? [t, ...others] : operation === 'claim' ? s.mine : others,
          window: operation === 'claim' ? { ...s.window, items: s.window.items.filter((x) => x.id !== taskId) } : s.window,
        };
      });
    };

    /** Task buttons are disabled for SETTLE_MS after an action ends (KIO-4). */
    const moment = settlingMoment({ clock, timers, set: (settling) => set({ settling }) });
    const perform = async (operation: TaskOperation, taskId: string, call: () => Promise<OperationAck>): Promise<boolean> => {
      // While `settling`, the task buttons are disabled; a touch is refused by the same flag, so a
      // button that looks enabled always acts. A reject comes from its dialog with a reason typed
      // or picked: never a stray second touch.
      if (get().busy[taskId] || (operation !== 'reject' && get().settling)) return false;
      const task = findTask(taskId);
      const era = cleared;
      set((s) => ({ busy: { ...s.busy, [taskId]: operation }, error: null, armed: null }));
      try {
        const ack = await call();
        // Signed out while it was on its way: the next operator sees none of it (KIO-4).
        if (era !== cleared) return false;
        showAck(operation, taskId, ack);
        if (operation === 'claim') {
          set({ highlight: taskId });
          timers.setTimeout(() => {
            if (get().highlight === taskId) set({ highlight: null });
          }, HIGHLIGHT_MS);
        }
        confirm(operation, task, taskId);
        // The core announces an accepted change with a `tasks` event, which has usually started a
        // refresh already: wait for that one instead of forcing a second.
        await (running ?? refresh());
        return true;
      } catch (e) {
        if (era !== cleared) return false;
        set({ error: toDomainError(e) });
        await refresh();
        return false;
      } finally {
        if (era === cleared) settleAfter(taskId);
      }
    };
    /** The action on `taskId` ended: its buttons are disabled for SETTLE_MS (KIO-4). */
    const settleAfter = (taskId: string) => {
      set((s) => {
        const busy = { ...s.busy };
        delete busy[taskId];
        return { busy };
      });
      moment.start();
    };

    const applyFilters = (filters: ClaimableFilters) => {
      query++;
      set({ filters, range: { start: 0, end: 0 }, window: { offset: 0, items: [] }, total: null });
      void refresh();
    };

    return {
      filters: EMPTY_FILTERS,
      total: null,
      facets: null,
      window: { offset: 0, items: [] },
      range: { start: 0, end: 0 },
      mine: [],
      workload: null,
      busy: {},
      settling: false,
      armed: null,
      highlight: null,
      error: null,
      refresh,
      setRange(start, end) {
        const { window, range, total } = get();
        if (start === range.start && end === range.end) return;
        set({ range: { start, end } });
        const loadedEnd = window.offset + window.items.length;
        const outside = start < window.offset || (end > loadedEnd && loadedEnd < (total ?? 0));
        if (outside) void refresh();
      },
      setFilters(patch) {
        const next: ClaimableFilters = { ...get().filters, ...patch };
        for (const k of Object.keys(next) as Array<keyof ClaimableFilters>) {
          if (next[k] === undefined || next[k] === '' || next[k] === false) delete next[k];
        }
        applyFilters(next);
      },
      clearFilters: () => applyFilters(EMPTY_FILTERS),
      run: (operation, taskId) => perform(operation, taskId, () => api[operation]({ taskId })),
      async release(taskId) {
        if (get().settling) return false;
        const armed = get().armed;
        if (!armed || armed.taskId !== taskId || armed.until < clock()) {
          const until = clock() + CONFIRM_MS;
          set({ armed: { taskId, until } });
          // The second touch must be a deliberate one: a double tap's bounce does not release.
          moment.start();
          timers.setTimeout(() => {
            if (get().armed?.until === until) set({ armed: null });
          }, CONFIRM_MS);
          return false;
        }
        return perform('release', taskId, () => api.release({ taskId }));
      },
      reject: (taskId, reason) => perform('reject', taskId, () => api.reject({ taskId, reason })),
      settle: moment.start,
      clear: () => {
        query++;
        cleared++;
        set({
          filters: EMPTY_FILTERS,
          total: null,
          facets: null,
          window: { offset: 0, items: [] },
          range: { start: 0, end: 0 },
          mine: [],
          workload: null,
          busy: {},
          settling: false,
          armed: null,
          highlight: null,
          error: null,
        });
      },
      clearError: () => set({ error: null }),
      setError: (error) => set({ error }),
    };
  });
}

export type TasksStoreApi = ReturnType<typeof createTasksStore>;

/** How many step filters the filter bar shows: the steps with the most claimable tasks. */
export const STEP_CHIPS = 6;

/**
 * LIST-2: the step filters the filter bar shows: the STEP_CHIPS steps with the most tasks, and
 * always the step filtered on (with its count, 0 when none is left), in the last place when the
 * counts have moved it out of the top: the operator can always see, and clear, the filter they are in.
 */
export function stepChips(steps: ReadonlyArray<{ step: string; count: number }>, active: string | undefined): Array<{ step: string; count: number }> {
  const top = steps.slice(0, STEP_CHIPS);
  if (active === undefined || top.some((s) => s.step === active)) return top;
  return [...top.slice(0, STEP_CHIPS - 1), steps.find((s) => s.step === active) ?? { step: active, count: 0 }];
}

/** The row at `index` of the filtered list, if loaded. */
export function rowAt(s: Pick<TasksState, 'window'>, index: number): TaskView | undefined {
  return s.window.items[index - s.window.offset];
}

/** Where task `id` is in the filtered list, if among the loaded rows; else -1. */
export function rowIndexOf(s: Pick<TasksState, 'window'>, id: string): number {
  const i = s.window.items.findIndex((t) => t.id === id);
  return i < 0 ? -1 : s.window.offset + i;
}
