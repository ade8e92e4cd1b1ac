import { FormatError, VerificationError } from '../errors.js';
import { LIMITS, parseJsonBounded } from '../limits.js';
import { sha256Digest, type RegistryClient } from './client.js';
import {
  ANNOTATION_BUNDLE_CONTENT, ANNOTATION_BUNDLE_PREDICATE, ANNOTATION_CREATED, EMPTY_DIGEST, EMPTY_JSON, OCI_EMPTY, OCI_MANIFEST, SIGSTORE_BUNDLE_ARTIFACT,
  type Descriptor, type ImageManifest,
} from './media-types.js';
import { addToFallbackIndex, listReferrers, manifestDescriptor } from './referrers.js';

/** The predicate type a bundle's DSSE statement carries, read without trusting it (for the annotation only). */
export function bundlePredicateType(bundle: Buffer): string {
  try {
    const b = JSON.parse(bundle.toString('utf8')) as { dsseEnvelope?: { payload?: string } };
    const st = JSON.parse(Buffer.from(b.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as { predicateType?: unknown };
    return typeof st.predicateType === 'string' ? st.predicateType : '';
  } catch {
    return '';
  }
}

/**
 * Attaches a Sigstore bundle to `subject` as cosign 3 does: a manifest with
 * `artifactType` the bundle media type, the empty config, the bundle as its
 * one layer, and `subject` the model manifest. Then, when the registry does
 * not index referrers itself, records it in the fallback tag's index.
 */
export async function attachBundle(client: RegistryClient, subject: Descriptor, bundle: Buffer, now = new Date()): Promise<{ digest: string; predicateType: string; via: 'api' | 'tag' }> {
  const predicateType = bundlePredicateType(bundle);
  const bundleDigest = sha256Digest(bundle);
  await client.pushBlobBytes(EMPTY_JSON, EMPTY_DIGEST);
  await client.pushBlobBytes(bundle, bundleDigest);
  const annotations = {
    [ANNOTATION_BUNDLE_CONTENT]: 'dsse-envelope',
    [ANNOTATION_BUNDLE_PREDICATE]: predicateType,
    [ANNOTATION_CREATED]: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_ARTIFACT,
    config: { mediaType: OCI_EMPTY, digest: EMPTY_DIGEST, size: 2, data: 'e30=' },
    layers: [{ mediaType: SIGSTORE_BUNDLE_ARTIFACT, digest: bundleDigest, size: bundle.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(m));
  const digest = sha256Digest(bytes);
  const put = await client.putManifest(digest, bytes, OCI_MANIFEST);
  if (!put.subjectHandled) await addToFallbackIndex(client, subject.digest, manifestDescriptor(bytes, digest, SIGSTORE_BUNDLE_ARTIFACT, annotations));
  return { digest, predicateType, via: put.subjectHandled ? 'api' : 'tag' };
}

/** A bundle read from a referrer, with where it came from. */
export interface ReferredBundle {
  /** `oci://registry/repo@<referrer digest>` */
  where: string;
  referrer: string;
  predicateType: string;
  bytes: Buffer;
}

/**
 * Every Sigstore bundle attached to `subject`. A referrer whose own `subject`
 * is another manifest (an index entry copied from another model), or that is
 * missing or malformed, is returned as an error entry, never as a bundle.
 */
export async function readBundles(client: RegistryClient, subject: string): Promise<Array<ReferredBundle | { where: string; referrer: string; error: string; code: string }>> {
  const { descriptors } = await listReferrers(client, subject, SIGSTORE_BUNDLE_ARTIFACT);
  const out: Array<ReferredBundle | { where: string; referrer: string; error: string; code: string }> = [];
  let total = 0;
  for (const d of descriptors) {
    const where = `oci://${client.ref.registry}/${client.ref.repository}@${d.digest}`;
    try {
      const got = await client.getManifest(d.digest);
      if (!got) throw new VerificationError('OCI_REFERRER_MISSING', `referrer ${d.digest} is listed but not in the registry`);
      const m = parseJsonBounded(got.bytes, where, 'OCI_BAD_MANIFEST') as Partial<ImageManifest>;
      if (m.subject?.digest !== subject) {
        throw new VerificationError('OCI_REFERRER_SUBJECT_MISMATCH', `referrer ${d.digest} is about ${String(m.subject?.digest)}, not ${subject}`);
      }
      const layer = Array.isArray(m.layers) && m.layers.length === 1 ? m.layers[0] : undefined;
      if (m.artifactType !== SIGSTORE_BUNDLE_ARTIFACT || !layer || typeof layer.digest !== 'string' || layer.mediaType !== SIGSTORE_BUNDLE_ARTIFACT) {
        throw new FormatError('OCI_BAD_REFERRER', `referrer ${d.digest} is not a Sigstore bundle manifest (one bundle layer)`);
      }
      const bytes = await client.blobBytes(layer.digest, LIMITS.bundleBytes);
      total += bytes.length;
      if (total > LIMITS.attestationBytes) throw new FormatError('ATTESTATIONS_TOO_LARGE', `${client.where}: referrer bundles add up to more than ${LIMITS.attestationBytes} bytes`);
      out.push({ where, referrer: d.digest, predicateType: bundlePredicateType(bytes), bytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ATTESTATIONS_TOO_LARGE') throw err;
      if (!(err instanceof VerificationError || err instanceof FormatError)) throw err;
      out.push({ where, referrer: d.digest, error: err.message, code: err.code });
    }
  }
  return out;
}
