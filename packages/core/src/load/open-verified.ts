import { constants as fsc, promises as fsp, type BigIntStats } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { Readable } from 'node:stream';
import { parseBundle } from '../bundle.js';
import { InputError, VerificationError } from '../errors.js';
import { serializationFor } from '../hash-model.js';
import { ignorePathInModel } from '../paths.js';
import { createHasher, type StreamHasher } from '../hashing/algorithms.js';
import { resolveModelPath } from '../inputs/hf-snapshot.js';
import { isTarballPath } from '../inputs/tar.js';
import { fileState, walkModel, type FileState, type ModelFile } from '../inputs/walk.js';
import { parseShardName, type Manifest, type Serialization } from '../manifest.js';
import type { PolicyReport } from '../policy/evaluate.js';
import { signerJson as toSignerJson, type SignerJson } from '../report/json.js';
import { defaultSignaturePath } from '../sign-model.js';
import { ModelMismatchError, readBundle, signedManifest, verificationHashOptions, verifyEnvelope, type VerifiedSigner } from '../verify-model.js';
import { auditEvent, failureEvent, type AuditEvent, type AuditFacts } from './audit.js';
import { checkTrustChoice, decideByPolicy, type LoadTrustOptions } from './trust-decision.js';
import { VerificationCacheSession, type VerificationCacheOptions } from './verification-cache.js';

/** `openVerified`'s options: a trust or a policy, plus cache and audit sink. */
export interface OpenVerifiedOptions extends LoadTrustOptions {
  /**
   * Check files against digests verified before (no reading) at open time,
   * and remember each file's digests once a read has verified it.
   */
  cache?: VerificationCacheOptions;
  /** told one event when the model is opened (or refused) */
  onAudit?: (event: AuditEvent) => void;
}

/** Options of one verified read. */
export interface VerifiedReadOptions {
  /** bytes per chunk (default 1 MiB); also the most a stream holds back */
  chunkBytes?: number;
}

/**
 * A model whose signature (and policy) verified and whose file set matches the
 * signed manifest. Its bytes are checked as they are read: each file (or
 * shard) is hashed on the way and compared with the signed digest before its
 * last chunk is handed over, so what the caller loads is what was signed.
 */
export interface VerifiedModel {
  /** the model folder or file (an `hf://` URI resolved to its snapshot) */
  readonly path: string;
  readonly modelName: string;
  readonly rootDigest: string;
  readonly manifest: Manifest;
  readonly signer: VerifiedSigner;
  readonly signerJson: SignerJson;
  readonly policy?: PolicyReport;
  /** the file names that may be read: the manifest's paths ("." for a single-file model) */
  readonly files: readonly string[];
  /** the event told to `onAudit` at open */
  readonly event: AuditEvent;
  /** cache problems: never fatal */
  readonly warnings: readonly string[];
  /** The whole file, returned only once every byte matched the signed digest. */
  readFile(name: string, o?: VerifiedReadOptions): Promise<Buffer>;
  /**
   * The file as a stream. Chunks before the last are not yet verified: act on
   * the data only after 'end'. A mismatch destroys the stream with
   * MODEL_MISMATCH (the file differs from what was signed) or FILE_CHANGED
   * (the file was modified, replaced or removed since the model was opened),
   * and the last chunk is never delivered.
   */
  createReadStream(name: string, o?: VerifiedReadOptions): Readable;
}

interface Expected {
  file: ModelFile;
  /** resource names and digests in byte order; empty for an empty file in shard mode */
  resources: Array<{ name: string; start: number; end: number; digest: string }>;
  /** shards fix the size; files do not record it */
  size?: number;
}

const DEFAULT_CHUNK = 1 << 20;

/**
 * Opens a model for verified reading. At open: the signature against the
 * trust (or the policy, which `evaluatePolicy` checks in full, hashing the
 * model once), then the file set: every signed file present, no unsigned one,
 * shard ranges covering each file's size exactly. No bytes are hashed at open
 * with a trust: each read hashes its file once, as it delivers it.
 */
