/**
 * The server stores a suite can run against: SQLite (a temp file, as startTestServer does) and
 * PostgreSQL (a throwaway cluster per test file, test/support/pg-cluster.ts). Written so a suite's
 * body is written once:
 *
 *   for (const backend of testBackends()) {
 *     describe.skipIf(backend.unavailable !== null)(`My suite${backend.suffix}`, () => {
 *       beforeAll(() => backend.setUp(), 120_000);
 *       afterAll(() => backend.tearDown());
 *       beforeEach(async () => (server = await backend.start()));
 *       ...
 *
 * On PostgreSQL each server gets a fresh database copied from a template that is migrated and
 * holds the test plant (CREATE DATABASE … TEMPLATE: tens of milliseconds), dropped when it stops.
 * The suffix is '' for SQLite (its tests keep their names) and names PostgreSQL, with the reason
 * when it skips (CI's summary lists it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src-shared/clock.js';
import { PgServerStore } from '../../src-server/store/pg/store.js';
import type { ServerStore } from '../../src-server/store/types.js';
import { pgUnavailable, startCluster, type PgCluster } from './pg-cluster.js';
import { T0, seedPlant } from './plant.js';
import { serveStore, startTestServer, type TestServer, type TestServerOptions } from './server.js';

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  /** Why this backend cannot run here (its suites skip with it), or null. */
  unavailable: string | null;
  /** Appended to a suite's name: '' for SQLite. */
  suffix: string;
  /** In beforeAll: start what the backend needs. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A server on this backend, seeded with the test plant unless `seed: false`. */
  start(options?: TestServerOptions): Promise<TestServer<ServerStore>>;
}

export const sqliteBackend: TestBackend = {
  name: 'sqlite',
  unavailable: null,
  suffix: '',
  async setUp() {},
  async tearDown() {},
  start: (options) => startTestServer(options),
};

/** PostgreSQL: one cluster for the file, a database per server. */
export function postgresBackend(): TestBackend & { cluster(): PgCluster; instances(count: number, options?: TestServerOptions): Promise<TestServer<ServerStore>[]> } {
  let cluster: PgCluster | null = null;
  let counter = 0;
  const templates = new Map<string, Promise<string>>();

  /** A migrated database (seeded with the plant at T0 when `seeded`), used only as a template. */
  const template = (seeded: boolean): Promise<string> => {
    const key = seeded ? 'seeded' : 'empty';
    let made = templates.get(key);
    if (!made) {
      made = (async () => {
        const name = `tpl_${process.pid}_${key}`;
        const store = await PgServerStore.open(await cluster!.createDatabase(name));
        try {
          if (seeded) await seedPlant(store, T0);
        } finally {
          await store.close();
        }
        return name;
      })();
      templates.set(key, made);
    }
    return made;
  };

  /**
   * A fresh copy of a template. Copying takes a few hundred milliseconds (every page goes through
   * the WAL, fsync'd), so the next copy is made while the current test runs.
   */
  const spares = new Map<string, Promise<string>>();
  const copy = async (seeded: boolean): Promise<string> => {
    const from = await template(seeded);
    const name = `srv_${process.pid}_${++counter}`;
    await cluster!.query(`CREATE DATABASE "${name}" TEMPLATE "${from}"`);
    return name;
  };
  const copyOf = async (seeded: boolean): Promise<string> => {
    const key = String(seeded);
    const ready = spares.get(key) ?? copy(seeded);
    const next = copy(seeded);
    next.catch(() => {}); // a spare nobody takes may fail as the cluster stops
    spares.set(key, next);
    return ready;
  };

  return {
    name: 'postgres',
    unavailable: pgUnavailable,
    suffix: pgUnavailable ? ` on PostgreSQL (skipped: ${pgUnavailable})` : ' on PostgreSQL',
    cluster: () => cluster!,
    async setUp() {
      cluster = await startCluster();
    },
    async tearDown() {
      await cluster?.stop();
      cluster = null;
      templates.clear();
      spares.clear();
    },
    async start(options = {}) {
      const [server] = await this.instances(1, options);
      return server!;
    },
    /**
     * `count` server instances on one fresh database (as PostgreSQL is deployed: README "Running on
     * PostgreSQL"), in this process, each with its own store, committer and hubs, sharing one clock.
     * The database is dropped when the last of them stops.
     */
    async instances(count, options = {}) {
      if (!cluster) throw new Error('postgresBackend().setUp() must run first (in beforeAll)');
      const c = cluster;
      const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(T0);
      const seed = options.seed ?? true;
      // The seeded template holds the plant as of T0; another start time seeds its own copy.
      const name = await copyOf(seed && clock.now() === T0);
      let running = count;
      const servers: TestServer<ServerStore>[] = [];
      for (let i = 0; i < count; i++) {
        const store = await PgServerStore.open(c.url(name));
        if (i === 0 && seed && clock.now() !== T0) await seedPlant(store, clock.now());
        const dataDir = i === 0 && options.dataDir ? options.dataDir : fs.mkdtempSync(path.join(os.tmpdir(), 'srv-pg-'));
        servers.push(
          await serveStore(store, { ...options, dataDir, clock }, async () => {
            fs.rmSync(dataDir, { recursive: true, force: true });
            if (--running === 0) await c.dropDatabase(name);
          }),
        );
      }
      return servers;
    },
  };
}

/** SQLite, then PostgreSQL. */
export function testBackends(): TestBackend[] {
  return [sqliteBackend, postgresBackend()];
}
