import { sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { ECDSA_HASH, ed25519Public, ed25519Secret, keyTypeOf } from './keys.js';

/** Signs bytes: Ed25519 through @noble/ed25519, ECDSA through OpenSSL with the curve's hash, DER-encoded. */
export function signBytes(key: KeyObject, data: Uint8Array): Uint8Array {
  const type = keyTypeOf(key, 'signing key');
  if (type === 'ed25519') return ed.sign(data, ed25519Secret(key));
  return nodeSign(ECDSA_HASH[type], data, { key, dsaEncoding: 'der' });
}

/** Never throws on malformed signatures: a bad signature is just `false`. */
export function verifyBytes(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  const type = keyTypeOf(key, 'public key');
  try {
    // zip215 false: strict RFC 8032 verification, no malleable encodings accepted.
    if (type === 'ed25519') return sig.length === 64 && ed.verify(sig, data, ed25519Public(key), { zip215: false });
    return nodeVerify(ECDSA_HASH[type], data, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}
