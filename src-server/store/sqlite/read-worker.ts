/**
 * The read thread's entry (issue 12; started by read-thread.ts). It owns a connection of its own
 * to the authority's database, opened read-only in effect (`query_only`), and answers page reads
 * one at a time with the same store code as the server, each from the database as last committed.
 * Users, departments and the configuration it caches are dropped whenever another connection has
 * committed since (`PRAGMA data_version`), as the server's own connection does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThreadsPriority } from '../../threads.js';
import type { ReadThreadData, ReadThreadReply, ReadThreadRequest } from './read-thread.js';
import { SqliteServerStore } from './store.js';

const data = workerData as ReadThreadData;
const port = parentPort!;
if (data.nice !== undefined) lowerThisThreadsPriority(data.nice);
// Opened at once: reads go to the loop until the thread says it is ready. An error opening it
// ends the thread (the server logs it and reads on the loop).
const store = new SqliteServerStore(data.file, { flushOffLoop: false });
store.db.pragma('query_only = 1');

port.on('message', (m: ReadThreadRequest) => {
  if (m.type === 'close') {
    void store.close().then(() => port.close());
    return;
  }
  store.readOnThread(m.method, m.args).then(
    (value) => port.postMessage({ type: 'page', id: m.id, ok: true, value } satisfies ReadThreadReply),
    (err: unknown) => port.postMessage({ type: 'page', id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ReadThreadReply),
  );
});

port.postMessage({ type: 'ready' } satisfies ReadThreadReply);
