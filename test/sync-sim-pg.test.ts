/**
 * The sync simulation on PostgreSQL (issue 9): the world of test/sync-sim.test.ts (real engine,
 * three terminal cores and a raw terminal over the simulated network, virtual time, the rule
 * oracle), with the authority run as TWO server instances, A and B, each its own PgServerStore,
 * GroupCommitter and SyncHub, on one database of a throwaway cluster (per seed a new copy of a
 * template database that holds the schema and the plant; dropped after the seed).
 *
 * - Each terminal's link goes to one instance; every reconnect goes to either live instance
 *   (seeded; more often than not the other one), so terminals move between instances with work in
 *   their outboxes, and outcomes of mutations sent to one are asked for on the other (INST-1).
 *   Supervisors' assignments and the raw terminal's mutations go to a random live instance.
 * - Each hub pushes what the other instance committed only when its push timer reads the change
 *   log's head (`tick`): the world fires the timers itself, of one instance or of both, and after
 *   virtual time passes (INST-2).
 * - Sometimes several frames are delivered without waiting for the instances in between (a
 *   burst), so both instances commit at once and a mutation re-sent to one can meet itself still
 *   committing on the other (INST-1).
 * - Supervisors on the two instances sometimes decide at the same moment: about one task, or
 *   giving one operator two tasks (limit, cross-step exclusion), or beside the raw terminal.
 * - Expiry runs on the instance that holds the timer lease, and exactly one live instance holds it
 *   (INST-4); with heartbeats the lease holder also sweeps stale presence, and at the end every
 *   terminal, online with some instance, must be marked connected (INST-3). Without heartbeats
 *   that last check is left out: a hello that reaches the old instance late, after the terminal's
 *   handshake on the other, is the latest connection, and its end marks the terminal disconnected
 *   until the heartbeat of the instance holding its link repairs it (as INST-3 says).
 * - Server crashes: an instance is killed abruptly (its links reset, it opens no more database
 *   connections, its sessions are terminated, which also frees the lease) and later restarted; in
 *   the crash seeds an instance is also killed while one of its groups is in flight (the open
 *   transaction rolls back, or its COMMIT got there and the answers are lost). There is no
 *   statement-level countdown as SQLite's seeds have (the PostgreSQL store has no fault hook).
 * - Determinism is weaker than SQLite's: settling waits for the stores' real I/O, so where
 *   several things run at once (bursts, both push timers, a kill mid-group, group sizes chosen
 *   from measured commit times) real timing decides their order, and a seed may not replay the
 *   same schedule (in practice most replay exactly). A run goes through all its seeds and then
 *   names every seed that failed, with the first failure's last events (the instance each link
 *   went to, races, bursts, kills, the instances' warnings and errors; SIM_TRACE_LINES=400 shows
 *   more, SIM_PG_LOG=info adds the instances' connection log). `SIM_PG_SEED=<seed>` runs that
 *   one seed alone (a crash seed is 100000 + n); run it several times if it does not fail at once.
 *
 * `SIM_PG_SEEDS=100 npx vitest run test/sync-sim-pg.test.ts` runs more seeds (default 8 besides the pinned ones, and a
 * quarter as many crash seeds, SIM_PG_CRASH_SEEDS; SIM_PG_FIRST_SEED moves the start). Skips only
 * where PostgreSQL is not installed.
 */
import { describe, expect, it } from 'vitest';
import { runSeed, type SeedStats, type WorldOptions } from './sim/world.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';

const FAULTS = { duplicate: 0.1, late: 0.5 };
const SEEDS = Number(process.env.SIM_PG_SEEDS ?? 8);
const CRASH_SEEDS = Number(process.env.SIM_PG_CRASH_SEEDS ?? Math.ceil(SEEDS / 4));
const FIRST = Number(process.env.SIM_PG_FIRST_SEED ?? 1);
/** One seed alone (known failing or not): SIM_PG_SEED=16, or a crash seed, SIM_PG_SEED=100004. */
const ONLY = process.env.SIM_PG_SEED ? Number(process.env.SIM_PG_SEED) : null;
/**
 * Seeds left out of every run, each with why (SIM_PG_SEED=<seed> runs one). Seeds 16, 23, 38, 62,
 * 76, 80, 81, 84, 100004 and 100051 once failed here: two instances giving one operator two
 * different tasks at the same moment both applied them, past the operator's limit or the cross-step
 * exclusion, because the operator's facts were read without a lock. The operator's row is now the
 * lock (INST-1); those seeds are in PINNED.
 */
const KNOWN_FAILING: ReadonlyMap<number, string> = new Map();
/** Seeds that once failed, run every time besides the range (see above). */
const PINNED = [16, 23, 38, 62, 76, 80, 81, 84, 100_004, 100_051];

const suite = pgUnavailable ? `sync simulation on two PostgreSQL instances (skipped: ${pgUnavailable})` : 'sync simulation on two PostgreSQL instances';

