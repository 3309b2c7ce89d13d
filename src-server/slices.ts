/**
 * SEC-9: long work in slices. A loop over thousands of rows calls `due()` now and then; once the
 * slice's budget is spent it gets a promise to await, which lets the event loop run everything
 * else that is waiting (pings, other requests) before the next slice. No request holds the loop
 * for longer than about one budget.
 */

export const SLICE_MS = 15;

/**
 * Issue 12: the event loop's budget per turn, shared by everything that works in slices or waits
 * in a line (store calls, page sends, imports, push rounds): one loop per process, so one budget.
 * A turn's clock starts at the first ask and ends at the loop's next round of timers, so one pass
 * of the loop (what the loop's delay measures) holds about one budget of that work, however many
 * kinds of it there are. Before, each kind had a budget of its own (a commit group, page reads,
 * sends, an import slice), and together they held the loop for 100-500 ms after an import.
 */
export class LoopBudget {
  private started = -1;
  private turns = 0;
  private readonly wake: Array<() => void> = [];

  /** How many turns have begun (tests tell turns apart by it). */
  get turn(): number {
    return this.turns;
  }

  /** `now` is the clock the budget is counted on; tests give one that only their work moves. */
  constructor(
    readonly budgetMs = SLICE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this turn has budget left; the first ask of a turn starts its clock. */
  left(): boolean {
    if (this.started < 0) {
      this.startTurn();
      return true;
    }
    return this.now() - this.started < this.budgetMs;
  }

  /** Run `fn` when the next turn begins, in the order asked. */
  atNextTurn(fn: () => void): void {
    this.wake.push(fn);
    if (this.started < 0) this.startTurn();
  }

  /** A promise that resolves when the next turn begins. */
  nextTurn(): Promise<void> {
    return new Promise((resolve) => this.atNextTurn(resolve));
  }

  private startTurn(): void {
    this.turns++;
    this.started = this.now();
    // A timer, not setImmediate: timers run once per pass of the loop, after its I/O and its
    // immediates, so the turn spans a whole pass.
    setTimeout(() => {
      this.started = -1;
      const woken = this.wake.splice(0);
      let failure: unknown = null;
      for (const fn of woken) {
        // One that throws must not strand the others (a line never woken waits forever).
        try {
          fn();
        } catch (err) {
          failure ??= err;
        }
      }
      if (failure !== null) throw failure;
    }, 0);
  }
}

/** This process's event loop. */
export const loopBudget = new LoopBudget();

/**
 * SEC-9: long work in slices. A loop over thousands of rows calls `due()` now and then; once the
 * turn's budget is spent it gets a promise to await, which lets the event loop run everything
 * else that is waiting (pings, other requests) before the next slice.
 */
export class Slicer {
  constructor(private readonly budget: LoopBudget = loopBudget) {}

  /** null while the turn has budget; else a promise that resolves in the next turn. */
  due(): Promise<void> | null {
    return this.budget.left() ? null : this.budget.nextTurn();
  }
}

/**
 * Issue 12: work that many connections ask for in one turn of the event loop shares the turn's
 * budget. One poll of the sockets can deliver hundreds of kiosks' acknowledgements, each wanting a
 * page read from the store (tens of milliseconds for a full page on SQLite, synchronous); run one
 * after another they held the loop for hundreds of milliseconds while timers, pings and answers
 * waited. Once this turn's budget is spent, a job waits (once per key, in order of asking) for a
 * later turn. A job that is already waiting is not run twice.
 */
export class TurnBudget {
  private readonly waiting = new Map<unknown, () => void>();
  private scheduled = false;
  private readonly budget: LoopBudget;

  constructor(budget: LoopBudget | number = loopBudget) {
    this.budget = typeof budget === 'number' ? new LoopBudget(budget) : budget;
  }

  /** Run `job` now if this turn has budget left (and nothing waits before it), else in a later turn. */
  run(key: unknown, job: () => void): void {
    if (this.waiting.size === 0 && this.budget.left()) return job();
    this.waiting.set(key, job);
    this.schedule();
  }

