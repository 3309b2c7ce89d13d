/**
 * The task table's rows for the current filter and order (SUP-2): a TaskIndex kept up to date as
 * pages arrive, rebuilt when the filter, the order, the exceptions that flag tasks, or the minute
 * (for "overdue") change. While the pointer is over the table the order shown is frozen, so a live
 * change never moves the row under the pointer; contents still update, and the order catches up
 * when the pointer leaves. The holder and department columns sort by the names shown, in the page's
 * language's order (rebuilt when the language or a department's name changes).
 */
import { createStore } from 'zustand/vanilla';
import { matchesFilter, openFlags, searchKey, taskComparator, type FilterContext, type SortNames, type TaskFilter, type TaskSort } from '../../../src-shared/domain/board.js';
import type { Locale } from '../../../src-shared/domain/i18n.js';
import type { BoardTask } from '../../../src-shared/protocol/supervisor.js';
import { nameCollator, rankedOrder } from '../format.js';
import { TaskIndex } from '../model/task-index.js';
import type { BoardState, PageEffect } from './board.js';

export interface TableState {
  /** The ids shown, in order. */
  rows: readonly string[];
  /** How many tasks pass the filter (also while frozen). */
  total: number;
  frozen: boolean;
  /** Rows that match now but are not shown while frozen. */
  pending: number;
  version: number;
  setFrozen(frozen: boolean): void;
}

export function createTableStore() {
  return createStore<TableState>()((set, get) => ({
    rows: [],
    total: 0,
    frozen: false,
    pending: 0,
    version: 0,
    setFrozen: (frozen) => {
      if (frozen === get().frozen) return;
      set({ frozen });
    },
  }));
}

export type TableStore = ReturnType<typeof createTableStore>;

/** Keeps the table store's rows in step with the board and the view. */
export class TableModel {
  private index: TaskIndex | null = null;
  private filter: TaskFilter = {};
  private sort: TaskSort = { key: 'priority', dir: 'desc' };
  private ctx: FilterContext = { now: 0, rejected: new Set(), expired: new Set() };
  private frozenRows: readonly string[] | null = null;

  constructor(
    private readonly table: TableStore,
    private readonly board: () => BoardState,
    private readonly now: () => number,
    private readonly locale: () => Locale = () => 'en',
  ) {}

  /** SUP-2: names as the page shows them, in its language's order (Chinese by pinyin). */
  private sortNames(sort: TaskSort): SortNames {
    const collator = nameCollator(this.locale());
    const board = this.board();
    if (sort.key === 'holder') {
      const names: string[] = [];
      for (const t of board.tasks.values()) if (t.operatorName !== null) names.push(t.operatorName);
      return { compareNames: rankedOrder(names, collator) };
    }
    if (sort.key === 'department') {
      // Departments by name; ids the board does not name (none: '') after them, by id.
      const rank = new Map([...board.departments.values()].sort((a, b) => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : 1)).map((d, i) => [d.id, i]));
      return {
        compareDepartments: (a, b) => {
          const ra = rank.get(a);
          const rb = rank.get(b);
          if (ra !== undefined && rb !== undefined) return ra - rb;
          if (ra !== undefined) return -1;
          if (rb !== undefined) return 1;
          return a < b ? -1 : a > b ? 1 : 0;
        },
      };
    }
    return {};
  }

  private publish(): void {
    const rows = this.index?.rows ?? [];
    const frozen = this.table.getState().frozen;
    if (frozen && this.frozenRows === null) this.frozenRows = [...rows];
    if (!frozen) this.frozenRows = null;
    const shown = this.frozenRows ?? [...rows];
    let pending = 0;
    if (frozen) {
      const showing = new Set(shown);
      for (const id of rows) if (!showing.has(id)) pending++;
    }
    this.table.setState((s) => ({
      rows: shown,
      total: rows.length,
      pending,
      version: s.version + 1,
    }));
  }

  private flags(): FilterContext {
    const { rejected, expired } = openFlags(this.board().exceptions.values());
    return { now: this.now(), rejected, expired };
  }

  /** Filter, order or flags changed: rebuild from every task. */
  rebuild(filter: TaskFilter = this.filter, sort: TaskSort = this.sort): void {
    // SUP-2: another filter or order is another question (a summary number opens exactly the tasks
    // it counts): the rows shown while frozen are taken anew from its answer.
    if (filter !== this.filter || sort !== this.sort) this.frozenRows = null;
    this.filter = filter;
    this.sort = sort;
    this.ctx = this.flags();
    const search = searchKey(filter.q);
    const tasks = this.board().tasks;
    this.index = new TaskIndex(
      (id) => tasks.get(id),
      (t) => matchesFilter(t, this.filter, this.ctx, search),
      taskComparator(sort, this.sortNames(sort)),
    );
    this.index.rebuild(tasks.values());
    this.publish();
  }

  /** A page was applied. */
  pageApplied(effect: PageEffect, exceptionsChanged: boolean, departmentsChanged = false): void {
    const usesFlags = this.filter.flag === 'rejected' || this.filter.flag === 'expired';
    if (effect.reset || !this.index || (exceptionsChanged && usesFlags) || (departmentsChanged && this.sort.key === 'department')) {
      this.rebuild();
      return;
    }
    if (effect.tasks.length === 0) return;
    this.index.update(effect.tasks as Array<{ id: string; before: BoardTask | undefined }>);
    this.publish();
  }

  /** The minute changed: "overdue" may include more tasks. */
  tick(): void {
    if (this.filter.flag === 'overdue' || this.sort.key === 'due') this.rebuild();
  }

  /** The page's language changed: the columns of names sort in its order. */
  localeChanged(): void {
    if (this.sort.key === 'holder' || this.sort.key === 'department') this.rebuild();
  }

  freezeChanged(): void {
    this.publish();
  }
}
