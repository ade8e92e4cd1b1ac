import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { APPROVAL_PREDICATE_V1, parseApproval, type ApprovalPredicate } from '../attest/approval.js';
import { parseProvenance, SLSA_PROVENANCE_V1, type SlsaProvenance } from '../attest/provenance.js';
import { subjectBinding, type ModelStatement } from '../attest/statement.js';
import { defaultAttestationsDir, folderAttestations, type AttestationSource } from '../attest/store.js';
import { signerId, verifyAttestation, type VerifiedAttestation } from '../attest/verify-attestation.js';
import { parseBundle, type ParsedBundle } from '../bundle.js';
import { InputError, ModelsealError } from '../errors.js';
import { parseJsonBounded } from '../limits.js';
import type { Serialization } from '../manifest.js';
import { describeSigner, modelJson, signerJson, type ModelJson, type SignerJson } from '../report/json.js';
import { defaultSignaturePath } from '../sign-model.js';
import { publicGoodTrustedRoot } from '../sigstore/trusted-root.js';
import { assertModelPath, readBundle, verifyEnvelope, verifyModel, type Trust, type VerifyResult } from '../verify-model.js';
import type { LoadedPolicy, PolicySigner } from './load.js';

/** One attestation as a rule saw it: counted or not, and why. */
export interface AttestationItem {
  file: string;
  counted: boolean;
  why: string;
  signer?: SignerJson;
  decision?: 'approved' | 'rejected';
  /** approvedAt, ISO 8601 */
  at?: string;
  /** provenance: where the model was built */
  build?: { repository: string; workflow: string; ref: string; commit?: string; runUrl?: string };
}

/** One policy rule's verdict, with every attestation it examined. */
export interface RuleResult {
  /** `signature`, `provenance`, `approvals.<stage>` */
  rule: string;
  ok: boolean;
  detail: string;
  items?: AttestationItem[];
}

/** The whole evaluation: the verdict, the model and its signer, one result per rule. */
export interface PolicyReport {
  ok: boolean;
  policy: string;
  stage?: string;
  model?: ModelJson;
  /** who signed the model (when the signature rule passed) */
  signer?: SignerJson;
  rules: RuleResult[];
  warnings: string[];
}

