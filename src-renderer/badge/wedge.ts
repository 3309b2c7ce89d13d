/**
 * Tell a badge scanner (a USB keyboard wedge: a fast burst of keystrokes ending in Enter) from a
 * person typing, by the time between keystrokes.
 */
export const MAX_SCANNER_GAP_MS = 50;
export const MIN_SCANNED_LENGTH = 2;
/**
 * In the badge field, a scan after text already there (someone's half-typed badge, left) follows a
 * pause at least this long: a shorter gap inside a burst is a scanner's or a busy machine's hiccup,
 * and the whole field is then read as typed.
 */
export const PAUSE_BEFORE_SCAN_MS = 1000;

export class WedgeDetector {
  private times: number[] = [];
  private broken = false;
  /** The last run of keys each within a scanner's gap of the one before (and their characters). */
  private run: Array<{ t: number; char: string | undefined }> = [];
  /** The quiet before the run began (Infinity: nothing was keyed before it since the last reset). */
  private pauseBeforeRun = Infinity;

  constructor(
    private readonly maxGapMs = MAX_SCANNER_GAP_MS,
    private readonly minLength = MIN_SCANNED_LENGTH,
  ) {}

  /** A character key (`char`) went down at `t` (ms). */
  key(t: number, char?: string): void {
    const last = this.times[this.times.length - 1];
    if (last !== undefined && t - last > this.maxGapMs) {
      this.broken = true;
      this.run = [];
    }
    if (this.run.length === 0) this.pauseBeforeRun = last === undefined ? Infinity : t - last;
    this.times.push(t);
    this.run.push({ t, char });
  }

  /**
   * A key went down in a field that holds `text`: characters are timed (from an empty field a new
   * run starts), deletions break the run. True for Enter, whose meaning (scanned, isBurst) the
   * field decides.
   */
  keyDown(e: { key: string; timeStamp: number }, text: string): boolean {
    if (e.key === 'Enter') return true;
    if (e.key.length === 1) {
      if (text === '') this.reset();
      this.key(e.timeStamp, e.key);
    } else if (e.key === 'Backspace' || e.key === 'Delete') {
      this.edited();
    }
    return false;
  }

  /** The input was edited some other way (paste, delete, an on-screen key): not a scan. */
  edited(): void {
    this.broken = true;
    this.run = [];
  }

  /**
   * The scanned code when Enter (at `enterAt`) ends a scanner burst, also one that came after
   * something typed by hand or on the on-screen keyboard (a badge scanned into a search field that
   * holds text): the burst's own characters, or null. After other input, the Enter must follow the
   * burst at a scanner's pace too, so a person's quick pair of keys and Enter is no scan.
   */
  scanned(enterAt: number): string | null {
    const run = this.run;
    const lastAt = run[run.length - 1]?.t;
    if (run.length < this.minLength || lastAt === undefined) return null;
    if (!this.isBurst() && enterAt - lastAt > this.maxGapMs) return null;
    if (run.some((k) => k.char === undefined)) return null;
    return run.map((k) => k.char).join('');
  }

  /**
   * The code of a scanner burst that came after a pause of at least `pauseMs` (and Enter at a
   * scanner's pace), or null: `scanned` for a field where a hiccup inside one burst must not split it.
   */
  scannedAfterPause(enterAt: number, pauseMs = PAUSE_BEFORE_SCAN_MS): string | null {
    if (this.pauseBeforeRun < pauseMs) return null;
    return this.scanned(enterAt);
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
    this.run = [];
    this.pauseBeforeRun = Infinity;
  }
}

/** A field's text without the scanned code the burst typed at its end: what was there before the scan. */
export function withoutScan(text: string, scanned: string): string {
  return text.endsWith(scanned) ? text.slice(0, text.length - scanned.length) : text;
}
