/** The operator's claimable tasks, one page at a time, each with a large Claim button. */
import { useTranslation } from 'react-i18next';
import { useShallow } from 'zustand/react/shallow';
import { useStores, useTasks } from '../stores/hooks.js';
import { TaskSummary } from './TaskSummary.js';

export function ClaimableList() {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  const page = useTasks((s) => s.claimable);
  const busy = useTasks((s) => s.busy);
  const { offset, pageSize } = useTasks(useShallow((s) => ({ offset: s.offset, pageSize: s.pageSize })));
  const total = page?.total ?? 0;
  return (
    <section className="column" data-testid="claimable">
      <div className="column-head">
        <h2>
          {t('work.claimable')} <span className="count" data-testid="claimable-count">{total}</span>
        </h2>
        <button type="button" className="btn btn-small btn-ghost" data-testid="refresh" onClick={() => void tasks.getState().refresh()}>
          {t('work.refresh')}
        </button>
      </div>
      {page && page.items.length === 0 && <p className="empty">{t('work.emptyClaimable')}</p>}
      <ul className="task-list">
        {page?.items.map((task) => (
          <li key={task.id} className="task" data-testid={`claimable-${task.id}`} data-task-id={task.id}>
            <TaskSummary task={task} />
            <button
              type="button"
              className="btn btn-claim"
              disabled={Boolean(busy[task.id])}
              data-testid={`claim-${task.id}`}
              onClick={() => void tasks.getState().run('claim', task.id)}
            >
              {t('task.claim')}
            </button>
          </li>
        ))}
      </ul>
      {total > pageSize && (
        <div className="pager" data-testid="pager">
          <button type="button" className="btn btn-small" disabled={offset === 0} data-testid="page-prev" onClick={() => void tasks.getState().showPage(offset - pageSize)}>
            {t('page.prev')}
          </button>
          <span data-testid="page-range">{t('page.range', { from: offset + 1, to: Math.min(offset + pageSize, total), total })}</span>
          <button
            type="button"
            className="btn btn-small"
            disabled={offset + pageSize >= total}
            data-testid="page-next"
            onClick={() => void tasks.getState().showPage(offset + pageSize)}
          >
            {t('page.next')}
          </button>
        </div>
      )}
    </section>
  );
}
