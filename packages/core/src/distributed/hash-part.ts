import { InputError } from '../errors.js';
import { hashModelDetailed, serializationFor, type HashOptions } from '../hash-model.js';
import { walkModel } from '../inputs/walk.js';
import { comparePaths } from '../paths.js';
import type { PartialManifest } from './partial-manifest.js';
import { checkPartSpec, planParts, type ListedFile, type PartSpec } from './parts.js';

/**
 * Hashes only the resources the part rule (`planParts`) gives to `part`, and
 * returns them with the complete file list. Every file is listed from one
 * walk; hashing walks again and must find exactly the same files and sizes,
 * else the model changed under us and the part would not merge truthfully.
 */
export async function hashPart(modelPath: string, part: PartSpec, opts: HashOptions = {}): Promise<PartialManifest> {
  checkPartSpec(part);
  if (opts.onlyPaths) throw new InputError('BAD_OPTION', 'a part of a distributed hash covers the whole model: onlyPaths does not apply');
  const serialization = serializationFor(opts);
  const walked = walkModel(modelPath, { ignorePaths: serialization.ignorePaths ?? [], allowSymlinks: serialization.allowSymlinks });
  const files: ListedFile[] = walked.files.map((f) => ({ name: f.name, size: f.size })).sort((a, b) => comparePaths(a.name, b.name));
  const sizes = new Map(files.map((f) => [f.name, f.size]));
  const mine = new Set(planParts(files, serialization, part.count).filter((r) => r.part === part.index).map((r) => `${r.file}\0${r.start}\0${r.end}`));
  const seen = new Set<string>();
  const changed = (what: string) => new InputError('MODEL_CHANGED', `${modelPath}: ${what} while it was being hashed; hash the part again once the model is still`);
  const details = await hashModelDetailed(modelPath, {
    ...opts,
    known: undefined, // a part is always read: known digests speak for whole files
    selectRange: (f, start, end) => {
      if (sizes.get(f.name) !== f.size) throw changed(`"${f.name}" appeared or changed size`);
      seen.add(f.name);
      return mine.has(`${f.name}\0${start}\0${end}`);
    },
  });
  // Empty files in shard mode have no range, so selectRange never sees them: nothing to check.
  const missing = files.find((f) => !seen.has(f.name) && !(f.size === 0 && serialization.method === 'shards'));
  if (missing) throw changed(`"${missing.name}" disappeared`);
  return { part, modelName: walked.modelName, serialization, files, resources: details.manifest.resources };
}
