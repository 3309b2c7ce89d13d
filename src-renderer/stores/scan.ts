/**
 * KIO-3: a code scanned (or typed and entered) at the work screen. The core says what it is: a task
 * (shown with Claim ready, or why not), a work order (the list is filtered to it), the operator's
 * own badge (sign out), another badge (switch operator), or nothing known here.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { ScanResult } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import type { SessionStoreApi } from './session.js';
import type { TasksStoreApi } from './tasks.js';
import type { ToastsStore } from './toasts.js';

export interface ScanState {
  /** The task a scan found, shown in the scan panel until closed. */
  found: Extract<ScanResult, { kind: 'task' }> | null;
  busy: boolean;
  error: DomainError | null;
  /** `method`: a scanner burst, or typed and entered (a typed code that is not a task code is only a search). */
  scan(code: string, method: 'scan' | 'manual'): Promise<ScanResult | null>;
  /**
   * Claim the task shown. Done: the panel closes. Refused (someone else took it meanwhile): the
   * panel shows the task as it is now and why, where the operator is looking, instead of
   * "Ready to claim" over a notice it hides.
   */
  claimFound(): Promise<boolean>;
  close(): void;
  /** The operator closed the panel: the task buttons beneath wait the settling moment (KIO-4). */
  dismiss(): void;
}

export function createScanStore(api: TerminalClient, deps: { session: SessionStoreApi; tasks: TasksStoreApi; toasts: ToastsStore }) {
  return createStore<ScanState>()((set, get) => ({
    found: null,
    busy: false,
    error: null,
    async scan(code, method) {
      const value = code.trim();
      if (!value || get().busy) return null;
      set({ busy: true, error: null });
      try {
        const result = await api.findByCode({ code: value });
        switch (result.kind) {
          case 'task':
            set({ found: result });
            break;
          case 'workOrder':
            set({ found: null });
            deps.tasks.getState().setFilters({ workOrder: result.workOrderNumber, search: undefined });
            deps.toasts.getState().show({
              tone: result.claimable ? 'info' : 'alert',
              key: result.claimable ? 'scan.workOrder' : 'scan.workOrderNone',
              params: { number: result.workOrderNumber, count: result.claimable },
            });
            break;
          case 'badge':
            if (method === 'scan') {
              set({ found: null });
              await deps.session.getState().badgeScanned(value, result.self);
            }
            break;
          case 'unknown':
            deps.toasts.getState().show({ tone: 'alert', key: 'scan.unknown', params: { code: result.code } });
            break;
        }
        return result;
      } catch (e) {
        set({ error: toDomainError(e) });
        return null;
      } finally {
        set({ busy: false });
      }
    },
    async claimFound() {
      const taskId = get().found?.task.id;
      if (!taskId) return false;
      const ok = await deps.tasks.getState().run('claim', taskId);
      if (get().found?.task.id !== taskId) return ok;
      if (ok) get().close();
      else {
        const now = await api.findByCode({ code: taskId }).catch(() => null);
        if (now?.kind === 'task' && get().found?.task.id === taskId) set({ found: now });
      }
      return ok;
    },
    close: () => set({ found: null, error: null }),
    dismiss() {
      get().close();
      deps.tasks.getState().settle();
    },
  }));
}

export type ScanStoreApi = ReturnType<typeof createScanStore>;
