import { existsSync } from 'node:fs';
import { parseBundle } from '../bundle.js';
import { hasDifferences } from '../compare.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../dsse.js';
import { VerificationError } from '../errors.js';
import { hashModel, type HashOptions } from '../hash-model.js';
import type { Manifest } from '../manifest.js';
import { defaultSignaturePath, type Signer } from '../sign-model.js';
import { assertModelPath, checkModelAgainst, ModelMismatchError, readBundle, signedManifest } from '../verify-model.js';
import { modelStatement } from './statement.js';
import { defaultAttestationsDir, writeAttestation } from './store.js';

export interface AttestedModel {
  /** the manifest the attestation binds: the signed one when the model matches its signature */
  manifest: Manifest;
  signed: boolean;
  warnings: string[];
}

/**
 * What an attestation is about. A signed model is attested as signed: its
 * files are compared with the signature's manifest (nothing is trusted, the
 * signature is not verified here: an attestation about a model that does not
 * match its signature would vouch for bytes nobody signed), and the
 * attestation binds the signed manifest. `force` attests what is on disk
 * instead. An unsigned model is hashed with `hash` and a warning says so.
 */
export async function modelForAttestation(modelPath: string, o: { signaturePath?: string; hash?: HashOptions; force?: boolean } = {}): Promise<AttestedModel> {
  assertModelPath(modelPath);
  const sigPath = o.signaturePath ?? defaultSignaturePath(modelPath);
  if (!existsSync(sigPath)) {
    return { manifest: await hashModel(modelPath, o.hash ?? {}), signed: false, warnings: [`${modelPath} is not signed (no ${sigPath}): the attestation names the digest of the files as they are; sign the model first so that approvals and the signature name the same manifest`] };
  }
  const signed = signedManifest(parseBundle(readBundle(sigPath), sigPath));
  if (signed.resources.length === 0) throw new VerificationError('EMPTY_MANIFEST', `${sigPath} lists no files: it proves nothing about any model`);
  const check = await checkModelAgainst(modelPath, signed, { signaturePath: sigPath });
  if (!hasDifferences(check.differences)) return { manifest: signed, signed: true, warnings: check.warnings };
  if (!o.force) {
    const e = new ModelMismatchError(check.differences);
    throw new VerificationError('MODEL_MISMATCH', `refusing to attest: the model no longer matches its signature ${sigPath} (${e.message.replace(/^model does not match its signature: /, '')}); re-sign it, or pass --force to attest the files as they are`, { details: { differences: check.differences } });
  }
  const now = await hashModel(modelPath, { ...o.hash });
  return { manifest: now, signed: true, warnings: [`--force: attesting the files as they are, which do not match ${sigPath}`] };
}

export interface AttestOptions {
  signer: Signer;
  /** where to store it: default `<model>.attestations/` */
  dir?: string;
  signaturePath?: string;
  hash?: HashOptions;
  /** attest a signed model even though its files no longer match the signature */
  force?: boolean;
  /** the file name's first part: `provenance`, `approval-production` */
  label: string;
}

export async function attestModel(modelPath: string, predicateType: string, predicate: unknown, o: AttestOptions) {
  const { manifest, warnings } = await modelForAttestation(modelPath, o);
  const statement = modelStatement(manifest, predicateType, predicate);
  const bundle = await o.signer.createBundle(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE);
  const file = writeAttestation(o.dir ?? defaultAttestationsDir(modelPath), o.label, bundle);
  return { file, statement, bundle, manifest, warnings };
}
