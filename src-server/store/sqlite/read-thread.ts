/**
 * Issue 12: the pages terminals and supervisor overviews sync from are read on a thread of their
 * own (read-worker.ts), through a connection of its own to the authority's database, with the same
 * store code. On the event loop they were a fifth of the server's time under a plant's load (200
 * kiosks' change pages, 4 overviews' pages, more after an import), and they held the loop that
 * answers kiosks' claims; pages were cut to about 15 ms of reading each to keep that bearable. In
 * WAL mode a reader never blocks the writer nor waits for it, so the loop now commits while the
 * thread reads, on the other core.
 *
 * Durable before visible (PROTO-7): the thread's connection sees what the loop has committed, and
 * a commit is durable only once the loop's flusher has synced the WAL. So a page is handed on only
 * after every flush asked for before its answer arrived (store.ts, `gate`); a commit asks for its
 * flush in the same turn it commits in, so that covers everything the page could show.
 *
 * A thread that fails or is lost does not lose a read: the reads it was answering are run again on
 * the loop (they only read), and the next read starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { endThread, threadEntry, threadErrorMessage } from '../../threads.js';

/** The store's page reads the thread serves (they only read, and only the database). */
export const THREAD_READS = ['changesPage', 'snapshotPage', 'supervisorChangesPage', 'supervisorSnapshotPage'] as const;
export type ThreadRead = (typeof THREAD_READS)[number];

/** How long reads stay on the loop after the thread was lost, before a new one is started. */
const RESTART_AFTER_MS = 10_000;

export interface ReadThreadData {
  file: string;
  /** The thread's CPU priority, if lower than normal (threads.ts, lowerThisThreadsPriority). */
  nice?: number;
}

export type ReadThreadRequest = { type: 'read'; id: number; method: ThreadRead; args: unknown[] } | { type: 'close' };
export type ReadThreadReply = { type: 'ready' } | { type: 'page'; id: number; ok: true; value: unknown } | { type: 'page'; id: number; ok: false; message: string };

/** A read asked of the thread; `onLoop` runs it on the event loop instead, should the thread be lost. */
interface Pending {
  worker: Worker;
  method: ThreadRead;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onLoop: () => Promise<unknown>;
}

/** A read waiting to be handed to the thread. */
interface Waiting {
  method: ThreadRead;
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onLoop: () => Promise<unknown>;
}

/**
 * Which reads the thread takes first: change pages (small, and kiosks and overviews show them
 * live), then an overview's snapshot (a person is waiting for the board), then kiosks' snapshots
 * (a kiosk works from its cache meanwhile). Handed over all at once, 60 kiosks' snapshots of
 * 10,000 tasks each (and their pages read ahead) sat in the thread's queue before an overview's
 * first page: its board took 18 s instead of 0.9 s to appear.
 */
const PRIORITY: Record<ThreadRead, number> = { changesPage: 0, supervisorChangesPage: 0, supervisorSnapshotPage: 1, snapshotPage: 2 };
/**
 * Reads handed to the thread at a time: one it reads, one waiting in its port, so it never idles;
 * of kiosks' snapshot pages only one (on a thread that also takes more urgent reads), so a more
 * urgent read waits for one such page at most.
 */
const IN_FLIGHT = 2;

export interface ReadThreadOptions {
  /**
   * The thread takes only kiosks' snapshot pages (the store's second thread), so it is handed two
   * at a time like any other read: there is nothing more urgent for them to hold up.
   */
  snapshotsOnly?: boolean;
}

export class ReadThread {
  private worker: Worker | null = null;
  /** The thread has opened its connection; until then (its first few hundred ms) reads run on the loop. */
  private ready = false;
  private readonly pending = new Map<number, Pending>();
  /** Reads not yet handed to the thread, by priority (PRIORITY), each in the order asked. */
  private readonly waiting: Waiting[][] = [[], [], []];
  private nextId = 1;
  private closed = false;
  /** A lost thread is started again at a read after this time (performance.now()), not before. */
  private restartAt = 0;
  /** Reads the thread answered, and reads run on the loop because it was lost (tests, metrics). */
  readonly stats = { answered: 0, rerunOnLoop: 0, threadsStarted: 0 };

  constructor(
    private readonly data: ReadThreadData,
    private readonly onLost: (why: string) => void = () => {},
    private readonly options: ReadThreadOptions = {},
  ) {}

