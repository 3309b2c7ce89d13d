/**
 * Seeded kill points for the tests that SIGKILL a real process: where the kill lands is drawn from
 * a small PRNG seeded by `KILL_SEED` (a fixed default), named in the test's title and added to a
 * failure's message, so a red run can be replayed with `KILL_SEED=<seed>` (and other seeds explored).
 */

export const DEFAULT_KILL_SEED = 2026;

function seedFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_KILL_SEED;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed)) throw new Error(`KILL_SEED must be a whole number, not ${JSON.stringify(value)}`);
  return seed >>> 0;
}

export const KILL_SEED = seedFromEnv(process.env.KILL_SEED);

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [min, max], both included. */
  int(min: number, max: number): number;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/** Run a test body; a failure's message then says which seed drew the kill point and how to replay it. */
export async function withKillSeed<T>(seed: number, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Error) err.message = `${err.message}\n(kill point drawn with KILL_SEED=${seed}; replay with KILL_SEED=${seed})`;
    throw err;
  }
}
