/**
 * PINs and passwords on the server: the same scrypt format as src-shared/crypto/hash.ts
 * (`scrypt$N$r$p$salt$hash`, which terminals check offline with the pure-JS implementation), but
 * computed with Node's native, asynchronous scrypt on the libuv thread pool, so a sign-in never
 * holds the event loop (every terminal's ping and every other request go on meanwhile).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PARAMS = { N: 2 ** 14, r: 8, p: 1, dkLen: 32 };

function derive(secret: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new hash of `secret`, readable by src-shared's verifySecret. */
export async function hashSecretAsync(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, PARAMS.dkLen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** Whether `secret` matches `stored` (any hash src-shared's hashSecret or hashSecretAsync made). */
export async function verifySecretAsync(secret: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltHex, hashHex] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || !Number.isInteger(R) || R < 1 || R > 32 || !Number.isInteger(P) || P < 1 || P > 16) return false;
  if (!/^[0-9a-f]*$/i.test(saltHex) || !/^[0-9a-f]+$/i.test(hashHex) || hashHex.length % 2 !== 0) return false;
  const expected = Buffer.from(hashHex, 'hex');
  try {
    const actual = await derive(secret, Buffer.from(saltHex, 'hex'), expected.length, { N, r: R, p: P, maxmem: 256 * N * R * P + 1024 * 1024 });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}
