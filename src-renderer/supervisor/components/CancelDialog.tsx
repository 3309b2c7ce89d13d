/** CNL-1: cancel a task, with the reason the record keeps. */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { DomainError } from '../../../src-shared/domain/errors.js';
import { errorText } from '../../i18n/index.js';
import { useApp, useBoard } from '../stores/hooks.js';
import { Dialog } from './Dialog.js';

export function CancelDialog({ taskId }: { taskId: string }) {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const task = useBoard((s) => s.tasks.get(taskId));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<DomainError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(await app.actions.cancel(taskId, reason));
    setBusy(false);
  };
  const refusal = error ? errorText(i18n.t.bind(i18n), error) : null;
  return (
    <Dialog id="sv-cancel" title={t('sv.cancel.title')} onClose={() => app.ui.getState().close()} closeLabel={t('sv.close')}>
      <form onSubmit={(e) => void submit(e)}>
        <p>
          <span className="sv-mono">{taskId}</span> · {task?.workContent}
          {task?.operatorName && <> · {t('sv.assign.heldBy', { name: task.operatorName })}</>}
        </p>
        <label className="sv-field">
          <span>{t('sv.cancel.reason')}</span>
          <textarea className="sv-input" rows={3} maxLength={500} value={reason} data-testid="sv-cancel-reason" onChange={(e) => setReason(e.target.value)} data-autofocus />
        </label>
        {refusal && (
          <div className="sv-error" role="alert" data-testid="sv-cancel-error" data-code={error!.code}>
            <strong>{refusal.message}</strong>
            <span>{refusal.suggestion}</span>
          </div>
        )}
        <div className="sv-actions sv-actions-end">
          <button type="button" className="sv-btn" onClick={() => app.ui.getState().close()}>
            {t('sv.back')}
          </button>
          <button type="submit" className="sv-btn sv-btn-danger" disabled={busy} data-testid="sv-cancel-submit">
            {t('sv.cancel.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
