/**
 * The terminal's own state on the screen: who it is (enrollment), its link to the server (sync
 * status), its language and idle timeout, and whether the screen can reach the terminal process.
 */
import { createStore } from 'zustand/vanilla';
import type { DomainError } from '../../src-shared/domain/errors.js';
import type { SiteConfig } from '../../src-shared/domain/config.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import type { EnrollInput, SyncStatus, TerminalIdentity, TerminalSnapshot } from '../../src-shared/terminal-api.js';
import { toDomainError } from '../api/errors.js';
import type { TerminalClient } from '../api/client.js';

export interface TerminalState {
  loaded: boolean;
  identity: TerminalIdentity | null;
  sync: SyncStatus | null;
  locale: Locale;
  idleTimeoutSeconds: number;
  /** The screen reaches the terminal process (always true in Electron); null until known. */
  linkUp: boolean | null;
  enrolling: boolean;
  enrollError: DomainError | null;
  /** The site's settings as the terminal last heard them (reject reasons, limits, task-code pattern). */
  config: SiteConfig | null;
  applySnapshot(s: TerminalSnapshot): void;
  setConfig(config: SiteConfig): void;
  setSync(sync: SyncStatus): void;
  setIdentity(identity: TerminalIdentity): void;
  setLink(up: boolean): void;
  enroll(input: EnrollInput): Promise<boolean>;
  setLocale(locale: Locale): Promise<void>;
}

export type Screen = 'loading' | 'enroll' | 'badge' | 'work';

/** Which screen to show: enrollment until the terminal has met its server once. */
export function screenOf(t: Pick<TerminalState, 'loaded' | 'identity'>, signedIn: boolean): Screen {
  if (!t.loaded || !t.identity) return 'loading';
  if (t.identity.terminalId === null || t.identity.name === null) return 'enroll';
  return signedIn ? 'work' : 'badge';
}

export function createTerminalStore(api: TerminalClient, onLocale: (l: Locale) => void) {
  return createStore<TerminalState>()((set) => ({
    loaded: false,
    identity: null,
    sync: null,
    locale: 'en',
    idleTimeoutSeconds: 0,
    linkUp: api.transport === 'electron' ? true : null,
    enrolling: false,
    enrollError: null,
    config: null,
    applySnapshot(s) {
      set({ loaded: true, identity: s.identity, sync: s.sync, locale: s.locale, idleTimeoutSeconds: s.idleTimeoutSeconds, config: s.config });
      onLocale(s.locale);
    },
    setConfig: (config) => set({ config }),
    setSync: (sync) => set({ sync }),
    setIdentity: (identity) => set({ identity }),
    setLink: (linkUp) => set({ linkUp }),
    async enroll(input) {
      set({ enrolling: true, enrollError: null });
      try {
        const identity = await api.enroll(input);
        set({ identity, enrolling: false });
        return true;
      } catch (e) {
        set({ enrolling: false, enrollError: toDomainError(e) });
        return false;
      }
    },
    async setLocale(locale) {
      set({ locale });
      onLocale(locale);
      await api.setLocale({ locale }).catch(() => undefined);
    },
  }));
}

export type TerminalStoreApi = ReturnType<typeof createTerminalStore>;
