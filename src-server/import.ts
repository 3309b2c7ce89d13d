/**
 * Work-order import (IMP-1..n): parse and validate CSV or JSON rows of work orders and tasks into
 * the store's `ImportTaskRow`s, collecting an error per bad field of every bad row instead of
 * stopping at the first. Nothing here touches the store except `runImport`, which applies a fully
 * valid import all-or-nothing and reports the store's own per-row refusals with the same row numbers.
 * Used by the HTTP API (POST /api/tasks/import) and the admin CLI (import-tasks FILE.csv).
 *
 * Row numbers are the ones the user sees: for CSV, the line of the file on which the record starts
 * (the header is line 1, so the first data row is row 2); for JSON, the 1-based position in the array.
 */
import { parse as csvParser, type CsvError } from 'csv-parse';
import { importRowError, type ImportProblem, type ImportProblemKey } from '../src-shared/domain/import-problems.js';
import { isWellFormedText } from '../src-shared/domain/text.js';
import { Slicer } from './slices.js';
import { ID_MAX, idSchema } from '../src-shared/protocol/terminal.js';
import type { ImportResult, ImportRowError, ImportTaskRow, ServerStore } from './store/types.js';

/** The columns of an import, in the order the template uses. */
export const IMPORT_COLUMNS = [
  'taskId',
  'workOrderNumber',
  'workOrderTitle',
  'step',
  'workContent',
  'departmentId',
  'status',
  'priority',
  'dueAt',
  'requiredSkills',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export const REQUIRED_COLUMNS: readonly ImportColumn[] = ['taskId', 'workOrderNumber', 'step', 'workContent'];
export const IMPORT_STATUSES = ['draft', 'pending', 'cancelled'] as const;
export const MAX_IMPORT_ROWS = 50_000;
export const MAX_WORK_CONTENT = 2000;
export const MAX_TITLE = 200;
export const MAX_STEP = 64;
export const MAX_SKILLS = 50;
export const MAX_SKILL = 64;
export const MAX_PRIORITY = 1_000_000;
/** Errors reported at most per import (a file of garbage should not produce a megabyte of errors). */
export const MAX_REPORTED_ERRORS = 1000;

export interface ParsedImport {
  /** Valid rows, in file order (only meaningful when `errors` is empty). */
  rows: ImportTaskRow[];
  /** The user-visible row number of each entry of `rows`. */
  rowNumbers: number[];
  errors: ImportRowError[];
  /** All errors found; `errors` lists at most MAX_REPORTED_ERRORS of them (absent: as many as listed). */
  errorCount?: number;
  /** The rows with an error, listed or not (absent: those of `errors`). */
  badRows?: number;
}

/** The errors to list (at most MAX_REPORTED_ERRORS), and how many there are in all (IMP-2). */
export function capErrors(errors: readonly ImportRowError[]): { errors: ImportRowError[]; errorCount?: number; badRows?: number } {
  if (errors.length <= MAX_REPORTED_ERRORS) return { errors: [...errors] };
  return { errors: errors.slice(0, MAX_REPORTED_ERRORS), errorCount: errors.length, badRows: new Set(errors.map((e) => e.row)).size };
}

/** "the first 1,000 of 2,345 errors" when some are not listed, else "the 3 errors" (IMP-2). */
export function describeErrorCount(listed: number, total: number): string {
  if (total > listed) return `the first ${listed.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} errors`;
  return `the ${total} error${total === 1 ? '' : 's'}`;
}

/** Header spellings we accept: case, spaces, `_` and `-` do not matter (`task_id`, `Task ID`). */
function canonicalColumn(name: string): ImportColumn | null {
  const key = name.replace(/[\s_-]+/g, '').toLowerCase();
  return IMPORT_COLUMNS.find((c) => c.toLowerCase() === key) ?? null;
}

/** `2026-01-31T17:00[:00[.000]]` with `Z` or an offset; groups: year, month, day, hour, minute, second, fraction, zone. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;

type FieldResult<T> = { ok: true; value: T } | { ok: false; problem: ImportProblem };
const good = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const bad = <T>(key: ImportProblemKey, params: ImportProblem['params'] = {}): FieldResult<T> => ({ ok: false, problem: { key, params } });

/** The CSV parser's refusals that have words of their own in every language (`csv_invalid.<reason>`); others show the parser's text. */
const CSV_REASONS: Partial<Record<string, string>> = {
  INVALID_OPENING_QUOTE: 'opening_quote',
  CSV_INVALID_OPENING_QUOTE: 'opening_quote',
  CSV_INVALID_CLOSING_QUOTE: 'closing_quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'closing_quote',
  CSV_MAX_RECORD_SIZE: 'record_size',
};

/** The CSV parser's refusal `err` of `row`: its own words where the catalog has them, else the parser's text. */
function csvRowError(row: number, err: Partial<CsvError>): ImportRowError {
  const reason = err.code ? CSV_REASONS[err.code] : undefined;
  return importRowError(row, 'csv', 'csv_invalid', { detail: err.message ?? '', ...(reason ? { reason } : {}) });
}

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function idField(v: unknown, what: string): FieldResult<string> {
  if (isBlank(v)) return bad('required', { what });
  if (typeof v !== 'string') return bad('not_text', { what });
  const r = idSchema.safeParse(v.trim());
  if (r.success) return good(r.data);
  const reason = v.trim().length > ID_MAX ? 'too_long' : 'pattern';
  return bad('id_invalid', { what, value: v.trim().slice(0, 80), detail: r.error.issues[0]?.message ?? 'is invalid', reason, max: ID_MAX });
}

function textField(v: unknown, what: string, max: number, required: boolean): FieldResult<string> {
  if (isBlank(v)) return required ? bad('required', { what }) : good('');
  if (typeof v !== 'string') return bad('not_text', { what });
  if (v.length > max) return bad('too_long', { what, max, length: v.length });
  if (!isWellFormedText(v)) return bad('ill_formed', { what });
  return good(v);
}

function departmentField(v: unknown): FieldResult<string | null> {
  if (isBlank(v)) return good(null);
  return idField(v, 'departmentId');
}

function statusField(v: unknown): FieldResult<ImportTaskRow['status']> {
  if (isBlank(v)) return good('pending');
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  return (IMPORT_STATUSES as readonly unknown[]).includes(s)
    ? good(s as ImportTaskRow['status'])
    : bad('status_invalid', { statuses: IMPORT_STATUSES.join(', '), value: String(v).slice(0, 40) });
}

function priorityField(v: unknown): FieldResult<number> {
  if (isBlank(v)) return good(0);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n)) return bad('priority_not_whole', { value: String(v).slice(0, 40) });
  if (Math.abs(n) > MAX_PRIORITY) return bad('priority_range', { max: MAX_PRIORITY });
  return good(n);
}

