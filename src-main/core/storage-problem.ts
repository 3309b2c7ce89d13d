/**
 * HOST-3: why a terminal cannot open its data folder or database, told as what is wrong (the
 * database is damaged, a file or folder is not writable, the disk is full, a file stands where the
 * folder should be, the disk fails), which file, and what to do, instead of SQLite's or the
 * operating system's own words ("SQLITE_NOTADB: file is not a database"). Those stay in the
 * message, in brackets, for whoever is called. Nothing here moves, deletes or rewrites a file: a
 * damaged database may hold actions not yet sent to the server, so the person is told to move it
 * aside, never to delete it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type StorageProblemKind = 'damaged' | 'not_writable' | 'disk_full' | 'in_the_way' | 'disk_error';

/** Which part of the data folder was being opened when it failed. */
export type StorageRole = 'folder' | 'lock' | 'database';

export class TerminalStorageError extends Error {
  constructor(
    readonly kind: StorageProblemKind,
    /** The file or folder the problem is about. */
    readonly file: string,
    /** A headline for an error box. */
    readonly title: string,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'TerminalStorageError';
  }
}

const DATA_DIR_SETTING = 'the dataDir setting: --data, SHOPFLOOR_DATA or "dataDir" in terminal.json';

function kindOf(code: string): StorageProblemKind | null {
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) return 'damaged';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM)/.test(code) || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'not_writable';
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return 'in_the_way';
  if (/^SQLITE_IOERR/.test(code) || code === 'EIO') return 'disk_error';
  return null;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'the user the terminal runs as';
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first part of `target`'s path that exists and is not a folder (what stops a folder being made there). */
function fileInTheWay(target: string): string | null {
  for (let p = path.resolve(target); ; p = path.dirname(p)) {
    if (isFile(p)) return p;
    if (path.dirname(p) === p) return null;
  }
}

/**
 * The storage problem `err` is, as a TerminalStorageError that says what to do, or null when it is
 * something else (left as it is). `file` is what was being opened: the data folder, its lock file
 * or the database.
 */
export function storageProblem(err: unknown, where: { dataDir: string; file: string; role: StorageRole }): TerminalStorageError | null {
  if (err instanceof TerminalStorageError) return err;
  const e = err as { code?: unknown; message?: unknown; path?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const kind = kindOf(code);
  if (!kind) return null;
  const said = typeof e?.message === 'string' ? e.message : String(err);
  const cause = said.startsWith(code) ? said : `${code}: ${said}`;
  // The OS names the very file it refused; SQLite does not, so it is the one being opened.
  const target = typeof e?.path === 'string' ? e.path : where.file;
  const dir = where.dataDir;
  const make = (title: string, message: string) => new TerminalStorageError(kind, target, title, message, { cause: err });
  switch (kind) {
    case 'damaged': {
      if (where.role === 'lock') {
        return make(
          "The terminal's lock file is damaged",
          `the terminal's lock file ${target} is damaged (${cause}). It holds no data (it only marks the folder as in use while a terminal runs): move it away or delete it, then start the terminal again.`,
        );
      }
      const base = path.basename(target);
      return make(
        "The terminal's database is damaged",
        `the terminal's database ${target} is damaged (${cause}); it was left as it is. ` +
          `It is a copy of the server's data plus the actions not yet sent to the server (the outbox). ` +
          `Do not delete it: actions taken offline and not sent yet are only in it, so keep it for support. ` +
          `Stop the terminal, move ${base} and, if they are there, ${base}-wal and ${base}-shm out of ${path.dirname(target)} (or rename all three, e.g. to ${base}.damaged, ${base}.damaged-wal, ${base}.damaged-shm), ` +
          `then start the terminal again: it makes a new database and fetches its data from the server once it is enrolled (the screen asks for the server, terminal id and token, unless they are in its settings).`,
      );
    }
    case 'not_writable': {
      if (code === 'EROFS') {
        return make(
          'The terminal cannot write its data folder',
          `the terminal cannot write ${target}: the file system that holds it is mounted read-only (${cause}). Mount it read-write, or give the terminal a data folder on a writable disk (${DATA_DIR_SETTING}); then start the terminal again.`,
        );
      }
      const user = userName();
      return make(
        'The terminal cannot write its data folder',
        `the terminal cannot write ${target} (${cause}). Its data folder ${dir} and the files in it must be writable by the user the terminal runs as (${user}). ` +
          // No command to copy: the folder may be a shared one (a mistaken --data), whose owner must not change.
          `Give the terminal a folder of its own (${DATA_DIR_SETTING}), or, if that folder is the terminal's own, make it and its files owned by ${user} with only that user allowed in; then start the terminal again.`,
      );
    }
    case 'disk_full':
      return make(
        'The disk is full',
        `the disk that holds the terminal's data folder ${dir} is full (${cause}): ${target} could not be written. Free space on that disk, then start the terminal again.`,
      );
    case 'in_the_way': {
      if (code === 'EISDIR') {
        const what = where.role === 'lock' ? 'its lock file' : 'its database file';
        return make(
          where.role === 'lock' ? "The terminal's lock file is a folder" : "The terminal's database is a folder",
          `${target} is a folder, where the terminal keeps ${what} (${cause}). Move that folder away, or give the terminal another data folder (${DATA_DIR_SETTING}); then start the terminal again.`,
        );
      }
      const blocker = fileInTheWay(target) ?? target;
      return make(
        "The terminal's data folder cannot be made",
        `the terminal's data folder ${dir} cannot be made or used: ${blocker} is a file, not a folder (${cause}). Give the terminal another data folder (${DATA_DIR_SETTING}), or move that file away; then start the terminal again.`,
      );
    }
    case 'disk_error':
      return make(
        'The disk reported an error',
        `reading or writing ${target} failed (${cause}): the disk may be failing, or was removed. Check the disk that holds ${dir}, then start the terminal again.`,
      );
  }
}
