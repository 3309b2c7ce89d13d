/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, started with pg_ctl on a
 * free port of 127.0.0.1 (and a unix socket in that folder), trust authentication for local
 * connections only, fsync on (durable, as in production: tests and benchmarks measure real
 * commits). Nothing depends on a machine's own database.
 *
 * - The binaries (initdb, pg_ctl, postgres) come from PATH, else from the newest
 *   /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package, which .ci/run installs).
 *   Without them `pgUnavailable` says why, and suites skip with that reason.
 * - initdb and pg_ctl refuse to run as root: as root (CI) they run through `runuser` as the
 *   `postgres` user (created by Debian's package), or as a system user `shopfloor-pg` created
 *   here when that one is missing; the folder is handed to that user.
 * - Stopped by `stop()` (pg_ctl stop -m immediate, folder removed). A test process that dies
 *   without running it leaves no server behind: an 'exit' hook stops it, and a small detached
 *   watchdog shell sends the postmaster SIGQUIT (immediate shutdown) and removes the folder once
 *   the test process is gone, even after SIGKILL.
 *
 * By default the cluster's collation is ICU English (where "a" sorts before "B"), unlike SQLite's
 * binary order, so a query that forgets the schema's COLLATE "C" orders differently and fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The folder holding initdb, pg_ctl and postgres, or null. */
export function findPgBin(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // No Debian PostgreSQL.
  }
  for (const dir of dirs) if (TOOLS.every((t) => isExecutable(path.join(dir, t)))) return dir;
  return null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a cluster cannot be started here, or null when it can. */
export const pgUnavailable: string | null = (() => {
  if (process.platform === 'win32') return 'PostgreSQL test clusters need a POSIX system';
  if (!findPgBin()) return 'PostgreSQL is not installed (no initdb, pg_ctl and postgres on PATH or in /usr/lib/postgresql/*/bin; Debian: apt-get install postgresql)';
  if (isRoot && !isExecutable('/usr/sbin/runuser') && !isExecutable('/sbin/runuser') && !isExecutable('/usr/bin/runuser')) {
    return 'running as root without runuser, so initdb cannot run as an unprivileged user';
  }
  return null;
})();

/** The unprivileged user the cluster runs as when we are root (created if missing). */
function clusterUser(): string {
  for (const name of ['postgres', 'shopfloor-pg']) {
    try {
      execFileSync('id', ['-u', name], { stdio: 'ignore' });
      return name;
    } catch {
      // Not there.
    }
  }
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'shopfloor-pg'], { stdio: 'pipe' });
  return 'shopfloor-pg';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  readonly host: string;
  readonly port: number;
  /** The folder holding the data directory, the log and the unix socket. */
  readonly dir: string;
  /** A URL for database `name` (superuser `postgres`, no password: trust). */
  url(name: string): string;
  /** Create an empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drop a database, closing whatever is still connected to it. */
  dropDatabase(name: string): Promise<void>;
  /** Run SQL as the superuser in database `name` (default: postgres). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<R[]>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stop the server now (immediate shutdown) and remove the folder. */
  stop(): Promise<void>;
  /** Shut the server down (fast: connections are cut) but keep its data: the database is "down". */
  pause(): Promise<void>;
  /** Start it again on the same port, with the same data. */
  resume(): Promise<void>;
}

export interface ClusterOptions {
  /** Default collation: 'icu' (English, case-aware order: the default, see above) or 'c'. */
  collation?: 'icu' | 'c';
}

/** Start a throwaway cluster (a few seconds: initdb, then pg_ctl start -w). */
export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error(pgUnavailable ?? 'PostgreSQL is not installed');
  const user = isRoot ? clusterUser() : null;
  const run = (tool: string, args: string[]): string => {
    const cmd = path.join(bin, tool);
    const [file, argv] = user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
    try {
      return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${tool} failed: ${(e.stderr || e.stdout || e.message).trim()}`, { cause: err });
    }
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopfloor-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  if (user) {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, uid, gid);
  }
  let postmasterPid: number | null = null;
  const stopSync = () => {
    try {
      if (fs.existsSync(path.join(data, 'postmaster.pid'))) run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30']);
    } catch {
      if (postmasterPid) {
        try {
          process.kill(postmasterPid, 'SIGQUIT');
        } catch {
          // Already gone.
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const icu = (options.collation ?? 'icu') === 'icu' && run('initdb', ['--help']).includes('--locale-provider');
    // --no-sync: only initdb's own final flush of the template files is skipped (a throwaway
    // cluster); the running server fsyncs every commit (fsync=on below).
    run('initdb', [
      '-D',
      data,
      '--username=postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      ...(icu ? ['--locale-provider=icu', '--icu-locale=en-US'] : []),
      '--no-sync',
    ]);
    // Trust only local connections: the unix socket and 127.0.0.1 (and listen nowhere else).
    fs.writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    const host = '127.0.0.1';
    let port = 0;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < 3 && postmasterPid === null; attempt++) {
      port = await freePort();
      fs.writeFileSync(
        path.join(data, 'postgresql.auto.conf'),
        [
          `listen_addresses = '${host}'`,
          `port = ${port}`,
          `unix_socket_directories = '${dir}'`,
          'fsync = on',
          'synchronous_commit = on',
          'max_connections = 200',
          '',
        ].join('\n'),
      );
      if (user) execFileSync('chown', [user, path.join(data, 'pg_hba.conf'), path.join(data, 'postgresql.auto.conf')]);
      try {
        run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60']);
        postmasterPid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch (err) {
        lastError = err; // most likely the port was taken meanwhile: try another
      }
    }
    if (postmasterPid === null) throw lastError;

    process.once('exit', stopSync);
    // The watchdog: once this process is gone (even by SIGKILL), stop the server and clean up.
    spawn(
      'sh',
      [
        '-c',
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
          `if [ -f '${data}/postmaster.pid' ]; then kill -QUIT "$(head -n 1 '${data}/postmaster.pid')" 2>/dev/null; sleep 2; fi; rm -rf '${dir}'`,
      ],
      { detached: true, stdio: 'ignore' },
    ).unref();

    // PG_CLUSTER_SOCKET=1: URLs name the unix socket instead of 127.0.0.1 (benchmarks compare the two).
    const url = (name: string) =>
      process.env.PG_CLUSTER_SOCKET === '1'
        ? `postgres://postgres@localhost/${encodeURIComponent(name)}?host=${encodeURIComponent(dir)}&port=${port}`
        : `postgres://postgres@${host}:${port}/${encodeURIComponent(name)}`;
    const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], name = 'postgres'): Promise<R[]> => {
      const client = new pg.Client({ connectionString: url(name) });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    };
    const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
    return {
      host,
      port,
      dir,
      url,
      query,
      async createDatabase(name) {
        await query(`CREATE DATABASE ${ident(name)}`);
        return url(name);
      },
      async dropDatabase(name) {
        await query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      },
      log: () => {
        try {
          return fs.readFileSync(logFile, 'utf8');
        } catch {
          return '';
        }
      },
      async stop() {
        process.removeListener('exit', stopSync);
        stopSync();
      },
      async pause() {
        run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']);
      },
      async resume() {
        run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60']);
        postmasterPid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      },
    };
  } catch (err) {
    stopSync();
    throw err;
  }
}
