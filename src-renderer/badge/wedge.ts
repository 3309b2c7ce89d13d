/**
 * Tell a badge scanner (a USB keyboard wedge: a fast burst of keystrokes ending in Enter) from a
 * person typing, by the time between keystrokes.
 */
export const MAX_SCANNER_GAP_MS = 50;
export const MIN_SCANNED_LENGTH = 2;

export class WedgeDetector {
  private times: number[] = [];
  private broken = false;

  constructor(
    private readonly maxGapMs = MAX_SCANNER_GAP_MS,
    private readonly minLength = MIN_SCANNED_LENGTH,
  ) {}

  /** A character key went down at `t` (ms). */
  key(t: number): void {
    const last = this.times[this.times.length - 1];
    if (last !== undefined && t - last > this.maxGapMs) this.broken = true;
    this.times.push(t);
  }

  /** The input was edited some other way (paste, delete, an on-screen key): not a scan. */
  edited(): void {
    this.broken = true;
  }

  /** A gap longer than a scanner's was seen since the last reset: a person is typing. */
  byHand(): boolean {
    return this.broken;
  }

  /** Everything typed since the last reset came as one scanner burst. */
  isBurst(): boolean {
    return !this.broken && this.times.length >= this.minLength;
  }

  reset(): void {
    this.times = [];
    this.broken = false;
  }
}