  /** Jobs waiting for a later turn. */
  get backlog(): number {
    return this.waiting.size;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.budget.atNextTurn(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    for (const [key, job] of this.waiting) {
      if (!this.budget.left()) return this.schedule();
      this.waiting.delete(key);
      job();
    }
  }
}

/**
 * Issue 12: a line of calls that each run a synchronous part on the event loop. A call that comes
 * when the turn's budget is spent, or while others wait, waits in line; waiting calls go in one
 * after another, in the order they came, within the turns' budgets. A call is let in only after the one before it has run its synchronous part
 * and said so (`next(true)`): its callers' continuations run first, so they are in the budget too.
 */
export class Line {
  private readonly waiting: Array<() => void> = [];
  /** How many of `waiting`, at its head, came with priority. */
  private urgent = 0;
  /** A waiter was let in and has not called `next` yet. */
  private admitting = false;
  private waitingForTurn = false;

  constructor(private readonly budget: LoopBudget = loopBudget) {}

  /**
   * null: go in now. Else a promise that resolves when it is this caller's turn. A call with
   * `priority` (a commit group: kiosks wait for its answers) goes ahead of the others waiting,
   * behind those with priority that came before it.
   */
  enter(priority = false): Promise<void> | null {
    if (this.waiting.length === 0 && !this.admitting && this.budget.left()) return null;
    return new Promise<void>((resolve) => {
      if (priority) this.waiting.splice(this.urgent++, 0, resolve);
      else this.waiting.push(resolve);
      if (!this.admitting) this.next(false);
    });
  }

  /** Calls waiting in line. */
  get length(): number {
    return this.waiting.length;
  }

  /**
   * Let the next waiter in, if there is one and this turn has time left. Every call
   * that went in calls this once it has run its synchronous part (`wentIn`: it came through the
   * line); calls that went in at once call it too, with false.
   */
  next(wentIn: boolean): void {
    if (wentIn) this.admitting = false;
    if (this.admitting || this.waiting.length === 0) return;
    if (!this.budget.left()) {
      if (this.waitingForTurn) return;
      this.waitingForTurn = true;
      this.budget.atNextTurn(() => {
        this.waitingForTurn = false;
        this.next(false);
      });
      return;
    }
    this.admitting = true;
    if (this.urgent > 0) this.urgent--;
    this.waiting.shift()!();
  }
}

/**
 * SUP-1 (issue 12): work that gives way. While `yielding()` says so, one caller goes through per
 * turn of the event loop and the others wait for later turns, in the order they came; otherwise
 * all go through at once. It slows such work while something more urgent runs, and never stops it.
 */
export class TurnGate {
  private usedThisTurn = false;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly yielding: () => boolean,
    private readonly budget: LoopBudget = loopBudget,
  ) {}

  /** Resolves when the caller may go on: at once, or in a later turn after those before it. */
  pass(): Promise<void> {
    if (!this.usedThisTurn && this.waiting.length === 0) {
      this.use();
      return Promise.resolve();
    }
    if (!this.yielding()) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** This turn's one passage is taken; the next turn hands the next to the head of the line. */
  private use(): void {
    this.usedThisTurn = true;
    this.budget.atNextTurn(() => {
      this.usedThisTurn = false;
      if (this.waiting.length === 0) return;
      if (!this.yielding()) {
        for (const go of this.waiting.splice(0)) go();
        return;
      }
      this.use();
      this.waiting.shift()!();
    });
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

  /**
   * `onLoop`: whether the store reads pages on the event loop now (SQLite until its read thread
   * takes reads). `offLoopMax`: the most a page holds when it does not (asked at each read when a
   * function).
   */
  constructor(
    private readonly max: number,
    private readonly onLoop: boolean | (() => boolean),
    private readonly budgetMs = SLICE_MS,
    private readonly min = Math.min(100, max),
    private readonly offLoopMax: number | (() => number) = max,
  ) {}

  private get readsOnLoop(): boolean {
    return typeof this.onLoop === 'function' ? this.onLoop() : this.onLoop;
  }

  get limit(): number {
    if (!this.readsOnLoop) return Math.min(this.max, typeof this.offLoopMax === 'function' ? this.offLoopMax() : this.offLoopMax);
    if (this.msPerEntity === 0) return this.max;
    return Math.max(this.min, Math.min(this.max, Math.floor(this.budgetMs / this.msPerEntity)));
  }

  /**
   * Read a page at the current limit and learn from its cost: the time the call held the loop
   * (a read the store ran at once), over the entities it brought, for pages of at least `min`
   * entities (a small live page's cost is mostly its fixed part).
   */
  read<T>(read: (limit: number) => Promise<T>, entities: (page: T) => number): Promise<T> {
    const onLoop = this.readsOnLoop;
    const started = performance.now();
    const page = read(this.limit);
    const ms = performance.now() - started;
    if (onLoop && ms > 0.2) {
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
