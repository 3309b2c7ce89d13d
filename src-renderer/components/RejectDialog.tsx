/** Reject a task with a reason (the core requires one and says so if it is missing). */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { useStores, useTasks } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';
import { MAX_REASON_LENGTH } from '../../src-shared/domain/rules.js';

export function RejectDialog({ task, onClose }: { task: TaskView; onClose: () => void }) {
  const { t } = useTranslation();
  const tasks = useStores().tasks;
  const error = useTasks((s) => s.error);
  const working = useTasks((s) => Boolean(s.busy[task.id]));
  const [reason, setReason] = useState('');
  const submit = async () => {
    if (await tasks.getState().reject(task.id, reason)) onClose();
  };
  return (
    <div className="overlay" role="dialog" aria-modal="true" data-testid="reject-dialog">
      <div className="dialog">
        <h2>{t('reject.title', { task: `${task.workOrderNumber} · ${task.step}` })}</h2>
        <label className="field">
          <span className="field-label">{t('reject.reason')}</span>
          <textarea
            className="input textarea"
            rows={3}
            maxLength={MAX_REASON_LENGTH}
            autoFocus
            placeholder={t('reject.placeholder')}
            value={reason}
            data-testid="reject-reason"
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        <ErrorNotice error={error} testId="reject-error" />
        <div className="row row-end">
          <button
            type="button"
            className="btn btn-ghost btn-large"
            data-testid="reject-cancel"
            onClick={() => {
              tasks.getState().clearError();
              onClose();
            }}
          >
            {t('reject.cancel')}
          </button>
          <button type="button" className="btn btn-danger btn-large" disabled={working} data-testid="reject-submit" onClick={() => void submit()}>
            {t('reject.submit')}
          </button>
        </div>
      </div>
    </div>
  );
}
