/**
 * A seeded, deterministic world for the sync simulation: the real server engine (SQLite store,
 * group committer, hub) and several real terminal cores (SQLite cache, outbox, sync client) on
 * virtual time, connected by the simulated network. `run()` plays random operations and faults,
 * lets everything settle, and `check()` asserts the invariants of issue 4.
 *
 * With `postgres` (issue 9) the authority is two server instances instead of one: each its own
 * PgServerStore, GroupCommitter and SyncHub, both on one PostgreSQL database of a throwaway
 * cluster. Each terminal's link goes to one instance, and every reconnect goes to either (a
 * seeded choice, as a load balancer would), so terminals move between instances mid-outbox. The
 * world then drives each hub's push timer itself (`tick`, which reads the change log's head), and
 * "settling" waits for the stores' real I/O. See test/sync-sim-pg.test.ts for what it adds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { badgeHash, tokenHash } from '../../src-shared/crypto/hash.js';
import { DEFAULT_SITE_CONFIG, MINUTE_MS } from '../../src-shared/domain/config.js';
import { DomainError } from '../../src-shared/domain/errors.js';
import { resolveTaskLimit } from '../../src-shared/domain/rules.js';
import { GroupCommitter } from '../../src-server/engine/committer.js';
import { silentLogger } from '../../src-server/log.js';
import { Metrics } from '../../src-server/metrics.js';
import { SqliteServerStore } from '../../src-server/store/sqlite/store.js';
import { PgServerStore } from '../../src-server/store/pg/store.js';
import type { ServerStore } from '../../src-server/store/types.js';
import { SyncHub } from '../../src-server/sync/hub.js';
import { LoopBudget } from '../../src-server/slices.js';
import type { PgCluster } from '../support/pg-cluster.js';
import { TerminalStore } from '../../src-main/core/store.js';
import { TerminalCore } from '../../src-main/core/terminal.js';
import { activeCountEverywhere } from '../../src-main/core/reconcile.js';
import { SimNetwork, type Faults, type SimLink } from './network.js';
import { RuleOracle, type AuditRow } from './oracle.js';
import { VirtualTime, prng } from './scheduler.js';

/** The hubs' loop budget in the simulation: never spent, so nothing waits for a real timer (settle). */
const UNLIMITED = new LoopBudget(Number.POSITIVE_INFINITY);

const T0 = Date.UTC(2026, 2, 2, 6, 0, 0);
const SHM = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

interface SimTerminal {
  id: string;
  token: string;
  departments: string[];
  operators: string[];
  skewMs: number;
  core: TerminalCore | null;
  /** Write statements (of the kind `crashAt`) left before the terminal's process dies, or null. */
  crashAfter: number | null;
  /** Which statements count down to the crash: those whose SQL starts so ('' for any). */
  crashAt: string;
  /** It died: every further statement fails until the world reaps it. */
  dead: boolean;
}

/** A terminal's process dying between two statements (thrown by its store's fault hook). */
class SimCrash extends Error {}

interface Server {
  store: SqliteServerStore;
  committer: GroupCommitter;
  hub: SyncHub;
}

/** One of the server instances on the PostgreSQL database. */
interface Instance {
  name: 'A' | 'B';
  /** The database role it connects as (each instance its own, so it can be killed alone). */
  role: string;
  /** Its store as the engine and hub see it (every call counted in `World.io`). */
  store: ServerStore;
  pgStore: PgServerStore;
  committer: GroupCommitter;
  hub: SyncHub;
  /** Killed: every later call of its store fails; its links are gone. */
  dead: boolean;
  /** Its groups being committed now. */
  groupsInFlight: number;
  /** Groups left before the instance dies in the middle of one (serverCrashes), or null. */
  killAtGroup: number | null;
}

/** What a PostgreSQL world keeps besides its instances. */
interface PgWorld {
  cluster: PgCluster;
  database: string;
  /** A superuser pool on the seed's database: the checks' reads, and killing an instance's sessions. */
  admin: pg.Pool;
  /** Instance choices (the load balancer), bursts, which instance acts: PostgreSQL worlds only. */
  rng: () => number;
}

export interface WorldOptions {
  steps: number;
  faults: Faults;
  /** Terminals crash between two write statements (of an operation, of applying a page, ...). */
  terminalCrashes?: boolean;
  /** The server also dies between two write statements, mid-group, its queue not empty, without settling. */
  serverCrashes?: boolean;
  /** SQLite as in production (`synchronous=FULL`) instead of OFF. */
  productionSync?: boolean;
  /** The server's heartbeats (pings that travel, 10 s) and handshake timeout (10 s) run, on virtual time. */
  heartbeats?: boolean;
  /**
   * Two server instances on one database of this cluster (per seed a copy of a template database
   * that holds the schema and the plant, dropped after the seed) instead of one SQLite server. `serverCrashes` then kills an instance while one of its groups
   * is in flight (its sessions terminated: the transaction is lost, or committed unanswered).
   */
  postgres?: PgCluster;
}

/** Roles the PostgreSQL instances connect as (superusers of the throwaway cluster). */
const INSTANCE_ROLES = ['sim_a', 'sim_b'] as const;
/** Per cluster: the template database every seed's database is copied from (schema and plant). */
const TEMPLATES = new WeakMap<PgCluster, Promise<string>>();

/** BIGINT and NUMERIC as numbers, as the store reads them (the checks compare them with SQLite's). */
const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** The hub's push timer (private: production runs it on an interval, the simulation by hand). */
function tick(hub: SyncHub): Promise<void> {
  return (hub as unknown as { tick(): Promise<void> }).tick();
}

/** The site's rules in the simulation (the oracle models them from here too). */
const SIM_RULES = { defaultTaskLimit: 4, cooldownMinutes: 2, assignmentExpiryMinutes: 90, claimMaxAgeMinutes: 480, exclusionPairs: [['make', 'inspect']] as Array<[string, string]> };

/** The plant's tasks: four work orders of cut, make and inspect (the last of WO-4's cut a draft). */
function simTaskRows() {
  const rows = [];
  for (let wo = 1; wo <= 4; wo++) {
    for (const [step, dept] of [
      ['cut', 'd1'],
      ['make', 'd1'],
      ['inspect', wo % 2 ? 'd2' : 'd1'],
    ] as const) {
      rows.push({
        taskId: `w${wo}-${step}`,
        workOrderNumber: `WO-${wo}`,
        workOrderTitle: '',
        step,
        workContent: `${step} for WO-${wo}`,
        departmentId: dept,
        status: wo === 4 && step === 'cut' ? ('draft' as const) : ('pending' as const),
        priority: (wo * 7) % 5,
        dueAt: null,
        requiredSkills: [],
      });
    }
  }
  return rows;
}

