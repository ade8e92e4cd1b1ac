import { closeSync, fstatSync, openSync, readSync, constants as fsc, type Stats } from 'node:fs';
import { InputError } from './errors.js';

/**
 * Every bound modelseal puts on what it reads, in one place, each with the
 * reason for its size. Inputs past a bound are refused with a coded error
 * before they cost memory or time; nothing here is a tuning knob.
 */
export const LIMITS = {
  /**
   * A signature or attestation bundle. The biggest realistic manifest: 200k
   * files with 200-byte names is ~60 MB of statement, ~80 MB as base64 in the
   * envelope. Past this, a signature is refused at sign time (before the old
   * one is replaced) and at verify time (before it is parsed).
   */
  bundleBytes: 128 << 20,
  /** JSON nesting: bundles nest 6 deep, policies 5; deep nesting only costs parser stack and heap. */
  jsonDepth: 64,
  /**
   * Ignore paths one serialization may record: real models list a handful; an unverified,
   * planted signature listing millions would otherwise cost time on every file (approve reads one).
   */
  ignorePaths: 10_000,
  /** Resources in one manifest (files, or shards of all files): bounds tasks and memory before hashing. */
  resources: 2_000_000,
  /** An attestations folder: files examined, and total bytes read, per evaluation. */
  attestationFiles: 10_000,
  attestationBytes: 256 << 20,
  /** Policy files, keys, certificates, trusted roots, tokens: text files a person writes. */
  policyBytes: 1 << 20,
  keyFileBytes: 1 << 20,
  certificateFileBytes: 4 << 20,
  trustedRootBytes: 16 << 20,
  /**
   * One verification cache file (one model): ~150 bytes per file or shard
   * entry, so 64 MiB holds ~400k resources. A larger one is ignored (a miss),
   * never an error: the cache only saves time.
   */
  verificationCacheBytes: 64 << 20,
  /**
   * One PAX header or GNU long name in a tarball: a path and a few metadata
   * records (xattrs at most) fit in far less; tar-stream buffers the whole
   * body before reading it, so a bigger one is refused from its header.
   */
  tarExtendedHeaderBytes: 1 << 20,
  /** Entries in one tarball, folders included: as many as a manifest may list resources. */
  tarEntries: 2_000_000,
  /** One tarball entry name, in bytes: Linux's PATH_MAX; GNU tar and Python cannot extract a longer one. */
  tarNameBytes: 4096,
  /** All entry names of one tarball together: a signed manifest of them must fit in `bundleBytes`. */
  tarNamesTotalBytes: 256 << 20,
  /**
   * One partial manifest (distributed hashing): the complete file list plus
   * this part's resources, so never more than the full statement a bundle
   * may carry (bundleBytes).
   */
  partialManifestBytes: 128 << 20,
  /** Parts of one distributed hash: far beyond any CI matrix (256 jobs) or Indexed Job a person would run. */
  parts: 100_000,
  /**
   * A precomputed manifest given to `sign --manifest`: it must fit in the
   * signed bundle anyway (bundleBytes).
   */
  manifestBytes: 128 << 20,
  /**
   * A re-signing state record: one line of ~150 bytes per file, so 128 MiB
   * covers ~800k files, more than any bundle can sign (bundleBytes).
   */
  signStateBytes: 128 << 20,
  /**
   * An OCI manifest, index or referrers list read from a registry: 4 MiB is
   * the size the distribution registry and the OCI spec guidance accept for
   * manifests (enough for ~15k layers); a registry answering more is refused.
   */
  ociManifestBytes: 4 << 20,
} as const;

/**
 * Reads a file that must be a regular file of at most `limit` bytes. Opened
 * non-blocking so a FIFO cannot hang us, checked with fstat on the open
 * descriptor (no race with a swapped path), read up to the limit and no
 * further (a symlink to /dev/zero cannot grow memory).
 */
export function readBoundedFile(file: string, o: { limit: number; what: string; notFoundCode: string; tooLargeCode?: string }): Buffer {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(o.notFoundCode, `${file}: cannot read ${o.what} (${code ?? (err as Error).message})`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError('NOT_A_FILE', `${file}: ${o.what} is ${kindOf(st)}, not a regular file`);
    if (st.size > o.limit) throw new InputError(o.tooLargeCode ?? 'FILE_TOO_LARGE', `${file}: ${o.what} is ${st.size} bytes, over the ${o.limit}-byte limit`);
    // Read to the limit + 1, whatever fstat said: a file can grow while we read it.
    const buf = Buffer.allocUnsafe(Math.min(st.size, o.limit) + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) {
        if (n > o.limit) throw new InputError(o.tooLargeCode ?? 'FILE_TOO_LARGE', `${file}: ${o.what} is over the ${o.limit}-byte limit`);
        break;
      }
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * The deepest nesting of `[`/`{` in JSON text, found by a linear scan that
 * skips strings: cheap enough to run before JSON.parse on every input.
 */
export function jsonDepth(text: string | Buffer): number {
  const s = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON.parse behind the depth bound. */
export function parseJsonBounded(text: string | Buffer, where: string, code = 'BAD_JSON'): unknown {
  const d = jsonDepth(text);
  if (d > LIMITS.jsonDepth) throw new InputError('JSON_TOO_DEEP', `${where}: JSON nested ${d} levels deep, over the limit of ${LIMITS.jsonDepth}`);
  try {
    return JSON.parse(text.toString());
  } catch (err) {
    throw new InputError(code, `${where}: not JSON (${(err as Error).message})`, { cause: err });
  }
}
