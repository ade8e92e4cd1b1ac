import { statSync } from 'node:fs';
import { InputError } from './errors.js';
import { parseHashType, type HashType } from './hashing/algorithms.js';
import { HashPool } from './hashing/pool.js';
import type { HashTask } from './hashing/read-range.js';
import { hashTarball, isTarballPath } from './inputs/tar.js';
import { walkModel, type ModelFile } from './inputs/walk.js';
import { LIMITS } from './limits.js';
import { createManifest, resourceAlgorithm, shardName, type Manifest, type ResourceDescriptor, type Serialization } from './manifest.js';
import { ignorePathInModel, normalizeIgnorePath } from './paths.js';

/** model_signing's default shard size (1 GB), kept so default shard manifests match it. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;
export const DEFAULT_SIGNATURE_NAME = 'model.sig';
/** Ignored by default, as model_signing does. */
export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

/** Hashing progress: bytes hashed so far of the total to hash. */
export interface HashProgress {
  bytesDone: number;
  bytesTotal: number;
}

/**
 * Digests known without reading the file: a verification cache, or an old
 * signature when re-signing incrementally. `lookup` must answer only for
 * exactly this state of the file (`ModelFile.state`), else undefined.
 */
export interface DigestSource {
  /** hex digests of the file's resources, in order (one for files, one per shard) */
  lookup(file: ModelFile, serialization: Serialization): string[] | undefined;
  /** told each file's fresh digests after hashing */
  store?(file: ModelFile, serialization: Serialization, digests: string[]): void;
}

/** How to hash a model: the serialization (hash, files or shards, ignores, symlinks) and how to run (workers, progress, known digests). */
export interface HashOptions {
  /** `sha256` (default), `blake2b` (CLI spelling `blake2` accepted) or `blake3` */
  hashType?: HashType | 'blake2';
  method?: 'files' | 'shards';
  shardSize?: number;
  /** paths relative to the model root; a folder ignores all below it */
  ignorePaths?: readonly string[];
  /** ignore .git, .gitattributes, .github, .gitignore (default true) */
  ignoreGitPaths?: boolean;
  /** the signature file's name inside the model folder, ignored (default model.sig; null: none, the signature is elsewhere) */
  signatureName?: string | null;
  allowSymlinks?: boolean;
  /** hash only files whose names are in this set; the others are listed by name in `unhashed`, never read */
  onlyPaths?: ReadonlySet<string>;
  /** digests that need no reading (cache, incremental re-signing) */
  known?: DigestSource;
  /**
   * Hash only the resources (file, byte range) this returns true for; the
   * others are left out of the manifest, unread (one part of a distributed
   * hash). Folders and single files only.
   */
  selectRange?: (file: ModelFile, start: number, end: number) => boolean;
  /** worker threads; defaults to the CPU count */
  workers?: number;
  onProgress?: (p: HashProgress) => void;
}

/** A manifest plus what hashing saw on the way. */
export interface HashDetails {
  manifest: Manifest;
  /** files present but outside `onlyPaths`: named, not hashed */
  unhashed: string[];
  /** shard mode: empty files, which the OMS spec gives no resource */
  emptyFiles: string[];
  /** files whose digests came from `known` */
  reused: number;
  bytesHashed: number;
}

/** The byte ranges a file of `size` bytes is cut into: one for files, shards otherwise (none for an empty file, OMS 6.3.2). */
export function resourceRanges(size: number, shardSize: number | undefined): Array<[number, number]> {
  if (shardSize === undefined) return [[0, size]];
  const out: Array<[number, number]> = [];
  for (let s = 0; s < size; s += shardSize) out.push([s, Math.min(s + shardSize, size)]);
  return out;
}

/** The serialization a set of options stands for, with the complete ignore list recorded. */
export function serializationFor(opts: HashOptions): Serialization {
  const hashType = parseHashType(opts.hashType ?? 'sha256');
  const ignore = new Set<string>();
  if (opts.ignoreGitPaths ?? true) GIT_PATHS.forEach((p) => ignore.add(p));
  if (opts.signatureName !== null) ignore.add(normalizeIgnorePath(opts.signatureName ?? DEFAULT_SIGNATURE_NAME));
  for (const p of opts.ignorePaths ?? []) ignore.add(normalizeIgnorePath(p));
  if (ignore.size > LIMITS.ignorePaths) throw new InputError('TOO_MANY_IGNORE_PATHS', `${ignore.size} ignore paths, over the limit of ${LIMITS.ignorePaths}`);
  const ignorePaths = [...ignore].sort();
  const allowSymlinks = opts.allowSymlinks ?? false;
  const method = opts.method ?? 'files';
  if (method === 'files') {
    if (opts.shardSize !== undefined) throw new InputError('BAD_OPTION', '--shard-size only applies to --method shards');
    return { method, hashType, allowSymlinks, ignorePaths };
  }
  if (method !== 'shards') throw new InputError('BAD_OPTION', `unknown method "${String(method)}" (expected files or shards)`);
  const shardSize = opts.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isSafeInteger(shardSize) || shardSize <= 0) {
    throw new InputError('BAD_OPTION', `shard size must be a positive integer number of bytes, got ${shardSize}`);
  }
  return { method, hashType, allowSymlinks, shardSize, ignorePaths };
}

/**
 * The options that reproduce a recorded serialization: what a verifier (or an
 * attestation about a signed model) must hash with to get the signed digest.
 * The inverse of `serializationFor`, less the ignores every caller adds itself.
 */
export function hashOptionsFor(s: Serialization): HashOptions {
  return {
    hashType: s.hashType,
    method: s.method,
    ...(s.method === 'shards' ? { shardSize: s.shardSize } : {}),
    allowSymlinks: s.allowSymlinks,
    ignorePaths: s.ignorePaths ?? [],
  };
}

