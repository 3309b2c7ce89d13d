/**
 * SEC-5: a connection may send a few frames the server has to refuse (a bug, a version skew), but
 * one that keeps doing it is closed: each refused frame takes one from a token bucket that refills
 * at a steady rate, so garbage can never cost the server more than `perSecond` answers a second.
 */
export class RefusalBudget {
  private left: number;
  private at = performance.now();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.left = burst;
  }

  /** Take one refusal; false when the connection has used up its allowance. */
  take(): boolean {
    const now = performance.now();
    this.left = Math.min(this.burst, this.left + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.left < 1) return false;
    this.left -= 1;
    return true;
  }
}

export const REFUSALS = { burst: 20, perSecond: 2 } as const;

/** The last refusal's details, saying why the connection is being closed. */
export function closingDetails<D extends { problem?: unknown }>(details: D): D & { problem: string } {
  return { ...details, problem: `${String(details.problem ?? 'refused')}; this connection sent too many refused frames and is closed` };
}
