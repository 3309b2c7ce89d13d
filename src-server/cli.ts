#!/usr/bin/env node
/**
 * The admin CLI of the sync server (`shopfloor-server`, or `npm run server -- <command>`):
 * start the server, create and back up its database, seed a demo plant, import work orders, and
 * enrol departments, people, terminals and API tokens.
 *
 * Secrets (terminal and API tokens, demo passwords) are printed once; only their hashes are stored
 * (CLI-1). A bad command line gets one line on stderr that says what was wrong and what to do, and
 * exit code 2; a well-formed command the data or the system refuses gets one line and exit code 1;
 * never a stack trace for either (CLI-2).
 */
import Database from 'better-sqlite3';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src-shared/clock.js';
import { badgeHash, hashSecret, newToken, normalizeBadge, randomHex, tokenHash } from '../src-shared/crypto/hash.js';
import { ROLES, type Role } from '../src-shared/domain/types.js';
import { idSchema } from '../src-shared/protocol/terminal.js';
import { reportUnhandledRejections } from '../src-shared/process-faults.js';
import type { RunningServer } from './app.js';
import { DEFAULT_DEMO_SEED, DEFAULT_DEMO_SIZES, seedDemo, type DemoPlant } from './demo.js';
import { MAX_IMPORT_ROWS, describeErrorCount, parseImportCsv, parseImportJson, runImport, type ParsedImport } from './import.js';
import { createLogger } from './log.js';
import { hashPinAsync, hashSecretAsync } from './secrets.js';
import { DATABASE_FILE, SqliteServerStore } from './store/sqlite/store.js';
// The PostgreSQL store (and its client) and the server app are loaded only by the commands that use
// them, so a command on SQLite starts without them (about a third of a command's start-up).
import { GROUP_LANES, isPostgresUrl, redactUrl } from './store/pg/options.js';
import type { PgServerStore, PgStoreOptions } from './store/pg/store.js';
import type { ImportRowError, ServerStore } from './store/types.js';
import { MAX_BADGE_LENGTH, PIN_PATTERN, PIN_RULE, pinPolicyProblem } from '../src-shared/domain/credentials.js';

const BIN = 'shopfloor-server';
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.json';

/**
 * `start`: a second SIGINT/SIGTERM within this long of the first is the same request to stop (a
 * Ctrl+C reaches every process of the group, and a supervising script may forward one too); a
 * later one means "stop now" and exits 1 without the clean shutdown (CLI-7).
 */
export const REPEAT_SIGNAL_GRACE_MS = 2000;

/** The command line is wrong: exit code 2. */
class UsageError extends Error {}
/** The command is well-formed but cannot be done: exit code 1. */
class Failure extends Error {}

export function defaultDataDir(): string {
  return path.join(os.homedir(), '.shopfloor-claims', 'server');
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Argument parsers (a thrown InvalidArgumentError becomes a one-line usage error)

function parseId(value: string): string {
  const r = idSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const why = issue?.code === 'invalid_format' || !issue ? 'is not a valid id' : issue.message;
    throw new InvalidArgumentError(`${why}; use 1-64 letters, digits and . _ : -, starting with a letter or digit`);
  }
  return r.data;
}

