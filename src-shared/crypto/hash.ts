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

export function tokenHash(token: string): string {
  return bytesToHex(sha256(utf8ToBytes(`token\u0000${token}`)));
}

/** A new random token: `prefix_` + 32 random bytes in hex. */
export function newToken(prefix: string): string {
  return `${prefix}_${bytesToHex(randomBytes(32))}`;
}

export function randomHex(bytes: number): string {
  return bytesToHex(randomBytes(bytes));
}

const SCRYPT_PARAMS = { N: 2 ** 14, r: 8, p: 1, dkLen: 32 };

/** scrypt$N$r$p$salt$hash */
export function hashSecret(secret: string, params = SCRYPT_PARAMS): string {
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

export function verifySecret(secret: string, stored: string | null | undefined): boolean {
  if (!stored) return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltHex, hashHex] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20) return false;
  try {
    const expected = hexToBytes(hashHex);
    const actual = scrypt(utf8ToBytes(secret), hexToBytes(saltHex), { N, r: Number(r), p: Number(p), dkLen: expected.length });
    return constantTimeEqual(actual, expected);
  } catch {
    return false;
  }
}

export function hashEquals(aHex: string, bHex: string): boolean {
  try {
    return constantTimeEqual(hexToBytes(aHex), hexToBytes(bHex));
  } catch {
    return false;
  }
}