/** Epoch milliseconds before this (2000-01-01T00:00:00Z) are a date in another form (`20260131`), not a due time. */
export const MIN_EPOCH_MS_DUE = Date.UTC(2000, 0, 1);

/**
 * An ISO 8601 date-time whose parts are a real calendar date and clock time: Date.parse rolls
 * 2026-02-30 over to 2026-03-02 and 24:00 to the next day, so the parts must read back the same.
 * Else what is wrong with it (`reason`, a variant of the `due_not_real` problem, and its values).
 */
function isoProblem(s: string): { ms: number } | { problem: Record<string, string | number> } {
  const m = ISO_DATE_TIME.exec(s);
  if (!m) return { problem: {} };
  const [, y, mo, d, h, mi, sec = '00', , zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(sec);
  if (month < 1 || month > 12) return { problem: { reason: 'month', month: mo! } };
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) return { problem: { reason: 'day', day: d!, yearMonth: `${y}-${mo}`, days } };
  if (hour > 23 || minute > 59 || second > 59) return { problem: { reason: 'time', time: `${h}:${mi}:${sec}` } };
  if (zone !== 'Z') {
    const z = /^[+-](\d{2}):?(\d{2})$/.exec(zone!)!;
    if (Number(z[1]) > 23 || Number(z[2]) > 59) return { problem: { reason: 'offset', offset: zone! } };
  }
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) return { problem: {} };
  return { ms };
}

