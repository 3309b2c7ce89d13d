/**
 * The migrations runner shared by the server and the terminal.
 *
 * Migrations are numbered `.sql` files (`001_init.sql`, `002_add_x.sql`, ...). Pending ones are
 * applied in order inside one transaction, and the schema version is tracked by
 * `PRAGMA user_version`. A database newer than the app is refused; a failed migration leaves the
 * database exactly as it was. The database and the file system are injected, so this module runs
 * anywhere (it imports no Node module).
 */

export interface MigrationDb {
  /** Run SQL that may hold several statements. */
  exec(sql: string): void;
  /** Read `PRAGMA user_version`. */
  userVersion(): number;
  /**
   * Run `fn` in one transaction that holds the write lock from its start (SQLite: BEGIN
   * IMMEDIATE): commit if it returns, roll back if it throws.
   */
  transaction<T>(fn: () => T): T;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationFs {
  readdirSync(dir: string): string[];
  readFileSync(path: string, encoding: 'utf8'): string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Parse and check a set of migration files: numbered from 1 with no gaps or duplicates. */
export function parseMigrations(files: ReadonlyArray<{ name: string; sql: string }>): Migration[] {
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file.name);
    if (!match) {
      throw new MigrationError(
        `Migration file "${file.name}" is not named NNN_description.sql (digits, underscore, lower-case words); rename it.`,
      );
    }
    migrations.push({ version: Number(match[1]), name: file.name, sql: file.sql });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(
        `Migrations must be numbered 1, 2, 3, ... without gaps or duplicates; found "${m.name}" where version ${i + 1} was expected.`,
      );
    }
  });
  return migrations;
}

export interface PathOps {
  existsSync(path: string): boolean;
  join(...parts: string[]): string;
  dirname(path: string): string;
}

/**
 * Find `migrations/<kind>` in `start` or one of its parents: the code runs from source, from
 * out/node or from an Electron bundle, each a different depth below the folder that ships them.
 */
export function findMigrationsDir(start: string, kind: 'server' | 'terminal', ops: PathOps): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = ops.join(dir, 'migrations', kind);
    if (ops.existsSync(candidate)) return candidate;
    dir = ops.dirname(dir);
  }
  throw new MigrationError(`Cannot find migrations/${kind} near ${start}; is the install complete?`);
}

/** Read every `.sql` file of `dir` (other files are ignored). */
export function loadMigrations(dir: string, fs: MigrationFs): Migration[] {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.sql'));
  return parseMigrations(names.map((name) => ({ name, sql: fs.readFileSync(`${dir}/${name}`, 'utf8') })));
}

export interface MigrationReport {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Bring the database up to the newest migration.
 * @param label names the database in error messages, e.g. its file path.
 */
export function migrate(db: MigrationDb, migrations: readonly Migration[], label: string): MigrationReport {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const newer = (version: number) =>
    new MigrationError(
      `The database ${label} has schema version ${version}, but this version of the app only knows versions up to ${latest}. ` +
        'It was written by a newer release: run that release, or restore a backup made by this one.',
    );
  const seen = db.userVersion();
  if (seen > latest) throw newer(seen);
  if (seen === latest) return { from: seen, to: seen, applied: [] };
  // Another process (a `start` next to an admin command) may be migrating this database right
  // now: take the write lock first, then read the version again and apply only what is still
  // missing. Read outside the lock, migration 007 was applied twice ("index already exists").
  let current = seen;
  let pending: Migration[] = [];
  db.transaction(() => {
    current = db.userVersion();
    if (current > latest) throw newer(current);
    pending = migrations.filter((m) => m.version > current);
    if (pending.length === 0) return;
    for (const m of pending) {
      try {
        db.exec(m.sql);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new MigrationError(
          `Migration ${m.name} failed on ${label}: ${reason}. Nothing was changed; the database is still at version ${current}.`,
        );
      }
    }
    db.exec(`PRAGMA user_version = ${latest}`);
  });
  return { from: current, to: latest, applied: pending.map((m) => m.name) };
}

/** The parts of a better-sqlite3 `Database` the runner needs (structural, so no import here). */
export interface SqliteLike {
  exec(sql: string): unknown;
  pragma(source: string, options: { simple: true }): unknown;
  transaction(fn: () => void): { immediate(): void };
}

/** Adapt a better-sqlite3 database to the runner. */
export function sqliteMigrationDb(db: SqliteLike): MigrationDb {
  return {
    exec: (sql) => void db.exec(sql),
    userVersion: () => Number(db.pragma('user_version', { simple: true })),
    transaction: <T>(fn: () => T): T => {
      let value!: T;
      db.transaction(() => {
        value = fn();
      }).immediate();
      return value;
    },
  };
}
