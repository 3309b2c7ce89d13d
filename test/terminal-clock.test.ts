/**
 * A terminal whose wall clock jumps (NTP correcting a clock that was wrong, a dead CMOS battery),
 * against a real server on loopback: the server judges a queued claim's age by the terminal's
 * clock plus the offset measured at the handshake (CLM-13, PROTO-13), so a jump after the
 * handshake must not make a fresh claim look hours old.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TERMINAL_TOKEN } from './support/plant.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { openTerminal, waitDrained, waitOnline, type TestTerminal } from './support/terminal.js';

const HOUR = 3600_000;
let server: TestServer;
let proxy: TcpProxy;
const terminals: TestTerminal[] = [];

/** A wall clock that is `skew` ms off the system's, and the monotonic clock beside it. */
function skewedClock(skew: number) {
  const clock = { skew, now: () => Date.now() + clock.skew };
  return clock;
}

async function terminal(clock: { now(): number }) {
  const t = await openTerminal({ serverUrl: proxy.url, terminalId: 'k1', token: TERMINAL_TOKEN, clock, monotonic: () => performance.now() });
  terminals.push(t);
  await waitOnline(t);
  return t;
}

beforeEach(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
});
afterEach(async () => {
  for (const t of terminals.splice(0)) {
    t.close();
    fs.rmSync(t.dataDir, { recursive: true, force: true });
  }
  await proxy.close();
  await server.stop();
});

describe('a terminal clock that jumps', () => {
  it('CLM-13 PROTO-13 the clock set back 10 h while connected (NTP correcting a fast clock): a claim made online is applied, not refused as stale', async () => {
    const clock = skewedClock(10 * HOUR);
    const a = await terminal(clock);
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    clock.skew = 0;
    await new Promise((r) => setTimeout(r, 50));
    await a.core.claim({ taskId: 't1' });
    await waitDrained(a);
    expect(a.core.store.openConflicts('ann').map((c) => c.code)).toEqual([]);
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBe('ann');
    // The terminal's own estimate of the server's time (cooldowns, overdue marks) follows the clock too.
    expect(Math.abs(a.core.store.meta<number>('serverOffsetMs', 0) - (server.clock.now() - clock.now()))).toBeLessThan(60_000);
  });

  it('CLM-13 PROTO-13 the clock set forward 10 h while offline, before the link returns (a dead CMOS battery, then NTP): the claim queued a moment ago is applied, not stale', async () => {
    const clock = skewedClock(-10 * HOUR);
    const a = await terminal(clock);
    await a.core.signIn({ badge: 'B-ANN' });
    await waitDrained(a);
    proxy.cut();
    await a.waitFor(() => a.core.syncStatus().status === 'offline', 'offline');
    await a.core.claim({ taskId: 't1' });
    clock.skew = 0;
    proxy.restore();
    await waitDrained(a);
    expect(a.core.store.openConflicts('ann').map((c) => c.code)).toEqual([]);
    expect((await server.store.getTask('t1', server.clock.now()))!.operatorId).toBe('ann');
    // The terminal's own estimate of the server's time (cooldowns, overdue marks) follows the clock too.
    expect(Math.abs(a.core.store.meta<number>('serverOffsetMs', 0) - (server.clock.now() - clock.now()))).toBeLessThan(60_000);
  });
});
