/**
 * The open task (SUP-3): what it is and who holds it, the actions a supervisor has on it (assign,
 * reassign, release to the pool, cancel), and its history: assignments with reasons, audit events
 * with the terminal or route each came from, and its exceptions.
 */
import { useTranslation } from 'react-i18next';
import { isOverdue } from '../../../src-shared/domain/board.js';
import type { ErrorCode, ErrorDetails } from '../../../src-shared/domain/errors.js';
import { errorText } from '../../i18n/index.js';
import { formatStamp, formatWhen } from '../format.js';
import { exceptionList } from '../selectors.js';
import { useApp, useBoard, useDetail, useUi } from '../stores/hooks.js';
import { ExceptionItem } from './ExceptionItem.js';
import { StateTag } from './StateTag.js';

export function TaskDetail({ taskId }: { taskId: string }) {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const task = useBoard((s) => s.tasks.get(taskId));
  const department = useBoard((s) => (task?.departmentId ? s.departments.get(task.departmentId)?.name : undefined));
  const tz = useBoard((s) => s.supervision.timeZone);
  const history = useDetail((s) => (s.taskId === taskId ? s.history : null));
  const error = useDetail((s) => (s.taskId === taskId ? s.error : null));
  const now = useUi((s) => s.now);
  const locale = useUi((s) => s.locale);
  const close = () => app.view.getState().openTask(null);
  const name = (id: string | null) => (id ? (history?.names[id] ?? app.board.getState().people.get(id)?.displayName ?? id) : '—');
  // SUP-3 SUP-4: its exceptions as the board has them (live: acknowledged here or elsewhere, they
  // show it at once), each with the action that resolves it.
  useBoard((s) => s.version);
  const exceptions = exceptionList(app.board.getState(), { all: true }).filter((e) => e.taskId === taskId);
  const open = task && task.status !== 'completed' && task.status !== 'cancelled';
  const held = Boolean(task?.operatorId);
  return (
    <aside className="sv-drawer" aria-labelledby="sv-detail-title" data-testid="sv-detail">
      <header className="sv-drawer-head">
        <h2 id="sv-detail-title">
          {t('sv.detail.title')} <span className="sv-mono">{taskId}</span>
        </h2>
        <button type="button" className="sv-btn sv-btn-ghost" aria-label={t('sv.close')} data-testid="sv-detail-close" onClick={close}>
          ✕
        </button>
      </header>
      {!task ? (
        <p className="sv-muted sv-pad" data-testid="sv-detail-gone">
          {t('sv.detail.gone')}
        </p>
      ) : (
        <div className="sv-drawer-body">
          <p className="sv-detail-content" data-testid="sv-detail-content">
            {task.workContent}
          </p>
          <dl className="sv-facts sv-facts-grid">
            <dt>{t('sv.col.workOrder')}</dt>
            <dd>{task.workOrderNumber}</dd>
            <dt>{t('sv.col.step')}</dt>
            <dd>{task.step}</dd>
            <dt>{t('sv.col.department')}</dt>
            <dd>{department ?? task.departmentId ?? '—'}</dd>
            <dt>{t('sv.col.state')}</dt>
            <dd data-testid="sv-detail-state">
              <StateTag task={task} />
            </dd>
            <dt>{t('sv.col.holder')}</dt>
            <dd data-testid="sv-detail-holder">{task.operatorName ?? '—'}</dd>
            <dt>{t('sv.col.priority')}</dt>
            <dd>{task.priority}</dd>
            <dt>{t('sv.col.due')}</dt>
            <dd className={isOverdue(task, now) ? 'sv-overdue' : undefined}>
              {task.dueAt === null ? '—' : formatWhen(task.dueAt, now, tz, locale)} {isOverdue(task, now) && `⚠ ${t('sv.flag.overdue')}`}
            </dd>
            {task.requiredSkills.length > 0 && (
              <>
                <dt>{t('sv.detail.skills')}</dt>
                <dd>{task.requiredSkills.join(', ')}</dd>
              </>
            )}
          </dl>
          {open && (
            <div className="sv-actions" role="group" aria-label={t('sv.detail.actions')}>
              <button
                type="button"
                className="sv-btn sv-btn-primary"
                data-testid="sv-detail-assign"
                disabled={task.status === 'draft'}
                onClick={() => app.actions.openAssign(task.id, held ? 'reassign' : 'assign')}
              >
                {t(held ? 'sv.action.reassign' : 'sv.action.assign')}
              </button>
              {held && (
                <button type="button" className="sv-btn" data-testid="sv-detail-unassign" onClick={() => void app.actions.unassign(task.id)}>
                  {t('sv.action.unassign')}
                </button>
              )}
              <button type="button" className="sv-btn sv-btn-danger" data-testid="sv-detail-cancel" onClick={() => app.ui.getState().open({ kind: 'cancel', taskId: task.id })}>
                {t('sv.action.cancel')}
              </button>
            </div>
          )}
          {exceptions.length > 0 && (
            <section aria-labelledby="sv-detail-exceptions-title" data-testid="sv-detail-exceptions">
              <h3 id="sv-detail-exceptions-title">{t('sv.detail.exceptions')}</h3>
              <ul className="sv-exceptions">
                {exceptions.map((e) => (
                  <ExceptionItem key={e.id} exception={e} />
                ))}
              </ul>
            </section>
          )}
          <h3>{t('sv.detail.assignments')}</h3>
          {error && <p className="sv-error">{errorText(i18n.t.bind(i18n), error).message}</p>}
          {history && history.assignments.length === 0 && <p className="sv-muted">{t('sv.detail.noAssignments')}</p>}
          {history && history.assignments.length > 0 && (
            <table className="sv-table sv-compact" data-testid="sv-detail-assignments">
              <thead>
                <tr>
                  <th scope="col">{t('sv.detail.who')}</th>
                  <th scope="col">{t('sv.detail.how')}</th>
                  <th scope="col">{t('sv.col.state')}</th>
                  <th scope="col">{t('sv.detail.when')}</th>
                  <th scope="col">{t('sv.exception.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {[...history.assignments].reverse().map((a) => (
                  <tr key={a.id}>
                    <td>{name(a.userId)}</td>
                    <td>{a.assignedBy === a.userId ? t('sv.detail.claimed') : t('sv.detail.assignedBy', { name: name(a.assignedBy) })}</td>
                    <td>{t(`sv.assignment.${a.status}`)}</td>
                    <td>{formatWhen(a.createdAt, now, tz, locale)}</td>
                    <td>{a.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('sv.detail.history')}</h3>
          {history && (
            <ol className="sv-history" data-testid="sv-detail-history">
              {history.audit.map((e) => (
                <li key={e.id}>
                  <time className="sv-mono">{formatStamp(e.at, tz)}</time>{' '}
                  <strong>{t(`sv.audit.action.${e.action}`, { defaultValue: e.action })}</strong>{' '}
                  {e.outcome === 'applied' ? '✓' : `✕ ${i18n.exists(`error.${e.outcome}`) ? errorText(i18n.t.bind(i18n), { code: e.outcome as ErrorCode, details: (typeof e.details.error === 'object' && e.details.error !== null ? e.details.error : {}) as ErrorDetails }).message : e.outcome}`} · {name(e.actorId)} ·{' '}
                  {e.terminalId ? t('sv.detail.atTerminal', { terminal: history.terminals[e.terminalId] ?? e.terminalId }) : t(`sv.via.${e.via}`)}
                  {typeof e.details.reason === 'string' && <span className="sv-muted"> — “{e.details.reason}”</span>}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </aside>
  );
}
