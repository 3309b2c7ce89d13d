/**
 * SYNC-3 (issue 12): the fast check of a change page's tasks gives exactly the answers of the zod
 * reference (syncTaskSchema), for valid tasks and every kind of broken one, and names the field.
 */
import fc from '../../test/support/fast-check.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { oddValue, syncTask as task } from '../../test/support/task-arbitraries.js';
import { syncTaskSchema, syncTasksProblem, syncTasksSchema, type SyncTask } from './terminal.js';

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
          if (breakage === 'extra inherited name') Object.assign(list[at]!, JSON.parse('{"constructor": "red"}'));
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
