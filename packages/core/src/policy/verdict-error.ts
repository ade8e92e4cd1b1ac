import { VerificationError } from '../errors.js';
import type { SignerJson } from '../report/json.js';
import type { PolicyReport } from './evaluate.js';

/**
 * The policy's verdict was fail: the report says which rules failed and why.
 * The one error for it, whoever evaluated the policy (load time, pull, verify oci://).
 */
export class PolicyVerdictError extends VerificationError {
  constructor(
    readonly file: string,
    readonly report: PolicyReport,
    /** the policy signer whose signature holds, when one does (the other rules failed) */
    readonly signer?: SignerJson,
  ) {
    const failed = report.rules.filter((r) => !r.ok);
    super('POLICY_FAILED', `policy ${file}: ${failed.length} rule(s) failed: ${failed.map((r) => `${r.rule} (${r.detail})`).join('; ')}`);
  }
}

