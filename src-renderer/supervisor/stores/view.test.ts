/** SUP-2: a view (page, filters, order, open task) survives the trip through the URL; junk is ignored. */
import { describe, expect, it } from 'vitest';
import { createViewStore, parseView, viewSearch } from './view.js';

describe('SUP-2 views in the URL', () => {
  it('round-trips every part of a view', () => {
    const search = '?view=tasks&dept=cut&state=claimed&wo=WO-1&step=cut&op=ann&flag=overdue&since=1767592800000&q=brackets&sort=due&dir=asc&task=t1&pdept=qa&skill=tig&xkind=claim_conflict&xall=1';
    const v = parseView(search);
    expect(v).toEqual({
      view: 'tasks',
      filter: { departmentId: 'cut', state: 'claimed', workOrder: 'WO-1', step: 'cut', operatorId: 'ann', flag: 'overdue', completedSince: 1767592800000, q: 'brackets' },
      sort: { key: 'due', dir: 'asc' },
      taskId: 't1',
      people: { departmentId: 'qa', skill: 'tig' },
      exceptions: { kind: 'claim_conflict', all: true },
    });
    expect(parseView(viewSearch(v))).toEqual(v);
  });

  it('the default view is the overview, and writes an empty query', () => {
    const v = parseView('');
    expect(v.view).toBe('overview');
    expect(viewSearch(v)).toBe('');
  });

  it('ignores unknown views, states, flags and sort keys rather than failing', () => {
    const v = parseView('?view=admin&state=lost&flag=pink&sort=colour&dir=up&since=-5&xkind=nope');
    expect(v).toMatchObject({ view: 'overview', filter: {}, sort: { key: 'priority', dir: 'desc' }, exceptions: { all: false } });
    expect(v.exceptions.kind).toBeUndefined();
  });

  it('a summary link opens the tasks with exactly its filter and a history entry; filter edits replace it', () => {
    const writes: Array<[string, boolean]> = [];
    const store = createViewStore('?view=overview', (s, push) => writes.push([s, push]));
    store.getState().showTasks({ departmentId: 'cut', flag: 'rejected' });
    store.getState().setFilter({ q: 'weld' });
    store.getState().setFilter({ q: undefined });
    store.getState().sortBy('due');
    store.getState().sortBy('due');
    expect(writes).toEqual([
      ['?view=tasks&dept=cut&flag=rejected', true],
      ['?view=tasks&dept=cut&flag=rejected&q=weld', false],
      ['?view=tasks&dept=cut&flag=rejected', false],
      ['?view=tasks&dept=cut&flag=rejected&sort=due&dir=asc', false],
      ['?view=tasks&dept=cut&flag=rejected&sort=due&dir=desc', false],
    ]);
  });
});
