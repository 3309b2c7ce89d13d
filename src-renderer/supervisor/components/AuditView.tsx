/**
 * SUP-6: the audit trail of the scope: search by task, work order, operator, action, outcome and
 * time range (plant time); fifty events a page; the same search exported as CSV.
 */
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ErrorCode, ErrorDetails } from '../../../src-shared/domain/errors.js';
import { errorText } from '../../i18n/index.js';
import { formatStamp } from '../format.js';
import { useDepartments } from '../selectors.js';
import { AUDIT_PAGE, type AuditFilter } from '../stores/audit.js';
import { useApp, useAudit, useBoard } from '../stores/hooks.js';

const ACTIONS = ['claim', 'accept', 'start', 'complete', 'release', 'reject', 'assign', 'reassign', 'unassign', 'cancel', 'auto_assign', 'expire', 'signIn', 'signOut', 'sign_in', 'readNotifications', 'import', 'exception_acknowledge'];

export function AuditView() {
  const { t, i18n } = useTranslation();
  /** A refusal in words, from its code and the details the event kept (`details.error`); else the code. */
  const outcomeText = (code: string, details: Record<string, unknown>): string => {
    if (!i18n.exists(`error.${code}`)) return code;
    const kept = typeof details.error === 'object' && details.error !== null ? (details.error as ErrorDetails) : null;
    const template: unknown = i18n.getResource(i18n.language, 'translation', `error.${code}`);
    // Without the details its message needs, the code says more than a message full of "?".
    if (!kept && typeof template === 'string' && template.includes('{{')) return code;
    return errorText(i18n.t.bind(i18n), { code: code as ErrorCode, details: kept ?? {} }).message;
  };
  const app = useApp();
  const audit = app.audit.getState();
  const filter = useAudit((s) => s.filter);
  const items = useAudit((s) => s.items);
  const names = useAudit((s) => s.names);
  const total = useAudit((s) => s.total);
  const offset = useAudit((s) => s.offset);
  const loading = useAudit((s) => s.loading);
  const error = useAudit((s) => s.error);
  const tz = useBoard((s) => s.supervision.timeZone);
  const departments = useDepartments();
  const people = app.board.getState().people;
  const text = (key: keyof AuditFilter, label: string) => (
    <label className="sv-inline">
      <span>{label}</span>
      <input className="sv-input sv-input-short" value={filter[key] ?? ''} data-testid={`sv-audit-${key}`} onChange={(e) => audit.setFilter({ [key]: e.target.value || undefined })} />
    </label>
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void audit.search(0);
  };
  return (
    <section className="sv-page" aria-labelledby="sv-audit-title">
      <div className="sv-toolbar">
        <h2 id="sv-audit-title">{t('sv.view.audit')}</h2>
        {total !== null && (
          <span className="sv-count" data-testid="sv-audit-total" data-total={total}>
            {t('sv.audit.total', { count: total })}
          </span>
        )}
      </div>
      <form className="sv-filters" onSubmit={submit} aria-label={t('sv.audit.filters')}>
        <label className="sv-inline">
          <span>{t('sv.col.department')}</span>
          <select className="sv-select" value={filter.departmentId ?? ''} data-testid="sv-audit-departmentId" onChange={(e) => audit.setFilter({ departmentId: e.target.value || undefined })}>
            <option value="">{t('sv.any')}</option>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        {text('taskId', t('sv.col.task'))}
        {text('workOrder', t('sv.col.workOrder'))}
        {text('userId', t('sv.audit.operator'))}
        <label className="sv-inline">
          <span>{t('sv.audit.action')}</span>
          <select className="sv-select" value={filter.action ?? ''} data-testid="sv-audit-action" onChange={(e) => audit.setFilter({ action: e.target.value || undefined })}>
            <option value="">{t('sv.any')}</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {t(`sv.audit.action.${a}`, { defaultValue: a })}
              </option>
            ))}
          </select>
        </label>
        <label className="sv-inline">
          <span>{t('sv.audit.outcome')}</span>
          <select className="sv-select" value={filter.outcome ?? ''} data-testid="sv-audit-outcome" onChange={(e) => audit.setFilter({ outcome: e.target.value || undefined })}>
            <option value="">{t('sv.any')}</option>
            <option value="applied">{t('sv.audit.applied')}</option>
            <option value="refused">{t('sv.audit.refused')}</option>
            <option value="task_conflict">{t('sv.exception.kind.claim_conflict')}</option>
          </select>
        </label>
        <label className="sv-inline">
          <span>{t('sv.audit.from', { tz })}</span>
          <input className="sv-input" type="datetime-local" value={filter.from ?? ''} data-testid="sv-audit-from" onChange={(e) => audit.setFilter({ from: e.target.value || undefined })} />
        </label>
        <label className="sv-inline">
          <span>{t('sv.audit.to', { tz })}</span>
          <input className="sv-input" type="datetime-local" value={filter.to ?? ''} data-testid="sv-audit-to" onChange={(e) => audit.setFilter({ to: e.target.value || undefined })} />
        </label>
        <button type="submit" className="sv-btn sv-btn-primary" data-testid="sv-audit-search" disabled={loading}>
          {t('sv.audit.search')}
        </button>
        <a className="sv-btn" href={audit.csvHref()} download data-testid="sv-audit-csv">
          {t('sv.audit.export')}
        </a>
      </form>
      {error && (
        <div className="sv-error" role="alert" data-testid="sv-audit-error" data-code={error.code}>
          <strong>{errorText(i18n.t.bind(i18n), error).message}</strong>
          <span>{errorText(i18n.t.bind(i18n), error).suggestion}</span>
        </div>
      )}
      {total === null && !loading && <p className="sv-muted">{t('sv.audit.hint')}</p>}
      {items.length > 0 && (
        <div className="sv-scroll">
          <table className="sv-table sv-sticky sv-compact" data-testid="sv-audit-rows">
            <thead>
              <tr>
                <th scope="col">{t('sv.detail.when')}</th>
                <th scope="col">{t('sv.audit.action')}</th>
                <th scope="col">{t('sv.audit.outcome')}</th>
                <th scope="col">{t('sv.audit.who')}</th>
                <th scope="col">{t('sv.audit.where')}</th>
                <th scope="col">{t('sv.col.task')}</th>
                <th scope="col">{t('sv.audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} data-testid={`sv-audit-row-${e.id}`} data-action={e.action} data-outcome={e.outcome}>
                  <td className="sv-mono">{formatStamp(e.at, tz)}</td>
                  <td>{t(`sv.audit.action.${e.action}`, { defaultValue: e.action })}</td>
                  <td title={e.outcome}>{e.outcome === 'applied' ? `✓ ${t('sv.audit.applied')}` : `✕ ${outcomeText(e.outcome, e.details)}`}</td>
                  <td>{e.actorId ? (names[e.actorId] ?? people.get(e.actorId)?.displayName ?? e.actorId) : t('sv.via.system')}</td>
                  <td>{e.terminalId ? (app.board.getState().terminals.get(e.terminalId)?.name ?? e.terminalId) : t(`sv.via.${e.via}`)}</td>
                  <td className="sv-mono">
                    {e.taskId && (
                      <button type="button" className="sv-link" onClick={() => app.view.getState().openTask(e.taskId)}>
                        {e.taskId}
                      </button>
                    )}
                  </td>
                  <td className="sv-muted sv-small sv-details">{JSON.stringify(e.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total !== null && total > AUDIT_PAGE && (
        <div className="sv-pager">
          <button type="button" className="sv-btn sv-btn-small" disabled={offset === 0 || loading} data-testid="sv-audit-prev" onClick={() => void audit.page(Math.max(0, offset - AUDIT_PAGE))}>
            {t('page.prev')}
          </button>
          <span>{t('page.range', { from: offset + 1, to: Math.min(offset + AUDIT_PAGE, total), total })}</span>
          <button type="button" className="sv-btn sv-btn-small" disabled={offset + AUDIT_PAGE >= total || loading} data-testid="sv-audit-next" onClick={() => void audit.page(offset + AUDIT_PAGE)}>
            {t('page.next')}
          </button>
        </div>
      )}
    </section>
  );
}