function parseIntIn(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function parseName(value: string): string {
  const name = value.trim();
  if (!name) throw new InvalidArgumentError('must not be empty');
  if (name.length > 200) throw new InvalidArgumentError('must be at most 200 characters');
  return name;
}

/** Repeatable and comma-separated: `--role operator --role supervisor` or `--role operator,supervisor`. */
function collectRoles(value: string, previous: Role[] = []): Role[] {
  const parts = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError(`name a role: ${ROLES.join(', ')}`);
  const roles = [...previous];
  for (const part of parts) {
    if (!(ROLES as readonly string[]).includes(part)) throw new InvalidArgumentError(`unknown role "${part}"; roles are ${ROLES.join(', ')}`);
    if (!roles.includes(part as Role)) roles.push(part as Role);
  }
  return roles;
}

function collectIds(value: string, previous: string[] = []): string[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError('name at least one department id');
  const ids = [...previous];
  for (const part of parts) {
    const id = parseId(part);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

function parseSkills(value: string): string[] {
  const skills = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
  if (skills.some((s) => s.length > 64)) throw new InvalidArgumentError('each skill must be at most 64 characters');
  if (skills.length > 50) throw new InvalidArgumentError('at most 50 skills');
  return skills;
}

function parseBadge(value: string): string {
  const badge = normalizeBadge(value);
  if (!badge) throw new InvalidArgumentError('must not be empty');
  if (badge.length > MAX_BADGE_LENGTH) throw new InvalidArgumentError(`must be at most ${MAX_BADGE_LENGTH} characters`);
  return badge;
}

function parsePin(value: string): string {
  if (!PIN_PATTERN.test(value)) throw new InvalidArgumentError(`a PIN ${PIN_RULE}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Store access

interface DataOptions {
  data: string;
  /** A PostgreSQL URL (--database or DATABASE_URL): the store is there instead of DIR/claims.db. */
  database?: string;
}

/** Where a command's store is: the SQLite file in the data directory, or a PostgreSQL database. */
type StoreTarget =
  | { kind: 'sqlite'; dataDir: string; file: string; label: string }
  | { kind: 'postgres'; dataDir: string; url: string; label: string };

function databaseFile(opts: DataOptions): { dataDir: string; file: string } {
  const dataDir = path.resolve(opts.data);
  return { dataDir, file: path.join(dataDir, DATABASE_FILE) };
}

function storeTarget(opts: DataOptions): StoreTarget {
  const { dataDir, file } = databaseFile(opts);
  if (opts.database) return { kind: 'postgres', dataDir, url: opts.database, label: redactUrl(opts.database) };
  return { kind: 'sqlite', dataDir, file, label: file };
}

/** How to name the store on a command line we print: `--data DIR` or `--database URL` (password hidden). */
function storeArgs(target: StoreTarget): string {
  if (target.kind === 'sqlite') return `--data ${target.dataDir}`;
  // Never print a password: a URL that holds one is named, not repeated.
  return target.label === target.url ? `--database '${target.url}'` : '--database "$DATABASE_URL"';
}

function openSqlite(file: string): SqliteServerStore {
  try {
    return new SqliteServerStore(file);
  } catch (e) {
    throw new Failure(`cannot open the database ${file}: ${(e as Error).message}`);
  }
}

/** Connect to (and migrate) a PostgreSQL database; every problem is one line saying what to do. */
async function openPostgres(url: string, options: PgStoreOptions = {}): Promise<PgServerStore> {
  try {
    const { PgServerStore } = await import('./store/pg/store.js');
    return await PgServerStore.open(url, options);
  } catch (e) {
    const message = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    throw new Failure(message.startsWith('Cannot use the PostgreSQL database') ? message : `cannot use the PostgreSQL database ${redactUrl(url)}: ${message}`);
  }
}

async function openStore(target: StoreTarget, pg: PgStoreOptions = {}): Promise<ServerStore> {
  return target.kind === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, pg);
}

/** `start --commit-lanes`: that many groups commit at once; the pool keeps six connections besides them. */
function lanesOptions(lanes: number): PgStoreOptions {
  return { groupLanes: lanes, maxConnections: Math.max(10, lanes + 6) };
}

/**
 * Run `fn` with the store of an existing database; refuse if there is none (a mistyped --data).
 * A PostgreSQL database must exist already (CREATE DATABASE); opening it brings its schema up to
 * date, as `init` does.
 */
async function withStore<T>(opts: DataOptions, fn: (store: ServerStore, target: StoreTarget) => Promise<T>): Promise<T> {
  const target = storeTarget(opts);
  if (target.kind === 'sqlite' && !fs.existsSync(target.file)) {
    throw new Failure(
      `no database in ${target.dataDir}; run "${BIN} init --data ${target.dataDir}" first, or point --data (or SHOPFLOOR_DATA) at the right directory (or --database at a PostgreSQL database)`,
    );
  }
  const store = await openStore(target);
  try {
    return await fn(store, target);
  } finally {
    await store.close();
  }
}

async function requireDepartments(store: ServerStore, ids: readonly string[]): Promise<void> {
  const known = new Set((await store.listDepartments()).map((d) => d.id));
  const missing = ids.filter((d) => !known.has(d));
  if (missing.length) {
    throw new Failure(
      `department${missing.length > 1 ? 's' : ''} ${missing.map((d) => `"${d}"`).join(', ')} not found; create ${missing.length > 1 ? 'them' : 'it'} first with "${BIN} add-department --id ${missing[0]} --name NAME"`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

/** Columns in a terminal: CJK characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - displayWidth(c))))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function printRowErrors(errors: readonly ImportRowError[]): void {
  for (const e of errors) err(`row ${e.row}, ${e.field}: ${e.message}`);
}

/**
 * Audit a CLI write under the action name the HTTP API uses for the same write (API.md:
 * `department_create`, `user_create`, `import`, ...), so one search finds both. There is no
 * signed-in user: the actor is empty and `via: "cli"` says where it came from.
 */
async function auditCli(store: ServerStore, action: string, details: Record<string, unknown>, now: number, outcome = 'applied'): Promise<void> {
  await store.audit({ action, outcome, actorId: null, terminalId: null, via: 'cli', taskId: null, details }, now);
}

// ---------------------------------------------------------------------------------------------
// Commands

async function cmdInit(opts: DataOptions): Promise<void> {
  const target = storeTarget(opts);
  if (target.kind === 'postgres') {
    const store = await openPostgres(target.url);
    try {
      const { from, to, applied } = store.migration;
      if (applied.length === 0) {
        out(`Already initialised: PostgreSQL database ${target.label} (schema version ${to}); nothing to do.`);
        return;
      }
      out(`${from === 0 ? 'Initialised' : 'Migrated'} PostgreSQL database ${target.label} (schema version ${from} -> ${to}: ${applied.join(', ')})`);
      printNextSteps(target);
    } finally {
      await store.close();
    }
    return;
  }
  const { dataDir, file } = target;
  const dirExisted = fs.existsSync(dataDir);
  const existed = fs.existsSync(file);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new Failure(`cannot create the data directory ${dataDir}: ${(e as Error).message}`);
  }
  const store = openSqlite(file);
  try {
    const version = store.db.pragma('user_version', { simple: true }) as number;
    if (existed) {
      out(`Already initialised: ${file} (schema version ${version}); nothing to do.`);
      return;
    }
    if (!dirExisted) out(`Created data directory ${dataDir}`);
    out(`Created database ${file} (schema version ${version})`);
    printNextSteps(target);
  } finally {
    await store.close();
  }
}

function printNextSteps(target: StoreTarget): void {
  const where = storeArgs(target);
  out('');
  out('Next steps:');
  out(`  ${BIN} add-department ${where} --id cutting --name Cutting`);
  out(`  ${BIN} add-user ${where} --id admin --name Admin --role admin --password-stdin`);
  out(`  ${BIN} start ${where}`);
  out(`or try the demo plant: ${BIN} seed-demo ${where}`);
}

interface DepartmentOptions extends DataOptions {
  id: string;
  name: string;
  /** A number, `none` (the site default), or left out: a department keeps its limit. */
  limit?: number | 'none';
}

/** `--limit`: 1-1000, or `none` for the site default (not null: commander would store that as ''). */
function parseLimitOrNone(value: string): number | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none';
  try {
    return parseIntIn(1, 1000)(value);
  } catch {
    throw new InvalidArgumentError('expected a whole number from 1 to 1000, or none (the site default)');
  }
}

async function cmdAddDepartment(opts: DepartmentOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const existing = (await store.listDepartments()).find((d) => d.id === opts.id);
    // CAP-1: renaming a department must not move its operators to the site default; only
    // `--limit none` does that.
    const taskLimit = opts.limit === undefined ? (existing?.taskLimit ?? null) : opts.limit === 'none' ? null : opts.limit;
    const now = systemClock.now();
    await store.upsertDepartment({ id: opts.id, name: opts.name, taskLimit }, now);
    if (existing) await auditCli(store, 'department_update', { departmentId: opts.id, fields: opts.limit === undefined ? ['name'] : ['name', 'taskLimit'] }, now);
    else await auditCli(store, 'department_create', { departmentId: opts.id }, now);
    const limit = taskLimit === null ? 'site default task limit' : `task limit ${taskLimit}`;
    const kept = existing && opts.limit === undefined ? ', unchanged' : '';
    out(`${existing ? 'Updated' : 'Created'} department ${opts.id} "${opts.name}" (${limit}${kept})`);
  });
}

interface UserOptions extends DataOptions {
  id: string;
  name: string;
  role: Role[];
  department?: string[];
  badge?: string;
  pin?: string;
  password?: string;
  passwordStdin?: boolean;
  limit?: number;
  skills?: string[];
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError(`--password-stdin reads the password from a pipe, e.g. printf '%s' "$PASSWORD" | ${BIN} add-user ... --password-stdin`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function cmdAddUser(opts: UserOptions): Promise<void> {
  const departments = opts.department ?? [];
  const needsDepartment = opts.role.filter((r) => r !== 'admin');
  if (needsDepartment.length && departments.length === 0) {
    throw new UsageError(`an ${needsDepartment.join('/')} needs at least one --department (the department they work in or supervise)`);
  }
  const password = opts.passwordStdin ? await readStdin() : opts.password;
  if (password !== undefined && (password.length < 8 || password.length > 200)) {
    throw new UsageError('a password must be 8 to 200 characters');
  }
  await withStore(opts, async (store) => {
    if (await store.getUser(opts.id)) throw new Failure(`user "${opts.id}" already exists; choose another --id`);
    await requireDepartments(store, departments);
    // SEC-32: the site's minimum PIN length (pinMinLength, set with PATCH /api/config).
    const pinProblem = opts.pin ? pinPolicyProblem(opts.pin, (await store.getConfig()).pinMinLength) : null;
    if (pinProblem) throw new UsageError(`--pin ${pinProblem}`);
    const salt = await store.siteSalt();
    const hashedBadge = opts.badge ? badgeHash(salt, opts.badge) : null;
    if (hashedBadge) {
      const holder = await store.findUserByBadgeHash(hashedBadge);
      if (holder) throw new Failure(`badge ${opts.badge} already belongs to user "${holder.id}"; each badge identifies one person`);
    }
    const now = systemClock.now();
    await store.createUser(
      {
        id: opts.id,
        displayName: opts.name,
        roles: opts.role,
        departmentIds: departments,
        badgeHash: hashedBadge,
        pinHash: opts.pin ? await hashPinAsync(opts.pin) : null,
        passwordHash: password !== undefined ? hashSecret(password) : null,
        active: true,
        taskLimit: opts.limit ?? null,
        skills: opts.skills ?? [],
        qualityScore: 0.8,
      },
      now,
    );
    await auditCli(store, 'user_create', { userId: opts.id, roles: opts.role, departmentIds: departments }, now);
    out(`Created user ${opts.id} "${opts.name}"`);
    out(`  roles:       ${opts.role.join(', ')}`);
    out(`  departments: ${departments.join(', ') || '(none)'}`);
    out(`  badge:       ${opts.badge ? 'yes (stored hashed)' : 'none'}`);
    out(`  PIN:         ${opts.pin ? 'yes (stored hashed)' : 'none'}`);
    out(`  password:    ${password !== undefined ? 'yes (stored hashed)' : 'none'}`);
    out(`  task limit:  ${opts.limit ?? 'department or site default'}`);
    if (opts.skills?.length) out(`  skills:      ${opts.skills.join(', ')}`);
  });
}

interface TerminalOptions extends DataOptions {
  id: string;
  name: string;
  department: string[];
}

async function cmdAddTerminal(opts: TerminalOptions): Promise<void> {
  await withStore(opts, async (store) => {
    if (await store.getTerminal(opts.id)) {
      throw new Failure(`terminal "${opts.id}" already exists; choose another --id (its token cannot be shown again)`);
    }
    await requireDepartments(store, opts.department);
    const token = newToken('term');
    const now = systemClock.now();
    await store.createTerminal({ id: opts.id, name: opts.name, departments: opts.department, tokenHash: tokenHash(token) }, now);
    await auditCli(store, 'terminal_create', { terminalId: opts.id, departments: opts.department }, now);
    out(`Enrolled terminal ${opts.id} "${opts.name}" for departments: ${opts.department.join(', ')}`);
    out('');
    out('Terminal token (shown only now; the server keeps just its hash, so copy it into the terminal):');
    out('');
    out(`  ${token}`);
    out('');
    out('Configure the kiosk with:');
    out('  server URL:      ws://SERVER-HOST:PORT/sync  (wss:// when the server runs with --tls-cert/--tls-key)');
    out(`  terminal id:     ${opts.id}`);
    out('  terminal token:  the token above');
    out(`Lost the token? Enrol the kiosk again under a new --id.`);
  });
}

interface ApiTokenOptions extends DataOptions {
  user: string;
  name: string;
}

async function cmdAddApiToken(opts: ApiTokenOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const user = await store.getUser(opts.user);
    if (!user) throw new Failure(`user "${opts.user}" not found; create it first with "${BIN} add-user --id ${opts.user} ..."`);
    if (!user.active) throw new Failure(`user "${opts.user}" is deactivated; a token for them would not work`);
    const token = newToken('api');
    const id = `tok-${randomHex(8)}`;
    const now = systemClock.now();
    await store.createApiToken({ id, userId: user.id, name: opts.name, kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token) }, now);
    await auditCli(store, 'token_create', { tokenId: id, userId: user.id, name: opts.name }, now);
    out(`Created API token ${id} "${opts.name}" for ${user.id} "${user.displayName}" (roles: ${user.roles.join(', ')})`);
    out('');
    out('Token (shown only now; the server keeps just its hash):');
    out('');
    out(`  ${token}`);
    out('');
    out("Send it as the header  Authorization: Bearer <token>; it acts with the user's roles and departments.");
  });
}

type ImportOptions = DataOptions;

/**
 * The largest file `import-tasks` reads: 50,000 rows (IMP-4) of up to 2,000 characters of work
 * content each fit in it with room to spare; HTTP takes 5 MB (API-4).
 */
export const MAX_CLI_IMPORT_BYTES = 128 * 1024 * 1024;

function tooBig(file: string, size: string): string {
  return `${file} is ${size}; import-tasks reads files up to ${formatBytes(MAX_CLI_IMPORT_BYTES)} (and at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows): split it into smaller files and import each`;
}

async function cmdImportTasks(file: string, opts: ImportOptions): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.json') throw new UsageError(`cannot tell the format of "${file}"; the file name must end in .csv or .json`);
  let bytes: Buffer;
  let text: string;
  const cannotRead = (e: unknown) => new Failure(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw cannotRead(e);
  }
  // Checked before reading: a file of hundreds of MB cannot become one string, and was reported
  // as "not valid UTF-8".
  if (size > MAX_CLI_IMPORT_BYTES) throw new Failure(tooBig(file, formatBytes(size)));
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw cannotRead(e);
  }
  try {
    // SEC-7: bytes that are not UTF-8 would become U+FFFD: refuse them, never change them.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw new Failure(`${file} is not valid UTF-8 text; save it as UTF-8 (in Excel: "CSV UTF-8") and import it again`);
    }
    // Not an encoding problem: too large to hold as text (V8's string length limit) or out of memory.
    throw new Failure(tooBig(file, formatBytes(bytes.length)));
  }
  let parsed: ParsedImport;
  if (ext === '.csv') parsed = await parseImportCsv(text);
  else {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Failure(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    parsed = await parseImportJson(value);
  }
  if (parsed.errors.length === 0 && parsed.rows.length === 0) throw new Failure(`${file} holds no tasks; nothing to import`);
  const format = ext.slice(1);
  await withStore(opts, async (store) => {
    const now = systemClock.now();
    const result = await runImport(store, parsed, now);
    if (!result.ok) {
      // Audited as the HTTP import is (API.md "Import"), refusals included.
      const total = result.errorCount ?? result.errors.length;
      await auditCli(store, 'import', { format, file: path.basename(file), errors: total }, now, 'import_rejected');
      printRowErrors(result.errors);
      const some = total > result.errors.length ? ' (then run it again for the rest)' : '';
      throw new Failure(`nothing was imported: fix ${describeErrorCount(result.errors.length, total)} above in ${file} and run the import again${some}`);
    }
    await auditCli(
      store,
      'import',
      { format, file: path.basename(file), rows: parsed.rows.length, created: result.created, updated: result.updated, workOrders: result.workOrders },
      now,
    );
    out(`Imported ${file}: ${result.created} tasks created, ${result.updated} updated, ${result.workOrders} work orders`);
  });
}

interface BackupOptions extends DataOptions {
  to: string;
  force?: boolean;
}

async function cmdBackup(opts: BackupOptions): Promise<void> {
  const target = path.resolve(opts.to);
  const where = storeTarget(opts);
  if (where.kind === 'sqlite' && target === where.file) throw new UsageError('--to must name a file other than the live database');
  if (fs.existsSync(target) && !opts.force) throw new Failure(`${target} already exists; choose another --to, or pass --force to replace it`);
  if (!fs.existsSync(path.dirname(target))) throw new Failure(`the folder ${path.dirname(target)} does not exist; create it first`);
  if (where.kind === 'postgres') return backupPostgres(where, target);
  const file = where.file;
  await withStore(opts, async (store) => {
    const partial = `${target}.partial-${process.pid}`;
    try {
      await store.backup(partial);
      const copy = new Database(partial, { fileMustExist: true });
      let counts: Record<string, number>;
      try {
        const check = copy.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
        const problems = check.map((r) => r.integrity_check).filter((r) => r !== 'ok');
        if (problems.length) throw new Failure(`the copy failed PRAGMA integrity_check: ${problems.slice(0, 3).join('; ')}; the live database was not changed`);
        // A backup is one self-contained file.
        copy.pragma('journal_mode = DELETE');
        const count = (table: string) => copy.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
        counts = {
          tasks: count('tasks'),
          'work orders': count('work_orders'),
          users: count('users'),
          departments: count('departments'),
          terminals: count('terminals'),
          assignments: count('assignments'),
          'audit events': count('audit_events'),
        };
      } finally {
        copy.close();
      }
      fs.renameSync(partial, target);
      const size = fs.statSync(target).size;
      out(`Backup written to ${target} (${formatBytes(size)}); PRAGMA integrity_check: ok`);
      out(`  ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
      out(`Restore: stop the server, delete ${file}-wal and ${file}-shm if present, copy the backup to ${file}, start the server.`);
    } finally {
      for (const f of [partial, `${partial}-wal`, `${partial}-shm`, `${partial}-journal`]) fs.rmSync(f, { force: true });
    }
  });
}

/**
 * PostgreSQL: `pg_dump --format=custom` (one snapshot, so consistent while the servers run), then
 * `pg_restore --list` reads the whole archive back as the check that it is complete and readable.
 */
async function backupPostgres(where: Extract<StoreTarget, { kind: 'postgres' }>, target: string): Promise<void> {
  const { findPgTool } = await import('./store/pg/store.js');
  const pgRestore = findPgTool('pg_restore');
  if (!pgRestore) throw new Failure('pg_restore was not found (on PATH or under /usr/lib/postgresql/*/bin): install the PostgreSQL client tools (Debian: postgresql-client)');
  await withStore({ data: where.dataDir, database: where.url }, async (store) => {
    const partial = `${target}.partial-${process.pid}`;
    try {
      try {
        await store.backup(partial);
      } catch (e) {
        throw new Failure(`${(e as Error).message.replace(/\s*\n\s*/g, ' ')}; nothing was written to ${target}`);
      }
      const stats = await store.stats();
      let listing: string;
      try {
        listing = execFileSync(pgRestore, ['--list', partial], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        const detail = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
        throw new Failure(`pg_restore could not read the dump back (${detail}); the live database was not changed`);
      }
      const tables = ['tasks', 'users', 'terminals', 'changes'];
      const missing = tables.filter((t) => !new RegExp(`TABLE DATA \\S+ ${t} `).test(listing));
      if (missing.length) throw new Failure(`the dump lacks the data of ${missing.join(', ')}; is --database the claims database?`);
      fs.renameSync(partial, target);
      const tasks = Object.values(stats.tasksByStatus).reduce((a, b) => a + b, 0);
      out(`Backup written to ${target} (${formatBytes(fs.statSync(target).size)}): pg_dump --format=custom of ${where.label}; pg_restore --list: ok`);
      out(`  about ${tasks} tasks, ${stats.users} users, ${stats.terminals} terminals when it was taken`);
      out(`Restore: createdb NEWDB, then pg_restore --no-owner --dbname postgres://USER@HOST:PORT/NEWDB ${target}, then start the servers with --database on NEWDB.`);
    } finally {
      fs.rmSync(partial, { force: true });
    }
  });
}

interface SeedOptions extends DataOptions {
  force?: boolean;
  quiet?: boolean;
  seed: number;
  operators: number;
  workOrders: number;
}

/** What a database holds, or null when it is empty. */
function contentSummary(stats: { users: number; terminals: number; tasksByStatus: Record<string, number> }, departments: number): string | null {
  const tasks = Object.values(stats.tasksByStatus).reduce((a, b) => a + b, 0);
  if (departments + stats.users + stats.terminals + tasks === 0) return null;
  return `${departments} departments, ${stats.users} users, ${stats.terminals} terminals, ${tasks} tasks`;
}

function writeCredentials(dataDir: string, plant: DemoPlant): string {
  const file = path.join(dataDir, DEMO_CREDENTIALS_FILE);
  const body = {
    note: 'Demo sign-in data, written by seed-demo (and printed once, unless --quiet). Anyone who can read this file can act as any demo user; delete it when the demo is over.',
    generatedAt: new Date(plant.now).toISOString(),
    seed: plant.seed,
    dataDir,
    admin: plant.admin,
    supervisors: plant.supervisors,
    terminals: plant.terminals,
    operators: plant.operators,
    counts: plant.counts,
  };
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

async function cmdSeedDemo(opts: SeedOptions): Promise<void> {
  const target = storeTarget(opts);
  const { dataDir } = target;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new Failure(`cannot create the data directory ${dataDir} (it holds ${DEMO_CREDENTIALS_FILE}): ${(e as Error).message}`);
  }
  let store = await openStore(target);
  try {
    const existing = contentSummary(await store.stats(), (await store.listDepartments()).length);
    if (existing) {
      if (!opts.force) {
        throw new Failure(
          `${target.label} already holds data (${existing}); seed-demo only fills an empty database. Use another ${target.kind === 'sqlite' ? '--data' : '--database'}, or pass --force to replace it${target.kind === 'sqlite' ? ' (a backup is kept)' : ''}`,
        );
      }
      if (target.kind === 'postgres') {
        throw new Failure(
          `seed-demo --force does not replace a PostgreSQL database; keep a copy if you need one ("${BIN} backup --database ... --to FILE"), then drop and create the database (dropdb NAME && createdb NAME) and run seed-demo again`,
        );
      }
      const saved = `${target.file}.before-seed-demo-${new Date(systemClock.now()).toISOString().replace(/[:.]/g, '-')}`;
      await store.backup(saved);
      await store.close();
      for (const f of [target.file, `${target.file}-wal`, `${target.file}-shm`]) fs.rmSync(f, { force: true });
      out(`Replaced the existing database; the old one is kept as ${saved}`);
      store = openSqlite(target.file);
    }
    const plant = await seedDemo(store, {
      now: systemClock.now(),
      seed: opts.seed,
      sizes: { operators: opts.operators, workOrders: opts.workOrders },
    });
    const credentials = writeCredentials(dataDir, plant);
    printPlant(plant, target, credentials, Boolean(opts.quiet));
  } finally {
    await store.close();
  }
}

/** What was built and how to sign in; with `quiet`, no secrets: only where the credentials file is. */
function printPlant(plant: DemoPlant, target: StoreTarget, credentials: string, quiet: boolean): void {
  const c = plant.counts;
  const s = c.tasksByStatus;
  out(`Demo plant written to ${target.kind === 'sqlite' ? target.file : `PostgreSQL database ${target.label}`} (seed ${plant.seed})`);
  out(
    `  ${c.departments} departments, ${c.operators} operators, ${c.supervisors} supervisors, ${c.admins} admin, ${c.terminals} terminals, ` +
      `${c.workOrders} work orders, ${c.tasks} tasks`,
  );
  if (quiet) {
    out(`  badges, PINs, passwords and tokens (not printed): ${credentials} (readable by you only)`);
    return;
  }
  out(
    `  tasks: ${s.draft} draft, ${s.pending} pending, ${s.in_progress} in progress, ${s.completed} completed, ${s.cancelled} cancelled; ` +
      `${c.heldTasks} held by operators`,
  );
  out(`  ${c.exclusionPairWorkOrders} work orders have both a make and an inspect step (one person may not do both)`);
  out(`  ${c.engineOperations} claims, starts, completions, assigns, releases and rejections ran through the claim engine`);
  out('');
  out('Secrets below are shown only now; the database keeps only their hashes. They are also in');
  out(`${credentials} (readable by you only); delete that file when the demo is over.`);
  out('');
  out('Terminals (configure a kiosk with its id and token; server URL ws://HOST:PORT/sync):');
  for (const line of table(
    ['ID', 'NAME', 'DEPARTMENTS', 'TOKEN'],
    plant.terminals.map((t) => [t.id, t.name, t.departments.join(','), t.token]),
  ))
    out(`  ${line}`);
  out('');
  out('Admin (desktop sign-in with password; API with Authorization: Bearer TOKEN):');
  out(`  ${plant.admin.id}  password ${plant.admin.password}  API token ${plant.admin.apiToken}`);
  out('');
  out('Supervisors (badge, or id + password):');
  for (const line of table(
    ['ID', 'NAME', 'DEPARTMENT', 'BADGE', 'PASSWORD'],
    plant.supervisors.map((u) => [u.id, u.displayName, u.departmentIds.join(','), u.badge, u.password]),
  ))
    out(`  ${line}`);
  out('');
  out('Operators (scan or type the badge at a kiosk of their department):');
  for (const line of table(
    ['ID', 'NAME', 'DEPARTMENTS', 'BADGE', 'PIN', 'LIMIT', 'SKILLS'],
    plant.operators.map((u) => [u.id, u.displayName, u.departmentIds.join(','), u.badge, u.pin ?? '-', String(u.taskLimit ?? '-'), u.skills.join(',')]),
  ))
    out(`  ${line}`);
  out('');
  out(`Next: ${BIN} start ${storeArgs(target)}`);
}

interface StartOptions extends DataOptions {
  port: number;
  host: string;
  commitGroupMax: number;
  commitLanes: number;
  pushIntervalMs: number;
  leaseCheckMs: number;
  tlsCert?: string;
  tlsKey?: string;
}

function listenError(e: unknown, opts: StartOptions): Failure {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new Failure(`port ${opts.port} on ${opts.host} is already in use; stop the other process or choose another --port`);
  if (code === 'EACCES') return new Failure(`not allowed to listen on port ${opts.port}; ports below 1024 need privileges, choose e.g. --port 8080`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new Failure(`cannot listen on host ${opts.host}: it is not an address of this machine; use --host 0.0.0.0 or one of its addresses`);
  return new Failure(`the server could not start: ${(e as Error).message}`);
}

/** Try the address first, so "port in use" is a one-line answer rather than an error deep in the server. */
function probeListen(port: number, host: string): Promise<unknown> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (e) => resolve(e));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}

async function cmdStart(opts: StartOptions): Promise<void> {
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together; give both (for https/wss) or neither');
  const tls = opts.tlsCert && opts.tlsKey ? { certFile: path.resolve(opts.tlsCert), keyFile: path.resolve(opts.tlsKey) } : undefined;
  if (tls) {
    for (const [what, f] of [['certificate', tls.certFile], ['key', tls.keyFile]] as const) {
      try {
        fs.accessSync(f, fs.constants.R_OK);
      } catch {
        throw new Failure(`cannot read the TLS ${what} file ${f}; check the path and its permissions`);
      }
    }
  }
  if (opts.port !== 0) {
    const busy = await probeListen(opts.port, opts.host);
    if (busy) throw listenError(busy, opts);
  }
  const target = storeTarget(opts);
  const { dataDir } = target;
  if (target.kind === 'sqlite') {
    try {
      fs.mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new Failure(`cannot create the data directory ${dataDir}: ${(e as Error).message}`);
    }
  }
  const { startServer } = await import('./app.js');
  // Open (and migrate) first, so a database problem is reported as such and not as a crash.
  const store = await openStore(target, lanesOptions(opts.commitLanes));
  const log = createLogger();
  // Signals are handled from before the server listens: one that comes as soon as (or before) the
  // listening line is out stops the server cleanly once it has started, instead of killing it.
  let server: RunningServer | null = null;
  let firstSignalAt: number | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const shutDown = (running: RunningServer) => {
    running.close().then(stopped, (e: unknown) => {
      log.error({ err: e }, 'graceful shutdown failed');
      process.exitCode = 1;
      stopped();
    });
  };
  const stop = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== null) {
      // A terminal's Ctrl+C reaches the whole process group, and a supervising script (npm start)
      // may pass a signal on as well: a second one this soon is the same request (CLI-7).
      if (performance.now() - firstSignalAt < REPEAT_SIGNAL_GRACE_MS) {
        log.info({ signal }, 'already shutting down');
        return;
      }
      log.warn({ signal }, 'second signal while shutting down; exiting now');
      process.exit(1);
    }
    firstSignalAt = performance.now();
    log.info({ signal }, 'shutting down');
    if (server) shutDown(server);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // CLI-7: a promise rejected with nobody to hear it (a fault of ours) is logged with its stack,
  // and the server goes on (what it committed is in the database; what it was doing is answered
  // or times out).
  const stopReportingFaults = reportUnhandledRejections(process, 'server', (message, err) => log.error({ err }, message));
  void done.then(stopReportingFaults);
  try {
    server = await startServer({ dataDir, port: opts.port, host: opts.host, tls, logger: log, store, commitGroupMax: opts.commitGroupMax, hub: { pushIntervalMs: opts.pushIntervalMs }, leaseCheckMs: opts.leaseCheckMs });
  } catch (e) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stopReportingFaults();
    await store.close();
    throw listenError(e, opts);
  }
  if (firstSignalAt !== null) shutDown(server);
  await done;
}

