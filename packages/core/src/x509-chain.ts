import { X509Certificate } from 'node:crypto';
import { LIMITS, readBoundedFile } from './limits.js';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { InputError, VerificationError } from './errors.js';

const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_DEPTH = 8;

/** Reads every certificate in a PEM file (a CA bundle may hold several). */
export function loadCertificates(file: string): X509Certificate[] {
  const text = readBoundedFile(file, { limit: LIMITS.certificateFileBytes, what: 'certificate file', notFoundCode: 'CERT_UNREADABLE', tooLargeCode: 'CERT_FILE_TOO_LARGE' }).toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InputError('BAD_CERTIFICATE', `${file}: no PEM certificate found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new InputError('BAD_CERTIFICATE', `${file}: certificate #${i + 1} does not parse (${(err as Error).message})`, { cause: err });
    }
  });
}

export function parseDerCertificate(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new VerificationError('BAD_CERTIFICATE', `${what} does not parse as X.509 (${(err as Error).message})`, { cause: err });
  }
}

function validAt(c: X509Certificate, at: Date): boolean {
  return new Date(c.validFrom) <= at && at <= new Date(c.validTo);
}

/** What RFC 5280 path validation needs from a certificate's extensions, read once. */
interface CaFacts {
  /** basicConstraints cA */
  ca: boolean;
  hasBasicConstraints: boolean;
  pathLen: number | undefined;
  /** undefined: no keyUsage extension */
  keyCertSign: boolean | undefined;
  digitalSignature: boolean | undefined;
}

/**
 * Reads basicConstraints and keyUsage with @sigstore/core's DER parser (Node's
 * X509Certificate exposes neither pathLenConstraint nor key usage bits). A
 * malformed extension is a coded error, never a stack trace.
 */
function caFacts(c: X509Certificate, what: string): CaFacts {
  try {
    const x = SigstoreX509.parse(Buffer.from(c.raw));
    const bc = x.extBasicConstraints;
    const ku = x.extKeyUsage; // sigstore-js names the key usage extension (2.5.29.15) this way
    const pathLen = bc?.pathLenConstraint;
    return {
      ca: bc?.isCA ?? false,
      hasBasicConstraints: bc !== undefined,
      pathLen: pathLen === undefined ? undefined : Number(pathLen),
      keyCertSign: ku ? ku.keyCertSign : undefined,
      digitalSignature: ku ? ku.digitalSignature : undefined,
    };
  } catch (err) {
    throw new VerificationError('CERT_BAD_EXTENSION', `${what} (${c.subject}) has a malformed basicConstraints or keyUsage extension (${(err as Error).message})`, { cause: err });
  }
}

/** Issuer name equals subject name (Node's rendering compares values, not string encodings) and the signature holds. */
function nameChains(issuer: X509Certificate, child: X509Certificate): boolean {
  return child.issuer === issuer.subject;
}

function signs(issuer: X509Certificate, child: X509Certificate): boolean {
  try {
    return child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

const selfIssued = (c: X509Certificate) => c.subject === c.issuer;

/**
 * Checks that `leaf` chains to one of `anchors` through `intermediates`
 * (both may come from the untrusted bundle: only anchors are trusted), as
 * RFC 5280 section 6 does:
 * - name chaining: each certificate's issuer is its issuer's subject, and the
 *   issuer's key verifies its signature;
 * - every certificate is valid at `at`;
 * - every issuer (intermediates and the anchor) is a CA: basicConstraints cA
 *   (a self-signed anchor without extensions, an X.509 v1 root, is accepted
 *   as openssl does), keyUsage keyCertSign when the extension is present, and
 *   its pathLenConstraint at least the number of non-self-issued
 *   intermediates below it;
 * - the leaf may sign code: keyUsage digitalSignature, EKU codeSigning when present.
 */
export function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], at: Date): X509Certificate[] {
  const leafFacts = caFacts(leaf, 'signing certificate');
  if (leafFacts.digitalSignature === false) {
    throw new VerificationError('CERT_KEY_USAGE', `signing certificate (${leaf.subject}) does not allow digital signatures`);
  }
  const eku = leaf.keyUsage; // Node returns the extended key usage OIDs here
  if (eku && eku.length > 0 && !eku.includes(CODE_SIGNING_EKU)) {
    throw new VerificationError('CERT_KEY_USAGE', `signing certificate (${leaf.subject}) is not for code signing (EKU ${eku.join(', ')})`);
  }
  const path = [leaf];
  let current = leaf;
  // non-self-issued intermediates between the leaf and the next issuer (RFC 5280 6.1.4 (l))
  let below = 0;
  for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
    if (!validAt(current, at)) {
      throw new VerificationError('CERT_EXPIRED', `certificate "${current.subject}" is not valid at ${at.toISOString()} (valid ${current.validFrom} to ${current.validTo})`);
    }
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return path; // pinned itself
    const anchor = anchors.find((a) => nameChains(a, current) && signs(a, current));
    if (anchor) {
      if (!validAt(anchor, at)) throw new VerificationError('CERT_EXPIRED', `trusted root "${anchor.subject}" is not valid at ${at.toISOString()}`);
      const f = caFacts(anchor, 'trusted certificate');
      const v1Root = !f.hasBasicConstraints && selfIssued(anchor) && signs(anchor, anchor);
      if (!f.ca && !v1Root) {
        throw new VerificationError('CERT_NOT_CA', `trusted certificate "${anchor.subject}" is not a CA`);
      }
      checkIssuerUse(anchor, f, below, 'trusted certificate');
      path.push(anchor);
      return path;
    }
    const next = intermediates.find((c) => c !== current && !path.includes(c) && nameChains(c, current) && signs(c, current));
    if (!next) {
      const byKeyOnly = [...anchors, ...intermediates].find((c) => c !== current && signs(c, current));
      if (byKeyOnly) {
        throw new VerificationError('CERT_NAME_MISMATCH', `certificate "${current.subject}" names issuer "${current.issuer}", but the key that signed it belongs to "${byKeyOnly.subject}"`);
      }
      throw new VerificationError('CERT_UNTRUSTED', `certificate "${current.subject}" (issuer "${current.issuer}") does not chain to a trusted root`);
    }
    const f = caFacts(next, 'intermediate certificate');
    if (!f.ca) throw new VerificationError('CERT_NOT_CA', `certificate "${next.subject}" issued "${current.subject}" but is not a CA`);
    checkIssuerUse(next, f, below, 'intermediate certificate');
    path.push(next);
    if (!selfIssued(next)) below++;
    current = next;
  }
  throw new VerificationError('CERT_CHAIN_TOO_LONG', `certificate chain is longer than ${MAX_CHAIN_DEPTH}`);
}

/** keyCertSign (when keyUsage is present) and pathLenConstraint of a certificate used as an issuer. */
function checkIssuerUse(c: X509Certificate, f: CaFacts, below: number, what: string): void {
  if (f.keyCertSign === false) {
    throw new VerificationError('CERT_CA_KEY_USAGE', `${what} "${c.subject}" issues certificates, but its key usage does not include keyCertSign`);
  }
  if (f.pathLen !== undefined && below > f.pathLen) {
    throw new VerificationError('CERT_PATH_LENGTH', `${what} "${c.subject}" allows ${f.pathLen} intermediate CA(s) below it (pathLenConstraint), the chain has ${below}`);
  }
}
