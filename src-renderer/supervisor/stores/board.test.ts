/**
 * SUP-1 on the page: a snapshot is shown only once complete (the old floor stays until then),
 * deltas change it in place, removals take entities out, and only notifications that arrive live
 * (not those of a snapshot) are announced. The task table follows the pages and holds its order
 * while frozen.
 */
import { describe, expect, it } from 'vitest';
import { emptySupervisorChanges, type BoardTask, type SupervisorChanges } from '../../../src-shared/protocol/supervisor.js';
import { createBoardStore } from './board.js';
import { createTableStore, TableModel } from './table.js';

function task(id: string, over: Partial<BoardTask> = {}): BoardTask {
  return {
    id,
    workOrderId: 'WO-1',
    workOrderNumber: 'WO-1',
    step: 'cut',
    workContent: `Work ${id}`,
    departmentId: 'cut',
    status: 'pending',
    operatorId: null,
    operatorName: null,
    priority: 0,
    dueAt: null,
    requiredSkills: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

const snap = (over: Partial<SupervisorChanges>) => ({ ...emptySupervisorChanges('snapshot', null), ...over });
const delta = (over: Partial<SupervisorChanges>) => ({ ...emptySupervisorChanges('delta', 1), ...over });
const note = (id: number) => ({ id, event: 'task_rejected', taskId: 't1', byUserId: 'ann', createdAt: 1, readAt: null, details: { reason: 'bent' } });

describe('SUP-1 the board', () => {
  it('shows a snapshot only once its last page is in, then replaces everything', () => {
    const board = createBoardStore();
    board.getState().applyPage(snap({ reset: true, tasks: [task('a')], more: true }), 1);
    expect(board.getState().loaded).toBe(false);
    expect(board.getState().tasks.size).toBe(0);
    const effect = board.getState().applyPage(snap({ tasks: [task('b')], cursor: 10 }), 2);
    expect(effect.reset).toBe(true);
    expect([...board.getState().tasks.keys()]).toEqual(['a', 'b']);
    expect(board.getState().loaded).toBe(true);
    // A later snapshot (after a rescope) keeps the old floor visible until it completes.
    board.getState().applyPage(snap({ reset: true, tasks: [task('c')], more: true }), 3);
    expect([...board.getState().tasks.keys()]).toEqual(['a', 'b']);
    board.getState().applyPage(snap({ cursor: 12 }), 4);
    expect([...board.getState().tasks.keys()]).toEqual(['c']);
  });

  it('applies deltas and removals in place, noting each task as it was', () => {
    const board = createBoardStore();
    board.getState().applyPage(snap({ reset: true, tasks: [task('a'), task('b')], cursor: 1 }), 1);
    const v = board.getState().version;
    const effect = board.getState().applyPage(delta({ tasks: [task('a', { operatorId: 'ann', version: 2 })], removed: { tasks: ['b'], people: [], terminals: [] } }), 2);
    expect(board.getState().version).toBe(v + 1);
    expect(board.getState().tasks.get('a')!.operatorId).toBe('ann');
    expect(board.getState().tasks.has('b')).toBe(false);
    expect(effect.tasks.map((c) => [c.id, c.before?.version])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('moves slowVersion at most every half second however many pages come, and once more after the last', () => {
    const pending: Array<() => void> = [];
    const board = createBoardStore({ setTimeout: (fn) => pending.push(fn) });
    board.getState().applyPage(snap({ reset: true, cursor: 1 }), 1000);
    expect(board.getState().slowVersion).toBe(1);
    for (let t = 1010; t < 1400; t += 10) board.getState().applyPage(delta({}), t);
    expect(board.getState().version).toBe(40);
    expect(board.getState().slowVersion).toBe(1);
    expect(pending).toHaveLength(1);
    pending.shift()!();
    expect(board.getState().slowVersion).toBe(2);
  });

  it('announces only notifications that arrive live', () => {
    const board = createBoardStore();
    const first = board.getState().applyPage(snap({ reset: true, notifications: [note(1)], cursor: 1 }), 1);
    expect(first.newNotifications).toEqual([]);
    const live = board.getState().applyPage(delta({ notifications: [note(1), note(2)] }), 2);
    expect(live.newNotifications.map((n) => n.id)).toEqual([2]);
  });
});

describe('SUP-2 the task table model', () => {
  it('follows pages, holds its order while the pointer is over it, and catches up after', () => {
    const board = createBoardStore();
    const table = createTableStore();
    const model = new TableModel(table, () => board.getState(), () => 0);
    board.getState().applyPage(snap({ reset: true, tasks: [task('a', { priority: 1 }), task('b', { priority: 2 })], cursor: 1 }), 1);
    model.pageApplied({ reset: true, tasks: [], newNotifications: [] }, false);
    expect(table.getState().rows).toEqual(['b', 'a']);
    table.getState().setFrozen(true);
    model.freezeChanged();
    const effect = board.getState().applyPage(delta({ tasks: [task('a', { priority: 3 }), task('c', { priority: 5 })] }), 2);
    model.pageApplied(effect, false);
    // Frozen: same order, the new rows are counted, not inserted.
    expect(table.getState().rows).toEqual(['b', 'a']);
    expect(table.getState().total).toBe(3);
    expect(table.getState().pending).toBe(1);
    table.getState().setFrozen(false);
    model.freezeChanged();
    expect(table.getState().rows).toEqual(['c', 'a', 'b']);
    // A filter rebuilds.
    model.rebuild({ q: 'work b' }, { key: 'priority', dir: 'desc' });
    expect(table.getState().rows).toEqual(['b']);
  });

  it('a new filter or order shows its own rows even while frozen, and counts as waiting only the rows not shown', () => {
    const board = createBoardStore();
    const table = createTableStore();
    const model = new TableModel(table, () => board.getState(), () => 0);
    board.getState().applyPage(snap({ reset: true, tasks: [task('a', { priority: 1 }), task('b', { priority: 2 }), task('c', { status: 'completed' })], cursor: 1 }), 1);
    model.rebuild({ state: 'pending' }, { key: 'priority', dir: 'desc' });
    table.getState().setFrozen(true);
    model.freezeChanged();
    // A summary number (or a view key) asks another question while the pointer is still frozen.
    model.rebuild({ state: 'completed' }, { key: 'priority', dir: 'desc' });
    expect(table.getState().rows).toEqual(['c']);
    expect(table.getState().pending).toBe(0);
    // Live changes still wait while frozen: a also completes, shown once the pointer leaves.
    model.pageApplied(board.getState().applyPage(delta({ tasks: [task('a', { status: 'completed', version: 2 })] }), 2), false);
    expect(table.getState().rows).toEqual(['c']);
    expect(table.getState().total).toBe(2);
    expect(table.getState().pending).toBe(1);
  });

  it('SUP-2 the department and holder columns sort by what they show: department names, and names in the page\u2019s language\u2019s order (Chinese by pinyin)', () => {
    const board = createBoardStore();
    const table = createTableStore();
    let locale: 'en' | 'zh' = 'en';
    const model = new TableModel(table, () => board.getState(), () => 0, () => locale);
    board.getState().applyPage(
      snap({
        reset: true,
        // Ids from the ERP, names people read: by id, Welding (d1) would come before Assembly (d2).
        departments: [
          { id: 'd1', name: 'Welding', taskLimit: null },
          { id: 'd2', name: 'Assembly', taskLimit: null },
        ],
        tasks: [
          task('a', { departmentId: 'd1', operatorId: 'u1', operatorName: '张伟' }),
          task('b', { departmentId: 'd2', operatorId: 'u2', operatorName: '王芳' }),
          task('c', { departmentId: 'd1', operatorId: 'u3', operatorName: '李娜' }),
          task('d', { departmentId: 'd2' }),
        ],
        cursor: 1,
      }),
      1,
    );
    model.rebuild({}, { key: 'department', dir: 'asc' });
    expect(table.getState().rows).toEqual(['b', 'd', 'a', 'c']);
    // Li, Wang, Zhang (pinyin), nobody last; not by code point (Zhang, Li, Wang).
    locale = 'zh';
    model.rebuild({}, { key: 'holder', dir: 'asc' });
    expect(table.getState().rows).toEqual(['c', 'b', 'a', 'd']);
    // A department renamed live takes its place in the order.
    model.rebuild({}, { key: 'department', dir: 'asc' });
    const effect = board.getState().applyPage(delta({ departments: [{ id: 'd1', name: 'Abrasive blasting', taskLimit: null }] }), 2);
    model.pageApplied(effect, false, true);
    expect(table.getState().rows).toEqual(['a', 'c', 'b', 'd']);
  });
});
