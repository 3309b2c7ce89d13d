/**
 * Tasks on the screen: the operator's claimable list (paged) and their own tasks, and the task
 * operations. Every operation goes to the core, which runs the rules and answers or refuses; the
 * store shows the answer and refreshes. Refreshes are coalesced: events may ask for many at once.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { TaskPage, TaskView } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';

export type TaskOperation = 'claim' | 'start' | 'complete' | 'release' | 'reject';

export interface TasksState {
  claimable: TaskPage | null;
  mine: TaskView[];
  offset: number;
  pageSize: number;
  /** Operations running, by task id (their buttons are disabled meanwhile). */
  busy: Record<string, TaskOperation>;
  error: DomainError | null;
  refresh(): Promise<void>;
  showPage(offset: number): Promise<void>;
  run(operation: Exclude<TaskOperation, 'reject'>, taskId: string): Promise<boolean>;
  reject(taskId: string, reason: string): Promise<boolean>;
  clear(): void;
  clearError(): void;
  setError(error: DomainError | null): void;
}

/** The main next step for a task the operator holds, by its status. */
export function primaryAction(task: Pick<TaskView, 'status'>): 'start' | 'complete' | null {
  if (task.status === 'pending') return 'start';
  if (task.status === 'in_progress') return 'complete';
  return null;
}

export function createTasksStore(api: TerminalClient, pageSize = 5) {
  return createStore<TasksState>()((set, get) => {
    let running: Promise<void> | null = null;
    let again = false;

    const load = async () => {
      const { offset } = get();
      const [page, mine] = await Promise.all([api.listClaimable({ offset, limit: pageSize }), api.listMine()]);
      // The list shrank under us (someone claimed the last tasks of a page): show the last page.
      if (page.items.length === 0 && page.total > 0 && offset > 0) {
        const last = Math.max(0, Math.floor((page.total - 1) / pageSize) * pageSize);
        set({ offset: last, claimable: await api.listClaimable({ offset: last, limit: pageSize }), mine });
      } else {
        set({ claimable: page, mine });
      }
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

    const perform = async (operation: TaskOperation, taskId: string, call: () => Promise<unknown>): Promise<boolean> => {
      if (get().busy[taskId]) return false;
      set((s) => ({ busy: { ...s.busy, [taskId]: operation }, error: null }));
      try {
        await call();
        // The core announces an accepted change with a `tasks` event, which has usually started a
        // refresh already: wait for that one instead of forcing a second.
        await (running ?? refresh());
        return true;
      } catch (e) {
        set({ error: toDomainError(e) });
        await refresh();
        return false;
      } finally {
        set((s) => {
          const busy = { ...s.busy };
          delete busy[taskId];
          return { busy };
        });
      }
    };

    return {
      claimable: null,
      mine: [],
      offset: 0,
      pageSize,
      busy: {},
      error: null,
      refresh,
      async showPage(offset) {
        set({ offset: Math.max(0, offset) });
        await refresh();
      },
      run: (operation, taskId) => perform(operation, taskId, () => api[operation]({ taskId })),
      reject: (taskId, reason) => perform('reject', taskId, () => api.reject({ taskId, reason })),
      clear: () => set({ claimable: null, mine: [], offset: 0, busy: {}, error: null }),
      clearError: () => set({ error: null }),
      setError: (error) => set({ error }),
    };
  });
}

export type TasksStoreApi = ReturnType<typeof createTasksStore>;
