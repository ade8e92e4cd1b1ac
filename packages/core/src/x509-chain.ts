import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError, VerificationError } from './errors.js';
import { sigstoreCore } from './lazy-deps.js';

const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_DEPTH = 8;

/** Reads every certificate in a PEM file (a CA bundle may hold several). */
export function loadCertificates(file: string): X509Certificate[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError('CERT_UNREADABLE', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
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

function issues(issuer: X509Certificate, child: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/**
 * Checks that `leaf` chains to one of `anchors` through `intermediates`
 * (both may come from the untrusted bundle: only anchors are trusted), that
 * every certificate is valid at `at`, that every issuer is a CA, and that the
 * leaf may sign code (key usage digitalSignature, EKU codeSigning when present).
 */
export function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], at: Date): X509Certificate[] {
  const leafExt = sigstoreCore().X509Certificate.parse(Buffer.from(leaf.raw));
  const ku = leafExt.extKeyUsage; // sigstore-js names the key usage extension (2.5.29.15) this way
  if (ku && !ku.digitalSignature) {
    throw new VerificationError('CERT_KEY_USAGE', `signing certificate (${leaf.subject}) does not allow digital signatures`);
  }
  const eku = leaf.keyUsage; // Node returns the extended key usage OIDs here
  if (eku && eku.length > 0 && !eku.includes(CODE_SIGNING_EKU)) {
    throw new VerificationError('CERT_KEY_USAGE', `signing certificate (${leaf.subject}) is not for code signing (EKU ${eku.join(', ')})`);
  }
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
    if (!validAt(current, at)) {
      throw new VerificationError('CERT_EXPIRED', `certificate "${current.subject}" is not valid at ${at.toISOString()} (valid ${current.validFrom} to ${current.validTo})`);
    }
    const anchor = anchors.find((a) => issues(a, current));
    if (anchor) {
      if (!validAt(anchor, at)) throw new VerificationError('CERT_EXPIRED', `trusted root "${anchor.subject}" is not valid at ${at.toISOString()}`);
      if (!anchor.ca && !anchor.checkIssued(anchor)) throw new VerificationError('CERT_NOT_CA', `trusted certificate "${anchor.subject}" is not a CA`);
      path.push(anchor);
      return path;
    }
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return path; // the leaf itself is pinned
    const next = intermediates.find((c) => c !== current && !path.includes(c) && issues(c, current));
    if (!next) {
      throw new VerificationError('CERT_UNTRUSTED', `certificate "${current.subject}" (issuer "${current.issuer}") does not chain to a trusted root`);
    }
    if (!next.ca) throw new VerificationError('CERT_NOT_CA', `certificate "${next.subject}" issued "${current.subject}" but is not a CA`);
    path.push(next);
    current = next;
  }
  throw new VerificationError('CERT_CHAIN_TOO_LONG', `certificate chain is longer than ${MAX_CHAIN_DEPTH}`);
}
