/** HTTP helpers for tests against a real server: one call, and API tokens made in the store. */
import { tokenHash } from '../../src-shared/crypto/hash.js';
import type { ServerStore } from '../../src-server/store/types.js';
import type { TestServer } from './server.js';

export type Body = Record<string, unknown>;

export interface Answer {
  status: number;
  headers: Headers;
  body: Body;
  text: string;
}

export interface CallOptions {
  method?: string;
  token?: string | null;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export async function call(server: TestServer<ServerStore>, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${server.url}${path}`, {
    method: options.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: Body = {};
  try {
    parsed = JSON.parse(text) as Body;
  } catch {
    // not JSON (CSV, HTML, plain text)
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

let tokens = 0;

/** An API token for `userId`, made directly in the store (only its hash is kept). */
export async function apiToken(
  server: TestServer<ServerStore>,
  userId: string,
  over: { expiresAt?: number | null; kind?: 'api' | 'session' } = {},
): Promise<{ token: string; id: string }> {
  const n = ++tokens;
  const token = `api_test_${userId}_${n}_${Math.random().toString(36).slice(2)}`;
  const id = `tok-${userId}-${n}`;
  await server.store.createApiToken(
    { id, userId, name: 'test', kind: over.kind ?? 'api', expiresAt: over.expiresAt ?? null, revokedAt: null, tokenHash: tokenHash(token) },
    server.clock.now(),
  );
  return { token, id };
}

/** Poll `check` until it returns true, up to `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 2000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
