/** The audit trail page (SUP-6): a filter, one page of events at a time, and its CSV export. */
import { createStore } from 'zustand/vanilla';
import { DomainError } from '../../../src-shared/domain/errors.js';
import { toDomainError } from '../../api/errors.js';
import type { Http } from '../api/http.js';
import type { AuditEvent } from './detail.js';

export interface AuditFilter {
  departmentId?: string;
  taskId?: string;
  workOrder?: string;
  userId?: string;
  action?: string;
  outcome?: string;
  /** Local date-time strings from the inputs (YYYY-MM-DDTHH:MM), turned into instants when sent. */
  from?: string;
  to?: string;
}

export const AUDIT_PAGE = 50;

export interface AuditState {
  /** What the filter fields say (edited freely; sent only by `search`). */
  filter: AuditFilter;
  /** The filter of the search whose rows are shown: its pages and its export. */
  searched: AuditFilter | null;
  offset: number;
  items: AuditEvent[];
  /** The display names of the people who acted in `items` (supervisors and admins too). */
  names: Record<string, string>;
  total: number | null;
  loading: boolean;
  error: DomainError | null;
  setFilter(patch: Partial<AuditFilter>): void;
  /** Search with what the filter fields say, from the first page. */
  search(offset?: number): Promise<void>;
  /** Another page of the search shown (not of fields edited since without searching). */
  page(offset: number): Promise<void>;
  /** The search shown as a CSV download link (the filter fields' before any search). */
  csvHref(): string;
  /** Back to no search (signed out); a search still on its way is not shown. */
  forget(): void;
}

/** The query the server takes for a filter (times as ISO instants). */
export function auditQuery(filter: AuditFilter, toInstant: (local: string) => number | null): Record<string, string> {
  const q: Record<string, string> = {};
  for (const key of ['departmentId', 'taskId', 'workOrder', 'userId', 'action', 'outcome'] as const) {
    const v = filter[key]?.trim();
    if (v) q[key] = v;
  }
  for (const key of ['from', 'to'] as const) {
    const v = filter[key];
    const t = v ? toInstant(v) : null;
    if (t !== null) q[key] = new Date(t).toISOString();
  }
  return q;
}

export function createAuditStore(http: Http, toInstant: (local: string) => number | null) {
  const empty = { filter: {}, searched: null, offset: 0, items: [], names: {}, total: null, loading: false, error: null };
  /** Numbers the searches: only the latest one's answer is shown (forget counts as one). */
  let asked = 0;
  return createStore<AuditState>()((set, get) => {
    const run = async (filter: AuditFilter, offset: number): Promise<void> => {
      const mine = ++asked;
      // A period that ends before it starts is said here, in the page's language, not sent.
      const { from, to } = filter;
      const start = from ? toInstant(from) : null;
      const end = to ? toInstant(to) : null;
      if (start !== null && end !== null && end <= start) {
        set({ error: new DomainError('invalid_input', { field: 'query.to', reason: 'to_before_from' }), loading: false, offset });
        return;
      }
      set({ loading: true, error: null, offset });
      try {
        const r = await http.get<{ items: AuditEvent[]; total: number; names?: Record<string, string> }>('/api/audit', { ...auditQuery(filter, toInstant), limit: AUDIT_PAGE, offset });
        if (mine === asked) set({ items: r.items, names: r.names ?? {}, total: r.total, loading: false, searched: filter });
      } catch (e) {
        if (mine === asked) set({ error: toDomainError(e), loading: false });
      }
    };
    return {
    ...empty,
    setFilter: (patch) => set({ filter: { ...get().filter, ...patch } }),
    search: (offset = 0) => run(get().filter, offset),
    page: (offset) => run(get().searched ?? get().filter, offset),
    csvHref: () => `/api/audit?${new URLSearchParams({ ...auditQuery(get().searched ?? get().filter, toInstant), format: 'csv' })}`,
    forget: () => {
      asked++;
      set(empty);
    },
    };
  });
}

export type AuditStore = ReturnType<typeof createAuditStore>;
