/**
 * A seeded, deterministic world for the sync simulation: the real server engine (SQLite store,
 * group committer, hub) and several real terminal cores (SQLite cache, outbox, sync client) on
 * virtual time, connected by the simulated network. `run()` plays random operations and faults,
 * lets everything settle, and `check()` asserts the invariants of issue 4.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badgeHash, tokenHash } from '../../src-shared/crypto/hash.js';
import { DEFAULT_SITE_CONFIG, MINUTE_MS } from '../../src-shared/domain/config.js';
import { DomainError } from '../../src-shared/domain/errors.js';
import { resolveTaskLimit } from '../../src-shared/domain/rules.js';
import { GroupCommitter } from '../../src-server/engine/committer.js';
import { silentLogger } from '../../src-server/log.js';
import { Metrics } from '../../src-server/metrics.js';
import { SqliteServerStore } from '../../src-server/store/sqlite/store.js';
import { SyncHub } from '../../src-server/sync/hub.js';
import { TerminalStore } from '../../src-main/core/store.js';
import { TerminalCore } from '../../src-main/core/terminal.js';
import { activeCountEverywhere } from '../../src-main/core/reconcile.js';
import { SimNetwork, type Faults } from './network.js';
import { RuleOracle, type AuditRow } from './oracle.js';
import { VirtualTime, prng } from './scheduler.js';

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
  readonly terminals: SimTerminal[];
  private salt = '';

  constructor(
    readonly seed: number,
    private readonly options: WorldOptions,
  ) {
    this.rng = prng(seed);
    this.net = new SimNetwork(prng(seed ^ 0x5eed), options.faults, (l) => this.log(l));
    this.dir = fs.mkdtempSync(path.join(SHM, `sim-${seed}-`));
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

  private async seedPlant(store: SqliteServerStore): Promise<void> {
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
      pushIntervalMs: 0,
      handshakeTimeoutMs: this.options.heartbeats ? 10_000 : 0,
      pageSize: 4,
      timers: this.time.scheduler(),
    });
    const committer = new GroupCommitter(store, this.time, (d, h) => hub.notifyChanged(d, h));
    hub.setCommitter(committer);
    hub.startTimers();
    this.server = { store, committer, hub };
    this.net.hub = hub;
    this.log('server started');
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
    const changed = store.db
      .prepare(
        `SELECT t.id FROM tasks t LEFT JOIN tasks_base b ON b.id = t.id
         WHERE b.id IS NULL OR t.version <> b.version OR t.status <> b.status OR COALESCE(t.operator_id, '') <> COALESCE(b.operator_id, '')`,
      )
      .pluck()
      .all() as string[];
    for (const id of changed) {
      if (store.outboxForTask(id).length === 0) throw new Error(`OFF-2: after a crash, ${t.id} shows a change of ${id} with no outbox entry for it`);
    }
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

  /** Let promises, immediates and queued commits run until nothing moves. */
  async settle(): Promise<void> {
    for (let i = 0; i < 12; i++) await new Promise((r) => setImmediate(r));
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
  private async rawTerminalAction(): Promise<void> {
    const s = this.server;
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
      this.log(`raw ${operatorId} ${name} ${'taskId' in args ? args.taskId : ''} -> ${outcome.status === 'applied' ? 'ok' : outcome.status === 'rejected' ? outcome.error.code : 'retry'}`);
    } catch (err) {
      this.log(`raw ${name} -> failed: ${(err as Error).message}`);
    }
  }

  private rawMutationId = 0;
  private rawSignedIn: string | null = null;

  private async supervisorAction(): Promise<void> {
    const s = this.server;
    if (!s) return;
    const taskId = this.pick(this.taskIds());
    const userId = this.pick(OPERATORS).id;
    const mode = this.rng() < 0.5 ? 'assign' : 'reassign';
    const r = await s.committer.submit({ kind: 'operation', op: { name: mode, taskId, userId }, actorId: 'sup', via: 'http' });
    this.log(`supervisor ${mode} ${taskId} to ${userId} -> ${r.ok ? 'ok' : r.error!.code}`);
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
      for (let i = 0; i < n && this.net.deliverOne(); i++) await this.settle();
    } else if (r < 0.7) this.server?.hub.pushDirty();
    else if (r < 0.8) this.time.advance(Math.floor(this.rng() * 4000));
    else if (r < 0.83) this.time.advance(Math.floor(this.rng() * 20 * MINUTE_MS));
    else if (r < 0.835) this.time.advance(9 * 60 * MINUTE_MS);
    else if (r < 0.86) {
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
      if (this.server) await this.crashServer();
      else await this.startServer();
    } else if (r < 0.915) await this.supervisorAction();
    else if (r < 0.93) await this.rawTerminalAction();
    else if (r < 0.95 && this.server) {
      const expired = await this.server.committer.submit({ kind: 'expire' });
      if (expired.length) this.log(`expired ${expired.join(',')}`);
    } else if (r < 0.96 && live.length) {
      // A terminal hears that the network is back.
      this.pick(live).core!.kick();
    } else if (r < 0.965 && this.server && this.options.serverCrashes) {
      this.serverCrashAfter = 1 + Math.floor(this.rng() * 30);
      this.log(`the server will crash at write ${this.serverCrashAfter}`);
    } else if (r < 0.98 && live.length && this.options.terminalCrashes) {
      // Its process will die between two of its next write statements.
      // Anywhere, or in the middle of applying a change page (its base rows), of a tap (its outbox
      // entry), of taking an outcome (the entry's removal).
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
    await this.startServer();
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
    if (!this.server) await this.startServer();
    for (const t of this.terminals) {
      this.net.heal(t.id);
      if (!t.core) this.startTerminal(t);
    }
    for (let round = 0; round < 400; round++) {
      for (let i = 0; i < 500 && this.net.deliverOne(); i++) await this.settle();
      this.server!.hub.pushDirty();
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
    const s = this.server!;
    const now = this.time.now();
    for (const t of this.terminals) {
      const core = t.core!;
      const sync = core.syncStatus();
      if (sync.status !== 'online') return `${t.id} is ${sync.status}`;
      if (sync.pending > 0) return `${t.id} has ${sync.pending} pending`;
      const serverTasks = (await s.store.listTasks({}, { limit: 1000, offset: 0 })).items.filter((x) => x.departmentId && t.departments.includes(x.departmentId));
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
        const serverSync = (await s.store.getTask(st.id, now))!;
        if (JSON.stringify(local.workedBy) !== JSON.stringify(serverSync.workedBy)) return `${t.id} workedBy of ${st.id} differs`;
        for (const field of ['assignment', 'lastRejection'] as const) {
          if (JSON.stringify(local[field]) !== JSON.stringify(serverSync[field])) return `${t.id} ${field} of ${st.id} differs`;
        }
      }
      // CAP-3: the terminal counts each operator of its directory's active tasks as the server does
      // (its departments' from its cache, the others' from the directory).
      const count = s.store.db.prepare(`SELECT COUNT(*) FROM tasks WHERE operator_id = ? AND status IN ('pending', 'in_progress')`).pluck();
      for (const userId of core.store.db.prepare('SELECT id FROM directory ORDER BY id').pluck().all() as string[]) {
        const local = activeCountEverywhere(core.store, userId, t.departments);
        const server = count.get(userId) as number;
        if (local !== server) return `CAP-3: ${t.id} counts ${local} active tasks for ${userId}, the server ${server}`;
      }
    }
    return null;
  }

  async check(): Promise<void> {
    const s = this.server!;
    const db = s.store.db;
    // OWN-1: never two holders; the task row agrees with its active assignment.
    const doubles = db.prepare(`SELECT task_id FROM assignments WHERE status IN ('assigned','accepted','in_progress') GROUP BY task_id HAVING COUNT(*) > 1`).all();
    if (doubles.length) throw new Error(`OWN-1 broken: ${JSON.stringify(doubles)}`);
    const mismatched = db
      .prepare(
        `SELECT t.id FROM tasks t LEFT JOIN assignments a ON a.task_id = t.id AND a.status IN ('assigned','accepted','in_progress')
         WHERE t.status IN ('pending','in_progress') AND COALESCE(t.operator_id, '') <> COALESCE(a.user_id, '')`,
      )
      .all();
    if (mismatched.length) throw new Error(`task rows disagree with assignments: ${JSON.stringify(mismatched)}`);
    // CLM-4: nobody above their limit.
    const config = await s.store.getConfig();
    for (const o of OPERATORS) {
      const user = (await s.store.getUser(o.id))!;
      const limit = Math.max(...user.departmentIds.map((d) => resolveTaskLimit(config, { id: d, name: d, taskLimit: null }, user)));
      const held = (await s.store.listTasks({ operatorId: o.id }, { limit: 100, offset: 0 })).items.filter((t) => t.status === 'pending' || t.status === 'in_progress').length;
      if (held > limit) throw new Error(`CLM-4 broken: ${o.id} holds ${held} > ${limit}`);
    }
    for (const t of this.terminals) {
      const store = t.core!.store;
      // Every outbox entry got exactly one outcome; the outbox is empty.
      const made = store.meta<number>('nextMutationId', 1) - 1;
      if (store.outboxSize() !== 0) throw new Error(`${t.id} outbox not empty`);
      if (store.outcomeCount() !== made) throw new Error(`${t.id} made ${made} mutations but holds ${store.outcomeCount()} outcomes`);
      // Nothing acknowledged lost or applied twice: one audit row per processed mutation, agreeing with the outcome.
      const audit = db
        .prepare(`SELECT json_extract(details, '$.mutationId') AS id, outcome, action FROM audit_events WHERE terminal_id = ? ORDER BY id`)
        .all(t.id) as Array<{ id: number; outcome: string; action: string }>;
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
    this.checkRules();
  }

  /**
   * The rule oracle (test/sim/oracle.ts): every decision the server committed, replayed in commit
   * order against an independent model of the rules, must agree; and the model's tasks after the
   * run must be the server's.
   */
  checkRules(): RuleOracle {
    const db = this.server!.store.db;
    const oracle = new RuleOracle(
      SIM_RULES,
      [
        ...OPERATORS.map((o) => ({ id: o.id, departments: o.departments, limit: o.limit, roles: ['operator'], active: true })),
        { id: 'sup', departments: ['d1', 'd2'], limit: null, roles: ['supervisor', 'admin'], active: true },
      ],
      simTaskRows().map((r) => ({ id: r.taskId, workOrder: r.workOrderNumber, step: r.step, department: r.departmentId, status: r.status, holder: null, version: 1 })),
      new Map([...this.terminals.map((t) => [t.id, t.departments] as const), [RAW_TERMINAL.id, RAW_TERMINAL.departments] as const]),
    );
    oracle.replay(db.prepare('SELECT id, at, action, outcome, actor_id, terminal_id, via, task_id, details FROM audit_events ORDER BY id').all() as AuditRow[]);
    for (const row of db.prepare('SELECT id, status, operator_id, version FROM tasks').all() as Array<{ id: string; status: string; operator_id: string | null; version: number }>) {
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

  stats(): SeedStats {
    let mutations = 0;
    let rejectedClaims = 0;
    for (const t of this.terminals) {
      if (!t.core) continue;
      mutations += t.core.store.outcomeCount();
      rejectedClaims += t.core.store.allConflicts().length;
    }
    return { mutations, rejectedClaims, decisions: this.oracleChecked, crashes: this.crashes, serverCrashes: this.serverCrashes };
  }

  async dispose(): Promise<void> {
    for (const t of this.terminals) this.stopTerminal(t);
    if (this.server) {
      await this.server.hub.close();
      await this.server.committer.close();
      await this.server.store.close();
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
  /** Times the server died mid-group. */
  serverCrashes: number;
}

export async function runSeed(seed: number, options: WorldOptions): Promise<SeedStats> {
  const world = new World(seed, options);
  try {
    await world.run();
    await world.check();
    return world.stats();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`sync simulation failed for seed ${seed}: ${message}\n--- last events ---\n${world.trace.slice(-60).join('\n')}`, { cause: err });
  } finally {
    await world.dispose();
  }
}