  private start(): Worker {
    const worker = new Worker(threadEntry('./read-worker.js', import.meta.url), { workerData: this.data });
    this.stats.threadsStarted++;
    worker.unref();
    worker.on('message', (m: ReadThreadReply) => {
      if (m.type === 'ready') {
        if (this.worker === worker) {
          this.ready = true;
          for (const wake of this.readyWaiters.splice(0)) wake();
        }
        return;
      }
      const p = this.pending.get(m.id);
      if (!p || p.worker !== worker) return;
      this.pending.delete(m.id);
      this.handOver();
      if (this.pending.size === 0) worker.unref();
      if (m.ok) {
        this.stats.answered++;
        p.resolve(m.value);
      } else p.reject(new Error(m.message));
    });
    let gone = false;
    const lost = (why: string) => {
      // A thread that fails says so twice ('error', then 'exit'): once is enough.
      if (gone) return;
      gone = true;
      for (const wake of this.readyWaiters.splice(0)) wake();
      if (this.worker === worker) {
        this.worker = null;
        this.ready = false;
        // A thread that cannot open the database would otherwise be started again at every read.
        this.restartAt = performance.now() + RESTART_AFTER_MS;
      }
      let rerun = 0;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        rerun++;
        this.stats.rerunOnLoop++;
        p.onLoop().then(p.resolve, p.reject);
      }
      // Those not yet handed over go to the loop as well (a new thread starts at a read later).
      rerun += this.drainToLoop();
      if (!this.closed) this.onLost(`${why}${rerun ? `; ${rerun} page reads run again on the event loop` : ''}`);
    };
    worker.on('error', (err) => lost(threadErrorMessage(err)));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  private readonly readyWaiters: Array<() => void> = [];

  /** Whether reads go to the thread now (else to the event loop). */
  get takesReads(): boolean {
    return !this.closed && this.worker !== null && this.ready;
  }

  /** Resolves once a thread has opened its connection and takes reads, or has been lost (tests). */
  whenReady(): Promise<void> {
    this.warm();
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Start the thread now (it opens its connection meanwhile), not at the first read. */
  warm(): void {
    if (!this.closed) this.worker ??= this.start();
  }

  /**
   * Run a page read on the thread; through `onLoop` (on the loop, or another thread) while it
   * starts, for a while after it was lost, and once it is closed.
   */
  read<T>(method: ThreadRead, args: unknown[], onLoop: () => Promise<T>): Promise<T> {
    if (this.closed || (!this.worker && performance.now() < this.restartAt)) return onLoop();
    this.warm();
    if (!this.ready) return onLoop();
    return new Promise<T>((resolve, reject) => {
      this.waiting[PRIORITY[method]]!.push({ method, args, resolve: resolve as (v: unknown) => void, reject, onLoop });
      this.handOver();
    });
  }

  /** How many reads of `method` the thread owes (handed over or waiting to be). */
  owes(method: ThreadRead): number {
    let n = this.waiting[PRIORITY[method]]!.filter((w) => w.method === method).length;
    for (const p of this.pending.values()) if (p.method === method) n++;
    return n;
  }

  /** Hand the thread the most urgent waiting reads, up to IN_FLIGHT at a time. */
  private handOver(): void {
    const worker = this.worker;
    if (!worker || !this.ready) return;
    while (this.pending.size < IN_FLIGHT) {
      const rank = this.waiting.findIndex((q) => q.length > 0);
      if (rank < 0) return;
      if (rank === PRIORITY.snapshotPage && !this.options.snapshotsOnly && [...this.pending.values()].some((p) => p.method === 'snapshotPage')) return;
      const next = this.waiting[rank]!.shift()!;
      const id = this.nextId++;
      this.pending.set(id, { worker, method: next.method, resolve: next.resolve, reject: next.reject, onLoop: next.onLoop });
      // Keep the process alive while an answer is owed (a CLI or test awaiting a page).
      worker.ref();
      worker.postMessage({ type: 'read', id, method: next.method, args: next.args } satisfies ReadThreadRequest);
    }
  }

  /** Run the reads not yet handed over on the loop instead; how many. */
  private drainToLoop(): number {
    let n = 0;
    for (const q of this.waiting) {
      for (const w of q.splice(0)) {
        n++;
        this.stats.rerunOnLoop++;
        w.onLoop().then(w.resolve, w.reject);
      }
    }
    return n;
  }

  /** Close the thread's connection and end it; reads asked after this run on the loop. */
  async close(): Promise<void> {
    this.closed = true;
    this.drainToLoop();
    const worker = this.worker;
    this.worker = null;
    this.ready = false;
    if (worker) await endThread(worker, { type: 'close' } satisfies ReadThreadRequest);
  }
}
