import type { KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MAX_BUNDLE_BYTES, parseBundle, type ParsedBundle } from './bundle.js';
import { compareManifests, describeDifferences, hasDifferences, type ManifestDifferences } from './compare.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './dsse.js';
import { FormatError, InputError, VerificationError } from './errors.js';
import { hashModel, hashOptionsFor, type DigestSource, type HashProgress } from './hash-model.js';
import { keyFingerprint, keyTypeOf, type KeyType } from './keys.js';
import { resourcePath, type Manifest } from './manifest.js';
import { verifyBytes } from './signature.js';
import { defaultSignaturePath, signatureNameInside } from './sign-model.js';
import { LEGACY_DIGESTS_PREDICATE_TYPE, parseOmsStatement } from './statement.js';
import { parseDerCertificate, verifyChain } from './x509-chain.js';
import { verifyKeyless, type KeylessSigner, type KeylessTrust } from './sigstore/keyless-verify.js';

/** Who the signature proves signed the model. */
export type VerifiedSigner =
  | { kind: 'key'; keyType: KeyType; fingerprint: string }
  | { kind: 'certificate'; subject: string; issuer: string; fingerprint: string; chain: string[] }
  | KeylessSigner;

export interface VerifyResult {
  modelName: string;
  rootDigest: string;
  signer: VerifiedSigner;
  /** the manifest that was signed, and found to match the model */
  manifest: Manifest;
}

/** What the caller trusts. Exactly one. */
export type Trust = { publicKey: KeyObject } | { certificateAuthorities: X509Certificate[] } | { sigstore: KeylessTrust };

export interface VerifyOptions {
  trust: Trust;
  /** default: `model.sig` in the folder, `<file>.sig` beside a file */
  signaturePath?: string;
  /** the bundle's bytes, when the caller already has them */
  bundle?: string | Buffer;
  /** more paths to leave out, on top of those the signature records */
  ignorePaths?: readonly string[];
  /** hash only the files the signature names; extra files are then not an error */
  ignoreUnsignedFiles?: boolean;
  /** a manifest the caller computed already (no file reads): it must match the signed one */
  manifest?: Manifest;
  /** when certificates must be valid; default now */
  at?: Date;
  onProgress?: (p: HashProgress) => void;
  /** digests known without reading (a verification cache): passed to hashing */
  known?: DigestSource;
}

/** The model does not match the signed manifest: every difference is listed. */
export class ModelMismatchError extends VerificationError {
  constructor(readonly differences: ManifestDifferences) {
    super('MODEL_MISMATCH', `model does not match its signature: ${describeDifferences(differences)}`);
  }
}

/** Reads a signature file, with clear errors for a missing or oversized one. */
export function readBundle(file: string): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new InputError('SIGNATURE_NOT_FOUND', `${file}: cannot read signature (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (size > MAX_BUNDLE_BYTES) throw new FormatError('BUNDLE_TOO_LARGE', `${file}: ${size} bytes is over the ${MAX_BUNDLE_BYTES}-byte limit for a signature`);
  return readFileSync(file);
}

/**
 * Checks the envelope's signature against what the caller trusts, before
 * anything in the payload is believed. Returns the verified signer.
 */
export function verifyEnvelope(b: ParsedBundle, trust: Trust, at: Date = new Date()): VerifiedSigner {
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
    return { kind: 'key', keyType, fingerprint };
  }
  if (!('certificateAuthorities' in trust)) {
    throw new VerificationError('WRONG_TRUST_KIND', 'the signature was made with a certificate: verify it against a CA bundle (--certificate-chain), or as keyless with --identity and --issuer');
  }
  const ders = m.kind === 'certificateChain' ? m.certificates : [m.certificate];
  const certs = ders.map((d, i) => parseDerCertificate(d, `bundle certificate #${i + 1}`));
  const leaf = certs[0]!;
  const chain = verifyChain(leaf, certs.slice(1), trust.certificateAuthorities, at);
  keyTypeOf(leaf.publicKey, `signing certificate (${leaf.subject})`);
  if (!verifyBytes(leaf.publicKey, pae, b.signature)) {
    throw new VerificationError('SIGNATURE_INVALID', `signature does not verify with the key of certificate "${leaf.subject}"`);
  }
  return { kind: 'certificate', subject: leaf.subject, issuer: leaf.issuer, fingerprint: leaf.fingerprint256, chain: chain.map((c) => c.subject) };
}

/**
 * model_signing v0.2 signed a different statement in a different way; say so
 * plainly instead of reporting a bad signature. This only ever refuses.
 */
function refuseLegacyFormat(b: ParsedBundle): void {
  let predicateType: unknown;
  try {
    predicateType = (JSON.parse(b.payload.toString('utf8')) as { predicateType?: unknown }).predicateType;
  } catch {
    return;
  }
  if (predicateType === LEGACY_DIGESTS_PREDICATE_TYPE) {
    throw new FormatError('UNSUPPORTED_FORMAT_VERSION', `signature uses predicate ${LEGACY_DIGESTS_PREDICATE_TYPE} (model_signing v0.2), which is not supported; re-sign with model_signing >= 1.0 or modelseal`);
  }
}

/** Parses the verified payload as an OMS statement. */
export function signedManifest(b: ParsedBundle): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(b.payload.toString('utf8'));
  } catch (err) {
    throw new FormatError('BAD_PAYLOAD', `signed payload is not JSON (${(err as Error).message})`, { cause: err });
  }
  return parseOmsStatement(json);
}

/**
 * Verifies a model against its signature: the signature against the trusted
 * key or CA, then the model, recomputed with the serialization the signature
 * records, resource by resource. Fails closed: any doubt is an error.
 */
export async function verifyModel(modelPath: string, opts: VerifyOptions): Promise<VerifyResult> {
  const signaturePath = opts.signaturePath ?? defaultSignaturePath(modelPath);
  const bundle = parseBundle(opts.bundle ?? readBundle(signaturePath), opts.bundle ? 'bundle' : signaturePath);
  refuseLegacyFormat(bundle);
  const signer = verifyEnvelope(bundle, opts.trust, opts.at);
  const signed = signedManifest(bundle);
  const actual = opts.manifest ?? (await recompute(modelPath, signed, signaturePath, opts));
  checkShape(signed, actual, modelPath);
  const d = compareManifests(signed, actual);
  if (opts.ignoreUnsignedFiles) d.extra = [];
  if (hasDifferences(d)) throw new ModelMismatchError(d);
  return { modelName: signed.modelName, rootDigest: signed.rootDigest, signer, manifest: signed };
}

async function recompute(modelPath: string, signed: Manifest, signaturePath: string, opts: VerifyOptions): Promise<Manifest> {
  const s = signed.serialization;
  const inside = signatureNameInside(modelPath, signaturePath);
  return hashModel(modelPath, {
    ...hashOptionsFor(s),
    ignorePaths: [...(s.ignorePaths ?? []), ...(opts.ignorePaths ?? [])],
    signatureName: inside ?? path.basename(signaturePath),
    ...(opts.ignoreUnsignedFiles ? { onlyPaths: new Set(signed.resources.map((r) => resourcePath(r.name, s.method))) } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.known ? { known: opts.known } : {}),
  });
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
