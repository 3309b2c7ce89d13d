/**
 * The task table's rows: the ids of the tasks that pass the filter, in the chosen order. Rebuilt
 * when the filter or order changes; on a live change only the changed tasks move (each taken out
 * and put back by binary search), so a busy floor with 50,000 tasks does not re-sort everything
 * for every page the server pushes.
 */
import type { Task } from '../../../src-shared/domain/types.js';

export class TaskIndex {
  private ids: string[] = [];
  private readonly members = new Set<string>();

  constructor(
    private readonly get: (id: string) => Task | undefined,
    private readonly matches: (t: Task) => boolean,
    private readonly compare: (a: Task, b: Task) => number,
  ) {}

  /** The ids, in order (do not mutate). */
  get rows(): readonly string[] {
    return this.ids;
  }

  get size(): number {
    return this.ids.length;
  }

  rebuild(all: Iterable<Task>): void {
    const list: Task[] = [];
    for (const t of all) if (this.matches(t)) list.push(t);
    list.sort(this.compare);
    this.ids = list.map((t) => t.id);
    this.members.clear();
    for (const id of this.ids) this.members.add(id);
  }

  /** Where `t` belongs in the order (the first position whose task sorts after it). */
  private position(t: Task): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.get(this.ids[mid]!);
      if (other && this.compare(other, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Tasks changed (or were removed) since the last call. `before` gives each changed task as it
   * was, so its old place can be found by the same binary search.
   */
  update(changed: ReadonlyArray<{ id: string; before: Task | undefined }>): void {
    for (const { id, before } of changed) {
      if (!this.members.has(id)) continue;
      let at = before ? this.positionOf(before) : -1;
      if (at < 0 || this.ids[at] !== id) at = this.ids.indexOf(id);
      if (at >= 0) this.ids.splice(at, 1);
      this.members.delete(id);
    }
    for (const { id } of changed) {
      const t = this.get(id);
      if (!t || !this.matches(t) || this.members.has(id)) continue;
      this.ids.splice(this.position(t), 0, id);
      this.members.add(id);
    }
  }

  private positionOf(before: Task): number {
    let lo = 0;
    let hi = this.ids.length;
    // The list is ordered by the tasks' current values, which for `before.id` are still `before`'s
    // until it is taken out; search with `before`.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const id = this.ids[mid]!;
      const other = id === before.id ? before : this.get(id);
      if (other && this.compare(other, before) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
