/**
 * Who is signed in to the overview (AUTH-8, SUP-1): checked with the server when the page opens
 * (the session lives in an HttpOnly cookie the page cannot read), signed in with user id and
 * password or badge and PIN, and ended by signing out, by expiry or by revocation, each of which
 * brings back the sign-in form with a message saying what happened.
 */
import { createStore } from 'zustand/vanilla';
import { DomainError } from '../../../src-shared/domain/errors.js';
import type { Role } from '../../../src-shared/domain/types.js';
import type { Http } from '../api/http.js';

export interface SupervisorUser {
  id: string;
  displayName: string;
  roles: Role[];
  departmentIds: string[];
}

/** Why the sign-in form is shown again. */
export type EndReason = 'signedOut' | 'expired' | 'revoked' | 'inactive' | 'forbidden' | 'incompatible';

export type SignInInput = { method: 'password'; userId: string; password: string } | { method: 'badge'; badge: string; pin: string };

export interface SessionState {
  status: 'checking' | 'signedOut' | 'signedIn';
  user: SupervisorUser | null;
  /** Why the previous session ended. */
  ended: EndReason | null;
  /** Why the last sign-in was refused. */
  error: DomainError | null;
  busy: boolean;
  check(): Promise<void>;
  signIn(input: SignInInput): Promise<boolean>;
  signOut(): Promise<void>;
  /** The server ended the session (a 401, or the subscription closed). */
  end(reason: EndReason): void;
}

const canSupervise = (u: SupervisorUser) => u.roles.includes('supervisor') || u.roles.includes('admin');

export function createSessionStore(http: Http) {
  return createStore<SessionState>()((set, get) => ({
    status: 'checking',
    user: null,
    ended: null,
    error: null,
    busy: false,
    async check() {
      try {
        const r = await http.get<{ signedIn: boolean; user?: SupervisorUser; reason?: string }>('/api/auth/session');
        if (!r.signedIn || !r.user) set({ status: 'signedOut', user: null, ended: r.reason === 'expired' ? 'expired' : r.reason === 'revoked' ? 'revoked' : null });
        else if (!canSupervise(r.user)) set({ status: 'signedOut', user: null, ended: 'forbidden' });
        else set({ status: 'signedIn', user: r.user, ended: null });
      } catch {
        if (get().status === 'checking') set({ status: 'signedOut', user: null });
      }
    },
    async signIn(input) {
      globalThis.performance?.mark?.('sv:signin');
      set({ busy: true, error: null });
      try {
        const body =
          input.method === 'password'
            ? { userId: input.userId.trim(), password: input.password }
            : { badge: input.badge.trim(), ...(input.pin ? { pin: input.pin } : {}) };
        const r = await http.post<{ user: SupervisorUser }>('/api/auth/sign-in', { ...body, cookie: true, for: 'supervisor' });
        set({ status: 'signedIn', user: r.user, ended: null, busy: false });
        return true;
      } catch (e) {
        // No answer at sign-in: its own suggestion (an action's says to check whether it was done). A
        // server that answered unavailable says why itself (its database is out of reach).
        const noAnswer = e instanceof DomainError && e.code === 'unavailable' && e.details.reason === undefined;
        const error = e instanceof DomainError ? (noAnswer ? new DomainError('unavailable', { ...e.details, reason: 'sign_in' }) : e) : new DomainError('internal_error');
        set({ busy: false, error });
        return false;
      }
    },
    async signOut() {
      set({ busy: true });
      try {
        await http.post('/api/auth/sign-out', {});
      } catch {
        // Signed out on the server already (or unreachable): the page signs out either way.
      }
      set({ status: 'signedOut', user: null, ended: 'signedOut', busy: false, error: null });
    },
    end(reason) {
      if (get().status === 'signedOut') return;
      set({ status: 'signedOut', user: null, ended: reason, busy: false });
    },
  }));
}

export type SessionStore = ReturnType<typeof createSessionStore>;

/** What the server's refusal of a session says happened. */
export function endReasonOf(error: DomainError | null): EndReason {
  if (!error) return 'revoked';
  if (error.code === 'user_inactive') return 'inactive';
  if (error.code === 'supervisor_only') return 'forbidden';
  const reason = error.details.reason;
  if (reason === 'expired') return 'expired';
  if (reason === 'signed_out') return 'signedOut';
  return 'revoked';
}
