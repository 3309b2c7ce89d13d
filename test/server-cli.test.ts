/**
 * The admin CLI as IT runs it: real child processes of the compiled `out/node/src-server/cli.js`
 * (built by test/global-setup.ts) against temp data directories; and the demo plant generator
 * in-process for its determinism and rule checks. Every wait is bounded; children are killed in
 * afterEach.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { badgeHash, tokenHash, verifySecret } from '../src-shared/crypto/hash.js';
import { seedDemo } from '../src-server/demo.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';

const CLI = path.resolve('out/node/src-server/cli.js');
const dirs: string[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

function tempDir(prefix = 'cli-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion (bounded), with a clean environment: no SHOPFLOOR_DATA unless given. */
function cli(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.SHOPFLOOR_DATA) delete env.SHOPFLOOR_DATA;
  if (!options.env?.DATABASE_URL) delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 30_000, env });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function openDb(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'claims.db'), { fileMustExist: true });
}

function initialised(): string {
  const data = tempDir();
  expect(cli(['init', '--data', data]).code).toBe(0);
  return data;
}

/** One line on stderr, no stack trace. */
function expectOneLineError(r: Run, code: number, ...needles: RegExp[]): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const n of needles) expect(r.stderr).toMatch(n);
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('admin CLI: data directory and init', () => {
  it('CLI-4 init creates the data directory and the migrated database, and is idempotent', () => {
    const data = path.join(tempDir(), 'nested', 'server');
    const first = cli(['init', '--data', data]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Created database ${path.join(data, 'claims.db')}`);
    const db = openDb(data);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('tasks', 'terminals', 'api_tokens')").pluck().get()).toBe(3);
    db.close();
    const again = cli(['init', '--data', data]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Already initialised/);
  });

  it('CLI-4 the data directory comes from --data, else SHOPFLOOR_DATA, else ~/.shopfloor-claims/server', () => {
    const home = tempDir('home-');
    expect(cli(['init'], { env: { HOME: home } }).code).toBe(0);
    expect(fs.existsSync(path.join(home, '.shopfloor-claims', 'server', 'claims.db'))).toBe(true);
    const viaEnv = tempDir();
    expect(cli(['init'], { env: { HOME: home, SHOPFLOOR_DATA: viaEnv } }).code).toBe(0);
    expect(fs.existsSync(path.join(viaEnv, 'claims.db'))).toBe(true);
    const viaFlag = tempDir();
    expect(cli(['init', '--data', viaFlag], { env: { HOME: home, SHOPFLOOR_DATA: viaEnv } }).code).toBe(0);
    expect(fs.existsSync(path.join(viaFlag, 'claims.db'))).toBe(true);
  });

  it('CLI-3 admin commands refuse a data directory without a database (a mistyped --data) and create nothing', () => {
    const data = path.join(tempDir(), 'typo');
    const r = cli(['add-department', '--data', data, '--id', 'cutting', '--name', 'Cutting']);
    expectOneLineError(r, 1, /no database in/, /init --data/);
    expect(fs.existsSync(data)).toBe(false);
  });

  it('CLI-4 package.json runs the CLI as `npm run server --` and as the `shopfloor-server` bin', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin['shopfloor-server']).toBe('out/node/src-server/cli.js');
    expect(pkg.scripts.server).toContain('node out/node/src-server/cli.js');
    expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Admin CLI of the shop-floor sync server/);
    for (const c of ['start', 'init', 'seed-demo', 'backup', 'import-tasks', 'add-user', 'add-terminal', 'add-api-token', 'add-department']) {
      expect(help.stdout).toContain(c);
    }
  });
});

describe('admin CLI: departments, users, terminals, tokens', () => {
  it('CLI-1 add-terminal prints its token once and stores only its hash; a second enrolment of the id fails clearly', () => {
    const data = initialised();
    expect(cli(['add-department', '--data', data, '--id', 'cutting', '--name', 'Cutting']).code).toBe(0);
    const r = cli(['add-terminal', '--data', data, '--id', 'kiosk-1', '--name', 'Cutting kiosk', '--department', 'cutting']);
    expect(r.code, r.stderr).toBe(0);
    const token = /term_[0-9a-f]{64}/.exec(r.stdout)?.[0];
    expect(token).toBeDefined();
    expect(occurrences(r.stdout, token!)).toBe(1);
    expect(r.stdout).toMatch(/terminal id:\s+kiosk-1/);
    const db = openDb(data);
    const row = db.prepare('SELECT token_hash, departments FROM terminals WHERE id = ?').get('kiosk-1') as { token_hash: string; departments: string };
    db.close();
    expect(row.token_hash).toBe(tokenHash(token!));
    expect(JSON.parse(row.departments)).toEqual(['cutting']);
    // The plaintext token is nowhere in the database files.
    for (const f of fs.readdirSync(data)) expect(fs.readFileSync(path.join(data, f)).includes(token!)).toBe(false);

    const again = cli(['add-terminal', '--data', data, '--id', 'kiosk-1', '--name', 'Other', '--department', 'cutting']);
    expectOneLineError(again, 1, /terminal "kiosk-1" already exists/, /choose another --id/);
    expect(again.stdout).not.toMatch(/term_/);
  });

  it('CLI-1 add-api-token prints a bearer token once, stored hashed and bound to the user', () => {
    const data = initialised();
    const admin = cli(['add-user', '--data', data, '--id', 'boss', '--name', 'The Boss', '--role', 'admin', '--password-stdin'], { input: 'correct horse battery\n' });
    expect(admin.code, admin.stderr).toBe(0);
    const r = cli(['add-api-token', '--data', data, '--user', 'boss', '--name', 'erp']);
    expect(r.code, r.stderr).toBe(0);
    const token = /api_[0-9a-f]{64}/.exec(r.stdout)?.[0];
    expect(token).toBeDefined();
    expect(occurrences(r.stdout, token!)).toBe(1);
    const db = openDb(data);
    const row = db.prepare('SELECT user_id, name, kind, token_hash FROM api_tokens').get() as Record<string, string>;
    const user = db.prepare('SELECT password_hash FROM users WHERE id = ?').get('boss') as { password_hash: string };
    db.close();
    expect(row).toEqual({ user_id: 'boss', name: 'erp', kind: 'api', token_hash: tokenHash(token!) });
    expect(verifySecret('correct horse battery', user.password_hash)).toBe(true);

    expectOneLineError(cli(['add-api-token', '--data', data, '--user', 'ghost', '--name', 'erp']), 1, /user "ghost" not found/, /add-user/);
  });

  it('CLI-1 add-user stores the badge as a keyed hash and the PIN and password with scrypt', () => {
    const data = initialised();
    expect(cli(['add-department', '--data', data, '--id', 'cutting', '--name', 'Cutting', '--limit', '4']).code).toBe(0);
    expect(cli(['add-department', '--data', data, '--id', 'welding', '--name', 'Welding']).code).toBe(0);
    const r = cli([
      'add-user', '--data', data, '--id', 'ann', '--name', 'Ann Lee', '--role', 'operator,supervisor',
      '--department', 'cutting', '--department', 'welding', '--badge', 'b 100200', '--pin', '4321', '--password', 'longenough',
      '--limit', '7', '--skills', 'laser,saw',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('4321');
    expect(r.stdout).not.toContain('longenough');
    const db = openDb(data);
    const salt = JSON.parse(db.prepare("SELECT value FROM settings WHERE key = 'site_salt'").pluck().get() as string) as string;
    const u = db.prepare('SELECT * FROM users WHERE id = ?').get('ann') as Record<string, string | number>;
    const depts = db.prepare('SELECT department_id FROM user_departments WHERE user_id = ? ORDER BY 1').pluck().all('ann');
    const limit = db.prepare('SELECT task_limit FROM departments WHERE id = ?').pluck().get('cutting');
    db.close();
    expect(u.badge_hash).toBe(badgeHash(salt, 'B100200'));
    expect(verifySecret('4321', u.pin_hash as string)).toBe(true);
    expect(verifySecret('longenough', u.password_hash as string)).toBe(true);
    expect(JSON.parse(u.roles as string)).toEqual(['operator', 'supervisor']);
    expect(JSON.parse(u.skills as string)).toEqual(['laser', 'saw']);
    expect(u.task_limit).toBe(7);
    expect(depts).toEqual(['cutting', 'welding']);
    expect(limit).toBe(4);

    // CLI-3: refusals that depend on the data.
    expectOneLineError(cli(['add-user', '--data', data, '--id', 'ann', '--name', 'X', '--role', 'admin']), 1, /user "ann" already exists/);
    expectOneLineError(
      cli(['add-user', '--data', data, '--id', 'bob', '--name', 'Bob', '--role', 'operator', '--department', 'cutting', '--badge', 'B100200']),
      1,
      /badge B100200 already belongs to user "ann"/,
    );
    expectOneLineError(
      cli(['add-user', '--data', data, '--id', 'bob', '--name', 'Bob', '--role', 'operator', '--department', 'paint']),
      1,
      /department "paint" not found/,
      /add-department --id paint/,
    );
  });

  it.each([
    ['an unknown role', ['add-user', '--id', 'x1', '--name', 'X', '--role', 'boss', '--department', 'cutting'], [/--role/, /unknown role "boss"/, /operator, supervisor, admin/]],
    ['an invalid id', ['add-user', '--id', 'bad id!', '--name', 'X', '--role', 'operator', '--department', 'cutting'], [/--id/, /letters, digits/]],
    ['a missing required option', ['add-terminal', '--name', 'Kiosk', '--department', 'cutting'], [/required option '--id <id>' not specified/]],
    ['an operator without a department', ['add-user', '--id', 'x2', '--name', 'X', '--role', 'operator'], [/needs at least one --department/]],
    ['both password options', ['add-user', '--id', 'x3', '--name', 'X', '--role', 'admin', '--password', 'abcdefgh', '--password-stdin'], [/cannot be used with/]],
    ['a short password', ['add-user', '--id', 'x3', '--name', 'X', '--role', 'admin', '--password', 'short'], [/8 to 200 characters/]],
    ['a port out of range', ['start', '--port', '70000'], [/--port/, /0 to 65535/]],
    ['half a TLS configuration', ['start', '--tls-cert', 'cert.pem'], [/--tls-cert and --tls-key go together/]],
    ['an unknown command', ['frobnicate'], [/unknown command 'frobnicate'/]],
    ['an unknown file type', ['import-tasks', 'orders.xlsx'], [/must end in \.csv or \.json/]],
  ])('CLI-2 %s is a usage error: exit 2, one line naming the problem and what to do', (_what, args, needles) => {
    const data = initialised();
    const [command, ...rest] = args as string[];
    const r = cli([command!, ...(command === 'frobnicate' ? [] : ['--data', data]), ...rest]);
    expectOneLineError(r, 2, ...(needles as RegExp[]), /\(see: shopfloor-server [a-z-]* ?--help\)\n$/);
    // Nothing was written.
    const db = openDb(data);
    expect(db.prepare('SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM terminals)').pluck().get()).toBe(0);
    db.close();
  });
});

describe('admin CLI: import-tasks', () => {
  const header = 'taskId,workOrderNumber,workOrderTitle,step,workContent,departmentId,status,priority,dueAt,requiredSkills';

  function withDepartments(): string {
    const data = initialised();
    for (const d of ['cutting', 'quality']) expect(cli(['add-department', '--data', data, '--id', d, '--name', d]).code).toBe(0);
    return data;
  }

  function taskCount(data: string): number {
    const db = openDb(data);
    const n = db.prepare('SELECT COUNT(*) FROM tasks').pluck().get() as number;
    db.close();
    return n;
  }

  it('CLI-6 a valid CSV and a valid JSON file are imported', () => {
    const data = withDepartments();
    const csv = path.join(tempDir(), 'orders.csv');
    fs.writeFileSync(
      csv,
      [header, 'c-1,WO-1,Brackets,cut,"Cut 4 blanks, 10 mm",cutting,pending,2,2026-02-01T08:00:00Z,laser', 'c-2,WO-1,Brackets,inspect,Inspect,quality,draft,,,'].join('\n'),
    );
    const r = cli(['import-tasks', csv, '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 tasks created, 0 updated, 1 work orders/);
    const json = path.join(tempDir(), 'orders.json');
    fs.writeFileSync(json, JSON.stringify({ rows: [{ taskId: 'j-1', workOrderNumber: 'WO-2', step: 'make', workContent: 'Make', departmentId: 'cutting', priority: 1 }] }));
    const j = cli(['import-tasks', json, '--data', data]);
    expect(j.code, j.stderr).toBe(0);
    expect(taskCount(data)).toBe(3);
    const db = openDb(data);
    const t = db.prepare('SELECT * FROM tasks WHERE id = ?').get('c-1') as Record<string, unknown>;
    db.close();
    expect(t).toMatchObject({ work_content: 'Cut 4 blanks, 10 mm', priority: 2, due_at: Date.parse('2026-02-01T08:00:00Z'), required_skills: '["laser"]' });
  });

  it('CLI-6 a broken CSV imports nothing, prints "row N, field: message" per error and exits 1', () => {
    const data = withDepartments();
    const csv = path.join(tempDir(), 'broken.csv');
    fs.writeFileSync(
      csv,
      [header, 'ok-1,WO-3,Good,cut,Cut,cutting,pending,1,,', 'ok-2,WO-3,Good,cut,Cut,cutting,pending,high,,', "bad id,WO-3,Good,cut,Cut,cutting,weird,1,,"].join('\n'),
    );
    const r = cli(['import-tasks', csv, '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^row 3, priority: .*whole number/m);
    expect(r.stderr).toMatch(/^row 4, taskId: /m);
    expect(r.stderr).toMatch(/^row 4, status: .*draft, pending, cancelled/m);
    expect(r.stderr).toMatch(/^error: nothing was imported: fix the 3 errors above/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(taskCount(data)).toBe(0);

    // A row the store refuses (unknown department) also rolls back the valid rows.
    const store = path.join(tempDir(), 'unknown-dept.csv');
    fs.writeFileSync(store, [header, 'ok-1,WO-4,Good,cut,Cut,cutting,pending,1,,', 'ok-2,WO-4,Good,cut,Cut,nowhere,pending,1,,'].join('\n'));
    const s = cli(['import-tasks', store, '--data', data]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^row 3, departmentId: department "nowhere" does not exist/m);
    expect(taskCount(data)).toBe(0);

    expectOneLineError(cli(['import-tasks', path.join(tempDir(), 'missing.csv'), '--data', data]), 1, /cannot read .*missing\.csv: no such file/);
  });
});

describe('admin CLI: seed-demo', () => {
  it('DEMO-1 seed-demo builds the advertised plant through the real engine and prints how to sign in', () => {
    const data = tempDir();
    const r = cli(['seed-demo', '--data', data], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const db = openDb(data);
    const count = (sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args) as number;
    try {
      expect(count('SELECT COUNT(*) FROM departments')).toBeGreaterThanOrEqual(5);
      expect(count(`SELECT COUNT(*) FROM users WHERE roles LIKE '%"operator"%' AND badge_hash IS NOT NULL`)).toBeGreaterThanOrEqual(50);
      expect(count(`SELECT COUNT(*) FROM users WHERE roles LIKE '%"operator"%' AND pin_hash IS NOT NULL`)).toBeGreaterThan(0);
      // A supervisor with a password for every department, and an admin.
      expect(
        count(`SELECT COUNT(*) FROM departments d WHERE NOT EXISTS (
                 SELECT 1 FROM users u JOIN user_departments ud ON ud.user_id = u.id
                 WHERE ud.department_id = d.id AND u.roles LIKE '%"supervisor"%' AND u.password_hash IS NOT NULL)`),
      ).toBe(0);
      expect(count(`SELECT COUNT(*) FROM users WHERE roles LIKE '%"admin"%'`)).toBe(1);
      expect(count('SELECT COUNT(*) FROM terminals')).toBeGreaterThanOrEqual(2);
      expect(count('SELECT COUNT(*) FROM tasks')).toBeGreaterThanOrEqual(2000);
      expect(count('SELECT COUNT(*) FROM work_orders')).toBeGreaterThanOrEqual(300);
      for (const status of ['draft', 'pending', 'in_progress', 'completed', 'cancelled']) {
        expect(count('SELECT COUNT(*) FROM tasks WHERE status = ?', status), status).toBeGreaterThan(0);
      }
      // Claimed-but-not-started and supervisor-assigned tasks exist too.
      for (const status of ['accepted', 'assigned', 'in_progress', 'submitted', 'released', 'rejected']) {
        expect(count('SELECT COUNT(*) FROM assignments WHERE status = ?', status), status).toBeGreaterThan(0);
      }
      // The make/inspect exclusion pair appears on work orders...
      expect(
        count(`SELECT COUNT(*) FROM work_orders w WHERE EXISTS (SELECT 1 FROM tasks WHERE work_order_id = w.id AND step = 'make')
                 AND EXISTS (SELECT 1 FROM tasks WHERE work_order_id = w.id AND step = 'inspect')`),
      ).toBeGreaterThan(0);
      // ...and operators who may do both steps exist, so XSTEP-1 matters.
      expect(
        count(`SELECT COUNT(*) FROM users u WHERE EXISTS (SELECT 1 FROM user_departments WHERE user_id = u.id AND department_id = 'assembly')
                 AND EXISTS (SELECT 1 FROM user_departments WHERE user_id = u.id AND department_id = 'quality')`),
      ).toBeGreaterThan(0);
      // History came through the engine: an audit event per operation, assignments for held tasks.
      expect(count("SELECT COUNT(*) FROM audit_events WHERE action = 'claim' AND outcome = 'applied'")).toBeGreaterThan(500);
      expect(
        count(`SELECT COUNT(*) FROM tasks t WHERE t.operator_id IS NOT NULL AND t.status IN ('pending', 'in_progress')
                 AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = t.operator_id AND a.status IN ('assigned', 'accepted', 'in_progress'))`),
      ).toBe(0);
      // Due times are spread over the coming days, relative to now.
      const due = db.prepare("SELECT MIN(due_at) AS lo, MAX(due_at) AS hi FROM tasks WHERE status = 'pending'").get() as { lo: number; hi: number };
      expect(due.hi - due.lo).toBeGreaterThan(3 * 24 * 3600_000);
      expect(due.hi).toBeGreaterThan(Date.now() + 2 * 24 * 3600_000);

      // CLI-1: what was printed lets a person sign in, and matches the stored hashes.
      const creds = JSON.parse(fs.readFileSync(path.join(data, 'demo-credentials.json'), 'utf8')) as {
        operators: Array<{ id: string; badge: string; pin: string | null }>;
        supervisors: Array<{ id: string; password: string }>;
        terminals: Array<{ id: string; token: string }>;
        admin: { id: string; password: string; apiToken: string };
      };
      expect(fs.statSync(path.join(data, 'demo-credentials.json')).mode & 0o777).toBe(0o600);
      const salt = JSON.parse(db.prepare("SELECT value FROM settings WHERE key = 'site_salt'").pluck().get() as string) as string;
      const op = creds.operators[0]!;
      expect(r.stdout).toMatch(new RegExp(`${op.id}\\s+.*\\s${op.badge}\\s`));
      expect(db.prepare('SELECT id FROM users WHERE badge_hash = ?').pluck().get(badgeHash(salt, op.badge))).toBe(op.id);
      const withPin = creds.operators.find((o) => o.pin)!;
      expect(verifySecret(withPin.pin!, db.prepare('SELECT pin_hash FROM users WHERE id = ?').pluck().get(withPin.id) as string)).toBe(true);
      const sup = creds.supervisors[0]!;
      expect(r.stdout).toContain(sup.password);
      expect(verifySecret(sup.password, db.prepare('SELECT password_hash FROM users WHERE id = ?').pluck().get(sup.id) as string)).toBe(true);
      for (const t of creds.terminals) {
        expect(occurrences(r.stdout, t.token)).toBe(1);
        expect(db.prepare('SELECT token_hash FROM terminals WHERE id = ?').pluck().get(t.id)).toBe(tokenHash(t.token));
      }
      expect(db.prepare('SELECT user_id FROM api_tokens WHERE token_hash = ?').pluck().get(tokenHash(creds.admin.apiToken))).toBe(creds.admin.id);
    } finally {
      db.close();
    }
  });

  it('DEMO-3 seed-demo refuses a database that holds data unless --force, which keeps a copy of the old one', () => {
    const data = initialised();
    expect(cli(['add-department', '--data', data, '--id', 'mine', '--name', 'Mine']).code).toBe(0);
    const refused = cli(['seed-demo', '--data', data, '--work-orders', '10', '--operators', '10']);
    expectOneLineError(refused, 1, /already holds data \(1 departments/, /--force/);
    let db = openDb(data);
    expect(db.prepare('SELECT id FROM departments').pluck().all()).toEqual(['mine']);
    db.close();
    expect(fs.existsSync(path.join(data, 'demo-credentials.json'))).toBe(false);

    const forced = cli(['seed-demo', '--data', data, '--force', '--work-orders', '10', '--operators', '10']);
    expect(forced.code, forced.stderr).toBe(0);
    const kept = fs.readdirSync(data).find((f) => f.startsWith('claims.db.before-seed-demo-'));
    expect(kept).toBeDefined();
    db = openDb(data);
    expect(db.prepare("SELECT COUNT(*) FROM departments WHERE id = 'mine'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM work_orders').pluck().get()).toBe(10);
    db.close();
    const old = new Database(path.join(data, kept!), { fileMustExist: true });
    expect(old.prepare('SELECT id FROM departments').pluck().all()).toEqual(['mine']);
    old.close();

    // Seeding the now-demo database again is refused too.
    expectOneLineError(cli(['seed-demo', '--data', data, '--work-orders', '10', '--operators', '10']), 1, /already holds data/);
  });

  it('DEMO-1 seed-demo --quiet (what npm start runs) prints what was built and where the credentials are, and no secret', () => {
    const data = tempDir();
    const r = cli(['seed-demo', '--quiet', '--data', data, '--work-orders', '10', '--operators', '10']);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(data, 'demo-credentials.json');
    const creds = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      operators: Array<{ badge: string; pin: string | null }>;
      supervisors: Array<{ password: string }>;
      terminals: Array<{ token: string }>;
      admin: { password: string; apiToken: string };
    };
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout.trim().split('\n').length).toBeLessThanOrEqual(4);
    expect(r.stdout).toContain(`Demo plant written to ${path.join(data, 'claims.db')}`);
    expect(r.stdout).toContain(file);
    const secrets = [
      creds.admin.password,
      creds.admin.apiToken,
      ...creds.terminals.map((t) => t.token),
      ...creds.supervisors.map((u) => u.password),
      ...creds.operators.map((o) => o.badge),
    ];
    for (const secret of secrets) expect(r.stdout).not.toContain(secret);
  });

  it('DEMO-2 the same seed and clock build the same plant, and the plant obeys the rules it demonstrates', async () => {
    const now = Date.UTC(2026, 0, 5, 6, 0, 0);
    const build = async (seed: number) => {
      const store = new SqliteServerStore(path.join(tempDir('demo-'), 'claims.db'), { synchronous: 'NORMAL' });
      try {
        const plant = await seedDemo(store, { now, seed, sizes: { operators: 30, workOrders: 120 } });
        const tasks = store.db.prepare('SELECT id, step, department_id, status, operator_id, priority, due_at, version, created_at FROM tasks ORDER BY id').all();
        const assignments = store.db.prepare('SELECT task_id, user_id, status, created_at, started_at, ended_at FROM assignments ORDER BY id').all();
        const violations = {
          // CAP-1/CAP-2: nobody holds more than their limit.
          overLimit: store.db
            .prepare(
              `SELECT u.id FROM users u WHERE (SELECT COUNT(*) FROM tasks t WHERE t.operator_id = u.id AND t.status IN ('pending', 'in_progress'))
                 > COALESCE(u.task_limit, 10)`,
            )
            .pluck()
            .all(),
          // XSTEP-1: nobody worked both make and inspect of one work order.
          makeAndInspect: store.db
            .prepare(
              `SELECT a.user_id, a.work_order_id FROM assignments a JOIN assignments b ON a.user_id = b.user_id AND a.work_order_id = b.work_order_id
               WHERE a.step = 'make' AND b.step = 'inspect'
                 AND (a.status IN ('assigned','accepted','in_progress','submitted') OR a.started_at IS NOT NULL)
                 AND (b.status IN ('assigned','accepted','in_progress','submitted') OR b.started_at IS NOT NULL)`,
            )
            .all(),
          // OWN-1: a held task has exactly one active assignment, of its holder.
          badHolder: store.db
            .prepare(
              `SELECT t.id FROM tasks t WHERE t.status IN ('pending', 'in_progress') AND t.operator_id IS NOT NULL
                 AND (SELECT COUNT(*) FROM assignments a WHERE a.task_id = t.id AND a.user_id = t.operator_id AND a.status IN ('assigned','accepted','in_progress')) <> 1`,
            )
            .pluck()
            .all(),
        };
        return { plant, tasks, assignments, violations };
      } finally {
        await store.close();
      }
    };
    const a = await build(7);
    const b = await build(7);
    const c = await build(8);
    const withoutSecrets = (p: typeof a.plant) => ({
      ...p,
      supervisors: p.supervisors.map((s) => ({ ...s, password: '' })),
      admin: { ...p.admin, password: '', apiToken: '' },
      terminals: p.terminals.map((t) => ({ ...t, token: '' })),
    });
    expect(withoutSecrets(b.plant)).toEqual(withoutSecrets(a.plant));
    expect(b.tasks).toEqual(a.tasks);
    expect(b.assignments).toEqual(a.assignments);
    expect(c.tasks).not.toEqual(a.tasks);
    // Secrets are fresh on every run.
    expect(b.plant.admin.password).not.toBe(a.plant.admin.password);
    expect(b.plant.terminals[0]!.token).not.toBe(a.plant.terminals[0]!.token);
    for (const run of [a, c]) expect(run.violations).toEqual({ overLimit: [], makeAndInspect: [], badHolder: [] });
    // Nothing happens after `now`, and nothing is claimed before it was created.
    expect(a.assignments.every((x) => (x as { created_at: number }).created_at <= now)).toBe(true);
    expect(a.plant.counts.tasks).toBe(a.tasks.length);
  });
});

describe('admin CLI: start and backup', () => {
  interface Started {
    child: ChildProcessWithoutNullStreams;
    url: string;
    stdout: () => string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  }

  function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      p.finally(() => clearTimeout(timer)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  }

  /**
   * Start the server as a child and wait (bounded) for its "listening" log line. `detached`: in a
   * process group of its own, as a command started from a terminal window is.
   */
  async function start(data: string, options: { detached?: boolean } = {}): Promise<Started> {
    const child = spawn(process.execPath, [CLI, 'start', '--data', data, '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: '' },
      detached: options.detached ?? false,
    });
    children.add(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue;
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg === 'sync server listening' && entry.url) resolve(entry.url);
          }
        });
        void exited.then(({ code }) => reject(new Error(`server exited early with ${code}: ${err}`)));
      }),
      15_000,
      'the "sync server listening" log line',
    );
    return { child, url, stdout: () => out, exited };
  }

  it.each(['SIGTERM', 'SIGINT'] as const)('CLI-7 start on port 0 becomes ready, answers /healthz, and stops gracefully on %s with exit 0', async (signal) => {
    const data = tempDir();
    const s = await start(data);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await withTimeout(fetch(`${s.url}/healthz`), 5_000, '/healthz');
    expect(health.status).toBe(200);
    // Every log line is JSON when stdout is not a terminal.
    for (const line of s.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    s.child.kill(signal);
    const { code } = await withTimeout(s.exited, 5_000, 'the server to exit');
    expect(code).toBe(0);
    expect(s.stdout()).toMatch(/"msg":"sync server stopped"/);
    expect(fs.existsSync(path.join(data, 'claims.db'))).toBe(true);
  });

  it('CLI-7 a Ctrl+C to the process group followed at once by a SIGTERM from a supervising script (npm start) is one clean shutdown, exit 0', async () => {
    const data = tempDir();
    const s = await start(data, { detached: true });
    // What a terminal window does on Ctrl+C: SIGINT to every process of the foreground group...
    process.kill(-s.child.pid!, 'SIGINT');
    // ...and what a parent that passes the signal on as well adds (here at once, the worst case).
    expect(s.child.kill('SIGTERM')).toBe(true);
    const { code, signal } = await withTimeout(s.exited, 10_000, 'the server to exit');
    expect({ code, signal }, s.stdout()).toEqual({ code: 0, signal: null });
    expect(s.stdout()).toMatch(/"msg":"sync server stopped"/);
    expect(s.stdout()).not.toContain('second signal');
    // Whichever of the two is handled second is taken as the same request.
    expect(s.stdout()).toMatch(/"signal":"SIG(INT|TERM)".*"msg":"already shutting down"/);
  });

  it('CLI-3 start on a port that is in use says so in one line and exits 1', async () => {
    const data = tempDir();
    const s = await start(data);
    const port = new URL(s.url).port;
    const r = cli(['start', '--data', data, '--port', port, '--host', '127.0.0.1'], { timeoutMs: 15_000 });
    expectOneLineError(r, 1, new RegExp(`port ${port} on 127.0.0.1 is already in use`), /choose another --port/);
    s.child.kill('SIGTERM');
    await withTimeout(s.exited, 5_000, 'the server to exit');
  });

  it('CLI-5 backup copies the database online while the server runs, verified, with the same counts; never overwrites without --force', async () => {
    const data = tempDir();
    expect(cli(['seed-demo', '--data', data, '--work-orders', '60', '--operators', '20']).code).toBe(0);
    const s = await start(data);
    const target = path.join(tempDir('backup-'), 'claims-backup.db');
    const r = cli(['backup', '--data', data, '--to', target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/integrity_check: ok/);
    const live = openDb(data);
    const liveTasks = live.prepare('SELECT COUNT(*) FROM tasks').pluck().get() as number;
    live.close();
    expect(r.stdout).toContain(`${liveTasks} tasks`);
    expect(r.stdout).toMatch(/\(\d+(\.\d)? (KiB|MiB)\)/);
    // One self-contained file, consistent on its own.
    expect(fs.readdirSync(path.dirname(target))).toEqual(['claims-backup.db']);
    const copy = new Database(target, { readonly: true, fileMustExist: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.prepare('SELECT COUNT(*) FROM tasks').pluck().get()).toBe(liveTasks);
    copy.close();

    const before = fs.statSync(target).mtimeMs;
    expectOneLineError(cli(['backup', '--data', data, '--to', target]), 1, /already exists/, /--force/);
    expect(fs.statSync(target).mtimeMs).toBe(before);
    expect(cli(['backup', '--data', data, '--to', target, '--force']).code).toBe(0);

    s.child.kill('SIGTERM');
    expect((await withTimeout(s.exited, 5_000, 'the server to exit')).code).toBe(0);
  });
});
