import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { open } from 'node:fs/promises';
import tar from 'tar-stream';
import { ModelPathError } from '../errors.js';
import { createHasher, type HashType } from '../hashing/algorithms.js';
import { checkRelativeName, isUnder } from '../paths.js';
import { TarHeaderInspector, type InspectedEntry } from './tar-headers.js';

export const TAR_SUFFIXES = ['.tar', '.tar.gz', '.tgz'] as const;

export function isTarballPath(p: string): boolean {
  const lower = p.toLowerCase();
  return TAR_SUFFIXES.some((s) => lower.endsWith(s));
}

export interface TarHashOptions {
  hashType: HashType;
  /** undefined: one digest per file; a number: one digest per shard of that many bytes */
  shardSize?: number;
  ignorePaths: readonly string[];
  onBytes?: (n: number) => void;
}

export interface TarDigest {
  /** file path relative to the model root */
  path: string;
  start: number;
  end: number;
  digest: Uint8Array;
}

export interface HashedTarball {
  modelName: string;
  digests: TarDigest[];
  totalBytes: number;
}

function tarballBaseName(p: string): string {
  const base = path.basename(p);
  const lower = base.toLowerCase();
  for (const s of TAR_SUFFIXES) if (lower.endsWith(s)) return base.slice(0, base.length - s.length);
  return base;
}

/**
 * Hashes a tarball of a model folder as it streams: nothing is extracted.
 * `tar -cf m.tar model` (first entry the folder `model/`) and
 * `tar -C model -cf m.tar .` both give the manifest of the folder itself.
 * Links, devices, absolute or `..` names, duplicate entries and a file that
 * is also a folder are refused: extracted, such an archive would not be the
 * folder that was hashed. Header forms that standard readers interpret
 * differently are refused by `TarHeaderInspector`, which reads every header
 * itself; tar-stream must then report exactly the entries it found, or the
 * archive is refused (TAR_READERS_DISAGREE). Ignored entries go through every
 * check; only their bytes are not hashed.
 */
