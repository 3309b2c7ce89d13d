/** Every SPEC rule through the WebSocket protocol: each operator acts from their own terminal. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import type { MutationOutcome } from '../src-shared/protocol/terminal.js';
import type { TaskOperation } from '../src-server/engine/mutations.js';
import { scenarios, type ActResult, type RuleDriver } from './support/rule-scenarios.js';
import type { ServerStore } from '../src-server/store/types.js';
import { testBackends } from './support/backends.js';
import type { TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

function toAct(o: MutationOutcome): ActResult {
  if (o.status === 'applied') return { ok: true, value: o.value, task: o.task };
  if (o.status === 'rejected') return { ok: false, ...o.error, task: o.task };
  throw new Error(`unexpected retry outcome: ${o.error.message}`);
}

// The same scenarios on every server store: SQLite, and PostgreSQL (a throwaway cluster for this
// file, a fresh database per test).
for (const backend of testBackends()) describe.skipIf(backend.unavailable !== null)(`SPEC rules through the WebSocket protocol${backend.suffix}`, () => {
  let server: TestServer<ServerStore>;
  beforeAll(() => backend.setUp(), 120_000);
  afterAll(() => backend.tearDown());
  let clients: Map<string, TestClient>;

  beforeEach(async () => {
    server = await backend.start();
    expect(server.store.backend).toBe(backend.name);
    clients = new Map();
  });
  afterEach(async () => {
    for (const c of clients.values()) c.close();
    await server.stop();
  });

  async function clientFor(actor: string): Promise<TestClient> {
    let c = clients.get(actor);
    if (c) return c;
    const id = `kx-${actor}`;
    const token = `token-${actor}`;
    await server.store.createTerminal({ id, name: `Kiosk of ${actor}`, departments: ['cut', 'qa'], tokenHash: tokenHash(token) }, server.clock.now());
    c = await TestClient.connect(server.wsUrl, { terminalId: id, token, clientTime: server.clock.now() });
    clients.set(actor, c);
    const [signIn] = await c.mutate([{ name: 'signIn', args: { method: 'badge' }, operatorId: actor, clientTime: server.clock.now() }]);
    if (signIn!.status !== 'applied') throw new Error(`sign-in of ${actor} failed: ${JSON.stringify(signIn)}`);
    return c;
  }

  const driver = (): RuleDriver => ({
    route: 'terminal',
    server,
    async act(actor: string, op: TaskOperation) {
      const c = await clientFor(actor);
      const { name, ...args } = op;
      const [o] = await c.mutate([{ name, args, operatorId: actor, clientTime: server.clock.now() }]);
      return toAct(o!);
    },
    async queuedClaim(actor: string, taskId: string, clientTime: number) {
      const c = await clientFor(actor);
      const [o] = await c.mutate([{ name: 'claim', args: { taskId }, operatorId: actor, clientTime }]);
      return toAct(o!);
    },
  });

  for (const s of scenarios.filter((x) => x.only !== 'http')) {
    it(`${s.rule} ${s.title}`, () => s.run(driver()));
  }
});
