/**
 * The demo plant behind `seed-demo` (DEMO-1, DEMO-2): five departments, dozens of operators with
 * badges, supervisors with passwords, an admin with an API token, enrolled kiosks, and a few
 * thousand tasks over hundreds of work orders at every stage of production.
 *
 * Everything that describes the plant (names, badges, PINs, work orders, tasks, who did what and
 * when) is a function of (seed, now, sizes): a seeded PRNG, never Math.random, and times relative
 * to the injected `now`. Secrets that grant access (supervisor and admin passwords, terminal and
 * API tokens) are random on every run, so a demo server reachable on the network does not share
 * its passwords with every other demo server.
 *
 * Work that "already happened" (claims, starts, completions, supervisor assigns, releases,
 * rejections) goes through the real claim engine (`userOperation` inside `store.runGroup`), so
 * assignments, notifications, cooldowns, audit events and the change log are exactly what the
 * server itself would have written. Only the store interface is used: any backend can be seeded.
 */
import { badgeHash, hashSecret, newToken, randomHex, tokenHash } from '../src-shared/crypto/hash.js';
import { MINUTE_MS, type SiteConfig } from '../src-shared/domain/config.js';
import { TASK_STATUSES, type Department, type TaskStatus } from '../src-shared/domain/types.js';
import { userOperation, type TaskOperation } from './engine/mutations.js';
import { hashPinAsync } from './secrets.js';
import type { ImportTaskRow, NewUser, ServerStore } from './store/types.js';

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface DemoSizes {
  /** Operators (besides supervisors and the admin). At least 10. */
  operators: number;
  /** Work orders; each has about 7.5 tasks. */
  workOrders: number;
  /** Enrolled kiosks, 1 to 4. */
  terminals: number;
}

export const DEFAULT_DEMO_SIZES: DemoSizes = { operators: 60, workOrders: 400, terminals: 3 };
export const DEFAULT_DEMO_SEED = 20260105;

export interface SeedDemoOptions {
  /** The plant is built as it stands at this moment (epoch ms, server clock). */
  now: number;
  seed?: number;
  sizes?: Partial<DemoSizes>;
}

export interface DemoOperator {
  id: string;
  displayName: string;
  departmentIds: string[];
  badge: string;
  pin: string | null;
  skills: string[];
  taskLimit: number | null;
}

export interface DemoSupervisor {
  id: string;
  displayName: string;
  departmentIds: string[];
  badge: string;
  password: string;
}

export interface DemoAdmin {
  id: string;
  displayName: string;
  password: string;
  apiToken: string;
}

export interface DemoTerminal {
  id: string;
  name: string;
  departments: string[];
  token: string;
}

export interface DemoCounts {
  departments: number;
  operators: number;
  supervisors: number;
  admins: number;
  workOrders: number;
  tasks: number;
  tasksByStatus: Record<TaskStatus, number>;
  /** Tasks somebody holds (pending or in progress). */
  heldTasks: number;
  /** Work orders with both steps of an exclusion pair (make/inspect by default). */
  exclusionPairWorkOrders: number;
  /** Operations run through the claim engine (claim, start, complete, assign, release, reject). */
  engineOperations: number;
  terminals: number;
}

