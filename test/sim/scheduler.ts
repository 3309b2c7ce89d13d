/** Virtual time for the simulation: a clock and a timer queue that only move when told to. */
import type { Clock } from '../../src-shared/clock.js';
import type { Scheduler } from '../../src-main/core/sync-client.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualTime implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** A scheduler on this virtual time; `skewMs` shifts what its clock says (a terminal's clock). */
  scheduler(): Scheduler {
    return {
      setTimeout: (fn, ms) => {
        const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
        this.timers.push(timer);
        return timer;
      },
      clearTimeout: (h) => {
        if (h) (h as Timer).cancelled = true;
      },
    };
  }

  skewed(skewMs: number): Clock {
    return { now: () => this.t + skewMs };
  }

  /** Move time forward, running due timers in order. Returns how many ran. */
  advance(ms: number): number {
    const until = this.t + ms;
    let ran = 0;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: Timer | undefined;
      for (const x of this.timers) if (x.at <= until && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
      ran++;
    }
    this.t = until;
    return ran;
  }

  pendingTimers(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
