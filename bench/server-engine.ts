/**
 * Claim engine in-process (issue 3): durable claims per second through the group committer, next
 * to the raw rate of fsync'd single-row SQLite write transactions measured in the same run with the
 * same file settings (WAL, synchronous=FULL), before and after; the ratio uses the faster of the
 * two. Target: at least 5x the raw rate (issue 12; issue 3 asked 4x).
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../src-shared/clock.js';
import { GroupCommitter } from '../src-server/engine/committer.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow } from '../src-server/store/types.js';
import { rawFsyncRate, report, round, tempDir } from './lib.js';

const CLAIMS = Number(process.env.BENCH_CLAIMS ?? 60_000);
/** As in a plant: each operator holds a handful of tasks (under the default limit of 10). */
const PER_OPERATOR = 8;
const OPERATORS = Math.ceil((CLAIMS + 1000) / PER_OPERATOR);
const SEQUENTIAL = 1000;

export async function run(): Promise<void> {
  const dir = tempDir('engine');
  try {
    const store = new SqliteServerStore(path.join(dir, 'claims.db'));
    const now = systemClock.now();
    await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
    for (let i = 0; i < OPERATORS; i++) {
      await store.createUser(
        { id: `op${i}`, displayName: `Operator ${i}`, roles: ['operator'], departmentIds: ['cut'], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 },
        now,
      );
    }
    const total = CLAIMS + SEQUENTIAL;
    for (let start = 0; start < total; start += 10_000) {
      const rows: ImportTaskRow[] = [];
      for (let i = start; i < Math.min(total, start + 10_000); i++) {
        rows.push({ taskId: `t${i}`, workOrderNumber: `WO-${Math.floor(i / 5)}`, workOrderTitle: '', step: 'cut', workContent: `Cut part ${i}`, departmentId: 'cut', status: 'pending', priority: i % 5, dueAt: null, requiredSkills: [] });
      }
      const r = await store.importTasks(rows, now);
      if (!r.ok) throw new Error('seed import failed');
    }

    const raw = rawFsyncRate(dir, 1000);
    const committer = new GroupCommitter(store, systemClock);
    const claim = (i: number) => committer.submit({ kind: 'operation', op: { name: 'claim', taskId: `t${i}` }, actorId: `op${i % OPERATORS}`, via: 'http' });

    // One claim at a time: every claim pays its own fsync (what group commit avoids).
    let start = performance.now();
    for (let i = CLAIMS; i < CLAIMS + SEQUENTIAL; i++) await claim(i);
    const sequentialPerSec = Math.round((SEQUENTIAL / (performance.now() - start)) * 1000);

    // Everything at once: claims that arrive together commit together.
    const before = { ...committer.stats };
    start = performance.now();
    const results = await Promise.all(Array.from({ length: CLAIMS }, (_, i) => claim(i)));
    const elapsed = performance.now() - start;
    const applied = results.filter((r) => r.ok).length;
    const groups = committer.stats.groups - before.groups;
    const durablePerSec = Math.round((CLAIMS / elapsed) * 1000);
    await committer.close();
    await store.close();
    // The disk's fsync rate drifts: measure it again after, and compare with the faster of the two.
    const rawAfter = rawFsyncRate(dir, 1000);
    const rawBest = Math.max(raw.txPerSec, rawAfter.txPerSec);

    const ratio = round(durablePerSec / rawBest, 2);
    report({
      bench: 'server-engine: durable claims in-process',
      figures: {
        rawFsyncTxPerSecBefore: raw.txPerSec,
        rawFsyncTxPerSecAfter: rawAfter.txPerSec,
        rawFsyncP50Ms: raw.p50Ms,
        sequentialClaimsPerSec: sequentialPerSec,
        groupCommitClaimsPerSec: durablePerSec,
        ratioToRawFsync: ratio,
        claims: CLAIMS,
        applied,
        commitGroups: groups,
        meanGroupSize: Math.round(CLAIMS / Math.max(1, groups)),
        microsecondsPerClaim: round((elapsed * 1000) / CLAIMS, 1),
      },
      targets: { 'group commit vs raw fsync': { target: '>= 5x', met: ratio >= 5 } },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
