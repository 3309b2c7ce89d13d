/**
 * SUP-2 on the page: each number of the floor summary opens the task table filtered to exactly
 * the tasks it counts, also between two ticks of the page's clock (the summary and the table judge
 * "overdue" at the same "now").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { filterForCount } from '../../../src-shared/domain/board.js';
import { emptySupervisorChanges, type BoardTask } from '../../../src-shared/protocol/supervisor.js';
import { floorSummary } from '../selectors.js';
import { testSupervisorApp } from '../../testing/supervisor-app.js';
import type { SupervisorApp } from './app.js';

let app: SupervisorApp | null = null;
afterEach(() => {
  app?.dispose();
  app = null;
});

function task(id: string, dueAt: number): BoardTask {
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
    dueAt,
    requiredSkills: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

describe('SUP-2 the floor summary and the task table', () => {
  it('SUP-2 the overdue number opens exactly the tasks it counts, also when a task fell due since the page\u2019s clock last ticked', () => {
    let clock = Date.UTC(2026, 10, 27, 9, 0);
    app = testSupervisorApp({
      now: () => clock,
      tickMs: 3_600_000,
    });
    app.board.getState().applyPage(
      {
        ...emptySupervisorChanges('snapshot', 5),
        reset: true,
        departments: [{ id: 'cut', name: 'Cutting', taskLimit: null }],
        tasks: [task('late', clock - 60_000), task('soon', clock + 10_000)],
      },
      clock,
    );
    // 20 s later, before the page's clock ticks: "soon" is past due by the wall clock.
    clock += 20_000;
    const shown = floorSummary(app.board.getState(), app.ui.getState().now, app.actions.shift().start);
    const counted = shown.rows[0]!.overdue;
    app.view.getState().showTasks(filterForCount('cut', 'overdue', app.actions.shift().start));
    expect(app.table.getState().total).toBe(counted);
    expect(app.table.getState().rows).toEqual(['late']);
    // The clock ticks: both take "soon" in.
    app.ui.getState().tick(clock);
    app.view.getState().showTasks(filterForCount('cut', 'overdue', app.actions.shift().start));
    expect(floorSummary(app.board.getState(), app.ui.getState().now, app.actions.shift().start).rows[0]!.overdue).toBe(2);
    expect(app.table.getState().total).toBe(2);
  });
});
