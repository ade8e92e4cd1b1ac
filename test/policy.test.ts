import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey } from 'node:crypto';
import {
  APPROVAL_PREDICATE_V1, attestModel, buildApproval, buildProvenance, evaluatePolicy, generateKeyPair, keylessSigner, keySigner,
  loadPolicy, SLSA_PROVENANCE_V1, signModel, type PolicyReport,
} from '@modelseal/core/internals';
import { codeOf } from '../packages/core/test/helpers.js';
import { modelsealAsync, ROOT, tmp } from './cli.js';
import { githubToken, startSigstoreServices, type SigstoreServices } from './sigstore-services.js';

let svc: SigstoreServices;
beforeAll(async () => {
  svc = await startSigstoreServices();
});
afterAll(() => svc?.close());

/** The signature and provenance part every policy here shares. */
const BASE_POLICY = `version: 1
signers:
  - key: release.pub
provenance:
  repository: acme/models
  workflow: .github/workflows/train.yml
  ref: refs/heads/main
`;

/** A folder with the model, keys for release/alice/bob/carol/ci, and a policy file. */
function setup(policyText?: string) {
  const d = tmp();
  const model = path.join(d, 'tiny-model');
  cpSync(path.join(ROOT, 'examples/tiny-model'), model, { recursive: true });
  const keys: Record<string, ReturnType<typeof createPrivateKey>> = {};
  for (const name of ['release', 'alice', 'bob', 'carol', 'ci']) {
    const kp = generateKeyPair(name === 'release' ? 'ecdsa-p256' : 'ed25519');
    writeFileSync(path.join(d, `${name}.pub`), kp.publicPem);
    keys[name] = createPrivateKey(kp.privatePem);
  }
  const policy = path.join(d, 'policy.yml');
  writeFileSync(
    policy,
    policyText ??
      `${BASE_POLICY}  signers:
    - key: ci.pub
approvals:
  production:
    threshold: 2
    approvers:
      - key: alice.pub
      - key: bob.pub
      - identity: bob@acme.com
        issuer: https://accounts.google.com
    maxAge: 30d
  staging:
    threshold: 1
    approvers:
      - key: carol.pub
`,
  );
  return { d, model, keys, policy };
}

const provenance = (repo = 'acme/models', workflow = '.github/workflows/train.yml', ref = 'refs/heads/main') =>
  buildProvenance({ repository: repo, workflow, ref, commit: 'a'.repeat(40), github: false }, []);

async function approve(model: string, signer: ReturnType<typeof keySigner>, stage: string, extra: Partial<Parameters<typeof buildApproval>[0]> = {}) {
  return attestModel(model, APPROVAL_PREDICATE_V1, buildApproval({ stage, ...extra }), { signer, label: `approval-${stage}` });
}

const rule = (r: PolicyReport, name: string) => r.rules.find((x) => x.rule === name)!;

