/**
 * An offline action the server refused (usually: someone else got the task first). It names who
 * holds the task now, gives the server's suggestion, and stays until the operator acknowledges it.
 */
import { useTranslation } from 'react-i18next';
import { fromErrorData } from '../../src-shared/domain/errors.js';
import { errorText } from '../i18n/index.js';
import { useConflicts, useStores } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';

export function ConflictDialog() {
  const { t, i18n } = useTranslation();
  const stores = useStores();
  const conflict = useConflicts((s) => s.list[0] ?? null);
  const more = useConflicts((s) => Math.max(0, s.list.length - 1));
  const acknowledging = useConflicts((s) => s.acknowledging);
  const ackError = useConflicts((s) => s.error);
  if (!conflict) return null;
  const text = errorText(i18n.t.bind(i18n), fromErrorData(conflict.error));
  const owner = conflict.currentOwner;
  return (
    <div className="overlay" role="alertdialog" aria-modal="true" data-testid="conflict-dialog" data-conflict-id={conflict.id}>
      <div className="dialog dialog-conflict">
        <h2>{t('conflict.title')}</h2>
        <p className="conflict-headline" data-testid="conflict-message">
          {owner
            ? t('conflict.taken', { task: conflict.taskLabel, owner: owner.name })
            : t('conflict.refused', { operation: t(`op.${conflict.operation}`), task: conflict.taskLabel })}
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