/** Which stage to check, where the signature and attestations are, and the trusted root for keyless signers. */
export interface EvaluateOptions {
  /** only this stage's approvals (default: every stage in the policy); a stage the policy lacks is an input error */
  stage?: string;
  signaturePath?: string;
  /** where attestations come from (default: the folder `attestationsDir`, else `<model>.attestations`) */
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
/** Clock skew allowed for approval times in the future. */
const FUTURE_SKEW_MS = 300_000;

function describeSerialization(s: Serialization): string {
  return `${s.method}/${s.hashType}${s.method === 'shards' ? `/${s.shardSize}` : ''}`;
}

function sameHashing(a: Serialization, b: Serialization): boolean {
  return describeSerialization(a) === describeSerialization(b) && a.allowSymlinks === b.allowSymlinks;
}

/**
 * Does an attestation's subject name this model? With a manifest digest
 * (modelseal >= 0.2) file names and hashing parameters are bound too; older
 * attestations bind the root digest only and are read with a note.
 */
function bindingOf(st: ModelStatement, model: VerifyResult): { problem?: string; note?: string } {
  const b = subjectBinding(st);
  const signed = model.manifest.serialization;
  if (b.manifestDigest) {
    if (b.manifestDigest === model.manifestDigest && b.rootDigest === model.rootDigest) return {};
    if (b.serialization && !sameHashing(b.serialization, signed)) {
      return { problem: `made over the model hashed as ${describeSerialization(b.serialization)}, but the signature records ${describeSerialization(signed)}: the same bytes get another digest; attest again after signing` };
    }
    if (b.rootDigest === model.rootDigest) return { problem: 'binds another manifest with the same file digests: files were renamed, moved or re-serialized since' };
    return { problem: `for another model digest (${b.rootDigest.slice(0, 16)}…): the model changed` };
  }
  if (b.rootDigest !== model.rootDigest) return { problem: `for another model digest (${b.rootDigest.slice(0, 16)}…): the model changed` };
  return { note: 'binds digests only (older attestation: file names are not bound)' };
}

interface Candidate {
  file: string;
  bundle: ParsedBundle;
  predicateType: unknown;
}

/**
 * One evaluation of a release policy, the same for the CLI, the GitHub
 * Action and serving code: the model signature by a policy signer, then
 * provenance, then each stage's approvals. Every rule is reported; the
 * verdict holds only if all pass. Bad inputs (a missing model, an unknown
 * stage, unreadable signature) throw; failed rules do not.
 */
export async function evaluatePolicy(modelPath: string, policy: LoadedPolicy, o: EvaluateOptions = {}): Promise<PolicyReport> {
  if (o.stage !== undefined && !policy.approvals.some((a) => a.stage === o.stage)) {
    const known = policy.approvals.map((a) => a.stage);
    throw new InputError('UNKNOWN_STAGE', `${policy.file} has no approval rule for stage "${o.stage}"; it defines: ${known.length ? known.join(', ') : 'no stages'}`);
  }
  assertModelPath(modelPath);
  const now = o.now ?? new Date();
  let rootCache: TrustedRoot | undefined;
  const root = () => (rootCache ??= o.trustedRoot ?? publicGoodTrustedRoot());
  const rules: RuleResult[] = [];
  const warnings: string[] = [];

  // 1. The model signature, by any one policy signer.
  const sigPath = o.signaturePath ?? defaultSignaturePath(modelPath);
  let verified: VerifyResult | undefined;
  const bundleBytes = readBundle(sigPath, o.signaturePath ? undefined : modelPath);
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
      warnings.push(...verified.warnings);
      rules.push({ rule: 'signature', ok: true, detail: `signed by ${describeSigner(verified.signer)} (policy signer ${winner.label}); model matches, sha256:${verified.rootDigest}` });
    } catch (err) {
      if (!(err instanceof ModelsealError) || err.family !== 'verification') throw err;
      rules.push({ rule: 'signature', ok: false, detail: err.message });
    }
  }

  // Each attestation is read and parsed once; one that does not parse is named in every rule's report.
  const source = o.attestations ?? folderAttestations(o.attestationsDir ?? defaultAttestationsDir(modelPath));
  const unreadable: AttestationItem[] = [];
  const candidates: Candidate[] = [];
  for (const a of await source.list()) {
    if ('error' in a) {
      unreadable.push({ file: a.file, counted: false, why: `unreadable attestation: ${a.error}` });
      continue;
    }
    try {
      const b = parseBundle(a.bytes, a.file);
      const predicateType = (parseJsonBounded(b.payload, `${a.file}: payload`, 'BAD_PAYLOAD') as { predicateType?: unknown } | null)?.predicateType;
      candidates.push({ file: a.file, bundle: b, predicateType });
    } catch (err) {
      unreadable.push({ file: a.file, counted: false, why: `unreadable attestation: ${(err as Error).message}` });
    }
  }
  const ofType = (t: string) => candidates.filter((c) => c.predicateType === t);

  // 2. Provenance from the named repository and workflow.
  const inputs = (type: string): RuleInputs => ({ candidates: ofType(type), unreadable, verified, trust: (s) => trustOf(s, root), now });
  if (policy.provenance) rules.push(provenanceRule(policy.provenance, inputs(SLSA_PROVENANCE_V1)));

  // 3. Approvals, k distinct approvers per stage; the latest decision of each approver counts.
  const stages = o.stage ? policy.approvals.filter((a) => a.stage === o.stage) : policy.approvals;
  for (const st of stages) rules.push(approvalRule(st, inputs(APPROVAL_PREDICATE_V1)));

  return {
    ok: rules.every((r) => r.ok),
    policy: policy.file,
    ...(o.stage ? { stage: o.stage } : {}),
    ...(verified ? { model: modelJson(verified.manifest, verified.manifestDigest), signer: signerJson(verified.signer) } : {}),
    rules,
    warnings,
  };
}

/** What every attestation rule works from. */
interface RuleInputs {
  /** attestations of the rule's predicate type, parsed */
  candidates: Candidate[];
  /** attestations that could not be read, named in every rule */
  unreadable: AttestationItem[];
  /** the verified model signature, when the signature rule passed */
  verified: VerifyResult | undefined;
  trust: (s: PolicySigner) => Trust;
  now: Date;
}

function verifyOne(c: Candidate, signers: readonly PolicySigner[], x: RuleInputs): VerifiedAttestation {
  return verifyAttestation(c.bundle, signers.map(x.trust), c.file, x.now);
}

