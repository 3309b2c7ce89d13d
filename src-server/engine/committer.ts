/**
 * Group commit. Mutations that arrive together (from many terminals and HTTP requests within one
 * turn of the event loop) are committed as one transaction, hence one fsync, with a savepoint per
 * mutation so one failure stays alone. Each caller is answered only after its group is durable.
 */
import type { Clock } from '../../src-shared/clock.js';
import type { ServerStore } from '../store/types.js';
import type { Eng, GroupResult } from './ports.js';
import { NotRun, RolledBack, TerminalOrder, unitFor, unitHint, type UnitDescriptor, type UnitResult } from './units.js';

interface Pending {
  unit: (now: number) => Eng<unknown>;
  /** The descriptor it came from. */
  desc: UnitDescriptor;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** What the rest of the server uses to change state, wherever the store runs. */
export interface Committer {
  /** Queue a unit of work; resolves with its result once its group is durable. */
  submit<D extends UnitDescriptor>(desc: D): Promise<UnitResult<D>>;
  /** Stop taking work and wait for what is queued to be committed. */
  close(): Promise<void>;
}

export interface CommitListener {
  (changedDepartments: Set<string>, headSeq: number): void;
}

/** Told the size and duration of every committed group (metrics). */
export interface GroupObserver {
  (units: number, seconds: number): void;
}

export interface CommitterStats {
  groups: number;
  units: number;
  largestGroup: number;
  /** Units a group had no time for, put back at the front of the queue (GroupPace.budgetMs). */
  requeued: number;
}

/** About how long one group may hold the event loop (its units run synchronously, then it commits). */
export const GROUP_BUDGET_MS = 25;

export class GroupCommitter implements Committer {
  /** Units waiting for a group: `queue` from `head` on (taken units leave a gap before it). */
  private queue: Pending[] = [];
  private head = 0;
  private readonly order = new TerminalOrder();
  private scheduled = false;
  /** Groups being committed now (at most the store's groupLanes). */
  private running = 0;
  /**
   * Groups taken whose work has not run yet. Where groups hold the event loop (SQLite) one runs at a
   * time, and the next is taken once the last has run (GroupPace.ran; while that one's flush is on
   * the disk), with all that came meanwhile: taken any earlier, it would hold only what had come by
   * then.
   */
  private working = 0;
  /** Terminals with units in a group being committed: their later units wait for it (PROTO-9). */
  private readonly inFlight = new Map<string, number>();
  private closed = false;
  readonly stats: CommitterStats = { groups: 0, units: 0, largestGroup: 0, requeued: 0 };
  /**
   * What a unit of each kind recently cost the event loop, in ms (a moving average; its share of the
   * group's commit included). By kind, because they differ a hundredfold: a slice of auto-assign
   * weighs thousands of operator-task pairs, a claim one. One average for all made a group after a
   * slice take a handful of claims, and a plant's kiosks fell behind.
   */
  private readonly msPerUnit = new Map<UnitDescriptor['kind'], number>();

  constructor(
    private readonly store: ServerStore,
    private readonly clock: Clock,
    private readonly onCommit: CommitListener = () => {},
    private readonly onGroup: GroupObserver = () => {},
    private readonly maxGroup = 5000,
  ) {}

  submit<D extends UnitDescriptor>(desc: D): Promise<UnitResult<D>> {
    return this.enqueue(unitFor(desc, this.order), desc) as Promise<UnitResult<D>>;
  }

