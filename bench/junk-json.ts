/**
 * Junk JSON at the edges (SPEC SEC-9, SEC-7): what request bodies and frames built to be costly to
 * parse do to a real server process, before anyone has signed in. A kiosk pings the server every
 * 20 ms; its round trips are what every terminal waits for meanwhile. Each shape is sent 10 times,
 * one request after the other, as a body of 1 MiB (the JSON limit), to two routes: a sign-in,
 * before anyone is signed in, and a task's reject by an operator's API token:
 *
 * - `deep`: `[[[[…]]]]`, 500,000 levels;
 * - `flat {}`: 333,000 empty objects and one `"\u0000"` (so the text check has to walk it);
 * - `flat ""`: 250,000 empty strings.
 *
 * With BENCH_BASELINE_ROOT (a built checkout of earlier code) the same run measures that code's
 * server too, the two taking turns shape by shape, and reports the ratio of the longest pings.
 */
import path from 'node:path';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { Probe, request } from './abuse.js';
import { baselineRoot, report, round, startServerProcess, tempDir } from './lib.js';

const TERMINAL_TOKEN = 'bench-terminal-token-0001';
const SENDS = 10;

const SHAPES: Record<string, (field: string) => string> = {
  deep: (field) => `{"${field}":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
  'flat {}': (field) => `{"${field}":[${Array(333_000).fill('{}').join(',')},"\\u0000"]}`,
  'flat ""': (field) => `{"${field}":[${Array(250_000).fill('""').join(',')}]}`,
};
const OPERATOR_TOKEN = 'bench-operator-api-token-0001';
const ROUTES: Array<{ name: string; path: string; field: string; headers: Record<string, string> }> = [
  { name: 'sign-in', path: '/api/auth/sign-in', field: 'badge', headers: {} },
  { name: 'reject (signed in)', path: '/api/tasks/t1/reject', field: 'reason', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } },
];

async function seed(dir: string): Promise<void> {
  const store = new SqliteServerStore(path.join(dir, 'claims.db'));
  const now = Date.now();
  await store.upsertDepartment({ id: 'd1', name: 'Department 1', taskLimit: null }, now);
  await store.createTerminal({ id: 'k0', name: 'Kiosk 0', departments: ['d1'], tokenHash: tokenHash(TERMINAL_TOKEN) }, now);
  await store.createUser({ id: 'op1', displayName: 'Operator 1', roles: ['operator'], departmentIds: ['d1'], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 }, now);
  await store.createApiToken({ id: 'tok-op1', userId: 'op1', name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(OPERATOR_TOKEN) }, now);
  await store.close();
}

interface Side {
  label: string;
  url: string;
  probe: Probe;
  stop(): Promise<void>;
}

async function open(label: string, root: string | undefined): Promise<Side> {
  const dir = tempDir(`junk-${label}`);
  await seed(dir);
  const server = await startServerProcess(dir, root ? { root } : {});
  const probe = new Probe();
  await probe.open(server.url.replace(/^http/, 'ws') + '/sync');
  await new Promise((r) => setTimeout(r, 1000));
  probe.take();
  return {
    label,
    url: server.url,
    probe,
    async stop() {
      probe.close();
      await server.stop();
    },
  };
}

/** Send `body` SENDS times, one after the other; the longest ping and answer meanwhile. */
async function hammer(side: Side, route: (typeof ROUTES)[number], body: string): Promise<{ pingMaxMs: number; pingP50Ms: number; answerMs: number; statuses: number[] }> {
  side.probe.take();
  const statuses: number[] = [];
  let slowest = 0;
  for (let i = 0; i < SENDS; i++) {
    const t = performance.now();
    statuses.push((await request(side.url, { path: route.path, body, headers: route.headers })).status);
    slowest = Math.max(slowest, performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, 100));
  const pings = side.probe.take();
  return { pingMaxMs: round(pings.max, 1), pingP50Ms: round(pings.p50, 1), answerMs: round(slowest, 1), statuses: [...new Set(statuses)] };
}

export async function run(): Promise<void> {
  const base = baselineRoot();
  const now = await open('now', undefined);
  const before = base ? await open('before', base) : null;
  try {
    const figures: Record<string, unknown> = {};
    for (const route of ROUTES) {
      for (const [name, make] of Object.entries(SHAPES)) {
        const body = make(route.field);
        const a = await hammer(now, route, body);
        const b = before ? await hammer(before, route, body) : null;
        figures[`${route.name}, ${name}`] = b ? { now: a, before: b, pingMaxRatio: round(a.pingMaxMs / Math.max(b.pingMaxMs, 0.001), 2) } : { now: a };
      }
    }
    report({ bench: `junk-json: a kiosk's ping round trips while ${SENDS} bodies of 1 MiB of each shape arrive at each route, one after the other`, figures });
  } finally {
    await now.stop();
    await before?.stop();
  }
}
