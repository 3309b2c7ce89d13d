/**
 * POST /api/tasks/import: work orders and tasks as CSV (`Content-Type: text/csv`) or JSON, all or
 * nothing (IMP-1): every row is checked first and, if any is bad, the answer lists every bad row
 * and nothing is imported. Supervisors import for their own departments, admins for any (IMP-3).
 */
import { DomainError } from '../../../src-shared/domain/errors.js';
import { localizedRowError } from '../../../src-shared/domain/import-problems.js';
import { isAdmin } from '../../auth.js';
import { parseImportCsv, parseImportJson, runImport, type ParsedImport } from '../../import.js';
import { parseImportCsvOnThread } from '../../parse-thread.js';
import { MAX_IMPORT_BYTES, decodeUtf8, parseJson } from '../body.js';
import { errorReply, ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import type { Scope } from '../scope.js';


/** CSV bodies larger than this (about 1,000 rows) are parsed on a thread of their own. */
const PARSE_ON_THREAD_BYTES = 64 * 1024;

function isCsv(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'text/csv' || type === 'application/csv';
}

async function importTasks(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('supervisor');
  const body = await s.body(MAX_IMPORT_BYTES);
  const csv = isCsv(s.header('content-type'));
  let parsed: ParsedImport;
  if (csv) {
    const text = decodeUtf8(body);
    // SEC-9: a large file is parsed on a thread of its own (parse-thread.ts); a small one here.
    parsed = body.length > PARSE_ON_THREAD_BYTES ? await parseImportCsvOnThread(text) : await parseImportCsv(text);
  } else {
    const value = parseJson(body);
    const hasRows = Array.isArray(value) || (value !== null && typeof value === 'object' && Array.isArray((value as { rows?: unknown }).rows));
    if (!hasRows) throw new DomainError('invalid_input', { field: 'rows', problem: 'must be an array of rows (send { "rows": [...] }, a bare array, or text/csv)' });
    parsed = await parseImportJson(value);
  }
  const now = s.ctx.clock.now();
  // IMP-3: a supervisor may only create or change tasks of the departments they supervise.
  const result = await runImport(s.ctx.store, parsed, now, isAdmin(user) ? undefined : { departmentIds: user.departmentIds });
  const format = csv ? 'csv' : 'json';
  if (!result.ok) {
    const errors = [...result.errors].sort((a, b) => a.row - b.row);
    await s.ctx.store.audit(
      { action: 'import', outcome: 'import_rejected', actorId: user.id, terminalId: null, via: 'http', taskId: null, details: { format, errors: result.errorCount ?? errors.length } },
      now,
    );
    const badRows = result.badRows ?? new Set(errors.map((e) => e.row)).size;
    // IMP-2: `errors` lists at most 1,000; `errorCount` says how many there are in all.
    // Each row's problem in the language the request asked for (IMP-2).
    const rowErrors = errors.map((e) => localizedRowError(e, s.locale));
    const error = new DomainError('import_rejected', { badRows, errors: rowErrors, errorCount: result.errorCount ?? errors.length });
    return errorReply(error, s.locale);
  }
  await s.ctx.store.audit(
    {
      action: 'import',
      outcome: 'applied',
      actorId: user.id,
      terminalId: null,
      via: 'http',
      taskId: null,
      details: { format, rows: parsed.rows.length, created: result.created, updated: result.updated, workOrders: result.workOrders },
    },
    now,
  );
  return ok({ ok: true, rows: parsed.rows.length, created: result.created, updated: result.updated, workOrders: result.workOrders });
}

export function importRoutes(router: Router): void {
  router.post('/api/tasks/import', importTasks);
}