function seedsFrom(first: number, count: number): number[] {
  if (ONLY !== null) return (ONLY >= 100_000) === (first >= 100_000) ? [ONLY] : [];
  const seeds: number[] = [];
  for (let seed = first; seeds.length < count; seed++) if (!KNOWN_FAILING.has(seed)) seeds.push(seed);
  for (const seed of PINNED) if (first >= 100_000 === seed >= 100_000 && !seeds.includes(seed)) seeds.push(seed);
  return seeds;
}

const MAIN_SEEDS = seedsFrom(FIRST, SEEDS);
const CRASH_SEED_LIST = seedsFrom(100_000 + FIRST, CRASH_SEEDS);

describe.skipIf(pgUnavailable !== null)(suite, () => {
  const pg = useCluster('sim');

  /**
   * Run every seed, then fail naming each seed that failed (what broke, on one line each) with the
   * first failure's last events: real timing decides some of a schedule, so one run shows them all.
   */
  async function runAll(seeds: number[], options: Omit<WorldOptions, 'postgres'>): Promise<SeedStats[]> {
    const all: SeedStats[] = [];
    const failed: Array<{ seed: number; error: Error }> = [];
    for (const seed of seeds) {
      try {
        all.push(await runSeed(seed, { ...options, postgres: pg.cluster }));
      } catch (err) {
        failed.push({ seed, error: err as Error });
      }
    }
    if (failed.length) {
      const lines = failed.map(({ seed, error }) => `  seed ${seed}: ${error.message.split('\n')[0]!.replace(/^sync simulation failed for seed \d+: /, '')}`);
      throw new Error(`${failed.length} of ${seeds.length} seeds failed:\n${lines.join('\n')}\n\nThe first: ${failed[0]!.error.message}`);
    }
    return all;
  }

  function summary(all: SeedStats[]): string {
    const sum = (k: keyof Omit<SeedStats, 'decisions'>) => total(all, k);
    return (
      `${sum('mutations')} terminal mutations, ${sum('crossResends')} of them re-sent to the other instance, ${sum('switches')} reconnects to the other instance, ` +
      `${sum('bursts')} bursts, ${sum('concurrentGroups')} groups committed while the other instance committed one, ${sum('instanceKills')} instances killed, ` +
      `${sum('serverCrashes')} killed mid-group, ${sum('crashes')} terminal crashes`
    );
  }

  const total = (all: SeedStats[], k: keyof Omit<SeedStats, 'decisions'>) => all.reduce((n, s) => n + s[k], 0);

  it(`SIM-1 SIM-2 INST-1 INST-2 INST-3 INST-4 OWN-1 CLM-4 PROTO-5 CAP-3 ${MAIN_SEEDS.length} seeds on two instances, terminals switching instance at reconnects: one owner per task, limits kept, every outbox entry answered exactly once, nothing acknowledged lost or applied twice, terminals converge whichever instance committed, the rule oracle agrees`, async () => {
    if (MAIN_SEEDS.length === 0) return;
    const all = await runAll(MAIN_SEEDS, { steps: 200, faults: FAULTS });
    const decisions = new Map<string, number>();
    for (const s of all) for (const [k, n] of s.decisions) decisions.set(k, (decisions.get(k) ?? 0) + n);
    console.log(`${MAIN_SEEDS.length} seeds: ${summary(all)}`);
    console.log(`rule oracle: ${[...decisions].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
    // The runs must actually exercise what they claim to (a few seeds alone may not).
    if (MAIN_SEEDS.length >= 8) {
      expect(total(all, 'mutations')).toBeGreaterThan(MAIN_SEEDS.length * 5);
      expect(total(all, 'switches')).toBeGreaterThan(MAIN_SEEDS.length);
      expect(total(all, 'crossResends')).toBeGreaterThan(0);
      expect(total(all, 'concurrentGroups')).toBeGreaterThan(0);
      expect(total(all, 'instanceKills')).toBeGreaterThan(0);
      expect(decisions.get('claim:task_conflict') ?? 0).toBeGreaterThan(0);
    }
  }, 600_000);

  it(`SIM-2 INST-1 INST-3 INST-4 ${CRASH_SEED_LIST.length} seeds where instances die mid-group and terminals between any two write statements (frames of every type duplicated; heartbeats, handshake timeout and the stale-presence sweep on): acknowledged work survives, the rest is re-sent to either instance and applied once, every invariant and the rule oracle hold`, async () => {
    if (CRASH_SEED_LIST.length === 0) return;
    const all = await runAll(CRASH_SEED_LIST, { steps: 200, faults: { ...FAULTS, duplicateAll: true }, terminalCrashes: true, serverCrashes: true, heartbeats: true });
    console.log(`${CRASH_SEED_LIST.length} crash seeds: ${summary(all)}`);
    if (CRASH_SEED_LIST.length >= 4) {
      expect(total(all, 'crashes')).toBeGreaterThan(0);
      expect(total(all, 'serverCrashes')).toBeGreaterThan(0);
    }
  }, 600_000);
});
