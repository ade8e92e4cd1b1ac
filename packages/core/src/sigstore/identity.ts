import { InputError, VerificationError } from '../errors.js';
import { sigstoreCore } from '../lazy-deps.js';

/** Fulcio certificate extensions (OID arc 1.3.6.1.4.1.57264.1), decoded. */
const FULCIO = '1.3.6.1.4.1.57264.1';
const RAW_EXT: Record<string, string> = { issuerV1: '.1', repositoryV1: '.5', refV1: '.6' };
const DER_EXT: Record<string, string> = {
  issuer: '.8',
  buildSignerURI: '.9',
  buildSignerDigest: '.10',
  runnerEnvironment: '.11',
  sourceRepositoryURI: '.12',
  sourceRepositoryDigest: '.13',
  sourceRepositoryRef: '.14',
  buildConfigURI: '.18',
  buildTrigger: '.20',
  runInvocationURI: '.21',
};

/** What a Fulcio certificate says about the identity that signed. */
export interface CertificateIdentity {
  /** the SAN: an email or a URI (for GitHub Actions, the workflow URL @ ref) */
  subjectAlternativeName: string;
  issuer: string;
  buildSignerURI?: string;
  runnerEnvironment?: string;
  sourceRepositoryURI?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  buildConfigURI?: string;
  buildTrigger?: string;
  runInvocationURI?: string;
}

/**
 * Reads identity values ourselves from the leaf: sigstore-js compares newer
 * extensions as raw DER bytes and treats the SAN policy as an unanchored
 * regular expression, neither of which is what a policy author means.
 */
export function certificateIdentity(der: Buffer): CertificateIdentity {
  const cert = sigstoreCore().X509Certificate.parse(Buffer.from(der));
  const san = cert.extSubjectAltName;
  const subjectAlternativeName = san?.uri ?? san?.rfc822Name;
  if (!subjectAlternativeName) throw new VerificationError('CERT_NO_IDENTITY', 'signing certificate has no email or URI subject alternative name');
  const raw = (suffix: string) => cert.extension(FULCIO + suffix)?.value.toString('utf8');
  const utf8 = (suffix: string) => {
    // the extension's OCTET STRING wraps a DER UTF8String
    return cert.extension(FULCIO + suffix)?.valueObj.subs[0]?.value.toString('utf8');
  };
  const out: CertificateIdentity = { subjectAlternativeName, issuer: utf8(DER_EXT.issuer!) ?? raw(RAW_EXT.issuerV1!) ?? '' };
  for (const [k, suffix] of Object.entries(DER_EXT)) {
    if (k === 'issuer') continue;
    const v = utf8(suffix);
    if (v !== undefined) (out as unknown as Record<string, string>)[k] = v;
  }
  // Certificates from before the v2 extensions carry the repository and ref raw.
  const repoV1 = raw(RAW_EXT.repositoryV1!);
  if (!out.sourceRepositoryURI && repoV1) out.sourceRepositoryURI = `https://github.com/${repoV1}`;
  const refV1 = raw(RAW_EXT.refV1!);
  if (!out.sourceRepositoryRef && refV1) out.sourceRepositoryRef = refV1;
  if (!out.issuer) throw new VerificationError('CERT_NO_ISSUER', 'signing certificate names no OIDC issuer');
  return out;
}

/** Who must have signed, as cosign and `gh attestation verify` let you say it. */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
  /** GitHub Actions: `owner/repo` the workflow ran in */
  githubRepository?: string;
  /** GitHub Actions: `refs/heads/main`, `refs/tags/v1` */
  githubRef?: string;
  /** GitHub Actions: the signing workflow, `.github/workflows/release.yml` or `owner/repo/.github/workflows/release.yml` */
  githubWorkflow?: string;
}

/** Anchored at both ends: `--identity-regexp 'x'` must not match 'evil-x-evil'. */
function anchored(re: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${re})$`, 'u');
  } catch (err) {
    throw new InputError('BAD_REGEXP', `${what} is not a valid regular expression: ${(err as Error).message}`, { cause: err });
  }
}

export function checkIdentityPolicy(p: IdentityPolicy): void {
  if ((p.identity === undefined) === (p.identityRegexp === undefined)) {
    throw new InputError('IDENTITY_REQUIRED', 'keyless verification needs exactly one of --identity or --identity-regexp');
  }
  if ((p.issuer === undefined) === (p.issuerRegexp === undefined)) {
    throw new InputError('ISSUER_REQUIRED', 'keyless verification needs exactly one of --issuer or --issuer-regexp');
  }
  if (p.identityRegexp !== undefined) anchored(p.identityRegexp, '--identity-regexp');
  if (p.issuerRegexp !== undefined) anchored(p.issuerRegexp, '--issuer-regexp');
}

function matches(value: string | undefined, exact: string | undefined, re: string | undefined, what: string): void {
  const ok = value !== undefined && (exact !== undefined ? value === exact : anchored(re!, what).test(value));
  if (!ok) {
    const want = exact !== undefined ? JSON.stringify(exact) : `/^(?:${re})$/`;
    throw new VerificationError(`${what.toUpperCase().replace(/ /g, '_')}_MISMATCH`, `certificate ${what} is ${JSON.stringify(value ?? null)}, expected ${want}`);
  }
}

/** Splits a GitHub workflow URI `https://github.com/o/r/.github/workflows/x.yml@refs/heads/main`. */
function workflowParts(uri: string | undefined): { repo: string; path: string } | undefined {
  const m = uri && /^https:\/\/[^/]+\/([^/]+\/[^/]+)\/(.+?)@.*$/.exec(uri);
  return m ? { repo: m[1]!, path: m[2]! } : undefined;
}

export function matchIdentity(id: CertificateIdentity, p: IdentityPolicy): void {
  checkIdentityPolicy(p);
  matches(id.subjectAlternativeName, p.identity, p.identityRegexp, 'identity');
  matches(id.issuer, p.issuer, p.issuerRegexp, 'issuer');
  if (p.githubRepository !== undefined) {
    const repo = id.sourceRepositoryURI?.replace(/^https:\/\/[^/]+\//, '');
    if (repo !== p.githubRepository) {
      throw new VerificationError('GITHUB_REPOSITORY_MISMATCH', `certificate source repository is ${JSON.stringify(repo ?? null)}, expected ${JSON.stringify(p.githubRepository)}`);
    }
  }
  if (p.githubRef !== undefined && id.sourceRepositoryRef !== p.githubRef) {
    throw new VerificationError('GITHUB_REF_MISMATCH', `certificate source ref is ${JSON.stringify(id.sourceRepositoryRef ?? null)}, expected ${JSON.stringify(p.githubRef)}`);
  }
  if (p.githubWorkflow !== undefined) {
    const w = workflowParts(id.buildSignerURI ?? id.subjectAlternativeName);
    const want = p.githubWorkflow.replace(/^\/+/, '');
    const ok = w !== undefined && (want === w.path ? true : want === `${w.repo}/${w.path}`);
    if (!ok) {
      throw new VerificationError('GITHUB_WORKFLOW_MISMATCH', `certificate signing workflow is ${JSON.stringify(w ? `${w.repo}/${w.path}` : null)}, expected ${JSON.stringify(p.githubWorkflow)}`);
    }
  }
}
