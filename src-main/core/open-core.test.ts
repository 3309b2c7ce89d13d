/**
 * SEC-33: a terminal's database (the operator directory with its PIN hashes, the terminal token)
 * is readable only by the terminal's own user: the data folder 0700, the SQLite files 0600, made
 * so when new and tightened when an older version left them open; a shared folder is never changed.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, LOCK_FILE, openTerminalCore } from './open-core.js';
import { loadSettings } from './settings.js';
import { TerminalStorageError } from './storage-problem.js';
import type { TerminalCore } from './terminal.js';

const dirs: string[] = [];
const cores: TerminalCore[] = [];
afterEach(() => {
  for (const c of cores.splice(0)) c.close();
  for (const d of dirs.splice(0)) {
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'modes-'));
  dirs.push(d);
  return d;
}

const mode = (p: string) => (fs.statSync(p).mode & 0o7777).toString(8);

function open(dataDir: string, log: Array<[string, string]> = []): TerminalCore {
  const core = openTerminalCore(loadSettings({ defaults: { dataDir } }), { appVersion: 'test', log: (level, message) => void log.push([level, message]) });
  cores.push(core);
  // A write, so the -wal and -shm files exist as they do in service.
  core.store.setMeta('probe', 1);
  return core;
}

const files = (dir: string) => ['', '-wal', '-shm'].map((s) => path.join(dir, `${DATABASE_FILE}${s}`));

describe.skipIf(process.platform === 'win32')('SEC-33 the terminal database is readable only by its user', () => {
  it('SEC-33 a new data folder is 0700 and the database, -wal and -shm files 0600 (umask 022)', () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = path.join(tempDir(), 'kiosk', 'data');
      open(dataDir);
      expect(mode(dataDir)).toBe('700');
      expect(mode(path.dirname(dataDir))).toBe('700');
      for (const f of files(dataDir)) expect([path.basename(f), mode(f)]).toEqual([path.basename(f), '600']);
    } finally {
      process.umask(previous);
    }
  });

  it('SEC-33 a folder and database an older version left readable are tightened when the terminal opens them', () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    const old = new Database(path.join(dataDir, DATABASE_FILE));
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x)');
    old.close();
    fs.chmodSync(path.join(dataDir, DATABASE_FILE), 0o644);
    const log: Array<[string, string]> = [];
    open(dataDir, log);
    expect(mode(dataDir)).toBe('700');
    for (const f of files(dataDir)) expect([path.basename(f), mode(f)]).toEqual([path.basename(f), '600']);
    expect(log).toContainEqual(['info', 'the data folder was open to other users; now only this user may read it']);
  });

  it('SEC-33 a shared folder (sticky, like /tmp) is not changed, only reported; the database in it is still 0600', () => {
    const shared = tempDir();
    fs.chmodSync(shared, 0o1777);
    const log: Array<[string, string]> = [];
    open(shared, log);
    expect(mode(shared)).toBe('1777');
    expect(mode(path.join(shared, DATABASE_FILE))).toBe('600');
    expect(log.some(([level, message]) => level === 'warn' && message.startsWith('the data folder is not private'))).toBe(true);
  });
});

describe('one terminal process per data folder', () => {
  it('HOST-2 a second terminal on a data folder another one is using is refused, naming the folder; once the first has closed (or died: the lock is the OS\'s), it opens', () => {
    const dir = tempDir();
    const first = open(dir);
    let refused: Error | null = null;
    try {
      open(dir);
    } catch (e) {
      refused = e as Error;
    }
    expect(refused?.message).toMatch(/another terminal process is using the data folder/);
    expect(refused?.message).toContain(dir);
    // The first goes on working.
    first.store.setMeta('probe', 2);
    expect(first.store.meta('probe', 0)).toBe(2);
    first.close();
    expect(() => open(dir)).not.toThrow();
  });

  it('HOST-2 a data folder held by another process is refused; once that process is killed (SIGKILL, no clean-up), it opens', async () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    const child = spawn(process.execPath, ['-e', `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(path.join(dir, LOCK_FILE))}, { timeout: 0 }); db.exec('BEGIN EXCLUSIVE'); console.log('held'); setInterval(() => {}, 1000);`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the child exited (${code})`)));
      });
      expect(() => open(dir)).toThrow(/another terminal process is using the data folder/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expect(open(dir).store.meta('probe', 0)).toBe(1);
  });
});

describe('HOST-3 a damaged database or lock file', () => {
  const refusal = (dir: string): TerminalStorageError => {
    try {
      open(dir);
    } catch (e) {
      return e as TerminalStorageError;
    }
    throw new Error('the terminal opened');
  };

  it('HOST-3 a database whose pages are damaged (its header intact) is refused as damaged, naming the file, and left byte for byte as it was; the folder is free again', () => {
    const dir = tempDir();
    open(dir).close();
    const db = path.join(dir, DATABASE_FILE);
    const bytes = fs.readFileSync(db);
    // Page 1 (the header and the schema's root) stays; every later page is scrambled.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    fs.writeFileSync(db, bytes);
    for (const f of [`${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
    const e = refusal(dir);
    expect(e).toBeInstanceOf(TerminalStorageError);
    expect(e.kind).toBe('damaged');
    expect(e.title).toBe("The terminal's database is damaged");
    expect(e.message.startsWith(`the terminal's database ${db} is damaged (SQLITE_CORRUPT`), e.message).toBe(true);
    expect(e.message).toContain('Do not delete it');
    expect(fs.readFileSync(db).equals(bytes)).toBe(true);
    // The lock was let go: once the file is moved aside (as the message says), the terminal starts on a new database.
    fs.renameSync(db, `${db}.damaged`);
    expect(open(dir).store.meta('probe', 0)).toBe(1);
    expect(fs.readFileSync(`${db}.damaged`).equals(bytes)).toBe(true);
  });

  it('HOST-3 a damaged lock file is named as such, saying it holds no data', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), Buffer.alloc(8192, 0x5a));
    const e = refusal(dir);
    expect(e.message).toMatch(/^the terminal's lock file .*terminal\.lock is damaged \(SQLITE_NOTADB: file is not a database\)\. It holds no data/);
  });
});
