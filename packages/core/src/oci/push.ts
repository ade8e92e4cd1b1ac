import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { readAttestations, defaultAttestationsDir } from '../attest/store.js';
import { compareManifests, describeDifferences, hasDifferences } from '../compare.js';
import { InputError, VerificationError } from '../errors.js';
import { DEFAULT_SIGNATURE_NAME, hashModel, hashOptionsFor, type HashOptions, type HashProgress } from '../hash-model.js';
import { walkModel } from '../inputs/walk.js';
import type { Manifest } from '../manifest.js';
import { parseBundle } from '../bundle.js';
import { signModel, signatureNameInside, type Signer } from '../sign-model.js';
import { readBundle, signedManifest } from '../verify-model.js';
import { attachBundle } from './bundle-referrer.js';
import { sha256Digest } from './client.js';
import { MODEL_CONFIG, OCI_MANIFEST, SIGSTORE_BUNDLE_ARTIFACT, type Descriptor } from './media-types.js';
import { layerFor, modelConfig, modelManifest, type ModelLayer } from './modelpack.js';
import { listReferrers } from './referrers.js';
import { clientFor, describeRef, type RegistryOptions } from './remote-model.js';
import { parseReference } from './reference.js';

export interface PushOptions extends RegistryOptions {
  /** sign first (writes model.sig); without it an existing model.sig must match the model */
  signer?: Signer;
  hash?: HashOptions;
  /** attestation bundles to attach (default `<model>.attestations`, when it exists) */
  attestationsDir?: string;
  /** a repository on the same registry to mount blobs from instead of uploading */
  from?: string;
  onProgress?: (p: HashProgress) => void;
}

export interface PushResult {
  reference: string;
  digest: string;
  model: Manifest;
  layers: number;
  uploaded: number;
  /** already in the registry (HEAD) or mounted from `from` */
  skipped: number;
  mounted: number;
  bytesUploaded: number;
  referrers: Array<{ digest: string; predicateType: string; file: string; via: 'api' | 'tag' | 'existing' }>;
  warnings: string[];
}

/**
 * Pushes a signed model folder as a ModelPack artifact, then its signature and
 * attestations as referrers. Blobs first, then the config, the manifest, and
 * only then the referrers, so a registry never lists a signature for a
 * manifest it does not have.
 */
