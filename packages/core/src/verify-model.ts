import { KeyObject as KeyObjectClass, X509Certificate as X509Class, type KeyObject, type X509Certificate } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseBundle, type ParsedBundle } from './bundle.js';
import { compareManifests, describeDifferences, hasDifferences, type ManifestDifferences } from './compare.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './dsse.js';
import { InputError, ModelPathError, ModelsealError, VerificationError } from './errors.js';
import { DEFAULT_SIGNATURE_NAME, hashModelDetailed, hashOptionsFor, type DigestSource, type HashDetails, type HashOptions, type HashProgress } from './hash-model.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from './limits.js';
import { manifestDigest } from './manifest-digest.js';
import { keyFingerprint, keyTypeOf, spkiSha256, type KeyType } from './keys.js';
import { resourcePath, type Manifest } from './manifest.js';
import { verifyBytes } from './signature.js';
import { defaultSignaturePath, signatureNameInside } from './sign-model.js';
import { parseOmsStatement } from './statement.js';
import { parseDerCertificate, verifyChain } from './x509-chain.js';
import { verifyKeyless, type KeylessSigner, type KeylessTrust } from './sigstore/keyless-verify.js';

/** Who the signature proves signed the model. */
export type VerifiedSigner =
  | { kind: 'key'; keyType: KeyType; fingerprint: string; publicKeySha256: string }
  | { kind: 'certificate'; keyType: KeyType; subject: string; issuer: string; fingerprint: string; publicKeySha256: string; chain: string[] }
  | KeylessSigner;

/** What a successful `verifyModel` proves: who signed which manifest, and what the caller should know. */
export interface VerifyResult {
  modelName: string;
  rootDigest: string;
  /** SHA-256 over the canonical signed manifest: names, digests and serialization (what attestations bind) */
  manifestDigest: string;
  signer: VerifiedSigner;
  /** the manifest that was signed, and found to match the model */
  manifest: Manifest;
  /** things a careful reader should know, none of which failed verification */
  warnings: string[];
  /** paths present in the model that the signature does not cover, because the signer (or the caller) ignored them */
  notCovered: string[];
  /** unsigned files present and allowed by `ignoreUnsignedFiles` (named, never hashed) */
  unsignedFiles: string[];
  /** files whose digests came from `known` (a verification cache) instead of being read */
  reused: number;
}

/** What the caller trusts. Exactly one. */
export type Trust = { publicKey: KeyObject } | { certificateAuthorities: X509Certificate[] } | { sigstore: KeylessTrust };

/** How to verify: what to trust (required), where the signature is, and the few knobs a verifier may turn. */
export interface VerifyOptions {
  trust: Trust;
  /** default: `model.sig` in the folder, `<file>.sig` beside a file */
  signaturePath?: string;
  /** the bundle's bytes, when the caller already has them */
  bundle?: string | Buffer;
  /** more paths to leave out, on top of those the signature records */
  ignorePaths?: readonly string[];
  /**
   * Signatures that record no ignore paths (model_signing < 1.1) get the
   * `.git*` defaults applied, as their signer did; false turns that off.
   * Signatures that record their ignore paths are verified with exactly those.
   */
  ignoreGitPaths?: boolean;
  /** hash only the files the signature names; unsigned extra files are then allowed (and named) */
  ignoreUnsignedFiles?: boolean;
  /** a manifest the caller computed already (no file reads): it must match the signed one */
  manifest?: Manifest;
  /** digests known without reading (a verification cache) */
  known?: DigestSource;
  /** when certificates must be valid; default now */
  at?: Date;
  onProgress?: (p: HashProgress) => void;
}

/** The model does not match the signed manifest: every difference is listed. */
export class ModelMismatchError extends VerificationError {
  constructor(readonly differences: ManifestDifferences) {
    super('MODEL_MISMATCH', `model does not match its signature: ${describeDifferences(differences)}`, { details: { differences } });
  }
}

/** Reads a signature file: a regular file within the bundle limit, with clear errors otherwise. */
export function readBundle(file: string, modelPath?: string): Buffer {
  try {
    return readBoundedFile(file, { limit: LIMITS.bundleBytes, what: 'signature', notFoundCode: 'SIGNATURE_NOT_FOUND', tooLargeCode: 'BUNDLE_TOO_LARGE' });
  } catch (err) {
    if (err instanceof InputError && err.code === 'SIGNATURE_NOT_FOUND' && modelPath) {
      const folder = signedFolderAround(modelPath);
      if (folder) {
        throw new InputError('MODEL_INSIDE_SIGNED_FOLDER', `${file}: no signature; ${modelPath} is a file inside the signed model folder ${folder}: verify the folder`, { cause: err });
      }
    }
    throw err;
  }
}

