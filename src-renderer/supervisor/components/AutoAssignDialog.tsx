/**
 * AUTO-1..6: auto-assign a department's pending tasks. Choose the strategy, preview (the server
 * runs the real assignment and rolls it back) to see which task goes to whom and why, then apply;
 * the result is compared with the preview and any difference (the floor changed) is listed.
 */
import { useTranslation } from 'react-i18next';
import { AUTO_ASSIGN_STRATEGIES } from '../../../src-shared/domain/autoassign.js';
import type { ErrorCode } from '../../../src-shared/domain/errors.js';
import { errorText } from '../../i18n/index.js';
import { useDepartments } from '../selectors.js';
import type { AutoResult } from '../stores/autoassign.js';
import { useApp, useAutoAssign, useBoard } from '../stores/hooks.js';
import { Dialog } from './Dialog.js';

function Plan({ result, testId }: { result: AutoResult; testId: string }) {
  const { t } = useTranslation();
  const tasks = useBoard((s) => s.tasks);
  const reasons = (ineligible: Partial<Record<ErrorCode, number>>) =>
    Object.entries(ineligible)
      .map(([code, n]) => t('sv.auto.ineligible', { count: n, why: t(`sv.auto.reason.${code}`, { defaultValue: code }) }))
      .join('; ');
  return (
    <div data-testid={testId} data-assigned={result.assigned.length} data-unassigned={result.unassigned.length}>
      <p>{t('sv.auto.summary', { assigned: result.assigned.length, unassigned: result.unassigned.length })}</p>
      {result.assigned.length > 0 && (
        <table className="sv-table sv-compact">
          <thead>
            <tr>
              <th scope="col">{t('sv.col.task')}</th>
              <th scope="col">{t('sv.col.content')}</th>
              <th scope="col">{t('sv.auto.to')}</th>
              <th scope="col">{t('sv.auto.why')}</th>
            </tr>
          </thead>
          <tbody>
            {result.assigned.map((a) => (
              <tr key={a.taskId} data-testid={`${testId}-${a.taskId}`} data-user={a.userId}>
                <td className="sv-mono">{a.taskId}</td>
                <td>{tasks.get(a.taskId)?.workContent ?? ''}</td>
                <td>{a.userName}</td>
                <td className="sv-muted">
                  {t('sv.auto.because', { count: a.activeCount, limit: a.limit, performance: Math.round(a.performance * 100), eligible: a.eligible })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.unassigned.length > 0 && (
        <ul className="sv-unassigned">
          {result.unassigned.map((u) => (
            <li key={u.taskId} data-testid={`${testId}-none-${u.taskId}`}>
              <span className="sv-mono">{u.taskId}</span> {t('sv.auto.nobody')}
              {Object.keys(u.details.ineligible).length > 0 && <span className="sv-muted"> — {reasons(u.details.ineligible)}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function AutoAssignDialog() {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const departments = useDepartments();
  const s = useAutoAssign((x) => x);
  const store = app.autoAssign.getState();
  const refusal = s.error ? errorText(i18n.t.bind(i18n), s.error) : null;
  return (
    <Dialog id="sv-auto" title={t('sv.auto.title')} onClose={() => app.ui.getState().close()} closeLabel={t('sv.close')} wide>
      <div className="sv-form-row">
        <label className="sv-inline">
          <span>{t('sv.col.department')}</span>
          <select className="sv-select" value={s.departmentId ?? ''} data-testid="sv-auto-department" disabled={s.busy !== null} onChange={(e) => store.configure({ departmentId: e.target.value })}>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label className="sv-inline">
          <span>{t('sv.auto.limit')}</span>
          <input
            className="sv-input sv-input-short"
            type="number"
            min={1}
            max={1000}
            value={s.limit}
            data-testid="sv-auto-limit"
            disabled={s.busy !== null}
            onChange={(e) => store.configure({ limit: Math.max(1, Math.min(1000, Number(e.target.value) || 1)) })}
          />
        </label>
      </div>
      <fieldset className="sv-strategies">
        <legend>{t('sv.auto.strategy')}</legend>
        {AUTO_ASSIGN_STRATEGIES.map((k) => (
          <label key={k} className="sv-radio">
            <input type="radio" name="strategy" value={k} checked={s.strategy === k} data-testid={`sv-auto-strategy-${k}`} disabled={s.busy !== null} onChange={() => store.configure({ strategy: k })} />
            <span>
              <strong>{t(`sv.auto.strategy.${k}`)}</strong> <span className="sv-muted">{t(`sv.auto.strategyHelp.${k}`)}</span>
            </span>
          </label>
        ))}
        {s.strategy === 'hybrid' && (
          <label className="sv-inline">
            <span>{t('sv.auto.weight', { weight: Math.round(s.capacityWeight * 100) })}</span>
            <input type="range" min={0} max={1} step={0.05} value={s.capacityWeight} data-testid="sv-auto-weight" disabled={s.busy !== null} onChange={(e) => store.configure({ capacityWeight: Number(e.target.value) })} />
          </label>
        )}
      </fieldset>
      {refusal && (
        <div className="sv-error" role="alert" data-testid="sv-auto-error">
          <strong>{refusal.message}</strong>
          <span>{refusal.suggestion}</span>
        </div>
      )}
      <div className="sv-actions">
        <button type="button" className="sv-btn" disabled={!s.departmentId || s.busy !== null} data-testid="sv-auto-preview" onClick={() => void store.runPreview()}>
          {t(s.busy === 'preview' ? 'sv.auto.previewing' : 'sv.auto.preview')}
        </button>
        <button
          type="button"
          className="sv-btn sv-btn-primary"
          disabled={!s.preview || s.applied !== null || s.busy !== null || s.preview.assigned.length === 0}
          data-testid="sv-auto-apply"
          onClick={() => void store.apply()}
        >
          {t(s.busy === 'apply' ? 'sv.auto.applying' : 'sv.auto.apply')}
        </button>
      </div>
      {s.preview && !s.applied && (
        <section aria-label={t('sv.auto.previewTitle')}>
          <h3>{t('sv.auto.previewTitle')}</h3>
          <Plan result={s.preview} testId="sv-auto-plan" />
        </section>
      )}
      {s.applied && (
        <section aria-label={t('sv.auto.appliedTitle')}>
          <h3>{t('sv.auto.appliedTitle')}</h3>
          {s.diff.length === 0 ? (
            <p className="sv-ok" data-testid="sv-auto-same">
              ✓ {t('sv.auto.asPreviewed')}
            </p>
          ) : (
            <div className="sv-warn-box" role="status" data-testid="sv-auto-diff" data-count={s.diff.length}>
              <p>{t('sv.auto.changed', { count: s.diff.length })}</p>
              <ul>
                {s.diff.map((d) => (
                  <li key={d.taskId}>
                    <span className="sv-mono">{d.taskId}</span>: {t('sv.auto.diffLine', { previewed: d.previewed ?? t('sv.auto.noOne'), applied: d.applied ?? t('sv.auto.noOne') })}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <Plan result={s.applied} testId="sv-auto-result" />
        </section>
      )}
    </Dialog>
  );
}
