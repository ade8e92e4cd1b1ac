import { InputError } from './errors.js';
import { loadPublicKey } from './keys.js';
import { checkIdentityPolicy, type IdentityPolicy } from './sigstore/identity.js';
import { loadTrustedRoot, publicGoodTrustedRoot } from './sigstore/trusted-root.js';
import type { Trust } from './verify-model.js';
import { loadCertificates } from './x509-chain.js';

/**
 * What a user says to trust, as every entry point spells it (CLI flags,
 * Action inputs, `exec` flags): file paths and identity strings. Turned into
 * a `Trust` here, once, so all entry points accept and refuse the same things.
 */
export interface TrustSpec extends IdentityPolicy {
  /** a public key PEM file */
  key?: string;
  /** trusted root CA PEM files */
  certificateChain?: string[];
  /** keyless: Sigstore trusted_root.json (default: public-good, shipped) */
  trustedRoot?: string;
}

const KEYLESS_FIELDS = ['identity', 'identityRegexp', 'issuer', 'issuerRegexp', 'githubRepository', 'githubRef', 'githubWorkflow'] as const;

/** True when the spec names any trust at all (so `--policy` mode can refuse a mix). */
export function hasTrust(s: TrustSpec): boolean {
  return s.key !== undefined || (s.certificateChain?.length ?? 0) > 0 || KEYLESS_FIELDS.some((k) => s[k] !== undefined);
}

/** Turns a `TrustSpec` into the one `Trust` it names; refuses none, or more than one kind. */
export function trustFromSpec(s: TrustSpec): Trust {
  const keyless = KEYLESS_FIELDS.some((k) => s[k] !== undefined);
  const kinds = [s.key !== undefined, (s.certificateChain?.length ?? 0) > 0, keyless].filter(Boolean).length;
  if (kinds > 1) throw new InputError('BAD_OPTION', 'give one of --key, --certificate-chain, or --identity/--issuer (keyless)');
  if (s.trustedRoot !== undefined && !keyless) throw new InputError('BAD_OPTION', '--trusted-root applies to keyless verification (--identity/--issuer) only');
  if (s.key !== undefined) return { publicKey: loadPublicKey(s.key).key };
  if (s.certificateChain?.length) return { certificateAuthorities: s.certificateChain.flatMap((f) => loadCertificates(f)) };
  if (keyless) {
    const policy: IdentityPolicy = Object.fromEntries(KEYLESS_FIELDS.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
    checkIdentityPolicy(policy);
    return { sigstore: { trustedRoot: s.trustedRoot ? loadTrustedRoot(s.trustedRoot) : publicGoodTrustedRoot(), policy } };
  }
  throw new InputError('MISSING_TRUST', 'verification needs --key PUB, --certificate-chain CA_PEM, or --identity and --issuer (keyless), or --policy FILE');
}
