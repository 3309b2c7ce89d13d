/**
 * NTF-1, NTF-2: the signed-in operator's notifications: the list (newest first), how many are new,
 * a toast the moment one arrives, and marking them read (which the core sends to the server).
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { NotificationView } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import type { ToastsStore } from './toasts.js';

export interface NotificationsState {
  list: NotificationView[];
  open: boolean;
  error: DomainError | null;
  refresh(): Promise<void>;
  /** New ones arrived: announce each, then show the list as it is now. */
  arrived(fresh: readonly NotificationView[]): Promise<void>;
  markRead(ids?: number[]): Promise<void>;
  setOpen(open: boolean): void;
  clear(): void;
}

export function unreadCount(s: Pick<NotificationsState, 'list'>): number {
  return s.list.filter((n) => !n.read).length;
}

/**
 * The events whose wording names who did it (`{{by}}`). With no one to name (a system event), each
 * has a wording without them (`ntf.<event>_noActor`): never a blank where the name goes.
 */
export const ACTOR_EVENTS: readonly NotificationView['event'][] = [
  'task_assigned',
  'task_reassigned_away',
  'task_released_by_supervisor',
  'task_cancelled',
  'rejected_task_assigned',
  'rejected_task_cancelled',
];

/** What a notification says, as a UI message key and its parameters (NTF-1). */
export function notificationText(n: NotificationView): { key: string; params: Record<string, unknown> } {
  const d = n.details;
  const by = n.byName || n.byUserId || '';
  return {
    key: !by && ACTOR_EVENTS.includes(n.event) ? `ntf.${n.event}_noActor` : `ntf.${n.event}`,
    params: {
      task: n.taskLabel ?? n.taskId ?? '',
      by,
      holder: typeof d.holderName === 'string' ? d.holderName : '',
      reason: typeof d.reason === 'string' ? d.reason : '',
      minutes: typeof d.waitedMinutes === 'number' ? d.waitedMinutes : 0,
    },
  };
}

export function createNotificationsStore(api: TerminalClient, toasts: ToastsStore) {
  return createStore<NotificationsState>()((set, get) => ({
    list: [],
    open: false,
    error: null,
    async refresh() {
      try {
        set({ list: await api.listNotifications(), error: null });
      } catch (e) {
        const err = toDomainError(e);
        if (err.code !== 'not_signed_in') set({ error: err });
      }
    },
    async arrived(fresh) {
      for (const n of fresh) toasts.getState().show({ tone: 'info', ...notificationText(n) }, 10_000);
      await get().refresh();
    },
    async markRead(ids) {
      try {
        await api.markNotificationsRead(ids ? { ids } : {});
        await get().refresh();
      } catch (e) {
        set({ error: toDomainError(e) });
      }
    },
    setOpen: (open) => set({ open }),
    clear: () => set({ list: [], open: false, error: null }),
  }));
}

export type NotificationsStoreApi = ReturnType<typeof createNotificationsStore>;
