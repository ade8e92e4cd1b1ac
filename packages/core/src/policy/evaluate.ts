import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { APPROVAL_PREDICATE_V1, parseApproval } from '../attest/approval.js';
import { parseProvenance, SLSA_PROVENANCE_V1 } from '../attest/provenance.js';
import { defaultAttestationsDir, folderAttestations, type AttestationSource } from '../attest/store.js';
import { describeSigner, signerId, verifyAttestation } from '../attest/verify-attestation.js';
import { parseBundle } from '../bundle.js';
import { ModelsealError } from '../errors.js';
import { publicGoodTrustedRoot } from '../sigstore/trusted-root.js';
import { defaultSignaturePath } from '../sign-model.js';
import { readBundle, verifyEnvelope, verifyModel, type Trust, type VerifyResult } from '../verify-model.js';
import type { LoadedPolicy, PolicySigner } from './load.js';

export interface RuleResult {
  rule: string;
  ok: boolean;
  detail: string;
  /** per attestation: what was counted and why the rest was not */
  items?: Array<{ file: string; counted: boolean; why: string }>;
}

export interface PolicyReport {
  ok: boolean;
  model?: { name: string; rootDigest: string };
  rules: RuleResult[];
}

export interface EvaluateOptions {
  /** only this stage's approvals (default: every stage in the policy) */
  stage?: string;
  signaturePath?: string;
  /** default: the folder beside the model (`attestationsDir`, else `<model>.attestations`) */
  attestations?: AttestationSource;
  attestationsDir?: string;
  /** for keyless signers (default: public-good) */
  trustedRoot?: TrustedRoot;
  now?: Date;
}

