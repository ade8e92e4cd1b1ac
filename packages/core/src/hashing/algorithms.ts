import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';

/** Hash types, spelled as model_signing writes them in `hash_type`. */
export type HashType = 'sha256' | 'blake2b' | 'blake3';
export const HASH_TYPES: readonly HashType[] = ['sha256', 'blake2b', 'blake3'];

/** Digest length in bytes, used to validate hex digests read from signatures. */
export const DIGEST_BYTES: Record<HashType, number> = { sha256: 32, blake2b: 64, blake3: 32 };

export interface StreamHasher {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

/**
 * SHA-256 and BLAKE2b go through node:crypto (OpenSSL, SHA-NI); BLAKE3 through
 * a native addon: WASM/JS BLAKE3 is slower than hardware SHA-256 here.
 */
export function createHasher(type: HashType): StreamHasher {
  switch (type) {
    case 'sha256':
      return createHash('sha256');
    case 'blake2b':
      return createHash('blake2b512');
    case 'blake3': {
      const h = new (blake3Addon().Blake3Hasher)();
      return { update: (d) => void h.update(d), digest: () => h.digestBuffer() };
    }
  }
}

type Blake3Module = typeof import('@napi-rs/blake-hash');
let blake3Module: Blake3Module | undefined;
/** Loaded on first use: a native addon costs start-up time that SHA-256 users should not pay. */
function blake3Addon(): Blake3Module {
  blake3Module ??= createRequire(import.meta.url)('@napi-rs/blake-hash') as Blake3Module;
  return blake3Module;
}

/** Accepts the CLI spellings (`blake2` as model_signing's CLI says) and the wire ones. */
export function parseHashType(s: string): HashType {
  if (s === 'sha256') return 'sha256';
  if (s === 'blake2' || s === 'blake2b') return 'blake2b';
  if (s === 'blake3') return 'blake3';
  throw new InputError('BAD_HASH_TYPE', `unknown hash type "${s}" (expected sha256, blake2 or blake3)`);
}
