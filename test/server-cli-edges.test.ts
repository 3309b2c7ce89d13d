/**
 * The admin CLI at its edges, as IT meets them: real child processes of the compiled
 * `out/node/src-server/cli.js` (built by test/global-setup.ts) against real SQLite files in temp
 * folders. Bad input gets one line saying what was wrong and what to do, never a stack trace, and
 * changes nothing. Every wait is bounded.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startCliServer } from './support/cli-process.js';

const CLI = path.resolve('out/node/src-server/cli.js');
const dirs: string[] = [];

function tempDir(prefix = 'cli-edges-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion (bounded), with a clean environment: no SHOPFLOOR_DATA or DATABASE_URL unless given. */
function cli(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SHOPFLOOR_DATA;
  delete env.DATABASE_URL;
  Object.assign(env, options.env);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 30_000, env, cwd: options.cwd });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function openDb(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'claims.db'), { fileMustExist: true });
}

function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = openDb(dataDir);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** A data directory with a database and the departments `cutting` and `quality`. */
function plant(): string {
  const data = tempDir();
  expect(cli(['init', '--data', data]).code).toBe(0);
  for (const d of ['cutting', 'quality']) expect(cli(['add-department', '--data', data, '--id', d, '--name', d]).code).toBe(0);
  return data;
}

function taskCount(data: string): number {
  return query<{ n: number }>(data, 'SELECT COUNT(*) AS n FROM tasks')[0]!.n;
}

function writeFile(name: string, body: string | Buffer): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, body);
  return file;
}

/** One line on stderr, no stack trace. */
function expectOneLineError(r: Run, code: number, ...needles: RegExp[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const n of needles) expect(r.stderr).toMatch(n);
}

function noStackTrace(r: Run): void {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/node:internal|Unhandled/);
}

const HEADER = 'taskId,workOrderNumber,step,workContent,departmentId,dueAt';

describe('admin CLI import: due dates (IMP-4)', () => {
  it('IMP-4 an impossible calendar date (2026-02-30) and an 8-digit ERP date (20260131) are row errors saying the expected form, in CSV and JSON; nothing is imported', () => {
    const data = plant();
    const csv = writeFile(
      'dates.csv',
      [
        HEADER,
        'd-1,WO-1,cut,Cut,cutting,2026-02-30T10:00:00Z', // row 2: February has 28 days in 2026
        'd-2,WO-1,cut,Cut,cutting,20260131', // row 3: a date, not epoch ms
        'd-3,WO-1,cut,Cut,cutting,2026-01-31T24:00:00+08:00', // row 4: no hour 24
        'd-4,WO-1,cut,Cut,cutting,2024-02-29T08:00:00+01:00', // row 5: a leap day, fine
        'd-5,WO-1,cut,Cut,cutting,1769850000000', // row 6: epoch ms, fine
      ].join('\n'),
    );
    const r = cli(['import-tasks', csv, '--data', data]);
    expect(r.code, r.stderr).toBe(1);
    noStackTrace(r);
    expect(r.stderr).toMatch(/^row 2, dueAt: .*2026-02-30.*2026-02 has 28 days.*ISO 8601 date-time with an offset/m);
    expect(r.stderr).toMatch(/^row 3, dueAt: .*20260131.*before 2000-01-01.*ISO 8601 date-time with an offset .*epoch milliseconds/m);
    expect(r.stderr).toMatch(/^row 4, dueAt: .*hours are 00 to 23/m);
    expect(r.stderr).not.toMatch(/^row [56],/m);
    expect(taskCount(data)).toBe(0);

    const json = writeFile(
      'dates.json',
      JSON.stringify({
        rows: [
          { taskId: 'j-1', workOrderNumber: 'WO-2', step: 'cut', workContent: 'Cut', dueAt: '2026-02-30T10:00:00Z' },
          { taskId: 'j-2', workOrderNumber: 'WO-2', step: 'cut', workContent: 'Cut', dueAt: 20260131 },
          { taskId: 'j-3', workOrderNumber: 'WO-2', step: 'cut', workContent: 'Cut', dueAt: '2026-13-01T10:00:00Z' },
        ],
      }),
    );
    const j = cli(['import-tasks', json, '--data', data]);
    expect(j.code, j.stderr).toBe(1);
    noStackTrace(j);
    expect(j.stderr).toMatch(/^row 1, dueAt: .*2026-02 has 28 days/m);
    expect(j.stderr).toMatch(/^row 2, dueAt: .*20260131.*before 2000-01-01/m);
    expect(j.stderr).toMatch(/^row 3, dueAt: .*months are 01 to 12/m);
    expect(taskCount(data)).toBe(0);

    // The good dates alone import, and are stored as written.
    const good = writeFile('good.csv', [HEADER, 'd-4,WO-1,cut,Cut,cutting,2024-02-29T08:00:00+01:00', 'd-5,WO-1,cut,Cut,cutting,1769850000000'].join('\n'));
    expect(cli(['import-tasks', good, '--data', data]).code).toBe(0);
    expect(query<{ id: string; due_at: number }>(data, 'SELECT id, due_at FROM tasks ORDER BY id')).toEqual([
      { id: 'd-4', due_at: Date.UTC(2024, 1, 29, 7) },
      { id: 'd-5', due_at: 1769850000000 },
    ]);
  });
});