export async function hashTarball(tarPath: string, opts: TarHashOptions): Promise<HashedTarball> {
  const digests: TarDigest[] = [];
  const seen = new Set<string>();
  const files = new Set<string>();
  let top: string | undefined; // the archive's single top folder, once the first entry shows it
  let first = true;
  let totalBytes = 0;
  const extract = tar.extract();
  const inspector = new TarHeaderInspector(tarPath);
  const where = (name: string) => `${tarPath}: entry "${name}"`;
  const same = (a: InspectedEntry | undefined, h: tar.Header) =>
    a !== undefined && a.name === h.name && a.size === (h.size ?? 0) && (a.kind === 'directory') === (h.type === 'directory');

  extract.on('entry', (header, stream, next) => {
    // The extractor reports failures; an entry stream torn down with it must not throw on its own.
    stream.on('error', () => {});
    const raw = header.name;
    // Destroying the extractor (rather than next(err)) ends the pipeline with exactly one error.
    const fail = (code: string, msg: string) => void extract.destroy(new ModelPathError(code, msg));
    const inspected = inspector.entries.shift();
    if (!same(inspected, header)) {
      return fail('TAR_READERS_DISAGREE', `${where(raw)}: tar-stream reads this entry as ${JSON.stringify({ name: header.name, type: header.type, size: header.size })}, a strict reading of its header as ${JSON.stringify(inspected ?? 'no entry')}`);
    }
    let name = raw.replace(/\/+$/, '');
    while (name.startsWith('./')) name = name.slice(2);
    const isRoot = name === '' || name === '.';
    if (first) {
      first = false;
      if (header.type === 'directory' && !isRoot && !name.includes('/') && name !== '..' && !name.startsWith('/')) {
        top = name;
        stream.resume();
        next();
        return;
      }
    }
    if (isRoot && header.type === 'directory') {
      stream.resume();
      next();
      return;
    }
    if (top !== undefined) {
      if (!name.startsWith(top + '/')) return fail('TAR_OUTSIDE_TOP', `${where(raw)} is outside the archive's top folder "${top}/"`);
      name = name.slice(top.length + 1);
    }
    const problem = checkRelativeName(name, 'tar entry name');
    if (problem || name === '.') return fail('TAR_BAD_NAME', `${where(raw)}: ${problem ?? 'not a file name'}`);
    if (seen.has(name)) return fail('TAR_DUPLICATE', `${where(raw)} appears more than once`);
    seen.add(name);
    if (header.type !== 'directory') files.add(name);
    switch (header.type) {
      case 'directory':
        stream.resume();
        next();
        return;
      case 'file':
      case 'contiguous-file':
        break;
      case 'symlink':
      case 'link':
        return fail('TAR_LINK_REFUSED', `${where(raw)} is a ${header.type === 'link' ? 'hard link' : 'symbolic link'}; links in tarballs are refused`);
      default:
        return fail('TAR_BAD_TYPE', `${where(raw)} is a ${header.type ?? 'special'} entry; only files and folders are allowed`);
    }
    const ignored = opts.ignorePaths.some((p) => isUnder(name, p));
    if (ignored) {
      stream.resume();
      stream.on('end', () => next());
      return;
    }
    const shard = opts.shardSize;
    let h = createHasher(opts.hashType);
    let start = 0;
    let pos = 0;
    stream.on('data', (data: unknown) => {
      const chunk = data as Buffer;
      totalBytes += chunk.length;
      opts.onBytes?.(chunk.length);
      if (shard === undefined) {
        h.update(chunk);
        pos += chunk.length;
        return;
      }
      let off = 0;
      while (off < chunk.length) {
        const room = start + shard - pos;
        const take = Math.min(room, chunk.length - off);
        h.update(chunk.subarray(off, off + take));
        pos += take;
        off += take;
        if (pos === start + shard) {
          digests.push({ path: name, start, end: pos, digest: h.digest() });
          h = createHasher(opts.hashType);
          start = pos;
        }
      }
    });
    stream.on('end', () => {
      if (shard === undefined) digests.push({ path: name, start: 0, end: pos, digest: h.digest() });
      else if (pos > start || pos === 0) digests.push({ path: name, start, end: pos, digest: h.digest() });
      next();
    });
  });

  try {
    const gz = await isGzip(tarPath);
    if (gz) await pipeline(createReadStream(tarPath), createGunzip(), inspector, extract);
    else await pipeline(createReadStream(tarPath), inspector, extract);
    if (inspector.entries.length > 0) {
      throw new ModelPathError('TAR_READERS_DISAGREE', `${tarPath}: tar-stream did not report entry "${inspector.entries[0]!.name}" that a strict reading of the headers found`);
    }
    checkFileFolderConflicts(tarPath, seen, files);
  } catch (err) {
    if (err instanceof ModelPathError) throw err;
    const msg = (err as Error).message;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelPathError('MODEL_NOT_FOUND', `${tarPath}: no such file`, { cause: err });
    throw new ModelPathError('TAR_CORRUPT', `${tarPath}: not a readable tarball (${msg})`, { cause: err });
  }
  const modelName = top ?? tarballBaseName(tarPath);
  return { modelName, digests, totalBytes };
}

/**
 * An archive with a file "a" and an entry "a/b" is no folder: extracting it
 * fails or replaces one with the other, depending on the reader. Sorted with
 * "/" read as NUL (the smallest character, never in a name), everything below
 * "a" comes right after "a": one sort and one pass, with no work per
 * ancestor (names thousands of levels deep made a per-ancestor check take
 * minutes and gigabytes).
 */
function checkFileFolderConflicts(tarPath: string, names: Set<string>, files: Set<string>): void {
  const SLASH = 0x2f;
  const keyed = [...names].map((n) => {
    const b = Buffer.from(n);
    for (let k = 0; k < b.length; k++) if (b[k] === SLASH) b[k] = 0;
    return b;
  });
  keyed.sort(Buffer.compare);
  const nameOf = (b: Buffer) => Buffer.from(b.map((x) => (x === 0 ? SLASH : x))).toString();
  for (let i = 0; i + 1 < keyed.length; i++) {
    const a = keyed[i]!;
    const next = keyed[i + 1]!;
    if (next.length > a.length && next[a.length] === 0 && next.subarray(0, a.length).equals(a) && files.has(nameOf(a))) {
      throw new ModelPathError('TAR_FILE_FOLDER_CONFLICT', `${tarPath}: "${nameOf(a)}" is a file, and entry "${nameOf(next)}" puts something inside it`);
    }
  }
}

async function isGzip(p: string): Promise<boolean> {
  const fh = await open(p, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
