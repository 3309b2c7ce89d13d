/**
 * An action the server refused (KIO-5, OFF-4): it says truthfully what happened: refused after
 * waiting offline, or refused while online; a conflict (naming who holds the task) only when
 * someone else does. It gives the server's suggestion and stays until the operator acknowledges it.
 */
import { useTranslation } from 'react-i18next';
import { fromErrorData } from '../../src-shared/domain/errors.js';
import { errorText } from '../i18n/index.js';
import { conflictTasks } from '../stores/conflicts.js';
import { useConflicts, useStores } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';

export function ConflictDialog() {
  const { t, i18n } = useTranslation();
  const stores = useStores();
  const conflict = useConflicts((s) => s.list[0] ?? null);
  // One dialog per task (the store acknowledges a task's records together).
  const more = useConflicts((s) => Math.max(0, conflictTasks(s) - 1));
  const acknowledging = useConflicts((s) => s.acknowledging || s.settling);
  const ackError = useConflicts((s) => s.error);
  if (!conflict) return null;
  const text = errorText(i18n.t.bind(i18n), fromErrorData(conflict.error));
  const owner = conflict.currentOwner;
  const params = { task: conflict.taskLabel, owner: owner?.name, operation: t(`op.${conflict.operation}`) };
  const title = conflict.offline ? 'conflict.offlineTitle' : owner ? 'conflict.takenTitle' : 'conflict.refusedTitle';
  const headline = conflict.offline
    ? owner
      ? 'conflict.offlineTaken'
      : 'conflict.offlineRefused'
    : owner
      ? 'conflict.onlineTaken'
      : 'conflict.onlineRefused';
  return (
    <div
      className="overlay"
      role="alertdialog"
      aria-modal="true"
      data-testid="conflict-dialog"
      data-conflict-id={conflict.id}
      data-kind={`${conflict.offline ? 'offline' : 'online'}-${owner ? 'taken' : 'refused'}`}
    >
      <div className={owner ? 'dialog dialog-conflict' : 'dialog dialog-refused'}>
        <h2 data-testid="conflict-title">{t(title)}</h2>
        <p className="conflict-headline" data-testid="conflict-message">
          {t(headline, params)}
        </p>
        {!owner && <p className="conflict-detail">{text.message}</p>}
        <p className="conflict-suggestion" data-testid="conflict-suggestion">
          {text.suggestion}
        </p>
        {more > 0 && <p className="muted">{t('conflict.more', { count: more })}</p>}
        <ErrorNotice error={ackError} testId="conflict-error" />
        <div className="row row-end">
          <button
            type="button"
            className="btn btn-primary btn-large"
            disabled={acknowledging}
            autoFocus
            data-testid="conflict-ack"
            onClick={() => void stores.acknowledgeConflict(conflict.id)}
          >
            {text.action}
          </button>
        </div>
      </div>
    </div>
  );
}