describe('admin CLI: database passwords are never printed (CLI-1)', () => {
  it('CLI-1 CLI-2 a --database or DATABASE_URL value that is refused is named with its password hidden: exit 2, one line', () => {
    const data = tempDir();
    const hash = cli(['init', '--data', data, '--database', 'postgres://shop:s3cr#et@db-host/shop']);
    expectOneLineError(hash, 2, /postgres:\/\/shop:\*\*\*@db-host\/shop/, /not a valid URL/, /%-encoded/);
    expect(hash.stderr + hash.stdout).not.toContain('s3cr');
    const mysql = cli(['init', '--data', data], { env: { DATABASE_URL: 'mysql://root:TopSecret@db/app' } });
    expectOneLineError(mysql, 2, /mysql:\/\/root:\*\*\*@db\/app/, /must be a PostgreSQL URL/, /DATABASE_URL/);
    expect(mysql.stderr + mysql.stdout).not.toContain('TopSecret');
    // Nothing was created on the way.
    expect(fs.readdirSync(data)).toEqual([]);
  });

  it('CLI-1 CLI-3 a password given as a password= query parameter is hidden in a connection error too', () => {
    const r = cli(['init', '--database', 'postgres://shop@127.0.0.1:1/shop?sslmode=disable&password=hunter2-pw'], { timeoutMs: 60_000 });
    expectOneLineError(r, 1, /postgres:\/\/shop@127\.0\.0\.1:1\/shop\?sslmode=disable&password=\*\*\*/, /ECONNREFUSED/);
    expect(r.stderr + r.stdout).not.toContain('hunter2-pw');
  });
});

