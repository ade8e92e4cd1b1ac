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
    if (type === 'ed25519') return sig.length === 64 && verifyEd25519Strict(key, data, sig);
    return nodeVerify(ECDSA_HASH[type], data, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

/**
 * Strict RFC 8032 Ed25519, no malleable encodings accepted. OpenSSL checks the
 * equation (S < L, cofactorless [S]B = R + [k]A) natively; the checks that
 * @noble/ed25519's strict mode (zip215: false) adds on top are made here on
 * the decoded points: A and R canonically encoded (y < p) and A not of small
 * order. Together they accept no signature that noble's strict verify rejects.
 * Why not noble's verify alone: its first call builds base-point tables in
 * JavaScript, about 0.1 s of every `modelseal verify` (measured), while
 * OpenSSL needs none.
 */
function verifyEd25519Strict(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  if (!nodeVerify(null, data, key, sig)) return false;
  const A = ed.Point.fromBytes(ed25519Public(key), false); // throws on a non-canonical encoding
  ed.Point.fromBytes(sig.subarray(0, 32), false);
  return !A.isSmallOrder();
}
