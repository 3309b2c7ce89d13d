/**
 * SUP-2: per department, the tasks in the pool, held, in progress, completed this shift, overdue,
 * rejected awaiting a decision, and expired; every number opens the task table filtered to exactly
 * the tasks it counts.
 */
import { useTranslation } from 'react-i18next';
import { filterForCount, type DepartmentSummary, type SummaryCount } from '../../../src-shared/domain/board.js';
import { formatClock } from '../format.js';
import { useDepartments, useShift, useSummary } from '../selectors.js';
import { useApp, useBoard, useUi } from '../stores/hooks.js';

const COUNTS: SummaryCount[] = ['pending', 'claimed', 'inProgress', 'completedThisShift', 'overdue', 'rejected', 'expired'];
/** Counts that need a supervisor when above zero. */
const ATTENTION: ReadonlySet<SummaryCount> = new Set(['overdue', 'rejected', 'expired']);

export function FloorSummary() {
  const { t } = useTranslation();
  const app = useApp();
  const { rows, total } = useSummary();
  const departments = useDepartments();
  const shift = useShift();
  const tz = useBoard((s) => s.supervision.timeZone);
  const locale = useUi((s) => s.locale);
  const names = new Map(departments.map((d) => [d.id, d.name]));
  const cell = (row: DepartmentSummary, count: SummaryCount, departmentId: string | undefined) => {
    const n = row[count];
    return (
      <td key={count} className={ATTENTION.has(count) && n > 0 ? 'sv-attention' : undefined}>
        <button
          type="button"
          className="sv-link sv-num"
          data-testid={`sv-sum-${departmentId ?? 'all'}-${count}`}
          aria-label={t('sv.summary.cellLabel', { count: n, what: t(`sv.summary.${count}`), department: departmentId ? names.get(departmentId) : t('sv.summary.all') })}
          onClick={() => app.view.getState().showTasks(filterForCount(departmentId, count, shift.start))}
        >
          {ATTENTION.has(count) && n > 0 && <span aria-hidden="true">⚠ </span>}
          {n}
        </button>
      </td>
    );
  };
  return (
    <section className="sv-card" aria-labelledby="sv-summary-title" data-testid="sv-summary">
      <div className="sv-card-head">
        <h2 id="sv-summary-title">{t('sv.summary.title')}</h2>
        <span className="sv-muted" data-testid="sv-shift">
          {t('sv.summary.shift', { from: formatClock(shift.start, tz, locale), to: formatClock(shift.end, tz, locale), tz })}
        </span>
      </div>
      <table className="sv-table sv-summary">
        <thead>
          <tr>
            <th scope="col">{t('sv.summary.department')}</th>
            {COUNTS.map((c) => (
              <th key={c} scope="col" className="sv-num">
                {t(`sv.summary.${c}`)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.departmentId} data-testid={`sv-sum-row-${r.departmentId}`}>
              <th scope="row">{names.get(r.departmentId) ?? r.departmentId}</th>
              {COUNTS.map((c) => cell(r, c, r.departmentId))}
            </tr>
          ))}
        </tbody>
        {rows.length > 1 && (
          <tfoot>
            <tr>
              <th scope="row">{t('sv.summary.all')}</th>
              {COUNTS.map((c) => cell(total, c, undefined))}
            </tr>
          </tfoot>
        )}
      </table>
    </section>
  );
}