/**
 * Hashes a model folder, a single file, or a `.tar`/`.tar.gz` of a folder
 * into its OMS manifest. Memory stays constant in the model's size (not in
 * its file count: the manifest lists every file).
 */
export async function hashModel(modelPath: string, opts: HashOptions = {}): Promise<Manifest> {
  return (await hashModelDetailed(modelPath, opts)).manifest;
}

/** `hashModel`, with what was left unhashed, empty files and reuse counts. */
export async function hashModelDetailed(modelPath: string, opts: HashOptions = {}): Promise<HashDetails> {
  const serialization = serializationFor({ ...opts, ignorePaths: (opts.ignorePaths ?? []).map((p) => ignorePathInModel(p, modelPath)) });
  const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
  const algorithm = resourceAlgorithm(serialization);
  const ignorePaths = serialization.ignorePaths ?? [];
  const only = opts.onlyPaths;

  if (isTarballPath(modelPath) && isFile(modelPath)) {
    if (opts.selectRange) throw new InputError('PART_NEEDS_FOLDER', `${modelPath}: a tarball is read as one stream and cannot be hashed in parts; unpack it first`);
    let done = 0;
    const t = await hashTarball(modelPath, {
      hashType: serialization.hashType,
      ignorePaths,
      ...(shardSize !== undefined ? { shardSize } : {}),
      onBytes: opts.onProgress ? (n) => opts.onProgress!({ bytesDone: (done += n), bytesTotal: 0 }) : undefined,
    });
    const emptyFiles = shardSize === undefined ? [] : t.digests.filter((d) => d.start === d.end).map((d) => d.path);
    const kept = t.digests.filter((d) => shardSize === undefined || d.end > d.start);
    const resources = kept
      .filter((d) => !only || only.has(d.path))
      .map((d) => ({
        name: shardSize === undefined ? d.path : shardName(d.path, d.start, d.end),
        algorithm,
        digest: Buffer.from(d.digest).toString('hex'),
      }));
    const unhashed = only ? [...new Set(kept.filter((d) => !only.has(d.path)).map((d) => d.path))] : [];
    return { manifest: createManifest(t.modelName, serialization, resources), unhashed, emptyFiles, reused: 0, bytesHashed: done };
  }

  const pool = new HashPool({
    hashType: serialization.hashType,
    noFollow: !serialization.allowSymlinks,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
  try {
    return await hashFolder(modelPath, serialization, { shardSize, algorithm, only }, opts, pool);
  } finally {
    await pool.close();
  }
}

interface Naming {
  shardSize: number | undefined;
  algorithm: string;
  only: ReadonlySet<string> | undefined;
}

async function hashFolder(modelPath: string, serialization: Serialization, { shardSize, algorithm, only }: Naming, opts: HashOptions, pool: HashPool): Promise<HashDetails> {
  const walked = walkModel(modelPath, { ignorePaths: serialization.ignorePaths ?? [], allowSymlinks: serialization.allowSymlinks });
  const files = walked.files.filter((f) => !only || only.has(f.name));
  const unhashed = only ? walked.files.filter((f) => !only.has(f.name)).map((f) => f.name) : [];
  const emptyFiles = shardSize === undefined ? [] : walked.files.filter((f) => f.size === 0).map((f) => f.name);
  const resources: ResourceDescriptor[] = [];
  const tasks: HashTask[] = [];
  const pending = new Map<ModelFile, number[]>(); // file -> its task ids, when it must be read
  let reused = 0;
  // Count first: a planted serialization (shard_size 1) must not allocate millions of tasks before it is refused.
  const count = files.reduce((n, f) => n + (shardSize === undefined ? 1 : Math.ceil(f.size / shardSize)), 0);
  if (count > LIMITS.resources) {
    throw new InputError('TOO_MANY_RESOURCES', `${modelPath}: ${count} resources, over the limit of ${LIMITS.resources} (use a larger shard size)`);
  }
  for (const f of files) {
    const all = resourceRanges(f.size, shardSize);
    const ranges = opts.selectRange ? all.filter(([start, end]) => opts.selectRange!(f, start, end)) : all;
    if (ranges.length === 0 && all.length > 0) continue;
    const name = (start: number, end: number) => (shardSize === undefined ? f.name : shardName(f.name, start, end));
    // `known` speaks for whole files: a file cut by selectRange is always read
    const whole = ranges.length === all.length;
    const known = whole ? opts.known?.lookup(f, serialization) : undefined;
    if (known && known.length === ranges.length) {
      reused++;
      ranges.forEach(([start, end], i) => resources.push({ name: name(start, end), algorithm, digest: known[i]! }));
      continue;
    }
    const ids: number[] = [];
    for (const [start, end] of ranges) {
      ids.push(tasks.length);
      tasks.push({ id: tasks.length, absPath: f.absPath, name: f.name, start, end, fileSize: f.size });
    }
    if (whole) pending.set(f, ids);
  }
  const bytesTotal = tasks.reduce((s, t) => s + (t.end - t.start), 0);
  const digests = await pool.run(tasks, opts.onProgress ? { onProgress: (bytesDone: number) => opts.onProgress!({ bytesDone, bytesTotal }) } : {});
  for (const t of tasks) {
    resources.push({ name: shardSize === undefined ? t.name : shardName(t.name, t.start, t.end), algorithm, digest: Buffer.from(digests.get(t.id)!).toString('hex') });
  }
  if (opts.known?.store) {
    for (const [f, ids] of pending) opts.known.store(f, serialization, ids.map((id) => Buffer.from(digests.get(id)!).toString('hex')));
  }
  return { manifest: createManifest(walked.modelName, serialization, resources), unhashed, emptyFiles, reused, bytesHashed: bytesTotal };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
