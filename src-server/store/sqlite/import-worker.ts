/**
 * The import thread's entry (SEC-9, issue 12; started by import-thread.ts). It owns a connection
 * of its own to the authority's database and writes one large import at a time in one
 * transaction, all or nothing (IMP-1), with the same store code as the server: the rows arrive in
 * chunks, then `run` checks and writes them all and answers with the result. COMMIT syncs the WAL
 * here (`synchronous` as the server's, never flushed by the event loop's flusher), so the import
 * is durable before the server hears of it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImportTaskRow } from '../types.js';
import type { ImportThreadData, ImportThreadReply, ImportThreadRequest } from './import-thread.js';
import { SqliteServerStore } from './store.js';

const data = workerData as ImportThreadData;
const port = parentPort!;
let store: SqliteServerStore | null = null;
let rows: ImportTaskRow[] = [];

/** The thread's connection, opened at its first import (an error opening it is that import's answer). */
function open(): SqliteServerStore {
  if (!store) {
    store = new SqliteServerStore(data.file, { synchronous: data.synchronous, flushOffLoop: false });
    // The import's COMMIT must not checkpoint the WAL it just filled: where the server leaves that
    // to its background checkpointer, so does this connection.
    store.db.pragma(`wal_autocheckpoint = ${data.walAutocheckpoint}`);
  }
  return store;
}

port.on('message', (m: ImportThreadRequest) => {
  if (m.type === 'begin') {
    rows = [];
    return;
  }
  if (m.type === 'rows') {
    for (const row of m.rows) rows.push(row);
    return;
  }
  if (m.type === 'run') {
    let reply: ImportThreadReply;
    try {
      reply = { type: 'done', result: open().importAllNow(rows, m.now, m.scope) };
    } catch (err) {
      reply = { type: 'failed', message: err instanceof Error ? err.message : String(err) };
    } finally {
      rows = [];
    }
    port.postMessage(reply);
    return;
  }
  void (store?.close() ?? Promise.resolve()).then(() => port.close());
});