/** The mutations that act on a task: a refusal of any of them leaves a conflict record (OFF-4). */
const TASK_OPERATIONS = new Set(['claim', 'accept', 'start', 'complete', 'release', 'reject']);

/** A terminal the world drives by raw mutations, not through a terminal core (PROTO-8). */
const RAW_TERMINAL = { id: 'k4', departments: ['d1', 'd2'] };

const OPERATORS: Array<{ id: string; departments: string[]; limit: number | null }> = [
  { id: 'op1', departments: ['d1'], limit: null },
  { id: 'op2', departments: ['d1'], limit: 2 },
  // In both departments: k1 and k2 (d1 only) count op3's d2 tasks from their directory (CAP-3).
  { id: 'op3', departments: ['d1', 'd2'], limit: 3 },
  { id: 'op4', departments: ['d2'], limit: null },
  { id: 'op5', departments: ['d2'], limit: 1 },
  { id: 'op6', departments: ['d1'], limit: null },
];

export class World {
  readonly rng: () => number;
  readonly time = new VirtualTime(T0);
  readonly net: SimNetwork;
  readonly dir: string;
  readonly trace: string[] = [];
  server: Server | null = null;
  /** PostgreSQL: the two instances, A and B (null while one is down). */
  readonly instances: Array<Instance | null> = [null, null];
  private readonly pg: PgWorld | null = null;
  /** Calls of the instances' stores (and kills) still running: settling waits for them. */
  private readonly io = new Set<Promise<unknown>>();
  /** The instance each terminal's last link went to. */
  private readonly lastInstance = new Map<string, string>();
  readonly terminals: SimTerminal[];
  private salt = '';

  constructor(
    readonly seed: number,
    private readonly options: WorldOptions,
  ) {
    this.rng = prng(seed);
    this.net = new SimNetwork(prng(seed ^ 0x5eed), options.faults, (l) => this.log(l));
    this.dir = fs.mkdtempSync(path.join(SHM, `sim-${seed}-`));
    if (options.postgres) {
      const database = `sim_${process.pid}_${seed}`;
      // Connects only when first used, after run() created the database.
      const admin = new pg.Pool({ connectionString: options.postgres.url(database), max: 2, types: PG_TYPES });
      admin.on('error', () => {});
      this.pg = { cluster: options.postgres, database, admin, rng: prng(seed ^ 0x1e57a7ce) };
      this.net.route = (terminalId) => this.routeLink(terminalId);
      this.net.onServerFrame = (link, text) => this.sawFrame(link, text);
    }
    this.terminals = [
      { id: 'k1', token: 'sim-token-k1', departments: ['d1'], operators: ['op1', 'op2', 'op3', 'op6'], skewMs: 0, core: null, crashAfter: null, crashAt: '', dead: false },
      { id: 'k2', token: 'sim-token-k2', departments: ['d1'], operators: ['op1', 'op2', 'op6'], skewMs: -90_000, core: null, crashAfter: null, crashAt: '', dead: false },
      { id: 'k3', token: 'sim-token-k3', departments: ['d1', 'd2'], operators: ['op3', 'op4', 'op5', 'op1'], skewMs: 45 * MINUTE_MS, core: null, crashAfter: null, crashAt: '', dead: false },
    ];
  }

  log(line: string): void {
    this.trace.push(`[${Math.round((this.time.now() - T0) / 1000)}s] ${line}`);
  }

  // -------------------------------------------------------------------------------------------
  // Setup

  private async seedPlant(store: ServerStore): Promise<void> {
    const now = this.time.now();
    this.salt = await store.siteSalt();
    await store.setConfig({ ...DEFAULT_SITE_CONFIG, ...SIM_RULES }, now);
    await store.upsertDepartment({ id: 'd1', name: 'Machining', taskLimit: null }, now);
    await store.upsertDepartment({ id: 'd2', name: 'Quality', taskLimit: null }, now);
    for (const o of OPERATORS) {
      await store.createUser(
        {
          id: o.id,
          displayName: `Operator ${o.id}`,
          roles: ['operator'],
          departmentIds: o.departments,
          badgeHash: badgeHash(this.salt, `BADGE-${o.id}`),
          pinHash: null,
          passwordHash: null,
          active: true,
          taskLimit: o.limit,
          skills: [],
          qualityScore: 0.5,
        },
        now,
      );
    }
    await store.createUser(
      { id: 'sup', displayName: 'Supervisor', roles: ['supervisor', 'admin'], departmentIds: ['d1', 'd2'], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 },
      now,
    );
    for (const t of this.terminals) {
      await store.createTerminal({ id: t.id, name: `Kiosk ${t.id}`, departments: t.departments, tokenHash: tokenHash(t.token) }, now);
    }
    await store.createTerminal({ id: RAW_TERMINAL.id, name: 'Raw terminal', departments: RAW_TERMINAL.departments, tokenHash: tokenHash('sim-token-raw') }, now);
    const r = await store.importTasks(simTaskRows(), now);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
  }

  private taskIds(departments?: string[]): string[] {
    const all = [];
    for (let wo = 1; wo <= 4; wo++) {
      for (const step of ['cut', 'make', 'inspect']) {
        const dept = step === 'inspect' ? (wo % 2 ? 'd2' : 'd1') : 'd1';
        if (!departments || departments.includes(dept)) all.push(`w${wo}-${step}`);
      }
    }
    all.push('ghost-task');
    return all;
  }

  async startServer(): Promise<void> {
    const file = path.join(this.dir, 'server.db');
    const fresh = !fs.existsSync(file);
    const store = new SqliteServerStore(file, { synchronous: this.options.productionSync ? 'FULL' : 'OFF', faultHooks: true, flushOffLoop: false });
    store.faultHook = (sql) => {
      if (this.serverDead) throw new SimCrash('the server is dead');
      if (this.serverCrashAfter !== null && --this.serverCrashAfter <= 0) {
        // The process dies here: nothing more leaves it, nothing after this statement is committed.
        this.serverDead = true;
        this.serverCrashAfter = null;
        this.serverCrashes++;
        this.log(`server crashed mid-group before: ${sql.replace(/\s+/g, ' ').slice(0, 70)}`);
        this.net.hub = null;
        this.net.serverCrashed();
        throw new SimCrash('the server crashed');
      }
    };
    if (fresh) await this.seedPlant(store);
    else this.salt = await store.siteSalt();
    const hub = new SyncHub(store, this.time, silentLogger(), new Metrics({ defaultMetrics: false }), {
      heartbeatMs: this.options.heartbeats ? 10_000 : 0,
      revalidateMs: this.options.heartbeats ? 15_000 : 0,
      pushIntervalMs: 0,
      handshakeTimeoutMs: this.options.heartbeats ? 10_000 : 0,
      pageSize: 4,
      timers: this.time.scheduler(),
      loopBudget: UNLIMITED,
    });
    const committer = new GroupCommitter(store, this.time, (d, h) => hub.notifyChanged(d, h));
    hub.setCommitter(committer);
    hub.startTimers();
    this.server = { store, committer, hub };
    this.net.hub = hub;
    this.log('server started');
  }

