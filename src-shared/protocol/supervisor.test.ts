/**
 * SUP-1: the supervisor subscription's task table. The fast column check gives exactly the answers
 * of the zod reference schema (built from the terminal protocol's task fields) on valid tables and
 * on every kind of broken one, and a table decodes back to the tasks it was made from.
 */
import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { boardTask as task, oddValue } from '../../test/support/task-arbitraries.js';
import { checkTaskColumns, fromTaskColumns, TASK_FIELDS, taskColumnsReferenceSchema, toTaskColumns } from './supervisor.js';

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
