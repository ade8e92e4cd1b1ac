import { statSync } from 'node:fs';
import { InputError } from './errors.js';
import { parseHashType, type HashType } from './hashing/algorithms.js';
import { HashPool } from './hashing/pool.js';
import type { HashTask } from './hashing/read-range.js';
import { hashTarball, isTarballPath } from './inputs/tar.js';
import { walkModel } from './inputs/walk.js';
import { createManifest, resourceAlgorithm, shardName, type Manifest, type ResourceDescriptor, type Serialization } from './manifest.js';
import { normalizeIgnorePath } from './paths.js';

/** model_signing's default shard size (1 GB), kept so default shard manifests match it. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;
export const DEFAULT_SIGNATURE_NAME = 'model.sig';
/** Ignored by default, as model_signing does. */
export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

export interface HashProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface HashOptions {
  /** `sha256` (default), `blake2b` (CLI spelling `blake2` accepted) or `blake3` */
  hashType?: HashType | 'blake2';
  method?: 'files' | 'shards';
  shardSize?: number;
  /** paths relative to the model root; a folder ignores all below it */
  ignorePaths?: readonly string[];
  /** ignore .git, .gitattributes, .github, .gitignore (default true) */
  ignoreGitPaths?: boolean;
  /** the signature file's name inside the model folder, ignored (default model.sig) */
  signatureName?: string;
  allowSymlinks?: boolean;
  /** hash only files whose names are in this set (verification with ignore-unsigned-files) */
  onlyPaths?: ReadonlySet<string>;
  /** worker threads; defaults to the CPU count */
  workers?: number;
  onProgress?: (p: HashProgress) => void;
}

/** The serialization a set of options stands for, with the complete ignore list recorded. */
export function serializationFor(opts: HashOptions): Serialization {
  const hashType = parseHashType(opts.hashType ?? 'sha256');
  const ignore = new Set<string>();
  if (opts.ignoreGitPaths ?? true) GIT_PATHS.forEach((p) => ignore.add(p));
  ignore.add(normalizeIgnorePath(opts.signatureName ?? DEFAULT_SIGNATURE_NAME));
  for (const p of opts.ignorePaths ?? []) ignore.add(normalizeIgnorePath(p));
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
  const serialization = serializationFor(opts);
  const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
  const algorithm = resourceAlgorithm(serialization);
  const ignorePaths = serialization.ignorePaths ?? [];
  const only = opts.onlyPaths;

  if (isTarballPath(modelPath) && isFile(modelPath)) {
    let done = 0;
    const t = await hashTarball(modelPath, {
      hashType: serialization.hashType,
      ignorePaths,
      ...(shardSize !== undefined ? { shardSize } : {}),
      onBytes: opts.onProgress ? (n) => opts.onProgress!({ bytesDone: (done += n), bytesTotal: 0 }) : undefined,
    });
    const resources = t.digests
      .filter((d) => !only || only.has(d.path))
      .map((d) => ({
        name: shardSize === undefined ? d.path : shardName(d.path, d.start, d.end),
        algorithm,
        digest: Buffer.from(d.digest).toString('hex'),
      }));
    return createManifest(t.modelName, serialization, resources);
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

async function hashFolder(modelPath: string, serialization: Serialization, { shardSize, algorithm, only }: Naming, opts: HashOptions, pool: HashPool): Promise<Manifest> {
  const walked = walkModel(modelPath, { ignorePaths: serialization.ignorePaths ?? [], allowSymlinks: serialization.allowSymlinks });
  const files = walked.files.filter((f) => !only || only.has(f.name));
  const tasks: HashTask[] = [];
  const names: string[] = [];
  for (const f of files) {
    const add = (start: number, end: number, name: string) => {
      tasks.push({ id: tasks.length, absPath: f.absPath, name: f.name, start, end, fileSize: f.size });
      names.push(name);
    };
    if (shardSize === undefined) add(0, f.size, f.name);
    else if (f.size === 0) add(0, 0, shardName(f.name, 0, 0));
    else for (let s = 0; s < f.size; s += shardSize) add(s, Math.min(s + shardSize, f.size), shardName(f.name, s, Math.min(s + shardSize, f.size)));
  }
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  const digests = await pool.run(tasks, opts.onProgress ? { onProgress: (bytesDone: number) => opts.onProgress!({ bytesDone, bytesTotal }) } : {});
  const resources: ResourceDescriptor[] = tasks.map((t) => ({
    name: names[t.id]!,
    algorithm,
    digest: Buffer.from(digests.get(t.id)!).toString('hex'),
  }));
  return createManifest(walked.modelName, serialization, resources);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