function trustOf(s: PolicySigner, root: () => TrustedRoot): Trust {
  if (s.kind === 'key') return { publicKey: s.publicKey };
  if (s.kind === 'certificate') return { certificateAuthorities: s.certificateAuthorities };
  return { sigstore: { trustedRoot: root(), policy: s.policy } };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One evaluation of a release policy, the same for the CLI, the GitHub
 * Action and serving code: the model signature by a policy signer, then
 * provenance, then each stage's approvals. Every rule is reported; the
 * verdict holds only if all pass. Bad inputs (unreadable files, malformed
 * bundles the policy depends on) throw; failed rules do not.
 */
export async function evaluatePolicy(modelPath: string, policy: LoadedPolicy, o: EvaluateOptions = {}): Promise<PolicyReport> {
  const now = o.now ?? new Date();
  let rootCache: TrustedRoot | undefined;
  const root = () => (rootCache ??= o.trustedRoot ?? publicGoodTrustedRoot());
  const rules: RuleResult[] = [];

  // 1. The model signature, by any one policy signer.
  const sigPath = o.signaturePath ?? defaultSignaturePath(modelPath);
  let verified: VerifyResult | undefined;
  const bundleBytes = readBundle(sigPath);
  const bundle = parseBundle(bundleBytes, sigPath);
  const reasons: string[] = [];
  let winner: PolicySigner | undefined;
  for (const s of policy.signers) {
    try {
      verifyEnvelope(bundle, trustOf(s, root), now);
      winner = s;
      break;
    } catch (err) {
      if (!(err instanceof ModelsealError) || err.family !== 'verification') throw err;
      reasons.push(`${s.label}: ${err.message}`);
    }
  }
  if (!winner) {
    rules.push({ rule: 'signature', ok: false, detail: `not signed by a policy signer (${reasons.join('; ')})` });
  } else {
    try {
      verified = await verifyModel(modelPath, { trust: trustOf(winner, root), bundle: bundleBytes, signaturePath: sigPath, at: now });
      rules.push({ rule: 'signature', ok: true, detail: `signed by ${describeSigner(verified.signer)} (policy signer ${winner.label}); model matches, sha256:${verified.rootDigest}` });
    } catch (err) {
      if (!(err instanceof ModelsealError) || err.family !== 'verification') throw err;
      rules.push({ rule: 'signature', ok: false, detail: err.message });
    }
  }
  const digest = verified?.rootDigest;
  // Each file is read and parsed once; one that does not parse is named in every rule's report.
  const source = o.attestations ?? folderAttestations(o.attestationsDir ?? defaultAttestationsDir(modelPath));
  const stored = (await source.list()).map((a) => {
    if ('error' in a) return { file: a.file, error: `unreadable attestation: ${a.error}` };
    try {
      const bundle = parseBundle(a.bytes, a.file);
      const predicateType = (JSON.parse(bundle.payload.toString('utf8')) as { predicateType?: unknown }).predicateType;
      return { file: a.file, bundle, predicateType };
    } catch (err) {
      return { file: a.file, error: `unreadable attestation: ${(err as Error).message}` };
    }
  });
  const unreadable = stored.flatMap((a) => ('error' in a ? [{ file: a.file, counted: false, why: a.error! }] : []));
  const ofType = (t: string) => stored.flatMap((a) => ('bundle' in a && a.predicateType === t ? [{ file: a.file, bundle: a.bundle! }] : []));

  // 2. Provenance from the named repository and workflow.
  if (policy.provenance) {
    const p = policy.provenance;
    const signers: PolicySigner[] = p.signers ?? [
      {
        label: `GitHub Actions in ${p.repository}`,
        kind: 'keyless',
        policy: {
          identityRegexp: `https://github\\.com/${escapeRe(p.repository)}/.+`,
          issuer: 'https://token.actions.githubusercontent.com',
          githubRepository: p.repository,
          ...(p.workflow ? { githubWorkflow: p.workflow } : {}),
          ...(p.ref ? { githubRef: p.ref } : {}),
        },
      },
    ];
    const items: NonNullable<RuleResult['items']> = [...unreadable];
    for (const a of ofType(SLSA_PROVENANCE_V1)) {
      try {
        const v = verifyAttestation(a.bundle, signers.map((s) => trustOf(s, root)), a.file, now);
        const why = (() => {
          if (!digest) return 'the model signature did not verify, so there is no digest to match';
          if (v.statement.subject[0].digest.sha256 !== digest) return `for another model digest (${v.statement.subject[0].digest.sha256.slice(0, 16)}…)`;
          const w = parseProvenance(v.statement.predicate).buildDefinition.externalParameters.workflow;
          const repo = w.repository.replace(/^https:\/\/[^/]+\//, '');
          if (repo !== p.repository) return `built in repository ${repo}, not ${p.repository}`;
          if (p.workflow && w.path !== p.workflow) return `built by workflow ${w.path}, not ${p.workflow}`;
          if (p.ref && w.ref !== p.ref) return `built from ref ${w.ref}, not ${p.ref}`;
          return undefined;
        })();
        items.push({ file: a.file, counted: !why, why: why ?? `from ${p.repository} ${workflowOf(v)}, signed by ${describeSigner(v.signer)}` });
      } catch (err) {
        if (!(err instanceof ModelsealError)) throw err;
        items.push({ file: a.file, counted: false, why: err.message });
      }
    }
    const ok = items.some((i) => i.counted);
    const want = `${p.repository}${p.workflow ? ` ${p.workflow}` : ''}${p.ref ? ` @ ${p.ref}` : ''}`;
    rules.push({ rule: 'provenance', ok, detail: ok ? `SLSA provenance from ${want}` : `no valid SLSA provenance from ${want} (${items.length} attestation(s) examined)`, items });
  }

  // 3. Approvals, k distinct approvers per stage; an authorised rejection overrides.
  const stages = o.stage ? policy.approvals.filter((a) => a.stage === o.stage) : policy.approvals;
  if (o.stage && stages.length === 0) {
    rules.push({ rule: `approvals.${o.stage}`, ok: false, detail: `the policy has no approval rule for stage "${o.stage}"` });
  }
  for (const st of stages) {
    const items: NonNullable<RuleResult['items']> = [...unreadable];
    const approvers = new Map<string, string>();
    const rejections: string[] = [];
    for (const a of ofType(APPROVAL_PREDICATE_V1)) {
      let why: string | undefined;
      let who = '';
      try {
        const v = verifyAttestation(a.bundle, st.approvers.map((s) => trustOf(s, root)), a.file, now);
        who = describeSigner(v.signer);
        const ap = parseApproval(v.statement.predicate);
        const approvedAt = Date.parse(ap.approvedAt);
        if (!digest) why = 'the model signature did not verify, so there is no digest to match';
        else if (v.statement.subject[0].digest.sha256 !== digest) why = `${who}: for another model digest (${v.statement.subject[0].digest.sha256.slice(0, 16)}…): the model changed after approval`;
        else if (ap.stage !== st.stage) why = `${who}: for stage ${ap.stage}, not ${st.stage}`;
        else if (approvedAt > now.getTime() + 300_000) why = `${who}: approvedAt ${ap.approvedAt} is in the future`;
        else if (ap.expiresAt && Date.parse(ap.expiresAt) < now.getTime()) why = `${who}: expired at ${ap.expiresAt}`;
        else if (st.maxAgeMs && now.getTime() - approvedAt > st.maxAgeMs) why = `${who}: approved ${ap.approvedAt}, older than maxAge ${st.maxAge}`;
        else if (ap.decision === 'rejected') {
          why = `${who}: REJECTED${ap.reason ? ` (${ap.reason})` : ''}`;
          rejections.push(why);
        } else {
          const id = signerId(v.signer);
          if (approvers.has(id)) why = `${who}: already counted (one approver counts once)`;
          else approvers.set(id, who);
        }
      } catch (err) {
        if (!(err instanceof ModelsealError)) throw err;
        why = err.code === 'UNTRUSTED_ATTESTATION_SIGNER' ? `not signed by an approver for ${st.stage}` : err.message;
      }
      items.push({ file: a.file, counted: !why, why: why ?? `${who}: approved` });
    }
    const n = approvers.size;
    const ok = rejections.length === 0 && n >= st.threshold;
    const detail = rejections.length
      ? `rejected by an authorised approver: ${rejections.join('; ')}`
      : `${n} of ${st.threshold} required distinct approvals${n ? ` (${[...approvers.values()].join(', ')})` : ''}`;
    rules.push({ rule: `approvals.${st.stage}`, ok, detail, items });
  }

  return { ok: rules.every((r) => r.ok), ...(verified ? { model: { name: verified.modelName, rootDigest: verified.rootDigest } } : {}), rules };
}

function workflowOf(v: { statement: { predicate: unknown } }): string {
  const x = parseProvenance(v.statement.predicate).buildDefinition.externalParameters.workflow;
  return `${x.path} @ ${x.ref}`;
}