// ---------------------------------------------------------------------------------------------
// The program

const DESCRIPTION = 'Admin CLI of the shop-floor sync server, the authority for task claims.';
const USAGE = `${DESCRIPTION}

Examples:
  ${BIN} init                                  create the data directory and database
  ${BIN} seed-demo                             fill an empty database with a demo plant
  ${BIN} start --port 8080                     serve the HTTP API and the terminals' WebSocket (/sync)
  ${BIN} add-department --id cutting --name Cutting
  ${BIN} add-user --id ann --name "Ann Lee" --role operator --department cutting --badge 100200
  ${BIN} add-terminal --id kiosk-1 --name "Cutting kiosk" --department cutting
  ${BIN} add-api-token --user admin --name erp
  ${BIN} import-tasks work-orders.csv
  ${BIN} backup --to /backups/claims-$(date +%F).db

Every command takes --data DIR: default ${path.join('~', '.shopfloor-claims', 'server')}, or $SHOPFLOOR_DATA.
With --database postgres://user:password@host:5432/db (or $DATABASE_URL) the data is in that
PostgreSQL database instead (several servers may share it); --data then only holds seed-demo's
credentials file.
From a checkout: npm run server -- <command> [options]
Exit codes: 0 done, 1 the command failed, 2 the command line is wrong.
`;

