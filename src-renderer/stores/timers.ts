/** The timers a store schedules with: the browser's, or a test's manual ones. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
}
