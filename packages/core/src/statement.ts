import { FormatError } from './errors.js';
import { HASH_TYPES, type HashType } from './hashing/algorithms.js';
import { checkResource, compareResourceNames, computeRootDigest, createManifest, type Manifest, type ResourceDescriptor, type Serialization } from './manifest.js';
import { LIMITS } from './limits.js';
import { assertRelativeName, normalizeIgnorePath } from './paths.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** The model_signing v0.2 predicate: one subject per file with its SHA-256, nothing in the predicate. */
export const LEGACY_DIGESTS_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

/** The wire form of `predicate.serialization`, as model_signing writes it. */
export interface OmsSerialization {
  method: 'files' | 'shards';
  hash_type: HashType;
  allow_symlinks: boolean;
  ignore_paths?: string[];
  shard_size?: number;
}

export interface OmsResource {
  name: string;
  algorithm: string;
  digest: string;
}

/**
 * The OMS v1.0 signature payload:
 * ```json
 * { "_type": "https://in-toto.io/Statement/v1",
 *   "subject": [{ "name": "<model>", "digest": { "sha256": "<root digest>" } }],
 *   "predicateType": "https://model_signing/signature/v1.0",
 *   "predicate": {
 *     "serialization": { "method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": [".git", ...] },
 *     "resources": [{ "name": "config.json", "algorithm": "sha256", "digest": "<hex>" }, ...] } }
 * ```
 */
export interface OmsStatement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof OMS_PREDICATE_TYPE;
  predicate: { serialization: OmsSerialization; resources: OmsResource[] };
}

export function toOmsSerialization(s: Serialization): OmsSerialization {
  const out: OmsSerialization = { method: s.method, hash_type: s.hashType, allow_symlinks: s.allowSymlinks };
  if (s.method === 'shards') out.shard_size = s.shardSize;
  if (s.ignorePaths) out.ignore_paths = [...s.ignorePaths];
  return out;
}

/** The in-toto statement that gets signed: the manifest in the OMS v1.0 wire form, as model_signing writes it. */
export function toOmsStatement(m: Manifest): OmsStatement {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: m.modelName, digest: { sha256: m.rootDigest } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: {
      serialization: toOmsSerialization(m.serialization),
      resources: m.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(code: string, msg: string): never {
  throw new FormatError(code, msg);
}

export function parseOmsSerialization(v: unknown): Serialization {
  if (!isObject(v)) fail('BAD_SERIALIZATION', 'predicate.serialization is missing or not an object');
  const { method, hash_type: hashType, allow_symlinks: allowSymlinks, ignore_paths: ignore, shard_size: shardSize } = v;
  if (method !== 'files' && method !== 'shards') fail('BAD_SERIALIZATION', `unknown serialization method ${JSON.stringify(method)}`);
  if (typeof hashType !== 'string' || !HASH_TYPES.includes(hashType as HashType)) {
    fail('BAD_SERIALIZATION', `unknown hash_type ${JSON.stringify(hashType)} (expected ${HASH_TYPES.join(', ')})`);
  }
  if (typeof allowSymlinks !== 'boolean') fail('BAD_SERIALIZATION', 'serialization.allow_symlinks must be a boolean');
  let ignorePaths: string[] | undefined;
  if (ignore !== undefined) {
    if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string')) {
      fail('BAD_SERIALIZATION', 'serialization.ignore_paths must be a list of strings');
    }
    if (ignore.length > LIMITS.ignorePaths) fail('TOO_MANY_IGNORE_PATHS', `serialization.ignore_paths lists ${ignore.length} paths, over the limit of ${LIMITS.ignorePaths}`);
    ignorePaths = (ignore as string[]).map(normalizeIgnorePath);
  }
  const base = { hashType: hashType as HashType, allowSymlinks, ...(ignorePaths ? { ignorePaths } : {}) };
  if (method === 'files') {
    if (shardSize !== undefined) fail('BAD_SERIALIZATION', 'serialization.shard_size is only valid with method "shards"');
    return { method, ...base };
  }
  // model_signing writes shard_size through a protobuf Struct, so 1000000000.0 is normal.
  if (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize <= 0) {
    fail('BAD_SERIALIZATION', `serialization.shard_size must be a positive integer, got ${JSON.stringify(shardSize)}`);
  }
  return { method, ...base, shardSize };
}

/**
 * Parses and checks an OMS v1.0 statement: every field, the canonical order,
 * and that the subject digest is the root digest of the resources.
 */
export function parseOmsStatement(v: unknown): Manifest {
  if (!isObject(v)) fail('BAD_STATEMENT', 'statement is not a JSON object');
  if (v._type !== IN_TOTO_STATEMENT_V1) fail('BAD_STATEMENT', `statement _type is ${JSON.stringify(v._type)}, expected ${IN_TOTO_STATEMENT_V1}`);
  if (v.predicateType === LEGACY_DIGESTS_PREDICATE_TYPE) return parseLegacyDigestsStatement(v);
  if (v.predicateType !== OMS_PREDICATE_TYPE) fail('BAD_PREDICATE_TYPE', `predicate type ${JSON.stringify(v.predicateType)} is not ${OMS_PREDICATE_TYPE}`);
  if (!Array.isArray(v.subject) || v.subject.length !== 1) {
    fail('BAD_SUBJECT', `statement must have exactly one subject, found ${Array.isArray(v.subject) ? v.subject.length : 'none'}`);
  }
  const subject: unknown = v.subject[0];
  if (!isObject(subject) || typeof subject.name !== 'string' || !isObject(subject.digest) || typeof subject.digest.sha256 !== 'string') {
    fail('BAD_SUBJECT', 'subject must have a name and a sha256 digest');
  }
  const subjectDigest = subject.digest.sha256;
  if (!/^[0-9a-f]{64}$/.test(subjectDigest)) fail('BAD_SUBJECT', 'subject sha256 digest is not 64 lowercase hex digits');
  if (!isObject(v.predicate)) fail('BAD_PREDICATE', 'predicate is missing');
  const serialization = parseOmsSerialization(v.predicate.serialization);
  const raw = v.predicate.resources;
  if (!Array.isArray(raw)) fail('BAD_PREDICATE', 'predicate.resources must be a list');
  if (raw.length > LIMITS.resources) fail('TOO_MANY_RESOURCES', `predicate lists ${raw.length} resources, over the limit of ${LIMITS.resources}`);
  const resources: ResourceDescriptor[] = raw.map((r: unknown, i: number) => {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.algorithm !== 'string' || typeof r.digest !== 'string') {
      fail('BAD_RESOURCE', `resource #${i} must have string name, algorithm and digest`);
    }
    const d: ResourceDescriptor = { name: r.name, algorithm: r.algorithm, digest: r.digest };
    checkResource(d, serialization);
    return d;
  });
  for (let i = 1; i < resources.length; i++) {
    const c = compareResourceNames(resources[i - 1]!.name, resources[i]!.name, serialization.method);
    if (c === 0) fail('DUPLICATE_RESOURCE', `resource "${resources[i]!.name}" appears twice`);
    if (c > 0) fail('UNSORTED_RESOURCES', `resources are not in canonical order: "${resources[i - 1]!.name}" before "${resources[i]!.name}"`);
  }
  const rootDigest = computeRootDigest(resources);
  if (rootDigest !== subjectDigest) {
    fail('ROOT_DIGEST_MISMATCH', `subject digest ${subjectDigest} is not the digest of the listed resources (${rootDigest})`);
  }
  return { modelName: subject.name, serialization, resources, rootDigest };
}

