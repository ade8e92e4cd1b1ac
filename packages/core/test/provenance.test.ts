import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInfoFromGithubEnv, buildProvenance, hashModel, parseInputFlag, parseProvenance, resolveLineage, GITHUB_WORKFLOW_BUILD_TYPE } from '@modelseal/core/internals';
import { tempDir, writeTree } from './helpers.js';

const env = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/models',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: 'f'.repeat(40),
  GITHUB_WORKFLOW_REF: 'acme/models/.github/workflows/train.yml@refs/heads/main',
  GITHUB_RUN_ID: '9001',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REPOSITORY_ID: '123',
  GITHUB_REPOSITORY_OWNER_ID: '456',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

describe('SLSA provenance', () => {
  it('records a GitHub Actions build as actions/attest-build-provenance does', async () => {
    const info = buildInfoFromGithubEnv(env)!;
    const data = writeTree(path.join(tempDir(), 'corpus'), { 'a.jsonl': '{}' });
    const p = buildProvenance(info, await resolveLineage([{ kind: 'dataset', path: data }, parseInputFlag(`base=sha256:${'c'.repeat(64)}`)]));
    expect(p.buildDefinition.buildType).toBe(GITHUB_WORKFLOW_BUILD_TYPE);
    expect(p.buildDefinition.externalParameters.workflow).toEqual({ ref: 'refs/heads/main', repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml' });
    expect(p.buildDefinition.internalParameters).toEqual({ github: { event_name: 'push', repository_id: '123', repository_owner_id: '456', runner_environment: 'github-hosted' } });
    expect(p.runDetails).toEqual({
      builder: { id: 'https://github.com/acme/models/.github/workflows/train.yml@refs/heads/main' },
      metadata: { invocationId: 'https://github.com/acme/models/actions/runs/9001/attempts/2' },
    });
    const deps = p.buildDefinition.resolvedDependencies;
    expect(deps[0]).toEqual({ uri: 'git+https://github.com/acme/models@refs/heads/main', digest: { gitCommit: 'f'.repeat(40) } });
    expect(deps[1]).toMatchObject({ name: 'corpus', digest: { sha256: (await hashModel(data)).rootDigest }, annotations: { 'modelseal.dev/kind': 'dataset' } });
    expect(deps[2]).toMatchObject({ name: 'base', digest: { sha256: 'c'.repeat(64) } });
    expect(parseProvenance(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });

  it('is absent outside Actions, and refuses malformed inputs', () => {
    expect(buildInfoFromGithubEnv({})).toBeUndefined();
    expect(() => buildInfoFromGithubEnv({ ...env, GITHUB_WORKFLOW_REF: 'nonsense' })).toThrow(/not owner\/repo\/path@ref/);
    expect(() => parseInputFlag('base=md5:abc')).toThrow(/NAME=sha256/);
    expect(() => parseProvenance({ buildDefinition: {} })).toThrow(/externalParameters/);
  });
});
