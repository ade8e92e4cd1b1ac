import { FormatError } from '../errors.js';
import { checkResource, type ResourceDescriptor, type Serialization } from '../manifest.js';
import { assertRelativeName, comparePaths } from '../paths.js';
import { parseOmsSerialization, toOmsSerialization, type OmsResource, type OmsSerialization } from '../statement.js';
import { checkPartSpec, type ListedFile, type PartSpec } from './parts.js';

export const PARTIAL_MANIFEST_FORMAT = 'modelseal-partial-manifest';
export const PARTIAL_MANIFEST_VERSION = 1;

/**
 * What one machine hashed of a model split into parts. It carries everything
 * a merge needs to prove nothing is missing without seeing the model: the
 * serialization, the complete file list with sizes (empty files included,
 * though in shard mode they have no resource), and this part's resources.
 * Wire form (schemas/partial-manifest-v1.schema.json):
 * ```json
 * { "format": "modelseal-partial-manifest", "version": 1,
 *   "part": { "index": 2, "count": 3 },
 *   "modelName": "llama",
 *   "serialization": { "method": "shards", "hash_type": "sha256", "allow_symlinks": false, "shard_size": 134217728, "ignore_paths": [...] },
 *   "files": [{ "name": "config.json", "size": 655 }, { "name": "model-00001.safetensors", "size": 4976698672 }],
 *   "resources": [{ "name": "model-00001.safetensors:134217728:268435456", "algorithm": "sha256-sharded-134217728", "digest": "<hex>" }] }
 * ```
 */
export interface PartialManifest {
  part: PartSpec;
  modelName: string;
  serialization: Serialization;
  /** every file of the model, in canonical order */
  files: ListedFile[];
  /** this part's resources only */
  resources: ResourceDescriptor[];
}

export interface PartialManifestJson {
  format: typeof PARTIAL_MANIFEST_FORMAT;
  version: typeof PARTIAL_MANIFEST_VERSION;
  part: PartSpec;
  modelName: string;
  serialization: OmsSerialization;
  files: ListedFile[];
  resources: OmsResource[];
}

export function toPartialManifestJson(p: PartialManifest): PartialManifestJson {
  return {
    format: PARTIAL_MANIFEST_FORMAT,
    version: PARTIAL_MANIFEST_VERSION,
    part: { index: p.part.index, count: p.part.count },
    modelName: p.modelName,
    serialization: toOmsSerialization(p.serialization),
    files: p.files.map((f) => ({ name: f.name, size: f.size })),
    resources: p.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses one partial manifest and checks it on its own: the format and
 * version, the part numbers, file names, sizes and canonical order, and each
 * resource's shape. Whether the parts agree is the merge's job.
 */
export function parsePartialManifest(v: unknown, where: string): PartialManifest {
  const bad = (msg: string): never => {
    throw new FormatError('BAD_PARTIAL_MANIFEST', `${where}: ${msg}`);
  };
  if (!isObject(v)) return bad('not a JSON object');
  if (v.format !== PARTIAL_MANIFEST_FORMAT) return bad(`format is ${JSON.stringify(v.format)}, expected "${PARTIAL_MANIFEST_FORMAT}"`);
  if (v.version !== PARTIAL_MANIFEST_VERSION) {
    throw new FormatError('UNSUPPORTED_PARTIAL_MANIFEST_VERSION', `${where}: partial manifest version ${JSON.stringify(v.version)} is not supported (expected ${PARTIAL_MANIFEST_VERSION})`);
  }
  const part = v.part;
  if (!isObject(part) || typeof part.index !== 'number' || typeof part.count !== 'number') return bad('part must have numeric index and count');
  try {
    checkPartSpec({ index: part.index, count: part.count });
  } catch (err) {
    return bad((err as Error).message);
  }
  if (typeof v.modelName !== 'string') return bad('modelName must be a string');
  let serialization: Serialization;
  try {
    serialization = parseOmsSerialization(v.serialization);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (!Array.isArray(v.files)) return bad('files must be a list');
  const files: ListedFile[] = v.files.map((f: unknown, i: number) => {
    if (!isObject(f) || typeof f.name !== 'string' || typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) {
      return bad(`file #${i} must have a string name and a non-negative integer size`);
    }
    assertRelativeName(f.name, `${where}: file name`);
    return { name: f.name, size: f.size };
  });
  for (let i = 1; i < files.length; i++) {
    const c = comparePaths(files[i - 1]!.name, files[i]!.name);
    if (c >= 0) return bad(c === 0 ? `file "${files[i]!.name}" is listed twice` : `files are not in canonical order ("${files[i - 1]!.name}" before "${files[i]!.name}")`);
  }
  if (!Array.isArray(v.resources)) return bad('resources must be a list');
  const resources: ResourceDescriptor[] = v.resources.map((r: unknown, i: number) => {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.algorithm !== 'string' || typeof r.digest !== 'string') {
      return bad(`resource #${i} must have string name, algorithm and digest`);
    }
    const d = { name: r.name, algorithm: r.algorithm, digest: r.digest };
    checkResource(d, serialization);
    return d;
  });
  return { part: { index: part.index, count: part.count }, modelName: v.modelName, serialization, files, resources };
}
