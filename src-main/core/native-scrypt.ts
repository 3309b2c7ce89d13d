/**
 * PIN and maintenance-secret checks on the terminal with Node's native, asynchronous scrypt: the
 * core runs in Node (the browser host, Electron's main process), so a PIN check (about 150 ms in
 * pure JS at the SEC-31 cost) runs on the libuv pool instead of holding the event loop that syncs
 * with the server and answers the screen (SEC-1). The format is src-shared's.
 */
import { scrypt } from 'node:crypto';
import { scryptMaxmem, secretVerifier } from '../../src-shared/crypto/hash.js';

export const verifySecretNative = secretVerifier(
  (secret, salt, { N, r, p, dkLen }) =>
    new Promise((resolve, reject) =>
      scrypt(secret, salt, dkLen, { N, r, p, maxmem: scryptMaxmem(N, r, p) }, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key)))),
    ),
);