function dueAtField(v: unknown): FieldResult<number | null> {
  if (isBlank(v)) return good(null);
  const shown = String(v).slice(0, 40);
  let ms = NaN;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (/^\d+$/.test(s)) ms = Number(s);
    else if (ISO_DATE_TIME.test(s)) {
      const r = isoProblem(s);
      if ('problem' in r) return bad('due_not_real', { value: shown, ...r.problem });
      ms = r.ms;
    }
  }
  if (!Number.isInteger(ms) || ms < 0 || ms > 8.64e15) return bad('due_form', { value: shown });
  // An ERP's 20260131 is a date, not 5.6 hours after 1970: epoch milliseconds this small are refused.
  if (ms < MIN_EPOCH_MS_DUE) return bad('due_before_2000', { value: shown, iso: new Date(ms).toISOString() });
  return good(ms);
}

function skillsField(v: unknown): FieldResult<string[]> {
  if (isBlank(v)) return good([]);
  let list: unknown[];
  if (typeof v === 'string') list = v.split(';');
  else if (Array.isArray(v)) list = v;
  else return bad('skills_list');
  const skills: string[] = [];
  for (const s of list) {
    if (typeof s !== 'string') return bad('skills_text');
    const t = s.trim();
    if (t === '') continue;
    if (t.length > MAX_SKILL) return bad('skill_too_long', { max: MAX_SKILL });
    if (!isWellFormedText(t)) return bad('ill_formed', { what: 'requiredSkills' });
    if (!skills.includes(t)) skills.push(t);
  }
  if (skills.length > MAX_SKILLS) return bad('skills_too_many', { max: MAX_SKILLS });
  return good(skills);
}

/**
 * Validate one row given as field → raw value (strings from CSV; strings, numbers, arrays or null
 * from JSON). Returns the row, or one error per bad field.
 */
export function validateImportRow(raw: Readonly<Record<string, unknown>>, row: number): { row: ImportTaskRow | null; errors: ImportRowError[] } {
  const errors: ImportRowError[] = [];
  const take = <T>(field: ImportColumn, r: FieldResult<T>, fallback: T): T => {
    if (r.ok) return r.value;
    errors.push(importRowError(row, field, r.problem.key, r.problem.params));
    return fallback;
  };
  const value: ImportTaskRow = {
    taskId: take('taskId', idField(raw.taskId, 'taskId'), ''),
    // The work order number is also its id, so it must be a valid id too.
    workOrderNumber: take('workOrderNumber', idField(raw.workOrderNumber, 'workOrderNumber'), ''),
    workOrderTitle: take('workOrderTitle', textField(raw.workOrderTitle, 'workOrderTitle', MAX_TITLE, false), ''),
    step: take('step', textField(typeof raw.step === 'string' ? raw.step.trim() : raw.step, 'step', MAX_STEP, true), ''),
    workContent: take('workContent', textField(raw.workContent, 'workContent', MAX_WORK_CONTENT, true), ''),
    departmentId: take('departmentId', departmentField(raw.departmentId), null),
    status: take('status', statusField(raw.status), 'pending'),
    priority: take('priority', priorityField(raw.priority), 0),
    dueAt: take('dueAt', dueAtField(raw.dueAt), null),
    requiredSkills: take('requiredSkills', skillsField(raw.requiredSkills), []),
  };
  return { row: errors.length === 0 ? value : null, errors };
}

