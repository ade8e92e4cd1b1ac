import { createHash } from 'node:crypto';
import type { Manifest } from './manifest.js';
import { toOmsStatement } from './statement.js';

/**
 * SHA-256 over the canonical manifest: the OMS predicate (serialization and
 * every resource's name, algorithm and digest) as modelseal serializes it.
 * The OMS root digest hashes the resource digests only, so renaming files
 * keeps it; this digest changes with any name, digest or hashing parameter,
 * and is what attestations bind besides the root digest.
 */
export function manifestDigest(m: Manifest): string {
  return createHash('sha256').update(JSON.stringify(toOmsStatement(m).predicate)).digest('hex');
}
