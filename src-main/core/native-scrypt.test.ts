/** SEC-1 on the terminal: PIN checks with Node's native scrypt agree with src-shared's pure-JS check. */
import { describe, expect, it } from 'vitest';
import { PIN_SCRYPT_PARAMS, hashSecret, verifySecret } from '../../src-shared/crypto/hash.js';
import { verifySecretNative } from './native-scrypt.js';

describe('SEC-1 the terminal checks PINs off its event loop', () => {
  it('SEC-1 the native check accepts exactly what the pure-JS check accepts, old and new parameters alike', async () => {
    for (const stored of [hashSecret('4821', PIN_SCRYPT_PARAMS), hashSecret('4821')]) {
      expect(await verifySecretNative('4821', stored)).toBe(true);
      expect(verifySecret('4821', stored)).toBe(true);
      expect(await verifySecretNative('4822', stored)).toBe(false);
    }
    expect(await verifySecretNative('4821', null)).toBe(false);
    expect(await verifySecretNative('4821', 'scrypt$2097152$8$1$00$00')).toBe(false);
    expect(await verifySecretNative('4821', 'not a hash')).toBe(false);
  });
});
