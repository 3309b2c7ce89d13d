/**
 * SEC-9: long work in slices. A loop over thousands of rows calls `due()` now and then; once the
 * slice's budget is spent it gets a promise to await, which lets the event loop run everything
 * else that is waiting (pings, other requests) before the next slice. No request holds the loop
 * for longer than about one budget.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export const SLICE_MS = 15;

export class Slicer {
  private until: number;

  constructor(private readonly budgetMs = SLICE_MS) {
    this.until = performance.now() + budgetMs;
  }

  /** null while the slice lasts; else a promise that resolves after the event loop had its turn. */
  due(): Promise<void> | null {
    if (performance.now() < this.until) return null;
    return nextTurn().then(() => {
      this.until = performance.now() + this.budgetMs;
    });
  }
}