/** `--data ''` would be the current folder: a second, empty plant wherever the command was run (CLI-3). */
function parseDataDir(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must name a directory (leave it out for the default or $SHOPFLOOR_DATA)');
  return value;
}

function dataOption(): Option {
  return new Option('--data <dir>', 'data directory holding claims.db').env('SHOPFLOOR_DATA').default(defaultDataDir()).argParser(parseDataDir);
}

/**
 * `postgres://user:password@host:5432/database`; an empty DATABASE_URL counts as unset (SQLite).
 * A refused value is named with its password hidden: commander's own message would repeat it whole.
 */
function parseDatabaseUrl(value: string): string | undefined {
  const url = value.trim();
  if (url === '') return undefined;
  const shown = `--database (or DATABASE_URL) '${redactUrl(url)}'`;
  if (!isPostgresUrl(url)) throw new UsageError(`${shown} must be a PostgreSQL URL like postgres://user:password@host:5432/database (leave it out to use SQLite in --data)`);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`${shown} is not a valid URL; write it as postgres://user:password@host:5432/database, with special characters in the password %-encoded (# as %23, @ as %40, / as %2F)`);
  }
  return url;
}

function databaseOption(): Option {
  return new Option('--database <url>', 'keep the data in this PostgreSQL database instead of DIR/claims.db (postgres://user:password@host:5432/db)')
    .env('DATABASE_URL')
    .argParser(parseDatabaseUrl);
}