describe('release policy', () => {
  it('passes when the signature, provenance and k-of-n approvals hold; fails below the threshold', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: keySigner(keys.ci!), label: 'provenance' });
    await approve(model, keySigner(keys.alice!), 'production');
    const p = loadPolicy(policy);
    let r = await evaluatePolicy(model, p, { stage: 'production' });
    expect(rule(r, 'signature').ok).toBe(true);
    expect(rule(r, 'provenance').ok).toBe(true);
    expect(rule(r, 'approvals.production')).toMatchObject({ ok: false, detail: expect.stringContaining('1 of 2') });
    expect(r.ok).toBe(false);
    await approve(model, keySigner(keys.alice!), 'production'); // the same approver again
    r = await evaluatePolicy(model, p, { stage: 'production' });
    expect(rule(r, 'approvals.production').ok).toBe(false);
    // the later of two approvals by one approver stands; the earlier is superseded, not counted twice
    expect(rule(r, 'approvals.production').items!.filter((i) => i.why.includes('superseded by a later decision'))).toHaveLength(1);
    await approve(model, keySigner(keys.bob!), 'production');
    r = await evaluatePolicy(model, p, { stage: 'production' });
    expect(r.ok).toBe(true);
    expect(rule(r, 'approvals.production').detail).toContain('2 of 2');
    // without --stage every stage counts: staging has no approval yet
    expect((await evaluatePolicy(model, p)).ok).toBe(false);
  });

  it('does not count approvals for another digest, the wrong stage, an unlisted approver, expired or too old ones', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: keySigner(keys.ci!), label: 'provenance' });
    await approve(model, keySigner(keys.bob!), 'staging');
    await approve(model, keySigner(keys.carol!), 'production');
    await approve(model, keySigner(keys.alice!), 'production', { now: new Date(Date.now() - 40 * 86_400_000) });
    await approve(model, keySigner(keys.bob!), 'production', { now: new Date(Date.now() - 2 * 86_400_000), expiresInMs: 86_400_000 });
    const r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'production' });
    const whys = rule(r, 'approvals.production').items!.filter((i) => !i.counted).map((i) => i.why).join('\n');
    expect(whys).toMatch(/for stage staging, not production/);
    expect(whys).toMatch(/not signed by an approver for production/);
    expect(whys).toMatch(/older than maxAge 30d/);
    expect(whys).toMatch(/expired at/);
    expect(rule(r, 'approvals.production').ok).toBe(false);
    // the model changes after approval and is re-signed: old approvals are for another digest
    writeFileSync(path.join(model, 'config.json'), '{"retrained":true}');
    await signModel(model, { signer: keySigner(keys.release!) });
    const r2 = await evaluatePolicy(model, loadPolicy(policy), { stage: 'production' });
    expect(rule(r2, 'signature').ok).toBe(true);
    expect(rule(r2, 'approvals.production').items!.some((i) => /another model digest/.test(i.why))).toBe(true);
    expect(rule(r2, 'provenance').ok).toBe(false);
  });

  it('names a corrupt attestation file in the report instead of skipping it', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    const good = await approve(model, keySigner(keys.carol!), 'staging');
    writeFileSync(good.file.replace(/approval-staging-/, 'approval-staging-zz-corrupt-'), '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"');
    const r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'staging' });
    expect(rule(r, 'approvals.staging').ok).toBe(true);
    expect(rule(r, 'approvals.staging').items!.find((i) => /corrupt/.test(i.file))).toMatchObject({ counted: false, why: expect.stringMatching(/^unreadable attestation: .*not JSON/) });
    expect(rule(r, 'provenance').items!.some((i) => /^unreadable attestation/.test(i.why))).toBe(true);
  });

  it('a rejection by an authorised approver overrides approvals', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    await approve(model, keySigner(keys.alice!), 'production');
    await approve(model, keySigner(keys.bob!), 'production');
    await approve(model, keySigner(keys.bob!), 'production', { decision: 'rejected', reason: 'eval regression' });
    const r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'production' });
    expect(rule(r, 'approvals.production')).toMatchObject({ ok: false, detail: expect.stringContaining('eval regression') });
  });

  it.each([
    ['another repository', provenance('evil/models'), /built in repository evil\/models/],
    ['another workflow', provenance('acme/models', '.github/workflows/other.yml'), /built by workflow .github\/workflows\/other.yml/],
    ['another ref', provenance('acme/models', '.github/workflows/train.yml', 'refs/heads/dev'), /built from ref refs\/heads\/dev/],
  ])('rejects provenance from %s', async (_what, pred, why) => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    await attestModel(model, SLSA_PROVENANCE_V1, pred, { signer: keySigner(keys.ci!), label: 'provenance' });
    const r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'staging' });
    expect(rule(r, 'provenance').ok).toBe(false);
    expect(rule(r, 'provenance').items![0]!.why).toMatch(why);
  });

  it('provenance signed by someone the policy does not trust does not count; a model signed by a stranger fails', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.alice!) });
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: keySigner(keys.alice!), label: 'provenance' });
    const r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'staging' });
    expect(rule(r, 'signature')).toMatchObject({ ok: false, detail: expect.stringContaining('not signed by a policy signer') });
    expect(rule(r, 'provenance').ok).toBe(false);
  });

  it('by default, provenance must be keyless-signed by GitHub Actions in the policy repository and workflow', async () => {
    const { model, keys, policy } = setup(BASE_POLICY);
    await signModel(model, { signer: keySigner(keys.release!) });
    const trustedRoot = TrustedRoot.fromJSON(svc.trustedRoot);
    const gh = (workflow: string) =>
      keylessSigner({
        identityToken: githubToken({ sub: `https://github.com/acme/models/${workflow}@refs/heads/main`, job_workflow_ref: `acme/models/${workflow}@refs/heads/main`, workflow_ref: `acme/models/${workflow}@refs/heads/main` }),
        fulcioURL: svc.url,
        rekorURL: svc.url,
        rekorEntryType: 'intoto',
      });
    // a key-signed provenance is not accepted under the default rule, nor one from another workflow's identity
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: keySigner(keys.ci!), label: 'provenance' });
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: gh('.github/workflows/other.yml'), label: 'provenance' });
    let r = await evaluatePolicy(model, loadPolicy(policy), { trustedRoot });
    expect(rule(r, 'provenance').ok).toBe(false);
    expect(rule(r, 'provenance').items!.every((i) => !i.counted)).toBe(true);
    await attestModel(model, SLSA_PROVENANCE_V1, provenance(), { signer: gh('.github/workflows/train.yml'), label: 'provenance' });
    r = await evaluatePolicy(model, loadPolicy(policy), { trustedRoot });
    expect(rule(r, 'provenance').ok).toBe(true);
    expect(r.ok).toBe(true);
  });

  it('counts a keyless approver by verified identity and issuer, never by the predicate', async () => {
    const { model, keys, policy } = setup();
    await signModel(model, { signer: keySigner(keys.release!) });
    await approve(model, keySigner(keys.alice!), 'production', { approver: 'bob@acme.com' }); // a display name proves nothing
    const google = (sub: string) => githubToken({ iss: 'https://accounts.google.com', sub, email: sub, email_verified: true });
    const ks = (sub: string) => keylessSigner({ identityToken: google(sub), fulcioURL: svc.url, rekorURL: svc.url, rekorEntryType: 'intoto' });
    await approve(model, ks('mallory@acme.com'), 'production');
    const trustedRoot = TrustedRoot.fromJSON(svc.trustedRoot);
    let r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'production', trustedRoot });
    expect(rule(r, 'approvals.production').detail).toContain('1 of 2');
    await approve(model, ks('bob@acme.com'), 'production');
    r = await evaluatePolicy(model, loadPolicy(policy), { stage: 'production', trustedRoot });
    expect(rule(r, 'approvals.production')).toMatchObject({ ok: true, detail: expect.stringContaining('bob@acme.com (https://accounts.google.com)') });
  });

  it.each([
    ['a typo in a key', 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    treshold: 2\n    approvers:\n      - key: alice.pub\n', /unknown key "treshold"/],
    ['a missing key file', 'version: 1\nsigners:\n  - key: nowhere.pub\n', /nowhere.pub/],
    ['a wrong version', 'version: 2\nsigners:\n  - key: release.pub\n', /version/],
    ['no signers', 'version: 1\n', /signers/],
    ['a threshold above the approvers', 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 3\n    approvers:\n      - key: alice.pub\n', /more than its 1 approvers/],
    ['an identity without issuer', 'version: 1\nsigners:\n  - identity: bob@acme.com\n', /issuer/],
    ['a bad maxAge', 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  p:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n    maxAge: forever\n', /maxAge/],
    ['YAML that does not parse', 'version: 1\nsigners: [\n', /not valid YAML/],
    ['a duplicate key', 'version: 1\nversion: 1\nsigners:\n  - key: release.pub\n', /not valid YAML/],
  ])('rejects a policy with %s', (_what, text, message) => {
    const { policy } = setup(text);
    expect(() => loadPolicy(policy)).toThrow(message);
  });

  it('CLI: approve, attest provenance, attestations list, verify --policy (exit 0 / 1 / 2)', async () => {
    const { d, model, policy } = setup();
    for (const k of ['release', 'alice', 'bob', 'ci']) {
      rmSync(path.join(d, `${k}.pub`));
      expect((await modelsealAsync(['keygen', '--out', path.join(d, k)])).status).toBe(0);
    }
    expect((await modelsealAsync(['sign', model, '--key', path.join(d, 'release.key')])).status).toBe(0);
    const prov = await modelsealAsync(['attest', 'provenance', model, '--key', path.join(d, 'ci.key'), '--repository', 'acme/models', '--workflow', '.github/workflows/train.yml', '--ref', 'refs/heads/main', '--commit', 'b'.repeat(40), '--dataset', path.join(model, 'tokenizer.json'), '--input', `base=sha256:${'c'.repeat(64)}`]);
    expect(prov.status).toBe(0);
    for (const who of ['alice', 'bob']) expect((await modelsealAsync(['approve', model, '--stage', 'production', '--key', path.join(d, `${who}.key`), '--expires', '7d'])).status).toBe(0);
    expect(readdirSync(`${model}.attestations`)).toHaveLength(3);
    expect(readdirSync(model)).not.toContain('tiny-model.attestations'); // beside, not inside: plain OMS verification still passes
    expect((await modelsealAsync(['verify', model, '--key', path.join(d, 'release.pub')])).status).toBe(0);
    const list = await modelsealAsync(['attestations', 'list', model, '--json']);
    expect(JSON.parse(list.stdout).attestations.map((x: { what: string }) => x.what).sort()).toEqual(['SLSA provenance', 'approved for production', 'approved for production']);
    const ok = await modelsealAsync(['verify', model, '--policy', policy, '--stage', 'production']);
    expect(ok.stdout).toMatch(/PASS +signature/);
    expect(ok.stdout).toMatch(/VERDICT: pass/);
    expect(ok.status).toBe(0);
    const json = JSON.parse((await modelsealAsync(['verify', model, '--policy', policy, '--stage', 'production', '--json'])).stdout);
    expect(json.ok).toBe(true);
    expect((await modelsealAsync(['approve', model, '--stage', 'production', '--reject', '--reason', 'bias found', '--key', path.join(d, 'alice.key')])).status).toBe(0);
    const rejected = await modelsealAsync(['verify', model, '--policy', policy, '--stage', 'production']);
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toMatch(/FAIL +approvals.production: rejected by an authorised approver.*bias found/);
    writeFileSync(path.join(d, 'bad.yml'), 'version: 1\nsigners:\n  - kee: release.pub\n');
    const bad = await modelsealAsync(['verify', model, '--policy', path.join(d, 'bad.yml')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown key "kee"/);
    expect(await codeOf(evaluatePolicy(path.join(d, 'nope'), loadPolicy(policy)).then(() => undefined))).toBe('MODEL_NOT_FOUND');
  });
});
