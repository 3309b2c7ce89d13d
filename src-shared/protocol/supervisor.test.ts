/**
 * SUP-1: the supervisor subscription's task table. The fast column check gives exactly the answers
 * of the zod reference schema (built from the terminal protocol's task fields) on valid tables and
 * on every kind of broken one, and a table decodes back to the tasks it was made from.
 */
import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { checkTaskColumns, fromTaskColumns, TASK_FIELDS, taskColumnsReferenceSchema, toTaskColumns, type BoardTask } from './supervisor.js';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,10}$/);
const epoch = fc.integer({ min: 0, max: 2_000_000_000_000 });
const task: fc.Arbitrary<BoardTask> = fc.record({
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
});

/** Values that break one field's rule (or are just odd). */
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
  fc.constant(2_000_000),
  fc.constant('done'),
  fc.constant([1]),
  fc.constant(Array.from({ length: 51 }, () => 'a')),
  fc.constant({}),
  // Astral characters: zod counts code points, not UTF-16 units (33 emoji fit a limit of 64).
  fc.constant('\u{1F600}'.repeat(33)),
  fc.constant('\u{1F600}'.repeat(65)),
  fc.constant('\u{20000}'.repeat(101)),
  fc.constant('\u{20000}'.repeat(201)),
  fc.constant(['\u{1F600}'.repeat(40)]),
  fc.string({ maxLength: 3 }),
  fc.integer(),
);

describe('SUP-1 the task table of supervisor pages', () => {
  it('round-trips: a table decodes to the tasks it was made from', () => {
    fc.assert(
      fc.property(fc.array(task, { maxLength: 20 }), (tasks) => {
        const cols = toTaskColumns(tasks);
        expect(checkTaskColumns(cols)).toBeNull();
        expect(fromTaskColumns(cols)).toEqual(tasks);
      }),
    );
  });

  it('the fast check answers exactly as the zod reference, for broken tables too', () => {
    fc.assert(
      fc.property(
        fc.array(task, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...TASK_FIELDS),
        fc.nat(),
        oddValue,
        fc.constantFrom('value', 'length', 'missing', 'extra', 'none'),
        (tasks, field, index, value, breakage) => {
          const cols = toTaskColumns(tasks) as unknown as Record<string, unknown[]>;
          if (breakage === 'value') cols[field]![index % tasks.length] = value;
          if (breakage === 'length') cols[field]!.push(cols[field]![0]);
          if (breakage === 'missing') delete cols[field];
          if (breakage === 'extra') cols.colour = [];
          expect(checkTaskColumns(cols) === null).toBe(taskColumnsReferenceSchema.safeParse(cols).success);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
