import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { parseBundle, type SerializedBundle } from '../bundle.js';
import { keyFingerprint, keyTypeOf, spkiSha256, type KeyType } from '../keys.js';
import { certificateIdentity } from '../sigstore/identity.js';
import type { SignerJson } from './json.js';

function keyTypeOrUnknown(k: KeyObject): KeyType | 'unknown' {
  try {
    return keyTypeOf(k, 'key');
  } catch {
    return 'unknown';
  }
}

/**
 * Who a bundle says signed it, NOT verified: for `sign --json` (our own fresh
 * bundle) and unverified listings. Same shape as a verified signer. A
 * certificate with a Fulcio identity is reported as keyless.
 */
export function bundleSignerJson(bundle: SerializedBundle | Buffer | string, publicKey?: KeyObject): SignerJson {
  const b = parseBundle(typeof bundle === 'string' || Buffer.isBuffer(bundle) ? bundle : JSON.stringify(bundle));
  const m = b.material;
  if (m.kind === 'publicKey') {
    if (publicKey) return { kind: 'key', keyType: keyTypeOf(publicKey, 'key'), fingerprint: keyFingerprint(publicKey), publicKeySha256: spkiSha256(publicKey) };
    return { kind: 'key', fingerprint: m.hint ?? '' };
  }
  const ders = m.kind === 'certificate' ? [m.certificate] : m.certificates;
  const leaf = new X509Certificate(ders[0]!);
  const common = { keyType: keyTypeOrUnknown(leaf.publicKey), publicKeySha256: spkiSha256(leaf.publicKey), certificateSha256: createHash('sha256').update(ders[0]!).digest('hex') };
  if (b.tlogEntries.length > 0) {
    try {
      const id = certificateIdentity(ders[0]!);
      return { kind: 'keyless', ...common, identity: id.subjectAlternativeName, issuer: id.issuer };
    } catch {
      // not a Fulcio certificate: fall through to a plain certificate
    }
  }
  return { kind: 'certificate', ...common, subject: leaf.subject, issuer: leaf.issuer, chain: ders.map((d) => new X509Certificate(d).subject) };
}