describe('admin CLI: department limits (CAP-1)', () => {
  const limitOf = (data: string, id: string) => query<{ task_limit: number | null }>(data, 'SELECT task_limit FROM departments WHERE id = ?', id)[0]!.task_limit;

  it('CAP-1 renaming a department without --limit keeps its task limit; --limit none returns it to the site default, as --help says', () => {
    const data = tempDir();
    expect(cli(['init', '--data', data]).code).toBe(0);
    expect(cli(['add-department', '--data', data, '--id', 'weld', '--name', 'Weld', '--limit', '3']).code).toBe(0);
    const renamed = cli(['add-department', '--data', data, '--id', 'weld', '--name', 'Welding hall']);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.stdout).toMatch(/Updated department weld "Welding hall" \(task limit 3, unchanged\)/);
    expect(query(data, 'SELECT name, task_limit FROM departments')).toEqual([{ name: 'Welding hall', task_limit: 3 }]);

    const changed = cli(['add-department', '--data', data, '--id', 'weld', '--name', 'Welding hall', '--limit', '5']);
    expect(changed.stdout).toMatch(/\(task limit 5\)/);
    expect(limitOf(data, 'weld')).toBe(5);

    const cleared = cli(['add-department', '--data', data, '--id', 'weld', '--name', 'Welding hall', '--limit', 'none']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(/\(site default task limit\)/);
    expect(limitOf(data, 'weld')).toBeNull();

    expectOneLineError(cli(['add-department', '--data', data, '--id', 'weld', '--name', 'W', '--limit', 'lots']), 2, /--limit/, /1 to 1000, or none/);
    expect(cli(['add-department', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/none: back to the site default; left out, an existing department keeps its limit/);
  });
});

describe('admin CLI: an empty SHOPFLOOR_DATA (CLI-3)', () => {
  it('CLI-3 CLI-4 an empty SHOPFLOOR_DATA is unset: start uses ~/.shopfloor-claims/server and creates no claims.db in the current folder; --data "" is a usage error', async () => {
    const home = tempDir('home-');
    const cwd = tempDir('cwd-');
    const env = { HOME: home, SHOPFLOOR_DATA: '' };
    const expected = path.join(home, '.shopfloor-claims', 'server', 'claims.db');
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--host', '127.0.0.1'], { cwd, env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...env } });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (!out.includes('sync server listening') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('sync server listening');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.existsSync(expected)).toBe(true);

    // The other commands read it the same way: the database in the default directory.
    const added = cli(['add-department', '--id', 'cut', '--name', 'Cutting'], { env, cwd });
    expect(added.code, added.stderr).toBe(0);
    expect(fs.readdirSync(cwd)).toEqual([]);
    expectOneLineError(cli(['init', '--data', ''], { env: { HOME: home }, cwd }), 2, /--data/, /must name a directory/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe('admin CLI: audit of CLI writes (API.md "Import", "Administration")', () => {
  interface AuditRow {
    action: string;
    outcome: string;
    actor_id: string | null;
    terminal_id: string | null;
    via: string;
    details: string;
  }

  it('CLI-6 IMP-1 CLI writes are audited under the HTTP API\'s action names, marked via "cli" with no user: department_create/update, user_create, terminal_create, token_create, import (applied and rejected)', () => {
    const data = tempDir();
    expect(cli(['init', '--data', data]).code).toBe(0);
    expect(cli(['add-department', '--data', data, '--id', 'cutting', '--name', 'Cutting']).code).toBe(0);
    expect(cli(['add-department', '--data', data, '--id', 'cutting', '--name', 'Cutting hall', '--limit', '4']).code).toBe(0);
    expect(cli(['add-user', '--data', data, '--id', 'boss', '--name', 'Boss', '--role', 'admin']).code).toBe(0);
    expect(cli(['add-terminal', '--data', data, '--id', 'k1', '--name', 'Kiosk', '--department', 'cutting']).code).toBe(0);
    const token = cli(['add-api-token', '--data', data, '--user', 'boss', '--name', 'erp']);
    expect(token.code).toBe(0);
    const tokenId = /tok-[0-9a-f]+/.exec(token.stdout)![0];
    const good = writeFile('orders.csv', [HEADER, 'a-1,WO-1,cut,Cut,cutting,', 'a-2,WO-1,cut,Cut,cutting,'].join('\n'));
    expect(cli(['import-tasks', good, '--data', data]).code).toBe(0);
    const bad = writeFile('bad.json', JSON.stringify([{ taskId: 'b-1', workOrderNumber: 'WO-2', step: 'cut', workContent: '' }]));
    expect(cli(['import-tasks', bad, '--data', data]).code).toBe(1);

    const rows = query<AuditRow>(data, 'SELECT action, outcome, actor_id, terminal_id, via, details FROM audit_events ORDER BY id');
    for (const r of rows) expect(r, r.action).toMatchObject({ actor_id: null, terminal_id: null, via: 'cli' });
    expect(rows.map((r) => [r.action, r.outcome, JSON.parse(r.details) as unknown])).toEqual([
      ['department_create', 'applied', { departmentId: 'cutting' }],
      ['department_update', 'applied', { departmentId: 'cutting', fields: ['name', 'taskLimit'] }],
      ['user_create', 'applied', { userId: 'boss', roles: ['admin'], departmentIds: [] }],
      ['terminal_create', 'applied', { terminalId: 'k1', departments: ['cutting'] }],
      ['token_create', 'applied', { tokenId, userId: 'boss', name: 'erp' }],
      ['import', 'applied', { format: 'csv', file: 'orders.csv', rows: 2, created: 2, updated: 0, workOrders: 1 }],
      ['import', 'import_rejected', { format: 'json', file: 'bad.json', errors: 1 }],
    ]);
  });
});

describe('admin CLI import: one field, two spellings (IMP-4)', () => {
  it('IMP-4 IMP-2 a JSON row that spells a field two ways (taskId and task_id) is a row error naming both spellings, as a CSV column named twice is; nothing is imported', () => {
    const data = plant();
    const json = writeFile(
      'twice.json',
      JSON.stringify([
        { taskId: 't-1', workOrderNumber: 'WO-1', step: 'cut', workContent: 'Cut', departmentId: 'cutting' },
        { taskId: 't-2', task_id: 't-3', workOrderNumber: 'WO-1', step: 'cut', workContent: 'Cut', departmentId: 'cutting' },
      ]),
    );
    const r = cli(['import-tasks', json, '--data', data]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^row 2, taskId: this field appears twice, as "taskId" and "task_id"; keep one of them$/m);
    expect(r.stderr).toMatch(/^error: nothing was imported: fix the 1 error above/m);
    expect(taskCount(data)).toBe(0);
    // The CSV equivalent is refused the same way.
    const csv = writeFile('twice.csv', ['taskId,workOrderNumber,step,workContent,task_id', 't-2,WO-1,cut,Cut,t-3'].join('\n'));
    const c = cli(['import-tasks', csv, '--data', data]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^row 1, taskId: this column appears twice, as "taskId" and "task_id"; keep one of them$/m);
  });
});

describe('admin CLI import: an error report to fix the file in one pass (IMP-2)', () => {
  it('IMP-2 a task id used twice is reported even when its first row is bad for another reason', () => {
    const data = plant();
    const csv = writeFile('dup.csv', [HEADER, 'x-1,WO-1,cut,,cutting,', 'x-1,WO-1,cut,Cut,cutting,', 'x-2,WO-1,cut,Cut,cutting,'].join('\n'));
    const r = cli(['import-tasks', csv, '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^row 2, workContent: workContent is required$/m);
    expect(r.stderr).toMatch(/^row 3, taskId: task x-1 appears twice \(first at row 2\)$/m);
    expect(r.stderr).toMatch(/fix the 2 errors above/);
    expect(taskCount(data)).toBe(0);
  });

  it('IMP-2 more than 1,000 errors: the first 1,000 are listed and the total is said ("the first 1,000 of 3,600 errors")', () => {
    const data = plant();
    // 1,200 rows, each with three bad fields.
    const rows = Array.from({ length: 1200 }, (_, i) => `e-${i},WO-1,cut,,nowhere!,soon`);
    const r = cli(['import-tasks', writeFile('many.csv', [HEADER, ...rows].join('\n')), '--data', data]);
    expect(r.code).toBe(1);
    noStackTrace(r);
    const listed = r.stderr.split('\n').filter((l) => /^row \d+, /.test(l));
    expect(listed).toHaveLength(1000);
    expect(r.stderr).toMatch(/^error: nothing was imported: fix the first 1,000 of 3,600 errors above in .*many\.csv and run the import again \(then run it again for the rest\)$/m);
    expect(query<{ details: string }>(data, "SELECT details FROM audit_events WHERE action = 'import'").map((a) => JSON.parse(a.details) as unknown)).toEqual([
      { format: 'csv', file: 'many.csv', errors: 3600 },
    ]);
  });

  it('IMP-2 an unclosed quote is reported on the line where its record starts, not at the end of the file', () => {
    const data = plant();
    const csv = writeFile('quote.csv', [HEADER, 'q-1,WO-1,cut,Cut,cutting,', 'q-2,WO-1,cut,"Cut 4 bars,cutting,', 'q-3,WO-1,cut,Cut,cutting,', 'q-4,WO-1,cut,Cut,cutting,', ''].join('\n'));
    const r = cli(['import-tasks', csv, '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^row 3, csv: Quote Not Closed: a quoted field that starts on this line is never closed/m);
    expect(r.stderr).not.toMatch(/^row [45],/m);
    expect(taskCount(data)).toBe(0);
  });
});

describe('admin CLI import: file size (IMP-4 SEC-7)', () => {
  it('IMP-4 SEC-7 a file over the CLI limit (128 MiB) is refused before it is read, saying the limit and to split it, not "not valid UTF-8"; bad bytes are still an encoding error', () => {
    const data = plant();
    const big = path.join(tempDir(), 'huge.csv');
    // A sparse file: 129 MiB of NUL bytes, which are valid UTF-8, taking no disk space.
    fs.writeFileSync(big, `${HEADER}\n`);
    fs.truncateSync(big, 129 * 1024 * 1024);
    const r = cli(['import-tasks', big, '--data', data]);
    expectOneLineError(r, 1, /huge\.csv is 129\.0 MiB/, /up to 128\.0 MiB/, /50,000 rows/, /split it into smaller files/);
    expect(r.stderr).not.toMatch(/UTF-8/);
    expect(taskCount(data)).toBe(0);

    const latin1 = writeFile('latin1.csv', Buffer.concat([Buffer.from(`${HEADER}\nl-1,WO-1,cut,Schwei`), Buffer.from([0xdf]), Buffer.from('en,cutting,\n')]));
    expectOneLineError(cli(['import-tasks', latin1, '--data', data]), 1, /latin1\.csv is not valid UTF-8 text/, /save it as UTF-8/);
  });
});

describe('admin CLI: output into a pipe closed early (CLI-2)', () => {
  it('CLI-2 init | head -2: a reader that stops early ends the CLI quietly, exit 0, no EPIPE stack trace; the database is created', async () => {
    const data = path.join(tempDir(), 'server');
    const child = spawn(process.execPath, [CLI, 'init', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the CLI writes its first line, as head does after two.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the CLI did not exit within 20 s'));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(data, 'claims.db'))).toBe(true);
  });
});

describe('admin CLI: a database being migrated by another process (MIG-1 MIG-3)', () => {
  it('MIG-1 MIG-3 a command that opens the database while another process migrates it waits for that migration and uses it, instead of a false "Migration 007 failed"', async () => {
    const data = tempDir();
    expect(cli(['init', '--data', data]).code).toBe(0);
    const migration = fs.readFileSync(path.resolve('migrations/server/007_assignments_by_work_order.sql'), 'utf8');
    // The database as the release before left it: version 6.
    const db = openDb(data);
    db.exec('DROP INDEX assignments_by_work_order; PRAGMA user_version = 6');
    // Another process (here: this one, as `start` would) is applying 007 and has not committed yet.
    db.exec('BEGIN IMMEDIATE');
    db.exec(migration);
    db.exec('PRAGMA user_version = 7');
    const child = spawn(process.execPath, [CLI, 'add-department', '--data', data, '--id', 'cut', '--name', 'Cutting'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      // Long enough for the CLI to start and reach its migration (it waits up to 5 s for a lock).
      await new Promise((r) => setTimeout(r, 2_000));
      db.exec('COMMIT');
      db.close();
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (db.open) db.close();
    }
    expect(stdout).toMatch(/Created department cut/);
    expect(query(data, 'PRAGMA user_version')).toEqual([{ user_version: 7 }]);
  });
});

describe('the server process and a fault of its own (CLI-7)', () => {
  afterEach(() => killAll());

  it('CLI-7 a promise that fails with nobody to handle it (a fault) is logged with its stack, and the server goes on serving; also one rejected with a bare object, which has no text of its own', async () => {
    const data = tempDir();
    expect(cli(['init', '--data', data]).code).toBe(0);
    // The fault is planted from outside the product: a module loaded first rejects two promises
    // once the server runs (it has its signal handlers): with an Error, and with an object without
    // a prototype (String() of it throws).
    const fault =
      "data:text/javascript,const t = setInterval(() => { if (process.listenerCount('SIGTERM') > 0) { clearInterval(t); setTimeout(() => { Promise.reject(new Error('planted fault')); Promise.reject(Object.assign(Object.create(null), { planted: 'bare object' })); }, 200); } }, 10)";
    const server = await startCliServer(['--data', data], { nodeArgs: ['--import', fault] });
    const deadline = Date.now() + 10_000;
    while (!server.stdout().includes('not with an Error') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const line = server.stdout().split('\n').find((l) => l.includes('planted fault'));
    expect(line, server.stderr()).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 50, msg: expect.stringContaining('nobody to handle it'), err: { stack: expect.stringContaining('planted fault') } });
    // (The planted module's text is in the first one's stack too: look for the second by its message.)
    const bare = server.stdout().split('\n').find((l) => l.includes('not with an Error'));
    expect(bare, server.stderr()).toBeDefined();
    expect(JSON.parse(bare!)).toMatchObject({ level: 50, err: { message: 'a promise was rejected with an object (keys: planted), not with an Error' } });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await server.stop()).code).toBe(0);
  });
});
