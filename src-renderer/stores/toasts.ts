/**
 * Short messages in the corner: what an action did, what went wrong, what just arrived. Kept as
 * message keys (or a DomainError), so they are shown in the language of the moment.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { Timers } from './timers.js';

export interface Toast {
  id: number;
  tone: 'success' | 'error' | 'info' | 'alert';
  /** A UI message key and its parameters. */
  key?: string;
  params?: Record<string, unknown>;
  /** A refusal, shown with its message and suggestion. */
  error?: DomainError;
}

export interface ToastsState {
  items: Toast[];
  show(toast: Omit<Toast, 'id'>, ms?: number): void;
  dismiss(id: number): void;
  /** Forget every toast (the operator signed out: the next one must not read the last one's). */
  clear(): void;
}

export function createToastsStore(timers: Timers = globalThis) {
  let next = 1;
  return createStore<ToastsState>()((set, get) => ({
    items: [],
    show(toast, ms = 6000) {
      const id = next++;
      // At most five at once: the oldest makes room.
      set({ items: [...get().items.slice(-4), { ...toast, id }] });
      timers.setTimeout(() => get().dismiss(id), ms);
    },
    dismiss: (id) => set({ items: get().items.filter((t) => t.id !== id) }),
    clear: () => set({ items: [] }),
  }));
}

export type ToastsStore = ReturnType<typeof createToastsStore>;
