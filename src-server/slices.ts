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

/**
 * Issue 12: work that many connections ask for in one turn of the event loop shares one budget per
 * turn. One poll of the sockets can deliver hundreds of kiosks' acknowledgements, each wanting a
 * page read from the store (tens of milliseconds for a full page on SQLite, synchronous); run one
 * after another they held the loop for hundreds of milliseconds while timers, pings and answers
 * waited. Once this turn's budget is spent, a job waits (once per key, in order of asking) for a
 * later turn, where it runs with a fresh budget. A job that is already waiting is not run twice.
 */
export class TurnBudget {
  private started = -1;
  private readonly waiting = new Map<unknown, () => void>();

  constructor(private readonly budgetMs = SLICE_MS) {}

  /** Run `job` now if this turn has budget left (and nothing waits before it), else in a later turn. */
  run(key: unknown, job: () => void): void {
    if (this.waiting.size === 0 && !this.spent()) return job();
    this.waiting.set(key, job);
  }

  /** Jobs waiting for a later turn. */
  get backlog(): number {
    return this.waiting.size;
  }

  private spent(): boolean {
    const now = performance.now();
    if (this.started < 0) {
      this.started = now;
      // The next turn starts with a fresh budget and runs what waits.
      setImmediate(() => {
        this.started = -1;
        this.drain();
      });
    }
    return now - this.started >= this.budgetMs;
  }

  private drain(): void {
    for (const [key, job] of this.waiting) {
      if (this.spent()) return;
      this.waiting.delete(key);
      job();
    }
  }
}

/**
 * Issue 12: a page read from a store that answers on the event loop (SQLite) holds as many
 * entities as read in about `budgetMs` at the recent cost per entity, between `min` and `max`. A
 * full page of 1,000 tasks with what goes with them took 25-70 ms here, and after an import every
 * department's kiosks and every supervisor page read such pages one after another. A store that
 * awaits its database (PostgreSQL) does not hold the loop: its pages stay `max`.
 */
export class PageSizer {
  private msPerEntity = 0;

  constructor(
    private readonly max: number,
    private readonly onLoop: boolean,
    private readonly budgetMs = SLICE_MS,
    private readonly min = Math.min(100, max),
  ) {}

  get limit(): number {
    if (!this.onLoop || this.msPerEntity === 0) return this.max;
    return Math.max(this.min, Math.min(this.max, Math.floor(this.budgetMs / this.msPerEntity)));
  }

  /**
   * Read a page at the current limit and learn from its cost: the time the call held the loop
   * (a read the store ran at once), over the entities it brought, for pages of at least `min`
   * entities (a small live page's cost is mostly its fixed part).
   */
  read<T>(read: (limit: number) => Promise<T>, entities: (page: T) => number): Promise<T> {
    const started = performance.now();
    const page = read(this.limit);
    const ms = performance.now() - started;
    if (this.onLoop && ms > 0.2) {
      page.then(
        (p) => {
          const n = entities(p);
          if (n < this.min) return;
          this.msPerEntity = this.msPerEntity > 0 ? 0.7 * this.msPerEntity + 0.3 * (ms / n) : ms / n;
        },
        () => undefined,
      );
    }
    return page;
  }
}
