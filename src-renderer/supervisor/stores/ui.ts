/** Which dialog or panel is open over the overview (one at a time) and the page's language. */
import { createStore } from 'zustand/vanilla';
import type { Locale } from '../../../src-shared/domain/i18n.js';

export type Dialog =
  | { kind: 'assign'; taskId: string; mode: 'assign' | 'reassign'; exceptionId: number | null }
  | { kind: 'cancel'; taskId: string }
  | { kind: 'autoAssign'; departmentId: string | null }
  | { kind: 'shortcuts' };

export interface UiState {
  dialog: Dialog | null;
  notificationsOpen: boolean;
  locale: Locale;
  /** "Now" for overdue and shift counts; advances every half minute. */
  now: number;
  tick(now: number): void;
  open(dialog: Dialog): void;
  close(): void;
  toggleNotifications(open?: boolean): void;
  setLocale(locale: Locale): void;
}

export function createUiStore(locale: Locale, onLocale: (l: Locale) => void, now: number) {
  return createStore<UiState>()((set, get) => ({
    dialog: null,
    notificationsOpen: false,
    locale,
    now,
    tick: (t) => set({ now: t }),
    open: (dialog) => set({ dialog, notificationsOpen: false }),
    close: () => set({ dialog: null }),
    toggleNotifications: (open) => set({ notificationsOpen: open ?? !get().notificationsOpen }),
    setLocale: (l) => {
      set({ locale: l });
      onLocale(l);
    },
  }));
}

export type UiStore = ReturnType<typeof createUiStore>;
