/**
 * The operator's session: sign in by badge (a PIN when the core asks for one), sign out. The core
 * decides who may sign in; this store only keeps what it answered.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { SessionInfo } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';
import type { Timers } from './timers.js';

export type BadgeMethod = 'badge' | 'manual';

/**
 * UI-3: how long a refusal (an unknown badge, a wrong PIN, why a session ended) stays on screen: the
 * next person to walk up must not read the last one's. A new sign-in begun clears it sooner.
 */
export const REFUSAL_SHOWN_MS = 20_000;

export interface PinPrompt {
  badge: string;
  method: BadgeMethod;
  userName: string | null;
}

export interface SessionState {
  session: SessionInfo | null;
  /** The core asked for a PIN for this badge. */
  pin: PinPrompt | null;
  busy: boolean;
  error: DomainError | null;
  /** `ended`: why the server ended the session (shown on the badge screen). */
  setSession(session: SessionInfo | null, ended?: DomainError | null): void;
  signIn(badge: string, method: BadgeMethod): Promise<void>;
  submitPin(pin: string): Promise<void>;
  cancelPin(): void;
  signOut(): Promise<void>;
  /**
   * KIO-3: a badge scanned at the work screen: the operator's own signs out; another's switches the
   * operator (through the PIN pad when that badge needs a PIN).
   */
  badgeScanned(badge: string, self: boolean): Promise<void>;
  clearError(): void;
  /** Someone began a new sign-in (typed or scanned into the badge field): the last refusal goes. */
  entryStarted(): void;
}

function needsPin(e: DomainError): boolean {
  return e.code === 'sign_in_failed' && e.details.reason === 'pin_required';
}

export function createSessionStore(api: TerminalClient, o: { timers?: Timers } = {}) {
  const timers = o.timers ?? globalThis;
  const store = createStore<SessionState>()((set, get) => {
    const attempt = async (badge: string, method: BadgeMethod, pin?: string) => {
      if (get().busy) return;
      set({ busy: true, error: null });
      try {
        const session = await api.signIn(pin ? { badge, method, pin } : { badge, method });
        set({ session, pin: null, busy: false });
      } catch (err) {
        const e = toDomainError(err);
        if (needsPin(e)) {
          const name = typeof e.details.userName === 'string' ? e.details.userName : null;
          set({ busy: false, pin: { badge, method, userName: name }, error: pin ? e : null });
        } else {
          // A wrong PIN keeps the PIN pad open; anything else goes back to the badge screen.
          const keepPin = pin !== undefined && e.code === 'sign_in_failed';
          set({ busy: false, error: e, pin: keepPin ? get().pin : null });
        }
      }
    };
    return {
      session: null,
      pin: null,
      busy: false,
      error: null,
      setSession: (session, ended = null) => set(session ? { session } : { session, pin: null, ...(ended ? { error: ended } : {}) }),
      signIn: (badge, method) => attempt(badge, method),
      async submitPin(pin) {
        const p = get().pin;
        if (p) await attempt(p.badge, p.method, pin);
      },
      cancelPin: () => set({ pin: null, error: null }),
      async signOut() {
        try {
          await api.signOut();
          set({ session: null, pin: null, error: null });
        } catch (e) {
          set({ error: toDomainError(e) });
        }
      },
      async badgeScanned(badge, self) {
        if (self) return get().signOut();
        if (get().busy) return;
        set({ busy: true, error: null });
        try {
          const session = await api.signIn({ badge, method: 'badge' });
          set({ session, pin: null, busy: false });
        } catch (err) {
          const e = toDomainError(err);
          if (needsPin(e)) {
            // The next operator types their PIN on the badge screen's pad; the current one is signed out.
            const name = typeof e.details.userName === 'string' ? e.details.userName : null;
            await api.signOut().catch(() => undefined);
            set({ session: null, busy: false, pin: { badge, method: 'badge', userName: name } });
          } else {
            set({ busy: false, error: e });
          }
        }
      },
      clearError: () => set({ error: null }),
      entryStarted: () => {
        if (get().error) set({ error: null });
      },
    };
  });
  // Each refusal shown goes after REFUSAL_SHOWN_MS, unless another has taken its place meanwhile.
  store.subscribe((s, prev) => {
    const shown = s.error;
    if (!shown || shown === prev.error) return;
    timers.setTimeout(() => {
      if (store.getState().error === shown) store.setState({ error: null });
    }, REFUSAL_SHOWN_MS);
  });
  return store;
}

export type SessionStoreApi = ReturnType<typeof createSessionStore>;
