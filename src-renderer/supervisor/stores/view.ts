/**
 * What the supervisor is looking at: the page, the task table's filters and order, the open task,
 * the people and exceptions filters. It lives in the URL (so a view can be bookmarked and shared,
 * and Back works), parsed and written by the pure functions below.
 */
import { createStore } from 'zustand/vanilla';
import { BOARD_STATES, TASK_FLAGS, TASK_SORT_KEYS, type TaskFilter, type TaskSort } from '../../../src-shared/domain/board.js';
import { EXCEPTION_KINDS, type ExceptionKind } from '../../../src-shared/domain/rules.js';

export const VIEWS = ['overview', 'tasks', 'people', 'terminals', 'exceptions', 'audit', 'import'] as const;
export type View = (typeof VIEWS)[number];

export interface ViewSnapshot {
  view: View;
  filter: TaskFilter;
  sort: TaskSort;
  /** The task whose details are open. */
  taskId: string | null;
  people: { departmentId?: string; skill?: string };
  exceptions: { kind?: ExceptionKind; all: boolean };
}

export const DEFAULT_SORT: TaskSort = { key: 'priority', dir: 'desc' };

const oneOf = <T extends string>(list: readonly T[], v: string | null): T | undefined => (v !== null && (list as readonly string[]).includes(v) ? (v as T) : undefined);
const text = (v: string | null, max = 200): string | undefined => (v && v.length <= max ? v : undefined);

/** Read a view from a URL's query string; anything unknown or malformed is ignored. */
export function parseView(search: string): ViewSnapshot {
  const p = new URLSearchParams(search);
  const since = Number(p.get('since'));
  const filter: TaskFilter = {};
  const set = <K extends keyof TaskFilter>(k: K, v: TaskFilter[K] | undefined) => {
    if (v !== undefined) filter[k] = v;
  };
  set('departmentId', text(p.get('dept'), 64));
  set('state', oneOf([...BOARD_STATES, 'open'] as const, p.get('state')));
  set('workOrder', text(p.get('wo'), 100));
  set('step', text(p.get('step'), 64));
  set('operatorId', text(p.get('op'), 64));
  set('flag', oneOf(TASK_FLAGS, p.get('flag')));
  set('completedSince', Number.isSafeInteger(since) && since > 0 ? since : undefined);
  set('q', text(p.get('q')));
  const people: ViewSnapshot['people'] = {};
  const pdept = text(p.get('pdept'), 64);
  const skill = text(p.get('skill'), 64);
  if (pdept) people.departmentId = pdept;
  if (skill) people.skill = skill;
  const exceptions: ViewSnapshot['exceptions'] = { all: p.get('xall') === '1' };
  const kind = oneOf(EXCEPTION_KINDS, p.get('xkind'));
  if (kind) exceptions.kind = kind;
  return {
    view: oneOf(VIEWS, p.get('view')) ?? 'overview',
    filter,
    sort: { key: oneOf(TASK_SORT_KEYS, p.get('sort')) ?? DEFAULT_SORT.key, dir: p.get('dir') === 'asc' ? 'asc' : p.get('dir') === 'desc' ? 'desc' : DEFAULT_SORT.dir },
    taskId: text(p.get('task'), 64) ?? null,
    people,
    exceptions,
  };
}

/** The query string of a view (only what differs from the defaults). */
export function viewSearch(v: ViewSnapshot): string {
  const p = new URLSearchParams();
  if (v.view !== 'overview') p.set('view', v.view);
  const f = v.filter;
  if (f.departmentId) p.set('dept', f.departmentId);
  if (f.state) p.set('state', f.state);
  if (f.workOrder) p.set('wo', f.workOrder);
  if (f.step) p.set('step', f.step);
  if (f.operatorId) p.set('op', f.operatorId);
  if (f.flag) p.set('flag', f.flag);
  if (f.completedSince) p.set('since', String(f.completedSince));
  if (f.q) p.set('q', f.q);
  if (v.sort.key !== DEFAULT_SORT.key || v.sort.dir !== DEFAULT_SORT.dir) {
    p.set('sort', v.sort.key);
    p.set('dir', v.sort.dir);
  }
  if (v.taskId) p.set('task', v.taskId);
  if (v.people.departmentId) p.set('pdept', v.people.departmentId);
  if (v.people.skill) p.set('skill', v.people.skill);
  if (v.exceptions.kind) p.set('xkind', v.exceptions.kind);
  if (v.exceptions.all) p.set('xall', '1');
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface ViewState extends ViewSnapshot {
  go(view: View): void;
  /** Show the task table with exactly this filter (a summary number, a person's tasks). */
  showTasks(filter: TaskFilter): void;
  setFilter(patch: Partial<TaskFilter>): void;
  clearFilter(): void;
  sortBy(key: TaskSort['key']): void;
  openTask(taskId: string | null): void;
  setPeople(patch: ViewSnapshot['people']): void;
  setExceptions(patch: Partial<ViewSnapshot['exceptions']>): void;
  /** Back/forward: take the view from the URL. */
  load(search: string): void;
}

/** Drop keys whose value is undefined or empty, so the filter object stays minimal. */
function compact(f: TaskFilter): TaskFilter {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== '')) as TaskFilter;
}

export function createViewStore(initialSearch: string, onChange: (search: string, push: boolean) => void) {
  const store = createStore<ViewState>()((set, get) => {
    const update = (patch: Partial<ViewSnapshot>, push = false) => {
      set(patch);
      onChange(viewSearch(get()), push);
    };
    return {
      ...parseView(initialSearch),
      go: (view) => update({ view }, true),
      showTasks: (filter) => update({ view: 'tasks', filter: compact(filter) }, true),
      setFilter: (patch) => update({ filter: compact({ ...get().filter, ...patch }) }),
      clearFilter: () => update({ filter: {} }),
      sortBy: (key) => {
        const { sort } = get();
        update({ sort: { key, dir: sort.key === key ? (sort.dir === 'asc' ? 'desc' : 'asc') : key === 'priority' || key === 'updated' ? 'desc' : 'asc' } });
      },
      openTask: (taskId) => update({ taskId }, taskId !== null),
      setPeople: (people) => update({ people: Object.fromEntries(Object.entries(people).filter(([, v]) => v)) }),
      setExceptions: (patch) => update({ exceptions: { ...get().exceptions, ...patch } }),
      load: (search) => set(parseView(search)),
    };
  });
  return store;
}

export type ViewStore = ReturnType<typeof createViewStore>;
