/** The migrations runner on real SQLite files in a temp folder (MIG-1..4). */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, MigrationError, parseMigrations, sqliteMigrationDb } from '../src-shared/db/migrate.js';

let dir: string;
let dbs: Database.Database[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-'));
});
afterEach(() => {
  for (const db of dbs) db.close();
  dbs = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(file = 'db.sqlite') {
  const db = new Database(path.join(dir, file));
  dbs.push(db);
  return db;
}

function writeMigrations(sub: string, files: Record<string, string>) {
  const d = path.join(dir, sub);
  fs.mkdirSync(d, { recursive: true });
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(d, name), sql);
  return d;
}

const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('migrations runner', () => {
  it('MIG-1 applies numbered files in order in one go and records the version in user_version', () => {
    const d = writeMigrations('m', {
      '002_add_b.sql': 'CREATE TABLE b (id INTEGER); INSERT INTO a VALUES (2);',
      '001_init.sql': 'CREATE TABLE a (id INTEGER); INSERT INTO a VALUES (1);',
      'README.txt': 'not a migration',
    });
    const db = open();
    const report = migrate(sqliteMigrationDb(db), loadMigrations(d, fs), 'test.db');
    expect(report).toEqual({ from: 0, to: 2, applied: ['001_init.sql', '002_add_b.sql'] });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT id FROM a ORDER BY id').pluck().all()).toEqual([1, 2]);
    // Running again is a no-op.
    expect(migrate(sqliteMigrationDb(db), loadMigrations(d, fs), 'test.db').applied).toEqual([]);
  });

  it('MIG-1 a database at version 1 gets only migration 2, seeded rows kept', () => {
    const d1 = writeMigrations('v1', { '001_init.sql': 'CREATE TABLE a (id INTEGER);' });
    const db = open();
    migrate(sqliteMigrationDb(db), loadMigrations(d1, fs), 'test.db');
    db.prepare('INSERT INTO a VALUES (42)').run();
    const d2 = writeMigrations('v2', {
      '001_init.sql': 'CREATE TABLE a (id INTEGER);',
      '002_more.sql': 'ALTER TABLE a ADD COLUMN note TEXT DEFAULT \'x\';',
    });
    expect(migrate(sqliteMigrationDb(db), loadMigrations(d2, fs), 'test.db').applied).toEqual(['002_more.sql']);
    expect(db.prepare('SELECT id, note FROM a').get()).toEqual({ id: 42, note: 'x' });
  });

  it('MIG-2 a database newer than the app is refused with a clear error, and left alone', () => {
    const db = open();
    db.exec('CREATE TABLE future (x INTEGER); PRAGMA user_version = 7;');
    const d = writeMigrations('m', { '001_init.sql': 'CREATE TABLE a (id INTEGER);' });
    expect(() => migrate(sqliteMigrationDb(db), loadMigrations(d, fs), 'plant.db')).toThrow(
      /plant\.db has schema version 7, but this version of the app only knows versions up to 1.*newer release/,
    );
    expect(tables(db)).toEqual(['future']);
    expect(db.pragma('user_version', { simple: true })).toBe(7);
  });

  it('MIG-3 a failing migration leaves the database exactly as it was and names the file', () => {
    const d = writeMigrations('m', {
      '001_init.sql': 'CREATE TABLE a (id INTEGER);',
      '002_ok.sql': 'CREATE TABLE b (id INTEGER); INSERT INTO a VALUES (1);',
      '003_broken.sql': 'CREATE TABLE c (id INTEGER); INSERT INTO nowhere VALUES (1);',
    });
    const db = open();
    let error: unknown;
    try {
      migrate(sqliteMigrationDb(db), loadMigrations(d, fs), 'test.db');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigrationError);
    expect(String((error as Error).message)).toMatch(/003_broken\.sql failed.*no such table: nowhere.*still at version 0/);
    expect(tables(db)).toEqual([]);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
  });

  it('MIG-4 misnamed, gapped or duplicated migration files are refused by name', () => {
    expect(() => parseMigrations([{ name: '1_init.sql', sql: '' }])).toThrow(/"1_init\.sql" is not named NNN_/);
    expect(() => parseMigrations([{ name: '001_Init.sql', sql: '' }])).toThrow(/not named/);
    expect(() =>
      parseMigrations([
        { name: '001_a.sql', sql: '' },
        { name: '003_c.sql', sql: '' },
      ]),
    ).toThrow(/found "003_c\.sql" where version 2 was expected/);
    expect(() =>
      parseMigrations([
        { name: '001_a.sql', sql: '' },
        { name: '001_b.sql', sql: '' },
      ]),
    ).toThrow(/without gaps or duplicates/);
  });

  it.each(['server', 'terminal'])('MIG-1 the shipped %s migrations apply cleanly to a new file', (which) => {
    const db = open(`${which}.db`);
    const migrations = loadMigrations(path.resolve('migrations', which), fs);
    const report = migrate(sqliteMigrationDb(db), migrations, `${which}.db`);
    expect(report.to).toBe(migrations.length);
    expect(tables(db)).toContain('tasks');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });
});
