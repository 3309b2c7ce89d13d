/** Start a real sync server in this process: port 0 on loopback, a temp data folder, a manual clock. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src-shared/clock.js';
import { startServer, type RunningServer, type ServerIntervals, type ServerOptions, type ServerTimerName } from '../../src-server/app.js';
import { silentLogger } from '../../src-server/log.js';
import { SqliteServerStore } from '../../src-server/store/sqlite/store.js';
import type { ServerStore } from '../../src-server/store/types.js';
import { T0, seedPlant } from './plant.js';

export interface TestServer<S extends ServerStore = SqliteServerStore> extends RunningServer {
  clock: ManualClock;
  dataDir: string;
  store: S;
  stop(): Promise<void>;
}

export type TestServerOptions = Partial<ServerOptions> & { seed?: boolean };

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'srv-'));
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(T0);
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'));
  if (options.seed ?? true) await seedPlant(store, clock.now());
  return serveStore(store, { ...options, dataDir, clock }, async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
}

/**
 * Serve an open (and, as wanted, seeded) store of any backend the way startTestServer does;
 * `cleanup` runs after the server (and with it the store) has closed.
 */
export async function serveStore<S extends ServerStore>(
  store: S,
  options: TestServerOptions & { dataDir: string; clock: ManualClock },
  cleanup: () => Promise<void> = async () => {},
): Promise<TestServer<S>> {
  const { seed: _seed, ...serverOptions } = options;
  const { dataDir, clock } = options;
  const running = await startServer({
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger(),
    ...serverOptions,
    dataDir,
    clock,
    store,
    hub: { pushIntervalMs: 10, ...options.hub },
  });
  return {
    ...running,
    clock,
    dataDir,
    store,
    async stop() {
      await running.close();
      await cleanup();
    },
  };
}

/**
 * The server's periodic work (assignment expiry, offline alerts, pruning, the lease check with its
 * stale-presence sweep) run only when a test says so: pass it as `intervals`, advance the clock,
 * then `run` a timer. Servers that share one (instances on one database) each run theirs, in the
 * order they started, as their own intervals would; only the lease holder does the work (INST-4).
 */
export class ManualIntervals implements ServerIntervals {
  private readonly works: Array<{ name: ServerTimerName; work: () => Promise<void> }> = [];

  every(name: ServerTimerName, _ms: number, work: () => Promise<void>): () => void {
    const entry = { name, work };
    this.works.push(entry);
    return () => {
      const i = this.works.indexOf(entry);
      if (i >= 0) this.works.splice(i, 1);
    };
  }

  /** Run every server's `name` work, one after the other; resolves when all of it is done. */
  async run(name: ServerTimerName): Promise<void> {
    for (const w of this.works.filter((x) => x.name === name)) await w.work();
  }
}
