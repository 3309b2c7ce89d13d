/**
 * KIO-3: the task a scan found, with Claim ready, or why it cannot be claimed (the rules' own
 * answer, in the screen's language), or that it is already the operator's.
 */
import { useTranslation } from 'react-i18next';
import { fromErrorData } from '../../src-shared/domain/errors.js';
import { errorText } from '../i18n/index.js';
import { atLimit } from '../stores/tasks.js';
import { useScan, useSession, useStores, useTasks } from '../stores/hooks.js';
import { TaskSummary } from './TaskSummary.js';

export function ScanPanel() {
  const { t, i18n } = useTranslation();
  const stores = useStores();
  const found = useScan((s) => s.found);
  const workload = useTasks((s) => s.workload);
  const busy = useTasks((s) => s.settling || (found ? Boolean(s.busy[found.task.id]) : false));
  const lookOnly = useSession((s) => s.session?.lookOnly ?? false);
  if (!found) return null;
  const { task } = found;
  const reason = found.reason ? errorText(i18n.t.bind(i18n), fromErrorData(found.reason)) : null;
  const close = () => stores.scan.getState().dismiss();
  return (
    <div className="overlay" role="dialog" aria-modal="true" data-testid="scan-panel" data-task-id={task.id}>
      <div className="dialog dialog-scan">
        <h2>{t('scan.title', { code: task.id })}</h2>
        <div className="scan-task">
          <TaskSummary task={task} showHolder={!found.mine} />
        </div>
        {found.mine ? (
          <p className="scan-state scan-mine" data-testid="scan-mine">
            {t('scan.yours')}
          </p>
        ) : found.claimable ? (
          <p className="scan-state scan-ready">{t('scan.claimReady')}</p>
        ) : (
          <div className="notice notice-error" data-testid="scan-reason" data-code={found.reason?.code}>
            <div className="notice-body">
              <p className="notice-message">{reason?.message ?? t('scan.cannot')}</p>
              {reason && <p className="notice-suggestion">{reason.suggestion}</p>}
            </div>
          </div>
        )}
        <div className="row row-end">
          <button type="button" className="btn btn-ghost btn-large" data-testid="scan-close" onClick={close}>
            {t('scan.close')}
          </button>
          {found.claimable && !found.mine && !lookOnly && (
            <button
              type="button"
              className="btn btn-claim btn-large"
              autoFocus
              disabled={busy || atLimit(workload, task.departmentId)}
              data-testid="scan-claim"
              onClick={() => void stores.scan.getState().claimFound()}
            >
              {t('task.claim')}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
