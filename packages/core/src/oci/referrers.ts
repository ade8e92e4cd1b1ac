import { FormatError, VerificationError } from '../errors.js';
import { LIMITS, parseJsonBounded } from '../limits.js';
import type { RegistryClient } from './client.js';
import { OCI_INDEX, OCI_MANIFEST, type Descriptor, type ImageIndex } from './media-types.js';
import { SHA256_DIGEST } from './reference.js';

/** The referrers tag schema's tag for a subject: `sha256-<hex>`. */
export function fallbackTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
}

/** Parses an index (from the referrers API or the fallback tag), keeping only well-formed manifest descriptors. */
export function parseIndex(bytes: Buffer, where: string): ImageIndex {
  const j = parseJsonBounded(bytes, where, 'OCI_BAD_INDEX') as Partial<ImageIndex> | null;
  if (typeof j !== 'object' || j === null || !Array.isArray(j.manifests)) throw new FormatError('OCI_BAD_INDEX', `${where}: not an OCI image index`);
  const manifests = j.manifests.filter(
    (d): d is Descriptor => typeof d === 'object' && d !== null && typeof d.digest === 'string' && SHA256_DIGEST.test(d.digest) && typeof d.size === 'number' && typeof d.mediaType === 'string',
  );
  if (manifests.length > LIMITS.attestationFiles) throw new FormatError('ATTESTATIONS_TOO_MANY', `${where}: ${manifests.length} referrers, over the limit of ${LIMITS.attestationFiles}`);
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

/**
 * Every referrer of `subject`: from the referrers API when the registry has
 * it, else from the referrers tag schema (`sha256-<hex>`). The list is only
 * a hint: each referrer's own `subject` is checked when it is read.
 */
export async function listReferrers(client: RegistryClient, subject: string, artifactType?: string): Promise<{ descriptors: Descriptor[]; via: 'api' | 'tag' }> {
  const api = await client.referrersApi(subject);
  let index: ImageIndex;
  let via: 'api' | 'tag';
  if (api) {
    index = parseIndex(api, `referrers of ${subject}`);
    via = 'api';
  } else {
    const tagged = await client.getManifest(fallbackTag(subject));
    index = tagged ? parseIndex(tagged.bytes, `${client.where} tag ${fallbackTag(subject)}`) : emptyIndex();
    via = 'tag';
  }
  const seen = new Set<string>();
  const descriptors = index.manifests.filter((d) => {
    if (seen.has(d.digest)) return false;
    seen.add(d.digest);
    // A descriptor without artifactType is kept: copiers that predate the field (skopeo 1.9) drop
    // it from the index; the referrer manifest's own artifactType is checked when it is read.
    return artifactType === undefined || d.artifactType === undefined || d.artifactType === artifactType;
  });
  return { descriptors, via };
}

/** Writers in this process take turns per index: only other processes can race us. */
const indexLocks = new Map<string, Promise<unknown>>();

/**
 * Records a pushed referrer manifest in the fallback index when the registry
 * did not take `subject` itself (no `OCI-Subject` header). Read-modify-write
 * with `If-Match` when the registry gives an ETag. Registries such as
 * distribution 2.8 ignore `If-Match`, so a writer in another process can
 * overwrite our update: the index is read again right after writing and once
 * more after a short random pause, and the update retried while our entry is
 * missing. This narrows the window, it cannot close it: a later `push`
 * re-attaches any referrer the index lost.
 */
export async function addToFallbackIndex(client: RegistryClient, subject: string, d: Descriptor, attempts = 5): Promise<void> {
  const key = `${client.ref.registry}/${client.ref.repository}@${subject}`;
  const prev = indexLocks.get(key) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(() => updateIndex(client, subject, d, attempts));
  indexLocks.set(key, run);
  try {
    await run;
  } finally {
    if (indexLocks.get(key) === run) indexLocks.delete(key);
  }
}

async function updateIndex(client: RegistryClient, subject: string, d: Descriptor, attempts: number): Promise<void> {
  const tag = fallbackTag(subject);
  const listed = async () => {
    const now = await client.getManifest(tag);
    return !!now && parseIndex(now.bytes, `${client.where} tag ${tag}`).manifests.some((m) => m.digest === d.digest);
  };
  const pause = (i: number) => new Promise((r) => setTimeout(r, 30 * (i + 1) + Math.random() * 50));
  for (let i = 0; i < attempts; i++) {
    const cur = await client.getManifest(tag);
    const index = cur ? parseIndex(cur.bytes, `${client.where} tag ${tag}`) : emptyIndex();
    if (!index.manifests.some((m) => m.digest === d.digest)) {
      index.manifests.push(d);
      await client.putManifest(tag, Buffer.from(JSON.stringify(index)), OCI_INDEX, cur?.etag ? { 'if-match': cur.etag } : {});
    }
    if (await listed()) {
      await pause(i);
      if (await listed()) return;
    }
    await pause(i);
  }
  throw new VerificationError('OCI_REFERRERS_CONFLICT', `${client.where}: could not record referrer ${d.digest} in ${tag} after ${attempts} attempts (concurrent writers)`);
}

/** The descriptor of a pushed manifest, with what a referrers listing carries (artifactType, annotations). */
export function manifestDescriptor(bytes: Buffer, digest: string, artifactType?: string, annotations?: Record<string, string>): Descriptor {
  return { mediaType: OCI_MANIFEST, digest, size: bytes.length, ...(artifactType ? { artifactType } : {}), ...(annotations ? { annotations } : {}) };
}
