import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseBundle } from '../bundle.js';
import { InputError, ModelsealError, VerificationError } from '../errors.js';
import type { HashProgress } from '../hash-model.js';
import { createManifest, type Manifest, type Serialization } from '../manifest.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyReport } from '../policy/evaluate.js';
import { signedManifest, verifyModel, type Trust, type VerifyResult } from '../verify-model.js';
import type { ReferredBundle } from './bundle-referrer.js';
import type { RegistryClient } from './client.js';
import { ignoredBy } from './layer-digest.js';
import { downloadLayers, pullModel } from './pull.js';
import { clientFor, fetchModelManifest, signatureCandidates, type RegistryOptions, type RemoteModel } from './remote-model.js';

export interface VerifyOciOptions extends RegistryOptions {
  trust?: Trust;
  policy?: LoadedPolicy;
  stage?: string;
  /** compare the signed manifest with the OCI manifest's layer digests and sizes only (sha256 files-method signatures) */
  noDownload?: boolean;
  onProgress?: (p: HashProgress) => void;
  signal?: AbortSignal;
}

export interface VerifyOciResult {
  reference: string;
  digest: string;
  mode: 'stream' | 'no-download' | 'policy';
  signature: string;
  verified?: VerifyResult;
  policy?: PolicyReport;
  /** what this check establishes, and what it does not */
  proves: string;
  doesNotProve?: string;
}

export const NO_DOWNLOAD_PROVES =
  "the registry's manifest for this digest names exactly the files and SHA-256 digests that were signed, and the registry holds a blob of the listed size for each";
export const NO_DOWNLOAD_DOES_NOT_PROVE =
  'that the bytes the registry serves match those digests: no layer was downloaded; `modelseal pull` (or verify without --no-download) checks the bytes';

/**
 * Verifies a model in a registry against its signature (a referrer).
 * Default: streams every layer through the signature's hashing, writing
 * nothing. `noDownload`: only the manifest is compared. With a policy: the
 * model is pulled into a temporary folder (removed afterwards), because
 * policy evaluation reads the model from disk.
 */
export async function verifyOci(reference: string, o: VerifyOciOptions): Promise<VerifyOciResult> {
  if (!o.trust && !o.policy) throw new InputError('MISSING_TRUST', 'verification needs --key, --certificate-chain, --identity/--issuer, or --policy');
  if (o.policy) {
    if (o.noDownload) throw new InputError('BAD_OPTION', '--no-download does not combine with --policy');
    const scratch = mkdtempSync(path.join(tmpdir(), 'modelseal-verify-'));
    try {
      const r = await pullModel(reference, path.join(scratch, 'model'), { ...o, policy: o.policy });
      return { reference: r.reference, digest: r.digest, mode: 'policy', signature: r.signature, policy: r.policy!, proves: 'every layer was downloaded and hashed; the signature and the policy hold for those bytes' };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const client = clientFor(reference, o);
  const model = await fetchModelManifest(client);
  const candidates = await signatureCandidates(client, model);
  let firstError: unknown;
  const streamedFor = new Map<string, Manifest>();
  for (const c of candidates) {
    try {
      const signed = signedManifest(parseBundle(c.bytes, c.where));
      const s = signed.serialization;
      let actual: Manifest;
      if (o.noDownload) {
        actual = await manifestFromLayerList(client, model, s);
      } else {
        const key = JSON.stringify(s);
        let m = streamedFor.get(key);
        if (!m) {
          const { resources } = await downloadLayers(client, model, s, undefined, o.onProgress, o.signal);
          m = createManifest(signed.modelName, s, resources);
          streamedFor.set(key, m);
        }
        actual = m;
      }
      const verified = await verifyModel(model.reference, { trust: o.trust!, bundle: c.bytes, manifest: actual });
      return {
        reference: model.reference,
        digest: model.digest,
        mode: o.noDownload ? 'no-download' : 'stream',
        signature: c.where,
        verified,
        ...(o.noDownload
          ? { proves: NO_DOWNLOAD_PROVES, doesNotProve: NO_DOWNLOAD_DOES_NOT_PROVE }
          : { proves: 'every layer was downloaded and hashed as it streamed (nothing written); the bytes match the signature' }),
      };
    } catch (err) {
      if (!(err instanceof ModelsealError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError;
}

/**
 * `--no-download`: the OMS manifest the layer list stands for. Only a sha256
 * files-method signature names the same digests as raw layers; each blob's
 * presence and size is checked with HEAD.
 */
async function manifestFromLayerList(client: RegistryClient, model: RemoteModel, s: Serialization): Promise<Manifest> {
  if (s.method !== 'files' || s.hashType !== 'sha256') {
    throw new InputError('OCI_NO_DOWNLOAD_UNSUPPORTED', `--no-download needs a sha256 files-method signature (this one is ${s.method}/${s.hashType}); verify without --no-download`);
  }
  const resources = [];
  for (const l of model.layers) {
    if (ignoredBy(s, l.path)) continue;
    const size = await client.blobSize(l.digest);
    if (size === undefined) throw new VerificationError('OCI_BLOB_MISSING', `${model.reference}: layer ${l.path} (${l.digest}) is not in the registry`);
    if (size !== l.size) throw new VerificationError('OCI_BLOB_SIZE_MISMATCH', `${model.reference}: layer ${l.path} is ${size} bytes in the registry, the manifest says ${l.size}`);
    resources.push({ name: l.path, algorithm: 'sha256', digest: l.digest.slice(7) });
  }
  return createManifest('oci', s, resources);
}

export type { ReferredBundle };
