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
import { endThread, Lanes, threadEntry, threadErrorMessage } from '../../threads.js';

export interface ImportThreadData {
  file: string;
  synchronous: 'FULL' | 'NORMAL' | 'OFF';
  walAutocheckpoint: number;
}

export type ImportThreadRequest =
  | { type: 'begin' }
  | { type: 'rows'; rows: ImportTaskRow[] }
  | { type: 'run'; now: number; scope: { departmentIds: readonly string[] } | undefined }
  | { type: 'close' };

export type ImportThreadReply = { type: 'done'; result: ImportResult } | { type: 'failed'; message: string };

/** Rows handed to the thread per message: about a millisecond of copying each. */
const ROWS_PER_MESSAGE = 1000;

export class ImportThread {
  private worker: Worker | null = null;
  /** The import the thread is working on, with the thread it was handed to. */
  private pending: { worker: Worker; resolve: (r: ImportResult) => void; reject: (e: Error) => void } | null = null;
  private closed = false;

  constructor(private readonly data: ImportThreadData) {}

  /** Settle the import `worker` was working on; an event of a thread that is gone settles nothing later. */
  private settle(worker: Worker, outcome: { result: ImportResult } | { error: Error }): void {
    const p = this.pending;
    if (!p || p.worker !== worker) return;
    this.pending = null;
    worker.unref();
    if ('result' in outcome) p.resolve(outcome.result);
    else p.reject(outcome.error);
  }

  private start(): Worker {
    const worker = new Worker(threadEntry('./import-worker.js', import.meta.url), { workerData: this.data });
    worker.unref();
    worker.on('message', (m: ImportThreadReply) =>
      this.settle(worker, m.type === 'done' ? { result: m.result } : { error: new Error(`the import could not be written: ${m.message}`) }),
    );
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = null;
      this.settle(worker, { error: new Error(`the import thread stopped (${why}); nothing of the import was written`) });
    };
    worker.on('error', (err) => lost(threadErrorMessage(err)));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  /** One import at a time on the thread, in the order asked. */
  private readonly turns = new Lanes();

  /**
   * Check and write `rows` in one transaction on the thread, after the imports asked for before.
   * The rows are handed over a chunk a turn; `beforeWrite` runs once they are all there, right
   * before the thread takes the write lock (the server's own writes go on until then).
   */
  run(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }, beforeWrite: () => Promise<void> | void = () => {}): Promise<ImportResult> {
    return this.turns.run(() => this.write(rows, now, scope, beforeWrite));
  }

  private async write(rows: readonly ImportTaskRow[], now: number, scope: { departmentIds: readonly string[] } | undefined, beforeWrite: () => Promise<void> | void): Promise<ImportResult> {
    if (this.closed) throw new Error('the server is stopping; the import was not written');
    const worker = (this.worker ??= this.start());
    // The answer must keep the process alive (a CLI import has nothing else to wait for).
    worker.ref();
    let settled = false;
    const answered = new Promise<ImportResult>((resolve, reject) => (this.pending = { worker, resolve, reject })).finally(() => (settled = true));
    // Lost while the rows are on their way, the thread rejects this before anyone awaits it.
    answered.catch(() => {});
    // Rows a failed hand-off left on the thread are not this import's.
    worker.postMessage({ type: 'begin' } satisfies ImportThreadRequest);
    const slicer = new Slicer();
    for (let at = 0; at < rows.length && !settled; at += ROWS_PER_MESSAGE) {
      const pause = slicer.due();
      if (pause) await pause;
      if (!settled) worker.postMessage({ type: 'rows', rows: rows.slice(at, at + ROWS_PER_MESSAGE) } satisfies ImportThreadRequest);
    }
    if (!settled) {
      await beforeWrite();
      // The thread may have been lost while `beforeWrite` waited: then it writes nothing.
      if (!settled) worker.postMessage({ type: 'run', now, scope } satisfies ImportThreadRequest);
    }
    return answered;
  }

  /** Close the thread's connection and end it; imports asked for after this are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await endThread(worker, { type: 'close' } satisfies ImportThreadRequest);
  }
}
