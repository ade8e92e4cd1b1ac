import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from './bundle.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './dsse.js';
import { InputError } from './errors.js';
import { DEFAULT_SIGNATURE_NAME, hashModelDetailed, type HashOptions } from './hash-model.js';
import { LIMITS } from './limits.js';
import { keyFingerprint } from './keys.js';
import type { Manifest } from './manifest.js';
import { signBytes } from './signature.js';
import { toOmsStatement } from './statement.js';

/** Turns a payload into a signed Sigstore bundle: a local key, or keyless Sigstore. */
export interface Signer {
  createBundle(payload: Buffer, payloadType: string): Promise<SerializedBundle>;
  /** the verifying key, when the signer holds a long-lived one */
  publicKey?: KeyObject;
}

/**
 * A local key. Without a chain the bundle carries only the key's hint (hex
 * SHA-256 of its PEM), exactly as model_signing 1.1 writes it; with a chain
 * (leaf first) it carries the certificates instead.
 */
export function keySigner(privateKey: KeyObject, certificateChain?: X509Certificate[]): Signer {
  if (certificateChain?.length) {
    const leafKey = certificateChain[0]!.publicKey.export({ type: 'spki', format: 'der' });
    const ourKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    if (!leafKey.equals(ourKey)) throw new InputError('CERT_KEY_MISMATCH', 'the first certificate of the chain is not for the signing key');
  }
  const verificationMaterial: SerializedBundle['verificationMaterial'] = certificateChain?.length
    ? { x509CertificateChain: { certificates: certificateChain.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] }
    : { publicKey: { hint: keyFingerprint(privateKey) }, tlogEntries: [] };
  return {
    publicKey: createPublicKey(privateKey),
    createBundle: async (payload, payloadType) => ({
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial,
      dsseEnvelope: {
        payload: payload.toString('base64'),
        payloadType,
        signatures: [{ sig: Buffer.from(signBytes(privateKey, preAuthEncoding(payloadType, payload))).toString('base64'), keyid: '' }],
      },
    }),
  };
}

/** Where the signature goes by default: `model.sig` inside a folder, `<file>.sig` beside a file or tarball. */
export function defaultSignaturePath(modelPath: string): string {
  let isDir = false;
  try {
    isDir = statSync(modelPath).isDirectory();
  } catch {
    // hashing reports a missing model with a better message
  }
  return isDir ? path.join(modelPath, DEFAULT_SIGNATURE_NAME) : `${modelPath}.sig`;
}

/** The signature file's name relative to the model folder, when it lies inside it (so it is not hashed). */
export function signatureNameInside(modelPath: string, signaturePath: string): string | undefined {
  const rel = path.relative(path.resolve(modelPath), path.resolve(signaturePath));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

export async function signManifest(manifest: Manifest, signer: Signer): Promise<SerializedBundle> {
  if (manifest.resources.length === 0) {
    // A signed empty manifest would verify any folder with --ignore-unsigned-files.
    throw new InputError('EMPTY_MODEL', `model "${manifest.modelName}" has no files left to sign after ignores${manifest.serialization.method === 'shards' ? ' (in shard mode empty files have no shard)' : ''}`);
  }
  const payload = Buffer.from(JSON.stringify(toOmsStatement(manifest)), 'utf8');
  return signer.createBundle(payload, IN_TOTO_PAYLOAD_TYPE);
}

/** What `signModel` signs with, how it hashes, and where the signature goes. */
export interface SignOptions {
  signer: Signer;
  hash?: HashOptions;
  /** default: see defaultSignaturePath */
  signaturePath?: string;
}

/** What `signModel` produced: the manifest, the bundle, and where it was written. */
export interface SignResult {
  manifest: Manifest;
  bundle: SerializedBundle;
  signaturePath: string;
  /** e.g. empty files a shard signature does not cover */
  warnings: string[];
}

/** The signature file's text, refused before anything is written when a verifier would refuse to read it. */
export function bundleText(bundle: SerializedBundle): string {
  const text = JSON.stringify(bundle, null, 2) + '\n';
  const size = Buffer.byteLength(text);
  if (size > LIMITS.bundleBytes) {
    throw new InputError('BUNDLE_TOO_LARGE', `the signature would be ${size} bytes, over the ${LIMITS.bundleBytes}-byte limit verifiers read (too many files or too long names; use a larger shard size or fewer files); nothing was written`);
  }
  return text;
}

/** Hashes, signs and writes the signature atomically: a failed sign leaves any old signature as it was. */
export async function signModel(modelPath: string, opts: SignOptions): Promise<SignResult> {
  const signaturePath = opts.signaturePath ?? defaultSignaturePath(modelPath);
  const inside = signatureNameInside(modelPath, signaturePath);
  // A detached signature outside the model leaves no signature name to ignore inside it.
  const details = await hashModelDetailed(modelPath, { ...opts.hash, signatureName: inside ?? (opts.signaturePath ? null : undefined) });
  const manifest = details.manifest;
  const bundle = await signManifest(manifest, opts.signer);
  writeFileAtomic(signaturePath, bundleText(bundle));
  const warnings = details.emptyFiles.map((f) => `not covered by a shard signature: empty file ${f} (the OMS format gives empty files no shard)`);
  return { manifest, bundle, signaturePath, warnings };
}
