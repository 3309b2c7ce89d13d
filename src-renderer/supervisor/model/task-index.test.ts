/**
 * SUP-2: the task table's incremental index always equals a full filter-and-sort of the tasks,
 * however many live changes (moves, removals, new tasks) arrive in a page.
 */
import fc from '../../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { taskComparator, type TaskSort } from '../../../src-shared/domain/board.js';
import type { Task } from '../../../src-shared/domain/types.js';
import { TaskIndex } from './task-index.js';

function task(id: string, priority: number, dueAt: number | null, operatorId: string | null): Task {
  return {
    id,
    workOrderId: 'WO',
    workOrderNumber: 'WO',
    step: 'cut',
    workContent: id,
    departmentId: 'cut',
    status: 'pending',
    operatorId,
    operatorName: operatorId,
    priority,
    dueAt,
    requiredSkills: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

const arbTask = (id: string) =>
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }), fc.constantFrom(null, 'ann', 'bob')).map(([p, d, o]) => task(id, p, d, o));

describe('SUP-2 the task table index', () => {
  it('after any sequence of changed pages equals filtering and sorting everything again', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.tuple(...ids.map(arbTask)),
        fc.array(fc.array(fc.tuple(fc.constantFrom(...ids), fc.option(arbTask('x'), { nil: null })), { maxLength: 8 }), { maxLength: 10 }),
        fc.constantFrom<TaskSort>({ key: 'priority', dir: 'desc' }, { key: 'due', dir: 'asc' }, { key: 'holder', dir: 'asc' }),
        (initial, pages, sort) => {
          const tasks = new Map(initial.map((t) => [t.id, t]));
          const matches = (t: Task) => t.operatorId !== 'bob';
          const compare = taskComparator(sort);
          const index = new TaskIndex((id) => tasks.get(id), matches, compare);
          index.rebuild(tasks.values());
          for (const page of pages) {
            const changed: Array<{ id: string; before: Task | undefined }> = [];
            for (const [id, next] of page) {
              changed.push({ id, before: tasks.get(id) });
              if (next) tasks.set(id, { ...next, id, workContent: id });
              else tasks.delete(id);
            }
            index.update(changed);
            const expected = [...tasks.values()].filter(matches).sort(compare).map((t) => t.id);
            expect(index.rows).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