export async function pushModel(modelPath: string, reference: string, o: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(reference);
  if (!ref.tag && !ref.digest) throw new InputError('BAD_REFERENCE', `${reference}: give a tag to push to`);
  let st;
  try {
    st = statSync(modelPath);
  } catch (err) {
    throw new InputError('MODEL_NOT_FOUND', `${modelPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!st.isDirectory()) throw new InputError('OCI_MODEL_NOT_FOLDER', `${modelPath}: push takes a model folder (one layer per file)`);
  const warnings: string[] = [];

  // 1. The signature: made now, or an existing model.sig that must match the files.
  const sigPath = path.join(modelPath, DEFAULT_SIGNATURE_NAME);
  let signed: Manifest;
  let bundleBytes: Buffer;
  if (o.signer) {
    const r = await signModel(modelPath, { signer: o.signer, signaturePath: sigPath, ...(o.hash ? { hash: o.hash } : {}) });
    signed = r.manifest;
    bundleBytes = Buffer.from(JSON.stringify(r.bundle, null, 2) + '\n');
  } else {
    if (!existsSync(sigPath)) throw new InputError('SIGNATURE_NOT_FOUND', `${sigPath}: no signature; sign the model first, or give a signer (--key / --keyless)`);
    bundleBytes = readBundle(sigPath);
    signed = signedManifest(parseBundle(bundleBytes, sigPath));
    const now = await hashModel(modelPath, { ...hashOptionsFor(signed.serialization), signatureName: DEFAULT_SIGNATURE_NAME });
    const d = compareManifests(signed, now);
    if (hasDifferences(d)) throw new VerificationError('MODEL_MISMATCH', `${modelPath} does not match ${sigPath} (re-sign before pushing): ${describeDifferences(d)}`);
    warnings.push(`${sigPath} matches the files; its signer was not checked (push does not take trust options: verify after pulling)`);
  }

  // 2. One layer per signed file; raw layers are the files' SHA-256.
  const s = signed.serialization;
  const walked = walkModel(modelPath, { ignorePaths: s.ignorePaths ?? [], allowSymlinks: s.allowSymlinks });
  const sizes = new Map(walked.files.map((f) => [f.name, { size: f.size, abs: f.absPath }]));
  const sha =
    s.method === 'files' && s.hashType === 'sha256'
      ? signed
      : await hashModel(modelPath, { method: 'files', hashType: 'sha256', ignorePaths: s.ignorePaths ?? [], allowSymlinks: s.allowSymlinks, signatureName: signatureNameInside(modelPath, sigPath) ?? DEFAULT_SIGNATURE_NAME });
  const layers: ModelLayer[] = sha.resources.map((r) => layerFor(r.name, r.digest, sizes.get(r.name)?.size ?? -1));
  if (layers.some((l) => l.size < 0)) throw new InputError('OCI_FILE_CHANGED', `${modelPath}: files changed while pushing`);
  if (layers.length === 0) throw new InputError('EMPTY_MODEL', `${modelPath}: no files to push`);

  const client = clientFor(ref, o, { push: true });
  const total = layers.reduce((n, l) => n + l.size, 0);
  let done = 0;
  const onBytes = o.onProgress ? (n: number) => o.onProgress!({ bytesDone: (done += n), bytesTotal: total }) : undefined;
  let uploaded = 0;
  let skipped = 0;
  let mounted = 0;
  let bytesUploaded = 0;
  for (const l of layers) {
    const have = await client.blobSize(l.digest);
    if (have === l.size) {
      skipped++;
      onBytes?.(l.size);
      continue;
    }
    if (o.from && (await client.mountBlob(l.digest, o.from))) {
      mounted++;
      skipped++;
      onBytes?.(l.size);
      continue;
    }
    await client.pushBlobFile(sizes.get(l.path)!.abs, l.digest, l.size, onBytes);
    uploaded++;
    bytesUploaded += l.size;
  }

  // 3. Config, then the manifest at the tag.
  const config = modelConfig(signed.modelName, layers);
  const configDesc: Descriptor = { mediaType: MODEL_CONFIG, digest: sha256Digest(config), size: config.length };
  await client.pushBlobBytes(config, configDesc.digest);
  const manifestBytes = Buffer.from(JSON.stringify(modelManifest(configDesc, layers)));
  const digest = sha256Digest(manifestBytes);
  if (ref.digest && ref.digest !== digest) throw new InputError('OCI_DIGEST_MISMATCH', `${reference}: the model's manifest digest is ${digest}`);
  await client.putManifest(ref.tag ?? digest, manifestBytes, OCI_MANIFEST);
  const subject: Descriptor = { mediaType: OCI_MANIFEST, digest, size: manifestBytes.length };

  // 4. Signature and attestations as referrers, each once (a re-push does not duplicate them).
  const existing = await attachedBundleDigests(client, digest);
  const referrers: PushResult['referrers'] = [];
  const bundles: Array<{ file: string; bytes: Buffer }> = [{ file: sigPath, bytes: bundleBytes }];
  const attDir = o.attestationsDir ?? defaultAttestationsDir(modelPath);
  if (o.attestationsDir !== undefined || existsSync(attDir)) {
    for (const a of readAttestations(attDir)) {
      if ('error' in a) warnings.push(`${a.file}: not pushed: ${a.error}`);
      else bundles.push(a);
    }
  }
  for (const b of bundles) {
    const bd = sha256Digest(b.bytes);
    const old = existing.get(bd);
    if (old) {
      referrers.push({ digest: old, predicateType: '', file: b.file, via: 'existing' });
      continue;
    }
    const r = await attachBundle(client, subject, b.bytes);
    referrers.push({ digest: r.digest, predicateType: r.predicateType, file: b.file, via: r.via });
  }
  return { reference: describeRef({ ...ref, digest }), digest, model: signed, layers: layers.length, uploaded, skipped, mounted, bytesUploaded, referrers, warnings };
}

/** bundle blob digest -> referrer manifest digest, for the bundles already attached to `subject`. */
async function attachedBundleDigests(client: ReturnType<typeof clientFor>, subject: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { descriptors } = await listReferrers(client, subject, SIGSTORE_BUNDLE_ARTIFACT);
  for (const d of descriptors) {
    const m = await client.getManifest(d.digest);
    if (!m) continue;
    try {
      const j = JSON.parse(m.bytes.toString('utf8')) as { subject?: { digest?: string }; layers?: Array<{ digest?: string }> };
      const layer = j.layers?.[0]?.digest;
      if (j.subject?.digest === subject && typeof layer === 'string') out.set(layer, d.digest);
    } catch {
      // a malformed referrer is not ours to fix here
    }
  }
  return out;
}
