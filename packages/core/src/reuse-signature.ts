import { isDeepStrictEqual } from 'node:util';
import { parseBundle } from './bundle.js';
import { InputError, ModelsealError, VerificationError } from './errors.js';
import { resourceRanges, type DigestSource } from './hash-model.js';
import type { ModelFile } from './inputs/walk.js';
import { shardName, type Manifest, type Serialization } from './manifest.js';
import { payloadDigest, readSignState, sameState, StateRecorder } from './reuse/sign-state.js';
import { signModel, type SignOptions, type SignResult } from './sign-model.js';
import { readBundle, signedManifest, verifyEnvelope, type Trust } from './verify-model.js';

/** An old signature to take unchanged files' digests from. */
export interface ReuseFrom {
  signaturePath: string;
  /** who must have made it: the signer's own public key, or any Trust */
  trust: Trust;
  /** when its certificates must be valid; default now */
  at?: Date;
}

export interface IncrementalSignOptions extends SignOptions {
  reuse?: ReuseFrom;
  /** where file states are recorded for the next re-sign (see reuse/sign-state.ts); none when undefined */
  stateDir?: string;
}

export interface ReuseSummary {
  /** files whose digests came from the old signature */
  reusedFiles: number;
  /** why nothing could be reused, when so */
  note?: string;
}

export interface IncrementalSignResult extends SignResult {
  reuse?: ReuseSummary;
  /** the state record written for the next re-sign */
  stateFile?: string;
  /** recording failed (the signature itself was written) */
  stateWarning?: string;
}

function sameSerialization(a: Serialization, b: Serialization): boolean {
  const norm = (s: Serialization) => ({ ...s, ignorePaths: [...(s.ignorePaths ?? [])].sort() });
  return isDeepStrictEqual(norm(a), norm(b));
}

/**
 * Digests an old, verified signature vouches for, handed out only for files
 * whose state (dev, inode, size, mtime, ctime) is exactly the one recorded
 * when that signature was made. A file the old signature does not cover, a
 * file without a record, a changed serialization: all are hashed again.
 */
export function reuseSource(old: Manifest, recorded: ReadonlyMap<string, string>): DigestSource & { hits: number } {
  const digests = new Map(old.resources.map((r) => [r.name, r.digest]));
  const src = {
    hits: 0,
    lookup(file: ModelFile, serialization: Serialization): string[] | undefined {
      if (!sameSerialization(serialization, old.serialization)) return undefined;
      if (!sameState(recorded.get(file.name), file.state)) return undefined;
      const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
      const out: string[] = [];
      for (const [start, end] of resourceRanges(file.size, shardSize)) {
        const d = digests.get(shardSize === undefined ? file.name : shardName(file.name, start, end));
        if (d === undefined) return undefined;
        out.push(d);
      }
      // an empty file in shard mode has no resource to vouch for it: nothing to reuse, nothing to read
      src.hits++;
      return out;
    },
  };
  return src;
}

/** Verifies the old signature (before believing any of it) and loads its state record. */
export function openReuse(r: ReuseFrom, stateDir: string | undefined): { source?: DigestSource & { hits: number }; note?: string } {
  let old: Manifest;
  let payload: Buffer;
  try {
    const b = parseBundle(readBundle(r.signaturePath), r.signaturePath);
    verifyEnvelope(b, r.trust, r.at);
    old = signedManifest(b);
    payload = b.payload;
  } catch (err) {
    if (!(err instanceof ModelsealError)) throw err;
    const msg = `--reuse-from ${r.signaturePath}: ${err.message}`;
    throw err.family === 'verification' ? new VerificationError(err.code, msg, { cause: err }) : new InputError(err.code, msg, { cause: err });
  }
  if (!stateDir) return { note: 'file state recording is off (MODELSEAL_STATE_DIR=off): every file was hashed' };
  const recorded = readSignState(stateDir, payloadDigest(payload));
  if (!recorded) return { note: `no record of the files' state for ${r.signaturePath} on this machine (it is written when signing here): every file was hashed` };
  return { source: reuseSource(old, recorded) };
}

/**
 * `signModel`, re-hashing only what changed since an old signature (when
 * `reuse` is given) and recording every file's state for the next time
 * (when `stateDir` is given). The result is the manifest a full re-hash
 * gives: digests are reused only for files provably untouched.
 */
export async function signModelIncremental(modelPath: string, opts: IncrementalSignOptions): Promise<IncrementalSignResult> {
  const recorder = opts.stateDir ? new StateRecorder() : undefined;
  const reuse = opts.reuse ? openReuse(opts.reuse, opts.stateDir) : undefined;
  const src = reuse?.source;
  const known: DigestSource | undefined =
    recorder || src
      ? {
          lookup(file, serialization) {
            recorder?.note(file.name, file.state);
            return src?.lookup(file, serialization);
          },
        }
      : opts.hash?.known;
  const { reuse: _r, stateDir: _s, ...base } = opts;
  const result: IncrementalSignResult = await signModel(modelPath, { ...base, hash: { ...opts.hash, ...(known ? { known } : {}) } });
  if (reuse) result.reuse = { reusedFiles: src?.hits ?? 0, ...(reuse.note ? { note: reuse.note } : {}) };
  if (recorder && opts.stateDir) {
    try {
      const payload = Buffer.from(result.bundle.dsseEnvelope.payload, 'base64');
      result.stateFile = recorder.write(opts.stateDir, payloadDigest(payload));
    } catch (err) {
      result.stateWarning = `could not record file states for re-signing in ${opts.stateDir}: ${(err as Error).message}`;
    }
  }
  return result;
}