/** Shared tail of both parsers: row checks, duplicate task ids, the row limit. In slices (SEC-9). */
async function collect(records: ReadonlyArray<{ row: number; raw: Record<string, unknown> }>, errors: ImportRowError[], slicer: Slicer): Promise<ParsedImport> {
  const out: ParsedImport = { rows: [], rowNumbers: [], errors };
  if (records.length > MAX_IMPORT_ROWS) {
    errors.push(importRowError(records[MAX_IMPORT_ROWS]!.row, 'rows', 'too_many_rows', { max: MAX_IMPORT_ROWS }));
    return out;
  }
  const firstRowOf = new Map<string, number>();
  for (const { row, raw } of records) {
    const pause = slicer.due();
    if (pause) await pause;
    const v = validateImportRow(raw, row);
    errors.push(...v.errors);
    // Duplicates by the id as written, so a second row is reported even when the first is bad
    // for another reason (IMP-2: fix the file in one pass).
    const id = typeof raw.taskId === 'string' ? raw.taskId.trim() : typeof raw.taskId === 'number' ? String(raw.taskId) : '';
    const first = id === '' ? undefined : firstRowOf.get(id);
    if (first !== undefined) {
      errors.push(importRowError(row, 'taskId', 'task_twice', { taskId: id.slice(0, 80), first }));
      continue;
    }
    if (id !== '') firstRowOf.set(id, row);
    if (!v.row) continue;
    out.rows.push(v.row);
    out.rowNumbers.push(row);
  }
  if (records.length === 0 && errors.length === 0) errors.push(importRowError(1, 'rows', 'no_rows'));
  Object.assign(out, capErrors(errors));
  return out;
}

/** Characters of CSV fed to the parser between two looks at the slice's budget. */
const CSV_CHUNK = 16 * 1024;

/**
 * Parse a CSV import: a header row naming the columns (any order; `taskId`, `workOrderNumber`,
 * `step` and `workContent` are required), then one task per row. `requiredSkills` are separated
 * by `;`. Quoted fields may hold commas, quotes ("") and line breaks. Parsed in slices (SEC-9), so
 * a 50,000-row file never holds the event loop.
 */
export async function parseImportCsv(text: string): Promise<ParsedImport> {
  const errors: ImportRowError[] = [];
  const records: Array<{ fields: string[]; line: number }> = [];
  const slicer = new Slicer();
  // One line-break convention, so line numbers are counted the way an editor shows them.
  const normalized = text.replace(/\r\n?/g, '\n');
  const lines = normalized.split('\n');
  // The line the last record (read or skipped) ended on: a record the parser refuses starts at the
  // next line that is not blank, not where the parser noticed (an unclosed quote is noticed only
  // at the end of the file).
  let lastEnd = 0;
  const startAfter = (end: number, noticed: number): number => {
    let line = end + 1;
    while (line < noticed && lines[line - 1] === '') line++;
    return Math.min(line, noticed);
  };
  try {
    const parser = csvParser({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        if (err) {
          const noticed = typeof err.lines === 'number' ? err.lines : 1;
          const row = startAfter(lastEnd, noticed);
          errors.push(
            err.code === 'CSV_QUOTE_NOT_CLOSED'
              ? importRowError(row, 'csv', 'csv_quote')
              : csvRowError(row, err),
          );
          lastEnd = Math.max(lastEnd, noticed);
        }
        return undefined;
      },
      on_record: (fields: string[], info: { lines: number }) => {
        // `lines` is the line the record ends on; a quoted field may span several.
        const inner = fields.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
        records.push({ fields, line: info.lines - inner });
        lastEnd = Math.max(lastEnd, info.lines);
        return null;
      },
    });
    const done = new Promise<void>((resolve, reject) => {
      parser.on('end', resolve);
      parser.on('error', reject);
    });
    done.catch(() => undefined); // awaited below; an error while writing ends the wait for 'drain'
    parser.resume();
    for (let at = 0; at < normalized.length; at += CSV_CHUNK) {
      // A chunk written while the parser is still busy is buffered and parsed later with all the
      // others, in one go: wait for it to drain, so each turn parses only what its budget allows.
      if (!parser.write(normalized.slice(at, at + CSV_CHUNK))) await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), done]);
      const pause = slicer.due();
      if (pause) await pause;
    }
    parser.end();
    await done;
  } catch (err) {
    const e = err as Partial<CsvError>;
    const row = typeof e.lines === 'number' ? e.lines : 1;
    errors.push(e.message ? csvRowError(row, e) : importRowError(row, 'csv', 'csv_unreadable'));
    return { rows: [], rowNumbers: [], errors };
  }
  const header = records.shift();
  if (!header) {
    if (errors.length === 0) errors.push(importRowError(1, 'csv', 'csv_empty'));
    return { rows: [], rowNumbers: [], errors };
  }
  const columns: Array<ImportColumn | null> = header.fields.map((name) => canonicalColumn(name));
  header.fields.forEach((name, i) => {
    if (columns[i] === null) {
      errors.push(importRowError(header.line, name.slice(0, 64) || `column ${i + 1}`, 'unknown_column', { columns: IMPORT_COLUMNS.join(', ') }));
    } else if (columns.indexOf(columns[i]!) !== i) {
      const first = header.fields[columns.indexOf(columns[i]!)]!;
      errors.push(importRowError(header.line, columns[i]!, 'column_twice', { first: first.slice(0, 64), second: name.slice(0, 64) }));
    }
  });
  for (const required of REQUIRED_COLUMNS) {
    if (!columns.includes(required)) errors.push(importRowError(header.line, required, 'column_missing'));
  }
  if (errors.some((e) => e.row === header.line)) return { rows: [], rowNumbers: [], errors };

  const rows: Array<{ row: number; raw: Record<string, unknown> }> = [];
  for (const r of records) {
    const pause = slicer.due();
    if (pause) await pause;
    if (r.fields.length !== columns.length) {
      errors.push(importRowError(r.line, 'csv', 'field_count', { count: r.fields.length, columns: columns.length }));
      continue;
    }
    const raw: Record<string, unknown> = {};
    columns.forEach((c, i) => (raw[c!] = r.fields[i]));
    rows.push({ row: r.line, raw });
  }
  return collect(rows, errors, slicer);
}

