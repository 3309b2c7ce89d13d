/**
 * Group commit. Mutations that arrive together (from many terminals and HTTP requests within one
 * turn of the event loop) are committed as one transaction, hence one fsync, with a savepoint per
 * mutation so one failure stays alone. Each caller is answered only after its group is durable.
 */
import type { Clock } from '../../src-shared/clock.js';
import type { ServerStore } from '../store/types.js';
import type { Eng } from './ports.js';
import { RolledBack, TerminalOrder, unitFor, unitHint, type UnitDescriptor, type UnitResult } from './units.js';

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
}

/** About how long one group may hold the event loop (its units run synchronously, then it commits). */
export const GROUP_BUDGET_MS = 25;

export class GroupCommitter implements Committer {
  private queue: Pending[] = [];
  private readonly order = new TerminalOrder();
  private scheduled = false;
  /** Groups being committed now (at most the store's groupLanes). */
  private running = 0;
  /** Terminals with units in a group being committed: their later units wait for it (PROTO-9). */
  private readonly inFlight = new Map<string, number>();
  private closed = false;
  readonly stats: CommitterStats = { groups: 0, units: 0, largestGroup: 0 };
  /** Recent milliseconds per unit (a moving average over groups, commit included). */
  private msPerUnit = 0;

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

  private schedule(): void {
    if (this.scheduled || this.running >= this.store.groupLanes) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Start groups from the queue while a lane is free. */
  private flush(): void {
    while (this.running < this.store.groupLanes && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // everything queued waits for a terminal's group in flight
      void this.commit(batch);
    }
  }

  /**
   * The next group, in arrival order, never more than maxGroup units, at least one. A store whose
   * groups run on the event loop (SQLite) gets as many units as fit in GROUP_BUDGET_MS at the recent
   * cost per unit (a backlog of thousands would otherwise hold the loop for hundreds of ms).
   * A terminal's unit stays queued, with all that terminal's later ones, while an earlier unit of
   * the same terminal is in a group still committing in another lane: its mutations are applied in
   * order (PROTO-9).
   */
  private take(): Pending[] {
    // Otherwise (a store that awaits its database per statement) the queue is shared among the free
    // lanes, so the groups' round trips overlap instead of one group taking them all in turn.
    const fit = this.store.groupsHoldTheLoop
      ? this.msPerUnit > 0
        ? Math.max(1, Math.floor(GROUP_BUDGET_MS / this.msPerUnit))
        : this.maxGroup
      : Math.ceil(this.queue.length / (this.store.groupLanes - this.running));
    const limit = Math.min(this.maxGroup, fit);
    if (this.inFlight.size === 0) return this.queue.splice(0, limit);
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const held = new Set<string>();
    for (const p of this.queue) {
      const terminal = p.desc.kind === 'terminal' ? p.desc.terminalId : null;
      if (batch.length < limit && (terminal === null || (!this.inFlight.has(terminal) && !held.has(terminal)))) batch.push(p);
      else {
        rest.push(p);
        if (terminal !== null) held.add(terminal);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async commit(batch: Pending[]): Promise<void> {
    this.running++;
    const terminals = batch.flatMap((p) => (p.desc.kind === 'terminal' ? [p.desc.terminalId] : []));
    for (const t of terminals) this.inFlight.set(t, (this.inFlight.get(t) ?? 0) + 1);
    try {
      const now = this.clock.now();
      const started = performance.now();
      const group = await this.store.runGroup(
        batch.map((p) => () => p.unit(now)),
        batch.map((p) => unitHint(p.desc)),
      );
      const ms = performance.now() - started;
      this.msPerUnit = this.msPerUnit > 0 ? 0.7 * this.msPerUnit + 0.3 * (ms / batch.length) : ms / batch.length;
      this.onGroup(batch.length, ms / 1000);
      this.stats.groups++;
      this.stats.units += batch.length;
      this.stats.largestGroup = Math.max(this.stats.largestGroup, batch.length);
      group.results.forEach((r, i) => {
        const p = batch[i]!;
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
      // The commit itself failed: nothing of this group is durable, so nobody gets an answer but an
      // error, and each terminal's later mutations wait for its first failed one (PROTO-9).
      for (const p of batch) {
        if (p.desc.kind === 'terminal') this.order.block(p.desc);
        p.reject(error);
      }
    } finally {
      for (const t of terminals) {
        const n = this.inFlight.get(t)! - 1;
        if (n === 0) this.inFlight.delete(t);
        else this.inFlight.set(t, n);
      }
      this.running--;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Stop taking work and wait for what is queued to be committed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.running > 0) {
      if (this.running < this.store.groupLanes) this.flush();
      await new Promise((r) => setImmediate(r));
    }
  }
}