/** The nearest folder above a file that holds a model.sig: the model the user probably meant. */
function signedFolderAround(modelPath: string): string | undefined {
  let dir = path.dirname(path.resolve(modelPath));
  for (let i = 0; i < 64; i++) {
    if (existsSync(path.join(dir, DEFAULT_SIGNATURE_NAME))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/** The model path must exist, and must not be a signature file given by mistake. */
export function assertModelPath(modelPath: string): void {
  let st;
  try {
    st = statSync(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelPathError('MODEL_NOT_FOUND', `${modelPath}: no such file or folder`, { cause: err });
    throw new ModelPathError('MODEL_UNREADABLE', `${modelPath}: ${code ?? (err as Error).message}`, { cause: err });
  }
  if (st.isFile() && /\.(sig|sigstore\.json|bundle|bundle\.json)$/i.test(modelPath) && !existsSync(`${modelPath}.sig`) && looksLikeBundle(modelPath)) {
    throw new InputError('MODEL_IS_SIGNATURE', `${modelPath} is a signature, not a model: pass the model folder or file it signs (and --signature ${modelPath} if it is not in the default place)`);
  }
}

function looksLikeBundle(file: string): boolean {
  try {
    const head = readBoundedFile(file, { limit: LIMITS.bundleBytes, what: 'file', notFoundCode: 'MODEL_UNREADABLE' }).subarray(0, 4096).toString('utf8');
    return /"mediaType"\s*:\s*"application\/vnd\.dev\.sigstore\.bundle/.test(head);
  } catch {
    return false;
  }
}

/** Library callers get a coded error, never a TypeError, for a missing or malformed trust. */
export function checkTrust(trust: unknown): asserts trust is Trust {
  if (trust === undefined || trust === null || typeof trust !== 'object') {
    throw new InputError('MISSING_TRUST', 'verification needs `trust`: { publicKey }, { certificateAuthorities } or { sigstore: { trustedRoot, policy } }');
  }
  const t = trust as Record<string, unknown>;
  const kinds = ['publicKey', 'certificateAuthorities', 'sigstore'].filter((k) => t[k] !== undefined);
  if (kinds.length !== 1) throw new InputError('BAD_TRUST', `trust must have exactly one of publicKey, certificateAuthorities, sigstore (found ${kinds.length ? kinds.join(', ') : 'none'})`);
  if (kinds[0] === 'publicKey' && !(t.publicKey instanceof KeyObjectClass && (t.publicKey as KeyObject).type !== 'secret')) {
    throw new InputError('BAD_TRUST', 'trust.publicKey must be an asymmetric KeyObject (use loadPublicKey(file).key)');
  }
  if (kinds[0] === 'certificateAuthorities' && !(Array.isArray(t.certificateAuthorities) && t.certificateAuthorities.length > 0 && t.certificateAuthorities.every((c) => c instanceof X509Class))) {
    throw new InputError('BAD_TRUST', 'trust.certificateAuthorities must be a non-empty list of X509Certificate (use loadCertificates(file))');
  }
  if (kinds[0] === 'sigstore') {
    const k = t.sigstore as Record<string, unknown> | null;
    if (!k || typeof k !== 'object' || !k.trustedRoot || typeof k.policy !== 'object' || k.policy === null) {
      throw new InputError('BAD_TRUST', 'trust.sigstore needs { trustedRoot, policy: { identity|identityRegexp, issuer|issuerRegexp } }');
    }
  }
}

/**
 * Checks the envelope's signature against what the caller trusts, before
 * anything in the payload is believed. Returns the verified signer.
 */
export function verifyEnvelope(b: ParsedBundle, trust: Trust, at: Date = new Date()): VerifiedSigner {
  checkTrust(trust);
  try {
    return checkEnvelope(b, trust, at);
  } catch (err) {
    if (err instanceof ModelsealError) throw err;
    // A malformed certificate extension or key inside an attacker's bundle: a refusal, never a crash.
    throw new VerificationError('BAD_CERTIFICATE', `signature material could not be checked: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

function checkEnvelope(b: ParsedBundle, trust: Trust, at: Date): VerifiedSigner {
  if (b.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VerificationError('PAYLOAD_TYPE_MISMATCH', `envelope payloadType is ${JSON.stringify(b.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  if ('sigstore' in trust) return verifyKeyless(b, trust.sigstore);
  const pae = preAuthEncoding(b.payloadType, b.payload);
  const m = b.material;
  if (m.kind === 'publicKey') {
    if (!('publicKey' in trust)) {
      throw new VerificationError('WRONG_TRUST_KIND', 'the signature was made with a bare key, not a certificate: verify it with a public key (--key)');
    }
    const keyType = keyTypeOf(trust.publicKey, 'public key');
    const fingerprint = keyFingerprint(trust.publicKey);
    if (!verifyBytes(trust.publicKey, pae, b.signature)) {
      const other = m.hint && /^[0-9a-f]{64}$/.test(m.hint) && m.hint !== fingerprint ? ` (the bundle names key ${m.hint})` : '';
      throw new VerificationError('SIGNATURE_INVALID', `signature does not verify with key ${fingerprint}${other}`);
    }
    return { kind: 'key', keyType, fingerprint, publicKeySha256: spkiSha256(trust.publicKey) };
  }
  if (!('certificateAuthorities' in trust)) {
    throw new VerificationError('WRONG_TRUST_KIND', 'the signature was made with a certificate: verify it against a CA bundle (--certificate-chain), or as keyless with --identity and --issuer');
  }
  const ders = m.kind === 'certificateChain' ? m.certificates : [m.certificate];
  const certs = ders.map((d, i) => parseDerCertificate(d, `bundle certificate #${i + 1}`));
  const leaf = certs[0]!;
  const chain = verifyChain(leaf, certs.slice(1), trust.certificateAuthorities, at);
  const keyType = keyTypeOf(leaf.publicKey, `signing certificate (${leaf.subject})`);
  if (!verifyBytes(leaf.publicKey, pae, b.signature)) {
    throw new VerificationError('SIGNATURE_INVALID', `signature does not verify with the key of certificate "${leaf.subject}"`);
  }
  return { kind: 'certificate', keyType, subject: leaf.subject, issuer: leaf.issuer, fingerprint: leaf.fingerprint256, publicKeySha256: spkiSha256(leaf.publicKey), chain: chain.map((c) => c.subject) };
}

/** Parses the verified payload as an OMS statement. */
export function signedManifest(b: ParsedBundle): Manifest {
  return parseOmsStatement(parseJsonBounded(b.payload, 'signed payload', 'BAD_PAYLOAD'));
}

/**
 * Verifies a model against its signature, in this order: the signature
 * against the trusted key, CA or Sigstore identity (before anything in the
 * payload is believed); the statement; then the model, recomputed with the
 * serialization the signature records, resource by resource. Fails closed:
 * any doubt is an error. Unsigned files are named without being read.
 */
export async function verifyModel(modelPath: string, opts: VerifyOptions): Promise<VerifyResult> {
  checkTrust(opts?.trust);
  if (!opts.manifest) assertModelPath(modelPath);
  const signaturePath = opts.signaturePath ?? defaultSignaturePath(modelPath);
  const bundle = parseBundle(opts.bundle ?? readBundle(signaturePath, opts.signaturePath ? undefined : modelPath), opts.bundle ? 'bundle' : signaturePath);
  const signer = verifyEnvelope(bundle, opts.trust, opts.at);
  const signed = signedManifest(bundle);
  if (signed.resources.length === 0) {
    // An empty manifest with --ignore-unsigned-files would vouch for any folder at all.
    throw new VerificationError('EMPTY_MANIFEST', 'the signature lists no files: it proves nothing about any model');
  }
  const m = await checkModelAgainst(modelPath, signed, { ...opts, signaturePath });
  if (hasDifferences(m.differences)) throw new ModelMismatchError(m.differences);
  const warnings = [...m.warnings];
  if (signed.legacyFormat) warnings.unshift('signature is in the model_signing v0.2 format (one subject per file, SHA-256); re-sign with a current tool to record the hashing parameters');
  return {
    modelName: signed.modelName || m.actual.modelName,
    rootDigest: signed.rootDigest,
    manifestDigest: manifestDigest(signed),
    signer,
    manifest: signed,
    warnings,
    notCovered: m.notCovered,
    unsignedFiles: m.unsignedFiles,
    reused: m.reused,
  };
}

export interface ModelCheck {
  differences: ManifestDifferences;
  /** the manifest of what is there now (signed files only, unless a manifest was given) */
  actual: Manifest;
  warnings: string[];
  notCovered: string[];
  unsignedFiles: string[];
  reused: number;
}

/**
 * Compares a model with a signed manifest, trusting nothing: the one
 * comparison behind `verify`, and behind `attest`/`approve` refusing a model
 * that no longer matches its signature. Signed files are hashed with the
 * recorded serialization; unsigned files are named, never read; a new shard
 * of a signed file (it grew) is a difference even with `ignoreUnsignedFiles`.
 */
export async function checkModelAgainst(modelPath: string, signed: Manifest, opts: Omit<VerifyOptions, 'trust'> & { signaturePath: string }): Promise<ModelCheck> {
  const signedPaths = new Set(signed.resources.map((r) => resourcePath(r.name, signed.serialization.method)));
  let actual: Manifest;
  let unhashed: string[] = [];
  let emptyFiles: string[] = [];
  let reused = 0;
  let notCovered: string[] = [];
  if (opts.manifest) {
    actual = opts.manifest;
  } else {
    const r = await recompute(modelPath, signed, opts.signaturePath, signedPaths, opts);
    ({ unhashed, emptyFiles, reused } = r.details);
    actual = r.details.manifest;
    notCovered = r.notCovered;
  }
  checkShape(signed, actual, modelPath);
  const d = compareManifests(signed, actual);
  const grown = d.extra.filter((n) => signedPaths.has(resourcePath(n, actual.serialization.method)));
  const unsignedByName = d.extra.filter((n) => !grown.includes(n)).concat(unhashed.filter((n) => !emptyFiles.includes(n)));
  d.extra = opts.ignoreUnsignedFiles ? grown : [...grown, ...unsignedByName];
  const warnings = emptyFiles.map((e) => `not covered by a shard signature: empty file ${e} (the OMS format gives empty files no shard)`);
  if (notCovered.length) warnings.push(`not covered by the signature (ignored): ${notCovered.join(', ')}`);
  const unsignedFiles = opts.ignoreUnsignedFiles ? unsignedByName : [];
  if (unsignedFiles.length) warnings.push(`unsigned files allowed by --ignore-unsigned-files: ${unsignedFiles.join(', ')}`);
  return { differences: d, actual, warnings, notCovered, unsignedFiles, reused };
}

/**
 * How to hash a model to check it against a signed manifest: the recorded
 * serialization; ignore paths exactly as recorded (plus the caller's and the
 * signature file if it lies inside the model), or, for older signatures that
 * record none, the `.git*` defaults unless turned off. The one rule for
 * `verifyModel`, `openVerified` and everything else that checks a model.
 */
export function verificationHashOptions(modelPath: string, signed: Manifest, signaturePath: string, opts: Pick<VerifyOptions, 'ignorePaths' | 'ignoreGitPaths'> = {}): HashOptions {
  const s = signed.serialization;
  return {
    ...hashOptionsFor(s),
    ignorePaths: [...(s.ignorePaths ?? []), ...(opts.ignorePaths ?? [])],
    ignoreGitPaths: s.ignorePaths ? false : (opts.ignoreGitPaths ?? true),
    signatureName: signatureNameInside(modelPath, signaturePath) ?? null,
  };
}

/**
 * Hashes the model as the signature says it was hashed. Ignore paths: when
 * the signature records them, exactly those (plus the caller's and the
 * signature file, if it lies inside the model); when it records none (older
 * signers), the `.git*` defaults unless turned off. Only signed files are read.
 */
async function recompute(modelPath: string, signed: Manifest, signaturePath: string, signedPaths: ReadonlySet<string>, opts: Omit<VerifyOptions, 'trust'>): Promise<{ details: HashDetails; notCovered: string[] }> {
  const inside = signatureNameInside(modelPath, signaturePath);
  const hashOpts: HashOptions = {
    ...verificationHashOptions(modelPath, signed, signaturePath, opts),
    onlyPaths: signedPaths,
    ...(opts.known ? { known: opts.known } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  };
  const details = await hashModelDetailed(modelPath, hashOpts);
  // What the ignores actually left out: a path recorded or given, present on disk, not the signature itself.
  const ignored = details.manifest.serialization.ignorePaths ?? [];
  const notCovered = isDirectory(modelPath) ? ignored.filter((p) => p !== inside && existsSync(path.join(modelPath, p))) : [];
  return { details, notCovered };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A single-file signature checked against a folder (or the reverse) deserves a plain answer, not a diff. */
function checkShape(signed: Manifest, actual: Manifest, modelPath: string): void {
  const single = (m: Manifest) => m.resources.length > 0 && m.resources.every((r) => resourcePath(r.name, m.serialization.method) === '.');
  if (single(signed) && !single(actual)) {
    throw new VerificationError('MODEL_KIND_MISMATCH', `the signature is for a single file, but ${modelPath} is a folder: pass the file's path`);
  }
  if (!single(signed) && single(actual)) {
    throw new VerificationError('MODEL_KIND_MISMATCH', `the signature is for a folder, but ${modelPath} is a single file`);
  }
}
