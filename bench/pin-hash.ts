/**
 * SEC-31: what a PIN check costs, to choose the PIN hashes' scrypt parameters by a measured budget.
 * Terminals check PINs offline with the pure-JS scrypt of src-shared/crypto/hash.ts (verifySecret);
 * the server hashes them with Node's native scrypt (secrets.ts). For N = 2^14, 2^15, 2^16 (r = 8,
 * p = 1) this measures both, side by side, on this machine, and says which N keeps one kiosk check
 * within PIN_CHECK_BUDGET_MS. A kiosk checks a PIN with nothing else to do, so the figure that
 * decides is the fastest of the samples (the check's own cost: on a shared machine the median moves
 * with whatever else runs), times KIOSK_SLOWDOWN, how much slower than this machine the kiosk is
 * taken to be (1 by default; BENCH_KIOSK_SLOWDOWN projects a slower kiosk).
 * It also says what that buys: how long one CPU core needs to try every 4- and 6-digit PIN
 * against a copied terminal database (with native scrypt, as an attacker would).
 */
import { hashSecret, PIN_CHECK_BUDGET_MS, PIN_SCRYPT_PARAMS, verifySecret, type ScryptParams } from '../src-shared/crypto/hash.js';
import { hashSecretAsync, verifySecretAsync } from '../src-server/secrets.js';
import { report, round, summarize } from './lib.js';

const CANDIDATES = [2 ** 14, 2 ** 15, 2 ** 16];
/** How much slower than this machine the kiosk is taken to be. */
const KIOSK_SLOWDOWN = Number(process.env.BENCH_KIOSK_SLOWDOWN ?? 1);
const SAMPLES = Number(process.env.BENCH_PIN_SAMPLES ?? 7);

function params(N: number): ScryptParams {
  return { N, r: 8, p: 1, dkLen: 32 };
}

type Stats = ReturnType<typeof summarize> & { min: number };

/** summarize, plus the fastest sample (what the work costs when nothing else runs). */
function stats(samples: number[]): Stats {
  return { ...summarize(samples), min: round(Math.min(...samples)) };
}

function human(seconds: number): string {
  if (seconds < 120) return `${round(seconds, 1)} s`;
  if (seconds < 2 * 3600) return `${round(seconds / 60, 1)} min`;
  if (seconds < 2 * 86400) return `${round(seconds / 3600, 1)} h`;
  return `${round(seconds / 86400, 1)} days`;
}

export async function run(): Promise<void> {
  const rows: Array<{ N: number; pureJsVerifyMs: Stats; nativeHashMs: Stats; nativeVerifyMs: Stats }> = [];
  for (const N of CANDIDATES) {
    const stored = hashSecret('4321', params(N));
    // Warm up each path once (JIT, first allocation of the scrypt block).
    verifySecret('0000', stored);
    await hashSecretAsync('0000', params(N));
    const js: number[] = [];
    const nativeHash: number[] = [];
    const nativeVerify: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      let t = performance.now();
      if (verifySecret(String(1000 + i), stored)) throw new Error('a wrong PIN matched');
      js.push(performance.now() - t);
      t = performance.now();
      await hashSecretAsync(String(1000 + i), params(N));
      nativeHash.push(performance.now() - t);
      t = performance.now();
      if (await verifySecretAsync(String(1000 + i), stored)) throw new Error('a wrong PIN matched');
      nativeVerify.push(performance.now() - t);
    }
    if (!verifySecret('4321', stored)) throw new Error('the right PIN did not match');
    rows.push({ N, pureJsVerifyMs: stats(js), nativeHashMs: stats(nativeHash), nativeVerifyMs: stats(nativeVerify) });
  }

  const fits = rows.filter((r) => r.pureJsVerifyMs.min * KIOSK_SLOWDOWN <= PIN_CHECK_BUDGET_MS);
  const recommended = fits.length ? fits[fits.length - 1]!.N : CANDIDATES[0]!;
  const chosen = rows.find((r) => r.N === PIN_SCRYPT_PARAMS.N);
  const figures: Record<string, unknown> = {};
  for (const r of rows) {
    const exp = Math.log2(r.N);
    figures[`N=2^${exp} pure-JS verify (kiosk) p50 / min / max ms`] = `${round(r.pureJsVerifyMs.p50, 1)} / ${round(r.pureJsVerifyMs.min, 1)} / ${round(r.pureJsVerifyMs.max, 1)}`;
    figures[`N=2^${exp} native hash (server) p50 / min / max ms`] = `${round(r.nativeHashMs.p50, 1)} / ${round(r.nativeHashMs.min, 1)} / ${round(r.nativeHashMs.max, 1)}`;
    figures[`N=2^${exp} offline search, one core, native: 4 digits / 6 digits`] =
      `${human((1e4 * r.nativeVerifyMs.min) / 1000)} / ${human((1e6 * r.nativeVerifyMs.min) / 1000)}`;
  }
  figures.budget = `one offline PIN check on a kiosk (pure JS, fastest sample) <= ${PIN_CHECK_BUDGET_MS} ms, the kiosk taken as ${KIOSK_SLOWDOWN}x this machine's time`;
  figures.recommendedN = `2^${Math.log2(recommended)}`;
  figures.chosenN = `2^${Math.log2(PIN_SCRYPT_PARAMS.N)} (PIN_SCRYPT_PARAMS in src-shared/crypto/hash.ts)`;
  figures.samples = SAMPLES;
  report({
    bench: 'pin-hash',
    figures,
    targets: {
      'chosen N within the kiosk budget': {
        target: `pure-JS min x ${KIOSK_SLOWDOWN} <= ${PIN_CHECK_BUDGET_MS} ms`,
        met: chosen !== undefined && chosen.pureJsVerifyMs.min * KIOSK_SLOWDOWN <= PIN_CHECK_BUDGET_MS,
      },
      'chosen N is the largest that fits': { target: `2^${Math.log2(recommended)}`, met: PIN_SCRYPT_PARAMS.N === recommended },
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
