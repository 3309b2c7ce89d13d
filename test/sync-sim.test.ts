/**
 * The sync simulation (issue 4): seeded, deterministic runs of the real server engine and three
 * terminal cores over a simulated network with delays, duplicates, resets, partitions, terminal
 * restarts and server crashes. `SIM_SEEDS=5000 npx vitest run test/sync-sim.test.ts` runs more (the
 * default, 120 seeds and 30 crash seeds, keeps CI's run short; every seed is deterministic, so a longer
 * run is how a change is given more of them).
 * A failing seed is printed with the last events; pin it in PINNED so it stays fixed.
 */
import { describe, expect, it } from 'vitest';
import { runSeed } from './sim/world.js';

const FAULTS = { duplicate: 0.1, late: 0.5 };
const SEEDS = Number(process.env.SIM_SEEDS ?? 120);
const CRASH_SEEDS = Number(process.env.SIM_CRASH_SEEDS ?? Math.ceil(SEEDS / 4));
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1);
/**
 * Seeds that once failed; each is a regression test. 4 and 9: a terminal stuck "syncing" when
 * nothing was left to send (the server now always ends with a page saying so); 12: a reset link
 * that delivered frames with a hole (the simulated network now keeps TCP's prefix rule); 136: rows
 * left over from an interrupted snapshot survived the next one (snapshot marks are now always new).
 */
const PINNED: number[] = [4, 9, 12, 136];

describe('sync simulation', () => {
  it.each(PINNED)('SIM-1 pinned seed %i keeps every invariant', async (seed) => {
    await runSeed(seed, { steps: 200, faults: FAULTS });
  });

  it(`SIM-1 OWN-1 CLM-4 PROTO-5 CAP-3 ${SEEDS} random seeds: one owner per task, limits kept, every outbox entry answered exactly once, terminals converge, rejected claims recorded, every terminal counts each operator's active tasks as the server does`, async () => {
    let mutations = 0;
    let rejected = 0;
    const decisions = new Map<string, number>();
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const s = await runSeed(seed, { steps: 200, faults: FAULTS });
      mutations += s.mutations;
      rejected += s.rejectedClaims;
      for (const [k, n] of s.decisions) decisions.set(k, (decisions.get(k) ?? 0) + n);
    }
    console.log(`rule oracle: ${[...decisions].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
    // The runs must actually exercise the paths they claim to.
    expect(mutations).toBeGreaterThan(SEEDS * 5);
    expect(rejected).toBeGreaterThan(0);
    // (A short run, SIM_SEEDS below 100, may not reach every one of them.)
    if (SEEDS >= 100) for (const kind of ['claim:cooldown_active', 'claim:cross_step_excluded', 'claim:capacity_reached', 'claim:claim_stale', 'claim:not_signed_in', 'claim:task_conflict', 'expire:applied']) {
      expect(decisions.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
  }, 300_000);

  it(`SIM-2 OFF-2 SYNC-1 ${CRASH_SEEDS} seeds where terminals and the server crash between any two write statements (the server mid-group, its queue not empty; frames of every type duplicated; the server's heartbeats and handshake timeout on; half with synchronous=FULL): effect and outbox entry stay atomic, the cursor never runs ahead of applied data, acknowledged work survives and the rest is re-sent and applied once, every invariant and the rule oracle hold`, async () => {
    let crashes = 0;
    let serverCrashes = 0;
    for (let seed = FIRST; seed < FIRST + CRASH_SEEDS; seed++) {
      // Every other seed with SQLite as in production (synchronous=FULL).
      const s = await runSeed(100_000 + seed, { steps: 200, faults: { ...FAULTS, duplicateAll: true }, terminalCrashes: true, serverCrashes: true, heartbeats: true, productionSync: seed % 2 === 0 });
      crashes += s.crashes;
      serverCrashes += s.serverCrashes;
    }
    console.log(`crash seeds: ${crashes} terminal crashes, ${serverCrashes} server crashes mid-group`);
    expect(crashes).toBeGreaterThan(CRASH_SEEDS / 2);
    expect(serverCrashes).toBeGreaterThan(CRASH_SEEDS / 4);
  }, 300_000);
});
