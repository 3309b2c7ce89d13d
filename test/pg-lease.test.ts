/**
 * Several instances on one PostgreSQL database: who runs the timers, and who is connected where.
 * Real server processes (`start --database …`, port 0) on a throwaway cluster.
 *
 * - INST-4: the deployment-wide timers run on the one instance holding the timer lease; another
 *   instance stands by (it does not sweep), and takes the lease when the holder is SIGKILLed.
 * - INST-3: an instance that starts does not mark the other instances' terminals disconnected; a
 *   terminal left marked connected by a dead instance is marked disconnected by the lease holder.
 * - INST-2: another instance's commit is heard at once (LISTEN/NOTIFY), not at the next push tick.
 *
 * Skips, with the reason, only where PostgreSQL is not installed.
 */
import pgLib from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { TIMER_LEASE_LOCK } from '../src-server/store/pg/open.js';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { killAll, startCliServer, type ServerProcess } from './support/cli-process.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';
import { TERMINAL_TOKEN } from './support/plant.js';
import { TestClient } from './support/ws-client.js';

const suite = pgUnavailable ? `the timer lease, presence and push across instances (skipped: ${pgUnavailable})` : 'the timer lease, presence and push across instances';

/** How often each instance checks the lease in these tests (the default is 2 s). */
const LEASE_MS = 150;

interface Health {
  ok: boolean;
  timers: { lease: 'held' | 'standby'; since: number | null };
}

