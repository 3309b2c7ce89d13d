/**
 * Claim tap to durable local commit (issue 4): a terminal core, offline, claims tasks from its
 * cache; each claim runs the shared rules, writes the optimistic effect and the outbox entry in one
 * fsync'd transaction, and returns. p50/p99, next to a bare fsync'd single-row SQLite write
 * measured in the same run on the same disk. Target: p99 under 3 ms.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../src-shared/clock.js';
import { badgeHash } from '../src-shared/crypto/hash.js';
import { DEFAULT_SITE_CONFIG } from '../src-shared/domain/config.js';
import type { SyncTask } from '../src-shared/protocol/terminal.js';
import { applyChanges } from '../src-main/core/reconcile.js';
import { TerminalStore } from '../src-main/core/store.js';
import { realScheduler } from '../src-main/core/sync-client.js';
import { TerminalCore } from '../src-main/core/terminal.js';
import { rawFsyncRate, report, round, summarize, tempDir } from './lib.js';

const TASKS = 5000;
const CLAIMS = Number(process.env.BENCH_TAPS ?? 2000);

export async function run(): Promise<void> {
  const dir = tempDir('tap');
  try {
    const raw = rawFsyncRate(dir, 1000);
    const store = new TerminalStore(path.join(dir, 'terminal.db'));
    const now = systemClock.now();
    const salt = 'bench-salt';
    store.setMeta('terminal', { id: 'k1', name: 'Kiosk 1', departments: ['cut'] });
    store.setMeta('siteSalt', salt);
    store.setMeta('config', { ...DEFAULT_SITE_CONFIG, defaultTaskLimit: 1_000_000 });
    const tasks: SyncTask[] = Array.from({ length: TASKS }, (_, i) => ({
      id: `t${i}`,
      workOrderId: `WO-${Math.floor(i / 5)}`,
      workOrderNumber: `WO-${Math.floor(i / 5)}`,
      step: 'cut',
      workContent: `Cut part ${i}`,
      departmentId: 'cut',
      status: 'pending',
      operatorId: null,
      operatorName: null,
      priority: i % 5,
      dueAt: null,
      requiredSkills: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
      cooldowns: [],
      workedBy: [],
      assignment: null,
      lastRejection: null,
    }));
    applyChanges(
      store,
      {
        type: 'changes',
        mode: 'snapshot',
        reset: true,
        cursor: 1,
        more: false,
        tasks,
        users: [{ id: 'ann', displayName: 'Ann', badgeHash: badgeHash(salt, 'B-ANN'), pinHash: null, roles: ['operator'], departmentIds: ['cut'], active: true, taskLimit: null, skills: [], activeTasks: {} }],
        departments: [{ id: 'cut', name: 'Cutting', taskLimit: null }],
        config: null,
        notifications: [],
      },
      ['cut'],
      now,
      DEFAULT_SITE_CONFIG,
    );
    const core = new TerminalCore({
      store,
      settings: { idleTimeoutSeconds: 0, locale: 'en' },
      clock: systemClock,
      scheduler: realScheduler,
      random: Math.random,
      dialer: () => () => Promise.reject(new Error('offline')),
      appVersion: 'bench',
    });
    await core.signIn({ badge: 'B-ANN' });
    const samples: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      const t = performance.now();
      await core.claim({ taskId: `t${i}` });
      samples.push(performance.now() - t);
    }
    const pending = core.syncStatus().pending;
    core.close();
    const tap = summarize(samples);
    report({
      bench: 'terminal-tap: claim tap to durable local commit',
      figures: {
        claims: CLAIMS,
        queuedInOutbox: pending,
        tapP50Ms: tap.p50,
        tapP99Ms: tap.p99,
        tapMaxMs: tap.max,
        bareFsyncWriteP50Ms: raw.p50Ms,
        bareFsyncWriteP99Ms: raw.p99Ms,
        p99RatioToBareWrite: round(tap.p99 / raw.p99Ms, 2),
      },
      targets: { 'tap p99': { target: '< 3 ms', met: tap.p99 < 3 } },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
