/**
 * WAL checkpoints on a background thread. A checkpoint copies the WAL back into the database file
 * and fsyncs it; done inside a commit on the main thread it stalls every connection for tens of
 * milliseconds. A worker with its own connection runs PASSIVE checkpoints (they never block the
 * writer) every `intervalMs`, and the main connection's automatic checkpoint is raised to a safety
 * net for when the worker falls behind.
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); db.close(); parentPort.close(); }
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Start background checkpoints for the database `file` that `db` writes. */
export function startCheckpointer(db: Database.Database, file: string, intervalMs = 1000, onError: (message: string) => void = () => {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, driver } });
  worker.unref();
  // Safety net: if the worker cannot keep up, commits still checkpoint once the WAL passes ~200 MB.
  db.pragma('wal_autocheckpoint = 50000');
  worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
  worker.on('error', (err) => {
    onError(err.message);
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        // Keep the process alive until the worker has closed its connection.
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 2000).unref();
      }),
  };
}
