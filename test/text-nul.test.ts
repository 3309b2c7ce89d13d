/**
 * SEC-7 for NUL (U+0000): valid Unicode, but PostgreSQL's text cannot hold it, so every edge
 * refuses it with `invalid_input` naming the field, on both backends alike (SQLite would store it,
 * PostgreSQL would fail with an internal error): a JSON body, a JSON and a CSV import, a query
 * parameter, a WebSocket mutation and a hello. Nothing is stored; the server carries on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../src-shared/protocol/terminal.js';
import type { ServerStore } from '../src-server/store/types.js';
import { testBackends } from './support/backends.js';
import type { TestServer } from './support/server.js';
import { TestClient } from './support/ws-client.js';

const NUL = 'A\u0000B';

for (const backend of testBackends())
  describe.skipIf(backend.unavailable !== null)(`NUL in text${backend.suffix}`, () => {
    let server: TestServer<ServerStore>;
    const clients: TestClient[] = [];
    beforeAll(() => backend.setUp(), 120_000);
    afterAll(() => backend.tearDown());
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      await server?.stop();
    });

    async function call(path: string, options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {}) {
      const res = await fetch(`${server.url}${path}`, {
        method: options.body !== undefined || options.raw !== undefined ? 'POST' : 'GET',
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          'content-type': options.contentType ?? 'application/json',
        },
        ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as { code?: string; details?: Record<string, unknown>; token?: string; errors?: unknown } };
    }

    it('SEC-7 a NUL character is refused at every edge with invalid_input naming the field, and nothing is stored', async () => {
      server = await backend.start();
      expect(server.store.backend).toBe(backend.name);
      const sue = (await call('/api/auth/sign-in', { body: { userId: 'sue', password: 'supervisor-pass' } })).body.token!;
      const ann = (await call('/api/auth/sign-in', { body: { badge: 'B-ANN' } })).body.token!;

      // A JSON import.
      const imp = await call('/api/tasks/import', { token: sue, body: { rows: [{ taskId: 'n1', workOrderNumber: 'WO-N', step: 'cut', workContent: NUL, departmentId: 'cut' }] } });
      expect(imp.status).toBe(400);
      expect(imp.body).toMatchObject({ code: 'invalid_input', details: { field: 'rows.0.workContent', problem: expect.stringMatching(/NUL/) } });
      expect(await server.store.getTask('n1', server.clock.now())).toBeNull();
      // A CSV import: the row is refused, nothing imported.
      const csv = await call('/api/tasks/import', { token: sue, contentType: 'text/csv', raw: `taskId,workOrderNumber,step,workContent,departmentId\nn2,WO-N,cut,${NUL},cut\n` });
      expect(csv.status).toBe(422);
      expect(csv.body.code).toBe('import_rejected');
      expect(JSON.stringify(csv.body.details)).toMatch(/workContent.*NUL/);
      expect(await server.store.getTask('n2', server.clock.now())).toBeNull();
      // A reason in an HTTP body.
      expect((await call('/api/tasks/t1/claim', { token: ann, body: {} })).status).toBe(200);
      const reject = await call('/api/tasks/t1/reject', { token: ann, body: { reason: NUL } });
      expect(reject.status).toBe(400);
      expect(reject.body).toMatchObject({ code: 'invalid_input', details: { field: 'reason' } });
      // A query parameter.
      const q = await call('/api/tasks?q=A%00B', { token: sue });
      expect(q.status).toBe(400);
      expect(q.body).toMatchObject({ code: 'invalid_input', details: { field: 'query.q' } });

      // A WebSocket mutation: rejected alone, its id consumed; the task is still ann's.
      const kiosk = await TestClient.connect(server.wsUrl, { terminalId: 'k2', token: 'term_test_token_2', clientTime: server.clock.now() });
      clients.push(kiosk);
      const [, rejected] = await kiosk.mutate([
        { name: 'signIn', args: { method: 'badge' }, operatorId: 'ann', clientTime: server.clock.now() },
        { name: 'reject', args: { taskId: 't1', reason: NUL }, operatorId: 'ann', clientTime: server.clock.now() },
      ]);
      expect(rejected).toMatchObject({ status: 'rejected', error: { code: 'invalid_input', details: { field: 'args.reason' } } });
      const task = (await server.store.getTask('t1', server.clock.now()))!;
      expect(task.operatorId).toBe('ann');
      expect(task.status).toBe('pending');
      // A hello: the handshake fails, naming the field.
      const bad = await TestClient.open(server.wsUrl);
      clients.push(bad);
      bad.sendRaw({ type: 'hello', protocolVersion: 2, terminalId: 'k1', token: 'term_test_token_1', cursor: null, lastAckedMutationId: 0, clientTime: server.clock.now(), appVersion: NUL, outbox: 0 });
      const refused = await bad.waitFor((f) => f.type === 'error');
      expect((refused as Extract<ServerFrame, { type: 'error' }>).error).toMatchObject({ code: 'invalid_input', details: { field: 'appVersion' } });
      // The server carries on.
      expect((await call('/api/tasks/t2/claim', { token: ann, body: {} })).status).toBe(200);
    });
  });