/**
 * Parse a JSON import: `{ "rows": [ ... ] }` or a bare array of row objects with the CSV's column
 * names as keys. `priority` and `dueAt` may be numbers, `requiredSkills` an array.
 */
export async function parseImportJson(value: unknown): Promise<ParsedImport> {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { rows?: unknown }).rows)
      ? ((value as { rows: unknown[] }).rows)
      : null;
  if (!list) return { rows: [], rowNumbers: [], errors: [importRowError(0, 'rows', 'json_shape')] };
  const errors: ImportRowError[] = [];
  const rows: Array<{ row: number; raw: Record<string, unknown> }> = [];
  list.forEach((item, i) => {
    const row = i + 1;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      errors.push(importRowError(row, 'row', 'row_not_object'));
      return;
    }
    const raw: Record<string, unknown> = {};
    const spelledAs = new Map<ImportColumn, string>();
    for (const [key, v] of Object.entries(item as Record<string, unknown>)) {
      const c = canonicalColumn(key);
      if (c === null) {
        errors.push(importRowError(row, key.slice(0, 64), 'unknown_field', { fields: IMPORT_COLUMNS.join(', ') }));
        continue;
      }
      // `taskId` and `task_id` are one field (as a CSV column named twice is refused): which would win?
      const first = spelledAs.get(c);
      if (first !== undefined) {
        errors.push(importRowError(row, c, 'field_twice', { first: first.slice(0, 64), second: key.slice(0, 64) }));
        continue;
      }
      spelledAs.set(c, key);
      raw[c] = v;
    }
    rows.push({ row, raw });
  });
  return collect(rows, errors, new Slicer());
}

/** Renumber the store's errors (its row = index + 1 in `rows`) to the rows the user sees. */
export function toUserRows(errors: readonly ImportRowError[], rowNumbers: readonly number[]): ImportRowError[] {
  return errors.map((e) => ({ ...e, row: rowNumbers[e.row - 1] ?? e.row }));
}

/**
 * Apply a parsed import (IMP-1): nothing is written unless every row is valid, both here and for
 * the store (departments exist, held or finished tasks are not changed underneath their holder).
 */
export async function runImport(
  store: ServerStore,
  parsed: ParsedImport,
  now: number,
  scope?: { departmentIds: readonly string[] },
): Promise<ImportResult> {
  if (parsed.errors.length > 0) {
    const { errorCount, badRows } = parsed;
    return { ok: false, errors: parsed.errors, ...(errorCount !== undefined ? { errorCount } : {}), ...(badRows !== undefined ? { badRows } : {}) };
  }
  const result = await store.importTasks(parsed.rows, now, scope);
  return result.ok ? result : { ok: false, ...capErrors(toUserRows(result.errors, parsed.rowNumbers)) };
}
