/**
 * Where attestations come from. The policy evaluator reads them through this
 * interface only, so a folder beside the model, OCI referrers and GitHub's
 * attestations API are interchangeable. Every source returns raw bundle
 * bytes: nothing a source says is trusted, each bundle is verified locally.
 */
export interface StoredAttestation {
  /** where it came from, for reports: a file path, `oci://...@sha256:...`, a URL */
  file: string;
  bytes: Buffer;
}

export interface AttestationSource {
  /** for reports: "folder /m.attestations", "referrers of oci://..." */
  readonly description: string;
  /**
   * Every attestation the source holds for the model, within the limits of
   * `LIMITS.attestationFiles` and `LIMITS.attestationBytes` (a source that
   * holds more throws ATTESTATIONS_TOO_MANY / ATTESTATIONS_TOO_LARGE).
   * Entries that cannot be read are returned with `error` instead of bytes.
   */
  list(): Promise<Array<StoredAttestation | { file: string; error: string }>>;
}
