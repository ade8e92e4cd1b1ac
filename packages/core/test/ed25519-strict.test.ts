import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyBytes } from '@modelseal/core/internals';

// Ed25519 verification runs through OpenSSL plus the encoding checks of
// @noble/ed25519's strict mode; these are the forgeries strict mode exists for.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const msg = Buffer.from('the manifest');
const rawKey = (x: Uint8Array) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(x).toString('base64url') }, format: 'jwk' });

function leBytes(n: bigint): Buffer {
  const b = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) b[i] = Number(n & 0xffn);
  return b;
}

describe('Ed25519 verification is strict (RFC 8032, no malleable encodings)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const sig = sign(null, msg, privateKey);

  it('accepts an honest signature and rejects another message', () => {
    expect(verifyBytes(publicKey, msg, sig)).toBe(true);
    expect(verifyBytes(publicKey, Buffer.from('another'), sig)).toBe(false);
  });

  it('rejects S + L (the same signature, malleated)', () => {
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const malleated = Buffer.concat([sig.subarray(0, 32), leBytes(s + L)]);
    expect(verifyBytes(publicKey, msg, malleated)).toBe(false);
  });

  it('rejects a small-order public key with a signature that fits every message', () => {
    const identity = Buffer.alloc(32);
    identity[0] = 1; // the neutral point: [S]B = R + [k]A holds for S = 0, R = neutral, any message
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    expect(verifyBytes(rawKey(identity), msg, forged)).toBe(false);
    expect(verifyBytes(rawKey(identity), Buffer.from('anything at all'), forged)).toBe(false);
  });

  it('rejects wrong lengths without throwing', () => {
    expect(verifyBytes(publicKey, msg, sig.subarray(0, 63))).toBe(false);
  });
});
