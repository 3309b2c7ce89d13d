/**
 * The operator picker of an assign or reassign (ASG-7): who could take the task, each with their
 * load and performance and, for those who could not, why (judged by the server with the rules the
 * assign itself runs), before anything is sent. A refusal after all (the floor changed) is shown
 * with its holder and a refresh, as a 409 names who has the task now.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError, ErrorData } from '../../../src-shared/domain/errors.js';
import type { Http } from '../api/http.js';
import { toDomainError as toError } from '../../api/errors.js';

export interface Candidate {
  userId: string;
  displayName: string;
  active: boolean;
  departmentIds: string[];
  activeCount: number;
  limit: number;
  performance: number;
  eligible: boolean;
  error: ErrorData | null;
  cooldownUntil: number | null;
}

export interface AssignState {
  taskId: string | null;
  mode: 'assign' | 'reassign';
  candidates: Candidate[] | null;
  loading: boolean;
  /** Loading the list failed. */
  loadError: DomainError | null;
  /** The assign was refused. */
  error: DomainError | null;
  submitting: boolean;
  load(taskId: string, mode: 'assign' | 'reassign'): Promise<void>;
  /**
   * Judge the candidates again, for what the task needs now (`modeOf`: held, a reassign; in the
   * pool, an assign): a refusal means the floor changed since the list was made.
   */
  refresh(): Promise<void>;
  /**
   * Assign (or reassign) to `userId`: null when done, else why not. A refusal is shown in the
   * dialog only if the dialog is still on that task (it may have been closed meanwhile).
   */
  submit(userId: string): Promise<DomainError | null>;
  reset(): void;
}

/**
 * `modeOf` says what a task needs as the board shows it now (null: not on the board); the mode a
 * picker was opened with may be out of date by the time a refusal says so.
 */
export function createAssignStore(http: Http, modeOf: (taskId: string) => 'assign' | 'reassign' | null = () => null) {
  return createStore<AssignState>()((set, get) => ({
    taskId: null,
    mode: 'assign',
    candidates: null,
    loading: false,
    loadError: null,
    error: null,
    submitting: false,
    async load(taskId, mode) {
      set({ taskId, mode, loading: true, loadError: null, error: null, candidates: null, submitting: false });
      try {
        const r = await http.get<{ items: Candidate[] }>(`/api/tasks/${encodeURIComponent(taskId)}/candidates`, { mode });
        if (get().taskId === taskId) set({ candidates: r.items, loading: false });
      } catch (e) {
        if (get().taskId === taskId) set({ loadError: toError(e), loading: false });
      }
    },
    async refresh() {
      const { taskId, mode } = get();
      if (taskId) await get().load(taskId, modeOf(taskId) ?? mode);
    },
    async submit(userId) {
      const { taskId, mode } = get();
      if (!taskId) return toError(new Error('no task is open'));
      if (get().submitting) return toError(new Error('an assignment is already on its way'));
      set({ submitting: true, error: null });
      try {
        await http.post(`/api/tasks/${encodeURIComponent(taskId)}/${mode}`, { userId });
        if (get().taskId === taskId) set({ submitting: false });
        return null;
      } catch (e) {
        const error = toError(e);
        if (get().taskId === taskId) set({ submitting: false, error });
        return error;
      }
    },
    reset: () => set({ taskId: null, candidates: null, loading: false, loadError: null, error: null, submitting: false }),
  }));
}

export type AssignStore = ReturnType<typeof createAssignStore>;