function provenanceRule(p: NonNullable<LoadedPolicy['provenance']>, x: RuleInputs): RuleResult {
  const { candidates, unreadable, verified } = x;
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
  const items: AttestationItem[] = [...unreadable];
  for (const c of candidates) {
    try {
      const v = verifyOne(c, signers, x);
      const prov: SlsaProvenance = parseProvenance(v.statement.predicate);
      const w = prov.buildDefinition.externalParameters.workflow;
      const repo = w.repository.replace(/^https:\/\/[^/]+\//, '');
      const commit = prov.buildDefinition.resolvedDependencies.find((d) => d.digest.gitCommit)?.digest.gitCommit;
      const build = { repository: repo, workflow: w.path, ref: w.ref, ...(commit ? { commit } : {}), ...(prov.runDetails.metadata?.invocationId ? { runUrl: prov.runDetails.metadata.invocationId } : {}) };
      const bind = verified ? bindingOf(v.statement, verified) : { problem: 'the model signature did not verify, so there is no model to match' };
      const why =
        bind.problem ??
        (repo !== p.repository
          ? `built in repository ${repo}, not ${p.repository}`
          : p.workflow && w.path !== p.workflow
            ? `built by workflow ${w.path}, not ${p.workflow}`
            : p.ref && w.ref !== p.ref
              ? `built from ref ${w.ref}, not ${p.ref}`
              : undefined);
      items.push({
        file: c.file,
        counted: !why,
        why: why ?? `from ${repo} ${w.path} @ ${w.ref}, signed by ${describeSigner(v.signer)}${bind.note ? `; ${bind.note}` : ''}`,
        signer: signerJson(v.signer),
        build,
      });
    } catch (err) {
      if (!(err instanceof ModelsealError)) throw err;
      items.push({ file: c.file, counted: false, why: err.message });
    }
  }
  const ok = items.some((i) => i.counted);
  const want = `${p.repository}${p.workflow ? ` ${p.workflow}` : ''}${p.ref ? ` @ ${p.ref}` : ''}`;
  return { rule: 'provenance', ok, detail: ok ? `SLSA provenance from ${want}` : `no valid SLSA provenance from ${want} (${items.length} attestation(s) examined)`, items };
}

interface Decision {
  item: AttestationItem;
  approval: ApprovalPredicate;
  approver: string;
  /** which policy approver entry the signer matched */
  entry: number;
  who: string;
  time: number;
}

function approvalRule(st: LoadedPolicy['approvals'][number], x: RuleInputs): RuleResult {
  const { candidates, unreadable, verified, now } = x;
  const items: AttestationItem[] = [...unreadable];
  const decisions: Decision[] = [];
  for (const c of candidates) {
    const item: AttestationItem = { file: c.file, counted: false, why: '' };
    items.push(item);
    try {
      const v = verifyOne(c, st.approvers, x);
      const who = describeSigner(v.signer);
      const ap = parseApproval(v.statement.predicate);
      item.signer = signerJson(v.signer);
      item.decision = ap.decision;
      item.at = new Date(Date.parse(ap.approvedAt)).toISOString();
      const bind = verified ? bindingOf(v.statement, verified) : { problem: 'the model signature did not verify, so there is no model to match' };
      if (bind.problem) item.why = `${who}: ${bind.problem}`;
      else if (ap.stage !== st.stage) item.why = `${who}: for stage ${ap.stage}, not ${st.stage}`;
      else if (Date.parse(ap.approvedAt) > now.getTime() + FUTURE_SKEW_MS) item.why = `${who}: approvedAt ${ap.approvedAt} is in the future`;
      else {
        item.why = bind.note ? `${who}: ${bind.note}` : who;
        decisions.push({ item, approval: ap, approver: signerId(v.signer), entry: v.trustIndex, who, time: Date.parse(ap.approvedAt) });
      }
    } catch (err) {
      if (!(err instanceof ModelsealError)) throw err;
      item.why = err.code === 'UNTRUSTED_ATTESTATION_SIGNER' ? `not signed by an approver for ${st.stage}` : err.message;
    }
  }

  // The latest decision of each approver stands; on a tie a rejection wins. Rejections never expire.
  const latest = new Map<string, Decision>();
  for (const d of decisions) {
    const cur = latest.get(d.approver);
    if (!cur || d.time > cur.time || (d.time === cur.time && d.approval.decision === 'rejected')) latest.set(d.approver, d);
  }
  const rejections: string[] = [];
  const counted = new Map<string, string>();
  const entries = new Set<number>();
  for (const d of decisions) {
    const note = d.item.why === d.who ? '' : d.item.why.slice(d.who.length + 2);
    const suffix = note ? ` (${note})` : '';
    if (latest.get(d.approver) !== d) {
      d.item.why = `${d.who}: ${d.approval.decision}, superseded by a later decision of the same approver`;
      continue;
    }
    if (d.approval.decision === 'rejected') {
      d.item.why = `${d.who}: REJECTED${d.approval.reason ? ` (${d.approval.reason})` : ''}; a rejection stands until the same approver approves later`;
      rejections.push(d.item.why);
      continue;
    }
    if (d.approval.expiresAt && Date.parse(d.approval.expiresAt) < now.getTime()) d.item.why = `${d.who}: expired at ${d.approval.expiresAt}`;
    else if (st.maxAgeMs && now.getTime() - d.time > st.maxAgeMs) d.item.why = `${d.who}: approved ${d.approval.approvedAt}, older than maxAge ${st.maxAge}`;
    else if (entries.has(d.entry)) d.item.why = `${d.who}: matches approver entry #${d.entry + 1}, which another signer already fills (one entry counts once)`;
    else {
      counted.set(d.approver, d.who);
      entries.add(d.entry);
      d.item.counted = true;
      d.item.why = `${d.who}: approved${suffix}`;
    }
  }
  const n = counted.size;
  const ok = rejections.length === 0 && n >= st.threshold;
  const detail = rejections.length
    ? `rejected by an authorised approver: ${rejections.join('; ')}`
    : `${n} of ${st.threshold} required distinct approvals${n ? ` (${[...counted.values()].join(', ')})` : ''}`;
  return { rule: `approvals.${st.stage}`, ok, detail, items };
}
