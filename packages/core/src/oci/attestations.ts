import type { AttestationSource, StoredAttestation } from '../attest/source.js';
import { OMS_PREDICATE_TYPE } from '../statement.js';
import { readBundles } from './bundle-referrer.js';
import type { RegistryClient } from './client.js';

/**
 * The attestations attached to a model manifest as referrers: every Sigstore
 * bundle except the model signature itself. Nothing the registry says is
 * trusted: the policy evaluator verifies each bundle, and a referrer that
 * names another manifest as its subject is listed as unreadable.
 */
export function ociAttestations(subjectDigest: string, client: RegistryClient): AttestationSource {
  return {
    description: `referrers of oci://${client.ref.registry}/${client.ref.repository}@${subjectDigest}`,
    list: async () => {
      const all = await readBundles(client, subjectDigest);
      return all.flatMap((b): Array<StoredAttestation | { file: string; error: string }> => {
        if ('error' in b) return [{ file: b.where, error: `${b.error} [${b.code}]` }];
        if (b.predicateType === OMS_PREDICATE_TYPE) return [];
        return [{ file: b.where, bytes: b.bytes }];
      });
    },
  };
}

/** One row of `attestations list oci://...`: what a referrer says it is (unverified). */
export interface OciAttestationRow {
  referrer: string;
  where: string;
  predicateType?: string;
  error?: string;
  code?: string;
}

export async function listOciAttestations(client: RegistryClient, subjectDigest: string): Promise<OciAttestationRow[]> {
  return (await readBundles(client, subjectDigest)).map((b) =>
    'error' in b ? { referrer: b.referrer, where: b.where, error: b.error, code: b.code } : { referrer: b.referrer, where: b.where, predicateType: b.predicateType },
  );
}
