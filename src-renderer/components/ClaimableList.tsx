/**
 * The operator's claimable tasks (LIST-1, LIST-2) in one scrolling list that fills its pane,
 * virtualised (@tanstack/react-virtual): only the rows in view are in the page, and the store
 * fetches rows around them from the core. Each row has a large Claim button, disabled with the
 * reason when the operator is at their limit (KIO-4); a supervisor at the kiosk only looks (KIO-1).
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { atLimit, rowAt } from '../stores/tasks.js';
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
      <div className="scroll" ref={scroller} data-testid="claimable-scroll">
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
