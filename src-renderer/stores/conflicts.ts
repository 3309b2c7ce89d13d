/**
 * Conflict records of the signed-in operator: offline actions the server refused (usually a claim
 * someone else won). They stay until the operator acknowledges them; the screen shows the oldest.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { ConflictView } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';

export interface ConflictsState {
  list: ConflictView[];
  acknowledging: boolean;
  error: DomainError | null;
  refresh(): Promise<void>;
  add(conflict: ConflictView): void;
  acknowledge(id: number): Promise<boolean>;
  clear(): void;
}

export function createConflictsStore(api: TerminalClient) {
  return createStore<ConflictsState>()((set, get) => ({
    list: [],
    acknowledging: false,
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
      set({ acknowledging: true, error: null });
      try {
        await api.acknowledgeConflict({ id });
        set((s) => ({ list: s.list.filter((c) => c.id !== id), acknowledging: false }));
        return true;
      } catch (e) {
        set({ acknowledging: false, error: toDomainError(e) });
        return false;
      }
    },
    clear: () => set({ list: [], error: null }),
  }));
}

export type ConflictsStoreApi = ReturnType<typeof createConflictsStore>;
