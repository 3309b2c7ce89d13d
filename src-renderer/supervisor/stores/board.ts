/**
 * The floor as the server sends it (SUP-1): tasks, people, terminals, exceptions, notifications,
 * departments and settings of this supervisor's scope, kept in maps and changed in place by each
 * page of the subscription; `version` goes up with every applied page so components re-read. A
 * snapshot is collected aside and swapped in when complete, so the board never shows half of one.
 */
import { createStore } from 'zustand/vanilla';
import type { SiteConfig } from '../../../src-shared/domain/config.js';
import { DEFAULT_SUPERVISION_SETTINGS, type SupervisionSettings } from '../../../src-shared/domain/supervision.js';
import type { Department } from '../../../src-shared/domain/types.js';
import type {
  BoardException,
  BoardNotification,
  BoardTask,
  BoardTerminal,
  Person,
  SupervisorChanges,
  SupervisorWelcome,
} from '../../../src-shared/protocol/supervisor.js';
import type { FeedState } from '../api/feed.js';

export interface FloorData {
  tasks: Map<string, BoardTask>;
  people: Map<string, Person>;
  terminals: Map<string, BoardTerminal>;
  exceptions: Map<number, BoardException>;
  notifications: Map<number, BoardNotification>;
  departments: Map<string, Department>;
  config: SiteConfig | null;
  supervision: SupervisionSettings;
}

/** What one applied page changed, for listeners that keep their own views (the task table). */
export interface PageEffect {
  /** Everything was replaced (a completed snapshot). */
  reset: boolean;
  tasks: Array<{ id: string; before: BoardTask | undefined }>;
  /** Notifications that arrived live (not part of a snapshot). */
  newNotifications: BoardNotification[];
}

export interface BoardState extends FloorData {
  welcome: SupervisorWelcome | null;
  /** The first snapshot is complete. */
  loaded: boolean;
  /** Goes up with every applied page. */
  version: number;
  /**
   * Goes up with the pages too, but at most twice a second: what costly views (charts, summaries
   * over every task) follow on a busy floor.
   */
  slowVersion: number;
  feed: FeedState;
  /** When the last page arrived (page clock). */
  receivedAt: number | null;
  setWelcome(w: SupervisorWelcome): void;
  setFeed(s: FeedState): void;
  applyPage(page: SupervisorChanges, now: number): PageEffect;
  clear(): void;
}

function emptyFloor(): FloorData {
  return {
    tasks: new Map(),
    people: new Map(),
    terminals: new Map(),
    exceptions: new Map(),
    notifications: new Map(),
    departments: new Map(),
    config: null,
    supervision: DEFAULT_SUPERVISION_SETTINGS,
  };
}

/** Put a page's entities into `floor`, noting each task's previous state. */
function merge(floor: FloorData, page: SupervisorChanges, effect: PageEffect, live: boolean): void {
  for (const t of page.tasks) {
    effect.tasks.push({ id: t.id, before: floor.tasks.get(t.id) });
    floor.tasks.set(t.id, t);
  }
  for (const id of page.removed.tasks) {
    const before = floor.tasks.get(id);
    if (!before) continue;
    effect.tasks.push({ id, before });
    floor.tasks.delete(id);
  }
  for (const p of page.people) floor.people.set(p.id, p);
  for (const id of page.removed.people) floor.people.delete(id);
  for (const t of page.terminals) floor.terminals.set(t.id, t);
  for (const id of page.removed.terminals) floor.terminals.delete(id);
  for (const e of page.exceptions) floor.exceptions.set(e.id, e);
  for (const n of page.notifications) {
    if (live && !floor.notifications.has(n.id) && n.readAt === null) effect.newNotifications.push(n);
    floor.notifications.set(n.id, n);
  }
  for (const d of page.departments) floor.departments.set(d.id, d);
  if (page.config) floor.config = page.config;
  if (page.supervision) floor.supervision = page.supervision;
}

/** How often `slowVersion` may move. */
export const SLOW_VERSION_MS = 500;

export function createBoardStore(timers: { setTimeout(fn: () => void, ms: number): unknown } = globalThis) {
  /** A snapshot being received: applied to the board only once its last page is in. */
  let staging: FloorData | null = null;
  let slowAt = -Infinity;
  let slowPending = false;

  return createStore<BoardState>()((set, get) => {
    /** Move slowVersion now, or once SLOW_VERSION_MS has passed since it last moved. */
    const touchSlow = (now: number) => {
      if (now - slowAt >= SLOW_VERSION_MS) {
        slowAt = now;
        set((s) => ({ slowVersion: s.slowVersion + 1 }));
      } else if (!slowPending) {
        slowPending = true;
        timers.setTimeout(() => {
          slowPending = false;
          slowAt = slowAt + SLOW_VERSION_MS;
          set((s) => ({ slowVersion: s.slowVersion + 1 }));
        }, slowAt + SLOW_VERSION_MS - now);
      }
    };
    return {
    ...emptyFloor(),
    welcome: null,
    loaded: false,
    version: 0,
    slowVersion: 0,
    feed: { kind: 'connecting' },
    receivedAt: null,
    setWelcome: (welcome) => set({ welcome }),
    setFeed: (feed) => set({ feed }),
    applyPage(page, now) {
      const effect: PageEffect = { reset: false, tasks: [], newNotifications: [] };
      if (page.mode === 'snapshot') {
        if (page.reset || !staging) staging = emptyFloor();
        merge(staging, page, effect, false);
        effect.tasks = [];
        if (page.cursor === null) return effect;
        // The snapshot is complete: it replaces the board.
        const floor = staging;
        staging = null;
        effect.reset = true;
        set((s) => ({ ...floor, loaded: true, version: s.version + 1, receivedAt: now }));
        touchSlow(now);
        return effect;
      }
      const s = get();
      merge(s, page, effect, s.loaded);
      set({ version: s.version + 1, receivedAt: now });
      touchSlow(now);
      return effect;
    },
    clear() {
      staging = null;
      set({ ...emptyFloor(), welcome: null, loaded: false, version: get().version + 1, slowVersion: get().slowVersion + 1, receivedAt: null });
    },
    };
  });
}

export type BoardStore = ReturnType<typeof createBoardStore>;