describe.skipIf(pgUnavailable !== null)(suite, () => {
  const pg = useCluster('lease');
  const clients: TestClient[] = [];
  let database = '';

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    killAll();
  });

  async function health(s: ServerProcess): Promise<Health> {
    return (await (await fetch(`${s.url}/healthz`)).json()) as Health;
  }

  /** Poll `probe` until it returns true, at most `ms`. */
  async function eventually(probe: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The terminal's presence as the database has it (BIGINT as numbers). */
  const connected = async (terminalId: string): Promise<{ connected: number; connected_at: number | null; disconnected_at: number | null }> => {
    const [row] = await pg.cluster.query<{ connected: number; connected_at: string | null; disconnected_at: string | null }>(
      'SELECT connected, connected_at, disconnected_at FROM terminals WHERE id = $1',
      [terminalId],
      database,
    );
    const n = (v: string | null) => (v === null ? null : Number(v));
    return { connected: row!.connected, connected_at: n(row!.connected_at), disconnected_at: n(row!.disconnected_at) };
  };

  it('INST-4 INST-3 one instance runs the timers, the other stands by; a SIGKILLed holder hands them over, and its stale terminals are marked disconnected', { timeout: 60_000 }, async () => {
    const { name, url } = await pg.plant();
    database = name;

    const a = await startCliServer(['--database', url, '--lease-check-ms', String(LEASE_MS)]);
    await eventually(async () => (await health(a)).timers.lease === 'held', 10_000, 'A to take the lease');

    // A terminal connected to A stays connected when B starts (B must not reset presence).
    const kiosk = await TestClient.connect(a.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN });
    clients.push(kiosk);
    expect(kiosk.frames.some((f) => f.type === 'welcome')).toBe(true);
    const before = await connected('k1');
    expect(before.connected).toBe(1);
    const b = await startCliServer(['--database', url, '--lease-check-ms', String(LEASE_MS)]);
    // Several of B's lease checks: it stands by.
    await new Promise((r) => setTimeout(r, 6 * LEASE_MS));
    expect((await health(b)).timers.lease).toBe('standby');
    expect((await health(a)).timers.lease).toBe('held');
    expect(await connected('k1')).toMatchObject({ connected: 1, connected_at: before.connected_at });

    // A freezes (it still holds the lease: its database session lives). A terminal left marked
    // connected by an instance that died long ago is not swept by the standby. (A is frozen first:
    // running, it would sweep the terminal itself within a lease check.)
    a.child.kill('SIGSTOP');
    await pg.cluster.query("UPDATE terminals SET connected = 1, connected_at = 1, last_seen_at = 1 WHERE id = 'k2'", [], database);
    await new Promise((r) => setTimeout(r, 6 * LEASE_MS));
    expect((await health(b)).timers.lease).toBe('standby');
    expect((await connected('k2')).connected).toBe(1);

    // A dies: its session ends, B takes the lease and runs the timers: k2 is marked disconnected
    // as of when it was last seen.
    a.child.kill('SIGKILL');
    await a.exited;
    await eventually(async () => (await health(b)).timers.lease === 'held', 10_000, 'B to take the lease after A died');
    await eventually(async () => (await connected('k2')).connected === 0, 5_000, 'the lease holder to sweep stale presence');
    expect((await connected('k2')).disconnected_at).toBe(1);

    // A's terminal reconnects to B: connected again, by B's handshake.
    kiosk.close();
    const moved = await TestClient.connect(b.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN });
    clients.push(moved);
    expect(moved.frames.some((f) => f.type === 'welcome')).toBe(true);
    const after = await connected('k1');
    expect(after.connected).toBe(1);
    expect(after.connected_at).toBeGreaterThan(before.connected_at!);
    expect((await b.stop()).code).toBe(0);
  });

  it('INST-4 INST-3 a holder whose stale-presence sweep waits behind a row lock still checks its lease: when its lease session dies and another takes the lease, it stands by', { timeout: 60_000 }, async () => {
    const { name, url } = await pg.plant();
    database = name;
    const a = await startCliServer(['--database', url, '--lease-check-ms', String(LEASE_MS)]);
    await eventually(async () => (await health(a)).timers.lease === 'held', 10_000, 'A to take the lease');
    // A terminal left marked connected long ago, whose row another session holds: A's sweep of
    // stale presence waits for it (as it would behind a long write). A is frozen meanwhile, so
    // that it cannot sweep the terminal before the row is held.
    a.child.kill('SIGSTOP');
    await pg.cluster.query("UPDATE terminals SET connected = 1, connected_at = 1, last_seen_at = 1 WHERE id = 'k2'", [], database);
    const other = new pgLib.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query("SELECT 1 FROM terminals WHERE id = 'k2' FOR UPDATE");
      a.child.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 4 * LEASE_MS));
      expect((await connected('k2')).connected).toBe(1);
      // A's lease session dies while A is frozen, and the lease goes to another session at once.
      a.child.kill('SIGSTOP');
      await pg.cluster.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::bigint % 4294967296 AND pid <> pg_backend_pid()`,
        [TIMER_LEASE_LOCK.toString()],
        database,
      );
      const taker = new pgLib.Client({ connectionString: url });
      await taker.connect();
      try {
        await eventually(async () => (await taker.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [TIMER_LEASE_LOCK.toString()])).rows[0]!.held, 5_000, 'the lease to be free');
        a.child.kill('SIGCONT');
        // A's next checks find the lease held elsewhere: it stops running the timers.
        await eventually(async () => (await health(a)).timers.lease === 'standby', 5_000, 'A to stand by');
      } finally {
        await taker.end();
      }
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    expect((await a.stop()).code).toBe(0);
  });

  it('INST-2 a claim committed on instance B reaches a kiosk on instance A at once, with a push tick of a minute (LISTEN/NOTIFY)', { timeout: 60_000 }, async () => {
    const { url } = await pg.plant(async (store) => {
      await store.createApiToken({ id: 'tok-ann', userId: 'ann', name: 'notify', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash('api_notify_ann') }, Date.now());
    });
    // Without the notification A would notice B's commit only on its next tick, a minute later.
    const args = ['--database', url, '--lease-check-ms', String(LEASE_MS), '--push-interval-ms', '60000'];
    const [a, b] = await Promise.all([startCliServer(args), startCliServer(args)]);
    const kiosk = await TestClient.connect(a.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN });
    clients.push(kiosk);
    // Caught up: the snapshot, page by page, then the page saying it is caught up, each acknowledged
    // as a terminal does. (Each instance listens from its first lease check, before it logs that it
    // is listening.)
    for (let seen = 0; ; ) {
      const page = await kiosk.waitFor((f) => f.type === 'changes' && kiosk.frames.indexOf(f) >= seen, 10_000);
      seen = kiosk.frames.indexOf(page) + 1;
      if (page.type !== 'changes') continue;
      // A snapshot page before the last has no cursor: the terminal acknowledges the one it has.
      kiosk.sendRaw({ type: 'ack', cursor: page.cursor ?? 0 });
      if (page.mode === 'delta' && !page.more) break;
    }
    const res = await fetch(`${b.url}/api/tasks/t1/claim`, { method: 'POST', headers: { authorization: 'Bearer api_notify_ann', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    const page = await kiosk.waitFor((f) => f.type === 'changes' && f.tasks.some((t) => t.id === 't1' && t.operatorId === 'ann'), 10_000);
    expect(page.type).toBe('changes');
  });
});
