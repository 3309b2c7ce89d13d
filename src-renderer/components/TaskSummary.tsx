/** What a task is: work order, step, the work itself, priority and due time. */
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { formatDue } from '../format.js';
import { useTerminal } from '../stores/hooks.js';

export function TaskSummary({ task }: { task: TaskView }) {
  const { t } = useTranslation();
  const locale = useTerminal((s) => s.locale);
  return (
    <div className="task-summary">
      <div className="task-meta">
        <span className="task-wo">{task.workOrderNumber}</span>
        <span className="task-step">{task.step}</span>
        {task.priority > 0 && <span className="tag tag-priority">{t('task.priority', { priority: task.priority })}</span>}
        {task.dueAt !== null && <span className="tag">{t('task.due', { time: formatDue(task.dueAt, locale) })}</span>}
      </div>
      <div className="task-content">{task.workContent}</div>
    </div>
  );
}
