/**
 * What a task is: its id, work order and step, the work itself, priority, due time (an overdue one
 * marked by a word and an icon, not colour alone, KIO-8), who assigned it (ACC-1) and its last
 * rejection (KIO-7).
 */
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { formatDue } from '../format.js';
import { useTerminal } from '../stores/hooks.js';

export function OverdueMark() {
  const { t } = useTranslation();
  return (
    <span className="tag tag-overdue">
      <svg className="icon" viewBox="0 0 20 20" aria-hidden="true">
        <circle cx="10" cy="10" r="8" fill="none" stroke="currentColor" strokeWidth="2.5" />
        <path d="M10 5v6l4 2" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
      </svg>
      {t('task.overdue')}
    </span>
  );
}

export function TaskSummary({ task, showHolder = false }: { task: TaskView; showHolder?: boolean }) {
  const { t } = useTranslation();
  const locale = useTerminal((s) => s.locale);
  const a = task.assignment;
  const assignedBySomeoneElse = a !== null && a.assignedBy !== task.operatorId;
  return (
    <div className="task-summary">
      <div className="task-meta">
        <span className="task-id" data-testid={`task-id-${task.id}`}>
          {task.id}
        </span>
        <span className="task-wo">{task.workOrderNumber}</span>
        <span className="task-step">{task.step}</span>
        {task.priority > 0 && <span className="tag tag-priority">{t('task.priority', { priority: task.priority })}</span>}
        {task.overdue && <OverdueMark />}
        {task.dueAt !== null && <span className="tag">{t('task.due', { time: formatDue(task.dueAt, locale) })}</span>}
      </div>
      <div className="task-content">{task.workContent}</div>
      {showHolder && task.operatorName && <div className="task-note">{t('task.heldBy', { name: task.operatorName })}</div>}
      {assignedBySomeoneElse && (
        <div className={a.status === 'assigned' ? 'task-note task-assigned' : 'task-note'} data-testid={`assigned-by-${task.id}`}>
          {t(showHolder ? 'task.assignedByOther' : a.status === 'assigned' ? 'task.assignedBy' : 'task.assignedAccepted', { name: a.assignedByName ?? a.assignedBy })}
        </div>
      )}
      {task.lastRejection && (
        <div className="task-note task-rejection" data-testid={`last-rejection-${task.id}`}>
          {t('task.lastRejection', { name: task.lastRejection.userName, time: formatDue(task.lastRejection.at, locale), reason: task.lastRejection.reason })}
        </div>
      )}
    </div>
  );
}
