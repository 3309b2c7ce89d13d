/**
 * Hashes shared by the server and terminals. Badges are looked up by a keyed SHA-256 (the site
 * salt is known to enrolled terminals, so the directory can be checked offline); PINs and
 * passwords use scrypt with a per-secret salt; bearer tokens (long random strings) use SHA-256.
 * Pure JS (@noble/hashes), so this runs in every layer without Node's crypto.
 */
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/** Badge numbers as scanners and people type them: trimmed, upper-case, no inner spaces. */
export function normalizeBadge(badge: string): string {
  return badge.replace(/\s+/g, '').toUpperCase();
}

export function badgeHash(siteSalt: string, badge: string): string {
  return bytesToHex(sha256(utf8ToBytes(`badge\u0000${siteSalt}\u0000${normalizeBadge(badge)}`)));
}

/** What a bearer token's hash is taken of (the server hashes it natively too: src-server/secrets.ts). */
export function tokenHashInput(token: string): string {
  return `token\u0000${token}`;
}

export function tokenHash(token: string): string {
  return bytesToHex(sha256(utf8ToBytes(tokenHashInput(token))));
}

/** A new random token: `prefix_` + 32 random bytes in hex. */
export function newToken(prefix: string): string {
  return `${prefix}_${bytesToHex(randomBytes(32))}`;
}

export function randomHex(bytes: number): string {
  return bytesToHex(randomBytes(bytes));
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  dkLen: number;
}

/**
 * Passwords: checked only on the server (they never go to terminals), with Node's native scrypt.
 * Also the default of `hashSecret`, and what every hash made before SEC-31 used.
 */
export const PASSWORD_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 14, r: 8, p: 1, dkLen: 32 };

/**
 * SEC-31: PINs go to terminals (the offline directory), where a copied database can be guessed
 * against offline, so they cost as much as a kiosk can afford for one sign-in: N is the largest
 * that `npm run bench -- pin-hash` measures within PIN_CHECK_BUDGET_MS for one pure-JS check
 * (on the 2-core development machine, 2026-11-26: 2^15 took 146 ms, 2^16 332 ms; README,
 * Benchmarks). Hashes carry their N, so PINs hashed with other parameters keep verifying.
 */
export const PIN_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1, dkLen: 32 };

/** SEC-31: what one offline PIN check on a kiosk may cost (pure JS, the kiosk's own CPU). */
export const PIN_CHECK_BUDGET_MS = 250;

/** The memory Node's native scrypt must be allowed for these parameters (128·N·r·p plus its own buffers). */
export function scryptMaxmem(N: number, r: number, p: number): number {
  return 256 * N * r * p + 1024 * 1024;
}

/** The largest scrypt cost a stored hash may ask for (a bigger one is refused, not computed). */
export const MAX_SCRYPT_N = 2 ** 20;

/** scrypt$N$r$p$salt$hash */
export function hashSecret(secret: string, params: ScryptParams = PASSWORD_SCRYPT_PARAMS): string {
  const salt = randomBytes(16);
  const hash = scrypt(utf8ToBytes(secret), salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${bytesToHex(salt)}$${bytesToHex(hash)}`;
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * The scrypt cost parameters a stored `scrypt$N$r$p$salt$hash` carries, or null when it is not
 * such a hash or asks for more than a terminal or the server will compute (N a power of two up to
 * MAX_SCRYPT_N, r 1..32, p 1..16).
 */
export function scryptParamsOf(stored: string | null | undefined): { N: number; r: number; p: number } | null {
  if (!stored) return null;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const N = Number(parts[1]);
  const r = Number(parts[2]);
  const p = Number(parts[3]);
  if (!Number.isInteger(N) || N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return null;
  if (!/^[0-9a-f]*$/i.test(parts[4]!) || !/^[0-9a-f]+$/i.test(parts[5]!) || parts[5]!.length % 2 !== 0 || parts[4]!.length % 2 !== 0) return null;
  return { N, r, p };
}

export function verifySecret(secret: string, stored: string | null | undefined): boolean {
  const params = scryptParamsOf(stored);
  if (!params) return false;
  const [, , , , saltHex, hashHex] = stored!.split('$') as [string, string, string, string, string, string];
  try {
    const expected = hexToBytes(hashHex);
    const actual = scrypt(utf8ToBytes(secret), hexToBytes(saltHex), { N: params.N, r: params.r, p: params.p, dkLen: expected.length });
    return constantTimeEqual(actual, expected);
  } catch {
    return false;
  }
}

/**
 * One scrypt derivation, given from outside: where this code runs in Node (the server, the
 * terminal core) it is Node's native, asynchronous scrypt on the libuv pool, so a check never holds
 * the event loop (SEC-1); this module stays free of `node:` imports.
 */
export type ScryptDerive = (secret: string, salt: Uint8Array, params: { N: number; r: number; p: number; dkLen: number }) => Promise<Uint8Array>;

/** A checker of stored hashes that derives with `derive` (the same format and limits as verifySecret). */
export function secretVerifier(derive: ScryptDerive): (secret: string, stored: string | null | undefined) => Promise<boolean> {
  return async (secret, stored) => {
    const params = scryptParamsOf(stored);
    if (!params) return false;
    const [, , , , saltHex, hashHex] = stored!.split('$') as [string, string, string, string, string, string];
    try {
      const expected = hexToBytes(hashHex);
      const actual = await derive(secret, hexToBytes(saltHex), { ...params, dkLen: expected.length });
      return constantTimeEqual(actual, expected);
    } catch {
      return false;
    }
  };
}

export function hashEquals(aHex: string, bHex: string): boolean {
  try {
    return constantTimeEqual(hexToBytes(aHex), hexToBytes(bHex));
  } catch {
    return false;
  }
}
