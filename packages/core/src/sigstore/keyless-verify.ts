import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import type { ParsedBundle } from '../bundle.js';
import { keyTypeOf, spkiSha256, type KeyType } from '../keys.js';
import { VerificationError } from '../errors.js';
import { sigstoreBundle, sigstoreVerify } from '../lazy-deps.js';
import { certificateIdentity, matchIdentity, type CertificateIdentity, type IdentityPolicy } from './identity.js';

/** Keyless verification trusts a Sigstore root (Fulcio, Rekor, CT logs, TSAs) and an identity policy. */
export interface KeylessTrust {
  trustedRoot: TrustedRoot;
  policy: IdentityPolicy;
}

/** A keyless signer, as verified: the identity from the Fulcio certificate and when it signed. */
export interface KeylessSigner {
  kind: 'keyless';
  identity: CertificateIdentity;
  /** when the signature was logged or timestamped (Unix seconds), the latest verified */
  signedAt?: string;
  /** SHA-256 of the ephemeral key's SPKI, and of the Fulcio certificate (DER) */
  publicKeySha256: string;
  certificateSha256: string;
  keyType: KeyType | 'unknown';
  /** the Rekor entries that were verified */
  tlog: Array<{ logIndex: string; integratedTime?: string; logId?: string }>;
}

/** sigstore-js error codes, mapped to ours so that every failure names its cause. */
const CODES: Record<string, string> = {
  TIMESTAMP_ERROR: 'TIMESTAMP_INVALID',
  CERTIFICATE_ERROR: 'CERT_UNTRUSTED',
  TLOG_ERROR: 'TLOG_INVALID',
  TLOG_BODY_ERROR: 'TLOG_BODY_MISMATCH',
  TLOG_INCLUSION_PROOF_ERROR: 'TLOG_INCLUSION_PROOF_INVALID',
  TLOG_INCLUSION_PROMISE_ERROR: 'TLOG_INCLUSION_PROMISE_INVALID',
  TLOG_MISSING_INCLUSION_ERROR: 'TLOG_INCLUSION_MISSING',
  SIGNATURE_ERROR: 'SIGNATURE_INVALID',
  PUBLIC_KEY_ERROR: 'PUBLIC_KEY_INVALID',
  UNTRUSTED_SIGNER_ERROR: 'UNTRUSTED_SIGNER',
};

/**
 * Keyless verification, in this order: sigstore-js checks the bundle's
 * timestamps (Rekor integrated time and/or RFC 3161), the Fulcio chain at
 * those times and its SCT, the Rekor entry (inclusion proof or promise, and
 * that it logs this very envelope), and the signature. Then we match the
 * identity on values decoded from the certificate.
 */
export function verifyKeyless(b: ParsedBundle, trust: KeylessTrust): KeylessSigner {
  if (b.material.kind === 'publicKey') {
    throw new VerificationError('WRONG_TRUST_KIND', 'the signature was made with a key, not keyless: verify it with --key');
  }
  if (b.tlogEntries.length === 0) {
    // Without a log entry nothing proves when (or that publicly) the short-lived certificate signed.
    throw new VerificationError('TLOG_MISSING', 'keyless signature has no transparency log entry (Rekor); it cannot be verified');
  }
  try {
    const { toSignedEntity, toTrustMaterial, Verifier } = sigstoreVerify();
    const verifier = new Verifier(toTrustMaterial(trust.trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    verifier.verify(toSignedEntity(sigstoreBundle().bundleFromJSON(b.json)));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const code = (e.code && CODES[e.code]) ?? 'SIGSTORE_VERIFICATION_FAILED';
    throw new VerificationError(code, `Sigstore verification failed: ${e.message ?? String(err)}`, { cause: err });
  }
  const leaf = b.material.kind === 'certificate' ? b.material.certificate : b.material.certificates[0]!;
  const identity = certificateIdentity(leaf);
  matchIdentity(identity, trust.policy);
  const times = b.tlogEntries.map((t) => (t as { integratedTime?: string }).integratedTime).filter((x): x is string => typeof x === 'string');
  const cert = new NodeX509(leaf);
  let keyType: KeyType | 'unknown' = 'unknown';
  try {
    keyType = keyTypeOf(cert.publicKey, 'Fulcio certificate');
  } catch {
    // Fulcio may issue for key types modelseal does not sign with (RSA): sigstore-js verified it already.
  }
  const tlog = b.tlogEntries.map((t) => {
    const e = t as { logIndex?: unknown; integratedTime?: unknown; logId?: { keyId?: unknown } };
    return {
      logIndex: String(e.logIndex ?? ''),
      ...(typeof e.integratedTime === 'string' ? { integratedTime: e.integratedTime } : {}),
      ...(typeof e.logId?.keyId === 'string' ? { logId: e.logId.keyId } : {}),
    };
  });
  return {
    kind: 'keyless',
    identity,
    ...(times.length ? { signedAt: times.sort((x, y) => Number(x) - Number(y)).at(-1)! } : {}),
    publicKeySha256: spkiSha256(cert.publicKey),
    certificateSha256: createHash('sha256').update(leaf).digest('hex'),
    keyType,
    tlog,
  };
}
