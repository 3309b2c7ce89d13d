/**
 * Auto-assignment from the overview (AUTO-1..6): pick a department and a strategy, preview on the
 * server (the same code path as applying, rolled back), then apply; if the floor changed in between,
 * the applied result differs from the preview and the differences are listed.
 */
import { createStore } from 'zustand/vanilla';
import type { AutoAssignStrategy } from '../../../src-shared/domain/autoassign.js';
import { fromErrorData, type DomainError, type ErrorCode, type ErrorData } from '../../../src-shared/domain/errors.js';
import { toDomainError } from '../../api/errors.js';
import type { Http } from '../api/http.js';

export interface AutoPick {
  taskId: string;
  userId: string;
  userName: string;
  activeCount: number;
  limit: number;
  performance: number;
  eligible: number;
}

export interface AutoResult {
  assigned: AutoPick[];
  unassigned: Array<{ taskId: string; reason: ErrorCode; details: { ineligible: Partial<Record<ErrorCode, number>> } }>;
  /** An apply that stopped after some of its slices were committed: what stopped it. */
  complete?: boolean;
  stoppedBy?: ErrorData;
}

export interface AutoDifference {
  taskId: string;
  /** Who the preview picked, and who got it (null: nobody). */
  previewed: string | null;
  applied: string | null;
}

/**
 * Where an applied result differs from its preview: a task given to another person (by id: two
 * operators may share a name, and are then told apart by their ids), or to nobody.
 */
export function differences(preview: AutoResult, applied: AutoResult): AutoDifference[] {
  const before = new Map(preview.assigned.map((p) => [p.taskId, p]));
  const after = new Map(applied.assigned.map((p) => [p.taskId, p]));
  const ids = new Set([...before.keys(), ...after.keys()]);
  const out: AutoDifference[] = [];
  for (const taskId of ids) {
    const previewed = before.get(taskId) ?? null;
    const got = after.get(taskId) ?? null;
    if (previewed?.userId === got?.userId) continue;
    const sameName = previewed !== null && got !== null && previewed.userName === got.userName;
    const name = (p: AutoPick | null) => (p === null ? null : sameName ? `${p.userName} (${p.userId})` : p.userName);
    out.push({ taskId, previewed: name(previewed), applied: name(got) });
  }
  return out.sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
}

export interface AutoAssignState {
  departmentId: string | null;
  strategy: AutoAssignStrategy;
  capacityWeight: number;
  limit: number;
  preview: AutoResult | null;
  applied: AutoResult | null;
  diff: AutoDifference[];
  busy: 'preview' | 'apply' | null;
  error: DomainError | null;
  configure(patch: Partial<Pick<AutoAssignState, 'departmentId' | 'strategy' | 'capacityWeight' | 'limit'>>): void;
  runPreview(): Promise<void>;
  apply(): Promise<void>;
  reset(departmentId: string | null): void;
}

export function createAutoAssignStore(http: Http) {
  return createStore<AutoAssignState>()((set, get) => {
    const run = async (dryRun: boolean): Promise<AutoResult> => {
      const { departmentId, strategy, capacityWeight, limit } = get();
      return http.post<AutoResult>(`/api/departments/${encodeURIComponent(departmentId!)}/auto-assign`, {
        strategy,
        limit,
        dryRun,
        ...(strategy === 'hybrid' ? { capacityWeight } : {}),
      });
    };
    /**
     * Numbers what is asked: an answer is taken only while nothing was asked since (a dialog reset
     * meanwhile, or a change of what to ask, makes it another question's answer).
     */
    let asked = 0;
    return {
      departmentId: null,
      strategy: 'least_loaded',
      capacityWeight: 0.5,
      limit: 100,
      preview: null,
      applied: null,
      diff: [],
      busy: null,
      error: null,
      // Changing what is asked makes the preview stale; not while a preview or an apply is under
      // way (the dialog's controls are disabled then): its answer is for what was asked.
      configure: (patch) => {
        if (get().busy) return;
        set({ ...patch, preview: null, applied: null, diff: [], error: null });
      },
      async runPreview() {
        if (!get().departmentId || get().busy) return;
        const mine = ++asked;
        set({ busy: 'preview', error: null, applied: null, diff: [] });
        try {
          const preview = await run(true);
          if (mine === asked) set({ preview, busy: null });
        } catch (e) {
          if (mine === asked) set({ error: toDomainError(e), busy: null });
        }
      },
      async apply() {
        const { preview } = get();
        if (!preview || get().busy) return;
        const mine = ++asked;
        set({ busy: 'apply', error: null });
        try {
          const applied = await run(false);
          // Stopped part way: what was assigned is shown, and why the rest was not.
          const stopped = applied.complete === false && applied.stoppedBy ? fromErrorData(applied.stoppedBy) : null;
          if (mine === asked) set({ applied, diff: differences(preview, applied), busy: null, error: stopped });
        } catch (e) {
          if (mine === asked) set({ error: toDomainError(e), busy: null });
        }
      },
      reset: (departmentId) => {
        asked++;
        set({ departmentId, preview: null, applied: null, diff: [], error: null, busy: null });
      },
    };
  });
}

export type AutoAssignStore = ReturnType<typeof createAutoAssignStore>;
