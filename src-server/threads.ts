/** Worker threads of the server (the import's writer, the page reader, the CSV parser): where their entries are, what their errors say, how they end, and their turns. */
import fs from 'node:fs';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';

/**
 * Where a thread's compiled entry `file` (relative to the module `from`, its `import.meta.url`)
 * is: next to that module, or, when it runs from the TypeScript sources (the tests), under
 * out/node, which the tests' global setup builds from the same sources first (a thread cannot
 * load a .ts file).
 */
export function threadEntry(file: string, from: string): URL {
  if (!from.endsWith('.ts')) return new URL(file, from);
  const root = new URL('../', import.meta.url).pathname; // the repository: this file is in src-server/
  const source = new URL(file, from).pathname;
  return new URL(`file://${root}out/node/${source.slice(root.length)}`);
}

/** What a thread's `error` event says: an error thrown there may arrive as a plain object (SQLite's errors do). */
export function threadErrorMessage(err: Partial<Error> & { code?: string }): string {
  return err.message ?? err.code ?? String(err);
}

/**
 * Work done `width` at a time at most, in the order asked; the rest waits its turn (a place is
 * handed straight from the work that ends to the next in wait). Imports are written one at a
 * time, in order; CSV files are parsed two at a time.
 */
export class Lanes {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly width = 1) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.width) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * Ask a thread to close (`closeMessage`: it closes its connection and its port) and wait until it
 * has exited; one that has not within `timeoutMs` is terminated. The process stays alive meanwhile.
 */
export async function endThread(worker: Worker, closeMessage: unknown, timeoutMs = 5000): Promise<void> {
  worker.ref();
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage(closeMessage);
  const timer = setTimeout(() => void worker.terminate(), timeoutMs);
  await ended;
  clearTimeout(timer);
}

/**
 * Lower the calling thread's CPU priority to at least `nice` (0 is normal, 19 the lowest; a thread
 * already nicer keeps its value), so that it runs on what the event loop and the other threads
 * leave. Linux only (a thread's nice value is its own there; /proc/thread-self names it, and only
 * when that /proc is this process's own); elsewhere, or if the system refuses, nothing changes and
 * it returns false.
 */
export function lowerThisThreadsPriority(nice: number): boolean {
  try {
    const [pid, , tid] = fs.readlinkSync('/proc/thread-self').split('/').map(Number);
    if (pid !== process.pid || !Number.isInteger(tid) || tid! <= 0) return false;
    os.setPriority(tid!, Math.min(19, Math.max(os.getPriority(tid!), nice)));
    return true;
  } catch {
    return false;
  }
}
