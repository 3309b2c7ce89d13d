/**
 * PINs and passwords on the server: the same scrypt format as src-shared/crypto/hash.ts
 * (`scrypt$N$r$p$salt$hash`, which terminals check offline with the pure-JS implementation), but
 * computed with Node's native, asynchronous scrypt on the libuv thread pool, so a sign-in never
 * holds the event loop (every terminal's ping and every other request go on meanwhile).
 */
import { createHash, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { PASSWORD_SCRYPT_PARAMS, PIN_SCRYPT_PARAMS, scryptMaxmem, secretVerifier, tokenHashInput, type ScryptParams } from '../src-shared/crypto/hash.js';

function derive(secret: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * A new hash of `secret`, readable by src-shared's verifySecret. Passwords take the default
 * parameters; PINs, which go to terminals, take PIN_SCRYPT_PARAMS (SEC-31): use hashPinAsync.
 */
export async function hashSecretAsync(secret: string, params: ScryptParams = PASSWORD_SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, params.dkLen, { N: params.N, r: params.r, p: params.p, maxmem: scryptMaxmem(params.N, params.r, params.p) });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** SEC-31: a PIN's hash, with the parameters chosen for the offline PIN directory. */
export function hashPinAsync(pin: string): Promise<string> {
  return hashSecretAsync(pin, PIN_SCRYPT_PARAMS);
}

/**
 * Whether `secret` matches `stored` (any hash src-shared's hashSecret or hashSecretAsync made), with
 * Node's native scrypt off the event loop (SEC-1); the format and its limits are src-shared's.
 */
export const verifySecretAsync = secretVerifier(
  async (secret, salt, { N, r, p, dkLen }) => new Uint8Array(await derive(secret, Buffer.from(salt), dkLen, { N, r, p, maxmem: scryptMaxmem(N, r, p) })),
);

/**
 * src-shared's tokenHash, with Node's native SHA-256: every authenticated request hashes its
 * token, and the pure-JS hash cost about 25 µs of the event loop a request (`http-load` profile).
 */
export function tokenHashNative(token: string): string {
  return createHash('sha256').update(tokenHashInput(token), 'utf8').digest('hex');
}
