/**
 * fast-check for the property tests, with a fixed seed: every run tries the same cases, so a red
 * property is red again on the next run and on another machine. `FC_SEED=<integer>` runs them with
 * another seed to explore (e.g. `FC_SEED=$RANDOM`). A failing `fc.assert` throws with the seed, the
 * counterexample's path, the shrunk counterexample and the error; replay it with `FC_SEED=<seed>`.
 * Test files import fast-check from here, never directly (eslint.config.js says so).
 */
import fc from 'fast-check';

/** The seed of every property unless FC_SEED says otherwise. */
export const DEFAULT_FC_SEED = 1104;

function seedFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_FC_SEED;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be a whole number, not ${JSON.stringify(value)}`);
  return seed | 0;
}

export const FC_SEED = seedFromEnv(process.env.FC_SEED);

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: FC_SEED });

export default fc;
