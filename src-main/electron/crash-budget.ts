/**
 * How the shell recovers from a crashed renderer or GPU process: reload the window, unless crashes
 * keep coming (more than `max` within `windowMs`), then relaunch the whole app. Pure, so it is
 * unit-tested without Electron.
 */
export type CrashAction = 'reload' | 'relaunch';

export class CrashBudget {
  private crashes: number[] = [];

  constructor(
    private readonly max = 3,
    private readonly windowMs = 60_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Record a crash and say what to do about it. */
  record(): CrashAction {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length > this.max ? 'relaunch' : 'reload';
  }
}