export function buildProgram(): Command {
  const program = new Command(BIN)
    .addHelpText('before', USAGE)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      outputError: (str, write) => write(`${str.trimEnd()} (see: ${BIN} --help)\n`),
    });

  const sub = (name: string, description: string): Command => {
    const cmd = program.command(name).description(description).addOption(dataOption()).addOption(databaseOption());
    cmd.configureOutput({ outputError: (str, write) => write(`${str.trimEnd()} (see: ${BIN} ${name} --help)\n`) });
    return cmd;
  };

  sub('start', 'run the sync server: HTTP API and, at /sync, the WebSocket protocol for terminals')
    .addOption(new Option('--port <port>', 'TCP port (0 picks a free one)').argParser(parseIntIn(0, 65535)).default(8080))
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--tls-cert <file>', 'PEM certificate: serve https and wss (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .addOption(
      new Option('--commit-group-max <n>', 'most mutations committed in one transaction (1 turns group commit off: one fsync per mutation, the baseline it is measured against)')
        .argParser(parseIntIn(1, 100_000))
        .default(5000),
    )
    .addOption(
      new Option(
        '--commit-lanes <n>',
        'PostgreSQL: groups of mutations committing at once, each on a connection of its own (more for a database on another machine, where every statement of a group waits a network round trip); the pool holds six connections more',
      )
        .argParser(parseIntIn(1, 64))
        .default(GROUP_LANES),
    )
    .addOption(
      new Option('--push-interval-ms <ms>', 'the live-push tick: a change after a quiet tick goes out at once, under load changes go out once a tick (shorter: fresher screens under load; longer: fewer, larger pages)')
        .argParser(parseIntIn(10, 60_000))
        .default(100),
    )
    .addOption(
      new Option('--lease-check-ms <ms>', 'several instances on PostgreSQL: how often this one checks the timer lease (the instance holding it runs expiry, pruning and presence sweeps; another takes it within this after its holder dies)')
        .argParser(parseIntIn(50, 60_000))
        .default(2000),
    )
    .action((opts: StartOptions) => cmdStart(opts));

  sub('init', 'create the data directory and the database (idempotent)').action((opts: DataOptions) => cmdInit(opts));

  sub('seed-demo', 'fill an empty database with a demo plant and print its badges, passwords and tokens')
    .option('--force', 'replace a SQLite database that already holds data (stop the server first; the old database is kept as a copy)')
    .option('--quiet', 'print no secrets, only what was built and where the credentials file is')
    .addOption(new Option('--seed <n>', 'PRNG seed: the same seed builds the same plant').argParser(parseIntIn(0, 2 ** 32 - 1)).default(DEFAULT_DEMO_SEED))
    .addOption(new Option('--operators <n>', 'number of operators').argParser(parseIntIn(10, 1000)).default(DEFAULT_DEMO_SIZES.operators))
    .addOption(new Option('--work-orders <n>', 'number of work orders (about 7.5 tasks each)').argParser(parseIntIn(1, 20000)).default(DEFAULT_DEMO_SIZES.workOrders))
    .action((opts: SeedOptions) => cmdSeedDemo(opts));

  sub('backup', 'write an online, consistent, verified copy of the database (safe while the server runs; pg_dump for PostgreSQL)')
    .requiredOption('--to <file>', 'the backup file to write')
    .option('--force', 'replace --to if it exists')
    .action((opts: BackupOptions) => cmdBackup(opts));

  sub('import-tasks', 'import work orders and tasks from CSV or JSON; all rows or none')
    .argument('<file>', 'a .csv file (header row: taskId, workOrderNumber, step, workContent, ...) or a .json file')
    .action((file: string, opts: ImportOptions) => cmdImportTasks(file, opts));

  sub('add-department', 'create a department (or rename it / change its task limit)')
    .requiredOption('--id <id>', 'department id, e.g. cutting', parseId)
    .requiredOption('--name <name>', 'display name', parseName)
    .addOption(
      new Option(
        '--limit <n>',
        "active-task limit for this department's operators, 1-1000; none: back to the site default; left out, an existing department keeps its limit",
      ).argParser(parseLimitOrNone),
    )
    .action((opts: DepartmentOptions) => cmdAddDepartment(opts));

  sub('add-user', 'create an operator, supervisor or admin')
    .requiredOption('--id <id>', 'user id', parseId)
    .requiredOption('--name <name>', 'display name', parseName)
    .requiredOption('--role <role>', `${ROLES.join(' | ')}; repeat or separate with commas`, collectRoles)
    .option('--department <id>', 'department id; repeat or separate with commas', collectIds)
    .option('--badge <badge>', 'badge number (stored hashed)', parseBadge)
    .option('--pin <pin>', 'PIN for badge + PIN sign-in, 4-12 digits (stored hashed)', parsePin)
    .addOption(new Option('--password <password>', 'password for desktop sign-in (visible in the process list; prefer --password-stdin)').conflicts('passwordStdin'))
    .option('--password-stdin', 'read the password from standard input')
    .addOption(new Option('--limit <n>', 'personal active-task limit').argParser(parseIntIn(1, 1000)))
    .option('--skills <list>', 'skills, comma-separated', parseSkills)
    .action((opts: UserOptions) => cmdAddUser(opts));

  sub('add-terminal', 'enrol a kiosk terminal and print its token (once)')
    .requiredOption('--id <id>', 'terminal id', parseId)
    .requiredOption('--name <name>', 'display name, e.g. "Cutting bay kiosk"', parseName)
    .requiredOption('--department <id>', 'department it serves; repeat or separate with commas', collectIds)
    .action((opts: TerminalOptions) => cmdAddTerminal(opts));

  sub('add-api-token', "create a bearer token that acts as a user (with the user's roles) and print it (once)")
    .requiredOption('--user <id>', 'the user the token acts as', parseId)
    .requiredOption('--name <name>', 'what the token is for, e.g. erp', parseName)
    .action((opts: ApiTokenOptions) => cmdAddApiToken(opts));

  program
    .command('hash-secret')
    .description("hash a terminal's maintenance secret (read from standard input) for its maintenanceSecretHash setting")
    .action(() => cmdHashSecret());

  return program;
}

