/**
 * Conflict records of the signed-in operator: offline actions the server refused (usually a claim
 * someone else won). They stay until the operator acknowledges them; the screen shows the oldest.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { ConflictView } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import { SETTLE_MS } from './tasks.js';

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

export function createConflictsStore(
  api: TerminalClient,
  o: { clock?: () => number; timers?: { setTimeout(fn: () => void, ms: number): unknown } } = {},
) {
  const clock = o.clock ?? (() => Date.now());
  const timers = o.timers ?? globalThis;
  let settledAt = -Infinity;
  return createStore<ConflictsState>()((set, get) => ({
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
      set({ acknowledging: true, error: null });
      try {
        await api.acknowledgeConflict({ id });
        const until = clock() + SETTLE_MS;
        settledAt = until;
        set((s) => ({ list: s.list.filter((c) => c.id !== id), acknowledging: false, settling: true }));
        timers.setTimeout(() => {
          if (settledAt === until) set({ settling: false });
        }, SETTLE_MS);
        return true;
      } catch (e) {
        set({ acknowledging: false, error: toDomainError(e) });
        return false;
      }
    },
    clear: () => {
      settledAt = -Infinity;
      set({ list: [], error: null, settling: false });
    },
  }));
}

export type ConflictsStoreApi = ReturnType<typeof createConflictsStore>;
