/**
 * Connecting to the PostgreSQL authority: the pool (node-postgres), how its values come back, and
 * the schema migrations of `migrations/server-pg`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadMigrations, MigrationError, type Migration } from '../../../src-shared/db/migrate.js';
import { DomainError } from '../../../src-shared/domain/errors.js';
import { isPostgresUrl, redactUrl } from './options.js';

/**
 * Every migration of this series runs under this transaction-level advisory lock, so two server
 * instances starting together on one database migrate it once, one after the other. (An arbitrary
 * constant: "shopfloor" as a number; advisory locks are per database.)
 */
export const MIGRATION_LOCK = 0x73686f70666c6f6fn;

/**
 * The timer lease (store.holdTimerLease): a session-level advisory lock one instance holds on a
 * connection of its own, released by PostgreSQL when that session ends ("shoptime" as a number).
 */
export const TIMER_LEASE_LOCK = 0x73686f7074696d65n;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * BIGINT (and the NUMERIC that SUM(bigint) gives) come back as JS numbers, as SQLite's INTEGER
 * does: the store's values (epoch ms, ids, counts) all stay far below 2^53.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgOpenOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection before giving up (default 10 s). */
  connectTimeoutMs?: number;
}

/** How every connection of the store is configured (the pool's and the lease's). */
export function connectionConfig(url: string, options: PgOpenOptions = {}): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Durability: a commit returns only once it is flushed (PostgreSQL's default, made explicit so
    // a server- or role-level setting cannot weaken it; checked at open). Keepalives on the
    // database's side of the connection: an instance whose machine died or whose link was cut
    // sends no FIN, so without them its session (the timer lease, the row locks of a transaction
    // it was in) would live for the OS default of two hours; with them, about 25 seconds.
    options: '-c synchronous_commit=on -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
    types: TYPES,
    application_name: 'shopfloor-server',
    // And on this side, so a database that vanished is noticed too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export function createPool(url: string, options: PgOpenOptions = {}): pg.Pool {
  if (!isPostgresUrl(url)) {
    throw new Error(`"${url}" is not a PostgreSQL URL: give one like postgres://user:password@host:5432/database.`);
  }
  // Pipeline mode: a statement is sent without waiting for the answers to those before it. A
  // connection used one statement at a time behaves as without it; a group's transaction sends its
  // writes ahead (Tx.pipelineWrites).
  const pool = new pg.Pool({ ...connectionConfig(url, options), max: options.maxConnections ?? 10, pipeline: true });
  // An idle connection that breaks (the database restarted) is dropped by the pool; without a
  // listener the 'error' event would crash the process.
  pool.on('error', () => {});
  return pool;
}

/** What went wrong reaching the database, and what to do about it. */
export function describeConnectError(url: string, err: unknown): Error {
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  const reason = e.message || String(err);
  let advice: string;
  switch (e.code) {
    case '3D000':
      advice = 'Create the database first (e.g. `createdb <name>` or CREATE DATABASE), or fix the name in the URL.';
      break;
    case '28P01':
    case '28000':
      advice = 'Check the user name and password in the URL, and that pg_hba.conf lets this host connect.';
      break;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      advice = 'Check that PostgreSQL is running and listening there, and that the host and port in the URL are right.';
      break;
    default:
      advice = 'Check that PostgreSQL is running and that the URL (--database or DATABASE_URL) names the right host, port, user, password and database.';
  }
  const out = new Error(`Cannot use the PostgreSQL database ${where}: ${reason}${e.code ? ` (${e.code})` : ''}. ${advice}`);
  out.name = 'DatabaseConnectError';
  return out;
}

/** `migrations/server-pg`, found from this file whether it runs from source or from out/node. */
export function pgMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'migrations', 'server-pg');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new MigrationError(`Cannot find migrations/server-pg near ${fileURLToPath(import.meta.url)}; is the install complete?`);
}

export function pgMigrations(): Migration[] {
  return loadMigrations(pgMigrationsDir(), fs);
}

export interface PgMigrationReport {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Bring the database up to the newest migration: pending ones in one transaction under
 * MIGRATION_LOCK, each recorded in `schema_migrations`. A database newer than this code is refused;
 * a failed migration leaves it as it was.
 */
export async function migratePg(client: pg.ClientBase, migrations: readonly Migration[], label: string): Promise<PgMigrationReport> {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    BIGINT PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const current = Number((await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
    if (current > latest) {
      throw new MigrationError(
        `The database ${label} has schema version ${current}, but this version of the server only knows versions up to ${latest}. ` +
          'It was written by a newer release: run that release, or restore a backup (pg_dump) made by this one.',
      );
    }
    const pending = migrations.filter((m) => m.version > current);
    for (const m of pending) {
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new MigrationError(
          `Migration ${m.name} failed on ${label}: ${reason}. Nothing was changed; the database is still at version ${current}.`,
        );
      }
    }
    await client.query('COMMIT');
    return { from: current, to: Math.max(current, latest), applied: pending.map((m) => m.name) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Error codes that mean "the link to the database is down", not "this statement is wrong". */
const LINK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);

/**
 * The database cannot be reached or went away mid-statement: refused or reset connections, a
 * server shutting down or starting (57P01..57P03), connection exceptions (class 08), a pool
 * timeout, node-postgres's "Connection terminated".
 */
export function isLinkError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (LINK_ERRNOS.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(message);
}

/**
 * PostgreSQL's "try the transaction again" errors: a deadlock victim (40P01), a serialisation
 * failure (40001), a lock wait that ran past lock_timeout (55P03). The transaction was rolled back
 * whole, so nothing of it happened.
 */
const TRY_AGAIN_SQLSTATES = new Set(['40P01', '40001', '55P03']);

export function isTryAgainError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRY_AGAIN_SQLSTATES.has(code);
}

/**
 * PROTO-9 / health: a lost database link becomes `unavailable` (503, canRetry;
 * `database_unreachable`), and so does a transaction PostgreSQL rolled back for a lost race that
 * the store's own retries did not get past (`database_busy`); terminals get either as a `retry`
 * outcome, instead of an internal error. Anything else passes unchanged.
 */
export function unavailableIfTransient(err: unknown): unknown {
  if (isLinkError(err)) return new DomainError('unavailable', { reason: 'database_unreachable' });
  if (isTryAgainError(err)) return Object.assign(new DomainError('unavailable', { reason: 'database_busy' }), { cause: err });
  return err;
}
