/**
 * The open task's history (SUP-3): its assignments with reasons and who made them, its audit
 * events with the terminal each came from, and its exceptions; loaded from the server and loaded
 * again when the board shows the task changed.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../../src-shared/domain/errors.js';
import type { Assignment } from '../../../src-shared/domain/types.js';
import type { BoardException, BoardTask } from '../../../src-shared/protocol/supervisor.js';
import { toDomainError } from '../../api/errors.js';
import type { Http } from '../api/http.js';

export interface AuditEvent {
  id: number;
  at: number;
  action: string;
  outcome: string;
  actorId: string | null;
  terminalId: string | null;
  via: string;
  taskId: string | null;
  departmentId: string | null;
  details: Record<string, unknown>;
}

export interface TaskHistory {
  task: BoardTask;
  assignments: Assignment[];
  audit: AuditEvent[];
  exceptions: BoardException[];
  /** Display names of the people the history mentions. */
  names: Record<string, string>;
  /** Names of the terminals the history mentions. */
  terminals: Record<string, string>;
}

export interface DetailState {
  taskId: string | null;
  history: TaskHistory | null;
  /** The task version the history was loaded at. */
  loadedVersion: number | null;
  loading: boolean;
  error: DomainError | null;
  load(taskId: string | null, version: number | null): Promise<void>;
}

export function createDetailStore(http: Http) {
  return createStore<DetailState>()((set, get) => ({
    taskId: null,
    history: null,
    loadedVersion: null,
    loading: false,
    error: null,
    async load(taskId, version) {
      if (taskId === null) {
        set({ taskId: null, history: null, loadedVersion: null, error: null, loading: false });
        return;
      }
      const s = get();
      if (s.taskId === taskId && s.loadedVersion === version && (s.history || s.loading)) return;
      set({ taskId, loading: true, error: null, loadedVersion: version, ...(s.taskId === taskId ? {} : { history: null }) });
      // Only the answer to the latest question: a load for an older version of the task that
      // answers after the newer one would leave a stale history until the task changes again.
      const latest = () => get().taskId === taskId && get().loadedVersion === version;
      try {
        const history = await http.get<TaskHistory>(`/api/tasks/${encodeURIComponent(taskId)}`);
        if (latest()) set({ history, loading: false });
      } catch (e) {
        if (latest()) set({ error: toDomainError(e), loading: false });
      }
    },
  }));
}

export type DetailStore = ReturnType<typeof createDetailStore>;
