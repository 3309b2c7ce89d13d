/**
 * The idle countdown: when the operator last touched the screen, and how long until the automatic
 * sign-out. Touches reset the core's idle timer too (throttled), and the screen signs out by itself
 * when its own countdown ends, so a busy list refresh never keeps an abandoned session alive.
 */
import { createStore } from 'zustand/vanilla';
import type { TerminalClient } from '../api/client.js';

export interface IdleState {
  lastActivity: number;
  now: number;
  /** The operator did something: restart the countdown. */
  activity(): void;
  /** Time passes (called by a timer while someone is signed in). */
  tick(): void;
}

/** Whole seconds left before the sign-out, or null when there is no timeout. */
export function secondsLeft(s: Pick<IdleState, 'lastActivity' | 'now'>, timeoutSeconds: number): number | null {
  if (timeoutSeconds <= 0) return null;
  return Math.max(0, Math.ceil(timeoutSeconds - (s.now - s.lastActivity) / 1000));
}

/** The countdown shows for the last 30 s (or the last half of a shorter timeout). */
export function warningSeconds(timeoutSeconds: number): number {
  return Math.min(30, Math.ceil(timeoutSeconds / 2));
}

export function createIdleStore(api: TerminalClient, clock: () => number = () => Date.now(), touchEveryMs = 5000) {
  let lastTouch = -Infinity;
  /** A touch held back by the throttle, sent when it allows: the core's timer must hear of the last one. */
  let trailing: ReturnType<typeof setTimeout> | null = null;
  const touch = () => {
    if (trailing !== null) clearTimeout(trailing);
    trailing = null;
    lastTouch = clock();
    void api.touch().catch(() => undefined);
  };
  return createStore<IdleState>()((set) => ({
    lastActivity: clock(),
    now: clock(),
    activity() {
      const t = clock();
      set({ lastActivity: t, now: t });
      if (t - lastTouch >= touchEveryMs) touch();
      else
        trailing ??= setTimeout(touch, lastTouch + touchEveryMs - t);
    },
    tick: () => set({ now: clock() }),
  }));
}

export type IdleStoreApi = ReturnType<typeof createIdleStore>;
