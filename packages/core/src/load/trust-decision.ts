import type { TrustedRoot } from '@sigstore/protobuf-specs';
import type { ParsedBundle } from '../bundle.js';
import { InputError, ModelsealError, VerificationError } from '../errors.js';
import type { LoadedPolicy, PolicySigner } from '../policy/load.js';
import { evaluatePolicy, type PolicyReport } from '../policy/evaluate.js';
import { PolicyVerdictError } from '../policy/verdict-error.js';

import { publicGoodTrustedRoot } from '../sigstore/trusted-root.js';
import { signerJson } from '../report/json.js';
import { verifyEnvelope, type Trust, type VerifiedSigner } from '../verify-model.js';

/** What a load-time verification trusts: one trust, or a release policy (its signers, provenance and approvals). */
export interface LoadTrustOptions {
  trust?: Trust;
  policy?: LoadedPolicy;
  /** with `policy`: only this stage's approvals */
  stage?: string;
  /** with `policy`: where attestations are kept (default `<model>.attestations`) */
  attestationsDir?: string;
  /** keyless signers in a policy (default: public-good) */
  trustedRoot?: TrustedRoot;
  /** default: `model.sig` in the folder, `<file>.sig` beside a file */
  signaturePath?: string;
  /** when certificates must be valid; default now */
  at?: Date;
}

/** Exactly one of a trust and a policy; a stage only with a policy. */
export function checkTrustChoice(o: LoadTrustOptions): void {
  if (o.trust && o.policy) throw new InputError('BAD_OPTION', 'give either a trust or a policy, not both: the policy names its signers itself');
  if (!o.trust && !o.policy) throw new InputError('MISSING_TRUST', 'verification needs a trust (key, CA chain, keyless identity) or a policy');
  if (o.stage !== undefined && !o.policy) throw new InputError('BAD_OPTION', 'a stage only applies with a policy');
}

/** The `Trust` a policy signer stands for (as `evaluatePolicy` builds it). */
export function trustOfPolicySigner(s: PolicySigner, root: TrustedRoot | undefined): Trust {
  if (s.kind === 'key') return { publicKey: s.publicKey };
  if (s.kind === 'certificate') return { certificateAuthorities: s.certificateAuthorities };
  return { sigstore: { trustedRoot: root ?? publicGoodTrustedRoot(), policy: s.policy } };
}

/** The policy's verdict and the signer it accepted. */
export interface PolicyDecision {
  signer: VerifiedSigner;
  report: PolicyReport;
}

/**
 * The policy path: `evaluatePolicy` decides (signature by a policy signer,
 * model match, provenance, approvals); the signer it accepted is then named
 * for the caller by checking the envelope (no hashing) against each policy
 * signer, in the policy's order, as the evaluator does.
 */
export async function decideByPolicy(modelPath: string, signaturePath: string, bundle: ParsedBundle, o: LoadTrustOptions & { policy: LoadedPolicy }): Promise<PolicyDecision> {
  const report = await evaluatePolicy(modelPath, o.policy, {
    signaturePath,
    ...(o.stage !== undefined ? { stage: o.stage } : {}),
    ...(o.attestationsDir !== undefined ? { attestationsDir: o.attestationsDir } : {}),
    ...(o.trustedRoot ? { trustedRoot: o.trustedRoot } : {}),
    ...(o.at ? { now: o.at } : {}),
  });
  let found: VerifiedSigner | undefined;
  for (const s of o.policy.signers) {
    try {
      found = verifyEnvelope(bundle, trustOfPolicySigner(s, o.trustedRoot), o.at);
      break;
    } catch (err) {
      if (!(err instanceof ModelsealError) || err.family !== 'verification') throw err;
    }
  }
  if (!report.ok) throw new PolicyVerdictError(o.policy.file, report, found && signerJson(found));
  if (found) return { signer: found, report };
  // evaluatePolicy passed the signature rule, so one signer must accept the envelope.
  throw new VerificationError('POLICY_FAILED', `policy ${o.policy.file}: no policy signer accepts the signature`);
}
