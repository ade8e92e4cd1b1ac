import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { DigestSource } from '../hash-model.js';
import { DIGEST_BYTES } from '../hashing/algorithms.js';
import type { FileState, ModelFile } from '../inputs/walk.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from '../limits.js';
import type { Serialization } from '../manifest.js';

/**
 * The verification cache: digests that were verified against a signature,
 * remembered per file with the file's exact state (device, inode, size, mtime
 * and ctime in nanoseconds), so that an unchanged model re-verifies without
 * reading its bytes. The trust decision (signature, policy) is never cached:
 * only hashing is saved. Any change to a file's state (an edit, even one that
 * restores the size and the mtime, moves the ctime) makes that file a miss.
 *
 * Trade-off: whoever can write the cache folder and the model can make a
 * changed file look verified. Keep the cache folder as protected as the model.
 *
 * One JSON file per model and hashing scheme (`<sha256 of the key>.json`):
 * what digests mean depends only on the model's resolved path, the hash type
 * and the shard size, not on ignore lists.
 */
export const VERIFICATION_CACHE_VERSION = 1;

/** Where the verification cache lives. */
export interface VerificationCacheOptions {
  /** the cache folder (created 0700 when missing) */
  dir: string;
}

interface Entry {
  state: string;
  digests: string[];
}

interface CacheFile {
  version: number;
  modelPath: string;
  scheme: string;
  files: Record<string, Entry>;
}

function stateKey(s: FileState): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function schemeOf(s: Serialization): string {
  return s.method === 'shards' ? `${s.hashType}/shards/${s.shardSize}` : `${s.hashType}/files`;
}

/**
 * One model's view of the cache for one verification: a `DigestSource` for
 * hashing. Fresh digests are held until `commit()`, which the caller runs only
 * after the model verified, so nothing unverified is ever stored.
 */
export class VerificationCacheSession implements DigestSource {
  /** files whose digests came from the cache */
  hits = 0;
  misses = 0;
  /** problems reading or writing the cache: reported, never fatal */
  readonly warnings: string[] = [];
  private readonly modelPath: string;
  private readonly loaded = new Map<string, Map<string, Entry>>();
  private readonly seen = new Map<string, Map<string, Entry>>();
  private readonly pending = new Map<string, Array<{ file: ModelFile; digests: string[] }>>();

  constructor(
    private readonly dir: string,
    modelPath: string,
  ) {
    let p = path.resolve(modelPath);
    try {
      p = realpathSync(p);
    } catch {
      // a missing model fails hashing with a better message
    }
    this.modelPath = p;
  }

  lookup(file: ModelFile, s: Serialization): string[] | undefined {
    if (!file.state || !this.usable()) return undefined;
    const scheme = schemeOf(s);
    const e = this.entries(scheme).get(file.name);
    const want = DIGEST_BYTES[s.hashType] * 2;
    if (!e || e.state !== stateKey(file.state) || !e.digests.every((d) => d.length === want)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.seenIn(scheme).set(file.name, e);
    return [...e.digests];
  }

  store(file: ModelFile, s: Serialization, digests: string[]): void {
    if (!file.state) return;
    const scheme = schemeOf(s);
    const list = this.pending.get(scheme) ?? [];
    list.push({ file, digests: [...digests] });
    this.pending.set(scheme, list);
  }

  /**
   * Writes the stored digests, now verified, and keeps the hits: entries for
   * files not seen in this verification are dropped. A file whose state moved
   * since it was hashed is not stored (its digest may be of other bytes).
   */
  commit(): void {
    if (!this.usable()) return;
    for (const scheme of new Set([...this.pending.keys(), ...this.seen.keys()])) {
      const files = this.seenIn(scheme);
      // All hits and nothing to drop: the file on disk already says this; spare the fsync.
      if (!this.pending.get(scheme)?.length && files.size === this.entries(scheme).size) continue;
      for (const { file, digests } of this.pending.get(scheme) ?? []) {
        const now = currentState(file.absPath);
        if (now && now === stateKey(file.state!)) files.set(file.name, { state: now, digests });
      }
      this.pending.delete(scheme);
      const body: CacheFile = { version: VERIFICATION_CACHE_VERSION, modelPath: this.modelPath, scheme, files: Object.fromEntries(files) };
      try {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        writeFileAtomic(this.fileFor(scheme), JSON.stringify(body), { mode: 0o600 });
        this.loaded.set(scheme, new Map(files));
      } catch (err) {
        this.warnings.push(`verification cache not written: ${(err as Error).message}`);
      }
    }
  }

  private dirChecked: boolean | undefined;
  /**
   * A cache folder anyone can write to (or a symlink, which could be swapped)
   * would let anyone vouch for changed files: such a cache is not used at all.
   */
  private usable(): boolean {
    if (this.dirChecked !== undefined) return this.dirChecked;
    let problem: string | undefined;
    try {
      const st = lstatSync(this.dir);
      if (st.isSymbolicLink()) problem = 'is a symbolic link';
      else if (!st.isDirectory()) problem = 'is not a folder';
      else if (st.mode & 0o002) problem = 'is writable by every user';
    } catch {
      // missing: created 0700 on the first commit
    }
    if (problem) this.warnings.push(`verification cache not used: ${this.dir} ${problem}`);
    return (this.dirChecked = problem === undefined);
  }

  private fileFor(scheme: string): string {
    const id = createHash('sha256').update(JSON.stringify([this.modelPath, scheme])).digest('hex');
    return path.join(this.dir, `${id}.json`);
  }

  private seenIn(scheme: string): Map<string, Entry> {
    let m = this.seen.get(scheme);
    if (!m) this.seen.set(scheme, (m = new Map()));
    return m;
  }

  private entries(scheme: string): Map<string, Entry> {
    let m = this.loaded.get(scheme);
    if (!m) this.loaded.set(scheme, (m = this.read(scheme)));
    return m;
  }

  /** A missing, unreadable, oversized or foreign cache file is an empty cache. */
  private read(scheme: string): Map<string, Entry> {
    const file = this.fileFor(scheme);
    let doc: unknown;
    try {
      doc = parseJsonBounded(readBoundedFile(file, { limit: LIMITS.verificationCacheBytes, what: 'verification cache', notFoundCode: 'CACHE_MISSING' }), file);
    } catch (err) {
      if ((err as { code?: string }).code !== 'CACHE_MISSING') this.warnings.push(`verification cache ignored: ${(err as Error).message}`);
      return new Map();
    }
    const c = doc as Partial<CacheFile>;
    if (c?.version !== VERIFICATION_CACHE_VERSION || c.modelPath !== this.modelPath || c.scheme !== scheme || typeof c.files !== 'object' || c.files === null) {
      this.warnings.push(`verification cache ignored: ${file} is not a version ${VERIFICATION_CACHE_VERSION} entry for this model`);
      return new Map();
    }
    const out = new Map<string, Entry>();
    for (const [name, e] of Object.entries(c.files)) {
      if (typeof e?.state === 'string' && Array.isArray(e.digests) && e.digests.every((d) => typeof d === 'string' && /^[0-9a-f]+$/.test(d))) {
        out.set(name, { state: e.state, digests: e.digests });
      }
    }
    return out;
  }
}

function currentState(absPath: string): string | undefined {
  try {
    const st = statSync(absPath, { bigint: true });
    return stateKey({ dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
  } catch {
    return undefined;
  }
}
