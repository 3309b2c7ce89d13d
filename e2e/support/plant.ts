/**
 * The plant the browser tests run against, written straight into a fresh server database before
 * the server process starts: departments Cutting and Quality, operators with badges (one with a
 * PIN), a supervisor of each department and an administrator (passwords), two kiosks of Cutting
 * with known tokens, and a page and a half of claimable tasks.
 */
import path from 'node:path';
import { badgeHash, tokenHash } from '../../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../../src-server/store/sqlite/store.js';
import { newUser, seedHash, taskRow } from '../../test/support/plant.js';

export const PLANT = {
  terminals: {
    k1: { id: 'k1', name: 'Cutting bay 1', token: 'e2e-token-kiosk-one' },
    k2: { id: 'k2', name: 'Cutting bay 2', token: 'e2e-token-kiosk-two' },
    /** Quality's kiosk: an operator of both departments works at k1 and here (CAP-3). */
    k3: { id: 'k3', name: 'Quality lab', token: 'e2e-token-kiosk-three', departments: ['qa'] },
  },
  operators: {
    ann: { id: 'ann', name: 'Ann Lee', badge: 'B1001' },
    bob: { id: 'bob', name: 'Bob Chen', badge: 'B1002', pin: '4321' },
    fang: { id: 'fang', name: '王芳', badge: 'B1003' },
    /** Quality only: not eligible for Cutting's tasks. */
    jonas: { id: 'jonas', name: 'Jonas Rossi', badge: 'B1004' },
    /** Cutting and Quality, with a limit of 3 active tasks across both (CAP-3). */
    mia: { id: 'mia', name: 'Mia Wong', badge: 'B1005', taskLimit: 3 },
  },
  /** The supervisors' overview: a supervisor of each department and an administrator. */
  supervisors: {
    sue: { id: 'sue', name: 'Sue Park', password: 'sue-supervises-cutting', badge: 'S2001', pin: '2468', departments: ['cut'] },
    quinn: { id: 'quinn', name: 'Quinn Moss', password: 'quinn-supervises-qa', badge: 'S2002', pin: '1357', departments: ['qa'] },
  },
  admin: { id: 'ada', name: 'Ada Admin', password: 'ada-administers-all' },
} as const;

export type KioskId = keyof typeof PLANT.terminals;

/** Claimable for Cutting, in LIST-1 order (priority, then due time, then age). */
export const CUTTING_TASKS = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'] as const;
/** Claimable for Quality, in LIST-1 order. */
export const QUALITY_TASKS = ['q1', 'q2', 'q3'] as const;
/** KIO-3: the plant's task barcodes are work-order numbers (WO-…) and task ids (t1, q2, …). */
export const TASK_CODE_PATTERN = '^(WO-|[tq][0-9])';

export async function seedPlant(dataDir: string, now = Date.now()): Promise<void> {
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'));
  try {
    const salt = await store.siteSalt();
    await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
    await store.upsertDepartment({ id: 'qa', name: 'Quality', taskLimit: null }, now);
    const { ann, bob, fang } = PLANT.operators;
    await store.createUser(newUser(ann.id, { displayName: ann.name, badgeHash: badgeHash(salt, ann.badge) }), now);
    await store.createUser(newUser(bob.id, { displayName: bob.name, badgeHash: badgeHash(salt, bob.badge), pinHash: seedHash(bob.pin) }), now);
    await store.createUser(newUser(fang.id, { displayName: fang.name, badgeHash: badgeHash(salt, fang.badge) }), now);
    const { jonas, mia } = PLANT.operators;
    await store.createUser(newUser(jonas.id, { displayName: jonas.name, departmentIds: ['qa'], badgeHash: badgeHash(salt, jonas.badge) }), now);
    await store.createUser(
      newUser(mia.id, { displayName: mia.name, departmentIds: ['cut', 'qa'], badgeHash: badgeHash(salt, mia.badge), taskLimit: mia.taskLimit }),
      now,
    );
    await store.setConfig({ ...(await store.getConfig()), taskCodePattern: TASK_CODE_PATTERN }, now);
    for (const s of Object.values(PLANT.supervisors)) {
      await store.createUser(
        newUser(s.id, {
          displayName: s.name,
          roles: ['supervisor'],
          departmentIds: [...s.departments],
          badgeHash: badgeHash(salt, s.badge),
          pinHash: seedHash(s.pin),
          passwordHash: seedHash(s.password),
        }),
        now,
      );
    }
    const { admin } = PLANT;
    await store.createUser(newUser(admin.id, { displayName: admin.name, roles: ['admin'], departmentIds: [], passwordHash: seedHash(admin.password) }), now);
    for (const t of Object.values(PLANT.terminals)) {
      const departments = 'departments' in t ? [...t.departments] : ['cut'];
      await store.createTerminal({ id: t.id, name: t.name, departments, tokenHash: tokenHash(t.token) }, now);
    }
    const rows = [
      taskRow('t1', { workOrderNumber: 'WO-2026-0101', workContent: 'Cut 40 steel brackets to 120 mm', priority: 3 }),
      taskRow('t2', { workOrderNumber: 'WO-2026-0101', workContent: 'Deburr bracket edges', priority: 2, dueAt: now + 2 * 3600_000 }),
      taskRow('t3', { workOrderNumber: 'WO-2026-0102', workContent: 'Cut aluminium profile, 12 pieces', priority: 1, dueAt: now + 3600_000 }),
      taskRow('t4', { workOrderNumber: 'WO-2026-0102', workContent: 'Saw stock bars to length', priority: 1 }),
      taskRow('t5', { workOrderNumber: 'WO-2026-0103', workContent: 'Plasma-cut base plates', dueAt: now + 5 * 3600_000 }),
      taskRow('t6', { workOrderNumber: 'WO-2026-0103', workContent: 'Shear 2 mm sheet blanks' }),
      taskRow('t7', { workOrderNumber: 'WO-2026-0104', workContent: 'Cut gaskets from rubber roll' }),
      taskRow('t8', { workOrderNumber: 'WO-2026-0104', workContent: 'Trim cable trays' }),
      taskRow('d1', { workOrderNumber: 'WO-2026-0105', workContent: 'Draft: not approved yet', status: 'draft' }),
      taskRow('q1', { workOrderNumber: 'WO-2026-0101', departmentId: 'qa', step: 'inspect', workContent: 'Inspect brackets' }),
      taskRow('q2', { workOrderNumber: 'WO-2026-0102', departmentId: 'qa', step: 'inspect', workContent: 'Inspect aluminium profiles' }),
      taskRow('q3', { workOrderNumber: 'WO-2026-0103', departmentId: 'qa', step: 'inspect', workContent: 'Measure base plates' }),
    ];
    // Ages differ by a second so LIST-1's tie-break (oldest first) follows the list above.
    for (const [i, row] of rows.entries()) {
      const result = await store.importTasks([row], now - (rows.length - i) * 1000);
      if (!result.ok) throw new Error(`seeding ${row.taskId} failed: ${JSON.stringify(result.errors)}`);
    }
  } finally {
    await store.close();
  }
}
