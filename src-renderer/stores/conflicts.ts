/**
 * Conflict records of the signed-in operator: offline actions the server refused (usually a claim
 * someone else won). They stay until the operator acknowledges them; the screen shows the oldest.
 * One dialog per task: a claim lost offline is often followed by its start and completion, each
 * refused for the same reason; the first refusal tells it, and acknowledging it acknowledges them all.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { ConflictView } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import { settlingMoment } from './tasks.js';
import type { Timers } from './timers.js';

export interface ConflictsState {
  list: ConflictView[];
  acknowledging: boolean;
  /**
   * SETTLE_MS after an acknowledgement (KIO-4): the next conflict has taken the dialog's place, its
   * button under the finger; a double tap's second touch must not acknowledge it unread.
   */
  settling: boolean;
  error: DomainError | null;
  refresh(): Promise<void>;
  add(conflict: ConflictView): void;
  acknowledge(id: number): Promise<boolean>;
  clear(): void;
}

/** How many tasks have open conflicts (one dialog each). */
export function conflictTasks(s: Pick<ConflictsState, 'list'>): number {
  return new Set(s.list.map((c) => c.taskId)).size;
}

export function createConflictsStore(
  api: TerminalClient,
  o: { clock?: () => number; timers?: Timers } = {},
) {
  const clock = o.clock ?? (() => Date.now());
  const timers = o.timers ?? globalThis;
  return createStore<ConflictsState>()((set, get) => {
    const moment = settlingMoment({ clock, timers, set: (settling) => set({ settling }) });
    return {
      list: [],
      acknowledging: false,
      settling: false,
      error: null,
      async refresh() {
        try {
          set({ list: await api.listConflicts(), error: null });
        } catch (e) {
          const err = toDomainError(e);
          if (err.code !== 'not_signed_in') set({ error: err });
        }
      },
      add(conflict) {
        if (get().list.some((c) => c.id === conflict.id)) return;
        set((s) => ({ list: [...s.list, conflict].sort((a, b) => a.id - b.id) }));
      },
      async acknowledge(id) {
        if (get().acknowledging || get().settling) return false;
        const taskId = get().list.find((c) => c.id === id)?.taskId;
        const ids = taskId === undefined ? [id] : get().list.filter((c) => c.taskId === taskId).map((c) => c.id);
        set({ acknowledging: true, error: null });
        const done = new Set<number>();
        try {
          for (const each of ids) {
            await api.acknowledgeConflict({ id: each });
            done.add(each);
          }
          set((s) => ({ list: s.list.filter((c) => !done.has(c.id)), acknowledging: false }));
          moment.start();
          return true;
        } catch (e) {
          set((s) => ({ list: s.list.filter((c) => !done.has(c.id)), acknowledging: false, error: toDomainError(e) }));
          return false;
        }
      },
      clear: () => {
        moment.cancel();
        set({ list: [], error: null, settling: false });
      },
    };
  });
}

export type ConflictsStoreApi = ReturnType<typeof createConflictsStore>;
