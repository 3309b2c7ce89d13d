/** Every SPEC rule through the HTTP API: each person acts with their own API token. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { httpStatusOf, type ErrorCode } from '../src-shared/domain/errors.js';
import type { SyncTask } from '../src-shared/protocol/terminal.js';
import type { TaskOperation } from '../src-server/engine/mutations.js';
import { scenarios, type ActResult, type RuleDriver } from './support/rule-scenarios.js';
import type { ServerStore } from '../src-server/store/types.js';
import { testBackends } from './support/backends.js';
import type { TestServer } from './support/server.js';

interface Answer {
  ok?: boolean;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  retry?: { canRetry: boolean; suggestion: string; actionText: string };
  task?: SyncTask | null;
  [key: string]: unknown;
}

/** Map an HTTP answer to the route-independent result the scenarios check. */
function toAct(status: number, body: Answer): ActResult {
  if (status === 200 && body.ok === true) {
    const { ok: _ok, task, ...value } = body;
    return { ok: true, value, task: task ?? null };
  }
  // ERR-1: every error answers with the one status of its code.
  expect(status).toBe(httpStatusOf(body.code as ErrorCode));
  return {
    ok: false,
    code: body.code!,
    message: body.message!,
    details: body.details!,
    retry: body.retry!,
    task: body.task ?? null,
  };
}

// The same scenarios on every server store: SQLite, and PostgreSQL (a throwaway cluster for this
// file, a fresh database per test).
for (const backend of testBackends()) describe.skipIf(backend.unavailable !== null)(`SPEC rules through the HTTP API${backend.suffix}`, () => {
  let server: TestServer<ServerStore>;
  beforeAll(() => backend.setUp(), 120_000);
  afterAll(() => backend.tearDown());
  let tokens: Map<string, string>;

  beforeEach(async () => {
    server = await backend.start();
    expect(server.store.backend).toBe(backend.name);
    tokens = new Map();
  });
  afterEach(async () => {
    await server.stop();
  });

  async function tokenFor(actor: string): Promise<string> {
    let token = tokens.get(actor);
    if (token) return token;
    token = `api_rules_${actor}`;
    await server.store.createApiToken(
      { id: `tok-${actor}`, userId: actor, name: `rules ${actor}`, kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token) },
      server.clock.now(),
    );
    tokens.set(actor, token);
    return token;
  }

  const driver = (): RuleDriver => ({
    route: 'http',
    server,
    async act(actor: string, op: TaskOperation) {
      const { name, taskId, ...body } = op;
      const res = await fetch(`${server.url}/api/tasks/${encodeURIComponent(taskId)}/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokenFor(actor)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as Answer;
      if (answer.code === 'task_conflict') {
        // CLM-7 over HTTP: 409 with the holder and the task at the top level too.
        expect(res.status).toBe(409);
        expect(answer.currentOwner).toEqual(answer.details!.currentOwner);
        expect(answer.taskId).toBe(taskId);
      }
      return toAct(res.status, answer);
    },
  });

  for (const s of scenarios.filter((x) => x.only !== 'terminal')) {
    it(`${s.rule} ${s.title}`, () => s.run(driver()));
  }
});
