/**
 * SYNC-3 (issue 12): the fast check of a change page's tasks gives exactly the answers of the zod
 * reference (syncTaskSchema), for valid tasks and every kind of broken one, and names the field.
 */
import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { syncTaskSchema, syncTasksProblem, syncTasksSchema, type SyncTask } from './terminal.js';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,10}$/);
const epoch = fc.integer({ min: 0, max: 2_000_000_000_000 });
const task: fc.Arbitrary<SyncTask> = fc.record({
  id,
  workOrderId: id,
  workOrderNumber: fc.string({ maxLength: 20 }),
  step: fc.string({ maxLength: 10 }),
  workContent: fc.string({ maxLength: 40 }),
  departmentId: fc.option(id, { nil: null }),
  status: fc.constantFrom('draft', 'pending', 'in_progress', 'completed', 'cancelled'),
  operatorId: fc.option(id, { nil: null }),
  operatorName: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  priority: fc.integer({ min: -5, max: 5 }),
  dueAt: fc.option(epoch, { nil: null }),
  requiredSkills: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  version: fc.nat(),
  createdAt: epoch,
  updatedAt: epoch,
  cooldowns: fc.array(fc.record({ userId: id, until: epoch }), { maxLength: 2 }),
  workedBy: fc.array(id, { maxLength: 3 }),
  assignment: fc.option(
    fc.record({ status: fc.constantFrom('assigned', 'accepted', 'in_progress'), assignedBy: id, assignedByName: fc.option(fc.string({ maxLength: 20 }), { nil: null }), at: epoch }),
    { nil: null },
  ),
  lastRejection: fc.option(fc.record({ userId: id, userName: fc.string({ maxLength: 20 }), reason: fc.string({ maxLength: 40 }), at: epoch }), { nil: null }),
});

/** Values that break a field's rule (or are just odd), nested ones included. */
const oddValue = fc.oneof(
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

const reference = z.array(syncTaskSchema);
const FIELDS = Object.keys(syncTaskSchema.shape) as Array<keyof SyncTask>;

describe('SYNC-3 the tasks of a change page', () => {
  it('SYNC-3 the fast check answers exactly as the zod reference, for broken tasks too, and names the field', () => {
    fc.assert(
      fc.property(
        fc.array(task, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...FIELDS),
        fc.nat(),
        oddValue,
        fc.constantFrom('value', 'missing', 'extra', 'extra inherited name', 'not an object', 'none'),
        (tasks, field, index, value, breakage) => {
          // What the wire carries: JSON (no undefined, no prototypes).
          const list = JSON.parse(JSON.stringify(tasks)) as Array<Record<string, unknown>>;
          const at = index % list.length;
          if (breakage === 'value') list[at]![field] = value === undefined ? null : JSON.parse(JSON.stringify(value));
          if (breakage === 'missing') delete list[at]![field];
          if (breakage === 'extra') list[at]!.colour = 'red';
          if (breakage === 'extra inherited name') list[at]!.constructor = 'red';
          if (breakage === 'not an object') (list as unknown[])[at] = value ?? null;
          const problem = syncTasksProblem(list);
          const zod = reference.safeParse(list);
          expect(problem === null).toBe(zod.success);
          expect(syncTasksSchema.safeParse(list).success).toBe(zod.success);
          const named = { extra: 'colour', 'extra inherited name': 'constructor' }[breakage as string] ?? field;
          if (problem && breakage !== 'not an object') expect(problem.path).toEqual([at, named]);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('SYNC-3 what is not a list is refused; an empty list is fine', () => {
    expect(syncTasksProblem({})).toEqual({ path: [], message: 'must be a list of tasks' });
    expect(syncTasksProblem([])).toBeNull();
  });
});
