/**
 * What authenticating one HTTP request costs the server's event loop (issue 12, http-load's
 * profile: the token's hash and its lookup were ~7 % of the server). 100 API clients' bearer tokens
 * of a plant's shape (4 departments, operators with the default limit), looked up round-robin
 * through `authenticateToken`, as every request does, on a real SQLite store in a temp folder.
 *
 * With BENCH_BASELINE_ROOT=<a built checkout> both checkouts' store and auth code take turns in one
 * process (BENCH_AUTH_ROUNDS rounds of 20,000 each, default 10), each on its own database file;
 * the figure is the median of the rounds' ratios (this machine is noisy). Alone it reports this
 * checkout's µs per authentication.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tokenHash } from '../src-shared/crypto/hash.js';
import { authenticateToken } from '../src-server/auth.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import { baselineRoot, report, round, tempDir } from './lib.js';

const CLIENTS = 100;
const PER_ROUND = 20_000;
const ROUNDS = Number(process.env.BENCH_AUTH_ROUNDS ?? 10);

type Authenticate = typeof authenticateToken;
type Store = SqliteServerStore;

interface Side {
  store: Store;
  authenticate: Authenticate;
}

const token = (c: number) => `api_${'5a'.repeat(32)}${String(c).padStart(3, '0')}`;

async function seed(store: Store): Promise<void> {
  const now = Date.now();
  for (let d = 0; d < 4; d++) await store.upsertDepartment({ id: `d${d}`, name: `Department ${d}`, taskLimit: null }, now);
  for (let c = 0; c < CLIENTS; c++) {
    await store.createUser(
      { id: `op${c}`, displayName: `Operator ${c}`, roles: ['operator'], departmentIds: [`d${c % 4}`], badgeHash: null, pinHash: null, passwordHash: null, active: true, taskLimit: null, skills: [], qualityScore: 0.5 },
      now,
    );
    await store.createApiToken({ id: `tok${c}`, userId: `op${c}`, name: 'bench', kind: 'api', expiresAt: null, revokedAt: null, tokenHash: tokenHash(token(c)) }, now);
  }
}

async function side(dir: string, root: string | null): Promise<Side> {
  const file = path.join(dir, root ? 'baseline.db' : 'claims.db');
  if (!root) {
    const store = new SqliteServerStore(file);
    await seed(store);
    return { store, authenticate: authenticateToken };
  }
  const load = async <T>(rel: string) => (await import(pathToFileURL(path.join(root, 'out/node', rel)).href)) as T;
  const { SqliteServerStore: BaseStore } = await load<{ SqliteServerStore: typeof SqliteServerStore }>('src-server/store/sqlite/store.js');
  const { authenticateToken: baseAuthenticate } = await load<{ authenticateToken: Authenticate }>('src-server/auth.js');
  const store = new BaseStore(file);
  await seed(store);
  return { store, authenticate: baseAuthenticate };
}

/** µs per authentication over one round. */
async function timeRound(s: Side): Promise<number> {
  const ctx = { store: s.store, clock: { now: () => Date.now() } };
  const started = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await s.authenticate(ctx, token(i % CLIENTS));
  return ((performance.now() - started) * 1000) / PER_ROUND;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const dir = tempDir('auth');
  const root = baselineRoot();
  try {
    const now = await side(dir, null);
    const before = root ? await side(dir, root) : null;
    await timeRound(now);
    if (before) await timeRound(before);
    const nowUs: number[] = [];
    const beforeUs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Taking turns, each first every other round.
      if (before && r % 2 === 1) beforeUs.push(await timeRound(before));
      nowUs.push(await timeRound(now));
      if (before && r % 2 === 0) beforeUs.push(await timeRound(before));
    }
    await now.store.close();
    await before?.store.close();
    report({
      bench: `auth: one HTTP request's authentication (bearer token hashed and looked up, its user read), ${CLIENTS} API clients round-robin${root ? `, against ${root}` : ''}`,
      figures: {
        clients: CLIENTS,
        rounds: ROUNDS,
        authenticationsPerRound: PER_ROUND,
        microsecondsPerAuthentication: round(median(nowUs), 1),
        ...(before
          ? {
              baselineMicrosecondsPerAuthentication: round(median(beforeUs), 1),
              medianRatioToBaseline: round(median(nowUs.map((n, i) => n / beforeUs[i]!)), 2),
            }
          : {}),
      },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
