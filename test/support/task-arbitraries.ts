/**
 * Tasks as the protocols carry them, for property tests of the fast task checks against zod
 * (src-shared/protocol/supervisor.test.ts, terminal.test.ts): valid tasks, and values that break
 * a field's rule or sit right at its limits.
 */
import type { BoardTask } from '../../src-shared/protocol/supervisor.js';
import type { SyncTask } from '../../src-shared/protocol/terminal.js';
import fc from './fast-check.js';

export const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,10}$/);
export const epoch = fc.integer({ min: 0, max: 2_000_000_000_000 });

const taskFields = {
  id,
  workOrderId: id,
  workOrderNumber: fc.string({ maxLength: 20 }),
  step: fc.string({ maxLength: 10 }),
  workContent: fc.string({ maxLength: 40 }),
  departmentId: fc.option(id, { nil: null }),
  status: fc.constantFrom('draft' as const, 'pending' as const, 'in_progress' as const, 'completed' as const, 'cancelled' as const),
  operatorId: fc.option(id, { nil: null }),
  operatorName: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  priority: fc.integer({ min: -5, max: 5 }),
  dueAt: fc.option(epoch, { nil: null }),
  requiredSkills: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  version: fc.nat(),
  createdAt: epoch,
  updatedAt: epoch,
};

/** A task's row, as on the supervisors' board. */
export const boardTask: fc.Arbitrary<BoardTask> = fc.record(taskFields);

/** A task as terminals get it: the row and what goes with it. */
export const syncTask: fc.Arbitrary<SyncTask> = fc.record({
  ...taskFields,
  cooldowns: fc.array(fc.record({ userId: id, until: epoch }), { maxLength: 2 }),
  workedBy: fc.array(id, { maxLength: 3 }),
  assignment: fc.option(
    fc.record({
      status: fc.constantFrom('assigned' as const, 'accepted' as const, 'in_progress' as const),
      assignedBy: id,
      assignedByName: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
      at: epoch,
    }),
    { nil: null },
  ),
  lastRejection: fc.option(fc.record({ userId: id, userName: fc.string({ maxLength: 20 }), reason: fc.string({ maxLength: 40 }), at: epoch }), { nil: null }),
});

/** Values that break a field's rule (or are just odd), nested ones and text at its limits included. */
export const oddValue = fc.oneof(
  fc.constant(''),
  fc.constant('has space'),
  fc.constant('x'.repeat(65)),
  fc.constant('y'.repeat(2001)),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(1.5),
  fc.constant(-1),
  fc.constant(9e15),
  fc.constant(2 ** 53 + 2),
  fc.constant(2_000_000),
  fc.constant('done'),
  fc.constant('assigned'),
  fc.constant([1]),
  fc.constant(Array.from({ length: 51 }, () => 'a')),
  fc.constant({}),
  fc.constant([{ userId: 'ann', until: 5 }]),
  fc.constant([{ userId: 'ann', until: 5, extra: 1 }]),
  fc.constant([{ userId: 'a b', until: 5 }]),
  fc.constant({ status: 'assigned', assignedBy: 'sue', assignedByName: null, at: 1 }),
  fc.constant({ status: 'done', assignedBy: 'sue', assignedByName: null, at: 1 }),
  fc.constant({ status: 'assigned', assignedBy: 'sue', at: 1 }),
  fc.constant({ userId: 'ann', userName: 'Ann', reason: 'r', at: 1 }),
  fc.constant({ userId: 'ann', userName: 'Ann', reason: 'r'.repeat(2000), at: 1 }),
  // Astral characters: zod counts code points, not UTF-16 units (33 emoji fit a limit of 64).
  fc.constant('\u{1F600}'.repeat(33)),
  fc.constant('\u{1F600}'.repeat(65)),
  fc.constant('\u{20000}'.repeat(101)),
  fc.constant('\u{20000}'.repeat(201)),
  fc.constant('x'.repeat(63) + '\u{1F600}'),
  fc.constant('\uD800'.repeat(65)),
  fc.constant('\u{1F600}'.repeat(1001)),
  fc.constant(['\u{1F600}'.repeat(40)]),
  fc.string({ maxLength: 3 }),
  fc.integer(),
);
