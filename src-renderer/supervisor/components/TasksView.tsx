/**
 * The task table (SUP-2): filters (department, state, work order, step, operator, overdue /
 * rejected / expired), a search ("/" focuses it), sortable columns, and a virtualised body that
 * stays smooth with 50,000 rows. Filters live in the URL.
 */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { BOARD_STATES, TASK_FLAGS, type TaskFilter } from '../../../src-shared/domain/board.js';
import { useDepartments, useShift } from '../selectors.js';
import { compareNames, formatWhen } from '../format.js';
import { useApp, useBoard, useTable, useUi, useView } from '../stores/hooks.js';
import { TaskTable } from './TaskTable.js';

function Select(props: { label: string; value: string | undefined; testId: string; options: Array<{ value: string; label: string }>; onChange(v: string | undefined): void }) {
  const { t } = useTranslation();
  return (
    <label className="sv-inline">
      <span>{props.label}</span>
      <select className="sv-select" value={props.value ?? ''} data-testid={props.testId} onChange={(e) => props.onChange(e.target.value || undefined)}>
        <option value="">{t('sv.any')}</option>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** While the pointer holds the table's order, how many changes wait to be shown. */
function FrozenNote() {
  const { t } = useTranslation();
  const pending = useTable((s) => s.pending);
  return (
    <p className={`sv-frozen${pending > 0 ? '' : ' sv-frozen-idle'}`} role="status" data-testid="sv-frozen" data-pending={pending}>
      {pending > 0 ? t('sv.tasks.frozen', { count: pending }) : ''}
    </p>
  );
}

export function TasksView() {
  const { t } = useTranslation();
  const app = useApp();
  const filter = useView((s) => s.filter);
  const total = useTable((s) => s.total);
  const all = useBoard((s) => s.tasks.size);
  const departments = useDepartments();
  // The choices of the step and holder filters: read again when the board's contents settle, not
  // on every live page.
  const slow = useBoard((s) => s.slowVersion);
  const board = app.board;
  const steps = useMemo(() => [...new Set([...board.getState().tasks.values()].map((x) => x.step))].sort(), [board, slow]);
  const locale = useUi((s) => s.locale);
  const operators = useMemo(() => [...board.getState().people.values()].sort((a, b) => compareNames(a.displayName, b.displayName, locale)), [board, slow, locale]);
  // SUP-2: "this shift" only while it is this shift; a filter kept from an earlier one says its start.
  const shift = useShift();
  const now = useUi((s) => s.now);
  const tz = useBoard((s) => s.supervision.timeZone);
  const set = (patch: Partial<TaskFilter>) => app.view.getState().setFilter(patch);
  const active = Object.keys(filter).length > 0;
  return (
    <section className="sv-page sv-tasks" aria-labelledby="sv-tasks-title">
      <div className="sv-toolbar">
        <h2 id="sv-tasks-title">
          {t('sv.view.tasks')}{' '}
          <span className="sv-count" data-testid="sv-tasks-count" data-count={total}>
            {t('sv.tasks.count', { shown: total, all })}
          </span>
        </h2>
        <label className="sv-inline sv-search">
          <span className="sv-visually-hidden">{t('sv.tasks.search')}</span>
          <input
            id="sv-search"
            type="search"
            className="sv-input"
            placeholder={t('sv.tasks.searchPlaceholder')}
            value={filter.q ?? ''}
            data-testid="sv-search"
            onChange={(e) => set({ q: e.target.value || undefined })}
          />
        </label>
        <button type="button" className="sv-btn sv-btn-small" disabled={!active} data-testid="sv-filters-clear" onClick={() => app.view.getState().clearFilter()}>
          {t('sv.tasks.clear')}
        </button>
      </div>
      <div className="sv-filters" role="group" aria-label={t('sv.tasks.filters')}>
        <Select
          label={t('sv.col.department')}
          value={filter.departmentId}
          testId="sv-filter-department"
          options={departments.map((d) => ({ value: d.id, label: d.name }))}
          onChange={(v) => set({ departmentId: v })}
        />
        <Select
          label={t('sv.col.state')}
          value={filter.state}
          testId="sv-filter-state"
          options={[{ value: 'open', label: t('sv.state.open') }, ...BOARD_STATES.map((s) => ({ value: s, label: t(`sv.state.${s}`) }))]}
          onChange={(v) => set({ state: v as TaskFilter['state'] })}
        />
        <label className="sv-inline">
          <span>{t('sv.col.workOrder')}</span>
          <input className="sv-input sv-input-short" value={filter.workOrder ?? ''} data-testid="sv-filter-wo" onChange={(e) => set({ workOrder: e.target.value.trim() || undefined })} />
        </label>
        <Select label={t('sv.col.step')} value={filter.step} testId="sv-filter-step" options={steps.map((s) => ({ value: s, label: s }))} onChange={(v) => set({ step: v })} />
        <Select
          label={t('sv.col.holder')}
          value={filter.operatorId}
          testId="sv-filter-operator"
          options={operators.map((p) => ({ value: p.id, label: p.displayName }))}
          onChange={(v) => set({ operatorId: v })}
        />
        <Select
          label={t('sv.tasks.flag')}
          value={filter.flag}
          testId="sv-filter-flag"
          options={TASK_FLAGS.map((f) => ({ value: f, label: t(`sv.flag.${f}`) }))}
          onChange={(v) => set({ flag: v as TaskFilter['flag'] })}
        />
        {filter.completedSince !== undefined && (
          <button type="button" className="sv-chip" data-testid="sv-filter-since" onClick={() => set({ completedSince: undefined })}>
            {filter.completedSince === shift.start
              ? t('sv.tasks.thisShift')
              : t('sv.tasks.completedSince', { since: formatWhen(filter.completedSince, now, tz, locale) })}{' '}
            ✕
          </button>
        )}
      </div>
      <FrozenNote />
      <TaskTable />
    </section>
  );
}
