/**
 * The supervisor feed's convergence oracle (SUP-1, SUP-3, SUP-4, SUP-5): seeded random runs against
 * a real server (port 0, temp SQLite, manual clock) with real WebSockets. Kiosks (the terminal
 * protocol), operators and supervisors over HTTP and an administrator change the floor the way a
 * shift does; three overviews (a supervisor of one department, one of two, an administrator) follow
 * it through the page's own feed client and board store (src-renderer/supervisor/api/feed.ts,
 * stores/board.ts), dropping their link and resuming from their cursor now and then. At quiet points
 * and at the end each overview's board must equal what a fresh connection of the same user loads as
 * its snapshot, and what the HTTP API says, within the user's scope; no page may ever carry anything
 * of another department; and every kiosk is connected by the API exactly while its link is open.
 *
 * Time passes too (timePasses): the servers' clock moves past a deadline (a cooldown, an offline
 * alert, an assignment's expiry, a day, the change log's 48 h) and their periodic work runs as their
 * intervals would run it (test/support/server.ts ManualIntervals: the lease check with its
 * stale-presence sweep, assignment expiry EXP-1, offline alerts SUP-5, change-log SYNC-4 and session
 * pruning, the performance window's new day SUP-3), after the kiosks' heartbeats, or before them
 * when the clock jumps: then the stale sweep of several instances calls every connected kiosk gone
 * (INST-3; the pages are checked at once now and then) and the next heartbeat brings it back. Kiosks connect now and then with work queued, so
 * one that goes offline is alerted on (an alert must name a kiosk whose link is closed, checkAlerts);
 * the administrator changes the expiry and alert times and the performance window, which half the
 * plants start at one day, so each midnight drops records out of people's scores (PERF-1).
 * Overnight some overviews go offline and come back days later, their cursor older than the pruned
 * log (a snapshot then). About half the seeds read snapshots in pages of 3 to 16 entities (kiosks'
 * twice that) with up to 30 more tasks, so a department holds more tasks than a page. A board is
 * compared as of the snapshot's reach: what aged out of it since the board loaded (tasks finished and
 * exceptions acknowledged more than 24 h ago, notifications beyond the latest 200) stays on a live
 * board until it reloads, by design.
 *
 * It runs again on PostgreSQL as that backend is deployed (README "Running on PostgreSQL"): TWO server
 * instances in this process on one database of a throwaway cluster (test/support/backends.ts), each
 * with its own store, committer and hubs (INST-2: each hears the other's commits by LISTEN or its
 * push tick). Every HTTP call, every kiosk connection and every overview (re)connection goes to
 * either instance (seeded, as a load balancer would), so a dropped overview resumes from its cursor
 * on the other instance; the fresh snapshot and the HTTP API it is checked against are read from
 * either. The instances' choices come from their own random stream, so a seed's actions are the
 * same on both backends. Skips, with the reason, only where PostgreSQL is not installed.
 *
 * `FEED_ORACLE_SEEDS=200 npx vitest run test/supervisor-feed-oracle.test.ts` runs more seeds
 * (`FEED_ORACLE_FIRST_SEED`, `FEED_ORACLE_STEPS` too); on PostgreSQL `FEED_ORACLE_PG_SEEDS`
 * (default 3) and `FEED_ORACLE_PG_STEPS` (default 40); `FEED_ORACLE_KEEP_GOING=1` runs every seed
 * and reports each failing one. A failing seed is printed with its last actions; the run's summary
 * says what the timers did (expired assignments, offline alerts, pruned changes, kiosks swept as
 * stale, snapshot pages with more to come).
 */
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS } from '../src-shared/domain/config.js';
import type { BoardException, BoardNotification, BoardTask, BoardTerminal, Person, SupervisorWelcome } from '../src-shared/protocol/supervisor.js';
import type { Department } from '../src-shared/domain/types.js';
import type { SiteConfig } from '../src-shared/domain/config.js';
import type { SupervisionSettings } from '../src-shared/domain/supervision.js';
import type { ServerStore } from '../src-server/store/types.js';
import type { HubTimers } from '../src-server/sync/hub.js';
import { FeedClient, type FeedSocket } from '../src-renderer/supervisor/api/feed.js';
import { createBoardStore, type BoardState, type BoardStore } from '../src-renderer/supervisor/stores/board.js';
import { apiToken, call, type CallOptions } from './support/http-client.js';
import { newUser, taskRow } from './support/plant.js';
import { rng } from './support/random.js';
import { postgresBackend, sqliteBackend } from './support/backends.js';
import { ManualIntervals, type TestServer, type TestServerOptions } from './support/server.js';
import { SupervisorClient, notificationTrail, superviseUrl } from './support/supervisor-client.js';
import { TestClient } from './support/ws-client.js';

const SEEDS = Number(process.env.FEED_ORACLE_SEEDS ?? 8);
const FIRST = Number(process.env.FEED_ORACLE_FIRST_SEED ?? 1);
const STEPS = Number(process.env.FEED_ORACLE_STEPS ?? 50);
const PG_SEEDS = Number(process.env.FEED_ORACLE_PG_SEEDS ?? 3);
const PG_STEPS = Number(process.env.FEED_ORACLE_PG_STEPS ?? 40);
/** A quiet point (every overview checked) after this many steps. */
const QUIET_EVERY = 25;

const DEPARTMENTS = ['cut', 'qa', 'pnt'] as const;
const OPERATORS = ['ann', 'bob', 'qin', 'dan', 'eve', 'fay'] as const;
const SUPERVISORS = ['sue', 'mia', 'ada'] as const;
type Sup = (typeof SUPERVISORS)[number];
const KIOSKS: Record<string, string[]> = { k1: ['cut'], k2: ['cut'], k3: ['qa'], k4: ['pnt'], k5: ['cut', 'qa'] };
const REASONS = ['drawing missing', 'wrong material', 'machine down'];

/** One server instance (SQLite: the only one; PostgreSQL: one of two on one database). */
type Server = TestServer<ServerStore>;

// ---------------------------------------------------------------------------------------------
// A kiosk: the terminal protocol over a real WebSocket, acknowledging every page it gets.

class Kiosk {
  client: TestClient | null = null;
  nextId = 1;
  /** The last mutation whose outcome this kiosk received (told to the server at each hello). */
  acked = 0;
  signedIn: string | null = null;
  constructor(
    readonly id: string,
    readonly token: string,
    public departments: string[],
  ) {}

  get online(): boolean {
    return this.client !== null && this.client.closeCode === null;
  }

  /** `outbox`: the work it says it has queued (PROTO-14); a kiosk that goes offline with some is alerted on (SUP-5). */
  async connect(s: Server, outbox = 0): Promise<void> {
    const c = await TestClient.connect(s.wsUrl, { terminalId: this.id, token: this.token, clientTime: s.clock.now(), lastAckedMutationId: this.acked, outbox });
    if (c.frames[0]?.type !== 'welcome') throw new Error(`kiosk ${this.id} not welcomed: ${JSON.stringify(c.frames[0])}`);
    // Acknowledge every change page as it arrives (a kiosk that keeps up).
    const ack = () => {
      const last = c.frames.at(-1);
      if (last?.type === 'changes' && c.ws.readyState === WebSocket.OPEN) c.sendRaw({ type: 'ack', cursor: last.cursor ?? 0 });
    };
    ack();
    c.ws.on('message', ack);
    this.client = c;
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (!c) return;
    c.close();
    await c.waitClose(3000).catch(() => c.ws.terminate());
  }

