/**
 * Routes the supervisors' overview needs besides the task operations: the operator picker for an
 * assign (ASG-7), the exceptions feed and its acknowledgement (SUP-4), the audit trail with CSV
 * export (SUP-6) and the overview's settings (SUP-2). Supervisors see their own departments,
 * admins all; operators none of it. Roles come from the store, never from the request.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { stringify } from 'csv-stringify/sync';
import { DomainError, fromErrorData } from '../../../src-shared/domain/errors.js';
import { supervisionSettingsSchema } from '../../../src-shared/domain/supervision.js';
import type { Principal } from '../../auth.js';
import type { AuditFilter, AuditRecord, SupervisorScope } from '../../store/types.js';
import { scopeOf } from '../../sync/supervisor-hub.js';
import { ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import { auditQuery, candidatesQuery, emptyBody, exceptionsQuery, pageOf } from '../schemas.js';
import type { Scope } from '../scope.js';

/** Rows a CSV export of the audit trail holds at most. */
export const AUDIT_EXPORT_LIMIT = 50_000;

/** SUP-1: the caller's scope; operators are refused. */
export async function supervisorScope(s: Scope): Promise<{ principal: Principal; scope: SupervisorScope }> {
  const principal = await s.auth();
  const scope = scopeOf(principal);
  if (!scope) throw new DomainError('permission_denied', { userId: principal.user.id, problem: 'needs the role supervisor or admin' });
  return { principal, scope };
}

const departmentsOf = (scope: SupervisorScope): readonly string[] | null => (scope.all ? null : scope.departmentIds);

/** A department filter must be one the caller supervises. */
function checkDepartment(scope: SupervisorScope, departmentId: string | undefined): void {
  if (departmentId !== undefined && !scope.all && !scope.departmentIds.includes(departmentId)) {
    throw new DomainError('permission_denied', { departmentId, problem: 'you do not supervise this department' });
  }
}

async function candidates(s: Scope): Promise<Reply> {
  const { principal } = await supervisorScope(s);
  const taskId = s.id();
  const q = s.queryAs(candidatesQuery);
  const items = await s.ctx.committer.submit({ kind: 'candidates', taskId, mode: q.mode ?? 'assign', actorId: principal.user.id });
  // The engine words refusals in English; the caller reads them in their language.
  return ok({ taskId, mode: q.mode ?? 'assign', items: items.map((c) => ({ ...c, error: c.error ? fromErrorData(c.error).toData(s.locale) : null })) });
}

async function listExceptions(s: Scope): Promise<Reply> {
  const { scope } = await supervisorScope(s);
  const q = s.queryAs(exceptionsQuery);
  checkDepartment(scope, q.departmentId);
  const page = pageOf(q);
  const result = await s.ctx.store.listExceptions(
    {
      departmentIds: q.departmentId ? [q.departmentId] : departmentsOf(scope),
      open: q.open === undefined ? undefined : q.open === 'true',
      kind: q.kind,
      taskId: q.taskId,
    },
    page,
  );
  return ok({ items: result.items, total: result.total, ...page });
}

async function acknowledgeException(s: Scope): Promise<Reply> {
  const { principal, scope } = await supervisorScope(s);
  const raw = s.params.id ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new DomainError('invalid_input', { field: 'path.id', problem: 'must be a positive whole number' });
  await s.json(emptyBody);
  const found = await s.ctx.store.getException(id);
  if (!found || !(scope.all || (found.departmentId !== null && scope.departmentIds.includes(found.departmentId)))) {
    throw new DomainError('not_found', { exceptionId: id });
  }
  const now = s.ctx.clock.now();
  const exception = await s.ctx.store.acknowledgeException(id, principal.user.id, now);
  // SUP-4: acknowledged once; a later acknowledgement (another supervisor's, a second click) is
  // answered with the first and kept in the audit as what it was, not as a second "applied".
  const already = found.acknowledgedAt !== null || exception === null || exception.acknowledgedAt !== now || exception.acknowledgedBy !== principal.user.id;
  await s.ctx.store.audit(
    {
      action: 'exception_acknowledge',
      outcome: already ? 'already_acknowledged' : 'applied',
      actorId: principal.user.id,
      terminalId: null,
      via: 'http',
      taskId: found.taskId,
      details: { exceptionId: id, kind: found.kind, ...(already && exception ? { acknowledgedBy: exception.acknowledgedBy, acknowledgedAt: exception.acknowledgedAt } : {}) },
    },
    now,
  );
  return ok({ ok: true, exception });
}

