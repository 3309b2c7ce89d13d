/**
 * The operator's own tasks with their next steps. A task with a change the server has not yet
 * confirmed says so ("pending — waiting for the server"); once confirmed it says "confirmed".
 */
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { primaryAction } from '../stores/tasks.js';
import { useStores, useTasks } from '../stores/hooks.js';
import { TaskSummary } from './TaskSummary.js';

function SyncMark({ task }: { task: TaskView }) {
  const { t } = useTranslation();
  return task.pending ? (
    <span className="mark mark-pending" data-testid={`pending-${task.id}`}>
      {t('task.pending')}
    </span>
  ) : (
    <span className="mark mark-confirmed" data-testid={`confirmed-${task.id}`}>
      ✓ {t('task.confirmed')}
    </span>
  );
}

export function MyTasks({ onReject }: { onReject: (task: TaskView) => void }) {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  const mine = useTasks((s) => s.mine);
  const busy = useTasks((s) => s.busy);
  return (
    <section className="column column-mine" data-testid="mine">
      <div className="column-head">
        <h2>
          {t('work.mine')} <span className="count" data-testid="mine-count">{mine.length}</span>
        </h2>
      </div>
      {mine.length === 0 && <p className="empty">{t('work.emptyMine')}</p>}
      <ul className="task-list">
        {mine.map((task) => {
          const next = primaryAction(task);
          const working = Boolean(busy[task.id]);
          return (
            <li key={task.id} className={task.pending ? 'task task-mine is-pending' : 'task task-mine'} data-testid={`mine-${task.id}`} data-status={task.status}>
              <div className="task-mine-head">
                <span className={`tag tag-status tag-${task.status}`}>{t(`task.status.${task.status}`)}</span>
                <SyncMark task={task} />
              </div>
              <TaskSummary task={task} />
              <div className="row task-actions">
                {next && (
                  <button type="button" className="btn btn-primary" disabled={working} data-testid={`${next}-${task.id}`} onClick={() => void tasks.getState().run(next, task.id)}>
                    {t(`task.${next}`)}
                  </button>
                )}
                <button type="button" className="btn" disabled={working} data-testid={`release-${task.id}`} onClick={() => void tasks.getState().run('release', task.id)}>
                  {t('task.release')}
                </button>
                <button type="button" className="btn btn-danger-outline" disabled={working} data-testid={`reject-${task.id}`} onClick={() => onReject(task)}>
                  {t('task.reject')}
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
