/**
 * PostgreSQL (issue 9): how long one claim's transaction takes when the database is a round trip
 * away, as it is from a server instance on another machine. A plant's rate is a few claims a
 * second, so each claim is a group of its own: the time is round trips, not CPU. A throwaway
 * cluster (test/support/pg-cluster.ts) behind pg-relay.ts, which holds each of the database's
 * replies BENCH_PG_RTT_MS (2) ms; the store (PgServerStore, the engine's `claim`) runs in this
 * process, one claim after the other, BENCH_PG_CLAIMS (40) per round.
 *
 * BENCH_PG_SERVER_ROOT=<checkout> (built with `npx tsc -p tsconfig.node.json`) runs the same claims
 * through that checkout's store too, the two taking turns round by round (BENCH_PG_ROUNDS, 3),
 * each on a database of its own with the same seed.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { userOperation } from '../src-server/engine/mutations.js';
import { PgServerStore } from '../src-server/store/pg/store.js';
import { pgUnavailable, startCluster, type PgCluster } from '../test/support/pg-cluster.js';
import { percentile, report, round } from './lib.js';
import { startRelay } from './pg-load.js';

const RTT_MS = Number(process.env.BENCH_PG_RTT_MS ?? 2);
const CLAIMS = Number(process.env.BENCH_PG_CLAIMS ?? 40);
const ROUNDS = Number(process.env.BENCH_PG_ROUNDS ?? 3);
const SERVER_ROOT = process.env.BENCH_PG_SERVER_ROOT ?? null;

interface Side {
  label: string;
  Store: typeof PgServerStore;
  claim: typeof userOperation;
  url: string;
  ms: number[];
}

async function seed(cluster: PgCluster, side: Side, name: string): Promise<void> {
  const direct = await side.Store.open(await cluster.createDatabase(name));
  try {
    const now = Date.now();
    await direct.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
    for (let i = 0; i < CLAIMS * ROUNDS; i++) {
      await direct.createUser(
        { id: `op${i}`, displayName: `Operator ${i}`, roles: ['operator'], departmentIds: ['cut'], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 },
        now,
      );
    }
    const rows = Array.from({ length: CLAIMS * ROUNDS }, (_, i) => ({
      taskId: `t${i}`,
      workOrderNumber: `WO-${i}`,
      workOrderTitle: '',
      step: 'cut',
      workContent: `Cut part ${i}`,
      departmentId: 'cut',
      status: 'pending' as const,
      priority: 0,
      dueAt: null,
      requiredSkills: [],
    }));
    if (!(await direct.importTasks(rows, now)).ok) throw new Error('seed import failed');
  } finally {
    await direct.close();
  }
}

async function claims(side: Side, roundNo: number): Promise<void> {
  const store = await side.Store.open(side.url);
  try {
    for (let k = 0; k < CLAIMS; k++) {
      const i = roundNo * CLAIMS + k;
      const started = performance.now();
      // With the hints the committer gives a claim (engine/units.ts): its task and its operator.
      const g = await store.runGroup([() => side.claim({ name: 'claim', taskId: `t${i}` }, `op${i}`, Date.now())], [{ taskId: `t${i}`, userId: `op${i}` }]);
      const r = g.results[0]!;
      if (!r.ok || !(r.value as { ok: boolean }).ok) throw new Error(`claim of t${i} failed`);
      side.ms.push(performance.now() - started);
    }
  } finally {
    await store.close();
  }
}

export async function run(): Promise<void> {
  if (pgUnavailable) {
    console.log(`pg-commit: skipped (${pgUnavailable})`);
    return;
  }
  const cluster = await startCluster();
  const relays: Array<{ stop: () => void }> = [];
  try {
    const sides: Side[] = [{ label: 'now', Store: PgServerStore, claim: userOperation, url: '', ms: [] }];
    if (SERVER_ROOT) {
      const core = path.join(SERVER_ROOT, 'out/node/src-server');
      const { PgServerStore: Store } = (await import(pathToFileURL(path.join(core, 'store/pg/store.js')).href)) as { PgServerStore: typeof PgServerStore };
      const { userOperation: claim } = (await import(pathToFileURL(path.join(core, 'engine/mutations.js')).href)) as { userOperation: typeof userOperation };
      sides.unshift({ label: 'baseline', Store, claim, url: '', ms: [] });
    }
    for (const side of sides) {
      const name = `pgcommit_${side.label}`;
      await seed(cluster, side, name);
      const relay = await startRelay(cluster.url(name), RTT_MS);
      relays.push(relay);
      side.url = relay.url;
    }
    for (let r = 0; r < ROUNDS; r++) for (const side of sides) await claims(side, r);
    const stats = (ms: number[]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return { p50Ms: round(percentile(sorted, 50), 1), minMs: round(sorted[0]!, 1), p90Ms: round(percentile(sorted, 90), 1) };
    };
    const now = stats(sides[sides.length - 1]!.ms);
    const figures: Record<string, unknown> = { databaseReplyDelayMs: RTT_MS, claims: CLAIMS * ROUNDS, claimGroup: now };
    if (SERVER_ROOT) {
      const before = stats(sides[0]!.ms);
      figures.baselineServerCode = SERVER_ROOT;
      figures.baselineClaimGroup = before;
      figures.p50RatioToBaseline = round(now.p50Ms / before.p50Ms, 2);
    }
    report({ bench: `pg-commit: one claim's transaction, the database ${RTT_MS} ms away (a plant's rate: each claim its own group)`, figures });
  } finally {
    for (const r of relays) r.stop();
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
