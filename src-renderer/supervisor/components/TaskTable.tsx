/**
 * The virtualised task table: a sticky header with sortable columns, and only the rows in view
 * rendered (@tanstack/react-virtual). While the pointer is over the rows, live changes update
 * them in place but do not reorder them (the table store freezes the order).
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { boardState, isOverdue, type TaskSortKey } from '../../../src-shared/domain/board.js';
import type { Locale } from '../../../src-shared/domain/i18n.js';
import type { BoardTask } from '../../../src-shared/protocol/supervisor.js';
import { formatWhen } from '../format.js';
import { useApp, useBoard, useTable, useUi, useView } from '../stores/hooks.js';
import { Empty } from './Empty.js';
import { StateTag } from './StateTag.js';

const ROW_HEIGHT = 34;
const HEADER_HEIGHT = 34;

const COLUMNS: Array<{ sort: TaskSortKey | null; label: string; className: string }> = [
  { sort: 'id', label: 'sv.col.task', className: 'c-id' },
  { sort: 'workOrder', label: 'sv.col.workOrder', className: 'c-wo' },
  { sort: 'step', label: 'sv.col.step', className: 'c-step' },
  { sort: null, label: 'sv.col.content', className: 'c-content' },
  { sort: 'department', label: 'sv.col.department', className: 'c-dept' },
  { sort: 'state', label: 'sv.col.state', className: 'c-state' },
  { sort: 'holder', label: 'sv.col.holder', className: 'c-holder' },
  { sort: 'priority', label: 'sv.col.priority', className: 'c-prio' },
  { sort: 'due', label: 'sv.col.due', className: 'c-due' },
  { sort: 'updated', label: 'sv.col.updated', className: 'c-updated' },
];

interface RowProps {
  id: string;
  task: BoardTask | undefined;
  department: string | undefined;
  selected: boolean;
  top: number;
  index: number;
  now: number;
  tz: string;
  locale: Locale;
  open(id: string): void;
}

/**
 * One row: a pure function of its props (no store subscriptions of its own), so scrolling through
 * 50,000 rows renders only rows, and a live change re-renders only the rows whose task changed.
 */
const Row = memo(function Row({ id, task, department, selected, top, index, now, tz, locale, open }: RowProps) {
  const { t } = useTranslation();
  const style = { transform: `translateY(${top}px)` };
  if (!task) {
    return (
      <div role="row" className="sv-row sv-row-gone" style={style} aria-rowindex={index + 2}>
        <span role="cell" className="c-content sv-muted">
          {t('sv.tasks.gone', { id })}
        </span>
      </div>
    );
  }
  const overdue = isOverdue(task, now);
  return (
    <div
      role="row"
      className={`sv-row${selected ? ' sv-row-selected' : ''}`}
      style={style}
      aria-rowindex={index + 2}
      aria-selected={selected}
      tabIndex={0}
      data-testid={`sv-row-${id}`}
      data-task-id={id}
      data-version={task.version}
      data-state={boardState(task)}
      onClick={() => open(id)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') open(id);
      }}
    >
      <span role="cell" className="c-id">
        {task.id}
      </span>
      <span role="cell" className="c-wo">
        {task.workOrderNumber}
      </span>
      <span role="cell" className="c-step">
        {task.step}
      </span>
      <span role="cell" className="c-content" title={task.workContent}>
        {task.workContent}
      </span>
      <span role="cell" className="c-dept">
        {department ?? task.departmentId ?? '—'}
      </span>
      <span role="cell" className="c-state">
        <StateTag task={task} />
      </span>
      <span role="cell" className="c-holder">
        {task.operatorName ?? '—'}
      </span>
      <span role="cell" className="c-prio">
        {task.priority}
      </span>
      <span role="cell" className={`c-due${overdue ? ' sv-overdue' : ''}`}>
        {task.dueAt === null ? '—' : formatWhen(task.dueAt, now, tz, locale)}
        {overdue && <span className="sv-tag sv-tag-overdue">⚠ {t('sv.flag.overdue')}</span>}
      </span>
      <span role="cell" className="c-updated">
        {formatWhen(task.updatedAt, now, tz, locale)}
      </span>
    </div>
  );
});

export function TaskTable() {
  const { t } = useTranslation();
  const app = useApp();
  const rows = useTable((s) => s.rows);
  const sort = useView((s) => s.sort);
  const selected = useView((s) => s.taskId);
  // The board's maps change in place; `version` says when to read them again.
  useBoard((s) => s.version);
  const { tasks, departments } = app.board.getState();
  const tz = useBoard((s) => s.supervision.timeZone);
  const now = useUi((s) => s.now);
  const locale = useUi((s) => s.locale);
  const open = useCallback((id: string) => app.view.getState().openTask(id), [app]);
  // A table taken away under the pointer (another view, by key or Back) gets no pointer-leave: it
  // must not leave the order frozen for the next one.
  useEffect(() => () => app.table.getState().setFrozen(false), [app]);
  const scroller = useRef<HTMLDivElement>(null);
  // The header scrolls sideways with the rows (it sits in the same scroll box, sticky on top), so
  // the rows start HEADER_HEIGHT below the top of the scroll box.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    scrollMargin: HEADER_HEIGHT,
  });
  return (
    <div
      ref={scroller}
      className="sv-grid"
      role="table"
      aria-label={t('sv.tasks.table')}
      aria-rowcount={rows.length + 1}
      data-testid="sv-task-table"
    >
      <div role="rowgroup" className="sv-grid-head">
        <div role="row" className="sv-row sv-row-head">
          {COLUMNS.map((c) => {
            const key = c.sort;
            const on = key !== null && sort.key === key;
            return (
              <span key={c.className} role="columnheader" className={c.className} aria-sort={on ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                {key !== null ? (
                  <button type="button" className="sv-sort" data-testid={`sv-sort-${key}`} onClick={() => app.view.getState().sortBy(key)}>
                    {t(c.label)} {on ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                  </button>
                ) : (
                  t(c.label)
                )}
              </span>
            );
          })}
        </div>
      </div>
      <div
        role="rowgroup"
        className="sv-grid-body"
        data-testid="sv-task-rows"
        onPointerEnter={() => app.table.getState().setFrozen(true)}
        onPointerLeave={() => app.table.getState().setFrozen(false)}
      >
        {rows.length === 0 && <Empty testId="sv-tasks-none">{t('sv.tasks.none')}</Empty>}
        <div className="sv-grid-space" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((v) => {
            const id = rows[v.index]!;
            const task = tasks.get(id);
            return (
              <Row
                key={id}
                id={id}
                task={task}
                department={task?.departmentId ? departments.get(task.departmentId)?.name : undefined}
                selected={selected === id}
                top={v.start - HEADER_HEIGHT}
                index={v.index}
                now={now}
                tz={tz}
                locale={locale}
                open={open}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}