  async mutate(s: Server, name: string, args: unknown, operatorId: string): Promise<string> {
    const id = this.nextId++;
    const c = this.client!;
    let o;
    try {
      [o] = await c.mutate([{ id, name, args, operatorId, clientTime: s.clock.now() }]);
    } catch (err) {
      // The server may close the link while a mutation is under way: on PostgreSQL, when another
      // instance changed this kiosk's departments, its own instance closes the link at its next
      // check of its terminals' rows (API-8, 4205). The outcome is then unknown here; the next
      // hello asks for outcomes after the last one received, so the server sends it if it was applied.
      if (c.closeCode === null) throw err;
      return `link closed ${c.closeCode} ${c.closeReason}, outcome unknown`;
    }
    this.acked = id;
    return o!.status === 'applied' ? 'applied' : `${o!.status}:${o!.status === 'rejected' ? o!.error.code : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------
// An overview: the page's FeedClient and board store, on a real WebSocket with the session cookie.

interface Scope {
  all: boolean;
  departmentIds: string[];
}

class Overview {
  readonly board: BoardStore = createBoardStore({
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return t;
    },
  });
  feed: FeedClient;
  socket: WebSocket | null = null;
  pages = 0;
  /** Snapshot pages with more to come (a snapshot of several pages). */
  morePages = 0;
  ended: string | null = null;
  /** Everything a page carried that it should not have (SUP-1). */
  leaks: string[] = [];
  live = false;
  /** Offline (a laptop asleep, the network down): every (re)connection fails until it wakes. */
  asleep = false;

  constructor(
    readonly user: Sup,
    readonly token: string,
    /** The instance a (re)connection goes to, chosen at each one (as a load balancer would). */
    url: () => string,
    random: () => number,
  ) {
    this.feed = new FeedClient(
      {
        url: url(),
        open: () => {
          if (this.asleep) throw new Error('offline');
          const ws = new WebSocket(url(), { headers: { cookie: `sf_session=${token}` } });
          this.socket = ws;
          return ws as unknown as FeedSocket;
        },
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
        random,
        pingMs: 60_000,
        deadMs: 60_000,
        backoffMaxMs: 200,
      },
      {
        welcome: (w) => this.board.getState().setWelcome(w),
        changes: (page) => {
          this.pages++;
          if (page.mode === 'snapshot' && page.more) this.morePages++;
          const w = this.board.getState().welcome;
          if (w) this.leaks.push(...leaksOf(w, page.tasks, page.people, page.terminals, page.exceptions, page.departments));
          this.board.getState().applyPage(page, Date.now());
        },
        state: (s) => {
          this.live = s.kind === 'live';
          this.board.getState().setFeed(s);
        },
        ended: (reason) => (this.ended = reason),
      },
    );
    this.feed.start();
  }

  /** Drop the link as a network would; the feed resumes from its cursor. */
  drop(): void {
    this.socket?.terminate();
  }

  /** Go offline for a while; it resumes from its cursor when it wakes. */
  sleep(): void {
    this.asleep = true;
    this.socket?.terminate();
  }

  wake(): void {
    this.asleep = false;
  }

  stop(): void {
    this.feed.stop();
  }
}

/** What a page of this welcome's scope must never carry (SUP-1). */
function leaksOf(
  w: SupervisorWelcome,
  tasks: readonly BoardTask[],
  people: readonly Person[],
  terminals: readonly BoardTerminal[],
  exceptions: readonly BoardException[],
  departments: readonly Department[],
): string[] {
  if (w.scope.all) return [];
  const inScope = (d: string | null) => d !== null && w.scope.departmentIds.includes(d);
  const out: string[] = [];
  for (const t of tasks) if (!inScope(t.departmentId)) out.push(`task ${t.id} of ${t.departmentId}`);
  for (const p of people) if (p.departmentIds.length === 0 || !p.departmentIds.every(inScope)) out.push(`person ${p.id} of ${p.departmentIds.join(',')}`);
  for (const t of terminals) if (t.departments.length === 0 || !t.departments.every(inScope)) out.push(`terminal ${t.id} of ${t.departments.join(',')}`);
  for (const e of exceptions) if (!inScope(e.departmentId)) out.push(`exception ${e.id} of ${e.departmentId}`);
  for (const d of departments) if (!inScope(d.id)) out.push(`department ${d.id}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Views to compare

interface View {
  scope: Scope | null;
  tasks: Record<string, BoardTask>;
  people: Record<string, Person>;
  terminals: Record<string, Omit<BoardTerminal, 'lastSeenAt'>>;
  exceptions: Record<string, BoardException>;
  notifications: Record<string, BoardNotification>;
  departments: Record<string, Department>;
  config: SiteConfig | null;
  supervision: SupervisionSettings;
}

const byId = <T extends { id: string | number }>(m: ReadonlyMap<unknown, T>): Record<string, T> =>
  Object.fromEntries([...m.values()].sort((a, b) => String(a.id).localeCompare(String(b.id))).map((x) => [String(x.id), x]));

/** A board as plain data. A connected kiosk's lastSeenAt is written by heartbeats that are not sent (PROTOCOL.md), so it is left out. */
function viewOf(b: BoardState): View {
  const terminals = new Map([...b.terminals].map(([id, t]) => [id, (({ lastSeenAt: _l, ...rest }) => rest)(t)]));
  return {
    scope: b.welcome ? { all: b.welcome.scope.all, departmentIds: [...b.welcome.scope.departmentIds] } : null,
    tasks: byId(b.tasks),
    people: byId(b.people),
    terminals: byId(terminals),
    exceptions: byId(b.exceptions),
    notifications: byId(b.notifications),
    departments: byId(b.departments),
    config: b.config,
    supervision: b.supervision,
  };
}

/** How far back a fresh view reaches (docs/PROTOCOL.md, "Snapshot"): finished tasks and acknowledged exceptions of the last 24 h. */
const RECENT_MS = 24 * 3600_000;
/** The notifications a fresh view starts with: the user's latest 200. */
const NOTIFICATIONS_SHOWN = 200;
const OPEN_STATUSES: readonly string[] = ['draft', 'pending', 'in_progress'];
const recentTask = (t: { status: string; updatedAt: number }, now: number) => OPEN_STATUSES.includes(t.status) || t.updatedAt > now - RECENT_MS;
const recentException = (e: { acknowledgedAt: number | null; createdAt: number }, now: number) => e.acknowledgedAt === null || e.createdAt > now - RECENT_MS;
const latestNotifications = <T extends { id: number }>(list: readonly T[]) => [...list].sort((a, b) => b.id - a.id).slice(0, NOTIFICATIONS_SHOWN);

/**
 * A board as a fresh view of the same moment would hold it: what aged out of the snapshot's reach
 * since the board loaded (a task finished more than 24 h ago, an exception acknowledged and older
 * than that, notifications beyond the latest 200) stays on a live board until it reloads, as
 * designed, and is not compared.
 */
function windowed(v: View, now: number): View {
  const keep = <T,>(m: Record<string, T>, ok: (x: T) => boolean) => Object.fromEntries(Object.entries(m).filter(([, x]) => ok(x)));
  const latest = new Set(latestNotifications(Object.values(v.notifications)).map((n) => n.id));
  return {
    ...v,
    tasks: keep(v.tasks, (t) => recentTask(t, now)),
    exceptions: keep(v.exceptions, (e) => recentException(e, now)),
    notifications: keep(v.notifications, (n) => latest.has(n.id)),
  };
}

/** Where two views differ, entity by entity (empty: equal). */
function diff(a: View, b: View, aName: string, bName: string): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(a.scope, b.scope)) out.push(`scope: ${aName} ${JSON.stringify(a.scope)} / ${bName} ${JSON.stringify(b.scope)}`);
  for (const kind of ['tasks', 'people', 'terminals', 'exceptions', 'notifications', 'departments'] as const) {
    const x = a[kind] as Record<string, unknown>;
    const y = b[kind] as Record<string, unknown>;
    for (const id of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (!(id in y)) out.push(`${kind} ${id}: only in ${aName}: ${JSON.stringify(x[id])}`);
      else if (!(id in x)) out.push(`${kind} ${id}: only in ${bName}: ${JSON.stringify(y[id])}`);
      else if (!same(x[id], y[id])) {
        const xi = x[id] as Record<string, unknown>;
        const yi = y[id] as Record<string, unknown>;
        const fields = Object.keys({ ...xi, ...yi }).filter((f) => !same(xi[f], yi[f]));
        out.push(`${kind} ${id}: ${fields.map((f) => `${f} ${aName}=${JSON.stringify(xi[f])} ${bName}=${JSON.stringify(yi[f])}`).join('; ')}`);
      }
    }
  }
  if (!same(a.config, b.config)) out.push(`config: ${aName} ${JSON.stringify(a.config)} / ${bName} ${JSON.stringify(b.config)}`);
  if (!same(a.supervision, b.supervision)) out.push(`supervision differs`);
  return out;
}