  private enqueue(unit: (now: number) => Eng<unknown>, desc: UnitDescriptor): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ unit, desc, resolve, reject });
      this.schedule();
    });
  }

  /** Whether a lane is free for the next group (see `working`). */
  private get laneFree(): boolean {
    return this.running < this.store.groupLanes && !(this.store.groupsHoldTheLoop && this.working > 0);
  }

  private schedule(): void {
    if (this.scheduled || !this.laneFree) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Start groups from the queue while a lane is free. */
  private flush(): void {
    while (this.laneFree && this.queued > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // everything queued waits for a terminal's group in flight
      void this.commit(batch);
    }
  }

  /**
   * The next group, in arrival order, never more than maxGroup units, at least one.
   * - A store whose groups run on the event loop (SQLite) gets the units that fit in
   *   GROUP_BUDGET_MS at the recent cost of their kinds (a backlog of thousands would otherwise
   *   hold the loop for hundreds of ms). A unit that does not fit waits for the next group, which
   *   it starts; cheaper units behind it may go first.
   * - Otherwise (a store that awaits its database per statement) the queue is shared among the
   *   free lanes, so the groups' round trips overlap instead of one group taking them all in turn.
   * - A terminal's unit stays queued, with all that terminal's later ones, while an earlier unit of
   *   the same terminal is in a group still committing in another lane or waits in the queue: its
   *   mutations are applied in order (PROTO-9).
   */
  private take(): Pending[] {
    const holdsLoop = this.store.groupsHoldTheLoop;
    const queued = this.queued;
    const limit = Math.min(this.maxGroup, holdsLoop ? this.maxGroup : Math.ceil(queued / (this.store.groupLanes - this.running)));
    if (this.inFlight.size === 0 && (!holdsLoop || this.msPerUnit.size === 0)) {
      const batch = this.queue.slice(this.head, this.head + limit);
      this.head += batch.length;
      this.compact();
      return batch;
    }
    const batch: Pending[] = [];
    let budget = GROUP_BUDGET_MS;
    // Once what is left of the budget is less than the cheapest kind costs, nothing behind fits.
    // (Before, a backlog of 60,000 claims was scanned to its end for every group, and copied.)
    const cheapest = holdsLoop ? Math.min(...this.msPerUnit.values()) : 0;
    const held = new Set<string>();
    // Units passed over are moved up to `kept`, in order, and end just before the first unscanned.
    let kept = this.head;
    let i = this.head;
    for (; i < this.queue.length && batch.length < limit && budget > 0 && (batch.length === 0 || budget >= cheapest) && kept - this.head < this.maxGroup; i++) {
      const p = this.queue[i]!;
      const terminal = p.desc.kind === 'terminal' ? p.desc.terminalId : null;
      const cost = holdsLoop ? this.costOf(p.desc.kind) : 0;
      if ((terminal === null || (!this.inFlight.has(terminal) && !held.has(terminal))) && (batch.length === 0 || cost <= budget)) {
        batch.push(p);
        budget -= cost;
      } else {
        this.queue[kept++] = p;
        if (terminal !== null) held.add(terminal);
      }
    }
    // Close the gap the batch left: the passed-over units go right before the unscanned ones.
    const passed = kept - this.head;
    for (let k = passed - 1; k >= 0; k--) this.queue[i - passed + k] = this.queue[this.head + k]!;
    this.head = i - passed;
    this.compact();
    return batch;
  }

  /** Units waiting for a group. */
  private get queued(): number {
    return this.queue.length - this.head;
  }

  /** Drop the taken units' slots once they are most of the array (amortised, so taking stays linear). */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** A unit's recent cost by kind; a kind not seen yet is taken to cost what the dearest seen does. */
  private costOf(kind: UnitDescriptor['kind']): number {
    return this.msPerUnit.get(kind) ?? Math.max(0, ...this.msPerUnit.values());
  }

  /**
   * Learn what the units cost: from the store's own timing of each unit and of the whole group on
   * the loop (SQLite), else the group's time shared equally.
   */
  private learn(batch: readonly Pending[], groupMs: number, timing: GroupResult<unknown>['timing']): void {
    const unitMs = timing?.unitMs;
    const each = unitMs && unitMs.length === batch.length ? unitMs : null;
    const shared = each ? Math.max(0, timing!.busyMs - each.reduce((a, b) => a + b, 0)) / batch.length : groupMs / batch.length;
    // One average per kind and group: the kind's mean unit in this group.
    const sums = new Map<UnitDescriptor['kind'], { ms: number; n: number }>();
    batch.forEach((p, i) => {
      const s = sums.get(p.desc.kind) ?? { ms: 0, n: 0 };
      s.ms += (each ? each[i]! : 0) + shared;
      s.n++;
      sums.set(p.desc.kind, s);
    });
    for (const [kind, { ms, n }] of sums) {
      const before = this.msPerUnit.get(kind);
      this.msPerUnit.set(kind, before === undefined ? ms / n : 0.7 * before + 0.3 * (ms / n));
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    this.running++;
    this.working++;
    /** How many of the batch the store ran (the rest went back to the queue), once it has said. */
    let ranCount: number | null = null;
    const ran = (count: number) => {
      if (ranCount !== null) return;
      ranCount = Math.max(0, Math.min(batch.length, count));
      this.working--;
      // Units the group had no time for go back to the front of the queue, in order, before the
      // next group is taken. (A terminal's stay behind its units in this group until it is durable.)
      if (ranCount < batch.length) {
        this.queue.splice(this.head, 0, ...batch.slice(ranCount));
        this.stats.requeued += batch.length - ranCount;
      }
      if (this.queued > 0) this.schedule();
    };
    const terminals = batch.flatMap((p) => (p.desc.kind === 'terminal' ? [p.desc.terminalId] : []));
    for (const t of terminals) this.inFlight.set(t, (this.inFlight.get(t) ?? 0) + 1);
    try {
      const now = this.clock.now();
      const started = performance.now();
      const group = await this.store.runGroup(
        batch.map((p) => () => p.unit(now)),
        batch.map((p) => unitHint(p.desc)),
        this.store.groupsHoldTheLoop ? { ran, budgetMs: GROUP_BUDGET_MS } : undefined,
      );
      const ms = performance.now() - started;
      const done = batch.slice(0, ranCount ?? batch.length);
      this.learn(done, ms, group.timing);
      this.onGroup(done.length, ms / 1000);
      this.stats.groups++;
      this.stats.units += done.length;
      this.stats.largestGroup = Math.max(this.stats.largestGroup, done.length);
      group.results.forEach((r, i) => {
        const p = batch[i]!;
        if (!r.ok && r.error instanceof NotRun) return; // back in the queue (ran)
        if (r.ok) p.resolve(r.value);
        else if (r.error instanceof RolledBack) p.resolve(r.error.value);
        else {
          // A failed unit (or one whose part of the group did not commit, store/pg runGroup): the
          // terminal's later mutations wait for it (PROTO-9; a no-op where the unit blocked itself).
          if (p.desc.kind === 'terminal') this.order.block(p.desc);
          p.reject(r.error);
        }
      });
      if (group.changedDepartments.size > 0) this.onCommit(group.changedDepartments, group.headSeq);
    } catch (error) {
      // The commit itself failed, or its flush to disk did (SQLite's held fdatasync): nothing of
      // this group can be promised durable, so nobody gets an answer but an error, and each
      // terminal's later mutations wait for its first failed one (PROTO-9). After a failed flush the
      // group's changes may already be visible, and may survive: a terminal's re-sent mutation is
      // then answered from its stored outcome, and an HTTP client that retries a claim gets
      // `alreadyClaimed` (CLM-6). Units the group had no time for are back in the queue and get
      // their answer when they run.
      for (const p of batch.slice(0, ranCount ?? batch.length)) {
        if (p.desc.kind === 'terminal') this.order.block(p.desc);
        p.reject(error);
      }
    } finally {
      ran(batch.length);
      for (const t of terminals) {
        const n = this.inFlight.get(t)! - 1;
        if (n === 0) this.inFlight.delete(t);
        else this.inFlight.set(t, n);
      }
      this.running--;
      if (this.queued > 0) this.schedule();
    }
  }

  /** Stop taking work and wait for what is queued to be committed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queued > 0 || this.running > 0) {
      if (this.laneFree) this.flush();
      await new Promise((r) => setImmediate(r));
    }
  }
}
