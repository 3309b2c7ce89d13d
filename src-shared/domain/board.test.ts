/**
 * SUP-2: the floor summary counts exactly the tasks its links open, overdue means open and past
 * due, and the table's order is total (no two tasks compare equal) in either direction.
 */
import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import {
  BOARD_STATES,
  boardState,
  countPerHour,
  filterForCount,
  floorCounts,
  hourSlots,
  HOUR_MS,
  isOverdue,
  matchesFilter,
  openFlags,
  taskComparator,
  TASK_SORT_KEYS,
  type SummaryCount,
} from './board.js';
import type { Task, TaskStatus } from './types.js';

const NOW = Date.UTC(2026, 10, 26, 10, 0);
const SHIFT = Date.UTC(2026, 10, 26, 6, 0);

function task(over: Partial<Task> & { id: string }): Task {
  return {
    workOrderId: 'WO-1',
    workOrderNumber: 'WO-1',
    step: 'cut',
    workContent: `Work ${over.id}`,
    departmentId: 'cut',
    status: 'pending',
    operatorId: null,
    operatorName: null,
    priority: 0,
    dueAt: null,
    requiredSkills: [],
    version: 1,
    createdAt: NOW - 3600_000,
    updatedAt: NOW - 3600_000,
    ...over,
  };
}

const arbTask = fc.record({
  id: fc.string({ minLength: 1, maxLength: 4 }).map((s) => `t${s.replace(/\W/g, 'x')}`),
  departmentId: fc.constantFrom('cut', 'qa', null),
  status: fc.constantFrom<TaskStatus>('draft', 'pending', 'in_progress', 'completed', 'cancelled'),
  operatorId: fc.constantFrom(null, 'ann', 'bob'),
  priority: fc.integer({ min: 0, max: 3 }),
  dueAt: fc.option(fc.integer({ min: NOW - 5 * HOUR_MS, max: NOW + 5 * HOUR_MS }), { nil: null }),
  updatedAt: fc.integer({ min: SHIFT - 5 * HOUR_MS, max: NOW }),
});

describe('SUP-2 the floor summary', () => {
  it('every number counts exactly the tasks its link shows', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbTask, { selector: (t) => t.id, maxLength: 60 }), (raw) => {
        const tasks = raw.map((r) => task(r));
        const flagged = tasks.filter((_t, i) => i % 3 === 0).map((t) => ({ taskId: t.id, kind: 'task_rejected' as const, acknowledgedAt: null }));
        const expiredFlags = tasks.filter((_t, i) => i % 4 === 1).map((t) => ({ taskId: t.id, kind: 'assignment_expired' as const, acknowledgedAt: null }));
        const flags = openFlags([...flagged, ...expiredFlags]);
        const ctx = { now: NOW, ...flags };
        const { rows, total } = floorCounts(tasks, ['cut', 'qa'], { ...ctx, shiftStart: SHIFT });
        for (const row of rows) {
          for (const count of Object.keys(row).filter((k) => k !== 'departmentId') as SummaryCount[]) {
            const filter = filterForCount(row.departmentId, count, SHIFT);
            expect(tasks.filter((t) => matchesFilter(t, filter, ctx)).length).toBe(row[count]);
          }
        }
        // The "all departments" row, tasks without a department included (an admin's board).
        for (const count of Object.keys(total).filter((k) => k !== 'departmentId') as SummaryCount[]) {
          expect(tasks.filter((t) => matchesFilter(t, filterForCount(undefined, count, SHIFT), ctx)).length).toBe(total[count]);
        }
      }),
    );
  });

  it('handled exceptions no longer flag their task', () => {
    const flags = openFlags([
      { taskId: 't1', kind: 'task_rejected', acknowledgedAt: null },
      { taskId: 't2', kind: 'task_rejected', acknowledgedAt: NOW },
      { taskId: 't3', kind: 'assignment_expired', acknowledgedAt: null },
      { taskId: 't4', kind: 'claim_conflict', acknowledgedAt: null },
    ]);
    expect([...flags.rejected]).toEqual(['t1']);
    expect([...flags.expired]).toEqual(['t3']);
  });

  it('overdue: past due and still to do; a held pending task is "claimed"', () => {
    expect(isOverdue(task({ id: 'a', dueAt: NOW - 1 }), NOW)).toBe(true);
    expect(isOverdue(task({ id: 'b', dueAt: NOW - 1, status: 'in_progress' }), NOW)).toBe(true);
    expect(isOverdue(task({ id: 'c', dueAt: NOW - 1, status: 'completed' }), NOW)).toBe(false);
    expect(isOverdue(task({ id: 'd', dueAt: NOW + 1 }), NOW)).toBe(false);
    expect(isOverdue(task({ id: 'e', dueAt: null }), NOW)).toBe(false);
    expect(boardState(task({ id: 'f', operatorId: 'ann' }))).toBe('claimed');
    expect(boardState(task({ id: 'g' }))).toBe('pending');
    expect(BOARD_STATES).toContain(boardState(task({ id: 'h', status: 'in_progress', operatorId: 'ann' })));
  });

  it('the search matches id, work order, content, step and holder, ignoring case', () => {
    const t = task({ id: 'T-77', workOrderNumber: 'WO-2026-0042', workContent: 'Deburr brackets', operatorName: 'Ann Lee' });
    const ctx = { now: NOW, rejected: new Set<string>(), expired: new Set<string>() };
    for (const q of ['t-77', 'wo-2026-0042', 'DEBURR', 'ann lee', ' cut ']) expect(matchesFilter(t, { q }, ctx)).toBe(true);
    expect(matchesFilter(t, { q: 'weld' }, ctx)).toBe(false);
  });
});

describe('SUP-2 the task table order', () => {
  it('is total and antisymmetric for every key and direction (equal keys fall back to the id)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbTask, { selector: (t) => t.id, minLength: 2, maxLength: 30 }),
        fc.constantFrom(...TASK_SORT_KEYS),
        fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
        (raw, key, dir) => {
          const tasks = raw.map((r) => task({ ...r, operatorName: r.operatorId }));
          const cmp = taskComparator({ key, dir });
          for (const a of tasks) {
            for (const b of tasks) {
              if (a.id === b.id) expect(cmp(a, b)).toBe(0);
              else {
                expect(cmp(a, b)).not.toBe(0);
                expect(Math.sign(cmp(a, b))).toBe(-Math.sign(cmp(b, a)));
              }
            }
          }
        },
      ),
    );
  });

  it('tasks without a due time come last whichever way due times are sorted', () => {
    const list = [task({ id: 'a', dueAt: null }), task({ id: 'b', dueAt: NOW }), task({ id: 'c', dueAt: NOW + 1 })];
    expect([...list].sort(taskComparator({ key: 'due', dir: 'asc' })).map((t) => t.id)).toEqual(['b', 'c', 'a']);
    expect([...list].sort(taskComparator({ key: 'due', dir: 'desc' })).map((t) => t.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('SUP-2 hourly series', () => {
  it('puts each time in its hour of the shift, and nothing outside it', () => {
    const slots = hourSlots(SHIFT, SHIFT + 3 * HOUR_MS + 1);
    expect(slots).toEqual([SHIFT, SHIFT + HOUR_MS, SHIFT + 2 * HOUR_MS, SHIFT + 3 * HOUR_MS]);
    expect(countPerHour([SHIFT, SHIFT + 1, SHIFT + HOUR_MS, SHIFT + 3 * HOUR_MS + 5, SHIFT - 1, SHIFT + 9 * HOUR_MS], slots)).toEqual([2, 1, 0, 1]);
  });
});