export interface DemoPlant {
  seed: number;
  now: number;
  sizes: DemoSizes;
  departments: Department[];
  operators: DemoOperator[];
  supervisors: DemoSupervisor[];
  admin: DemoAdmin;
  terminals: DemoTerminal[];
  counts: DemoCounts;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast, and the same sequence on every platform for a given seed. */
export class DemoRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The plant's fixed shape

interface StepSpec {
  step: string;
  departmentId: string;
  /** How many tasks of this step a work order has: [min, max]. */
  count: [number, number];
  /** Probability that a work order has this step at all. */
  presence: number;
  content: (product: Product, n: number, rng: DemoRng) => string;
}

interface Product {
  code: string;
  name: string;
  material: string;
}

export const DEMO_DEPARTMENTS: readonly Department[] = [
  { id: 'cutting', name: 'Cutting', taskLimit: null },
  { id: 'welding', name: 'Welding', taskLimit: null },
  { id: 'assembly', name: 'Assembly', taskLimit: null },
  { id: 'painting', name: 'Painting', taskLimit: 6 },
  { id: 'quality', name: 'Quality', taskLimit: null },
];

const DEPARTMENT_SKILLS: Record<string, readonly string[]> = {
  cutting: ['laser', 'saw', 'press-brake'],
  welding: ['tig', 'mig'],
  assembly: ['torque', 'hydraulics'],
  painting: ['spray', 'powder'],
  quality: ['cmm', 'ndt'],
};

/** Departments an operator of the first may also be trained for. Assembly/quality makes XSTEP-1 bite. */
const CROSS_TRAINING: Record<string, string> = {
  cutting: 'welding',
  welding: 'cutting',
  assembly: 'quality',
  painting: 'assembly',
  quality: 'assembly',
};

const PRODUCTS: readonly Product[] = [
  { code: 'HB-220', name: 'Hydraulic bracket', material: 'S355 plate 10 mm' },
  { code: 'FR-410', name: 'Machine frame', material: 'RHS 80x40x4' },
  { code: 'GB-115', name: 'Gearbox housing', material: 'S235 plate 8 mm' },
  { code: 'CV-300', name: 'Conveyor side rail', material: 'DX51 sheet 3 mm' },
  { code: 'PL-050', name: 'Pump base plate', material: 'S355 plate 20 mm' },
  { code: 'GD-770', name: 'Safety guard', material: 'perforated sheet 2 mm' },
  { code: 'AX-140', name: 'Axle carrier', material: 'S460 plate 15 mm' },
  { code: 'TK-900', name: 'Hydraulic tank', material: 'stainless 1.4301 3 mm' },
  { code: 'CB-260', name: 'Control cabinet', material: 'DC01 sheet 1.5 mm' },
  { code: 'LF-330', name: 'Lifting frame', material: 'HEA 140 beam' },
  { code: 'ST-080', name: 'Stair stringer', material: 'flat bar 200x10' },
  { code: 'MT-510', name: 'Motor mount', material: 'S355 plate 12 mm' },
];

const STEPS: readonly StepSpec[] = [
  {
    step: 'cut',
    departmentId: 'cutting',
    count: [1, 4],
    presence: 1,
    content: (p, n, rng) => `Cut ${rng.int(2, 40)} blanks of ${p.material} for ${p.code}-${String(n).padStart(2, '0')} to drawing rev ${rng.pick(['A', 'B', 'C'])}`,
  },
  {
    step: 'weld',
    departmentId: 'welding',
    count: [1, 2],
    presence: 0.8,
    content: (p, n, rng) => `Weld ${p.name.toLowerCase()} sub-assembly ${n}: ${rng.int(2, 12)} seams, a${rng.int(3, 8)} fillet`,
  },
  {
    step: 'make',
    departmentId: 'assembly',
    count: [1, 3],
    presence: 1,
    content: (p, n, rng) => `Assemble ${p.name.toLowerCase()} ${p.code} (unit ${n}), torque M${rng.pick([8, 10, 12, 16])} bolts to spec`,
  },
  {
    step: 'paint',
    departmentId: 'painting',
    count: [1, 1],
    presence: 0.5,
    content: (p, _n, rng) => `Paint ${p.code} RAL ${rng.pick(['7035', '5010', '3000', '9005', '1023'])}, ${rng.pick([60, 80, 120])} µm dry film`,
  },
  {
    step: 'inspect',
    departmentId: 'quality',
    count: [1, 2],
    presence: 1,
    content: (p, n, rng) =>
      `Inspect ${p.code} ${rng.pick(['dimensions per drawing', 'weld seams (visual + MT)', 'first article', 'paint thickness and adhesion'])}, lot ${n}`,
  },
];

const GIVEN = ['Anna', 'Ben', 'Carla', 'David', 'Elena', 'Felix', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Karin', 'Lukas', 'Maria', 'Nils', 'Olga', 'Pavel', 'Rosa', 'Sven', 'Tomasz', 'Ula', 'Victor', 'Wanda', 'Yusuf', 'Zoe'];
const FAMILY = ['Schmidt', 'Novak', 'Kowalski', 'Garcia', 'Silva', 'Johnson', 'Rossi', 'Nguyen', 'Okafor', 'Berg', 'Horvat', 'Lindqvist', 'Murphy', 'Yilmaz', 'Costa', 'Weber'];
const CN_FAMILY = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙'];
const CN_GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰', '涛', '明', '超', '秀英', '建华', '志强', '海燕', '晓东'];

const REJECT_REASONS = [
  'Material missing at the workstation',
  'Drawing revision does not match the parts',
  'Fixture damaged, maintenance called',
  'Previous step incomplete: burrs on all edges',
];

const DEMO_TERMINALS: ReadonlyArray<Omit<DemoTerminal, 'token'>> = [
  { id: 'kiosk-cutting-1', name: 'Cutting bay kiosk', departments: ['cutting'] },
  { id: 'kiosk-weld-assembly-1', name: 'Welding and assembly line kiosk', departments: ['welding', 'assembly'] },
  { id: 'kiosk-quality-1', name: 'Paint shop and quality lab kiosk', departments: ['painting', 'quality'] },
  { id: 'kiosk-cutting-2', name: 'Cutting bay kiosk 2', departments: ['cutting'] },
];

// ---------------------------------------------------------------------------------------------
// Generation

function uniqueName(rng: DemoRng, taken: Set<string>): string {
  for (;;) {
    const name = rng.chance(0.35)
      ? `${rng.pick(CN_FAMILY)}${rng.pick(CN_GIVEN)}`
      : `${rng.pick(GIVEN)} ${rng.pick(FAMILY)}`;
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

function uniqueBadge(rng: DemoRng, taken: Set<string>): string {
  for (;;) {
    const badge = String(rng.int(100000, 999999));
    if (!taken.has(badge)) {
      taken.add(badge);
      return badge;
    }
  }
}

/** A human-friendly random secret (crypto randomness, not the seeded PRNG). */
function newPassword(): string {
  const hex = randomHex(6);
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8)}`;
}

interface PlannedTask {
  row: ImportTaskRow;
  /** Index of the step in the work order's process (0 = first). */
  stage: number;
}

interface PlannedWorkOrder {
  number: string;
  createdAt: number;
  /** 'draft' | 'cancelled' | a production stage: stages before it are done, it is in work. */
  state: 'draft' | 'cancelled' | 'production';
  /** For production: index into `stages` of the current stage; stages.length = finished. */
  currentStage: number;
  stages: PlannedTask[][];
}

/** Mirrors what the engine will decide, so every operation the generator plans succeeds. */
class Tracker {
  private readonly active = new Map<string, number>();
  /** work order -> user -> step -> tasks of that step worked (XSTEP-1). */
  private readonly worked = new Map<string, Map<string, Map<string, number>>>();

  constructor(
    private readonly config: SiteConfig,
    private readonly limits: Map<string, number>,
  ) {}

  /** `headroom`: leave this many free slots, so demo operators can still claim something. */
  canTake(userId: string, workOrder: string, step: string, headroom: number): boolean {
    const limit = this.limits.get(userId) ?? this.config.defaultTaskLimit;
    if ((this.active.get(userId) ?? 0) >= Math.max(1, limit - headroom)) return false;
    const steps = this.worked.get(workOrder)?.get(userId);
    if (!steps) return true;
    const has = (s: string) => (steps.get(s) ?? 0) > 0;
    return !this.config.exclusionPairs.some(([a, b]) => (step === a && has(b)) || (step === b && has(a)));
  }

  private steps(workOrder: string, userId: string): Map<string, number> {
    let users = this.worked.get(workOrder);
    if (!users) this.worked.set(workOrder, (users = new Map()));
    let steps = users.get(userId);
    if (!steps) users.set(userId, (steps = new Map()));
    return steps;
  }

  hold(userId: string, workOrder: string, step: string): void {
    this.active.set(userId, (this.active.get(userId) ?? 0) + 1);
    const steps = this.steps(workOrder, userId);
    steps.set(step, (steps.get(step) ?? 0) + 1);
  }

  /** Complete: the task stops counting against capacity but stays "worked". */
  finish(userId: string): void {
    this.active.set(userId, (this.active.get(userId) ?? 1) - 1);
  }

  /** Release/reject before starting: frees capacity and does not count as worked. */
  drop(userId: string, workOrder: string, step: string): void {
    this.finish(userId);
    const steps = this.steps(workOrder, userId);
    steps.set(step, (steps.get(step) ?? 1) - 1);
  }
}

interface Op {
  op: TaskOperation;
  actorId: string;
  at: number;
}

/**
 * Build the demo plant in an empty store. Throws if an operation the generator planned is refused
 * by the engine (that would be a bug in the generator, not in the plant).
 */
export async function seedDemo(store: ServerStore, options: SeedDemoOptions): Promise<DemoPlant> {
  const now = options.now;
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const sizes: DemoSizes = { ...DEFAULT_DEMO_SIZES, ...options.sizes };
  if (!Number.isInteger(sizes.operators) || sizes.operators < 10) throw new RangeError('the demo needs at least 10 operators');
  if (!Number.isInteger(sizes.workOrders) || sizes.workOrders < 1) throw new RangeError('the demo needs at least 1 work order');
  if (!Number.isInteger(sizes.terminals) || sizes.terminals < 1 || sizes.terminals > DEMO_TERMINALS.length) {
    throw new RangeError(`the demo has 1 to ${DEMO_TERMINALS.length} terminals`);
  }
  const rng = new DemoRng(seed);
  const config = await store.getConfig();
  const pinDigits = config.pinMinLength;
  const salt = await store.siteSalt();

  // Departments --------------------------------------------------------------------------------
  for (const d of DEMO_DEPARTMENTS) await store.upsertDepartment(d, now - 30 * DAY_MS);

  // People --------------------------------------------------------------------------------------
  const names = new Set<string>();
  const badges = new Set<string>();
  const operators: DemoOperator[] = [];
  const deptIds = DEMO_DEPARTMENTS.map((d) => d.id);
  for (let i = 0; i < sizes.operators; i++) {
    const home = deptIds[i % deptIds.length]!;
    // Every fourth operator of assembly and quality is trained for the other one too (XSTEP-1).
    const crossTrained = (home === 'assembly' || home === 'quality') && Math.floor(i / deptIds.length) % 4 === 1;
    const departmentIds = crossTrained || rng.chance(0.1) ? [home, CROSS_TRAINING[home]!] : [home];
    const skills = new Set<string>();
    for (const d of departmentIds) {
      const pool = DEPARTMENT_SKILLS[d]!;
      skills.add(pool[Math.floor(i / deptIds.length) % pool.length]!);
      if (rng.chance(0.4)) skills.add(rng.pick(pool));
    }
    operators.push({
      id: `op${String(i + 1).padStart(3, '0')}`,
      displayName: uniqueName(rng, names),
      departmentIds,
      badge: uniqueBadge(rng, badges),
      // SEC-32: as long as the site's pinMinLength asks (4 digits by default).
      pin: i % 6 === 0 ? String(rng.int(10 ** (pinDigits - 1), 10 ** pinDigits - 1)) : null,
      skills: [...skills].sort(),
      // A few apprentices with a low limit, a few veterans with a higher one (CAP-1).
      taskLimit: i % 15 === 7 ? 3 : i % 20 === 11 ? 12 : null,
    });
  }
  const supervisors: DemoSupervisor[] = DEMO_DEPARTMENTS.map((d) => ({
    id: `sup-${d.id}`,
    displayName: uniqueName(rng, names),
    departmentIds: [d.id],
    badge: uniqueBadge(rng, badges),
    password: newPassword(),
  }));
  const admin: DemoAdmin = { id: 'admin', displayName: 'Plant administrator', password: newPassword(), apiToken: newToken('api') };

  const base: Pick<NewUser, 'active' | 'taskLimit' | 'skills' | 'qualityScore' | 'pinHash' | 'passwordHash'> = {
    active: true,
    taskLimit: null,
    skills: [],
    qualityScore: 0.8,
    pinHash: null,
    passwordHash: null,
  };
  // PIN hashes on the thread pool, several at once (SEC-31 parameters cost more than a password's).
  const pinHashes = new Map(await Promise.all(operators.filter((o) => o.pin).map(async (o) => [o.id, await hashPinAsync(o.pin!)] as const)));
  for (const o of operators) {
    const user: NewUser = {
      ...base,
      id: o.id,
      displayName: o.displayName,
      roles: ['operator'],
      departmentIds: o.departmentIds,
      badgeHash: badgeHash(salt, o.badge),
      pinHash: pinHashes.get(o.id) ?? null,
      taskLimit: o.taskLimit,
      skills: o.skills,
      qualityScore: Math.round((0.6 + rng.next() * 0.38) * 100) / 100,
    };
    await store.createUser(user, now - 30 * DAY_MS);
  }
  for (const s of supervisors) {
    await store.createUser(
      {
        ...base,
        id: s.id,
        displayName: s.displayName,
        roles: ['supervisor'],
        departmentIds: s.departmentIds,
        badgeHash: badgeHash(salt, s.badge),
        passwordHash: hashSecret(s.password),
      },
      now - 30 * DAY_MS,
    );
  }
  await store.createUser(
    { ...base, id: admin.id, displayName: admin.displayName, roles: ['admin'], departmentIds: [], badgeHash: null, passwordHash: hashSecret(admin.password) },
    now - 30 * DAY_MS,
  );
  await store.createApiToken(
    { id: 'demo-admin', userId: admin.id, name: 'Demo admin API token', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(admin.apiToken) },
    now,
  );

  // Terminals -----------------------------------------------------------------------------------
  const terminals: DemoTerminal[] = DEMO_TERMINALS.slice(0, sizes.terminals).map((t) => ({ ...t, departments: [...t.departments], token: newToken('term') }));
  for (const t of terminals) {
    await store.createTerminal({ id: t.id, name: t.name, departments: t.departments, tokenHash: tokenHash(t.token) }, now - 7 * DAY_MS);
  }

  // Work orders and tasks -----------------------------------------------------------------------
  const year = new Date(now).getUTCFullYear();
  const horizon = 4 * DAY_MS;
  const workOrders: PlannedWorkOrder[] = [];
  for (let i = 0; i < sizes.workOrders; i++) {
    // Older work orders first; the newest ones arrived in the last hour or two.
    const age = Math.max(20 * MINUTE_MS, Math.round(horizon * (1 - i / sizes.workOrders) + (rng.next() - 0.5) * 3 * HOUR_MS));
    const createdAt = now - age;
    const number = `WO-${year}-${String(i + 1).padStart(4, '0')}`;
    const product = rng.pick(PRODUCTS);
    const title = `${product.name} ${product.code} × ${rng.pick([1, 2, 4, 5, 10, 20, 50])}`;
    const priority = rng.chance(0.08) ? 3 : rng.chance(0.15) ? 2 : rng.chance(0.3) ? 1 : 0;
    const due = now + Math.round((rng.next() * 9 - 1) * DAY_MS); // some overdue, most within the week
    const draft = i >= sizes.workOrders * 0.85 && (rng.chance(0.4) || i === sizes.workOrders - 1); // new ones await approval
    const cancelled = !draft && rng.chance(0.03);
    const present = STEPS.filter((s) => s.presence >= 1 || rng.chance(s.presence));
    const stages: PlannedTask[][] = present.map((spec, stage) => {
      const n = rng.int(spec.count[0], spec.count[1]);
      const tasks: PlannedTask[] = [];
      for (let k = 1; k <= n; k++) {
        const required = rng.chance(0.15) ? [rng.pick(DEPARTMENT_SKILLS[spec.departmentId]!)] : [];
        tasks.push({
          stage,
          row: {
            taskId: `${number}-${spec.step}-${k}`,
            workOrderNumber: number,
            workOrderTitle: title,
            step: spec.step,
            workContent: spec.content(product, k, rng),
            departmentId: spec.departmentId,
            status: draft ? 'draft' : cancelled ? 'cancelled' : 'pending',
            priority,
            // Earlier steps are due earlier; rounded to the quarter hour like a planner would.
            dueAt: Math.round((due - (present.length - 1 - stage) * 6 * HOUR_MS) / (15 * MINUTE_MS)) * 15 * MINUTE_MS,
            requiredSkills: required,
          },
        });
      }
      return tasks;
    });
    // Progress grows with age: the oldest orders are finished, the newest untouched.
    const progress = Math.min(1, Math.max(0, age / horizon + (rng.next() - 0.5) * 0.3));
    const currentStage = age < 2 * HOUR_MS ? 0 : Math.min(stages.length, Math.floor(progress ** 1.3 * (stages.length + 0.6)));
    workOrders.push({ number, createdAt, state: draft ? 'draft' : cancelled ? 'cancelled' : 'production', currentStage, stages });
  }
  // A few single tasks cancelled in running orders (e.g. the customer waived the paint).
  for (const wo of workOrders) {
    if (wo.state !== 'production') continue;
    for (const stage of wo.stages.slice(wo.currentStage + 1)) {
      for (const t of stage) if (rng.chance(0.02)) t.row.status = 'cancelled';
    }
  }

  // Import in creation-time buckets (4 hours), so task ages differ as they would in real life.
  const buckets = new Map<number, ImportTaskRow[]>();
  for (const wo of workOrders) {
    const bucket = Math.floor(wo.createdAt / (4 * HOUR_MS)) * 4 * HOUR_MS;
    const at = Math.max(bucket, wo.createdAt - 4 * HOUR_MS);
    const rows = buckets.get(at) ?? [];
    for (const stage of wo.stages) for (const t of stage) rows.push(t.row);
    buckets.set(at, rows);
  }
  for (const [at, rows] of [...buckets].sort((a, b) => a[0] - b[0])) {
    const result = await store.importTasks(rows, Math.min(at, now));
    if (!result.ok) throw new Error(`demo import failed: ${JSON.stringify(result.errors.slice(0, 3))}`);
  }

  // History through the claim engine ------------------------------------------------------------
  const limits = new Map<string, number>();
  const deptLimit = new Map(DEMO_DEPARTMENTS.map((d) => [d.id, d.taskLimit]));
  for (const o of operators) {
    // CAP-1 resolves against the task's department; the lowest possible limit is the safe bound.
    const deptMin = Math.min(...o.departmentIds.map((d) => deptLimit.get(d) ?? config.defaultTaskLimit));
    limits.set(o.id, o.taskLimit ?? deptMin);
  }
  const tracker = new Tracker(config, limits);
  const byDept = new Map<string, DemoOperator[]>();
  for (const d of deptIds) byDept.set(d, operators.filter((o) => o.departmentIds.includes(d)));
  const ops: Op[] = [];

  const choose = (task: ImportTaskRow, headroom = 3): DemoOperator | null => {
    const pool = byDept.get(task.departmentId!)!;
    const skilled = pool.filter((o) => task.requiredSkills.every((s) => o.skills.includes(s)));
    for (const o of rng.shuffle(skilled.length ? skilled : pool)) {
      if (tracker.canTake(o.id, task.workOrderNumber, task.step, headroom)) return o;
    }
    return null;
  };
  const between = (from: number, to: number) => Math.round(from + rng.next() * Math.max(0, to - from));

  const complete = (t: ImportTaskRow, windowStart: number, windowEnd: number): void => {
    const o = choose(t, 0);
    if (!o) return;
    const claimAt = between(windowStart, windowStart + (windowEnd - windowStart) * 0.4);
    const startAt = Math.min(windowEnd - 2 * MINUTE_MS, claimAt + between(2, 20) * MINUTE_MS);
    const doneAt = between(startAt + MINUTE_MS, windowEnd);
    ops.push({ op: { name: 'claim', taskId: t.taskId }, actorId: o.id, at: claimAt });
    ops.push({ op: { name: 'start', taskId: t.taskId }, actorId: o.id, at: startAt });
    ops.push({ op: { name: 'complete', taskId: t.taskId }, actorId: o.id, at: doneAt });
    tracker.hold(o.id, t.workOrderNumber, t.step);
    tracker.finish(o.id);
  };

  for (const wo of workOrders) {
    if (wo.state !== 'production' || wo.createdAt > now - 2 * HOUR_MS) continue;
    const end = now - 15 * MINUTE_MS;
    const slots = Math.min(wo.currentStage + 1, wo.stages.length);
    const span = (end - wo.createdAt) / slots;
    wo.stages.forEach((stage, index) => {
      if (index > wo.currentStage) return;
      const ws = wo.createdAt + span * index;
      const we = ws + span;
      for (const { row: t } of stage) {
        if (t.status !== 'pending') continue;
        if (index < wo.currentStage) {
          complete(t, ws, we);
          continue;
        }
        // The stage in work: a realistic mix of states.
        const roll = rng.next();
        if (roll < 0.3) complete(t, ws, we);
        else if (roll < 0.55) {
          const o = choose(t);
          if (!o) continue;
          const claimAt = Math.max(ws, now - between(60, 300) * MINUTE_MS);
          ops.push({ op: { name: 'claim', taskId: t.taskId }, actorId: o.id, at: claimAt });
          ops.push({ op: { name: 'start', taskId: t.taskId }, actorId: o.id, at: between(claimAt + MINUTE_MS, Math.min(now, claimAt + 40 * MINUTE_MS)) });
          tracker.hold(o.id, t.workOrderNumber, t.step);
        } else if (roll < 0.67) {
          // Claimed but not yet started: recent, so it does not expire at once (EXP-1).
          const o = choose(t);
          if (!o) continue;
          ops.push({ op: { name: 'claim', taskId: t.taskId }, actorId: o.id, at: Math.max(ws, now - between(3, 80) * MINUTE_MS) });
          tracker.hold(o.id, t.workOrderNumber, t.step);
        } else if (roll < 0.72) {
          // Given out by the department's supervisor.
          const o = choose(t);
          if (!o) continue;
          ops.push({ op: { name: 'assign', taskId: t.taskId, userId: o.id }, actorId: `sup-${t.departmentId}`, at: Math.max(ws, now - between(3, 60) * MINUTE_MS) });
          tracker.hold(o.id, t.workOrderNumber, t.step);
        } else if (roll < 0.75) {
          // Released a few minutes ago: back in the pool, with a cooldown for that operator (COOL-1).
          const o = choose(t);
          if (!o) continue;
          const releaseAt = now - between(1, Math.max(1, config.cooldownMinutes - 2)) * MINUTE_MS;
          ops.push({ op: { name: 'claim', taskId: t.taskId }, actorId: o.id, at: Math.max(ws, releaseAt - 30 * MINUTE_MS) });
          ops.push({ op: { name: 'release', taskId: t.taskId }, actorId: o.id, at: releaseAt });
          tracker.hold(o.id, t.workOrderNumber, t.step);
          tracker.drop(o.id, t.workOrderNumber, t.step);
        } else if (roll < 0.77) {
          // Rejected with a reason earlier in the shift (REJ-1).
          const o = choose(t);
          if (!o) continue;
          const claimAt = Math.max(ws, now - between(90, 180) * MINUTE_MS);
          ops.push({ op: { name: 'claim', taskId: t.taskId }, actorId: o.id, at: claimAt });
          ops.push({ op: { name: 'reject', taskId: t.taskId, reason: rng.pick(REJECT_REASONS) }, actorId: o.id, at: claimAt + between(5, 30) * MINUTE_MS });
          tracker.hold(o.id, t.workOrderNumber, t.step);
          tracker.drop(o.id, t.workOrderNumber, t.step);
        }
        // else: still in the pool.
      }
    });
  }

  // One group: one transaction, a savepoint per operation, every operation through the engine.
  const group = await store.runGroup(ops.map((o) => () => userOperation(o.op, o.actorId, o.at, 'cli')));
  const refused: string[] = [];
  group.results.forEach((r, i) => {
    const op = ops[i]!;
    if (!r.ok) refused.push(`${op.op.name} ${op.op.taskId}: ${String(r.error)}`);
    else if (!r.value.ok) refused.push(`${op.op.name} ${op.op.taskId} by ${op.actorId}: ${r.value.error?.code ?? 'refused'}`);
  });
  if (refused.length) throw new Error(`the demo generator planned ${refused.length} operations the engine refused, e.g. ${refused.slice(0, 3).join('; ')}`);

  // Counts --------------------------------------------------------------------------------------
  const stats = await store.stats();
  const tasksByStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, stats.tasksByStatus[s] ?? 0])) as Record<TaskStatus, number>;
  const exclusionPairWorkOrders = workOrders.filter((wo) => {
    const steps = new Set(wo.stages.flat().map((t) => t.row.step));
    return config.exclusionPairs.some(([a, b]) => steps.has(a) && steps.has(b));
  }).length;
  return {
    seed,
    now,
    sizes,
    departments: DEMO_DEPARTMENTS.map((d) => ({ ...d })),
    operators,
    supervisors,
    admin,
    terminals,
    counts: {
      departments: DEMO_DEPARTMENTS.length,
      operators: operators.length,
      supervisors: supervisors.length,
      admins: 1,
      workOrders: workOrders.length,
      tasks: Object.values(tasksByStatus).reduce((a, b) => a + b, 0),
      tasksByStatus,
      heldTasks: stats.heldTasks,
      exclusionPairWorkOrders,
      engineOperations: ops.length,
      terminals: terminals.length,
    },
  };
}
