/**
 * The operator's own tasks with their next steps (KIO-4): a task assigned by a supervisor first asks
 * to be accepted (ACC-1); then start, complete. Release needs a second touch; reject opens the
 * reason dialog. A task the server has not yet confirmed says so ("pending"), then "confirmed"; the
 * task just claimed comes first, highlighted. A supervisor at the kiosk sees every held task of the
 * department instead, with its holder (KIO-1).
 */
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { primaryAction } from '../stores/tasks.js';
import { useSession, useStores, useTasks } from '../stores/hooks.js';
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

function MyTask({ task, highlighted, onReject }: { task: TaskView; highlighted: boolean; onReject: (task: TaskView) => void }) {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  const working = useTasks((s) => s.settling || Boolean(s.busy[task.id]));
  const armed = useTasks((s) => s.armed?.taskId === task.id);
  const next = primaryAction(task);
  const classes = ['task', 'task-mine', task.pending ? 'is-pending' : '', highlighted ? 'is-new' : '', next === 'accept' ? 'is-assigned' : ''];
  return (
    <li className={classes.filter(Boolean).join(' ')} data-testid={`mine-${task.id}`} data-status={task.status} data-highlighted={highlighted || undefined}>
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
        <button
          type="button"
          className={armed ? 'btn btn-armed' : 'btn'}
          disabled={working}
          data-testid={`release-${task.id}`}
          data-armed={armed || undefined}
          onClick={() => void tasks.getState().release(task.id)}
        >
          {armed ? t('task.releaseConfirm') : t('task.release')}
        </button>
        <button type="button" className="btn btn-danger-outline" disabled={working} data-testid={`reject-${task.id}`} onClick={() => onReject(task)}>
          {t('task.reject')}
        </button>
      </div>
    </li>
  );
}

export function MyTasks({ onReject }: { onReject: (task: TaskView) => void }) {
  const { t } = useTranslation();
  const mine = useTasks((s) => s.mine);
  const highlight = useTasks((s) => s.highlight);
  const lookOnly = useSession((s) => s.session?.lookOnly ?? false);
  if (lookOnly) {
    return (
      <section className="column column-mine" data-testid="held">
        <div className="column-head">
          <h2>
            {t('work.heldNow')} <span className="count" data-testid="held-count">{mine.length}</span>
          </h2>
        </div>
        <div className="scroll">
          {mine.length === 0 && <p className="empty">{t('work.emptyHeld')}</p>}
          <ul className="task-list">
            {mine.map((task) => (
              <li key={task.id} className="task task-held" data-testid={`held-${task.id}`}>
                <TaskSummary task={task} showHolder />
              </li>
            ))}
          </ul>
        </div>
      </section>
    );
  }
  // The task just claimed comes first (KIO-4).
  const ordered = highlight ? [...mine.filter((x) => x.id === highlight), ...mine.filter((x) => x.id !== highlight)] : mine;
  return (
    <section className="column column-mine" data-testid="mine">
      <div className="column-head">
        <h2>
          {t('work.mine')} <span className="count" data-testid="mine-count">{mine.length}</span>
        </h2>
      </div>
      <div className="scroll">
        {mine.length === 0 && <p className="empty">{t('work.emptyMine')}</p>}
        <ul className="task-list">
          {ordered.map((task) => (
            <MyTask key={task.id} task={task} highlighted={task.id === highlight} onReject={onReject} />
          ))}
        </ul>
      </div>
    </section>
  );
}