export async function openVerified(model: string, o: OpenVerifiedOptions): Promise<VerifiedModel> {
  const facts: AuditFacts = { operation: 'open', modelPath: model };
  let handle: VerifiedModel;
  try {
    checkTrustChoice(o);
    const modelPath = resolveModelPath(model);
    if (modelPath !== model) Object.assign(facts, { modelPath, uri: model });
    if (isTarballPath(modelPath)) throw new InputError('BAD_MODEL_PATH', `${modelPath}: openVerified reads folders and single files; extract the tarball first`);
    const signaturePath = o.signaturePath ?? defaultSignaturePath(modelPath);
    const bundle = parseBundle(readBundle(signaturePath), signaturePath);
    let signer: VerifiedSigner;
    let policy: PolicyReport | undefined;
    if (o.policy) {
      const d = await decideByPolicy(modelPath, signaturePath, bundle, { ...o, policy: o.policy });
      signer = d.signer;
      policy = d.report;
      facts.policy = { file: o.policy.file, ...(o.stage ? { stage: o.stage } : {}), report: d.report };
    } else {
      signer = verifyEnvelope(bundle, o.trust!, o.at);
    }
    const manifest = signedManifest(bundle);
    const signerJson = toSignerJson(signer);
    Object.assign(facts, { manifest, signer: signerJson });
    const expected = checkFileSet(modelPath, signaturePath, manifest);
    const cache = o.cache ? new VerificationCacheSession(o.cache.dir, modelPath) : undefined;
    if (cache) {
      checkCached(expected, manifest.serialization, cache);
      facts.cache = { hits: cache.hits, misses: cache.misses };
    }
    handle = makeHandle(modelPath, manifest, signer, signerJson, policy, expected, cache, auditEvent(facts));
  } catch (err) {
    o.onAudit?.(failureEvent(facts, err, o.stage));
    throw err;
  }
  o.onAudit?.(handle.event);
  return handle;
}

/** Names, presence and (for shards) sizes, without reading a byte. */
function checkFileSet(modelPath: string, signaturePath: string, m: Manifest): Map<string, Expected> {
  const s = m.serialization;
  // Exactly the ignores verifyModel hashes with (one function decides them for both).
  const hashOpts = verificationHashOptions(modelPath, m, signaturePath);
  const ignorePaths = serializationFor({ ...hashOpts, ignorePaths: (hashOpts.ignorePaths ?? []).map((p: string) => ignorePathInModel(p, modelPath)) }).ignorePaths ?? [];
  const walked = walkModel(modelPath, { ignorePaths, allowSymlinks: s.allowSymlinks });
  const want = new Map<string, Expected['resources']>();
  for (const r of m.resources) {
    const k = s.method === 'shards' ? parseShardName(r.name) : { path: r.name, start: 0, end: -1 };
    const list = want.get(k.path) ?? [];
    list.push({ name: r.name, start: k.start, end: k.end, digest: r.digest });
    want.set(k.path, list);
  }
  const single = [...want.keys()].every((p) => p === '.');
  if (want.size > 0 && single !== (walked.kind === 'file')) {
    throw new VerificationError('MODEL_KIND_MISMATCH', single ? `the signature is for a single file, but ${modelPath} is a folder: pass the file's path` : `the signature is for a folder, but ${modelPath} is a single file`);
  }
  const out = new Map<string, Expected>();
  const extra: string[] = [];
  const changed: string[] = [];
  for (const f of walked.files) {
    const resources = want.get(f.name);
    if (!resources) {
      // Shard manifests give empty files no resource (OMS 6.3.2): present and empty is as signed.
      if (s.method === 'shards' && f.size === 0) out.set(f.name, { file: f, resources: [], size: 0 });
      else extra.push(f.name);
      continue;
    }
    want.delete(f.name);
    if (s.method === 'files') {
      out.set(f.name, { file: f, resources });
      continue;
    }
    resources.sort((a, b) => a.start - b.start);
    const size = contiguousSize(resources, s.shardSize);
    if (size === undefined) throw new VerificationError('BAD_SHARD_LAYOUT', `${f.name}: the signed shards do not cover the file in order`);
    if (size !== f.size) changed.push(f.name);
    out.set(f.name, { file: f, resources, size });
  }
  const missing = [...want.keys()];
  if (extra.length + missing.length + changed.length > 0) throw new ModelMismatchError({ changed, missing, extra });
  return out;
}

