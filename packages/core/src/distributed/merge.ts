import { isDeepStrictEqual } from 'node:util';
import { InputError, ModelsealError } from '../errors.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from '../limits.js';
import { createManifest, type Manifest, type ResourceDescriptor } from '../manifest.js';
import { parsePartialManifest, type PartialManifest } from './partial-manifest.js';
import { planParts, type ListedFile } from './parts.js';

/** Reads and parses one partial manifest file, within LIMITS.partialManifestBytes. */
export function readPartialManifest(file: string): PartialManifest {
  const text = readBoundedFile(file, { limit: LIMITS.partialManifestBytes, what: 'partial manifest', notFoundCode: 'PARTIAL_MANIFEST_NOT_FOUND' });
  try {
    return parsePartialManifest(parseJsonBounded(text, file, 'BAD_PARTIAL_MANIFEST'), file);
  } catch (err) {
    // a resource-level format error says what is wrong, not where: add the file
    if (err instanceof ModelsealError && !err.message.startsWith(file)) throw new InputError(err.code, `${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

function firstDifference(a: readonly ListedFile[], b: readonly ListedFile[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x) return `"${y!.name}" is listed only in the second`;
    if (!y) return `"${x.name}" is listed only in the first`;
    if (x.name !== y.name) return `"${x.name}" against "${y.name}"`;
    if (x.size !== y.size) return `"${x.name}" has ${x.size} bytes against ${y.size}`;
  }
  return 'none';
}

/**
 * Merges the partial manifests of every part into the full manifest, after
 * proving that it is whole: the parts agree (part count, model name,
 * serialization, file list and sizes), each part 1..N is present once, and
 * each part holds exactly the resources the part rule gives it, so every
 * shard of every listed file is present exactly once. Every failure names
 * the problem (InputError, exit 2). The root digest is then the one a single
 * machine computes.
 *
 * `parts` are loaded one at a time, so only one file list is ever in memory
 * besides the first.
 */
export function mergePartialManifests(parts: ReadonlyArray<string | PartialManifest>): Manifest {
  if (parts.length === 0) throw new InputError('NO_PARTS', 'no partial manifests to merge');
  if (parts.length > LIMITS.parts) throw new InputError('BAD_PART', `${parts.length} partial manifests, over the limit of ${LIMITS.parts}`);
  const load = (p: string | PartialManifest, i: number) => ({ part: typeof p === 'string' ? readPartialManifest(p) : p, where: typeof p === 'string' ? p : `partial manifest #${i + 1}` });
  const { part: first, where: firstWhere } = load(parts[0]!, 0);
  const count = first.part.count;
  const plan = planParts(first.files, first.serialization, count);
  const planned = new Map(plan.map((r) => [r.name, r.part]));
  const byPart = new Map<number, string[]>();
  for (const r of plan) {
    const list = byPart.get(r.part);
    if (list) list.push(r.name);
    else byPart.set(r.part, [r.name]);
  }
  const seenParts = new Map<number, string>();
  const resources: ResourceDescriptor[] = [];

  for (let i = 0; i < parts.length; i++) {
    const { part: p, where } = i === 0 ? { part: first, where: firstWhere } : load(parts[i]!, i);
    const label = `${where} (part ${p.part.index}/${p.part.count})`;
    if (p.part.count !== count) throw new InputError('PART_COUNT_MISMATCH', `${label} is one of ${p.part.count} parts, but ${firstWhere} is one of ${count}`);
    const dup = seenParts.get(p.part.index);
    if (dup !== undefined) throw new InputError('PART_DUPLICATE', `part ${p.part.index}/${count} is given twice: ${dup} and ${where}`);
    seenParts.set(p.part.index, where);
    if (p.modelName !== first.modelName) throw new InputError('MODEL_NAME_MISMATCH', `${label} is for model "${p.modelName}", ${firstWhere} for "${first.modelName}"`);
    if (!isDeepStrictEqual(p.serialization, first.serialization)) {
      throw new InputError('SERIALIZATION_MISMATCH', `${label} was hashed with ${JSON.stringify(p.serialization)}, ${firstWhere} with ${JSON.stringify(first.serialization)}`);
    }
    if (!isDeepStrictEqual(p.files, first.files)) {
      throw new InputError('FILE_LIST_MISMATCH', `${label} and ${firstWhere} list different files: ${firstDifference(first.files, p.files)}`);
    }
    const got = new Set<string>();
    for (const r of p.resources) {
      const owner = planned.get(r.name);
      if (owner === undefined) throw new InputError('RESOURCE_UNEXPECTED', `${label} holds "${r.name}", which is not a resource of the listed files`);
      if (owner !== p.part.index) throw new InputError('RESOURCE_WRONG_PART', `${label} holds "${r.name}", which the part rule gives to part ${owner}/${count}`);
      if (got.has(r.name)) throw new InputError('RESOURCE_DUPLICATE', `${label} holds "${r.name}" twice`);
      got.add(r.name);
      resources.push(r);
    }
    const want = byPart.get(p.part.index) ?? [];
    const gap = want.filter((n) => !got.has(n));
    if (gap.length > 0) throw new InputError('RESOURCE_MISSING', `${label} lacks ${gap.length} of its ${want.length} resources: ${gap.slice(0, 5).join(', ')}${gap.length > 5 ? ', ...' : ''}`);
  }
  const missing: number[] = [];
  for (let k = 1; k <= count && missing.length < 20; k++) if (!seenParts.has(k)) missing.push(k);
  if (missing.length > 0) throw new InputError('PART_MISSING', `missing part${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${missing.length === 20 ? ', ...' : ''} of ${count}`);
  return createManifest(first.modelName, first.serialization, resources);
}
