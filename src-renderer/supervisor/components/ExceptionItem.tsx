/**
 * One entry of the exceptions feed (SUP-4): what happened (a claim lost to someone, a stale or
 * refused operation, a rejected task, an expired assignment), who, where, how long it waited
 * offline, and the action that resolves it: reassign or assign, release to the pool, acknowledge.
 */
import { useTranslation } from 'react-i18next';
import type { BoardException } from '../../../src-shared/protocol/supervisor.js';
import { errorText } from '../../i18n/index.js';
import { formatDuration, formatWhen } from '../format.js';
import { errorOf } from '../stores/app.js';
import { useApp, useBoard, useUi } from '../stores/hooks.js';

const ICON: Record<BoardException['kind'], string> = {
  claim_conflict: '⚔',
  claim_stale: '⌛',
  operation_refused: '✕',
  task_rejected: '↩',
  assignment_expired: '◷',
};

export function ExceptionItem({ exception: e }: { exception: BoardException }) {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const task = useBoard((s) => s.tasks.get(e.taskId));
  const terminal = useBoard((s) => (e.terminalId ? s.terminals.get(e.terminalId)?.name : undefined));
  const tz = useBoard((s) => s.supervision.timeZone);
  const locale = useUi((s) => s.locale);
  const now = useUi((s) => s.now);
  const open = e.acknowledgedAt === null;
  const held = task?.operatorId !== null && task?.operatorId !== undefined;
  const user = e.userName ?? e.userId ?? '?';
  // Refusals whose message needs numbers the feed does not keep, or says "you", have their own
  // wording here about the operator; the others read as the operator read them.
  const refusal = !e.errorCode
    ? null
    : i18n.exists(`sv.exception.code.${e.errorCode}`)
      ? { message: t(`sv.exception.code.${e.errorCode}`, { user }) }
      : errorText(i18n.t.bind(i18n), errorOf(e.errorCode, { taskId: e.taskId, currentOwner: e.holderId ? { id: e.holderId, name: e.holderName ?? e.holderId } : undefined }));
  return (
    <li className={`sv-exception${open ? '' : ' sv-exception-done'}`} data-testid={`sv-exception-${e.id}`} data-kind={e.kind} data-open={open}>
      <div className="sv-exception-head">
        <span className={`sv-tag sv-tag-${e.kind}`}>
          <span aria-hidden="true">{ICON[e.kind]}</span> {t(`sv.exception.kind.${e.kind}`)}
        </span>
        <time className="sv-muted">{formatWhen(e.createdAt, now, tz, locale)}</time>
      </div>
      <p className="sv-exception-text">
        {t(`sv.exception.text.${e.kind}`, {
          user,
          holder: e.holderName ?? e.holderId ?? '?',
          task: e.taskId,
          operation: t(`sv.op.${e.operation ?? 'claim'}`),
        })}{' '}
        <button type="button" className="sv-link" onClick={() => app.view.getState().openTask(e.taskId)} data-testid={`sv-exception-task-${e.id}`}>
          {task ? `${task.workOrderNumber} · ${task.step} · ${task.workContent}` : e.taskId}
        </button>
      </p>
      <dl className="sv-facts">
        {terminal && (
          <>
            <dt>{t('sv.exception.terminal')}</dt>
            <dd>{terminal}</dd>
          </>
        )}
        {e.waitedMs !== null && e.waitedMs >= 1000 && (
          <>
            <dt>{t('sv.exception.waited')}</dt>
            <dd data-testid={`sv-exception-waited-${e.id}`}>{formatDuration(e.waitedMs, locale)}</dd>
          </>
        )}
        {e.reason && (
          <>
            <dt>{t('sv.exception.reason')}</dt>
            <dd data-testid={`sv-exception-reason-${e.id}`}>{e.reason}</dd>
          </>
        )}
        {refusal && e.kind !== 'claim_conflict' && (
          <>
            <dt>{t('sv.exception.refusal')}</dt>
            <dd>{refusal.message}</dd>
          </>
        )}
        {!open && (
          <>
            <dt>{t('sv.exception.resolved')}</dt>
            <dd>{t(`sv.exception.resolution.${e.resolution ?? 'acknowledged'}`)}</dd>
          </>
        )}
      </dl>
      {open && (
        <div className="sv-actions">
          {task && task.status !== 'completed' && task.status !== 'cancelled' && (
            <button
              type="button"
              className="sv-btn sv-btn-small sv-btn-primary"
              data-testid={`sv-exception-assign-${e.id}`}
              onClick={() => app.actions.openAssign(e.taskId, held ? 'reassign' : 'assign', e.id)}
            >
              {t(held ? 'sv.action.reassign' : 'sv.action.assign')}
            </button>
          )}
          {held && (
            <button
              type="button"
              className="sv-btn sv-btn-small"
              data-testid={`sv-exception-release-${e.id}`}
              onClick={() => void app.actions.unassign(e.taskId, e.id)}
            >
              {t('sv.action.unassign')}
            </button>
          )}
          <button type="button" className="sv-btn sv-btn-small sv-btn-ghost" data-testid={`sv-exception-ack-${e.id}`} onClick={() => void app.actions.acknowledge(e.id)}>
            {t('sv.action.acknowledge')}
          </button>
        </div>
      )}
    </li>
  );
}
