import path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { hashModel } from '../hash-model.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The build type actions/attest-build-provenance records for GitHub Actions workflows. */
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
/** Ours, for builds described by flags outside GitHub Actions; same parameter shape. */
export const MODELSEAL_BUILD_TYPE = 'https://modelseal.dev/buildtypes/workflow/v1';

export interface SlsaResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}

/** SLSA Provenance v1, with the parameters GitHub Actions builds record. */
export interface SlsaProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: { workflow: { ref: string; repository: string; path: string } };
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: SlsaResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  };
}

export interface BuildInfo {
  /** owner/repo */
  repository: string;
  ref: string;
  commit?: string;
  /** .github/workflows/train.yml */
  workflow: string;
  serverURL?: string;
  builderId?: string;
  invocationId?: string;
  internal?: Record<string, unknown>;
  github: boolean;
}

/** What a GitHub Actions job knows about itself; undefined outside Actions. */
export function buildInfoFromGithubEnv(env: NodeJS.ProcessEnv = process.env): BuildInfo | undefined {
  if (env.GITHUB_ACTIONS !== 'true' || !env.GITHUB_REPOSITORY || !env.GITHUB_WORKFLOW_REF) return undefined;
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  // GITHUB_WORKFLOW_REF = owner/repo/.github/workflows/file.yml@refs/heads/main
  const m = /^([^/]+\/[^/]+)\/(.+)@(.+)$/.exec(env.GITHUB_WORKFLOW_REF);
  if (!m) throw new InputError('BAD_GITHUB_ENV', `GITHUB_WORKFLOW_REF "${env.GITHUB_WORKFLOW_REF}" is not owner/repo/path@ref`);
  const runId = env.GITHUB_RUN_ID;
  return {
    repository: env.GITHUB_REPOSITORY,
    ref: env.GITHUB_REF ?? m[3]!,
    ...(env.GITHUB_SHA ? { commit: env.GITHUB_SHA } : {}),
    workflow: m[2]!,
    serverURL: server,
    builderId: `${server}/${env.GITHUB_WORKFLOW_REF}`,
    ...(runId ? { invocationId: `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${runId}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}` } : {}),
    internal: {
      github: {
        event_name: env.GITHUB_EVENT_NAME,
        repository_id: env.GITHUB_REPOSITORY_ID,
        repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
        runner_environment: env.RUNNER_ENVIRONMENT,
      },
    },
    github: true,
  };
}

export type LineageInput =
  | { kind: 'input'; name: string; digest: string }
  | { kind: 'model' | 'dataset'; path: string };

/** `--input NAME=DIGEST` with DIGEST `sha256:<hex>` or bare hex. */
export function parseInputFlag(s: string): LineageInput {
  const m = /^([^=]+)=(?:sha256:)?([0-9a-f]{64})$/.exec(s);
  if (!m) throw new InputError('BAD_INPUT', `--input "${s}" is not NAME=sha256:<64 hex digits>`);
  return { kind: 'input', name: m[1]!, digest: m[2]! };
}

/** Base models and datasets, each identified by its OMS root digest (folders and files alike). */
export async function resolveLineage(inputs: readonly LineageInput[]): Promise<SlsaResourceDescriptor[]> {
  const out: SlsaResourceDescriptor[] = [];
  for (const i of inputs) {
    if (i.kind === 'input') {
      out.push({ name: i.name, digest: { sha256: i.digest }, annotations: { 'modelseal.dev/kind': 'input' } });
    } else {
      const m = await hashModel(i.path);
      out.push({ name: m.modelName || path.basename(i.path), digest: { sha256: m.rootDigest }, annotations: { 'modelseal.dev/kind': i.kind, 'modelseal.dev/digest': 'oms-root' } });
    }
  }
  return out;
}

export function buildProvenance(b: BuildInfo, lineage: SlsaResourceDescriptor[]): SlsaProvenance {
  const server = b.serverURL ?? 'https://github.com';
  const source: SlsaResourceDescriptor[] = b.commit ? [{ uri: `git+${server}/${b.repository}@${b.ref}`, digest: { gitCommit: b.commit } }] : [];
  return {
    buildDefinition: {
      buildType: b.github ? GITHUB_WORKFLOW_BUILD_TYPE : MODELSEAL_BUILD_TYPE,
      externalParameters: { workflow: { ref: b.ref, repository: `${server}/${b.repository}`, path: b.workflow } },
      ...(b.internal ? { internalParameters: b.internal } : {}),
      resolvedDependencies: [...source, ...lineage],
    },
    runDetails: {
      builder: { id: b.builderId ?? `${server}/${b.repository}/${b.workflow}@${b.ref}` },
      ...(b.invocationId ? { metadata: { invocationId: b.invocationId } } : {}),
    },
  };
}

/** Checks the fields a policy reads; anything missing there is a malformed provenance. */
export function parseProvenance(v: unknown): SlsaProvenance {
  const p = v as SlsaProvenance;
  const w = p?.buildDefinition?.externalParameters?.workflow;
  if (!w || typeof w.repository !== 'string' || typeof w.path !== 'string' || typeof w.ref !== 'string') {
    throw new FormatError('BAD_PROVENANCE', 'provenance has no buildDefinition.externalParameters.workflow {repository, path, ref}');
  }
  if (typeof p.runDetails?.builder?.id !== 'string') throw new FormatError('BAD_PROVENANCE', 'provenance has no runDetails.builder.id');
  if (!Array.isArray(p.buildDefinition.resolvedDependencies)) throw new FormatError('BAD_PROVENANCE', 'provenance resolvedDependencies must be a list');
  return p;
}
