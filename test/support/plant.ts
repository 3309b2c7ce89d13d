/** A small plant for tests: two departments, a few operators, a supervisor, a terminal, tasks. */
import { badgeHash, hashSecret, tokenHash } from '../../src-shared/crypto/hash.js';
import type { ImportTaskRow, NewUser, ServerStore } from '../../src-server/store/types.js';

export const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);

export function newUser(id: string, over: Partial<NewUser> = {}): NewUser {
  return {
    id,
    displayName: `Name ${id}`,
    roles: ['operator'],
    departmentIds: ['cut'],
    badgeHash: null,
    pinHash: null,
    passwordHash: null,
    active: true,
    taskLimit: null,
    skills: [],
    qualityScore: 0.8,
    ...over,
  };
}

export function taskRow(taskId: string, over: Partial<ImportTaskRow> = {}): ImportTaskRow {
  return {
    taskId,
    workOrderNumber: 'WO-1',
    workOrderTitle: 'Brackets',
    step: 'cut',
    workContent: `Cut part ${taskId}`,
    departmentId: 'cut',
    status: 'pending',
    priority: 0,
    dueAt: null,
    requiredSkills: [],
    ...over,
  };
}

/**
 * A secret's scrypt hash, computed once per test process: hashing is slow on purpose (about 0.1 s
 * in pure JS), and every test that boots a server seeds the same PIN and password, so hashing them
 * afresh each time spent a third of a server test file's time.
 */
const hashes = new Map<string, string>();
export function seedHash(secret: string): string {
  let h = hashes.get(secret);
  if (!h) hashes.set(secret, (h = hashSecret(secret)));
  return h;
}

export const TERMINAL_TOKEN = 'term_test_token_1';
export const TERMINAL2_TOKEN = 'term_test_token_2';

/** Seed: departments cut/qa, operators ann/bob (cut), qin (qa), sue (supervisor of cut), terminals. */
export async function seedPlant(store: ServerStore, now = T0): Promise<{ salt: string }> {
  const salt = await store.siteSalt();
  await store.upsertDepartment({ id: 'cut', name: 'Cutting', taskLimit: null }, now);
  await store.upsertDepartment({ id: 'qa', name: 'Quality', taskLimit: null }, now);
  await store.createUser(newUser('ann', { badgeHash: badgeHash(salt, 'B-ANN') }), now);
  await store.createUser(newUser('bob', { badgeHash: badgeHash(salt, 'B-BOB'), pinHash: seedHash('4321') }), now);
  await store.createUser(newUser('qin', { departmentIds: ['qa'], badgeHash: badgeHash(salt, 'B-QIN') }), now);
  await store.createUser(
    newUser('sue', { roles: ['supervisor'], departmentIds: ['cut'], badgeHash: badgeHash(salt, 'B-SUE'), passwordHash: seedHash('supervisor-pass') }),
    now,
  );
  await store.createTerminal({ id: 'k1', name: 'Kiosk 1', departments: ['cut'], tokenHash: tokenHash(TERMINAL_TOKEN) }, now);
  await store.createTerminal({ id: 'k2', name: 'Kiosk 2', departments: ['cut'], tokenHash: tokenHash(TERMINAL2_TOKEN) }, now);
  const result = await store.importTasks(
    [
      taskRow('t1', { priority: 1 }),
      taskRow('t2'),
      taskRow('t3', { dueAt: now + 3600_000 }),
      taskRow('make1', { workOrderNumber: 'WO-2', step: 'make' }),
      taskRow('insp1', { workOrderNumber: 'WO-2', step: 'inspect' }),
      taskRow('q1', { departmentId: 'qa', step: 'inspect' }),
      taskRow('draft1', { status: 'draft' }),
    ],
    now,
  );
  if (!result.ok) throw new Error(`seed import failed: ${JSON.stringify(result.errors)}`);
  return { salt };
}
