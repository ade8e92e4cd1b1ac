import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  keylessSigner, ModelMismatchError, publicGoodTrustedRoot, resolveIdentityToken, signModel, verifyModel,
  type IdentityPolicy, type KeylessSigner,
} from '@modelseal/core/internals';
import { codeOf } from '../packages/core/test/helpers.js';
import { FIXTURES, modelseal, modelsealAsync, ROOT, tmp } from './cli.js';
import { githubToken, startSigstoreServices, type SigstoreServices } from './sigstore-services.js';

const GH: IdentityPolicy = {
  identity: 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

let svc: SigstoreServices;
let trustedRoot: TrustedRoot;
let rootFile: string;
beforeAll(async () => {
  svc = await startSigstoreServices({ actionsToken: githubToken() });
  trustedRoot = TrustedRoot.fromJSON(svc.trustedRoot);
  rootFile = path.join(tmp(), 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(svc.trustedRoot));
});
afterAll(() => svc?.close());

function exampleModel(): string {
  const d = path.join(tmp(), 'tiny-model');
  cpSync(path.join(ROOT, 'examples/tiny-model'), d, { recursive: true });
  return d;
}

async function signKeyless(model: string, token = githubToken(), extra: Partial<Parameters<typeof keylessSigner>[0]> = {}) {
  return signModel(model, {
    signer: keylessSigner({ identityToken: token, fulcioURL: svc.url, rekorURL: svc.url, rekorEntryType: 'intoto', ...extra }),
  });
}

const verifyWith = (model: string, policy: IdentityPolicy, root = trustedRoot, extra = {}) =>
  verifyModel(model, { trust: { sigstore: { trustedRoot: root, policy } }, ...extra });

describe('keyless signing against Sigstore services on 127.0.0.1', () => {
  it('signs with a Fulcio certificate, a Rekor entry and an RFC 3161 timestamp, and verifies the GitHub identity', async () => {
    const m = exampleModel();
    const s = await signKeyless(m, githubToken(), { tsaURL: svc.url });
    expect(svc.hits).toEqual(expect.arrayContaining(['POST /api/v2/signingCert', 'POST /api/v1/log/entries', 'POST /api/v1/timestamp']));
    const b = s.bundle as any;
    expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(b.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(b.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('intoto');
    const r = await verifyWith(m, { ...GH, githubRepository: 'acme/models', githubRef: 'refs/heads/main', githubWorkflow: '.github/workflows/release.yml' });
    const signer = r.signer as KeylessSigner;
    expect(signer.kind).toBe('keyless');
    expect(signer.identity).toMatchObject({ subjectAlternativeName: GH.identity, issuer: GH.issuer, sourceRepositoryURI: 'https://github.com/acme/models', sourceRepositoryRef: 'refs/heads/main', runnerEnvironment: 'github-hosted' });
    expect(r.rootDigest).toBe(s.manifest.rootDigest);
    await expect(verifyWith(m, { identityRegexp: 'https://github\\.com/acme/.*', issuer: GH.issuer! })).resolves.toBeTruthy();
  });

  it('rejects the wrong identity, issuer, repository, ref and workflow', async () => {
    const m = exampleModel();
    await signKeyless(m);
    expect(await codeOf(verifyWith(m, { ...GH, identity: 'https://github.com/evil/models/.github/workflows/release.yml@refs/heads/main' }))).toBe('IDENTITY_MISMATCH');
    expect(await codeOf(verifyWith(m, { ...GH, issuer: 'https://accounts.google.com' }))).toBe('ISSUER_MISMATCH');
    expect(await codeOf(verifyWith(m, { ...GH, githubRepository: 'acme/other' }))).toBe('GITHUB_REPOSITORY_MISMATCH');
    expect(await codeOf(verifyWith(m, { ...GH, githubRef: 'refs/heads/dev' }))).toBe('GITHUB_REF_MISMATCH');
    expect(await codeOf(verifyWith(m, { ...GH, githubWorkflow: '.github/workflows/train.yml' }))).toBe('GITHUB_WORKFLOW_MISMATCH');
    // regexps are anchored: a substring does not match
    expect(await codeOf(verifyWith(m, { identityRegexp: 'acme', issuer: GH.issuer! }))).toBe('IDENTITY_MISMATCH');
  });

  it('rejects a certificate from a CA the trusted root does not hold (the public-good root)', async () => {
    const m = exampleModel();
    await signKeyless(m);
    expect(await codeOf(verifyWith(m, GH, publicGoodTrustedRoot()))).toMatch(/^(CERT_UNTRUSTED|TIMESTAMP_INVALID)$/);
  });

  it('a timestamp from a TSA the trusted root does not hold is rejected', async () => {
    const m = exampleModel();
    await signKeyless(m, githubToken(), { tsaURL: svc.url });
    const json = structuredClone(svc.trustedRoot) as any;
    json.timestampAuthorities = [];
    expect(await codeOf(verifyWith(m, GH, TrustedRoot.fromJSON(json)))).toBe('TIMESTAMP_INVALID');
  });

  it.each([
    ['expired', -3600_000],
    ['not yet valid', 3600_000],
  ])('rejects a signing certificate that was %s when the log recorded the signature', async (_what, skew) => {
    const skewed = await startSigstoreServices({ caClock: new Date(Date.now() + skew) });
    try {
      const m = exampleModel();
      await signModel(m, { signer: keylessSigner({ identityToken: githubToken(), fulcioURL: skewed.url, rekorURL: skewed.url, rekorEntryType: 'intoto' }) });
      const e = await verifyWith(m, GH, TrustedRoot.fromJSON(skewed.trustedRoot)).catch((x) => x);
      expect(e.code).toBe('CERT_UNTRUSTED');
      expect(e.message).toMatch(/expired|not yet valid|validity|certificate/i);
    } finally {
      await skewed.close();
    }
  });

  it('rejects a Fulcio CA or log used outside the validity window the trusted root gives it', async () => {
    const m = exampleModel();
    await signKeyless(m);
    const json = structuredClone(svc.trustedRoot) as any;
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    const dayAgo = new Date(Date.now() - 86400_000).toISOString();
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const expired = structuredClone(json);
    expired.certificateAuthorities[0].validFor = { start: dayAgo, end: hourAgo };
    expect(await codeOf(verifyWith(m, GH, TrustedRoot.fromJSON(expired)))).toBe('CERT_UNTRUSTED');
    const notYet = structuredClone(json);
    notYet.certificateAuthorities[0].validFor = { start: inAnHour };
    expect(await codeOf(verifyWith(m, GH, TrustedRoot.fromJSON(notYet)))).toBe('CERT_UNTRUSTED');
    const logRetired = structuredClone(json);
    logRetired.tlogs[0].publicKey.validFor = { start: dayAgo, end: hourAgo };
    expect(await codeOf(verifyWith(m, GH, TrustedRoot.fromJSON(logRetired)))).toMatch(/^TLOG_/);
    const noLog = structuredClone(json);
    noLog.tlogs = [];
    expect(await codeOf(verifyWith(m, GH, TrustedRoot.fromJSON(noLog)))).toMatch(/^TLOG_/);
  });

  it('rejects tampered models, removed tlog entries, swapped log entries and swapped certificates', async () => {
    const a = exampleModel();
    const b = exampleModel();
    writeFileSync(path.join(b, 'config.json'), '{"other":"model"}');
    await signKeyless(a);
    await signKeyless(b);
    const sigA = JSON.parse(readFileSync(path.join(a, 'model.sig'), 'utf8'));
    const sigB = JSON.parse(readFileSync(path.join(b, 'model.sig'), 'utf8'));

    writeFileSync(path.join(a, 'tokenizer.json'), '{}');
    expect(await codeOf(verifyWith(a, GH))).toBe('MODEL_MISMATCH');
    cpSync(path.join(ROOT, 'examples/tiny-model/tokenizer.json'), path.join(a, 'tokenizer.json'));

    const write = (sig: unknown) => writeFileSync(path.join(a, 'model.sig'), JSON.stringify(sig));
    write({ ...sigA, verificationMaterial: { ...sigA.verificationMaterial, tlogEntries: [] } });
    expect(await codeOf(verifyWith(a, GH))).toMatch(/^TLOG_/);
    write({ ...sigA, verificationMaterial: { ...sigA.verificationMaterial, tlogEntries: sigB.verificationMaterial.tlogEntries } });
    expect(await codeOf(verifyWith(a, GH))).toBe('TLOG_BODY_MISMATCH');
    const certB = sigB.verificationMaterial.x509CertificateChain ?? sigB.verificationMaterial.certificate;
    write({ ...sigA, verificationMaterial: { ...sigA.verificationMaterial, ...(sigA.verificationMaterial.x509CertificateChain ? { x509CertificateChain: certB } : { certificate: certB }) } });
    expect(await codeOf(verifyWith(a, GH))).toBe('SIGNATURE_INVALID');
    // the signature of model B on model A: valid Sigstore, wrong model
    write(sigB);
    expect(await verifyWith(a, GH).catch((e) => e)).toBeInstanceOf(ModelMismatchError);
    write(sigA);
    await expect(verifyWith(a, GH)).resolves.toBeTruthy();
  });

  it('finds the token: explicit, SIGSTORE_ID_TOKEN, then the GitHub Actions endpoint; refuses a missing or wrong-audience token', async () => {
    const t = githubToken();
    expect(await resolveIdentityToken({ explicit: t, env: {} })).toBe(t);
    expect(await resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: t } })).toBe(t);
    const fromActions = await resolveIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: `${svc.url}/actions/token?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'actions-request-token' } });
    expect(JSON.parse(Buffer.from(fromActions.split('.')[1]!, 'base64url').toString())).toMatchObject({ aud: 'sigstore', repository: 'acme/models' });
    expect(svc.hits).toContain('GET /actions/token');
    expect(await codeOf(resolveIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: `${svc.url}/actions/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' } }))).toBe('TOKEN_REQUEST_FAILED');
    expect(await codeOf(resolveIdentityToken({ env: {} }))).toBe('NO_IDENTITY_TOKEN');
    expect(await codeOf(resolveIdentityToken({ explicit: githubToken({ aud: 'github' }), env: {} }))).toBe('TOKEN_WRONG_AUDIENCE');
    expect(await codeOf(resolveIdentityToken({ explicit: githubToken({ exp: 1000 }), env: {} }))).toBe('TOKEN_EXPIRED');
    expect(await codeOf(resolveIdentityToken({ explicit: 'not-a-jwt', env: {} }))).toBe('BAD_IDENTITY_TOKEN');
  });

  it('CLI: sign --keyless and verify --identity/--issuer with --trusted-root', async () => {
    const m = exampleModel();
    const s = await modelsealAsync(['sign', m, '--keyless', '--fulcio-url', svc.url, '--rekor-url', svc.url, '--tsa-url', svc.url, '--rekor-entry-type', 'intoto'], { env: { SIGSTORE_ID_TOKEN: githubToken() } });
    expect(s.stderr).toContain('signed');
    expect(s.status).toBe(0);
    const args = ['verify', m, '--trusted-root', rootFile, '--identity', GH.identity!, '--issuer', GH.issuer!];
    const ok = modelseal([...args, '--github-repository', 'acme/models', '--json']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).signer).toMatchObject({ kind: 'keyless', identity: GH.identity, issuer: GH.issuer, github: { repository: 'acme/models' }, tlog: [{ logIndex: expect.any(String) }] });
    expect(modelseal([...args, '--github-ref', 'refs/tags/v1']).status).toBe(1);
    expect(modelseal(['verify', m, '--trusted-root', rootFile, '--identity', GH.identity!]).status).toBe(2); // issuer required
    const noToken = await modelsealAsync(['sign', m, '--keyless', '--fulcio-url', svc.url, '--rekor-url', svc.url], { env: { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '' } });
    expect(noToken.status).toBe(2);
  });
});