/**
 * model_signing v0.2 statements: one subject per file (`name` = path, sha256
 * digest, annotation `actual_hash_algorithm: file-sha256`), no serialization.
 * They read as a files-method SHA-256 manifest that records no ignore paths
 * (so the verifier applies the defaults), with every file named exactly once.
 */
export function parseLegacyDigestsStatement(v: Record<string, unknown>): Manifest {
  if (!Array.isArray(v.subject) || v.subject.length === 0) fail('BAD_SUBJECT', 'a model_signing v0.2 statement must list its files as subjects');
  if (v.subject.length > LIMITS.resources) fail('TOO_MANY_RESOURCES', `statement lists ${v.subject.length} files, over the limit of ${LIMITS.resources}`);
  const resources: ResourceDescriptor[] = v.subject.map((sub: unknown, i: number) => {
    if (!isObject(sub) || typeof sub.name !== 'string' || !isObject(sub.digest) || typeof sub.digest.sha256 !== 'string') {
      fail('BAD_SUBJECT', `v0.2 subject #${i} must have a name and a sha256 digest`);
    }
    const algo = isObject(sub.annotations) ? sub.annotations.actual_hash_algorithm : undefined;
    if (algo !== undefined && algo !== 'file-sha256') fail('BAD_ALGORITHM', `v0.2 subject "${sub.name}" was hashed with ${JSON.stringify(algo)}, not file-sha256`);
    if (Object.keys(sub.digest).length !== 1) fail('BAD_SUBJECT', `v0.2 subject "${sub.name}" must carry exactly one digest (sha256)`);
    assertRelativeName(sub.name, 'resource name');
    const d: ResourceDescriptor = { name: sub.name, algorithm: 'sha256', digest: sub.digest.sha256 };
    checkResource(d, { method: 'files', hashType: 'sha256', allowSymlinks: false });
    return d;
  });
  const serialization: Serialization = { method: 'files', hashType: 'sha256', allowSymlinks: false };
  const m = createManifest('', serialization, resources);
  return { ...m, modelName: '', legacyFormat: 'model_signing-v0.2' };
}