function auditFilterOf(s: Scope, scope: SupervisorScope) {
  const q = s.queryAs(auditQuery);
  checkDepartment(scope, q.departmentId);
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
    throw new DomainError('invalid_input', { field: 'query.to', problem: 'must be after from' });
  }
  return {
    q,
    filter: {
      departmentIds: q.departmentId ? [q.departmentId] : departmentsOf(scope),
      taskId: q.taskId,
      workOrderNumber: q.workOrder,
      userId: q.userId,
      action: q.action,
      outcome: q.outcome,
      terminalId: q.terminalId,
      from: q.from,
      to: q.to,
    },
  };
}

const CSV_COLUMNS = ['id', 'at', 'action', 'outcome', 'actorId', 'via', 'terminalId', 'taskId', 'departmentId', 'details'] as const;

function auditCsv(items: readonly AuditRecord[], header: boolean): string {
  return stringify(
    items.map((a) => [a.id, new Date(a.at).toISOString(), a.action, a.outcome, a.actorId ?? '', a.via, a.terminalId ?? '', a.taskId ?? '', a.departmentId ?? '', JSON.stringify(a.details)]),
    { header, columns: [...CSV_COLUMNS] },
  );
}

/** Events read and written per slice of an export (SEC-9: the event loop runs between slices). */
const AUDIT_EXPORT_PAGE = 2_000;

/** SUP-6: up to AUDIT_EXPORT_LIMIT events as CSV, newest first, read page by page by id. */
async function auditExport(s: Scope, filter: AuditFilter): Promise<{ csv: string; total: number }> {
  const parts: string[] = [];
  let total = 0;
  let beforeId: number | undefined;
  for (let read = 0; read < AUDIT_EXPORT_LIMIT; ) {
    const page = await s.ctx.store.searchAudit(beforeId === undefined ? filter : { ...filter, beforeId }, {
      limit: Math.min(AUDIT_EXPORT_PAGE, AUDIT_EXPORT_LIMIT - read),
      offset: 0,
    });
    if (beforeId === undefined) total = page.total;
    parts.push(auditCsv(page.items, beforeId === undefined));
    read += page.items.length;
    if (page.items.length < AUDIT_EXPORT_PAGE) break;
    beforeId = page.items[page.items.length - 1]!.id;
    await nextTurn();
  }
  return { csv: parts.join(''), total };
}

/** SUP-6: the audit trail of the caller's departments, filtered and paged; `format=csv` exports it. */
async function searchAudit(s: Scope): Promise<Reply> {
  const { scope } = await supervisorScope(s);
  const { q, filter } = auditFilterOf(s, scope);
  if (q.format === 'csv') {
    const result = await auditExport(s, filter);
    return {
      status: 200,
      // A UTF-8 byte order mark first: without it Excel (a Chinese Windows most of all) reads the
      // file in the system's code page and garbles names and reasons.
      text: { contentType: 'text/csv; charset=utf-8', content: `\uFEFF${result.csv}` },
      headers: {
        'content-disposition': `attachment; filename="audit-${new Date(s.ctx.clock.now()).toISOString().slice(0, 10)}.csv"`,
        'x-total-count': String(result.total),
      },
    };
  }
  const page = pageOf(q);
  const result = await s.ctx.store.searchAudit(filter, page);
  // The people who acted on this page, by name: the overview knows its operators, not the
  // supervisors and administrators whose actions are here too.
  return ok({ items: result.items, total: result.total, ...page, names: await s.displayNames(result.items.map((e) => e.actorId)) });
}

async function getSupervision(s: Scope): Promise<Reply> {
  await supervisorScope(s);
  return ok({ settings: await s.ctx.store.getSupervision() });
}

async function putSupervision(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const settings = await s.json(supervisionSettingsSchema);
  const now = s.ctx.clock.now();
  await s.ctx.store.setSupervision(settings, now);
  await s.ctx.store.audit({ action: 'supervision_update', outcome: 'applied', actorId: user.id, terminalId: null, via: 'http', taskId: null, details: { settings } }, now);
  return ok({ settings: await s.ctx.store.getSupervision() });
}

export function supervisorRoutes(router: Router): void {
  router.get('/api/tasks/:id/candidates', candidates, { query: true });
  router.get('/api/exceptions', listExceptions, { query: true });
  router.post('/api/exceptions/:id/acknowledge', acknowledgeException);
  router.get('/api/audit', searchAudit, { query: true });
  router.get('/api/supervision', getSupervision);
  router.put('/api/supervision', putSupervision);
}
