/**
 * SEC-9, IMP-4 (issue 12): a large CSV is parsed on a thread of its own, with the same result as on
 * the event loop: rows, their line numbers and errors. Several uploads at once each get their own
 * rows back (at most MAX_PARSE_THREADS parse at a time, the others wait). The thread runs the
 * compiled parser (out/node, built by the tests' global setup).
 */
import { describe, expect, it } from 'vitest';
import { parseImportCsv } from './import.js';
import { parseImportCsvOnThread } from './parse-thread.js';

const file = (prefix: string, n: number, bad?: number) =>
  [
    'taskId,workOrderNumber,step,workContent,departmentId',
    ...Array.from({ length: n }, (_, i) => (i === bad ? `bad id!,WO,cut,x,cut` : `${prefix}${i},WO-${prefix}${Math.floor(i / 20)},cut,"Part ${i}${i === 3 ? '\nrev B' : ''}",cut`)),
  ].join('\n');

describe('the CSV parse thread', () => {
  it('IMP-4 SEC-9 gives what the parser on the event loop gives: rows, line numbers and errors', async () => {
    for (const text of [file('a', 2_500), file('b', 2_500, 2_222)]) expect(await parseImportCsvOnThread(text)).toEqual(await parseImportCsv(text));
  });

  it('SEC-9 five uploads at once each get their own rows back', async () => {
    const results = await Promise.all(['p', 'q', 'r', 's', 't'].map((prefix) => parseImportCsvOnThread(file(prefix, 1_500))));
    expect(results.map((r) => [r.rows.length, r.rows[1_499]!.taskId, r.rowNumbers[1_499], r.errors.length])).toEqual(
      ['p', 'q', 'r', 's', 't'].map((prefix) => [1_500, `${prefix}1499`, 1_502, 0]),
    );
  });
});
