import { existsSync } from 'node:fs';
import { parseBundle } from '../bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../dsse.js';
import { hashModel, hashOptionsFor, type HashOptions } from '../hash-model.js';
import type { Manifest } from '../manifest.js';
import { defaultSignaturePath, signatureNameInside, type Signer } from '../sign-model.js';
import { readBundle, signedManifest } from '../verify-model.js';
import { modelStatement } from './statement.js';
import { defaultAttestationsDir, writeAttestation } from './store.js';

/**
 * The model's digest as its signature defines it: when the model is signed,
 * hash it again with the serialization the signature records (without
 * trusting anything: a wrong digest only makes the attestation useless), so
 * attestations name the same digest the signature does. Otherwise hash with
 * `hash` (the signing defaults).
 */
export async function modelDigestForAttestation(modelPath: string, o: { signaturePath?: string; hash?: HashOptions } = {}): Promise<Manifest> {
  const sigPath = o.signaturePath ?? defaultSignaturePath(modelPath);
  if (existsSync(sigPath)) {
    const s = signedManifest(parseBundle(readBundle(sigPath), sigPath)).serialization;
    return hashModel(modelPath, { ...hashOptionsFor(s), signatureName: signatureNameInside(modelPath, sigPath) ?? 'model.sig' });
  }
  return hashModel(modelPath, o.hash ?? {});
}

export interface AttestOptions {
  signer: Signer;
  /** where to store it: default `<model>.attestations/` */
  dir?: string;
  signaturePath?: string;
  hash?: HashOptions;
  /** the file name's first part: `provenance`, `approval-production` */
  label: string;
}

export async function attestModel(modelPath: string, predicateType: string, predicate: unknown, o: AttestOptions) {
  const manifest = await modelDigestForAttestation(modelPath, o);
  const statement = modelStatement(manifest.modelName, manifest.rootDigest, predicateType, predicate);
  const bundle = await o.signer.createBundle(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE);
  const file = writeAttestation(o.dir ?? defaultAttestationsDir(modelPath), o.label, bundle);
  return { file, statement, bundle };
}