/** The file size shards describe, when they tile [0, size) with shard-size pieces. */
function contiguousSize(rs: Expected['resources'], shardSize: number): number | undefined {
  let at = 0;
  for (const [i, r] of rs.entries()) {
    if (r.start !== at || (i < rs.length - 1 && r.end - r.start !== shardSize)) return undefined;
    at = r.end;
  }
  return at;
}

/** Files the cache has verified digests for are checked now; a state that matches but digests that differ is a mismatch. */
function checkCached(expected: Map<string, Expected>, s: Serialization, cache: VerificationCacheSession): void {
  const changed: string[] = [];
  for (const [name, e] of expected) {
    if (e.resources.length === 0) continue;
    const known = cache.lookup(e.file, s);
    if (known && (known.length !== e.resources.length || known.some((d, i) => d !== e.resources[i]!.digest))) changed.push(name);
  }
  if (changed.length) throw new ModelMismatchError({ changed, missing: [], extra: [] });
}

function makeHandle(
  modelPath: string,
  manifest: Manifest,
  signer: VerifiedSigner,
  signerJson: SignerJson,
  policy: PolicyReport | undefined,
  expected: Map<string, Expected>,
  cache: VerificationCacheSession | undefined,
  event: AuditEvent,
): VerifiedModel {
  const s = manifest.serialization;
  const entry = (name: string): Expected => {
    const e = typeof name === 'string' ? expected.get(name) : undefined;
    if (!e) throw new InputError('NOT_IN_MANIFEST', `${String(name)}: not a file of the signed model; only signed files can be read`);
    return e;
  };
  const onVerified = cache
    ? (file: ModelFile, digests: string[]) => {
        cache.store(file, s, digests);
        cache.commit();
      }
    : undefined;
  const reader = (name: string, ro: VerifiedReadOptions, whole: boolean) => new VerifyingReader(entry(name), s, ro.chunkBytes ?? DEFAULT_CHUNK, whole, onVerified);
  const createReadStream = (name: string, ro: VerifiedReadOptions = {}): Readable => reader(name, ro, false);
  return {
    path: modelPath,
    modelName: manifest.modelName,
    rootDigest: manifest.rootDigest,
    manifest,
    signer,
    signerJson,
    ...(policy ? { policy } : {}),
    files: [...expected.keys()],
    event,
    get warnings() {
      return cache?.warnings ?? [];
    },
    createReadStream,
    async readFile(name: string, ro: VerifiedReadOptions = {}): Promise<Buffer> {
      // Chunks are views into one buffer of the file's size: no second copy of a large file.
      const r = reader(name, ro, true);
      for await (const _ of r);
      return r.whole!;
    },
  };
}

const sameState = (a: FileState | undefined, b: FileState) =>
  a !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/**
 * Reads one file in chunks that never cross a shard boundary, hashing each
 * shard (or the whole file) as it passes. The chunk that completes a shard is
 * pushed only after its digest matched; at the end, the file must also be
 * exactly as long as what was verified.
 */
class VerifyingReader extends Readable {
  private fh: fsp.FileHandle | undefined;
  private stat: BigIntStats | undefined;
  private ranges: Array<{ name: string; start: number; end: number; digest?: string }> = [];
  private idx = 0;
  private pos = 0;
  private hasher: StreamHasher | undefined;
  private readonly digests: string[] = [];

  constructor(
    private readonly e: Expected,
    private readonly s: Serialization,
    private readonly chunk: number,
    private readonly wantWhole: boolean,
    private readonly onVerified?: (file: ModelFile, digests: string[]) => void,
  ) {
    super({ highWaterMark: chunk });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    this.open().then(() => cb(), (err: unknown) => cb(err as Error));
  }