  // -------------------------------------------------------------------------------------------
  // Several instances on PostgreSQL

  /** A fresh database for this seed (and the instances' roles, once per cluster). */
  /**
   * A fresh database for this seed: a copy of the cluster's template, which holds the schema and
   * the plant (made once per cluster, with the instances' roles, by the first world).
   */
  private async openDatabase(): Promise<void> {
    const { cluster, database } = this.pg!;
    let template = TEMPLATES.get(cluster);
    if (!template) {
      template = this.makeTemplate(cluster);
      TEMPLATES.set(cluster, template);
    }
    const name = await template;
    await cluster.dropDatabase(database);
    await cluster.query(`CREATE DATABASE ${database} TEMPLATE ${name}`);
  }

  private async makeTemplate(cluster: PgCluster): Promise<string> {
    for (const role of INSTANCE_ROLES) {
      await cluster.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN SUPERUSER; END IF; END $$`);
    }
    const name = `sim_template_${process.pid}`;
    await cluster.dropDatabase(name);
    const store = await PgServerStore.open(await cluster.createDatabase(name));
    try {
      await this.seedPlant(store);
    } finally {
      await store.close();
    }
    return name;
  }

  private liveInstances(): Instance[] {
    return this.instances.filter((x): x is Instance => x !== null && !x.dead);
  }

  /** The load balancer: a new link goes to a live instance, more often than not the other one. */
  private routeLink(terminalId: string): { hub: SyncHub; name: string } | null {
    const live = this.liveInstances();
    if (live.length === 0) return null;
    const before = this.lastInstance.get(terminalId);
    let inst = live[Math.floor(this.pg!.rng() * live.length)]!;
    if (live.length > 1 && before && this.pg!.rng() < 0.6) inst = live.find((x) => x.name !== before)!;
    if (before && before !== inst.name) this.switches++;
    this.lastInstance.set(terminalId, inst.name);
    return { hub: inst.hub, name: inst.name };
  }

  /** Mutations handed to an instance, by terminal and id: which instances got them. */
  private readonly mutationsSeen = new Map<string, Set<string>>();

  /** A push reaching an instance: a mutation the other instance got before is re-sent across (INST-1). */
  private sawFrame(link: SimLink, text: string): void {
    if (!text.startsWith('{"type":"push"')) return;
    const name = this.instances.find((x) => x?.hub === link.hub)?.name;
    if (!name) return;
    for (const m of (JSON.parse(text) as { mutations: Array<{ id: number }> }).mutations) {
      const key = `${link.terminalId}:${m.id}`;
      const seen = this.mutationsSeen.get(key) ?? new Set<string>();
      if (seen.size > 0 && !seen.has(name)) this.crossResends++;
      seen.add(name);
      this.mutationsSeen.set(key, seen);
    }
  }

  /** Count a store call (or a kill) as running until it settles: settle() waits for these. */
  private track<T>(value: T): T {
    if (value instanceof Promise) {
      this.io.add(value);
      const done = () => this.io.delete(value);
      value.then(done, done);
    }
    return value;
  }

  /**
   * The instance's store as its committer and hub see it: every call counted (settle), refused
   * once the instance is dead, and, when a kill is armed (serverCrashes), the instance dies while
   * the group that call starts is in flight.
   */
  private trackedStore(inst: Instance, target: PgServerStore): ServerStore {
    return new Proxy(target, {
      get: (t, prop) => {
        const v: unknown = Reflect.get(t, prop, t);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (inst.dead) {
            const refused = Promise.reject(new SimCrash(`instance ${inst.name} is dead`));
            refused.catch(() => {});
            return refused;
          }
          const result = this.track((v as (...a: unknown[]) => unknown).apply(t, args));
          if (prop === 'runGroup') {
            // Both instances committing at once (INST-1's row locks at work).
            if (this.instances.some((x) => x && x !== inst && x.groupsInFlight > 0)) this.concurrentGroups++;
            inst.groupsInFlight++;
            const done = () => inst.groupsInFlight--;
            (result as Promise<unknown>).then(done, done);
          }
          if (prop === 'runGroup' && inst.killAtGroup !== null && --inst.killAtGroup <= 0) {
            inst.killAtGroup = null;
            // Somewhere among the group's statements, or after its COMMIT reached the database but
            // before the answer left the instance: real time decides which.
            const delayMs = Math.floor(this.pg!.rng() * 4);
            this.track(new Promise((r) => setTimeout(r, delayMs)).then(() => this.killInstance(inst, 'mid-group')));
            (result as Promise<unknown>).then(
              () => this.log(`instance ${inst.name}'s last group committed before it died (its answers are lost)`),
              () => this.log(`instance ${inst.name}'s last group was cut by its death (rolled back)`),
            );
          }
          return result;
        };
      },
    }) as unknown as ServerStore;
  }

  /** Warnings and errors of an instance go to the trace (a failing seed shows them). */
  private instanceLogger(name: string) {
    return pino(
      { level: process.env.SIM_PG_LOG ?? 'warn', base: undefined, timestamp: false },
      {
        write: (line: string) => {
          const o = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string }; terminal?: string };
          this.log(`instance ${name} ${o.level >= 50 ? 'error' : o.level >= 40 ? 'warn' : 'info'}: ${o.msg ?? ''}${o.terminal ? ` ${o.terminal}` : ''}${o.err?.message ? ` (${o.err.message})` : ''}`);
        },
      },
    );
  }

  /** Start (or restart) instance `i` on the seed's database, as startServer builds the SQLite one. */
  private async startInstance(i: number): Promise<void> {
    const { cluster, database } = this.pg!;
    const name = i === 0 ? 'A' : 'B';
    const role = INSTANCE_ROLES[i]!;
    const url = new URL(cluster.url(database));
    url.username = role;
    const pgStore = await this.track(PgServerStore.open(url.toString()));
    const inst: Instance = { name, role, pgStore, store: null!, committer: null!, hub: null!, dead: false, groupsInFlight: 0, killAtGroup: null };
    inst.store = this.trackedStore(inst, pgStore);
    this.salt = await inst.store.siteSalt();
    const hub = new SyncHub(inst.store, this.time, this.instanceLogger(name), new Metrics({ defaultMetrics: false }), {
      heartbeatMs: this.options.heartbeats ? 10_000 : 0,
      revalidateMs: this.options.heartbeats ? 15_000 : 0,
      pushIntervalMs: 0,
      handshakeTimeoutMs: this.options.heartbeats ? 10_000 : 0,
      pageSize: 4,
      timers: this.time.scheduler(),
      loopBudget: UNLIMITED,
    });
    inst.committer = new GroupCommitter(inst.store, this.time, (d, h) => hub.notifyChanged(d, h));
    inst.hub = hub;
    hub.setCommitter(inst.committer);
    hub.startTimers();
    this.instances[i] = inst;
    this.log(`instance ${name} started`);
  }

  /**
   * An instance dies without a goodbye: its links reset, it opens no more connections, and its
   * database sessions end at once (an open transaction is rolled back; one whose COMMIT got there
   * is durable, its answers lost). The timer lease it held is free again (INST-4).
   */
  private async killInstance(inst: Instance, why: string): Promise<void> {
    if (inst.dead) return;
    inst.dead = true;
    if (why === 'mid-group') this.serverCrashes++;
    else this.instanceKills++;
    this.log(`instance ${inst.name} killed ${why}`);
    this.net.instanceCrashed(inst.hub);
    const i = this.instances.indexOf(inst);
    if (i >= 0) this.instances[i] = null;
    const ended = inst.pgStore.pool.end().catch(() => {});
    // Waits (up to 5 s) until each session is gone, so its locks, the lease's too, are released.
    await this.pg!.admin.query('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1 AND datname = $2', [inst.role, this.pg!.database]);
    await ended;
    await inst.hub.close();
  }

  /** Kill a live instance or start a dead one (the SQLite world's crashServer/startServer). */
  private async killOrRestart(): Promise<void> {
    const i = Math.floor(this.pg!.rng() * 2);
    const inst = this.instances[i];
    if (inst) await this.killInstance(inst, 'abruptly');
    else await this.startInstance(i);
  }

  /** Push timers fired: each chosen instance reads the change log's head and pushes (INST-2). */
  private async tickInstances(which: 'one' | 'all'): Promise<void> {
    const live = this.liveInstances();
    if (live.length === 0) return;
    const chosen = which === 'all' ? live : [live[Math.floor(this.pg!.rng() * live.length)]!];
    await Promise.all(chosen.map((x) => tick(x.hub)));
  }

  /**
   * INST-4: the expiry sweep (and, with heartbeats, the stale-presence sweep of INST-3) runs on the
   * instance that holds the timer lease, and exactly one live instance holds it.
   */
  private async sweepOnLeaseHolder(): Promise<void> {
    const holders: Instance[] = [];
    const live = this.liveInstances();
    for (const x of live) if (await x.store.holdTimerLease()) holders.push(x);
    if (live.some((x) => x.dead)) return; // killed meanwhile: its answer proves nothing
    if (holders.length !== 1) throw new Error(`INST-4: ${holders.length ? holders.map((h) => h.name).join(' and ') : 'none of the live instances'} hold${holders.length === 1 ? 's' : ''} the timer lease`);
    const holder = holders[0]!;
    try {
      const expired = await holder.committer.submit({ kind: 'expire' });
      if (expired.length) this.log(`expired on ${holder.name}: ${expired.join(',')}`);
      if (this.options.heartbeats) {
        const now = this.time.now();
        const stale = await holder.store.disconnectStale(now - 3 * 10_000, now);
        if (stale.length) this.log(`${holder.name} marked ${stale.join(',')} disconnected: not seen for three heartbeats`);
      }
    } catch (err) {
      this.log(`sweep on ${holder.name} failed: ${(err as Error).message}`);
    }
  }

  /** Where supervisors and the raw terminal send their work: the server, or a live instance. */
  private actingServer(): { committer: GroupCommitter; name: string } | null {
    if (!this.pg) return this.server ? { committer: this.server.committer, name: '' } : null;
    const live = this.liveInstances();
    if (live.length === 0) return null;
    return live[Math.floor(this.pg.rng() * live.length)]!;
  }

  /**
   * Both instances decide at once (INST-1): supervisors on each assign the same task, or two tasks
   * to the same operator (capacity, cross-step exclusion), or one assigns while the raw terminal's
   * mutation lands on the other; a few frames are delivered meanwhile, so terminals' mutations may
   * join in.
   */
  private async race(): Promise<void> {
    const live = this.liveInstances();
    if (live.length < 2) return this.supervisorAction();
    const rng = this.pg!.rng;
    const [a, b] = rng() < 0.5 ? [live[0]!, live[1]!] : [live[1]!, live[0]!];
    const mode = rng();
    let both: Array<Promise<void>>;
    if (mode < 0.35) {
      const taskId = this.pick(this.taskIds());
      this.log(`race on ${taskId}: supervisors on ${a.name} and ${b.name}`);
      both = [this.supervisorAction(a, taskId), this.supervisorAction(b, taskId)];
    } else if (mode < 0.8) {
      // Two tasks of the operator's departments: both may fit under the limit alone, not together;
      // or a work order's make and inspect (an exclusion pair).
      const o = this.pick(OPERATORS);
      const mine = this.taskIds(o.departments).filter((id) => id !== 'ghost-task');
      const pairs = [1, 2, 3, 4].map((wo) => [`w${wo}-make`, `w${wo}-inspect`]).filter((p) => p.every((id) => mine.includes(id)));
      let tasks: string[];
      if (pairs.length && rng() < 0.5) tasks = this.pick(pairs);
      else {
        const first = this.pick(mine);
        tasks = [first, this.pick(mine.filter((id) => id !== first))];
      }
      this.log(`race for ${o.id}: supervisors on ${a.name} (${tasks[0]}) and ${b.name} (${tasks[1]})`);
      both = [this.supervisorAction(a, tasks[0], o.id), this.supervisorAction(b, tasks[1], o.id)];
    } else {
      this.log(`race: a supervisor on ${a.name}, the raw terminal on ${b.name}`);
      both = [this.supervisorAction(a), this.rawTerminalAction(b)];
    }
    for (let i = 0; i < 3 && this.net.deliverOne(); i++);
    await Promise.all(both);
  }

  /** The store the checks read through: the server's, or instance A's (both see one database). */
  private checkStore(): ServerStore {
    if (!this.pg) return this.server!.store;
    return this.liveInstances()[0]!.store;
  }

  /** Read-only SQL on the server's database, SQLite's or PostgreSQL's (`?` placeholders). */
  private async sql<R>(text: string, params: unknown[] = []): Promise<R[]> {
    if (!this.pg) return this.server!.store.db.prepare(text).all(...params) as R[];
    let n = 0;
    return (await this.pg.admin.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as R[];
  }

  /** A server that died mid-group: its handle closes without a commit (the open transaction is lost). */
  private reapServer(): boolean {
    if (!this.serverDead || !this.server) return false;
    this.log('the dead server is reaped');
    this.server.store.faultHook = null;
    this.server.store.db.close();
    this.server = null;
    this.serverDead = false;
    return true;
  }

  private serverDead = false;
  private serverCrashAfter: number | null = null;

  /** The server dies without a goodbye: connections reset, what was not committed is gone. */
  async crashServer(): Promise<void> {
    if (!this.server) return;
    this.log('server crashed');
    this.net.hub = null;
    this.net.serverCrashed();
    await this.settle();
    await this.server.store.close();
    this.server = null;
  }

  startTerminal(t: SimTerminal): void {
    const store = new TerminalStore(path.join(this.dir, `${t.id}.db`), { synchronous: this.options.productionSync ? 'FULL' : 'OFF', faultHooks: true });
    this.checkAtomicity(t, store);
    store.faultHook = (sql) => {
      if (t.dead) throw new SimCrash(`terminal ${t.id} is dead`);
      if (t.crashAfter !== null && sql.trimStart().startsWith(t.crashAt) && --t.crashAfter <= 0) {
        t.dead = true;
        this.crashes++;
        this.log(`terminal ${t.id} crashed before: ${sql.replace(/\s+/g, ' ').slice(0, 70)}`);
        if (process.env.SIM_CRASH_LOG) console.log(`crash before: ${sql.replace(/\s+/g, ' ').slice(0, 50)}`);
        throw new SimCrash(`terminal ${t.id} crashed`);
      }
    };
    const random = prng(Math.floor(this.rng() * 2 ** 31));
    t.core = new TerminalCore({
      store,
      settings: { serverUrl: 'sim://server', terminalId: t.id, token: t.token, idleTimeoutSeconds: 0, locale: 'en' },
      clock: this.time.skewed(t.skewMs),
      scheduler: this.time.scheduler(),
      random,
      dialer: () => this.net.dialer(t.id),
      appVersion: 'sim',
      sync: { pingIntervalMs: 2000, pongTimeoutMs: 5000, backoffInitialMs: 200, backoffMaxMs: 4000 },
    });
    t.core.startSyncing();
    this.log(`terminal ${t.id} started`);
  }

  stopTerminal(t: SimTerminal): void {
    if (!t.core) return;
    this.log(`terminal ${t.id} stopped`);
    t.core.close();
    t.core = null;
  }

  /**
   * OFF-2 after a crash: what the terminal shows of a task differs from what the server last told
   * it only while an outbox entry for that task is waiting: an effect never outlives its entry, an
   * entry never exists without its effect.
   */
  private checkAtomicity(t: SimTerminal, store: TerminalStore): void {
    // The server's word of a task is kept apart from its shown row (tasks_base) only while outbox
    // entries wait for it; otherwise the shown row is that word.
    const changed = store.db
      .prepare(
        `SELECT b.id FROM tasks_base b LEFT JOIN tasks t ON t.id = b.id
         WHERE t.id IS NULL OR t.version <> b.version OR t.status <> b.status OR COALESCE(t.operator_id, '') <> COALESCE(b.operator_id, '')`,
      )
      .pluck()
      .all() as string[];
    for (const id of changed) {
      if (store.outboxForTask(id).length === 0) throw new Error(`OFF-2: after a crash, ${t.id} shows a change of ${id} with no outbox entry for it`);
    }
    const keptWithoutEntry = store.db.prepare('SELECT id FROM tasks_base WHERE id NOT IN (SELECT task_id FROM outbox WHERE task_id IS NOT NULL)').pluck().all() as string[];
    if (keptWithoutEntry.length > 0) throw new Error(`OFF-2: after a crash, ${t.id} keeps the server's word of ${keptWithoutEntry.join(', ')} apart with no outbox entry`);
    const shownWithoutWord = store.db
      .prepare('SELECT DISTINCT o.task_id FROM outbox o JOIN tasks t ON t.id = o.task_id WHERE o.task_id NOT IN (SELECT id FROM tasks_base)')
      .pluck()
      .all() as string[];
    if (shownWithoutWord.length > 0) throw new Error(`OFF-2: after a crash, ${t.id} shows ${shownWithoutWord.join(', ')} with entries waiting and no server's word kept apart`);
  }

  /** The process of a terminal that crashed is gone: no goodbye, its links reset, its files as the crash left them. */
  private reapCrashed(): boolean {
    let reaped = false;
    for (const t of this.terminals) {
      if (!t.dead || !t.core) continue;
      reaped = true;
      this.log(`terminal ${t.id} is reaped after its crash`);
      try {
        t.core.close();
      } catch (err) {
        if (!(err instanceof SimCrash)) throw err;
      }
      t.core.store.close();
      t.core = null;
      t.dead = false;
      t.crashAfter = null;
    }
    return reaped;
  }

  /**
   * Let promises, immediates and queued commits run until nothing moves. On PostgreSQL, also wait
   * for the stores' real I/O: until no store call is running for 12 turns of the event loop.
   */
  async settle(): Promise<void> {
    if (!this.pg) {
      for (let i = 0; i < 12; i++) await new Promise((r) => setImmediate(r));
      return;
    }
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setImmediate(r));
      if (this.io.size === 0) continue;
      if (Date.now() - started > 60_000) throw new Error(`the instances' database calls did not finish within 60 s (${this.io.size} still running)`);
      await Promise.race([Promise.allSettled([...this.io]), new Promise((r) => setTimeout(r, 1000))]);
      i = -1;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Random play

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }

  private async operatorAction(t: SimTerminal): Promise<void> {
    const core = t.core!;
    const snap = await core.getSnapshot();
    const r = this.rng();
    let label = '';
    try {
      if (!snap.session || r < 0.08) {
        const op = this.pick(t.operators);
        label = `${t.id} signIn ${op}`;
        await core.signIn({ badge: `BADGE-${op}` });
      } else if (r < 0.12) {
        label = `${t.id} signOut`;
        await core.signOut();
      } else {
        const mine = (await core.listMine()).tasks.map((x) => x.id);
        const claimable = (await core.listClaimable({ offset: 0, limit: 50 })).items.map((x) => x.id);
        const anyTask = claimable.length && this.rng() < 0.7 ? this.pick(claimable) : this.pick(this.taskIds(t.departments));
        const own = mine.length && this.rng() < 0.7 ? this.pick(mine) : anyTask;
        const k = this.rng();
        const name = k < 0.45 ? 'claim' : k < 0.65 ? 'start' : k < 0.8 ? 'complete' : k < 0.92 ? 'release' : 'reject';
        const taskId = name === 'claim' ? anyTask : own;
        label = `${t.id} ${snap.session.userId} ${name} ${taskId}`;
        if (name === 'reject') await core.reject({ taskId, reason: this.rng() < 0.2 ? ' ' : 'not today' });
        else await core[name]({ taskId });
      }
      this.log(`${label} -> ok`);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      this.log(`${label} -> refused locally: ${e.code}`);
    }
  }

  /**
   * A terminal that is not one of ours (a buggy or forged client, PROTO-8): it sends mutations
   * straight to the server, sometimes for an operator other than the one signed in there. The rule
   * oracle checks what the server made of each.
   */
  private async rawTerminalAction(s = this.actingServer()): Promise<void> {
    if (!s) return;
    const id = ++this.rawMutationId;
    const operatorId = this.rng() < 0.5 && this.rawSignedIn ? this.rawSignedIn : this.pick(OPERATORS).id;
    const k = this.rng();
    const name = k < 0.25 ? 'signIn' : k < 0.3 ? 'signOut' : k < 0.6 ? 'claim' : k < 0.7 ? 'start' : k < 0.8 ? 'complete' : k < 0.9 ? 'release' : 'reject';
    const args =
      name === 'signIn'
        ? { method: 'badge' }
        : name === 'signOut'
          ? {}
          : name === 'reject'
            ? { taskId: this.pick(this.taskIds()), reason: this.rng() < 0.2 ? '  ' : 'wrong material' }
            : { taskId: this.pick(this.taskIds()) };
    const raw = { id, name, args, operatorId, clientTime: this.time.now() };
    try {
      const outcome = await s.committer.submit({ kind: 'terminal', terminalId: RAW_TERMINAL.id, connection: 1, id, raw });
      if (outcome.status === 'applied' && name === 'signIn') this.rawSignedIn = operatorId;
      if (outcome.status === 'applied' && name === 'signOut' && this.rawSignedIn === operatorId) this.rawSignedIn = null;
      this.log(`raw ${operatorId} ${name} ${'taskId' in args ? args.taskId : ''}${s.name ? ` on ${s.name}` : ''} -> ${outcome.status === 'applied' ? 'ok' : outcome.status === 'rejected' ? outcome.error.code : 'retry'}`);
    } catch (err) {
      this.log(`raw ${name} -> failed: ${(err as Error).message}`);
    }
  }

  private rawMutationId = 0;
  private rawSignedIn: string | null = null;

  private async supervisorAction(s = this.actingServer(), task?: string, user?: string): Promise<void> {
    if (!s) return;
    const taskId = task ?? this.pick(this.taskIds());
    const userId = user ?? this.pick(OPERATORS).id;
    const mode = this.rng() < 0.5 ? 'assign' : 'reassign';
    try {
      const r = await s.committer.submit({ kind: 'operation', op: { name: mode, taskId, userId }, actorId: 'sup', via: 'http' });
      this.log(`supervisor ${mode} ${taskId} to ${userId}${s.name ? ` on ${s.name}` : ''} -> ${r.ok ? 'ok' : r.error!.code}`);
    } catch (err) {
      // An instance killed under it (the supervisor's request gets no answer).
      if (!this.pg) throw err;
      this.log(`supervisor ${mode} ${taskId} to ${userId} on ${s.name} -> failed: ${(err as Error).message}`);
    }
  }

  async step(): Promise<void> {
    try {
      await this.playStep();
    } catch (err) {
      if (!(err instanceof SimCrash)) throw err;
    }
    const serverReaped = this.reapServer();
    if (this.reapCrashed() || serverReaped) {
      // Bring it back and let everything settle with nothing new happening: a change the crash
      // lost (a cursor stored ahead of its page) would never arrive, and convergence would fail.
      await this.quiesce();
    }
  }

  private async playStep(): Promise<void> {
    const r = this.rng();
    const live = this.terminals.filter((t) => t.core);
    if (r < 0.38 && live.length) await this.operatorAction(this.pick(live));
    else if (r < 0.62) {
      const n = 1 + Math.floor(this.rng() * 8);
      if (this.pg && this.pg.rng() < 0.3) {
        // A burst: frames arrive while the instances are still working on the last ones, so both
        // commit at once, and a mutation re-sent to one may meet itself committing on the other.
        let i = 0;
        while (i < n && this.net.deliverOne()) i++;
        this.bursts++;
        this.log(`burst of ${i} frames`);
      } else for (let i = 0; i < n && this.net.deliverOne(); i++) await this.settle();
    } else if (r < 0.7) {
      if (this.pg) await this.tickInstances(this.pg.rng() < 0.5 ? 'one' : 'all');
      else this.server?.hub.pushDirty();
    } else if (r < 0.8) {
      this.time.advance(Math.floor(this.rng() * 4000));
      // The instances' push timers (100 ms) fired meanwhile.
      if (this.pg) await this.tickInstances('all');
    } else if (r < 0.83) {
      this.time.advance(Math.floor(this.rng() * 20 * MINUTE_MS));
      if (this.pg) await this.tickInstances('all');
    } else if (r < 0.835) {
      this.time.advance(9 * 60 * MINUTE_MS);
      if (this.pg) await this.tickInstances('all');
    } else if (r < 0.86) {
      const l = this.net.randomOpenLink();
      if (l) this.net.reset(l);
    } else if (r < 0.875) {
      const t = this.pick(this.terminals);
      if (this.net.partitioned.has(t.id)) this.net.heal(t.id);
      else this.net.partition(t.id);
    } else if (r < 0.89) {
      const t = this.pick(this.terminals);
      if (t.core) this.stopTerminal(t);
      else this.startTerminal(t);
    } else if (r < 0.895) {
      if (this.pg) await this.killOrRestart();
      else if (this.server) await this.crashServer();
      else await this.startServer();
    } else if (r < 0.915) {
      if (this.pg && this.pg.rng() < 0.5) await this.race();
      else await this.supervisorAction();
    }
    else if (r < 0.93) await this.rawTerminalAction();
    else if (r < 0.95 && (this.pg ? this.liveInstances().length > 0 : this.server)) {
      if (this.pg) await this.sweepOnLeaseHolder();
      else {
        const expired = await this.server!.committer.submit({ kind: 'expire' });
        if (expired.length) this.log(`expired ${expired.join(',')}`);
      }
    } else if (r < 0.96 && live.length) {
      // A terminal hears that the network is back.
      this.pick(live).core!.kick();
    } else if (r < 0.965 && (this.pg ? this.liveInstances().length > 0 : this.server) && this.options.serverCrashes) {
      if (this.pg) {
        const live = this.liveInstances();
        const inst = live[Math.floor(this.pg.rng() * live.length)]!;
        inst.killAtGroup = 1 + Math.floor(this.rng() * 6);
        this.log(`instance ${inst.name} will die during its group ${inst.killAtGroup}`);
      } else {
        this.serverCrashAfter = 1 + Math.floor(this.rng() * 30);
        this.log(`the server will crash at write ${this.serverCrashAfter}`);
      }
    } else if (r < 0.98 && live.length && this.options.terminalCrashes) {
      // Its process will die between two of its next write statements.
      // Anywhere, or in the middle of applying a change page (its shown rows, or the base rows of
      // tasks with entries waiting), of a tap (its outbox entry), of taking an outcome (the
      // entry's removal).
      const t = this.pick(live);
      t.crashAt = this.pick(['', '', 'INSERT INTO tasks_base', 'INSERT INTO tasks ', 'INSERT INTO outbox', 'DELETE FROM outbox', 'INSERT INTO directory']);
      t.crashAfter = 1 + Math.floor(this.rng() * (t.crashAt ? 3 : 12));
      this.log(`terminal ${t.id} will crash at write ${t.crashAfter}${t.crashAt ? ` of "${t.crashAt}"` : ''}`);
    } else {
      const t = this.pick(this.terminals);
      if (this.net.partitioned.has(t.id)) this.net.heal(t.id);
    }
    await this.settle();
  }

  async run(): Promise<void> {
    if (this.pg) {
      await this.openDatabase();
      await this.startInstance(0);
      await this.startInstance(1);
    } else await this.startServer();
    for (const t of this.terminals) this.startTerminal(t);
    await this.settle();
    for (let i = 0; i < this.options.steps; i++) await this.step();
    await this.quiesce();
  }

  /** Heal everything and let the system run until it is quiet (bounded). */
  async quiesce(): Promise<void> {
    this.log('--- quiesce ---');
    for (const t of this.terminals) t.crashAfter = null;
    this.serverCrashAfter = null;
    this.reapCrashed();
    this.reapServer();
    if (this.pg) {
      await this.settle(); // a kill still under way
      for (let i = 0; i < this.instances.length; i++) {
        if (!this.instances[i]) await this.startInstance(i);
        this.instances[i]!.killAtGroup = null;
      }
    } else if (!this.server) await this.startServer();
    for (const t of this.terminals) {
      this.net.heal(t.id);
      if (!t.core) this.startTerminal(t);
    }
    for (let round = 0; round < 400; round++) {
      for (let i = 0; i < 500 && this.net.deliverOne(); i++) await this.settle();
      if (this.pg) await this.tickInstances('all');
      else this.server!.hub.pushDirty();
      await this.settle();
      if (this.net.inFlight() === 0 && (await this.converged()) === null) return;
      this.time.advance(1000);
      await this.settle();
    }
    throw new Error(`did not converge: ${await this.converged()}`);
  }

  // -------------------------------------------------------------------------------------------
  // Invariants

  /** Null when every terminal is online with an empty outbox and the server's state; else why not. */
  async converged(): Promise<string | null> {
    const store = this.checkStore();
    const now = this.time.now();
    for (const t of this.terminals) {
      const core = t.core!;
      const sync = core.syncStatus();
      if (sync.status !== 'online') return `${t.id} is ${sync.status}`;
      if (sync.pending > 0) return `${t.id} has ${sync.pending} pending`;
      const serverTasks = (await store.listTasks({}, { limit: 1000, offset: 0 })).items.filter((x) => x.departmentId && t.departments.includes(x.departmentId));
      for (const st of serverTasks) {
        const local = core.store.baseTask(st.id);
        const open = st.status === 'draft' || st.status === 'pending' || st.status === 'in_progress';
        if (!local) {
          if (open) return `${t.id} lacks open task ${st.id}`;
          continue;
        }
        if (local.version !== st.version || local.status !== st.status || local.operatorId !== st.operatorId) {
          return `${t.id} has ${st.id} v${local.version} ${local.status}/${local.operatorId}, server v${st.version} ${st.status}/${st.operatorId}`;
        }
        const visible = core.store.task(st.id);
        if (JSON.stringify(visible) !== JSON.stringify(local)) return `${t.id} shows ${st.id} differently from its base`;
        const serverSync = (await store.getTask(st.id, now))!;
        if (JSON.stringify(local.workedBy) !== JSON.stringify(serverSync.workedBy)) return `${t.id} workedBy of ${st.id} differs`;
        for (const field of ['assignment', 'lastRejection'] as const) {
          if (JSON.stringify(local[field]) !== JSON.stringify(serverSync[field])) return `${t.id} ${field} of ${st.id} differs`;
        }
      }
      // CAP-3: the terminal counts each operator of its directory's active tasks as the server does
      // (its departments' from its cache, the others' from the directory).
      for (const userId of core.store.db.prepare('SELECT id FROM directory ORDER BY id').pluck().all() as string[]) {
        const local = activeCountEverywhere(core.store, userId, t.departments);
        const [{ n: server }] = (await this.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM tasks WHERE operator_id = ? AND status IN ('pending', 'in_progress')`, [userId])) as [{ n: number }];
        if (local !== server) return `CAP-3: ${t.id} counts ${local} active tasks for ${userId}, the server ${server}`;
      }
    }
    if (this.pg && this.options.heartbeats) {
      // INST-3: every terminal is online with some instance, so the database says it is connected
      // (a connection that ended on one instance after its terminal's handshake on the other does
      // not count). Only with heartbeats: a hello that reached the old instance late (after the
      // terminal's handshake on the other, its link already reset) records that connection as the
      // latest, and its end marks the terminal disconnected until a heartbeat of the instance that
      // holds its link marks it connected again, as INST-3 has it.
      const rows = await this.sql<{ id: string; connected: number }>('SELECT id, connected FROM terminals ORDER BY id');
      for (const t of this.terminals) {
        const row = rows.find((x) => x.id === t.id);
        if (!row || Number(row.connected) !== 1) return `INST-3: ${t.id} is online (last link to instance ${this.lastInstance.get(t.id)}) but marked disconnected`;
      }
    }
    return null;
  }

  async check(): Promise<void> {
    const store = this.checkStore();
    // OWN-1: never two holders; the task row agrees with its active assignment.
    const doubles = await this.sql(`SELECT task_id FROM assignments WHERE status IN ('assigned','accepted','in_progress') GROUP BY task_id HAVING COUNT(*) > 1`);
    if (doubles.length) throw new Error(`OWN-1 broken: ${JSON.stringify(doubles)}`);
    const mismatched = await this.sql(
      `SELECT t.id FROM tasks t LEFT JOIN assignments a ON a.task_id = t.id AND a.status IN ('assigned','accepted','in_progress')
       WHERE t.status IN ('pending','in_progress') AND COALESCE(t.operator_id, '') <> COALESCE(a.user_id, '')`,
    );
    if (mismatched.length) throw new Error(`task rows disagree with assignments: ${JSON.stringify(mismatched)}`);
    // CLM-4: nobody above their limit.
    const config = await store.getConfig();
    for (const o of OPERATORS) {
      const user = (await store.getUser(o.id))!;
      const limit = Math.max(...user.departmentIds.map((d) => resolveTaskLimit(config, { id: d, name: d, taskLimit: null }, user)));
      const held = (await store.listTasks({ operatorId: o.id }, { limit: 100, offset: 0 })).items.filter((t) => t.status === 'pending' || t.status === 'in_progress').length;
      if (held > limit) throw new Error(`CLM-4 broken: ${o.id} holds ${held} > ${limit}`);
    }
    for (const t of this.terminals) {
      const store = t.core!.store;
      // Every outbox entry got exactly one outcome; the outbox is empty.
      const made = store.meta<number>('nextMutationId', 1) - 1;
      if (store.outboxSize() !== 0) throw new Error(`${t.id} outbox not empty`);
      if (store.outcomeCount() !== made) throw new Error(`${t.id} made ${made} mutations but holds ${store.outcomeCount()} outcomes`);
      // Nothing acknowledged lost or applied twice: one audit row per processed mutation, agreeing with the outcome.
      const audit = (await this.sql<{ details: string; outcome: string; action: string }>(`SELECT details, outcome, action FROM audit_events WHERE terminal_id = ? ORDER BY id`, [t.id])).map(
        (a) => ({ id: ((JSON.parse(a.details) as { mutationId?: number }).mutationId ?? null) as number, outcome: a.outcome, action: a.action }),
      );
      const byId = new Map<number, { outcome: string; action: string }>();
      for (const a of audit) {
        if (byId.has(a.id)) throw new Error(`${t.id} mutation ${a.id} processed twice`);
        byId.set(a.id, a);
      }
      for (let id = 1; id <= made; id++) {
        const local = store.outcome(id);
        const server = byId.get(id);
        if (!local || !server) throw new Error(`${t.id} mutation ${id}: local ${JSON.stringify(local)} server ${JSON.stringify(server)}`);
        const localCode = local.status === 'applied' ? 'applied' : (local.result as { code: string }).code;
        if (localCode !== server.outcome) throw new Error(`${t.id} mutation ${id}: terminal says ${localCode}, server ${server.outcome}`);
      }
      // OFF-4: every rejected task operation (not only claims) left a conflict record.
      const conflicts = new Set(store.allConflicts().map((c) => c.mutationId));
      for (let id = 1; id <= made; id++) {
        const local = store.outcome(id)!;
        const action = byId.get(id)!.action;
        if (local.status === 'rejected' && TASK_OPERATIONS.has(action) && !conflicts.has(id)) {
          throw new Error(`OFF-4: ${t.id} rejected ${action} ${id} left no conflict record`);
        }
      }
    }
    const why = await this.converged();
    if (why) throw new Error(`not converged: ${why}`);
    await this.checkRules();
  }

  /**
   * The rule oracle (test/sim/oracle.ts): every decision the server committed, replayed in commit
   * order against an independent model of the rules, must agree; and the model's tasks after the
   * run must be the server's.
   */
  async checkRules(): Promise<RuleOracle> {
    const oracle = new RuleOracle(
      SIM_RULES,
      [
        ...OPERATORS.map((o) => ({ id: o.id, departments: o.departments, limit: o.limit, roles: ['operator'], active: true })),
        { id: 'sup', departments: ['d1', 'd2'], limit: null, roles: ['supervisor', 'admin'], active: true },
      ],
      simTaskRows().map((r) => ({ id: r.taskId, workOrder: r.workOrderNumber, step: r.step, department: r.departmentId, status: r.status, holder: null, version: 1 })),
      new Map([...this.terminals.map((t) => [t.id, t.departments] as const), [RAW_TERMINAL.id, RAW_TERMINAL.departments] as const]),
    );
    oracle.replay(await this.sql<AuditRow>('SELECT id, at, action, outcome, actor_id, terminal_id, via, task_id, details FROM audit_events ORDER BY id'));
    for (const row of await this.sql<{ id: string; status: string; operator_id: string | null; version: number }>('SELECT id, status, operator_id, version FROM tasks')) {
      const t = oracle.tasks.get(row.id);
      if (!t || t.status !== row.status || t.holder !== row.operator_id || t.version !== row.version) {
        throw new Error(`rule oracle: task ${row.id} is ${row.status}/${row.operator_id}/v${row.version} on the server, ${t ? `${t.status}/${t.holder}/v${t.version}` : 'unknown'} in the model`);
      }
    }
    this.oracleChecked = oracle.checked;
    return oracle;
  }

  oracleChecked = new Map<string, number>();
  private crashes = 0;
  private serverCrashes = 0;
  private instanceKills = 0;
  private switches = 0;
  private bursts = 0;
  private crossResends = 0;
  private concurrentGroups = 0;

  stats(): SeedStats {
    let mutations = 0;
    let rejectedClaims = 0;
    for (const t of this.terminals) {
      if (!t.core) continue;
      mutations += t.core.store.outcomeCount();
      rejectedClaims += t.core.store.allConflicts().length;
    }
    return {
      mutations,
      rejectedClaims,
      decisions: this.oracleChecked,
      crashes: this.crashes,
      serverCrashes: this.serverCrashes,
      instanceKills: this.instanceKills,
      switches: this.switches,
      bursts: this.bursts,
      crossResends: this.crossResends,
      concurrentGroups: this.concurrentGroups,
    };
  }

  async dispose(): Promise<void> {
    for (const t of this.terminals) this.stopTerminal(t);
    if (this.server) {
      await this.server.hub.close();
      await this.server.committer.close();
      await this.server.store.close();
    }
    if (this.pg) {
      await Promise.allSettled([...this.io]);
      for (const inst of this.liveInstances()) {
        await inst.hub.close();
        await inst.committer.close().catch(() => {});
        await inst.pgStore.close().catch(() => {});
      }
      await this.pg.admin.end().catch(() => {});
      await this.pg.cluster.dropDatabase(this.pg.database);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SeedStats {
  mutations: number;
  rejectedClaims: number;
  /** Decisions the rule oracle checked, by `action:outcome`. */
  decisions: Map<string, number>;
  /** Terminal processes that died between two statements. */
  crashes: number;
  /** Times the server died mid-group (PostgreSQL: an instance killed while a group of it was in flight). */
  serverCrashes: number;
  /** PostgreSQL: instances killed between groups (abruptly: links reset, sessions terminated). */
  instanceKills: number;
  /** PostgreSQL: reconnects that went to the other instance than the terminal's last link. */
  switches: number;
  /** PostgreSQL: deliveries of several frames without waiting for the instances in between. */
  bursts: number;
  /** PostgreSQL: mutations handed to one instance and later re-sent to the other. */
  crossResends: number;
  /** PostgreSQL: groups that began while the other instance was committing one. */
  concurrentGroups: number;
}

export async function runSeed(seed: number, options: WorldOptions): Promise<SeedStats> {
  const world = new World(seed, options);
  try {
    await world.run();
    await world.check();
    return world.stats();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`sync simulation failed for seed ${seed}: ${message}\n--- last events ---\n${world.trace.slice(-Number(process.env.SIM_TRACE_LINES ?? 60)).join('\n')}`, { cause: err });
  } finally {
    await world.dispose();
  }
}
