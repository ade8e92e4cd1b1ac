import { createHash } from 'node:crypto';
import { FormatError } from './errors.js';
import { DIGEST_BYTES, type HashType } from './hashing/algorithms.js';
import { assertRelativeName, comparePaths } from './paths.js';

/** How the model was cut into resources; everything a verifier needs to recompute them. */
export type Serialization =
  | { method: 'files'; hashType: HashType; allowSymlinks: boolean; ignorePaths?: string[] }
  | { method: 'shards'; hashType: HashType; allowSymlinks: boolean; shardSize: number; ignorePaths?: string[] };

/** One hashed object: a file (`name` = its path) or a shard (`path:start:end`, end exclusive). */
export interface ResourceDescriptor {
  name: string;
  /** `sha256`, or `sha256-sharded-<shard_size>` for shards, as model_signing writes it */
  algorithm: string;
  /** lowercase hex */
  digest: string;
}

/** A hashed model. `resources` are in model_signing's canonical order. */
export interface Manifest {
  modelName: string;
  serialization: Serialization;
  resources: ResourceDescriptor[];
  /** hex SHA-256 over the raw digest bytes of `resources`, in order: the model's identity */
  rootDigest: string;
  /** set when read from an older format that has no root digest of its own (model_signing v0.2) */
  legacyFormat?: 'model_signing-v0.2';
}

export function resourceAlgorithm(s: Serialization): string {
  return s.method === 'shards' ? `${s.hashType}-sharded-${s.shardSize}` : s.hashType;
}

export interface ShardKey {
  path: string;
  start: number;
  end: number;
}

export function shardName(path: string, start: number, end: number): string {
  return `${path}:${start}:${end}`;
}

/** Splits on the last two colons so that a path containing ':' still parses. */
export function parseShardName(name: string): ShardKey {
  const m = /^(.*):(0|[1-9][0-9]*):(0|[1-9][0-9]*)$/s.exec(name);
  if (!m) throw new FormatError('BAD_SHARD_NAME', `shard resource "${name}" is not of the form path:start:end`);
  const start = Number(m[2]);
  const end = Number(m[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new FormatError('BAD_SHARD_NAME', `shard resource "${name}" has an invalid byte range`);
  }
  return { path: m[1]!, start, end };
}

/** The path a resource stands for: the file itself, or the file a shard belongs to. */
export function resourcePath(name: string, method: Serialization['method']): string {
  return method === 'shards' ? parseShardName(name).path : name;
}

/** model_signing's order: Python tuple order over (PurePosixPath, start, end). */
export function compareResourceNames(a: string, b: string, method: Serialization['method']): number {
  if (method === 'files') return comparePaths(a, b);
  const x = parseShardName(a);
  const y = parseShardName(b);
  return comparePaths(x.path, y.path) || x.start - y.start || x.end - y.end;
}

export function computeRootDigest(resources: readonly ResourceDescriptor[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** Builds a manifest from resources in any order. */
export function createManifest(
  modelName: string,
  serialization: Serialization,
  resources: ResourceDescriptor[],
): Manifest {
  const sorted = [...resources].sort((a, b) => compareResourceNames(a.name, b.name, serialization.method));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1]!.name === sorted[i]!.name) {
      throw new FormatError('DUPLICATE_RESOURCE', `resource "${sorted[i]!.name}" appears twice`);
    }
  }
  return { modelName, serialization, resources: sorted, rootDigest: computeRootDigest(sorted) };
}

/**
 * Checks one resource against the serialization it claims: name shape,
 * algorithm string, digest length. Used when reading manifests from others.
 */
export function checkResource(r: ResourceDescriptor, s: Serialization): void {
  if (s.method === 'shards') {
    const k = parseShardName(r.name);
    // "." is the one file of a single-file model, sharded like any other (model_signing names it so).
    assertRelativeName(k.path, 'resource name');
    if (k.end === k.start) throw new FormatError('BAD_SHARD_NAME', `shard "${r.name}" is empty; the OMS format gives empty files no shard`);
    if (k.start % s.shardSize !== 0) throw new FormatError('BAD_SHARD_NAME', `shard "${r.name}" does not start at a multiple of shard_size ${s.shardSize}`);
    if (k.end - k.start > s.shardSize) {
      throw new FormatError('BAD_SHARD_NAME', `shard "${r.name}" is larger than shard_size ${s.shardSize}`);
    }
  } else {
    assertRelativeName(r.name, 'resource name');
  }
  const want = resourceAlgorithm(s);
  if (r.algorithm !== want) {
    throw new FormatError('BAD_ALGORITHM', `resource "${r.name}" has algorithm "${r.algorithm}", expected "${want}"`);
  }
  const bytes = DIGEST_BYTES[s.hashType];
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(r.digest)) {
    throw new FormatError('BAD_DIGEST', `resource "${r.name}" has digest "${r.digest.slice(0, 80)}", expected ${bytes * 2} lowercase hex digits`);
  }
}
