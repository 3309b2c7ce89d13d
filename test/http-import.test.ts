/**
 * POST /api/tasks/import against a real server: CSV and JSON, all-or-nothing with an error per bad
 * field of every bad row, numbered as the user sees them, and who may import what.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import type { Task } from '../src-shared/domain/types.js';
import type { ServerFrame } from '../src-shared/protocol/terminal.js';
import { parseImportCsv, parseImportJson } from '../src-server/import.js';
import { TERMINAL_TOKEN, newUser } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

type Body = Record<string, unknown>;
interface RowError {
  row: number;
  field: string;
  message: string;
}

let server: TestServer;
let ada: string;
let sue: string;
let ann: string;

async function apiToken(userId: string): Promise<string> {
  const token = `api_import_${userId}`;
  await server.store.createApiToken(
    { id: `tok-${userId}`, userId, name: 'test', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token) },
    server.clock.now(),
  );
  return token;
}

async function importCsv(token: string, csv: string, contentType = 'text/csv; charset=utf-8'): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${server.url}/api/tasks/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Body };
}

async function importCsvIn(locale: string, token: string, csv: string): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${server.url}/api/tasks/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=utf-8', 'accept-language': locale },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Body };
}

async function importJson(token: string, value: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${server.url}/api/tasks/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(value),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const task = async (id: string): Promise<Task | null> => server.store.getTask(id, server.clock.now());
const errorsOf = (body: Body) => (body.details as { errors: RowError[] }).errors;
const pairs = (body: Body) => errorsOf(body).map((e) => `${e.row}:${e.field}`);

beforeEach(async () => {
  server = await startTestServer();
  await server.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [] }), server.clock.now());
  ada = await apiToken('ada');
  sue = await apiToken('sue');
  ann = await apiToken('ann');
});
afterEach(async () => {
  await server.stop();
});

describe('task import over HTTP', () => {
  it('IMP-4 a CSV import creates work orders and tasks: any column order, quoting, line breaks, skills, due times', async () => {
    const csv = [
      '\uFEFFtask_id,Work Order Number,workOrderTitle,step,workContent,departmentId,status,priority,dueAt,requiredSkills',
      'n1,WO-100,"Frames, steel",cut,"Cut 4 bars, 2 m",cut,,5,2026-01-06T08:00:00Z,weld; saw',
      'n2,WO-100,"Frames, steel",inspect,"Check ""all"" welds',
      'line two of the content",qa,draft,-3,1767772800000,',
      'n3,WO-101,,cut,Plain,,cancelled,,,',
      '',
    ].join('\r\n');
    const r = await importCsv(ada, csv);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, rows: 3, created: 3, updated: 0, workOrders: 2 });
    expect(await task('n1')).toMatchObject({
      workOrderNumber: 'WO-100',
      step: 'cut',
      workContent: 'Cut 4 bars, 2 m',
      departmentId: 'cut',
      status: 'pending',
      priority: 5,
      dueAt: Date.UTC(2026, 0, 6, 8),
      requiredSkills: ['weld', 'saw'],
      version: 1,
    });
    expect(await task('n2')).toMatchObject({
      workContent: 'Check "all" welds\nline two of the content',
      departmentId: 'qa',
      status: 'draft',
      priority: -3,
      dueAt: 1767772800000,
      requiredSkills: [],
    });
    expect(await task('n3')).toMatchObject({ departmentId: null, status: 'cancelled', priority: 0, dueAt: null });
    const audit = (await server.store.listAudit({ limit: 5 })).find((e) => e.action === 'import');
    expect(audit).toMatchObject({ outcome: 'applied', actorId: 'ada', via: 'http', details: { format: 'csv', created: 3 } });
  });

  it('IMP-1 a JSON import (object with rows, or a bare array) creates and updates', async () => {
    const r = await importJson(ada, {
      rows: [
        { taskId: 'j1', workOrderNumber: 'WO-200', step: 'cut', workContent: 'Saw', departmentId: 'cut', priority: 2, requiredSkills: ['saw'] },
        { taskId: 't2', workOrderNumber: 'WO-1', step: 'cut', workContent: 'Cut part t2', departmentId: 'cut', priority: 9 },
      ],
    });
    expect(r.body).toEqual({ ok: true, rows: 2, created: 1, updated: 1, workOrders: 2 });
    expect(await task('j1')).toMatchObject({ priority: 2, requiredSkills: ['saw'], status: 'pending' });
    expect(await task('t2')).toMatchObject({ priority: 9, version: 2 });
    const bare = await importJson(ada, [{ taskId: 'j2', workOrderNumber: 'WO-200', step: 'cut', workContent: 'More', dueAt: '2026-02-01T12:00:00+08:00' }]);
    expect(bare.body).toMatchObject({ ok: true, created: 1 });
    expect((await task('j2'))!.dueAt).toBe(Date.UTC(2026, 1, 1, 4));
  });

  it('IMP-1 imported tasks reach the connected terminals of their department at once', async () => {
    const kiosk = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN, clientTime: server.clock.now() });
    try {
      type Page = Extract<ServerFrame, { type: 'changes' }>;
      const seen = new Set<ServerFrame>();
      // Read change pages, acknowledging each, until one satisfies `done`.
      const readUntil = async (done: (p: Page) => boolean): Promise<Page> => {
        for (;;) {
          const page = await kiosk.waitFor<Page>((f) => f.type === 'changes' && !seen.has(f));
          seen.add(page);
          kiosk.sendRaw({ type: 'ack', cursor: page.cursor ?? 0 });
          if (done(page)) return page;
        }
      };
      await readUntil((p) => p.mode === 'snapshot' && !p.more);
      const r = await importJson(ada, [{ taskId: 'live1', workOrderNumber: 'WO-LIVE', step: 'cut', workContent: 'Fresh from the ERP', departmentId: 'cut' }]);
      expect(r.body).toMatchObject({ ok: true, created: 1 });
      const page = await readUntil((p) => p.tasks.some((t) => t.id === 'live1'));
      expect(page).toMatchObject({ mode: 'delta' });
    } finally {
      kiosk.close();
    }
  });

  it('IMP-1 IMP-2 broken CSV rows: 422 with every bad field of every bad row by line, and nothing is imported', async () => {
    const csv = [
      'taskId,workOrderNumber,step,workContent,departmentId,status,priority,dueAt,requiredSkills', // line 1
      'n1,WO-9,cut,Good row,cut,pending,1,,', // line 2: fine
      'bad id!,WO-9,cut,x,cut,,,,', // line 3
      'n3,WO 9,cut,,cut,done,high,tomorrow,', // line 4
      '"n4",WO-9,cut,"multi', // lines 5-6: fine
      'line",cut,,,,',
      'n5,WO-9,cut,short row', // line 7
      'n1,WO-9,cut,dup,cut,,,,', // line 8
      `n6,WO-9,cut,${'x'.repeat(2001)},cut,,,2026-01-06,`, // line 9
    ].join('\n');
    const r = await importCsv(ada, csv);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      code: 'import_rejected',
      message: 'The import has errors in 5 of its rows, so nothing was imported.',
      details: { badRows: 5 },
      retry: { canRetry: false, suggestion: 'Fix the listed rows and import the whole file again.' },
    });
    expect(pairs(r.body)).toEqual([
      '3:taskId',
      '4:workOrderNumber',
      '4:workContent',
      '4:status',
      '4:priority',
      '4:dueAt',
      '7:csv',
      '8:taskId',
      '9:workContent',
      '9:dueAt',
    ]);
    const messages = errorsOf(r.body);
    expect(messages.find((e) => e.row === 7)!.message).toContain('4 fields; the header has 9');
    expect(messages.find((e) => e.row === 8)!.message).toContain('first at row 2');
    expect(messages.find((e) => e.field === 'status')!.message).toContain('draft, pending, cancelled');
    for (const id of ['n1', 'n4']) expect(await task(id)).toBeNull();
    expect((await server.store.listAudit({ limit: 5 })).find((e) => e.action === 'import')).toMatchObject({ outcome: 'import_rejected' });
  });

  it('IMP-2 a supervisor reading Chinese gets every row problem in Chinese, the parser\u2019s and the store\u2019s; in English they read as before', async () => {
    await importJson(ada, [
      { taskId: 'done1', workOrderNumber: 'WO-1', step: 'cut', workContent: 'x', departmentId: 'cut', status: 'cancelled' },
      { taskId: 'done2', workOrderNumber: 'WO-1', step: 'cut', workContent: 'y', departmentId: 'cut', status: 'cancelled' },
    ]);
    const parse = [
      'taskId,workOrderNumber,step,workContent,departmentId,status,priority,dueAt,requiredSkills', // line 1
      'n3,WO 9,cut,,cut,done,high,2026-02-30T08:00:00Z,', // line 2: work order, content, status, priority, due
      'n5,WO-9,cut,short row', // line 3
      'n6,WO-9,cut,ok,cut,,,,', // line 4
      'n6,WO-9,cut,dup,cut,,,,', // line 5: id twice
      'bad id!,WO-9,cut,x,cut,,,,', // line 6: an id with a space and a "!"
      'n8,WO-9,cut,a "quoted" word,cut,,,,', // line 7: a quote inside an unquoted field
    ].join('\n');
    // The store's own refusals (checked once the file parses).
    const store = [
      'taskId,workOrderNumber,step,workContent,departmentId', // line 1
      'n7,WO-9,cut,ok,nowhere', // line 2: no such department
      'done1,WO-2,cut,ok,cut', // line 3: of another work order
      'done2,WO-1,cut,ok,cut', // line 4: cancelled, and this row would make it pending
    ].join('\n');
    const zh = await importCsvIn('zh-CN', ada, parse);
    expect(zh.status).toBe(422);
    expect(zh.body.message).toBe('导入数据中有 5 行存在错误，未导入任何数据。');
    const zhErrors = [...errorsOf(zh.body), ...errorsOf((await importCsvIn('zh-CN', ada, store)).body)];
    expect(zhErrors.map((e) => `${e.row}:${e.field}`)).toEqual([
      '2:workOrderNumber',
      '2:workContent',
      '2:status',
      '2:priority',
      '2:dueAt',
      '3:csv',
      '5:taskId',
      '6:taskId',
      '7:csv', // the parser's refusal, once for each quote it met
      '7:csv',
      '2:departmentId',
      '3:taskId',
      '4:status',
    ]);
    expect(zhErrors.find((e) => e.row === 6)!.message).toBe('taskId“bad id!”只能包含字母、数字和 . _ : -');
    expect(zhErrors.find((e) => e.row === 7)!.message).toContain('引号');
    expect(zhErrors.find((e) => e.row === 4 && e.field === 'status')!.message).toBe('任务 done2 已取消，导入不能再修改它');
    expect(zhErrors.find((e) => e.field === 'workContent')!.message).toBe('缺少 workContent');
    expect(zhErrors.find((e) => e.field === 'dueAt')!.message).toContain('2026-02 只有 28 天');
    expect(zhErrors.find((e) => e.row === 3 && e.field === 'csv')!.message).toBe('此行有 4 个字段，而表头有 9 个');
    expect(zhErrors.find((e) => e.row === 5)!.message).toBe('任务 n6 出现了两次（第一次在第 4 行）');
    expect(zhErrors.find((e) => e.field === 'departmentId')!.message).toBe('部门“nowhere”不存在；请先创建该部门');
    expect(zhErrors.find((e) => e.row === 3 && e.field === 'taskId')!.message).toBe('任务 done1 属于工单 WO-1，而不是 WO-2');
    // No English sentence is left inside the Chinese answer (field names and values aside).
    for (const e of zhErrors) expect(e.message, e.message).not.toMatch(/\b(is|are|must|has|the|not|of)\b/);
    // The same files in English: the messages as they always read (the CLI prints these too).
    const en = [...errorsOf((await importCsvIn('en', ada, parse)).body), ...errorsOf((await importCsvIn('en', ada, store)).body)];
    expect(en.find((e) => e.field === 'workContent')!.message).toBe('workContent is required');
    expect(en.find((e) => e.field === 'dueAt')!.message).toBe(
      'dueAt "2026-02-30T08:00:00Z" has day 30, but 2026-02 has 28 days: not a real date-time; write an ISO 8601 date-time with an offset (e.g. 2026-01-31T17:00:00+08:00 or 2026-01-31T09:00:00Z) or epoch milliseconds (13 digits, e.g. 1769850000000)',
    );
    expect(en.find((e) => e.row === 3 && e.field === 'taskId')!.message).toBe('task done1 belongs to work order WO-1, not WO-2');
    expect(en.find((e) => e.row === 6)!.message).toBe('taskId "bad id!" may only hold letters, digits and . _ : -');
    expect(en.find((e) => e.row === 4 && e.field === 'status')!.message).toBe('task done2 is already cancelled and cannot be changed by an import');
    expect(Object.keys(en[0]!).sort()).toEqual(['field', 'message', 'row']);
  });

  it('IMP-2 SEC-9 a large CSV (parsed on a thread of its own) reports bad rows by the line an editor shows, its own and the store\u2019s, and imports once fixed', async () => {
    // 3,000 rows (over 64 KB); row 9 spans two lines, so every later row is one line further down.
    const file = (bad: (i: number) => string | null) =>
      [
        'taskId,workOrderNumber,step,workContent,departmentId',
        ...Array.from({ length: 3_000 }, (_, i) => bad(i) ?? `big${i},WO-BIG${Math.floor(i / 20)},cut,${i === 8 ? '"two\nlines"' : `Part ${i}`},cut`),
      ].join('\n');
    expect(file(() => null).length).toBeGreaterThan(64 * 1024);
    const parseError = await importCsv(ada, file((i) => (i === 1_500 ? 'bad id!,WO-BIG,cut,x,cut' : null)));
    expect(parseError.status).toBe(422);
    expect(pairs(parseError.body)).toEqual(['1503:taskId']);
    const storeError = await importCsv(ada, file((i) => (i === 2_500 ? 'big2500,WO-BIG,cut,x,nowhere' : null)));
    expect(pairs(storeError.body)).toEqual(['2503:departmentId']);
    expect(await task('big0')).toBeNull();
    const fixed = await importCsv(ada, file(() => null));
    expect(fixed).toMatchObject({ status: 200, body: { created: 3_000 } });
    expect((await task('big8'))!.workContent).toBe('two\nlines');
  });

  it('IMP-2 SEC-9 over 1,000 errors in a large CSV (parsed on its own thread): the first 1,000 are listed, and details.errorCount and badRows (the row count in the message) count them all', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => `e${i},WO-1,A work order title of some length,cut,,nowhere!,soon`);
    const csv = ['taskId,workOrderNumber,workOrderTitle,step,workContent,departmentId,dueAt', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(64 * 1024);
    const r = await importCsv(ada, csv);
    expect(r.status).toBe(422);
    expect(errorsOf(r.body)).toHaveLength(1000);
    expect(r.body).toMatchObject({ message: 'The import has errors in 2000 of its rows, so nothing was imported.', details: { badRows: 2000, errorCount: 6000 } });
    const json = await importJson(ada, rows.slice(0, 400).map((_, i) => ({ taskId: `j${i}`, workOrderNumber: 'WO-1', step: 'cut', workContent: '', dueAt: 'soon', departmentId: 'no!' })));
    expect(errorsOf(json.body)).toHaveLength(1000);
    expect(json.body.details).toMatchObject({ badRows: 400, errorCount: 1200 });
  });

  it('IMP-2 refusals found by the store are reported on the user\u2019s rows too (CSV lines, JSON positions)', async () => {
    await fetch(`${server.url}/api/tasks/t1/claim`, { method: 'POST', headers: { authorization: `Bearer ${await apiToken('bob')}` } });
    const csv = ['taskId,workOrderNumber,step,workContent,departmentId', 'n1,WO-9,cut,ok,cut', '', 'n2,WO-9,cut,ok,nowhere', 't1,WO-1,cut,moved,qa'].join('\n');
    const r = await importCsv(ada, csv);
    expect(r.status).toBe(422);
    expect(errorsOf(r.body)).toEqual([
      { row: 4, field: 'departmentId', message: expect.stringContaining('"nowhere" does not exist') },
      { row: 5, field: 'taskId', message: expect.stringContaining('held by Name bob') },
    ]);
    expect(await task('n1')).toBeNull();
    const json = await importJson(ada, [
      { taskId: 'j1', workOrderNumber: 'WO-9', step: 'cut', workContent: 'ok' },
      { taskId: 'j2', workOrderNumber: 'WO-9', step: 'cut', workContent: 'ok', departmentId: 'nowhere', colour: 'red' },
    ]);
    expect(pairs(json.body)).toEqual(['2:colour']);
    const json2 = await importJson(ada, [
      { taskId: 'j1', workOrderNumber: 'WO-9', step: 'cut', workContent: 'ok' },
      { taskId: 'j2', workOrderNumber: 'WO-9', step: 'cut', workContent: 'ok', departmentId: 'nowhere' },
    ]);
    expect(pairs(json2.body)).toEqual(['2:departmentId']);
  });

  it('IMP-4 the header must name known columns, the required ones included; broken quoting is reported by line', async () => {
    const r = await importCsv(ada, 'taskId,workOrder,step,colour\nn1,WO-1,cut,red\n');
    expect(r.status).toBe(422);
    expect(pairs(r.body)).toEqual(['1:workOrder', '1:colour', '1:workOrderNumber', '1:workContent']);
    const quote = await importCsv(ada, 'taskId,workOrderNumber,step,workContent\nn1,WO-1,cut,ok\nn2,WO-1,cut,"unclosed\n');
    expect(quote.status).toBe(422);
    expect(errorsOf(quote.body)).toEqual([{ row: 3, field: 'csv', message: expect.stringContaining('Quote Not Closed') }]);
    expect(await task('n1')).toBeNull();
    expect(pairs((await importCsv(ada, '')).body)).toEqual(['1:csv']);
    expect(pairs((await importCsv(ada, 'taskId,workOrderNumber,step,workContent\n')).body)).toEqual(['1:rows']);
  });

  it('IMP-3 supervisors import only for the departments they supervise; operators not at all', async () => {
    const ok = await importJson(sue, [{ taskId: 's1', workOrderNumber: 'WO-300', step: 'cut', workContent: 'ok', departmentId: 'cut' }]);
    expect(ok.body).toMatchObject({ ok: true, created: 1 });
    const bad = await importJson(sue, [
      { taskId: 's2', workOrderNumber: 'WO-300', step: 'cut', workContent: 'ok', departmentId: 'qa' },
      { taskId: 's3', workOrderNumber: 'WO-300', step: 'cut', workContent: 'ok' },
      { taskId: 'q1', workOrderNumber: 'WO-1', step: 'inspect', workContent: 'take it', departmentId: 'cut' },
    ]);
    expect(bad.status).toBe(422);
    expect(pairs(bad.body)).toEqual(['1:departmentId', '2:departmentId', '3:taskId']);
    expect((await task('q1'))!.departmentId).toBe('qa');
    const denied = await importJson(ann, [{ taskId: 'a1', workOrderNumber: 'WO-1', step: 'cut', workContent: 'x', departmentId: 'cut' }]);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('permission_denied');
  });

  it('API-4 an import that is not rows is 400; a CSV over 5 MB is 413', async () => {
    const notRows = await importJson(ada, { tasks: [] });
    expect(notRows.status).toBe(400);
    expect(notRows.body).toMatchObject({ code: 'invalid_input', details: { field: 'rows' } });
    const line = 'n,WO-1,cut,' + 'x'.repeat(1000) + '\n';
    const huge = 'taskId,workOrderNumber,step,workContent\n' + line.repeat(5300);
    const r = await importCsv(ada, huge);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 5 * 1024 * 1024 } });
  });

  it('IMP-4 the parsers are usable on their own (the admin CLI reuses them)', async () => {
    const csv = await parseImportCsv('taskId,workOrderNumber,step,workContent,requiredSkills\nc1,WO-1,cut,x,a;b;;a\n');
    expect(csv).toEqual({
      rows: [
        {
          taskId: 'c1',
          workOrderNumber: 'WO-1',
          workOrderTitle: '',
          step: 'cut',
          workContent: 'x',
          departmentId: null,
          status: 'pending',
          priority: 0,
          dueAt: null,
          requiredSkills: ['a', 'b'],
        },
      ],
      rowNumbers: [2],
      errors: [],
    });
    expect((await parseImportJson({ rows: [{ taskId: 'c1' }] })).errors.map((e) => e.field)).toEqual(['workOrderNumber', 'step', 'workContent']);
    expect((await parseImportJson('nope')).errors).toEqual([{ row: 0, field: 'rows', message: expect.any(String), problem: { key: 'json_shape', params: {} } }]);
  });
});
