/**
 * AUTH-1: the server's native scrypt and the terminals' pure-JS scrypt read each other's hashes
 * (terminals check PINs offline against hashes the server made), and a wrong secret never matches.
 */
import { describe, expect, it } from 'vitest';
import { hashSecret, newToken, tokenHash, verifySecret } from '../src-shared/crypto/hash.js';
import { hashSecretAsync, tokenHashNative, verifySecretAsync } from './secrets.js';

describe('AUTH-1 secrets hashed on the server', () => {
  it('are read by the terminals\u2019 verifier, and the server reads theirs', async () => {
    const fromServer = await hashSecretAsync('4321');
    expect(fromServer).toMatch(/^scrypt\$16384\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(verifySecret('4321', fromServer)).toBe(true);
    expect(verifySecret('4322', fromServer)).toBe(false);
    const fromShared = hashSecret('correct horse ✓ 电池');
    expect(await verifySecretAsync('correct horse ✓ 电池', fromShared)).toBe(true);
    expect(await verifySecretAsync('correct horse', fromShared)).toBe(false);
  });

  it('refuse malformed or absent hashes instead of throwing', async () => {
    for (const stored of [null, '', 'scrypt$x$8$1$aa$bb', 'bcrypt$1$2$3$4$5', 'scrypt$16384$8$1$zz$00', `scrypt$${2 ** 22}$8$1$aa$bb`]) {
      expect(await verifySecretAsync('4321', stored)).toBe(false);
    }
  });
});

describe('AUTH-1 bearer tokens hashed on the server', () => {
  it('AUTH-1 the native hash a request is looked up by is the hash stored at issue, for every kind of token', () => {
    const tokens = [newToken('api'), newToken('ses'), 'x', '', 'token with spaces', 'ünïcödé ✓ 电池', '\u0000nul', 'a'.repeat(10_000)];
    for (const token of tokens) expect(tokenHashNative(token), token.slice(0, 20)).toBe(tokenHash(token));
    expect(tokenHashNative('api_a')).not.toBe(tokenHashNative('api_b'));
  });
});
