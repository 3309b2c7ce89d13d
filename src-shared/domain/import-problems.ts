/**
 * IMP-2: what is wrong with a row of a task import, as a key of the message catalogs
 * (`import.<key>` in i18n.ts) with its values, so the overview shows each problem in the
 * supervisor's language, while the CLI and an English API answer read as they always did.
 */
import { formatMessage, type Locale } from './i18n.js';
import type { Task, TaskStatus } from './types.js';

export type ImportProblemKey =
  | 'required'
  | 'not_text'
  | 'id_invalid'
  | 'too_long'
  | 'ill_formed'
  | 'status_invalid'
  | 'priority_not_whole'
  | 'priority_range'
  | 'due_not_real'
  | 'due_form'
  | 'due_before_2000'
  | 'skills_list'
  | 'skills_text'
  | 'skill_too_long'
  | 'skills_too_many'
  | 'too_many_rows'
  | 'task_twice'
  | 'no_rows'
  | 'csv_quote'
  | 'csv_invalid'
  | 'csv_unreadable'
  | 'csv_empty'
  | 'unknown_column'
  | 'column_twice'
  | 'column_missing'
  | 'field_count'
  | 'json_shape'
  | 'row_not_object'
  | 'unknown_field'
  | 'field_twice'
  | 'department_none'
  | 'department_not_supervised'
  | 'department_missing'
  | 'task_other_department'
  | 'task_other_work_order'
  | 'task_finished'
  | 'task_held';

/** A row problem: its catalog key and the values its text names. */
export interface ImportProblem {
  key: ImportProblemKey;
  params: Record<string, string | number>;
}

/** A bad row of an import, its field, and the problem in English (`message`) and as a key. */
export interface ImportRowError {
  row: number;
  field: string;
  message: string;
  /** Absent from errors made before problems had keys; `message` is then the only text. */
  problem?: ImportProblem;
}

/**
 * The text of `problem` in `locale`. A `reason` among its values picks a wording of its own where
 * the catalog has one (`import.<key>.<reason>`), else the key's (formatMessage).
 */
export function importProblemText(problem: ImportProblem, locale: Locale = 'en'): string {
  return formatMessage(`import.${problem.key}`, problem.params, locale);
}

/** A bad row's error: `key` with its values, its message in English. */
export function importRowError(row: number, field: string, key: ImportProblemKey, params: Record<string, string | number> = {}): ImportRowError {
  const problem = { key, params };
  return { row, field, message: importProblemText(problem), problem };
}

/** `error` as an answer in `locale`: the message in that language, without the key. */
export function localizedRowError(error: ImportRowError, locale: Locale): { row: number; field: string; message: string } {
  return { row: error.row, field: error.field, message: error.problem ? importProblemText(error.problem, locale) : error.message };
}

/** IMP-3: the error of a supervisor's row for a department they do not supervise (or for none), or null. */
export function outOfScope(departmentId: string | null, row: number, scope: { departmentIds: readonly string[] } | undefined): ImportRowError | null {
  if (!scope || (departmentId !== null && scope.departmentIds.includes(departmentId))) return null;
  return departmentId === null ? importRowError(row, 'departmentId', 'department_none') : importRowError(row, 'departmentId', 'department_not_supervised', { departmentId });
}

/**
 * IMP-1 IMP-3: what stops an import row from changing the task it names, as the store has that task
 * (`existing`), or null. In order: a task of a department the importer does not supervise (SEC-10:
 * the id is taken, which cannot be hidden; whose department it is, is not said), of another work
 * order, finished, or held and being moved, re-stepped or given another status.
 */
export function changeProblem(
  row: { taskId: string; workOrderNumber: string; departmentId: string | null; status: TaskStatus; step: string },
  rowNo: number,
  existing: Pick<Task, 'departmentId' | 'workOrderId' | 'workOrderNumber' | 'status' | 'step' | 'operatorId' | 'operatorName'>,
  scope: { departmentIds: readonly string[] } | undefined,
): ImportRowError | null {
  if (scope && existing.departmentId && !scope.departmentIds.includes(existing.departmentId)) {
    return importRowError(rowNo, 'taskId', 'task_other_department', { taskId: row.taskId });
  }
  if (existing.workOrderId !== row.workOrderNumber) {
    return importRowError(rowNo, 'taskId', 'task_other_work_order', { taskId: row.taskId, actual: existing.workOrderNumber, given: row.workOrderNumber });
  }
  if (existing.status === 'completed' || (existing.status === 'cancelled' && row.status !== 'cancelled')) {
    return importRowError(rowNo, 'status', 'task_finished', { taskId: row.taskId, status: existing.status, reason: existing.status });
  }
  if (existing.operatorId && (row.departmentId !== existing.departmentId || row.status !== 'pending' || row.step !== existing.step)) {
    return importRowError(rowNo, 'taskId', 'task_held', { taskId: row.taskId, holder: existing.operatorName ?? existing.operatorId });
  }
  return null;
}
