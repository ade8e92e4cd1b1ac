import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import type { ParsedBundle } from '../bundle.js';
import { keyTypeOf } from '../keys.js';
import type { SignerJson } from '../report/json.js';
import type { VerifiedSigner } from '../verify-model.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const spkiSha256 = (k: KeyObject) => sha256(k.export({ type: 'spki', format: 'der' }));

/**
 * A verified signer in the shared JSON shape (`SignerJson`). The key and
 * certificate digests come from the bundle that was verified (the leaf
 * certificate) or, for a bare key, from the trusted key itself.
 */
export function signerJsonOf(signer: VerifiedSigner, bundle: ParsedBundle, trustedKey?: KeyObject): SignerJson {
  if (signer.kind === 'key') {
    return { kind: 'key', keyType: signer.keyType, fingerprint: signer.fingerprint, publicKeySha256: trustedKey ? spkiSha256(trustedKey) : '' };
  }
  const m = bundle.material;
  const der = m.kind === 'certificateChain' ? m.certificates[0]! : m.kind === 'certificate' ? m.certificate : undefined;
  const leaf = der ? new X509Certificate(der) : undefined;
  const certificateSha256 = der ? sha256(der) : '';
  const publicKeySha256 = leaf ? spkiSha256(leaf.publicKey) : '';
  let keyType: ReturnType<typeof keyTypeOf> | 'unknown' = 'unknown';
  try {
    if (leaf) keyType = keyTypeOf(leaf.publicKey, 'certificate');
  } catch {
    // keyless certificates may use key types we do not sign with
  }
  if (signer.kind === 'certificate') {
    return { kind: 'certificate', keyType: keyType === 'unknown' ? 'ecdsa-p256' : keyType, publicKeySha256, subject: signer.subject, issuer: signer.issuer, certificateSha256, chain: signer.chain };
  }
  const id = signer.identity;
  const github = {
    ...(id.sourceRepositoryURI ? { repository: id.sourceRepositoryURI.replace(/^https:\/\/github\.com\//, '') } : {}),
    ...(id.sourceRepositoryRef ? { ref: id.sourceRepositoryRef } : {}),
    ...(id.sourceRepositoryDigest ? { sha: id.sourceRepositoryDigest } : {}),
    ...(id.runInvocationURI ? { runUrl: id.runInvocationURI } : {}),
    ...(id.runnerEnvironment ? { runnerEnvironment: id.runnerEnvironment } : {}),
    ...(id.buildTrigger ? { trigger: id.buildTrigger } : {}),
  };
  return {
    kind: 'keyless',
    keyType,
    publicKeySha256,
    identity: id.subjectAlternativeName,
    issuer: id.issuer,
    certificateSha256,
    ...(Object.keys(github).length ? { github } : {}),
    ...(signer.signedAt ? { signedAt: new Date(Number(signer.signedAt) * 1000).toISOString() } : {}),
  };
}
