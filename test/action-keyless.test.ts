import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@modelseal/core';
import { checkoutAction, runAction, type ActionRun } from './action.js';
import { modelsealAsync, ROOT, tmp } from './cli.js';
import { githubToken, startSigstoreServices, type SigstoreServices } from './sigstore-services.js';

/**
 * Keyless, as in a real workflow with `permissions: id-token: write`: the
 * bundled action asks a stand-in for the Actions OIDC endpoint for a token,
 * then Fulcio, Rekor (@sigstore/mock on 127.0.0.1) for a certificate and a log
 * entry. The gate then verifies against the trusted root of those services.
 */
const IDENTITY = 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const TOKEN = githubToken();

let svc: SigstoreServices;
let action: string;
let rootFile: string;
beforeAll(async () => {
  svc = await startSigstoreServices({ actionsToken: TOKEN });
  action = checkoutAction();
  rootFile = path.join(tmp(), 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(svc.trustedRoot));
});
afterAll(() => svc?.close());

const oidc = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${svc.url}/actions/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'actions-request-token' });
const sigstore = () => ({ keyless: 'true', 'fulcio-url': svc.url, 'rekor-url': svc.url, 'rekor-entry-type': 'intoto' });

function expectOk(r: ActionRun) {
  if (r.status !== 0) throw new Error(`action failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function setup() {
  const d = tmp();
  const model = path.join(d, 'tiny-model');
  cpSync(path.join(ROOT, 'examples/tiny-model'), model, { recursive: true });
  const alice = generateKeyPair('ed25519');
  writeFileSync(path.join(d, 'alice.pub'), alice.publicPem);
  writeFileSync(path.join(d, 'alice.key'), alice.privatePem, { mode: 0o600 });
  const policy = path.join(d, 'policy.yml');
  writeFileSync(
    policy,
    `version: 1
signers:
  - identity: ${IDENTITY}
    issuer: ${ISSUER}
provenance:
  repository: acme/models
  workflow: .github/workflows/release.yml
  ref: refs/heads/main
approvals:
  production:
    threshold: 1
    approvers:
      - key: alice.pub
`,
  );
  return { d, model, policy };
}

/** A stand-in for GitHub's attestations API: serves the given bundles for one digest, `perPage` per page, with Link headers. */
async function attestationsApi(digest: string, bundles: unknown[], perPage = 1) {
  const seen: Array<{ url: string; auth?: string }> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url!, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const u = new URL(req.url!, 'http://x');
    if (u.pathname !== `/repos/acme/models/attestations/sha256:${digest}`) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end('{"message":"Not Found"}');
    }
    const page = Number(u.searchParams.get('page') ?? '1');
    const slice = bundles.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (page * perPage < bundles.length) headers.Link = `<${base}${u.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next", <${base}${u.pathname}?page=1>; rel="first"`;
    res.writeHead(200, headers);
    res.end(JSON.stringify({ attestations: slice.map((bundle, i) => ({ bundle, repository_id: 123456, bundle_url: `${base}/blob/${i}` })) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('the bundled action, keyless', () => {
  it('signs with the workflow identity, records provenance, and gates on both (folder, then the attestations API)', async () => {
    const { d, model, policy } = setup();
    const s = await runAction(action, { mode: 'sign', 'model-path': model, ...sigstore() }, { env: oidc() });
    expectOk(s);
    expect(svc.hits).toEqual(expect.arrayContaining(['GET /actions/token', 'POST /api/v2/signingCert', 'POST /api/v1/log/entries']));
    expect(s.stdout).toContain(`::add-mask::${TOKEN}`);
    const digest = s.outputs.digest!;
    expect(s.summary).toContain(IDENTITY);
    // the mock Rekor is not the public-good log: its index is shown without a search.sigstore.dev link
    expect(s.summary).toMatch(/\| Rekor log index \| \d+ \(log .{12}…, not public-good\) \|/);
    const v = await modelsealAsync(['verify', model, '--trusted-root', rootFile, '--identity', IDENTITY, '--issuer', ISSUER, '--github-repository', 'acme/models']);
    expect(v.status, v.stderr).toBe(0);

    const p = await runAction(action, { mode: 'attest-provenance', 'model-path': model, ...sigstore() }, { env: oidc() });
    expectOk(p);
    expect(p.outputs.digest).toBe(digest);

    // verify mode, keyless: the signer as SignerJson, with the GitHub claims and the log entry
    const vr = await runAction(action, { mode: 'verify', 'model-path': model, identity: IDENTITY, issuer: ISSUER, 'trusted-root': rootFile });
    expectOk(vr);
    expect(vr.report.signer).toMatchObject({ kind: 'keyless', identity: IDENTITY, issuer: ISSUER, github: { repository: 'acme/models', ref: 'refs/heads/main' }, tlog: [{ logIndex: expect.stringMatching(/^\d+$/) }] });
    expect(vr.report.signer.certificateSha256).toMatch(/^[0-9a-f]{64}$/);

    const g0 = await runAction(action, { mode: 'gate', 'model-path': model, policy, stage: 'production', 'trusted-root': rootFile });
    expect(g0.status).toBe(1);
    expect(g0.report.rules.map((r: any) => [r.rule, r.ok])).toEqual([['signature', true], ['provenance', true], ['approvals.production', false]]);

    // the approver signs with her own key, on her own machine: the CLI
    const a = await modelsealAsync(['approve', model, '--stage', 'production', '--key', path.join(d, 'alice.key'), '--reason', 'looks good']);
    expect(a.status, a.stderr).toBe(0);
    const g1 = await runAction(action, { mode: 'gate', 'model-path': model, policy, stage: 'production', 'trusted-root': rootFile });
    expectOk(g1);
    expect(g1.summary).toContain(`| Signer | ${IDENTITY} (issuer ${ISSUER}) |`);
    if (process.env.MODELSEAL_SUMMARY_OUT) writeFileSync(`${process.env.MODELSEAL_SUMMARY_OUT}.keyless`, g1.summary);
    expect(g1.summary).toMatch(/\| Rekor log index \| \d+ \(log .{12}…, not public-good\) \|/);
    expect(g1.summary).toMatch(/\| ✅ \| acme\/models \| .github\/workflows\/release.yml \| refs\/heads\/main \| `c0ffee000000` \| \[run\]\(https:\/\/github.com\/acme\/models\/actions\/runs\/4242\/attempts\/1\) \| \d+ \(log/);

    // The same attestations, served by GitHub's attestations API instead of the folder.
    const folder = `${model}.attestations`;
    const bundles = readdirSync(folder).sort().map((n) => JSON.parse(readFileSync(path.join(folder, n), 'utf8')));
    expect(bundles).toHaveLength(2);
    rmSync(folder, { recursive: true });
    const api = await attestationsApi(digest, bundles, 1);
    try {
      const g2 = await runAction(action, { mode: 'gate', 'model-path': model, policy, stage: 'production', 'trusted-root': rootFile, 'attestations-from': 'github' }, { env: { GITHUB_API_URL: api.base } });
      expectOk(g2);
      expect(api.seen.map((x) => x.url)).toEqual([`/repos/acme/models/attestations/sha256:${digest}?per_page=100`, `/repos/acme/models/attestations/sha256:${digest}?per_page=1&page=2`]);
      expect(api.seen.every((x) => x.auth === 'Bearer ghs_test-token')).toBe(true);
      expect(g2.summary).toContain(`GitHub attestations of acme/models for sha256:${digest}`);
      expect(g2.report.rules.every((r: any) => r.ok)).toBe(true);
      // an API that serves nothing for this digest: approvals and provenance are missing
      const g3 = await runAction(action, { mode: 'gate', 'model-path': model, policy, stage: 'production', 'trusted-root': rootFile, 'attestations-from': 'github', 'github-token': 'other' }, { env: { GITHUB_API_URL: `${api.base}/elsewhere` } });
      expect(g3.status).toBe(1);
      expect(g3.report.rules.map((r: any) => r.ok)).toEqual([true, false, false]);
    } finally {
      await api.close();
    }
  });

  it('without id-token: write (no ACTIONS_ID_TOKEN_REQUEST_URL) fails at once, naming the permission, before hashing', async () => {
    const before = svc.hits.length;
    for (const mode of ['sign', 'attest-provenance', 'approve']) {
      const r = await runAction(action, { mode, 'model-path': path.join(tmp(), 'no-such-model'), stage: 'production', ...sigstore() });
      expect(r.status).toBe(1);
      expect(r.report.error).toMatchObject({ code: 'MISSING_ID_TOKEN_PERMISSION', family: 'input' });
      expect(r.stdout).toContain('::error::modelseal: keyless signing needs the workflow\'s OIDC token, but ACTIONS_ID_TOKEN_REQUEST_URL is not set: add "permissions: id-token: write" to the job [MISSING_ID_TOKEN_PERMISSION]');
    }
    expect(svc.hits.length).toBe(before);
  });
});

