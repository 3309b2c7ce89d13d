/**
 * The database goes away under a running server and comes back (a throwaway cluster shut down with
 * pg_ctl stop -m fast, then started again on the same port): /healthz says so (API-1), mutations
 * get `retry` / 503 `unavailable` instead of failing (PROTO-9), and the server recovers by itself
 * (no restart): the terminal's re-sent mutation and the HTTP claim then apply, exactly once.
 * A real server process (`start --database …`), a real WebSocket terminal and HTTP client.
 * Skips, with the reason, only where PostgreSQL is not installed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import type { MutationOutcome } from '../src-shared/protocol/terminal.js';
import { killAll, startCliServer } from './support/cli-process.js';
import { pgUnavailable } from './support/pg-cluster.js';
import { useCluster } from './support/pg-suite.js';
import { TERMINAL_TOKEN } from './support/plant.js';
import { TestClient } from './support/ws-client.js';

const suite = pgUnavailable ? `the server when its PostgreSQL database goes away (skipped: ${pgUnavailable})` : 'the server when its PostgreSQL database goes away';

interface Health {
  ok: boolean;
  backend: string;
  database: { ok: boolean; latencyMs?: number; error?: string };
}

describe.skipIf(pgUnavailable !== null)(suite, () => {
  const pg = useCluster('outage');
  let paused = false;
  const clients: TestClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    killAll();
    if (paused) await pg.cluster.resume();
    paused = false;
  });

  /** Poll (bounded) until `pred` holds for /healthz; returns the last answer. */
  async function healthUntil(url: string, pred: (status: number, body: Health) => boolean, ms: number): Promise<{ status: number; body: Health }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const res = await fetch(`${url}/healthz`);
      const answer = { status: res.status, body: (await res.json()) as Health };
      if (pred(answer.status, answer.body) || Date.now() > deadline) return answer;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('API-1 PROTO-9 /healthz reports the lost database, mutations get retry (WebSocket) and 503 unavailable (HTTP), and all recovers by itself', { timeout: 120_000 }, async () => {
    const { url } = await pg.plant(async (seed) => {
      await seed.createApiToken({ id: 'tok-ann', userId: 'ann', name: 'outage', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash('api_outage_ann') }, Date.now());
    });

    const server = await startCliServer(['--database', url]);
    const up = await healthUntil(server.url, () => true, 0);
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ ok: true, backend: 'postgres', database: { ok: true } });
    expect(up.body.database.latencyMs).toBeGreaterThanOrEqual(0);

    const kiosk = await TestClient.connect(server.wsUrl, { terminalId: 'k1', token: TERMINAL_TOKEN });
    clients.push(kiosk);
    const [signIn] = await kiosk.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: 'ann' }]);
    expect(signIn!.status).toBe('applied');

    // The database goes away.
    await pg.cluster.pause();
    paused = true;
    const down = await healthUntil(server.url, (status) => status === 503, 10_000);
    expect(down.status).toBe(503);
    expect(down.body.ok).toBe(false);
    expect(down.body.database.ok).toBe(false);
    expect(down.body.database.error).toMatch(/\S/);

    // HTTP: 503 unavailable, retry suggested; nothing claimed.
    const claim = () =>
      fetch(`${server.url}/api/tasks/t1/claim`, { method: 'POST', headers: { authorization: 'Bearer api_outage_ann', 'content-type': 'application/json' }, body: '{}' });
    const refused = await claim();
    const refusedBody = (await refused.json()) as { code: string; message: string; retry: { canRetry: boolean } };
    expect(refused.status).toBe(503);
    expect(refusedBody.code).toBe('unavailable');
    expect(refusedBody.message).toMatch(/cannot reach its database/);
    expect(refusedBody.retry.canRetry).toBe(true);

    // WebSocket: the terminal's claim gets `retry`, naming the fault (its id is not consumed).
    const from = kiosk.frames.length;
    kiosk.sendRaw({ type: 'push', mutations: [{ id: 50, name: 'claim', args: { taskId: 't2' }, operatorId: 'ann', clientTime: Date.now() }] });
    const retried = await kiosk.waitFor((f) => kiosk.frames.indexOf(f) >= from && f.type === 'results' && f.outcomes.some((o) => o.id === 50), 10_000);
    const outcome = (retried.type === 'results' ? retried.outcomes.find((o) => o.id === 50) : undefined) as MutationOutcome;
    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' && outcome.error.code).toBe('unavailable');

    // The database comes back; the server finds it again by itself.
    await pg.cluster.resume();
    paused = false;
    const back = await healthUntil(server.url, (status) => status === 200, 20_000);
    expect(back.status).toBe(200);
    expect(back.body.database.ok).toBe(true);

    const [again] = await kiosk.mutate([{ id: 50, name: 'claim', args: { taskId: 't2' }, operatorId: 'ann' }]);
    expect(again!.status).toBe('applied');
    expect((await claim()).status).toBe(200);
    // Applied exactly once each: the database agrees.
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    const rows = await pg.cluster.query<{ id: string; operator_id: string | null }>("SELECT id, operator_id FROM tasks WHERE id IN ('t1', 't2') ORDER BY id", [], name);
    expect(rows).toEqual([
      { id: 't1', operator_id: 'ann' },
      { id: 't2', operator_id: 'ann' },
    ]);
    const claims = await pg.cluster.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM audit_events WHERE action = 'claim' AND outcome = 'applied'", [], name);
    expect(claims[0]!.n).toBe(2);
    expect((await server.stop()).code).toBe(0);
  });
});
