/** Start a real sync server in this process: port 0 on loopback, a temp data folder, a manual clock. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src-shared/clock.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src-server/app.js';
import { silentLogger } from '../../src-server/log.js';
import { SqliteServerStore } from '../../src-server/store/sqlite/store.js';
import { T0, seedPlant } from './plant.js';

export interface TestServer extends RunningServer {
  clock: ManualClock;
  dataDir: string;
  store: SqliteServerStore;
  stop(): Promise<void>;
}

export async function startTestServer(options: Partial<ServerOptions> & { seed?: boolean } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'srv-'));
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(T0);
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'));
  if (options.seed ?? true) await seedPlant(store, clock.now());
  const running = await startServer({
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger(),
    ...options,
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
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
