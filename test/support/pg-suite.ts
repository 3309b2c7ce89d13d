/**
 * A describe block's PostgreSQL: one throwaway cluster (test/support/pg-cluster.ts) started before
 * its tests and stopped after them, and databases made per test, dropped after each test. Call it
 * first in the block: vitest runs after-hooks in reverse order, so the block's own afterEach
 * (stopping the servers that use a database) runs before the databases are dropped.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { PgServerStore } from '../../src-server/store/pg/store.js';
import { startCluster, type ClusterOptions, type PgCluster } from './pg-cluster.js';
import { seedPlant } from './plant.js';

export interface ClusterForTests {
  /** The running cluster (from beforeAll on). */
  readonly cluster: PgCluster;
  /** An empty database, `<prefix>_<pid>_<n>` unless named; dropped after the test. */
  database(name?: string): Promise<{ name: string; url: string }>;
  /** A database with the test plant plus `fill`, written by a store in this process (closed again). */
  plant(fill?: (store: PgServerStore, salt: string) => Promise<void>, name?: string): Promise<{ name: string; url: string }>;
}

export function useCluster(prefix: string, options: ClusterOptions = {}): ClusterForTests {
  let cluster: PgCluster | null = null;
  let counter = 0;
  const made: string[] = [];
  beforeAll(async () => {
    cluster = await startCluster(options);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    for (const name of made.splice(0)) await cluster?.dropDatabase(name);
  });
  const running = (): PgCluster => {
    if (!cluster) throw new Error('the cluster is not started (useCluster belongs in a describe block, before its tests)');
    return cluster;
  };
  const database = async (name = `${prefix}_${process.pid}_${++counter}`) => {
    made.push(name);
    return { name, url: await running().createDatabase(name) };
  };
  return {
    get cluster() {
      return running();
    },
    database,
    async plant(fill = async () => {}, name) {
      const db = await database(name);
      const store = await PgServerStore.open(db.url);
      try {
        const { salt } = await seedPlant(store, Date.now());
        await fill(store, salt);
      } finally {
        await store.close();
      }
      return db;
    },
  };
}
