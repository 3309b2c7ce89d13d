/**
 * ASG-7: the operator picker. Eligible operators first, each with their load against their limit
 * and their performance; for everyone else the reason, worded about them ("Jonas Rossi is not in
 * Cutting", ERR-3), before anything is sent. A refusal after all names the current holder and
 * offers a refresh, which judges the list again for what the task needs now (assign or reassign).
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../../i18n/index.js';
import { formatClock } from '../format.js';
import { useApp, useAssign, useBoard, useUi } from '../stores/hooks.js';
import { Dialog } from './Dialog.js';
import { LoadBar } from './LoadBar.js';

export function AssignDialog() {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const taskId = useAssign((s) => s.taskId);
  const mode = useAssign((s) => s.mode);
  const candidates = useAssign((s) => s.candidates);
  const loading = useAssign((s) => s.loading);
  const loadError = useAssign((s) => s.loadError);
  const error = useAssign((s) => s.error);
  const submitting = useAssign((s) => s.submitting);
  const task = useBoard((s) => (taskId ? s.tasks.get(taskId) : undefined));
  const tz = useBoard((s) => s.supervision.timeZone);
  const locale = useUi((s) => s.locale);
  const [query, setQuery] = useState('');
  const close = () => {
    app.ui.getState().close();
    app.assign.getState().reset();
  };
  const q = query.trim().toLowerCase();
  const shown = (candidates ?? []).filter((c) => !q || c.displayName.toLowerCase().includes(q) || c.userId.toLowerCase().includes(q));
  const refusal = error ? errorText(i18n.t.bind(i18n), error) : null;
  return (
    <Dialog id="sv-assign" title={t(mode === 'reassign' ? 'sv.assign.titleReassign' : 'sv.assign.title')} onClose={close} closeLabel={t('sv.close')} wide>
      {task && (
        <p className="sv-muted" data-testid="sv-assign-task">
          <span className="sv-mono">{task.id}</span> · {task.workOrderNumber} · {task.step} · {task.workContent}
          {task.operatorName && <> · {t('sv.assign.heldBy', { name: task.operatorName })}</>}
        </p>
      )}
      <label className="sv-field">
        <span>{t('sv.assign.search')}</span>
        <input className="sv-input" value={query} data-testid="sv-assign-search" onChange={(e) => setQuery(e.target.value)} data-autofocus />
      </label>
      {refusal && (
        <div className="sv-error" role="alert" data-testid="sv-assign-error" data-code={error!.code}>
          <strong>{refusal.message}</strong>
          <span>{refusal.suggestion}</span>
          {/* Any refusal means the list is out of date (another supervisor, a kiosk): judge it again. */}
          <button type="button" className="sv-btn sv-btn-small" data-testid="sv-assign-refresh" onClick={() => void app.assign.getState().refresh()}>
            {t('sv.assign.refresh')}
          </button>
        </div>
      )}
      {loading && <p className="sv-muted">{t('sv.loading')}</p>}
      {loadError && <p className="sv-error">{errorText(i18n.t.bind(i18n), loadError).message}</p>}
      <ul className="sv-candidates" data-testid="sv-candidates">
        {shown.map((c) => {
          const why = c.error ? errorText(i18n.t.bind(i18n), { code: c.error.code, details: c.error.details }) : null;
          return (
            <li key={c.userId} className={`sv-candidate${c.eligible ? '' : ' sv-candidate-no'}`} data-testid={`sv-candidate-${c.userId}`} data-eligible={c.eligible}>
              <div className="sv-candidate-who">
                <strong>{c.displayName}</strong>
                <span className="sv-muted sv-mono">{c.userId}</span>
                {!c.active && <span className="sv-tag">{t('sv.people.inactive')}</span>}
              </div>
              <LoadBar count={c.activeCount} limit={c.limit} />
              <span className="sv-perf" title={t('sv.people.performance')}>
                ★ {Math.round(c.performance * 100)}%
              </span>
              <div className="sv-candidate-why">
                {c.eligible ? (
                  <>
                    <span className="sv-ok">✓ {t('sv.assign.eligible')}</span>
                    {c.cooldownUntil !== null && (
                      <span className="sv-warn" data-testid={`sv-candidate-cooldown-${c.userId}`}>
                        {t('sv.assign.cooldownOverride', { until: formatClock(c.cooldownUntil, tz, locale) })}
                      </span>
                    )}
                  </>
                ) : (
                  <span className="sv-no" data-testid={`sv-candidate-why-${c.userId}`}>
                    ✕ {why?.message}
                  </span>
                )}
              </div>
              <button
                type="button"
                className="sv-btn sv-btn-small sv-btn-primary"
                disabled={!c.eligible || submitting}
                data-testid={`sv-candidate-pick-${c.userId}`}
                onClick={() => void app.actions.assignTo(c.userId)}
              >
                {t(mode === 'reassign' ? 'sv.action.reassign' : 'sv.action.assign')}
              </button>
            </li>
          );
        })}
        {candidates && shown.length === 0 && <li className="sv-muted">{t('sv.assign.nobody')}</li>}
      </ul>
    </Dialog>
  );
}