/** The shortest maintenance secret `hash-secret` takes: it is guessed offline if a kiosk's settings leak. */
export const MIN_MAINTENANCE_SECRET_LENGTH = 12;

/**
 * SEC-30: a terminal's maintenance secret (re-enrollment when its server is gone) is kept only as
 * this hash, in `terminal.json` (`maintenanceSecretHash`) or SHOPFLOOR_MAINTENANCE_SECRET_HASH.
 */
async function cmdHashSecret(): Promise<void> {
  if (process.stdin.isTTY) {
    throw new UsageError(`hash-secret reads the secret from a pipe, e.g. printf '%s' "$SECRET" | ${BIN} hash-secret`);
  }
  const secret = await readStdin();
  if (secret.length < MIN_MAINTENANCE_SECRET_LENGTH || secret.length > 200) {
    throw new UsageError(`a maintenance secret must be ${MIN_MAINTENANCE_SECRET_LENGTH} to 200 characters`);
  }
  const hash = await hashSecretAsync(secret);
  out(hash);
  err(`Put it in the terminal's terminal.json as "maintenanceSecretHash": "${hash}"`);
  err(`or set SHOPFLOOR_MAINTENANCE_SECRET_HASH='${hash}' (single quotes: it contains $).`);
}

/** Run the CLI; resolves to the exit code (the `start` command resolves when the server has stopped). */
export async function main(argv: readonly string[]): Promise<number> {
  // An empty SHOPFLOOR_DATA (`SHOPFLOOR_DATA= shopfloor-server start`) is unset, as an empty
  // DATABASE_URL is: the default directory, not the current one (CLI-3, CLI-4).
  if (process.env.SHOPFLOOR_DATA !== undefined && process.env.SHOPFLOOR_DATA.trim() === '') delete process.env.SHOPFLOOR_DATA;
  const program = buildProgram();
  let command = '';
  program.hook('preAction', (_program, action) => {
    command = action.name();
  });
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      err(`error: ${e.message} (see: ${BIN} ${command ? `${command} ` : ''}--help)`);
      return 2;
    }
    if (e instanceof Failure) {
      err(`error: ${e.message}`);
      return 1;
    }
    err(`error: ${(e as Error).message ?? String(e)}`);
    if (process.env.SHOPFLOOR_DEBUG) err((e as Error).stack ?? '');
    else err('(this looks like a bug or a fault; set SHOPFLOOR_DEBUG=1 for details)');
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * CLI-2: output piped into a reader that stops early (`init | head -2`) is no fault: EPIPE on
 * stdout or stderr ends the process quietly (with the command's exit code so far) instead of an
 * unhandled 'error' event's stack trace.
 */
export function exitQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    });
  }
}

if (invokedDirectly()) {
  exitQuietlyOnBrokenPipe();
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // Output is written; anything still holding the event loop (e.g. a server that failed half-way
    // through starting) must not keep the process alive.
    setTimeout(() => process.exit(code), 1000).unref();
  });
}
