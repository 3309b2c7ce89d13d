/**
 * SEC-9, issue 12: a large import is written on a thread of its own (import-worker.ts), not on the
 * event loop. Before, it ran in slices on the loop: 50,000 rows took 1.3-1.7 s of the loop's time
 * (checking and writing each row), shared turn by turn with 200 kiosks' work, and held the write
 * lock for all that time and more. On its own thread it takes the other core, and the loop only
 * hands it the rows, a chunk a turn.
 */
import { Worker } from 'node:worker_threads';
import type { ImportResult, ImportTaskRow } from '../types.js';
import { Slicer } from '../../slices.js';
import { threadEntry } from '../../threads.js';

export interface ImportThreadData {
  file: string;
  synchronous: 'FULL' | 'NORMAL' | 'OFF';
  walAutocheckpoint: number;
}

export type ImportThreadRequest =
  | { type: 'rows'; rows: ImportTaskRow[] }
  | { type: 'run'; now: number; scope: { departmentIds: readonly string[] } | undefined }
  | { type: 'close' };

export type ImportThreadReply = { type: 'done'; result: ImportResult } | { type: 'failed'; message: string };

/** Rows handed to the thread per message: about a millisecond of copying each. */
const ROWS_PER_MESSAGE = 1000;

export class ImportThread {
  private worker: Worker | null = null;
  /** The import the thread is working on. */
  private pending: { resolve: (r: ImportResult) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly data: ImportThreadData) {}

  private start(): Worker {
    const worker = new Worker(threadEntry('./import-worker.js', import.meta.url), { workerData: this.data });
    worker.unref();
    worker.on('message', (m: ImportThreadReply) => {
      const p = this.pending;
      this.pending = null;
      worker.unref();
      if (m.type === 'done') p?.resolve(m.result);
      else p?.reject(new Error(`the import could not be written: ${m.message}`));
    });
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = null;
      const p = this.pending;
      this.pending = null;
      p?.reject(new Error(`the import thread stopped (${why}); nothing of the import was written`));
    };
    // An error thrown on the thread may arrive as a plain object (SQLite's errors do).
    worker.on('error', (err: Partial<Error> & { code?: string }) => lost(err.message ?? err.code ?? String(err)));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  /** The imports before this one (one at a time on the thread). */
  private queue: Promise<void> = Promise.resolve();

  /**
   * Check and write `rows` in one transaction on the thread, after the imports asked for before.
   * The rows are handed over a chunk a turn; `beforeWrite` runs once they are all there, right
   * before the thread takes the write lock (the server's own writes go on until then).
   */
  async run(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }, beforeWrite: () => Promise<void> | void = () => {}): Promise<ImportResult> {
    const before = this.queue;
    let done!: () => void;
    this.queue = new Promise<void>((resolve) => (done = resolve));
    try {
      await before;
      const worker = (this.worker ??= this.start());
      // The answer must keep the process alive (a CLI import has nothing else to wait for).
      worker.ref();
      const answered = new Promise<ImportResult>((resolve, reject) => (this.pending = { resolve, reject }));
      const slicer = new Slicer();
      for (let at = 0; at < rows.length && this.worker === worker; at += ROWS_PER_MESSAGE) {
        const pause = slicer.due();
        if (pause) await pause;
        if (this.worker === worker) worker.postMessage({ type: 'rows', rows: rows.slice(at, at + ROWS_PER_MESSAGE) } satisfies ImportThreadRequest);
      }
      // A thread lost meanwhile has rejected `answered` already.
      if (this.worker === worker) {
        await beforeWrite();
        worker.postMessage({ type: 'run', now, scope } satisfies ImportThreadRequest);
      }
      return await answered;
    } finally {
      done();
    }
  }

  /** Close the thread's connection and end it. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    worker.ref();
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ImportThreadRequest);
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await ended;
    clearTimeout(timer);
  }
}