  private async open(): Promise<void> {
    const f = this.e.file;
    try {
      // O_NOFOLLOW: a file replaced by a symlink after open is refused, not followed.
      this.fh = await fsp.open(f.absPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      throw new VerificationError('FILE_CHANGED', `${f.name}: cannot be opened any more (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): removed or replaced since the model was verified`, { cause: err });
    }
    this.stat = await this.fh.stat({ bigint: true });
    if (!this.stat.isFile()) throw new VerificationError('FILE_CHANGED', `${f.name}: is no longer a regular file`);
    const size = Number(this.stat.size);
    if (this.s.method === 'files') this.ranges = [{ ...this.e.resources[0]!, start: 0, end: size }];
    else {
      if (size !== this.e.size) throw this.mismatch(`is ${size} bytes, the signed shards cover ${this.e.size}`);
      this.ranges = this.e.resources;
    }
    if (this.wantWhole) {
      if (size > bufferConstants.MAX_LENGTH) throw new InputError('FILE_TOO_LARGE_FOR_BUFFER', `${f.name}: ${size} bytes do not fit in one Buffer; read it with createReadStream`);
      this.whole = Buffer.allocUnsafe(size);
    }
  }

  private mismatch(why: string): VerificationError {
    const name = this.e.file.name;
    if (!sameState(this.e.file.state, fileState(this.stat!))) {
      return new VerificationError('FILE_CHANGED', `${name}: changed since the model was verified: ${why}`);
    }
    const err = new ModelMismatchError({ changed: [name], missing: [], extra: [] });
    err.message = `${name}: ${why}: model does not match its signature`;
    return err;
  }

  override _read(): void {
    this.step().then(
      (more) => {
        if (!more) this.push(null);
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  /** Reads and pushes one chunk; false once the file is done and verified. */
  private async step(): Promise<boolean> {
    const r = this.ranges[this.idx];
    if (!r) {
      await this.checkEof();
      this.done();
      return false;
    }
    this.hasher ??= createHasher(this.s.hashType);
    const want = Math.min(this.chunk, r.end - this.pos);
    const cur = this.prefetched ?? this.readPiece(this.pos, want);
    this.prefetched = undefined;
    // Start reading the next piece before hashing this one: the read runs on the
    // thread pool while the hash runs here, as a plain read stream overlaps them.
    const nextAt = this.pos + want;
    const nr = nextAt < r.end ? r : this.ranges[this.idx + 1];
    if (nr) {
      this.prefetched = this.readPiece(nextAt, Math.min(this.chunk, nr.end - nextAt));
      this.prefetched.catch(() => undefined); // awaited (and its error reported) on the next step
    }
    const { buf, n } = await cur;
    if (n < want) throw this.mismatch(`ended at byte ${this.pos + n}, before the ${r.end} bytes verified`);
    this.hasher.update(buf);
    this.pos += n;
    if (this.pos === r.end) {
      const digest = this.hasher.digest().toString('hex');
      this.hasher = undefined;
      if (digest !== r.digest) throw this.mismatch(r.name === this.e.file.name ? 'content differs from the signed digest' : `shard ${r.name} differs from the signed digest`);
      this.digests.push(digest);
      this.idx++;
      // The last chunk goes out only after the file is known to end here.
      if (this.idx === this.ranges.length) await this.checkEof();
    }
    this.push(buf);
    if (this.idx === this.ranges.length) {
      this.done();
      this.push(null);
    }
    return true;
  }

  /** readFile: the whole file, filled by the chunks as they are read */
  whole: Buffer | undefined;
  private prefetched: Promise<{ buf: Buffer; n: number }> | undefined;

  /** `len` bytes at `at`, fewer only at end of file. */
  private async readPiece(at: number, len: number): Promise<{ buf: Buffer; n: number }> {
    const buf = this.whole ? this.whole.subarray(at, at + len) : Buffer.allocUnsafe(len);
    let n = 0;
    while (n < len) {
      const { bytesRead } = await this.fh!.read(buf, n, len - n, at + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return { buf: n === len ? buf : buf.subarray(0, n), n };
  }

  private async checkEof(): Promise<void> {
    const { bytesRead } = await this.fh!.read(Buffer.alloc(1), 0, 1, this.pos);
    if (bytesRead !== 0) throw this.mismatch(`is longer than the ${this.pos} bytes verified`);
  }

  private doneCalled = false;
  private done(): void {
    if (this.doneCalled) return;
    this.doneCalled = true;
    this.onVerified?.({ ...this.e.file, state: fileState(this.stat!) }, this.digests);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return cb(err);
    fh.close().then(() => cb(err), () => cb(err));
  }
}
