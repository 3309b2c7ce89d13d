/**
 * The CSV parse thread's entry (SEC-9, issue 12; started by parse-thread.ts): parses one import's
 * text with the same code as everywhere else (import.ts) and sends back the rows a chunk per
 * message, each when the event loop asks for it, so the loop decodes one small message at a time
 * and never a backlog of them in one turn.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseImportCsv } from './import.js';
import type { ParseThreadReply } from './parse-thread.js';

const ROWS_PER_MESSAGE = 1000;
const port = parentPort!;
const parsed = await parseImportCsv((workerData as { text: string }).text);
// One chunk at a time: the next goes when the event loop asks for it, in a turn with time left.
for (let at = 0; at < parsed.rows.length; at += ROWS_PER_MESSAGE) {
  if (at > 0) await new Promise((resolve) => port.once('message', resolve));
  port.postMessage({
    type: 'rows',
    rows: parsed.rows.slice(at, at + ROWS_PER_MESSAGE),
    rowNumbers: parsed.rowNumbers.slice(at, at + ROWS_PER_MESSAGE),
  } satisfies ParseThreadReply);
}
if (parsed.rows.length > 0) await new Promise((resolve) => port.once('message', resolve));
port.postMessage({ type: 'done', errors: parsed.errors, errorCount: parsed.errorCount, badRows: parsed.badRows } satisfies ParseThreadReply);
