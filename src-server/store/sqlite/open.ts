import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlushFile } from './flush.js';
import { findMigrationsDir, loadMigrations, migrate, sqliteMigrationDb } from '../../../src-shared/db/migrate.js';

/** `migrations/server`, found from this file whether it runs from source or from out/node. */
export function serverMigrationsDir(): string {
  return findMigrationsDir(path.dirname(fileURLToPath(import.meta.url)), 'server', { existsSync: fs.existsSync, join: path.join, dirname: path.dirname });
}

export interface OpenOptions {
  /** `FULL` (default) fsyncs every commit; tests may pass `NORMAL` only where durability is not under test. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** Tests only: route every write statement through the store's `faultHook` (off by default). */
  faultHooks?: boolean;
  /**
   * With `FULL` (default true): commit with the WAL written but not synced, and fdatasync it off
   * the event loop before anything is answered or read (flush.ts). The sync simulation turns it off:
   * its time is virtual and a flush on the thread pool would happen in real time.
   */
  flushOffLoop?: boolean;
  /** Tests only: how the WAL is flushed (default fdatasync on libuv's pool). */
  flushFile?: FlushFile;
}

/** Open (creating if needed) the authority's database file, configured and migrated. */
export function openServerDatabase(file: string, options: OpenOptions = {}): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Keep the working set in memory: 64 MiB page cache, memory-mapped reads.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    db.pragma('temp_store = MEMORY');
    // SQLite's default: a commit that finds the WAL over ~4 MB checkpoints it. The running server
    // moves checkpoints to a background thread instead (checkpointer.ts).
    db.pragma('wal_autocheckpoint = 1000');
    migrate(sqliteMigrationDb(db), loadMigrations(serverMigrationsDir(), fs), file);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
