import {
  APPROVAL_PREDICATE_V1, attestModel, buildApproval, buildInfoFromGithubEnv, buildProvenance, defaultAttestationsDir, defaultSignaturePath,
  evaluatePolicy, folderAttestations, githubAttestations, InputError, loadPolicy, loadTrustedRoot, modelForAttestation, parseBundle,
  parseDuration, readBundle, signModel, SLSA_PROVENANCE_V1, trustFromSpec, verifyModel, type AttestationSource,
} from '@modelseal/core/internals';
import { bundleFacts, factsOf, type BundleFacts } from './bundle-facts.js';
import type { ActionInputs } from './inputs.js';
import type { KeyFiles } from './key-material.js';
import type { ModeResult } from './results.js';
import { signerFromInputs } from './signer.js';

export interface RunContext {
  keys: KeyFiles;
  mask: (secret: string) => void;
  env: NodeJS.ProcessEnv;
}

/** One mode, as the matching CLI command does it: the same core calls, in the same order. */
export async function runMode(i: ActionInputs, ctx: RunContext): Promise<ModeResult> {
  const sigPath = i.signature ?? defaultSignaturePath(i.modelPath);
  switch (i.mode) {
    case 'sign': {
      const signer = await signerFromInputs(i, ctx.keys, ctx.mask, ctx.env);
      const r = await signModel(i.modelPath, { signer, hash: { ignorePaths: i.ignorePaths }, signaturePath: sigPath });
      return { mode: 'sign', manifest: r.manifest, signaturePath: r.signaturePath, bundle: parseBundle(JSON.stringify(r.bundle)) };
    }
    case 'attest-provenance':
    case 'approve': {
      const [predicateType, predicate, label] = i.mode === 'approve' ? approval(i) : provenance(ctx.env);
      const signer = await signerFromInputs(i, ctx.keys, ctx.mask, ctx.env);
      const r = await attestModel(i.modelPath, predicateType, predicate, {
        signer,
        label,
        signaturePath: sigPath,
        hash: { ignorePaths: i.ignorePaths },
        ...(i.attestations ? { dir: i.attestations } : {}),
      });
      const subject = r.statement.subject[0];
      return { mode: i.mode, name: subject.name, digest: subject.digest.sha256, file: r.file, predicateType, predicate, bundle: parseBundle(JSON.stringify(r.bundle)) };
    }
    case 'verify': {
      const trust = trustFromSpec({
        ...(i.key ? { key: ctx.keys.path(i.key, { secret: false }) } : {}),
        ...(i.identity ? { identity: i.identity } : {}),
        ...(i.issuer ? { issuer: i.issuer } : {}),
        ...(i.trustedRoot ? { trustedRoot: i.trustedRoot } : {}),
      });
      const bytes = readBundle(sigPath);
      const result = await verifyModel(i.modelPath, { trust, bundle: bytes, signaturePath: sigPath, ignorePaths: i.ignorePaths });
      return { mode: 'verify', result, signaturePath: sigPath, bundle: parseBundle(bytes, sigPath) };
    }
    case 'gate':
      return gate(i, sigPath, ctx);
  }
}

function approval(i: ActionInputs): [string, unknown, string] {
  const p = buildApproval({
    stage: i.stage!,
    ...(i.reason ? { reason: i.reason } : {}),
    ...(i.approver ? { approver: i.approver } : {}),
    ...(i.expires ? { expiresInMs: parseDuration(i.expires, 'input expires') } : {}),
  });
  return [APPROVAL_PREDICATE_V1, p, `approval-${i.stage}`];
}

function provenance(env: NodeJS.ProcessEnv): [string, unknown, string] {
  const info = buildInfoFromGithubEnv(env);
  if (!info) throw new InputError('MISSING_BUILD_INFO', 'attest-provenance reads the build from GitHub Actions (GITHUB_ACTIONS, GITHUB_REPOSITORY, GITHUB_WORKFLOW_REF), which are not set');
  return [SLSA_PROVENANCE_V1, buildProvenance(info, []), 'provenance'];
}

async function gate(i: ActionInputs, sigPath: string, ctx: RunContext): Promise<ModeResult> {
  const policy = loadPolicy(i.policy!);
  const source = await attestationSource(i, sigPath, ctx.env);
  // Remember what the source returned, for the summary's details (display only).
  const attestations = new Map<string, BundleFacts | undefined>();
  const remembering: AttestationSource = {
    description: source.description,
    list: async () => {
      const list = await source.list();
      for (const a of list) attestations.set(a.file, 'bytes' in a ? factsOf(a.bytes, a.file) : undefined);
      return list;
    },
  };
  const report = await evaluatePolicy(i.modelPath, policy, {
    signaturePath: sigPath,
    attestations: remembering,
    ...(i.stage ? { stage: i.stage } : {}),
    ...(i.trustedRoot ? { trustedRoot: loadTrustedRoot(i.trustedRoot) } : {}),
  });
  let signature: BundleFacts | undefined;
  try {
    signature = bundleFacts(parseBundle(readBundle(sigPath), sigPath));
  } catch {
    // evaluatePolicy read it already; a signature that does not parse has thrown there
  }
  return { mode: 'gate', report, policyFile: i.policy!, ...(i.stage ? { stage: i.stage } : {}), signaturePath: sigPath, source: source.description, ...(signature ? { signature } : {}), attestations };
}

/**
 * The folder beside the model, or GitHub's attestations API. The API is
 * queried by subject digest, so the digest comes first, computed as the
 * signature's recorded serialization says (as attestations were made).
 */
async function attestationSource(i: ActionInputs, sigPath: string, env: NodeJS.ProcessEnv): Promise<AttestationSource> {
  if (i.attestationsFrom === 'folder') return folderAttestations(i.attestations ?? defaultAttestationsDir(i.modelPath));
  const repository = env.GITHUB_REPOSITORY;
  if (!repository) throw new InputError('MISSING_INPUT', 'attestations-from: github needs GITHUB_REPOSITORY (set by GitHub Actions)');
  const { manifest } = await modelForAttestation(i.modelPath, { signaturePath: sigPath });
  return githubAttestations({
    repository,
    digest: manifest.rootDigest,
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
    ...((i.githubToken ?? env.GITHUB_TOKEN) ? { token: i.githubToken ?? env.GITHUB_TOKEN } : {}),
  });
}
