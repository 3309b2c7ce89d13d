/** Time as an injected dependency: product code asks a Clock, tests pass a fake one. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests and simulations). */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 5, 6, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}
