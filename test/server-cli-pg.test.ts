/**
 * The admin CLI on PostgreSQL (--database / DATABASE_URL), as IT runs it: real child processes of
 * the compiled CLI against a throwaway cluster (test/support/pg-cluster.ts), a fresh database per
 * test. init, seed-demo, add-*, start, a claim over HTTP, backup with pg_dump (restored and
 * compared), and the one-line errors of a bad URL, an unreachable server and a missing database.
 * Skips, with the reason, only where PostgreSQL is not installed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPgTool } from '../src-server/store/pg/store.js';
import { killAll, oneLineError, runCli, startCliServer, withTimeout, type CliRun } from './support/cli-process.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';

const suite = pgUnavailable ? `admin CLI on PostgreSQL (skipped: ${pgUnavailable})` : 'admin CLI on PostgreSQL';

describe.skipIf(pgUnavailable !== null)(suite, () => {
  const pg = useCluster('cli');
  const dirs: string[] = [];

  afterEach(async () => {
    killAll();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  const freshDatabase = async () => (await pg.database()).url;

  function tempDir(prefix = 'cli-pg-'): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  function expectOneLine(r: CliRun, code: number, ...needles: RegExp[]): void {
    expect(r.code, r.stderr).toBe(code);
    const line = oneLineError(r);
    expect(line, r.stderr).not.toBeNull();
    for (const n of needles) expect(line).toMatch(n);
  }

  const count = async (url: string, sql: string): Promise<number> => {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    const rows = await pg.cluster.query<{ n: number }>(`SELECT (${sql})::int AS n`, [], name);
    return rows[0]!.n;
  };

  it('CLI-4 DEMO-1 init, seed-demo and start on --database; an operator claims over HTTP and the claim is in PostgreSQL', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    const data = tempDir();
    const init = runCli(['init', '--database', url]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Initialised PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:\d+\/cli_\d+_\d+ \(schema version 0 -> \d+/);
    expect(init.stdout).toContain(`start --database '${url}'`);
    // Nothing went to a SQLite file: the schema is in PostgreSQL.
    expect(await count(url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN ('tasks', 'terminals', 'api_tokens')")).toBe(3);
    expect(runCli(['init', '--database', url]).stdout).toMatch(/Already initialised: PostgreSQL database/);

    const seeded = runCli(['seed-demo', '--quiet', '--database', url, '--data', data, '--work-orders', '20', '--operators', '10']);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toMatch(/Demo plant written to PostgreSQL database postgres:\/\//);
    expect(fs.readdirSync(data)).toEqual(['demo-credentials.json']);
    const creds = JSON.parse(fs.readFileSync(path.join(data, 'demo-credentials.json'), 'utf8')) as { operators: Array<{ id: string }> };
    expect(await count(url, 'SELECT COUNT(*) FROM work_orders')).toBe(20);

    // DEMO-3: a second seed is refused, and --force is refused on PostgreSQL with what to do instead.
    expectOneLine(runCli(['seed-demo', '--database', url, '--data', data]), 1, /already holds data/);
    expectOneLine(runCli(['seed-demo', '--force', '--database', url, '--data', data]), 1, /does not replace a PostgreSQL database/, /dropdb/);

    // The same administration commands, through DATABASE_URL this time.
    const operator = creds.operators[0]!.id;
    const tokenRun = runCli(['add-api-token', '--user', operator, '--name', 'cli-test'], { env: { DATABASE_URL: url } });
    expect(tokenRun.code, tokenRun.stderr).toBe(0);
    const token = /api_[0-9a-f]{64}/.exec(tokenRun.stdout)![0];

    const server = await startCliServer(['--database', url]);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { backend: string };
    expect(health.backend).toBe('postgres');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const list = (await (await fetch(`${server.url}/api/tasks/claimable?limit=1`, { headers: auth })).json()) as { items: Array<{ id: string }> };
    const taskId = list.items[0]!.id;
    const claim = await fetch(`${server.url}/api/tasks/${encodeURIComponent(taskId)}/claim`, { method: 'POST', headers: auth, body: '{}' });
    expect(claim.status).toBe(200);
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    const [row] = await pg.cluster.query<{ operator_id: string }>('SELECT operator_id FROM tasks WHERE id = $1', [taskId], name);
    expect(row!.operator_id).toBe(operator);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/"backend":"postgres".*"msg":"sync server listening"/);
    // The server made no SQLite database anywhere it was pointed at.
    expect(fs.readdirSync(data)).toEqual(['demo-credentials.json']);
  });

  it('CLI-5 backup --database writes a pg_dump that restores to the same data, while the server runs; never overwrites without --force', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    expect(runCli(['seed-demo', '--quiet', '--database', url, '--data', tempDir(), '--work-orders', '20', '--operators', '10']).code).toBe(0);
    const server = await startCliServer(['--database', url]);
    const target = path.join(tempDir('backup-'), 'claims.dump');
    const r = runCli(['backup', '--database', url, '--to', target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pg_dump --format=custom of postgres:\/\/.*pg_restore --list: ok/);
    expect(fs.readdirSync(path.dirname(target))).toEqual(['claims.dump']);

    // Restore it into a new database, as the printed advice says: the same tasks and users.
    const restoredUrl = await freshDatabase();
    execFileSync(findPgTool('pg_restore')!, ['--no-owner', `--dbname=${restoredUrl}`, target], { stdio: 'pipe' });
    for (const table of ['tasks', 'users', 'terminals', 'assignments', 'changes']) {
      expect(await count(restoredUrl, `SELECT COUNT(*) FROM ${table}`), table).toBe(await count(url, `SELECT COUNT(*) FROM ${table}`));
    }
    const before = fs.statSync(target).mtimeMs;
    expectOneLine(runCli(['backup', '--database', url, '--to', target]), 1, /already exists/, /--force/);
    expect(fs.statSync(target).mtimeMs).toBe(before);
    expect(runCli(['backup', '--database', url, '--to', target, '--force']).code).toBe(0);
    expect((await server.stop()).code).toBe(0);
  });

  it('CLI-1 CLI-5 backup hands pg_dump the password by environment (PGPASSWORD), never on its command line, from a password= query parameter too', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    expect(runCli(['init', '--database', url]).code).toBe(0);
    // pg_dump on PATH is a wrapper that records what `ps` would show of it, then runs the real one.
    const bin = tempDir('fake-bin-');
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(
      path.join(bin, 'pg_dump'),
      `#!/bin/sh\nprintf 'argv: %s\\n' "$*" >> '${log}'\nprintf 'PGPASSWORD: %s\\n' "$PGPASSWORD" >> '${log}'\nexec '${findPgTool('pg_dump')!}' "$@"\n`,
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    // A space written %20 in another parameter stays one (libpq does not read `+` as a space).
    const withQuery = `${url}?application_name=backup&password=q-secret-1&options=-c%20statement_timeout%3D0`;
    const withUserInfo = url.replace('postgres@', 'postgres:u-secret-2@');
    for (const [dbUrl, secret] of [[withQuery, 'q-secret-1'], [withUserInfo, 'u-secret-2']] as const) {
      fs.rmSync(log, { force: true });
      const target = path.join(tempDir('backup-'), 'claims.dump');
      const r = runCli(['backup', '--database', dbUrl, '--to', target], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(secret);
      const calls = fs.readFileSync(log, 'utf8');
      expect(calls).toMatch(/^argv: --format=custom --file=\S+ --dbname=postgres:\/\//m);
      expect(calls.split('\n').find((l) => l.startsWith('argv:'))).not.toContain(secret);
      expect(calls).toContain(`PGPASSWORD: ${secret}`);
    }
  });

  it('CLI-4 a database on the same machine is reached through its unix socket (postgres://user@localhost/db?host=/socket/dir), whatever host the URL names; --commit-lanes sets the lanes', { timeout: 60_000 }, async () => {
    const url = await freshDatabase();
    const name = new URL(url).pathname.slice(1);
    // The host part names nothing reachable (.invalid never resolves): only the socket can answer.
    const socketUrl = `postgres://postgres@db.invalid/${name}?host=${encodeURIComponent(pg.cluster.dir)}&port=${pg.cluster.port}`;
    const init = runCli(['init', '--database', socketUrl]);
    expect(init.code, init.stderr).toBe(0);
    expect(await count(url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN ('tasks', 'terminals', 'api_tokens')")).toBe(3);
    const added = runCli(['add-department', '--id', 'cut', '--name', 'Cutting', '--database', socketUrl]);
    expect(added.code, added.stderr).toBe(0);
    expect(await count(url, "SELECT COUNT(*) FROM departments WHERE id = 'cut'")).toBe(1);
    // And the server, with more commit lanes than the default (a database on another machine).
    const server = await startCliServer(['--database', socketUrl, '--commit-lanes', '12']);
    expect(((await (await fetch(`${server.url}/healthz`)).json()) as { backend: string }).backend).toBe('postgres');
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^shopfloor_commit_lanes 12$/m);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expectOneLine(runCli(['start', '--database', socketUrl, '--commit-lanes', '0']), 2, /--commit-lanes/);
  });

  it('CLI-2 CLI-3 a URL that is not PostgreSQL, an unreachable server and a missing database each get one line and no stack trace', { timeout: 60_000 }, async () => {
    expectOneLine(runCli(['init', '--database', 'mysql://x@127.0.0.1/db']), 2, /must be a PostgreSQL URL/);
    expectOneLine(runCli(['init'], { env: { DATABASE_URL: 'claims.db' } }), 2, /must be a PostgreSQL URL/, /DATABASE_URL/);
    // A port nothing listens on: the cluster's, once that port is known to be closed is hard; use port 1.
    const refused = runCli(['start', '--port', '0', '--database', 'postgres://postgres@127.0.0.1:1/claims']);
    expectOneLine(refused, 1, /Cannot use the PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:1\/claims/, /ECONNREFUSED/, /Check that PostgreSQL is running/);
    const missing = runCli(['add-department', '--id', 'cut', '--name', 'Cutting', '--database', pg.cluster.url('no_such_db')]);
    expectOneLine(missing, 1, /does not exist/, /Create the database first/);
    // A password never appears in what is printed.
    const withPassword = runCli(['init', '--database', 'postgres://postgres:s3cret-pw@127.0.0.1:1/claims']);
    expectOneLine(withPassword, 1, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/claims/);
    expect(withPassword.stderr).not.toContain('s3cret-pw');
  });

  it('CLI-4 the README\'s setup: a role that is no superuser, owning its database, can init, seed, start and back up', { timeout: 120_000 }, async () => {
    const role = `shopfloor_${process.pid}`;
    const name = `owned_${process.pid}`;
    await pg.cluster.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw-${role}' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await pg.cluster.query(`CREATE DATABASE ${name} OWNER ${role}`);
    try {
      const url = `postgres://${role}:pw-${role}@${pg.cluster.host}:${pg.cluster.port}/${name}`;
      const init = runCli(['init'], { env: { DATABASE_URL: url } });
      expect(init.code, init.stderr).toBe(0);
      // A URL with a password is never printed back; the advice names the variable instead.
      expect(init.stdout).not.toContain(`pw-${role}`);
      expect(init.stdout).toContain('start --database "$DATABASE_URL"');
      const seeded = runCli(['seed-demo', '--quiet', '--data', tempDir(), '--work-orders', '10', '--operators', '10'], { env: { DATABASE_URL: url } });
      expect(seeded.code, seeded.stderr).toBe(0);
      const server = await startCliServer([], { env: { DATABASE_URL: url } });
      expect(((await (await fetch(`${server.url}/healthz`)).json()) as { database: { ok: boolean } }).database.ok).toBe(true);
      const target = path.join(tempDir('backup-'), 'plant.dump');
      const backup = runCli(['backup', '--to', target], { env: { DATABASE_URL: url } });
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).not.toContain(`pw-${role}`);
      expect((await server.stop()).code).toBe(0);
      expect(await count(url.replace(`${role}:pw-${role}`, 'postgres'), 'SELECT COUNT(*) FROM work_orders')).toBe(10);
    } finally {
      await pg.cluster.dropDatabase(name);
      await pg.cluster.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('CLI-4 without --database and with an empty DATABASE_URL the CLI uses SQLite in --data, as before', async () => {
    const data = tempDir();
    const r = runCli(['init', '--data', data], { env: { DATABASE_URL: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(data, 'claims.db'))).toBe(true);
    const server = await startCliServer(['--data', data], { env: { DATABASE_URL: '' } });
    const health = (await withTimeout(fetch(`${server.url}/healthz`), 5_000, '/healthz').then((res) => res.json())) as { backend: string };
    expect(health.backend).toBe('sqlite');
    expect((await server.stop()).code).toBe(0);
  });
});
