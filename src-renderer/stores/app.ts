/**
 * All stores of the screen, created around one TerminalClient, and the wiring between them: core
 * events update the stores, a (re)opened link reloads everything, a session change loads or
 * clears the operator's lists, and the idle timer signs out when the countdown ends.
 */
import { fromErrorData } from '../../src-shared/domain/errors.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import type { TerminalClient } from '../api/client.js';
import { toDomainError } from '../api/errors.js';
import { createConflictsStore } from './conflicts.js';
import { createIdleStore, secondsLeft } from './idle.js';
import { createNotificationsStore } from './notifications.js';
import { createScanStore } from './scan.js';
import { createSessionStore } from './session.js';
import { createTasksStore } from './tasks.js';
import { createTerminalStore } from './terminal.js';
import { createToastsStore } from './toasts.js';
import type { Timers } from './timers.js';

export interface AppStoreOptions {
  onLocale?: (locale: Locale) => void;
  clock?: () => number;
  timers?: Timers;
  /** How often the idle countdown advances (ms). */
  tickMs?: number;
  /** How often the lists are read again with nothing announced (ms): time passes (KIO-8, LIST-1). */
  clockRefreshMs?: number;
}

export function createAppStores(api: TerminalClient, o: AppStoreOptions = {}) {
  const terminal = createTerminalStore(api, o.onLocale ?? (() => undefined));
  const session = createSessionStore(api, o.timers ? { timers: o.timers } : {});
  const toasts = createToastsStore(o.timers);
  const tasks = createTasksStore(api, {
    toasts,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.timers ? { timers: o.timers } : {}),
    offline: () => {
      const status = terminal.getState().sync?.status;
      return status === 'offline' || status === 'connecting';
    },
  });
  const conflicts = createConflictsStore(api, { ...(o.clock ? { clock: o.clock } : {}), ...(o.timers ? { timers: o.timers } : {}) });
  const notifications = createNotificationsStore(api, toasts);
  const scan = createScanStore(api, { session, tasks, toasts });
  const idle = createIdleStore(api, o.clock);
  let idleTimer: ReturnType<typeof setInterval> | null = null;
  /**
   * The core announces changes, not the passing of time: a task falls due (its overdue mark and
   * count), a cooldown ends (the task is offered again), also on a quiet or offline kiosk. The
   * lists are read again every minute while someone is signed in (a refresh is not activity).
   */
  let clockTimer: ReturnType<typeof setInterval> | null = null;
  let signingOut = false;

  const stopIdle = () => {
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = null;
    if (clockTimer) clearInterval(clockTimer);
    clockTimer = null;
  };
  const startIdle = () => {
    stopIdle();
    idle.getState().activity();
    idleTimer = setInterval(() => {
      idle.getState().tick();
      const left = secondsLeft(idle.getState(), terminal.getState().idleTimeoutSeconds);
      if (left === 0 && session.getState().session && !signingOut) {
        signingOut = true;
        void session
          .getState()
          .signOut()
          .finally(() => {
            signingOut = false;
          });
      }
    }, o.tickMs ?? 500);
    clockTimer = setInterval(() => {
      if (session.getState().session) void tasks.getState().refresh();
    }, o.clockRefreshMs ?? 60_000);
  };

  const onSession = (signedIn: boolean) => {
    if (signedIn) {
      startIdle();
      void tasks.getState().refresh();
      void conflicts.getState().refresh();
      void notifications.getState().refresh();
    } else {
      stopIdle();
      tasks.getState().clear();
      conflicts.getState().clear();
      notifications.getState().clear();
      scan.getState().close();
      toasts.getState().clear();
    }
  };

  session.subscribe((s, prev) => {
    if (s.session?.userId === prev.session?.userId) return;
    // Another operator (a badge scanned at the work screen): nothing of the last one stays.
    if (s.session && prev.session) onSession(false);
    onSession(s.session !== null);
  });

  const reload = async () => {
    try {
      const snap = await api.getSnapshot();
      terminal.getState().applySnapshot(snap);
      const before = session.getState().session?.userId;
      session.getState().setSession(snap.session);
      // Same operator as before the link dropped: the subscription above did not fire; refresh.
      if (snap.session && snap.session.userId === before) onSession(true);
    } catch (e) {
      session.setState({ error: toDomainError(e) });
    }
  };

  const unsubscribe = api.subscribe((event) => {
    switch (event.type) {
      case 'sync':
        terminal.getState().setSync(event.sync);
        break;
      case 'identity':
        terminal.getState().setIdentity(event.identity);
        break;
      case 'session':
        session.getState().setSession(event.session, event.ended ? fromErrorData(event.ended) : null);
        break;
      case 'tasks':
        if (session.getState().session) void tasks.getState().refresh();
        break;
      case 'conflict':
        if (event.conflict.operatorId === session.getState().session?.userId) conflicts.getState().add(event.conflict);
        break;
      case 'notifications':
        if (session.getState().session) void notifications.getState().arrived(event.fresh);
        break;
      case 'config':
        terminal.getState().setConfig(event.config);
        break;
    }
  });
  const unlink = api.onLink((up) => {
    terminal.getState().setLink(up);
    if (up) void reload();
  });

  return {
    terminal,
    session,
    tasks,
    conflicts,
    notifications,
    scan,
    toasts,
    idle,
    reload,
    /**
     * Acknowledge a conflict, then show the lists as they are now. The dialog's button may have
     * been the last over the task buttons: they wait the settling moment (KIO-4).
     */
    async acknowledgeConflict(id: number) {
      if (await conflicts.getState().acknowledge(id)) {
        tasks.getState().settle();
        await tasks.getState().refresh();
      }
    },
    dispose() {
      stopIdle();
      unsubscribe();
      unlink();
      api.close();
    },
  };
}

export type AppStores = ReturnType<typeof createAppStores>;