/** What a fresh connection of the user loads: its snapshot, applied by the page's own store. */
async function freshView(s: Server, token: string): Promise<View> {
  const c = await SupervisorClient.connect(s.url, { token });
  try {
    if (!c.welcome) throw new Error(`fresh page not welcomed: ${JSON.stringify(c.frames[0])}`);
    const board = createBoardStore({ setTimeout: () => 0 });
    board.getState().setWelcome(c.welcome);
    for (const p of await c.sync(5000)) board.getState().applyPage(p, Date.now());
    if (c.invalid.length) throw new Error(`frame outside the schema: ${c.invalid[0]}`);
    return viewOf(board.getState());
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The HTTP API's account of a scope (docs/API.md GET routes)

type Json = Record<string, unknown>;

async function getAll(s: Server, path: string, token: string): Promise<Json[]> {
  const items: Json[] = [];
  for (let offset = 0; ; offset += 500) {
    const sep = path.includes('?') ? '&' : '?';
    const a = await call(s, `${path}${sep}limit=500&offset=${offset}`, { token });
    if (a.status !== 200) throw new Error(`GET ${path}: ${a.status} ${a.text}`);
    const page = a.body.items as Json[];
    items.push(...page);
    if (page.length < 500) return items;
  }
}

async function get(s: Server, path: string, token: string): Promise<Json> {
  const a = await call(s, path, { token });
  if (a.status !== 200) throw new Error(`GET ${path}: ${a.status} ${a.text}`);
  return a.body;
}

const pick = <T extends object>(o: T, keys: readonly (keyof T)[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
const TASK_KEYS = ['id', 'departmentId', 'status', 'operatorId', 'operatorName', 'version', 'priority', 'step', 'workOrderNumber'] as const;

/** Where the board disagrees with the HTTP API, read as `token` (the board's user) and as an admin. */
async function httpDiff(s: Server, v: View, token: string, adminToken: string): Promise<string[]> {
  const out: string[] = [];
  const scope = v.scope!;
  const inScope = (d: string | null) => scope.all || (d !== null && scope.departmentIds.includes(d));
  const scoped = (ds: readonly string[]) => (scope.all ? [...ds] : ds.filter((d) => scope.departmentIds.includes(d)));
  const note = (what: string, board: unknown, api: unknown) => {
    if (JSON.stringify(board) !== JSON.stringify(api)) out.push(`${what}: board ${JSON.stringify(board)} / API ${JSON.stringify(api)}`);
  };

  // Tasks: the user's own GET /api/tasks (their departments; admins all).
  const now = s.clock.now();
  const apiTasks = (await getAll(s, '/api/tasks', token)).filter((t) => inScope(t.departmentId as string | null) && recentTask(t as unknown as BoardTask, now));
  const apiById = new Map(apiTasks.map((t) => [t.id as string, t]));
  for (const id of new Set([...Object.keys(v.tasks), ...apiById.keys()])) {
    const b = v.tasks[id];
    const a = apiById.get(id);
    note(`task ${id}`, b ? pick(b, TASK_KEYS) : null, a ? pick(a as unknown as BoardTask, TASK_KEYS) : null);
  }

  // People: operators of the scope, their load across every department, limit and presence.
  const allTasks = await getAll(s, '/api/tasks', adminToken);
  const users = (await get(s, '/api/users', adminToken)).items as Json[];
  const departments = (await get(s, '/api/departments', adminToken)).items as Department[];
  const config = (await get(s, '/api/config', adminToken)).config as SiteConfig;
  const allTerminals = (await get(s, '/api/terminals', adminToken)).items as Json[];
  const limits = new Map(departments.map((d) => [d.id, d.taskLimit]));
  for (const u of users) {
    const roles = u.roles as string[];
    const ds = scoped(u.departmentIds as string[]);
    const id = u.id as string;
    const expected =
      roles.includes('operator') && (scope.all || ds.length > 0)
        ? (() => {
            const overrides = (u.departmentIds as string[]).map((d) => limits.get(d)).filter((l): l is number => typeof l === 'number');
            const at = allTerminals.filter((t) => t.signedInUserId === id).sort((x, y) => (x.signedInAt as number) - (y.signedInAt as number)).at(-1);
            return {
              displayName: u.displayName,
              roles,
              departmentIds: ds,
              active: u.active,
              activeCount: allTasks.filter((t) => t.operatorId === id && (t.status === 'pending' || t.status === 'in_progress')).length,
              limit: (u.taskLimit as number | null) ?? (overrides.length ? Math.min(...overrides) : config.defaultTaskLimit),
              presence: at
                ? { terminalId: scope.all || (at.departments as string[]).some((d) => scope.departmentIds.includes(d)) ? at.id : null, since: at.signedInAt }
                : null,
            };
          })()
        : null;
    const p = v.people[id];
    note(`person ${id}`, p ? pick(p, ['displayName', 'roles', 'departmentIds', 'active', 'activeCount', 'limit', 'presence']) : null, expected);
  }

  // Terminals: the user's GET /api/terminals.
  const terminals = (await get(s, '/api/terminals', token)).items as Json[];
  const apiTerminalIds = new Set<string>();
  for (const t of terminals) {
    apiTerminalIds.add(t.id as string);
    const b = v.terminals[t.id as string];
    note(
      `terminal ${t.id as string}`,
      b ? pick(b, ['name', 'departments', 'active', 'connected', 'signedInUserId', 'signedInAt', 'clockOffsetMs']) : null,
      { name: t.name, departments: scoped(t.departments as string[]), active: t.active, connected: t.connected, signedInUserId: t.signedInUserId, signedInAt: t.signedInAt, clockOffsetMs: t.clockOffsetMs },
    );
  }
  for (const id of Object.keys(v.terminals)) if (!apiTerminalIds.has(id)) out.push(`terminal ${id} on the board, not in GET /api/terminals`);

  // Exceptions and notifications: as GET /api/exceptions and /api/notifications.
  const exceptions = (await getAll(s, '/api/exceptions', token)).filter((e) => recentException(e as unknown as BoardException, now));
  note('exceptions', v.exceptions, Object.fromEntries(exceptions.sort((x, y) => String(x.id).localeCompare(String(y.id))).map((e) => [String(e.id), e])));
  const notifications = (await get(s, '/api/notifications?limit=500', token)).items as BoardNotification[];
  note(
    'notifications',
    Object.values(v.notifications).sort((x, y) => x.id - y.id).map((n) => [n.id, n.event, n.readAt]),
    latestNotifications(notifications).sort((x, y) => x.id - y.id).map((n) => [n.id, n.event, n.readAt]),
  );
  note('departments', Object.values(v.departments), departments.filter((d) => inScope(d.id)));
  note('config', v.config, config);
  return out;
}

// ---------------------------------------------------------------------------------------------
// One seeded run

interface World {
  /** The first instance: its store sets the plant up; the clock is shared by all. */
  s: Server;
  servers: Server[];
  /** An instance for the next call or connection (always the only one on SQLite). */
  at: () => Server;
  /** An instance for a quiet point's reads (a stream of its own: how often they retry is timing). */
  checkAt: () => Server;
  tok: Record<string, string>;
  kiosks: Kiosk[];
  overviews: Map<Sup, Overview>;
  /** Every task the run knows of, with what an import of it must repeat. */
  tasks: Map<string, { workOrderNumber: string; step: string }>;
  exceptionIds: number[];
  log: string[];
  seed: number;
  /** The servers' periodic work, run by the steps when the clock has passed their deadlines. */
  intervals: ManualIntervals;
  /** What the timers did, for the run's summary. */
  timers: TimerStats;
  /** The stale-presence sweep has just called every kiosk disconnected; no heartbeat since (INST-3). */
  swept: boolean;
  /** The last offline alert checkAlerts has seen. */
  lastAlertId: number;
}

interface TimerStats {
  /** Assignments expired (EXP-1), offline alerts raised (SUP-5), change rows pruned (SYNC-4), kiosks marked offline by the stale sweep (INST-3). */
  expired: number;
  alerts: number;
  pruned: number;
  stale: number;
  /** Overviews' snapshot pages with more to come. */
  morePages: number;
}

let current: World | null = null;

/** How a seed's servers start: one on SQLite, two instances on one database on PostgreSQL. */
type StartServers = (options: TestServerOptions) => Promise<Server[]>;

/** How many calls and connections each instance got, by the world's choosers. */
const served = new Map<Server, number>();

/** The instance chooser of a world: its own seeded stream, drawn from only when there are several. */
function chooser(servers: readonly Server[], seed: number): () => Server {
  const r = rng(seed * 104_729 + 11);
  return () => {
    const s = servers.length === 1 ? servers[0]! : servers[Math.floor(r() * servers.length)]!;
    served.set(s, (served.get(s) ?? 0) + 1);
    return s;
  };
}

/** The kiosks' heartbeat (as deployed: three missed ones and the stale sweep calls a kiosk gone, INST-3). */
const HEARTBEAT_MS = 10_000;
/**
 * The kiosk hub's timers, but for the heartbeat: it runs when time passes in a step (timePasses),
 * not on the wall clock, so a stale-presence sweep is never undone by a heartbeat the steps did not
 * ask for. (Told apart by its interval: the handshake timeout is set to another.)
 */
const HUB_TIMERS: HubTimers = {
  setTimeout: (fn, ms) => (ms === HEARTBEAT_MS ? null : setTimeout(fn, ms).unref()),
  clearTimeout: (h) => {
    if (h) clearTimeout(h as NodeJS.Timeout);
  },
};

async function setUp(seed: number, start: StartServers): Promise<World> {
  // The plant's size and the page sizes, from a stream of their own: about half the seeds read
  // their snapshots (overviews' and kiosks') in several pages, some with a department of more tasks
  // than a page holds.
  const plan = rng(seed * 613 + 3);
  const smallPages = plan() < 0.5;
  const pageSize = smallPages ? choose(plan, [3, 7, 16]) : null;
  const extraTasks = smallPages ? Math.floor(plan() * 30) : 0;
  // Half the plants weigh performance over one day: each midnight drops records out of it (PERF-1).
  const oneDay = plan() < 0.5;
  const intervals = new ManualIntervals();
  const servers = await start({
    intervals,
    supervisorHub: { revalidateMs: 150, ...(pageSize ? { pageSize } : {}) },
    hub: { heartbeatMs: HEARTBEAT_MS, handshakeTimeoutMs: 9_000, timers: HUB_TIMERS, ...(pageSize ? { pageSize: pageSize * 2 } : {}) },
  });
  const s = servers[0]!;
  const now = s.clock.now();
  await s.store.upsertDepartment({ id: 'pnt', name: 'Paint', taskLimit: null }, now);
  if (oneDay) await s.store.setSupervision({ ...(await s.store.getSupervision()), performanceWindowDays: 1 }, now);
  await s.store.createUser(newUser('dan', { departmentIds: ['cut', 'qa'], displayName: 'Dan Two' }), now);
  await s.store.createUser(newUser('eve', { departmentIds: ['qa', 'pnt'], displayName: 'Eve Two' }), now);
  await s.store.createUser(newUser('fay', { departmentIds: ['pnt'], displayName: 'Fay Paint' }), now);
  await s.store.createUser(newUser('mia', { roles: ['supervisor'], departmentIds: ['cut', 'qa'], displayName: 'Mia Lead' }), now);
  await s.store.createUser(newUser('ada', { roles: ['admin'], departmentIds: [], displayName: 'Ada Admin' }), now);
  const kiosks: Kiosk[] = [];
  for (const [id, departments] of Object.entries(KIOSKS)) {
    const token = `term_oracle_${id}`;
    if (id !== 'k1' && id !== 'k2') await s.store.createTerminal({ id, name: `Kiosk ${id}`, departments, tokenHash: tokenHash(token) }, now);
    kiosks.push(new Kiosk(id, id === 'k1' ? 'term_test_token_1' : id === 'k2' ? 'term_test_token_2' : token, departments));
  }
  const tok: Record<string, string> = {};
  for (const u of [...OPERATORS, ...SUPERVISORS]) tok[u] = (await apiToken(s, u)).token;
  const tasks = new Map<string, { workOrderNumber: string; step: string }>([
    ['t1', { workOrderNumber: 'WO-1', step: 'cut' }],
    ['t2', { workOrderNumber: 'WO-1', step: 'cut' }],
    ['t3', { workOrderNumber: 'WO-1', step: 'cut' }],
    ['make1', { workOrderNumber: 'WO-2', step: 'make' }],
    ['insp1', { workOrderNumber: 'WO-2', step: 'inspect' }],
    ['q1', { workOrderNumber: 'WO-1', step: 'inspect' }],
    ['draft1', { workOrderNumber: 'WO-1', step: 'cut' }],
  ]);
  const rows = [];
  for (let i = 1; i <= 9; i++) {
    const d = DEPARTMENTS[i % 3]!;
    rows.push(taskRow(`p${i}`, { workOrderNumber: `WO-P${i % 4}`, step: d === 'qa' ? 'inspect' : d, departmentId: d, priority: i % 3 }));
    tasks.set(`p${i}`, { workOrderNumber: `WO-P${i % 4}`, step: d === 'qa' ? 'inspect' : d });
  }
  // Mostly cutting: one department of more tasks than a snapshot page.
  for (let i = 1; i <= extraTasks; i++) {
    const d = i % 4 === 0 ? 'pnt' : 'cut';
    rows.push(taskRow(`x${i}`, { workOrderNumber: `WO-X${i % 5}`, step: d, departmentId: d, priority: i % 3 }));
    tasks.set(`x${i}`, { workOrderNumber: `WO-X${i % 5}`, step: d });
  }
  const imported = await s.store.importTasks(rows, now);
  if (!imported.ok) throw new Error('import failed');
  const overviews = new Map<Sup, Overview>();
  const random = rng(seed * 7919 + 1);
  SUPERVISORS.forEach((u, i) => {
    // Each overview picks its instance from a stream of its own (reconnections happen in between steps).
    const at = chooser(servers, seed * 31 + i);
    overviews.set(u, new Overview(u, tok[u]!, () => superviseUrl(at().url), random));
  });
  current = {
    s,
    servers,
    at: chooser(servers, seed),
    checkAt: chooser(servers, seed * 31 + 5),
    tok,
    kiosks,
    overviews,
    tasks,
    exceptionIds: [],
    log: [`plant: ${tasks.size} tasks, ${pageSize ? `pages of ${pageSize} (overviews) and ${pageSize * 2} (kiosks)` : 'default pages'}${oneDay ? ', performance over one day' : ''}`],
    seed,
    intervals,
    timers: { expired: 0, alerts: 0, pruned: 0, stale: 0, morePages: 0 },
    swept: false,
    lastAlertId: 0,
  };
  return current;
}

async function tearDown(): Promise<void> {
  const w = current;
  current = null;
  if (!w) return;
  for (const o of w.overviews.values()) o.stop();
  await Promise.all(w.kiosks.map((k) => k.disconnect()));
  for (const s of w.servers) await s.stop();
}

afterEach(tearDown);

function choose<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

/** The steps in which time passes (timePasses). */
const TIME_SHARE = 0.1;
/** How far the clock moves when time passes, in minutes: past a cooldown, an offline alert, an expiry, a day, the change log's retention. */
const TIME_STEPS = [1, 4, 11, 16, 35, 125, 6 * 60, 25 * 60, 49 * 60, 49 * 60];

/**
 * Time passes: the servers' clock moves past a deadline and their periodic work runs as their
 * intervals would have run it (lease check with the stale-presence sweep, assignment expiry,
 * offline alerts, change-log and session pruning, the performance window's new day; on several instances each runs its own and only
 * the lease holder does the work, INST-4). Meanwhile the kiosks' heartbeats went on, or, in a
 * quarter of them, the clock jumped (NTP setting it right): the sweeps run before any heartbeat,
 * so several instances' stale sweep finds every connected kiosk silent, and the heartbeat after
 * marks it connected again (INST-3).
 */
async function timePasses(w: World, r: () => number): Promise<string> {
  const minutes = choose(r, TIME_STEPS);
  const ms = minutes * MINUTE_MS + Math.floor(r() * 1000);
  const jump = r() < 0.25;
  const checkSwept = r() < 0.5;
  // Overnight some overviews go offline (a laptop asleep) and stay so until they wake (a step, or
  // the next quiet point), maybe days later.
  const asleep: string[] = [];
  if (minutes >= 6 * 60) {
    for (const o of w.overviews.values()) {
      if (!o.asleep && r() < 0.3) {
        o.sleep();
        asleep.push(o.user);
      }
    }
  }
  // Two days pass: every page online has long had what changed before when the change log's start
  // is pruned (SYNC-4); one offline meanwhile resumes with a cursor older than the log (a snapshot).
  if (ms > 48 * 60 * MINUTE_MS) await checkQuiet(w, w.seed, `before ${minutes} min pass`, { awakeOnly: true });
  w.s.clock.advance(ms);
  if (!jump) for (const x of w.servers) await x.ctx.hub.beat();
  await w.intervals.run('lease');
  // Every kiosk was last seen before the jump, more than three heartbeats ago: several instances'
  // sweep marks each one disconnected.
  const swept = jump && w.servers.length > 1 ? w.kiosks.filter((k) => k.online).map((k) => k.id) : [];
  w.timers.stale += swept.length;
  await w.intervals.run('expiry');
  await w.intervals.run('offlineAlerts');
  await checkAlerts(w, !jump);
  await w.intervals.run('pruneChanges');
  await w.intervals.run('pruneAuth');
  await w.intervals.run('performanceDay');
  let stale = swept.length ? `, ${swept.join(',')} silent for three heartbeats` : '';
  if (swept.length && checkSwept) {
    // Every page follows, checked now and then before any heartbeat (the timers have all run).
    w.swept = true;
    try {
      await checkQuiet(w, w.seed, `after the stale sweep of ${swept.join(',')}`);
    } finally {
      w.swept = false;
    }
    stale += ' (checked)';
  }
  if (jump) for (const x of w.servers) await x.ctx.hub.beat();
  return `${minutes} min pass${jump ? ' (the clock jumps)' : ''}${asleep.length ? `, overviews of ${asleep.join(',')} offline` : ''}, timers run${stale}`;
}

/**
 * SUP-5: an offline alert (as Sue, who supervises cutting throughout, gets them) names a kiosk whose
 * link is closed and that reported work queued, offline since it was last seen (GET /api/terminals).
 * (Not after a clock jump, `check` false: a stale sweep has then called open links gone, and alerts follow.)
 */
async function checkAlerts(w: World, check: boolean): Promise<void> {
  const items = (await get(w.s, '/api/notifications?limit=500', w.tok.sue!)).items as BoardNotification[];
  const fresh = items.filter((m) => m.event === 'terminal_offline' && m.id > w.lastAlertId);
  if (fresh.length === 0) return;
  w.lastAlertId = Math.max(...fresh.map((m) => m.id));
  if (!check) return;
  const terminals = (await get(w.s, '/api/terminals', w.tok.ada!)).items as Json[];
  for (const m of fresh) {
    const k = w.kiosks.find((x) => x.id === m.details.terminalId);
    const t = terminals.find((x) => x.id === m.details.terminalId);
    const wrong = !k || !t ? 'an unknown kiosk' : k.online ? 'its link is open' : !((m.details.outbox as number) > 0) ? 'no work queued' : m.details.offlineSince !== t.lastSeenAt ? `offline since ${String(m.details.offlineSince)}, last seen ${String(t.lastSeenAt)}` : null;
    if (wrong) throw new Error(`offline alert ${m.id} for ${String(m.details.terminalId)}: ${wrong}: ${JSON.stringify(m.details)}`);
  }
}

/** One random action a shift produces; returns what it did, for the log. */
async function step(w: World, r: () => number, n: number): Promise<string> {
  const s = w.s;
  s.clock.advance(100);
  const http = (path: string, o: CallOptions) => call(w.at(), path, o);
  const taskIds = [...w.tasks.keys()];
  const roll = r();
  if (roll < TIME_SHARE) return timePasses(w, r);
  const x = (roll - TIME_SHARE) / (1 - TIME_SHARE);
  if (x < 0.36) {
    // A kiosk: connect, sign in, a task operation, sign out.
    const k = choose(r, w.kiosks);
    if (!k.online) {
      // Now and then with work queued (offline again later, it is alerted on, SUP-5).
      const outbox = r() < 0.35 ? 1 + Math.floor(r() * 3) : 0;
      await k.connect(w.at(), outbox);
      return `${k.id} connects${outbox ? ` with ${outbox} queued` : ''}`;
    }
    if (k.signedIn === null || r() < 0.1) {
      const who = choose(r, OPERATORS);
      const out = await k.mutate(s, 'signIn', { method: 'badge' }, who);
      if (out === 'applied') k.signedIn = who;
      return `${k.id} signIn ${who}: ${out}`;
    }
    const op = choose(r, ['claim', 'claim', 'claim', 'start', 'start', 'complete', 'release', 'reject', 'accept', 'signOut']);
    if (op === 'signOut') {
      const out = await k.mutate(s, 'signOut', {}, k.signedIn);
      if (out === 'applied') k.signedIn = null;
      return `${k.id} signOut: ${out}`;
    }
    const taskId = choose(r, taskIds);
    const out = await k.mutate(s, op, op === 'reject' ? { taskId, reason: choose(r, REASONS) } : { taskId }, k.signedIn);
    return `${k.id} ${k.signedIn} ${op} ${taskId}: ${out}`;
  }
  if (x < 0.5) {
    // An operator over HTTP.
    const who = choose(r, [...OPERATORS, 'mia']);
    const op = choose(r, ['claim', 'claim', 'start', 'complete', 'release', 'reject', 'accept']);
    const taskId = choose(r, taskIds);
    const a = await http(`/api/tasks/${taskId}/${op}`, { token: w.tok[who]!, body: op === 'reject' ? { reason: choose(r, REASONS) } : {} });
    return `http ${who} ${op} ${taskId}: ${a.status} ${a.status === 200 ? '' : String(a.body.code)}`;
  }
  if (x < 0.66) {
    // A supervisor acts from the board.
    const sup = choose(r, SUPERVISORS);
    const y = r();
    if (y < 0.08) {
      const d = choose(r, DEPARTMENTS);
      const strategy = choose(r, ['round_robin', 'least_loaded', 'performance_weighted', 'hybrid']);
      const a = await http(`/api/departments/${d}/auto-assign`, { token: w.tok[sup]!, body: { strategy, limit: 1 + Math.floor(r() * 4) } });
      return `http ${sup} auto-assigns ${d} ${strategy}: ${a.status} ${a.status === 200 ? (a.body.assigned as unknown[]).length : String(a.body.code)}`;
    }
    if (y < 0.55) {
      const op = choose(r, ['assign', 'assign', 'reassign', 'unassign', 'cancel']);
      const taskId = choose(r, taskIds);
      // mia works tasks too while she holds the operator role (a lead who supervises and works).
      const target = choose(r, [...OPERATORS, 'mia']);
      const body = op === 'assign' || op === 'reassign' ? { userId: target } : op === 'cancel' ? { reason: 'order withdrawn' } : {};
      const a = await http(`/api/tasks/${taskId}/${op}`, { token: w.tok[sup]!, body });
      return `http ${sup} ${op} ${taskId}${'userId' in body ? ` to ${target}` : ''}: ${a.status} ${a.status === 200 ? '' : String(a.body.code)}`;
    }
    if (y < 0.8) {
      const list = await http('/api/exceptions?open=true', { token: w.tok[sup]! });
      const items = (list.body.items as Json[] | undefined) ?? [];
      if (items.length === 0) return `${sup} has no open exception`;
      const e = choose(r, items);
      const a = await http(`/api/exceptions/${e.id as number}/acknowledge`, { token: w.tok[sup]!, body: {} });
      return `http ${sup} acknowledges exception ${e.id as number}: ${a.status}`;
    }
    const list = await http('/api/notifications', { token: w.tok[sup]! });
    const unread = ((list.body.items as BoardNotification[] | undefined) ?? []).filter((m) => m.readAt === null);
    if (unread.length === 0 || r() < 0.3) {
      const a = await http('/api/notifications/read', { token: w.tok[sup]!, body: { all: true } });
      return `http ${sup} reads all notifications: ${a.status}`;
    }
    const one = choose(r, unread);
    const a = await http('/api/notifications/read', { token: w.tok[sup]!, body: { ids: [one.id] } });
    return `http ${sup} reads notification ${one.id}: ${a.status}`;
  }
  if (x < 0.86) {
    // The administrator (or a supervisor importing).
    const admin = w.tok.ada!;
    const y = r();
    if (y < 0.3) {
      // Import: new tasks, or move one to another department (same work order).
      const importer = choose(r, SUPERVISORS);
      if (r() < 0.5) {
        const id = `n${n}`;
        const d = choose(r, [...DEPARTMENTS, null]);
        const wo = `WO-N${Math.floor(r() * 3)}`;
        const step = choose(r, ['cut', 'make', 'inspect']);
        const a = await http('/api/tasks/import', {
          token: w.tok[importer]!,
          body: { rows: [{ taskId: id, workOrderNumber: wo, step, workContent: `New ${id}`, departmentId: d ?? '', status: r() < 0.15 ? 'draft' : 'pending', priority: Math.floor(r() * 3) }] },
        });
        if (a.status === 200) w.tasks.set(id, { workOrderNumber: wo, step });
        return `import ${id} into ${d} by ${importer}: ${a.status}`;
      }
      const id = choose(r, taskIds);
      const t = w.tasks.get(id)!;
      const d = choose(r, [...DEPARTMENTS, '']);
      const a = await http('/api/tasks/import', { token: w.tok[importer]!, body: { rows: [{ taskId: id, workOrderNumber: t.workOrderNumber, step: t.step, workContent: `Moved ${id}`, departmentId: d }] } });
      return `import moves ${id} to ${d} by ${importer}: ${a.status} ${a.status === 200 ? '' : String(a.body.code)}`;
    }
    if (y < 0.45) {
      const d = choose(r, DEPARTMENTS);
      const limit = choose(r, [null, 1, 2, 3, 5]);
      const a = await http(`/api/departments/${d}`, { method: 'PUT', token: admin, body: { taskLimit: limit } });
      return `department ${d} limit ${limit}: ${a.status}`;
    }
    if (y < 0.8) {
      const who = choose(r, OPERATORS);
      const z = r();
      let patch: Json;
      if (z < 0.35) {
        const departmentIds = DEPARTMENTS.filter(() => r() < 0.5);
        patch = { departmentIds: departmentIds.length ? departmentIds : ['qa'] };
      } else if (z < 0.5) patch = { active: r() < 0.6 };
      else if (z < 0.65) patch = { roles: r() < 0.7 ? ['operator'] : r() < 0.5 ? ['operator', 'supervisor'] : ['supervisor'] };
      else if (z < 0.8) patch = { displayName: `${who.toUpperCase()} ${n}` };
      else patch = { taskLimit: choose(r, [null, 1, 2, 4]) };
      const a = await http(`/api/users/${who}`, { method: 'PATCH', token: admin, body: patch });
      return `user ${who} ${JSON.stringify(patch)}: ${a.status}`;
    }
    if (y < 0.9) {
      const k = choose(r, w.kiosks);
      const departments = choose(r, [['cut'], ['qa'], ['pnt'], ['cut', 'qa'], ['qa', 'pnt']]);
      const a = await http(`/api/terminals/${k.id}`, { method: 'PATCH', token: admin, body: { departments } });
      if (a.status === 200) k.departments = departments;
      return `terminal ${k.id} to ${departments.join(',')}: ${a.status}`;
    }
    if (y < 0.96) {
      const z = r();
      if (z < 0.5) {
        const limit = choose(r, [3, 5, 10]);
        const a = await http('/api/config', { method: 'PATCH', token: admin, body: { defaultTaskLimit: limit } });
        return `site limit ${limit}: ${a.status}`;
      }
      if (z < 0.8) {
        const minutes = choose(r, [0, 5, 30, 120]);
        const a = await http('/api/config', { method: 'PATCH', token: admin, body: { assignmentExpiryMinutes: minutes } });
        return `assignments expire after ${minutes} min: ${a.status}`;
      }
      const minutes = choose(r, [1, 10, 30]);
      // A short performance window: days passing drop records out of it (PERF-1).
      const days = choose(r, [1, 2, 30]);
      const settings = (await get(w.at(), '/api/supervision', admin)).settings as SupervisionSettings;
      const a = await http('/api/supervision', { method: 'PUT', token: admin, body: { ...settings, terminalOfflineAlertMinutes: minutes, performanceWindowDays: days } });
      return `offline alerts after ${minutes} min, performance over ${days} days: ${a.status}`;
    }
    if (r() < 0.4) {
      // A supervisor who also works tasks, or stops: her scope stays, her overview carries on.
      const roles = choose(r, [['supervisor'], ['supervisor', 'operator']]);
      const a = await http('/api/users/mia', { method: 'PATCH', token: admin, body: { roles } });
      return `supervisor mia roles ${roles.join(',')}: ${a.status}`;
    }
    // A supervisor's own departments change: the overview reloads for the new scope (4205).
    const departments = choose(r, [['cut', 'qa'], ['cut', 'qa', 'pnt'], ['qa']]);
    const a = await http('/api/users/mia', { method: 'PATCH', token: admin, body: { departmentIds: departments } });
    return `supervisor mia to ${departments.join(',')}: ${a.status}`;
  }
  if (x < 0.94) {
    const k = choose(r, w.kiosks);
    if (!k.online) return `${k.id} stays offline`;
    await k.disconnect();
    return `${k.id} disconnects`;
  }
  const o = w.overviews.get(choose(r, SUPERVISORS))!;
  if (o.asleep) {
    o.wake();
    return `overview ${o.user} is back online (resumes from its cursor)`;
  }
  const z = r();
  if (z < 0.5) {
    o.drop();
    return `overview ${o.user} drops its link (resumes from its cursor)`;
  }
  if (z < 0.8) {
    // Until it wakes (a step, or the next quiet point), possibly days later.
    o.sleep();
    return `overview ${o.user} goes offline`;
  }
  o.stop();
  o.feed.start();
  return `overview ${o.user} starts over (fresh snapshot)`;
}

/**
 * A quiet point: every overview's board must come to equal a fresh connection's snapshot, and the
 * HTTP API, within a bounded time.
 */
async function checkQuiet(w: World, seed: number, where: string, { awakeOnly = false } = {}): Promise<void> {
  // Overviews that are offline come back (unless only those online are asked about).
  if (!awakeOnly) for (const o of w.overviews.values()) o.wake();
  for (const o of w.overviews.values()) {
    if (o.asleep) continue;
    if (o.ended) throw new Error(`overview ${o.user} ended: ${o.ended}`);
    let problems: string[];
    // Long enough for a page catching up in pages of 3 on a busy machine (a passing check ends early).
    const deadline = Date.now() + 10_000;
    let fresh: View | null = null;
    let freshAt = 0;
    for (;;) {
      // A fresh view is taken again now and then: a change the board has not seen may land after it.
      if (!fresh || Date.now() - freshAt > 1000) {
        fresh = await freshView(w.checkAt(), o.token);
        freshAt = Date.now();
      }
      const board = windowed(viewOf(o.board.getState()), w.s.clock.now());
      problems = o.live && o.board.getState().loaded ? diff(board, fresh, 'board', 'snapshot') : ['the overview is not live'];
      if (problems.length === 0) problems = (await httpDiff(w.checkAt(), board, o.token, w.tok.ada!)).map((p) => `vs API ${p}`);
      if (problems.length === 0) problems = await presenceDiff(w);
      if (problems.length === 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    if (o.leaks.length) problems.push(...o.leaks.map((l) => `leaked to ${o.user}: ${l}`));
    if (problems.length) {
      throw new Error(
        `seed ${seed}, ${where}: overview of ${o.user} disagrees:\n  ${problems.slice(0, 15).join('\n  ')}\nDIAG ${await diag(w, o)}\nlast actions:\n  ${w.log.slice(-25).join('\n  ')}`,
      );
    }
  }
}

/**
 * INST-3 SUP-3: every kiosk is connected by the API exactly while its link is open, whichever
 * instance holds it; right after a stale-presence sweep, none is (no heartbeat has been seen since),
 * and the heartbeat after it marks the open ones connected again.
 */
async function presenceDiff(w: World): Promise<string[]> {
  const terminals = (await get(w.checkAt(), '/api/terminals', w.tok.ada!)).items as Json[];
  const out: string[] = [];
  for (const k of w.kiosks) {
    const connected = terminals.find((t) => t.id === k.id)?.connected;
    const expected = k.online && !w.swept;
    if (connected !== expected) out.push(`terminal ${k.id}: API connected=${String(connected)}, its link is ${k.online ? 'open' : 'closed'}${w.swept ? ' (swept as stale)' : ''}`);
  }
  return out;
}

/** What the timers did in a run: counted from the API at its end (and by the steps, for the stale sweep). */
async function countTimers(w: World): Promise<void> {
  const admin = w.tok.ada!;
  const exceptions = await getAll(w.s, '/api/exceptions', admin);
  w.timers.expired = exceptions.filter((e) => e.kind === 'assignment_expired').length;
  for (const u of SUPERVISORS) {
    const items = (await get(w.s, '/api/notifications?limit=500', w.tok[u]!)).items as BoardNotification[];
    w.timers.alerts += items.filter((m) => m.event === 'terminal_offline').length;
  }
  w.timers.pruned = await w.s.store.prunedThroughSeq();
  w.timers.morePages = [...w.overviews.values()].reduce((a, o) => a + o.morePages, 0);
}

/**
 * For whoever reads a failure: the page's feed client and every instance's connections of its user,
 * as their private state has them now (renamed fields read as undefined).
 */
async function diag(w: World, o: Overview): Promise<string> {
  const feed = o.feed as unknown as { cursor: number | null; scope: string | null; stopped: boolean; attempt: number };
  const out = [`page: live=${o.live} asleep=${o.asleep} pages=${o.pages} cursor=${feed.cursor} scope=${feed.scope} stopped=${feed.stopped} attempt=${feed.attempt} board.loaded=${o.board.getState().loaded} socket=${o.socket?.readyState}`];
  for (const [i, s] of w.servers.entries()) {
    const hub = s.ctx.supervisors as unknown as { head: number; tickHead: number; conns: Set<{ principal: { user: { id: string } } | null; sentCursor: number; awaitingAck: boolean; dirty: boolean; pumping: boolean; closed: boolean; snapshot: unknown; owesCaughtUp: boolean; welcomed: boolean }> };
    out.push(`server ${i}: head=${hub.head} tickHead=${hub.tickHead} storeHead=${await s.store.headSeq()} pruned=${await s.store.prunedThroughSeq()}`);
    for (const c of hub.conns) if (c.principal?.user.id === o.user) out.push(`  conn sent=${c.sentCursor} awaitingAck=${c.awaitingAck} dirty=${c.dirty} pumping=${c.pumping} closed=${c.closed} snapshot=${c.snapshot !== null} owes=${c.owesCaughtUp} welcomed=${c.welcomed}`);
  }
  return out.join('\n  ');
}

const timing = { setup: 0, steps: 0, quiet: 0 };

async function runSeed(seed: number, start: StartServers, steps: number): Promise<{ pages: number; actions: Map<string, number>; timers: TimerStats }> {
  const t0 = Date.now();
  const w = await setUp(seed, start);
  const r = rng(seed);
  timing.setup += Date.now() - t0;
  const actions = new Map<string, number>();
  try {
    served.clear();
    await checkQuiet(w, seed, 'start');
    for (let n = 1; n <= steps; n++) {
      const ts = Date.now();
      const what = await step(w, r, n).catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        // A quiet point within the step (timePasses) says where it was and what came before.
        if (message.startsWith(`seed ${seed}, `)) throw err;
        throw new Error(`seed ${seed}, step ${n}: ${message}\nlast actions:\n  ${w.log.slice(-25).join('\n  ')}`);
      });
      timing.steps += Date.now() - ts;
      w.log.push(`${n}: ${what}`);
      const kind = what.split(':')[0]!.replace(/\b(k\d|n\d+|x\d+|t\d|p\d|q1|make1|insp1|draft1|ann|bob|qin|dan|eve|fay|sue|mia|ada)\b/g, '').replace(/\s+/g, ' ').trim();
      actions.set(kind, (actions.get(kind) ?? 0) + 1);
      const tq = Date.now();
      if (n % QUIET_EVERY === 0 || n === steps) await checkQuiet(w, seed, `after step ${n}`);
      timing.quiet += Date.now() - tq;
    }
    // Every instance took its share of the calls and connections (they really share the work).
    for (const [i, s] of w.servers.entries()) expect(served.get(s) ?? 0, `seed ${seed}: instance ${i} served nothing`).toBeGreaterThan(steps / 10);
    await countTimers(w);
    return { pages: [...w.overviews.values()].reduce((a, o) => a + o.pages, 0), actions, timers: w.timers };
  } finally {
    await tearDown();
  }
}

async function runSeeds(seeds: number, steps: number, start: StartServers, label: string): Promise<TimerStats> {
  let pages = 0;
  const timers: TimerStats = { expired: 0, alerts: 0, pruned: 0, stale: 0, morePages: 0 };
  const failures: string[] = [];
  const t0 = Date.now();
  for (const k of Object.keys(timing) as (keyof typeof timing)[]) timing[k] = 0;
  for (let seed = FIRST; seed < FIRST + seeds; seed++) {
    try {
      const got = await runSeed(seed, start, steps);
      pages += got.pages;
      for (const k of Object.keys(timers) as (keyof TimerStats)[]) timers[k] += got.timers[k];
    } catch (err) {
      // FEED_ORACLE_KEEP_GOING=1 runs every seed and reports each failing one (to hunt).
      if (!process.env.FEED_ORACLE_KEEP_GOING) throw err;
      failures.push(String(err instanceof Error ? err.message : err));
      console.log(String(err instanceof Error ? err.message : err));
    }
  }
  expect(failures).toEqual([]);
  console.log(
    `feed oracle${label}: ${seeds} seeds × ${steps} steps, ${pages} pages applied in ${((Date.now() - t0) / 1000).toFixed(1)} s; ms ${JSON.stringify(timing)}; timers ${JSON.stringify(timers)}`,
  );
  expect(pages).toBeGreaterThan(seeds * 10);
  // The default run (and any longer one) really crosses every deadline and pages its snapshots.
  if (seeds * steps >= 400) {
    for (const k of ['expired', 'alerts', 'pruned', 'morePages'] as const) expect(timers[k], `${k} in ${seeds} seeds × ${steps} steps`).toBeGreaterThan(0);
  }
  return timers;
}

/** Five minutes, and more for a hunt of many seeds on a busy machine. */
const timeoutFor = (seeds: number, steps: number) => Math.max(300_000, seeds * steps * 300);

const CLAIM = 'every overview (one department, two, admin) converges on its fresh snapshot and the HTTP API after kiosks, operators, supervisors and the admin change the floor, links drop and resume; nothing of another department reaches a page';

describe('supervisor feed oracle', () => {
  it(`SUP-1 SUP-3 SUP-4 SUP-5 ${SEEDS} random seeds: ${CLAIM}`, async () => {
    await runSeeds(SEEDS, STEPS, async (options) => [await sqliteBackend.start(options)], '');
  }, timeoutFor(SEEDS, STEPS));
});

const pg = postgresBackend();

describe.skipIf(pg.unavailable !== null)(`supervisor feed oracle${pg.suffix}`, () => {
  beforeAll(() => pg.setUp(), 120_000);
  afterAll(() => pg.tearDown());

  it(`SUP-1 SUP-3 SUP-4 SUP-5 INST-2 ${PG_SEEDS} random seeds on two instances of one database (every call, kiosk and overview to either): ${CLAIM}`, async () => {
    await runSeeds(PG_SEEDS, PG_STEPS, (options) => pg.instances(2, options), ' on PostgreSQL (two instances)');
  }, timeoutFor(PG_SEEDS, PG_STEPS));

  // What it found, as an example (on SQLite in test/supervisor-feed.test.ts; the cluster is up here).
  it('SUP-1 SUP-5 EXP-1 a supervisor who also works tasks gets her own notifications live on her overview (a task assigned to her, her own claim, both expiring), as a fresh view shows them', async () => {
    const intervals = new ManualIntervals();
    const s = await pg.start({ intervals });
    const pages: SupervisorClient[] = [];
    try {
      await s.store.createUser(newUser('mia', { roles: ['supervisor', 'operator'], departmentIds: ['cut'], displayName: 'Mia Lead' }), s.clock.now());
      const mia = (await apiToken(s, 'mia')).token;
      const sue = (await apiToken(s, 'sue')).token;
      const livePage = async () => {
        const c = await SupervisorClient.connect(s.url, { token: mia });
        pages.push(c);
        await c.sync();
        return c;
      };
      const c = await livePage();
      const from = c.frames.length;
      expect((await call(s, '/api/tasks/t1/assign', { token: sue, body: { userId: 'mia' } })).status).toBe(200);
      expect((await call(s, '/api/tasks/t2/claim', { token: mia, body: {} })).status).toBe(200);
      s.clock.advance(121 * MINUTE_MS);
      await intervals.run('expiry');
      await c.waitForChange((x) => x.tasks.some((t) => t.id === 't2' && t.operatorId === null), 3000, from);
      const fresh = await livePage();
      expect(notificationTrail(fresh.changes())).toEqual([
        ['task_assigned', 't1', 'unread'],
        ['task_claimed', 't2', 'read'],
        ['task_expired', 't1', 'unread'],
        ['task_expired', 't2', 'unread'],
      ]);
      expect(notificationTrail(c.changes(from))).toEqual(notificationTrail(fresh.changes()));
    } finally {
      for (const c of pages) c.close();
      await s.stop();
    }
  });
});