describe('keyless: model_signing fixtures signed on public-good Sigstore, verified offline', () => {
  const IBM: IdentityPolicy = { identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' };
  const root = publicGoodTrustedRoot();
  const fixtures = ['v1.0.0-sigstore', 'v1.0.1-sigstore', 'v1.1.0-sigstore'];
  const copy = (name: string) => {
    const d = path.join(tmp(), name);
    cpSync(path.join(FIXTURES, name), d, { recursive: true });
    return d;
  };

  it.each(fixtures)('%s verifies, and fails with another identity, issuer, a modified file, or no tlog entry', async (name) => {
    const dir = path.join(FIXTURES, name);
    const r = await verifyWith(dir, IBM, root, { ignorePaths: ['ignore-me'] });
    expect((r.signer as KeylessSigner).identity.subjectAlternativeName).toBe('stefanb@us.ibm.com');
    expect(await codeOf(verifyWith(dir, { ...IBM, identity: 'someone@us.ibm.com' }, root, { ignorePaths: ['ignore-me'] }))).toBe('IDENTITY_MISMATCH');
    expect(await codeOf(verifyWith(dir, { ...IBM, issuer: 'https://accounts.google.com' }, root, { ignorePaths: ['ignore-me'] }))).toBe('ISSUER_MISMATCH');
    const d = copy(name);
    writeFileSync(path.join(d, 'signme-2'), 'changed!');
    expect(await codeOf(verifyWith(d, IBM, root, { ignorePaths: ['ignore-me'] }))).toBe('MODEL_MISMATCH');
    const d2 = copy(name);
    const sig = JSON.parse(readFileSync(path.join(d2, 'model.sig'), 'utf8'));
    sig.verificationMaterial.tlogEntries = [];
    writeFileSync(path.join(d2, 'model.sig'), JSON.stringify(sig));
    expect(await codeOf(verifyWith(d2, IBM, root, { ignorePaths: ['ignore-me'] }))).toMatch(/^(TLOG_|TIMESTAMP_)/);
  });

  it('rejects a bundle crafted with a pathological checkpoint origin, quickly', async () => {
    const d = copy('v1.1.0-sigstore');
    const sig = JSON.parse(readFileSync(path.join(d, 'model.sig'), 'utf8'));
    const proof = sig.verificationMaterial.tlogEntries[0].inclusionProof;
    const evilOrigin = `${'a'.repeat(40)}(a+)+$`;
    proof.checkpoint.envelope = proof.checkpoint.envelope.replace(/^[^\n]*/, `${'a'.repeat(5000)}!${evilOrigin}`);
    writeFileSync(path.join(d, 'model.sig'), JSON.stringify(sig));
    const t0 = performance.now();
    const code = await codeOf(verifyWith(d, IBM, root, { ignorePaths: ['ignore-me'] }));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(code).toMatch(/^TLOG_/);
  });
});
