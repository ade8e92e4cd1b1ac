import { InputError } from '../errors.js';
import { resourceRanges } from '../hash-model.js';
import { LIMITS } from '../limits.js';
import { shardName, type Serialization } from '../manifest.js';
import { comparePaths } from '../paths.js';

/** Part `index` (1-based) of `count`. */
export interface PartSpec {
  index: number;
  count: number;
}

/** A file as every part must see it: its manifest name and size. */
export interface ListedFile {
  name: string;
  size: number;
}

/** One resource of the full manifest and the part that hashes it. */
export interface PlannedResource {
  /** resource name: the file, or `path:start:end` for a shard */
  name: string;
  file: string;
  start: number;
  end: number;
  /** 1-based */
  part: number;
}

/** Parses `I/N` (1 <= I <= N). */
export function parsePartSpec(s: string): PartSpec {
  const m = /^([1-9][0-9]*)\/([1-9][0-9]*)$/.exec(s.trim());
  if (!m) throw new InputError('BAD_PART', `--part "${s}" is not of the form I/N (e.g. 2/8, parts numbered from 1)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  checkPartSpec({ index, count });
  return { index, count };
}

export function checkPartSpec({ index, count }: PartSpec): void {
  if (!Number.isSafeInteger(count) || count < 1 || count > LIMITS.parts) {
    throw new InputError('BAD_PART', `part count ${count} is not between 1 and ${LIMITS.parts}`);
  }
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new InputError('BAD_PART', `part ${index} is not between 1 and ${count}`);
  }
}

/**
 * The part rule. It needs no coordination: every machine computes it from the
 * same three inputs, the file list with sizes, the serialization (method and
 * shard size) and the part count N.
 *
 * Lay the resources (whole files, or shards) end to end in the manifest's
 * canonical order, so resource j starts at byte offset o_j of a total of T
 * bytes. Resource j belongs to part floor(o_j * N / T) + 1. Each part is thus
 * a contiguous run of resources holding T/N bytes give or take one resource
 * (at most one shard), and a resource is never split. When there are fewer
 * resources than parts, some parts are empty: they still write a partial
 * manifest (with the file list), so that a merge can count them.
 */
export function planParts(files: readonly ListedFile[], serialization: Serialization, count: number): PlannedResource[] {
  checkPartSpec({ index: 1, count });
  const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
  const sorted = [...files].sort((a, b) => comparePaths(a.name, b.name));
  const total = BigInt(sorted.reduce((s, f) => s + f.size, 0));
  const n = BigInt(count);
  const out: PlannedResource[] = [];
  let offset = 0n;
  for (const f of sorted) {
    for (const [start, end] of resourceRanges(f.size, shardSize)) {
      // BigInt: offset * N passes 2^53 for a 9 PB model at N = 1, or 90 TB at N = 100 000
      // min: empty files after the last byte (offset = T) belong to the last part, not to part N + 1
      const part = total === 0n ? 1 : Math.min(count, Number((offset * n) / total) + 1);
      out.push({ name: shardSize === undefined ? f.name : shardName(f.name, start, end), file: f.name, start, end, part });
      offset += BigInt(end - start);
    }
  }
  return out;
}
