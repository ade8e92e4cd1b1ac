import { InputError, VerificationError } from '../errors.js';
import { OMS_PREDICATE_TYPE } from '../statement.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { readBundles, type ReferredBundle } from './bundle-referrer.js';
import { resolveCredentials, type CredentialOptions } from './credentials.js';
import { OCI_MANIFEST, type Descriptor, type ImageManifest } from './media-types.js';
import { parseModelManifest, type ModelLayer } from './modelpack.js';
import { formatReference, manifestRef, parseReference, type OciReference } from './reference.js';

/** How to reach a registry: every OCI operation takes these. */
export interface RegistryOptions extends CredentialOptions {
  plainHttp?: boolean;
  chunkSize?: number;
  /** retries of one failed upload chunk (default 3) */
  retries?: number;
  /** a client made by the caller (tests, or several operations sharing one login) */
  client?: RegistryClient;
}

export function clientFor(ref: string | OciReference, o: RegistryOptions, extra: Partial<ClientOptions> = {}): RegistryClient {
  if (o.client) return o.client;
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  return new RegistryClient(r, {
    credentials: resolveCredentials(r.registry, o),
    ...(o.plainHttp ? { plainHttp: true } : {}),
    ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...extra,
  });
}

/** A model manifest fetched from a registry, checked, with its digest. */
export interface RemoteModel {
  reference: string;
  digest: string;
  descriptor: Descriptor;
  manifest: ImageManifest;
  layers: ModelLayer[];
}

export async function fetchModelManifest(client: RegistryClient): Promise<RemoteModel> {
  const ref = manifestRef(client.ref);
  const got = await client.getManifest(ref);
  if (!got) throw new InputError('OCI_NOT_FOUND', `${client.where}: no such manifest in the registry`);
  const where = `oci://${client.where}`;
  const { manifest, layers } = parseModelManifest(got.bytes, where);
  return { reference: where, digest: got.digest, descriptor: { mediaType: OCI_MANIFEST, digest: got.digest, size: got.bytes.length }, manifest, layers };
}

/**
 * The model signatures attached to a manifest (OMS statements), newest first.
 * None at all is a verification failure with its own code: deleted
 * (OCI_SIGNATURE_MISSING), or only referrers that name another manifest as
 * their subject (OCI_REFERRER_SUBJECT_MISMATCH).
 */
export async function signatureCandidates(client: RegistryClient, model: RemoteModel): Promise<ReferredBundle[]> {
  const all = await readBundles(client, model.digest);
  const sigs = all.filter((b): b is ReferredBundle => 'bytes' in b && b.predicateType === OMS_PREDICATE_TYPE).reverse();
  if (sigs.length > 0) return sigs;
  const errors = all.filter((b) => 'error' in b) as Array<{ code: string; error: string }>;
  const foreign = errors.find((e) => e.code === 'OCI_REFERRER_SUBJECT_MISMATCH');
  if (foreign) throw new VerificationError('OCI_REFERRER_SUBJECT_MISMATCH', `${model.reference}@${model.digest}: no model signature for this manifest (${foreign.error})`);
  throw new VerificationError(
    'OCI_SIGNATURE_MISSING',
    `${model.reference}@${model.digest}: no model signature attached as a referrer${errors.length ? ` (${errors.map((e) => e.error).join('; ')})` : ''}`,
  );
}

export function describeRef(r: OciReference): string {
  return `oci://${formatReference(r)}`;
}
