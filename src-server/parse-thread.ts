/**
 * SEC-9, issue 12: a large CSV import is parsed on a thread of its own. On the event loop, in
 * slices, 50,000 rows took 0.6-0.8 s of the loop's time on an idle server and 1.6-1.8 s of
 * wall time under a plant's load, and every kiosk's round trip meanwhile went from ~15 ms to
 * 100-300 ms. On its own thread the parse takes the other core; the loop only receives the rows,
 * a thousand per message, each asked for in a turn with time left.
 */
import { Worker } from 'node:worker_threads';
import type { ImportRowError, ImportTaskRow } from './store/types.js';
import type { ParsedImport } from './import.js';
import { Slicer } from './slices.js';
import { Lanes, threadEntry, threadErrorMessage } from './threads.js';

export type ParseThreadReply = { type: 'rows'; rows: ImportTaskRow[]; rowNumbers: number[] } | { type: 'done'; errors: ImportRowError[]; errorCount?: number; badRows?: number };

/** Parse threads at once at most (each holds its file and rows: tens of MB for 50,000 rows). */
export const MAX_PARSE_THREADS = 2;
const parses = new Lanes(MAX_PARSE_THREADS);

/**
 * Parse a CSV import (import.ts parseImportCsv) on a thread; the same result, off the event loop.
 * At most MAX_PARSE_THREADS at once; more uploads at the same moment wait their turn.
 */
export function parseImportCsvOnThread(text: string): Promise<ParsedImport> {
  return parses.run(() => parseOnThread(text));
}

function parseOnThread(text: string): Promise<ParsedImport> {
  return new Promise<ParsedImport>((resolve, reject) => {
    const parsed: ParsedImport = { rows: [], rowNumbers: [], errors: [] };
    let done = false;
    const worker = new Worker(threadEntry('./parse-worker.js', import.meta.url), { workerData: { text } });
    const slicer = new Slicer();
    worker.on('message', (m: ParseThreadReply) => {
      if (m.type === 'rows') {
        for (const row of m.rows) parsed.rows.push(row);
        for (const n of m.rowNumbers) parsed.rowNumbers.push(n);
        // Ask for the next chunk in a turn with time left (SEC-9).
        const more = () => worker.postMessage('more');
        const pause = slicer.due();
        if (pause) void pause.then(more);
        else more();
        return;
      }
      done = true;
      parsed.errors = m.errors;
      if (m.errorCount !== undefined) parsed.errorCount = m.errorCount;
      if (m.badRows !== undefined) parsed.badRows = m.badRows;
      resolve(parsed);
    });
    worker.on('error', (err) => {
      if (!done) reject(new Error(`the import could not be parsed: ${threadErrorMessage(err)}`));
      done = true;
    });
    worker.on('exit', (code) => {
      if (!done) reject(new Error(`the import could not be parsed: its thread stopped (exit code ${code})`));
      done = true;
    });
  });
}
