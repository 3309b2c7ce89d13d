/**
 * The operator's claimable tasks (LIST-1, LIST-2) in one scrolling list that fills its pane,
 * virtualised (@tanstack/react-virtual): only the rows in view are in the page, and the store
 * fetches rows around them from the core. Each row has a large Claim button, disabled with the
 * reason when the operator is at their limit (KIO-4); a supervisor at the kiosk only looks (KIO-1).
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useLayoutEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { ClaimableFilters, TaskView } from '../../src-shared/terminal-api.js';
import { atLimit, rowAt, rowIndexOf } from '../stores/tasks.js';
import { useSession, useStores, useTasks } from '../stores/hooks.js';
import { TaskSummary } from './TaskSummary.js';

export const ROW_HEIGHT = 140;

const ClaimRow = memo(function ClaimRow({ task, lookOnly, blocked, busy }: { task: TaskView; lookOnly: boolean; blocked: boolean; busy: boolean }) {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  return (
    <div className={task.overdue ? 'task task-row is-overdue' : 'task task-row'} data-testid={`claimable-${task.id}`} data-task-id={task.id}>
      <TaskSummary task={task} />
      {!lookOnly && (
        <button
          type="button"
          className="btn btn-claim"
          disabled={busy || blocked}
          data-testid={`claim-${task.id}`}
          onClick={() => void tasks.getState().run('claim', task.id)}
        >
          {t('task.claim')}
        </button>
      )}
    </div>
  );
});

export function ClaimableList() {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  const total = useTasks((s) => s.total);
  const window = useTasks((s) => s.window);
  const busy = useTasks((s) => s.busy);
  const settling = useTasks((s) => s.settling);
  const workload = useTasks((s) => s.workload);
  const filtered = useTasks((s) => Object.keys(s.filters).length > 0);
  const lookOnly = useSession((s) => s.session?.lookOnly ?? false);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total ?? 0,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 6,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    tasks.getState().setRange(first, last + 1);
  }, [tasks, first, last]);
  // New filters start at the top.
  const filters = useTasks((s) => s.filters);
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [filters]);

  // The list stays where it was when live changes arrive (UI-4): tasks claimed elsewhere above the
  // rows in view would otherwise move every row under the operator's finger. The rows in view are
  // remembered; when the list changes, it scrolls by as many rows as came or went above them.
  const anchor = useRef<{ filters: ClaimableFilters; scrollTop: number; first: number; ids: string[] } | null>(null);
  const remember = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const s = tasks.getState();
    const first = Math.floor(el.scrollTop / ROW_HEIGHT);
    const ids: string[] = [];
    for (let i = first; i * ROW_HEIGHT < el.scrollTop + el.clientHeight; i++) {
      const task = rowAt(s, i);
      if (!task) break;
      ids.push(task.id);
    }
    anchor.current = { filters: s.filters, scrollTop: el.scrollTop, first, ids };
  }, [tasks]);
  useLayoutEffect(() => {
    const a = anchor.current;
    const el = scroller.current;
    if (a && el && a.filters === filters && a.first > 0) {
      // The first row in view that is still there; those before it in view are gone.
      for (const id of a.ids) {
        const now = rowIndexOf({ window }, id);
        if (now < 0) continue;
        if (now !== a.first) el.scrollTop = a.scrollTop + (now - a.first) * ROW_HEIGHT;
        break;
      }
    }
    remember();
  }, [window, filters, remember]);

  const state = { window };
  return (
    <section className="column column-claimable" data-testid="claimable">
      <div className="column-head">
        <h2>
          {t('work.claimable')}{' '}
          <span className="count" data-testid="claimable-count">
            {total ?? '…'}
          </span>
        </h2>
      </div>
      {workload && atLimit(workload, null) && !lookOnly && (
        <p className="limit-note" data-testid="at-limit">
          {t('work.atLimit', { active: workload.active, limit: workload.limit })}
        </p>
      )}
      {total === 0 && (
        <p className="empty" data-testid="claimable-empty">
          {filtered ? t('work.emptyFiltered') : t('work.emptyClaimable')}
        </p>
      )}
      <div className="scroll" ref={scroller} data-testid="claimable-scroll" onScroll={remember}>
        <div className="virtual" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((row) => {
            const task = rowAt(state, row.index);
            return (
              <div key={row.key} className="virtual-row" style={{ transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}>
                {task ? (
                  <ClaimRow task={task} lookOnly={lookOnly} blocked={atLimit(workload, task.departmentId)} busy={settling || Boolean(busy[task.id])} />
                ) : (
                  <div className="task task-row task-skeleton">{t('task.loading')}</div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
