import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyFingerprint, loadPublicKey, spkiSha256 } from '@modelseal/core/internals';
import { checkoutAction, runAction, type ActionRun } from './action.js';
import { modelseal, ROOT, tmp } from './cli.js';

/**
 * The bundled action (a copy of dist/ with no node_modules above it, as
 * GitHub checks it out), run as the runner runs it, over a real model with
 * real keys. The CLI then checks what the action wrote.
 */
let action: string;
beforeAll(() => {
  action = checkoutAction();
});

function setup() {
  const d = tmp();
  const model = path.join(d, 'tiny-model');
  cpSync(path.join(ROOT, 'examples/tiny-model'), model, { recursive: true });
  const keys: Record<string, { priv: string; pub: string; privPem: string; pubPem: string }> = {};
  for (const name of ['release', 'alice']) {
    const kp = generateKeyPair(name === 'release' ? 'ecdsa-p256' : 'ed25519');
    const priv = path.join(d, `${name}.key`);
    const pub = path.join(d, `${name}.pub`);
    writeFileSync(priv, kp.privatePem, { mode: 0o600 });
    writeFileSync(pub, kp.publicPem);
    keys[name] = { priv, pub, privPem: kp.privatePem, pubPem: kp.publicPem };
  }
  const policy = path.join(d, 'policy.yml');
  writeFileSync(
    policy,
    `version: 1
signers:
  - key: release.pub
provenance:
  repository: acme/models
  workflow: .github/workflows/release.yml
  ref: refs/heads/main
  signers:
    - key: release.pub
approvals:
  production:
    threshold: 1
    approvers:
      - key: alice.pub
    maxAge: 30d
`,
  );
  return { d, model, keys, policy };
}

const gate = (model: string, policy: string, extra: Record<string, string> = {}) => runAction(action, { mode: 'gate', 'model-path': model, policy, stage: 'production', ...extra });

function expectOk(r: ActionRun) {
  if (r.status !== 0) throw new Error(`action failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

describe('the bundled action, end to end with keys', () => {
  it('sign -> provenance -> gate fails with 0 of 1 approvals -> approve -> gate passes -> a file changes -> gate fails', async () => {
    const { model, keys, policy } = setup();
    const fingerprint = keyFingerprint(loadPublicKey(keys.release!.pub).key);

    // sign, with the key's PEM text as a secret gives it
    const s = await runAction(action, { mode: 'sign', 'model-path': model, key: keys.release!.privPem });
    expectOk(s);
    const digest = s.outputs.digest!;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(s.outputs['signature-path']).toBe(path.join(model, 'model.sig'));
    expect(s.report).toMatchObject({ version: 1, command: 'sign', ok: true, model: { name: 'tiny-model', digest: { sha256: digest } } });
    expect(s.summary).toContain(`sha256:${digest}`);
    expect(s.summary).toContain(fingerprint);
    // the key is masked, line by line, and its temp file is gone
    const body = keys.release!.privPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of body) expect(s.stdout).toContain(`::add-mask::${line}`);
    expect(s.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(body[0]);
    // the CLI verifies what the action signed
    const v = modelseal(['verify', model, '--key', keys.release!.pub]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(digest);

    // provenance, with the key as a path, from the runner's GITHUB_* environment
    const p = await runAction(action, { mode: 'attest-provenance', 'model-path': model, key: keys.release!.priv });
    expectOk(p);
    expect(p.outputs.digest).toBe(digest);
    expect(path.dirname(p.outputs['bundle-path']!)).toBe(`${model}.attestations`);
    const listed = JSON.parse(modelseal(['attestations', 'list', model, '--json']).stdout);
    expect(listed.attestations).toEqual([expect.objectContaining({ predicateType: 'https://slsa.dev/provenance/v1', subject: { name: 'tiny-model', digest: { sha256: digest } } })]);

    // gate: signature and provenance hold, approvals do not
    const g0 = await gate(model, policy);
    expect(g0.status).toBe(1);
    expect(g0.outputs).toMatchObject({ verified: 'false', digest });
    const annotations = g0.errors.filter((l) => l.startsWith('::error title='));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toMatch(/^::error title=modelseal policy rule approvals.production not met::0 of 1 required distinct approvals/);
    expect(g0.stdout).toMatch(/::error::modelseal: policy .*1 rule\(s\) failed: approvals.production \[POLICY_FAILED\]/);
    expect(g0.report).toMatchObject({ ok: false, verified: false, model: { name: 'tiny-model', digest: { sha256: digest } }, error: { code: 'POLICY_FAILED' } });
    expect(g0.report.rules.map((r: any) => [r.rule, r.ok])).toEqual([['signature', true], ['provenance', true], ['approvals.production', false]]);
    expect(g0.summary).toContain('modelseal gate for production: FAILED');
    expect(g0.summary).toContain(`sha256:${digest}`);
    expect(g0.summary).toContain(fingerprint);
    expect(g0.summary).toContain('| ✅ | acme/models | .github/workflows/release.yml | refs/heads/main | `c0ffee000000` | [run](https://github.com/acme/models/actions/runs/4242/attempts/1)');
    expect(g0.summary).toContain('_no approvals found_');
    if (process.env.MODELSEAL_SUMMARY_OUT) writeFileSync(`${process.env.MODELSEAL_SUMMARY_OUT}.failed`, g0.summary);

    // alice approves, through the action, with her key's PEM
    const a = await runAction(action, { mode: 'approve', 'model-path': model, stage: 'production', key: keys.alice!.privPem, reason: 'eval accuracy 0.94 (run 17)', approver: 'Alice', expires: '7d' });
    expectOk(a);
    expect(a.outputs.digest).toBe(digest);
    expect(existsSync(a.outputs['bundle-path']!)).toBe(true);
    const cli = modelseal(['verify', model, '--policy', policy, '--stage', 'production']);
    expect(cli.status, cli.stdout + cli.stderr).toBe(0);

    const g1 = await gate(model, policy);
    expectOk(g1);
    expect(g1.outputs).toMatchObject({ verified: 'true', digest, 'signature-path': path.join(model, 'model.sig') });
    expect(g1.errors).toEqual([]);
    expect(g1.stdout).toContain(`policy ${policy}: pass (tiny-model sha256:${digest})`);
    expect(g1.report).toMatchObject({ ok: true, verified: true, command: 'verify', policy, stage: 'production' });
    expect(g1.summary).toContain('modelseal gate for production: passed');
    expect(g1.summary).toMatch(/\| ✅ \| key `[0-9a-f]{64}` "Alice" \| \d{4}-\d\d-\d\dT[^|]+ \| approved \| eval accuracy 0.94 \(run 17\) \| – \| key [0-9a-f]{16}… \(ed25519\): approved \|/);
    if (process.env.MODELSEAL_SUMMARY_OUT) writeFileSync(process.env.MODELSEAL_SUMMARY_OUT, g1.summary);

    // one byte changes: the signature rule fails, and so do the rules that need its digest
    writeFileSync(path.join(model, 'config.json'), readFileSync(path.join(model, 'config.json'), 'utf8').replace('}', ' }'));
    const g2 = await gate(model, policy);
    expect(g2.status).toBe(1);
    expect(g2.outputs.verified).toBe('false');
    expect(g2.outputs.digest).toBeUndefined();
    // one annotation per unmet rule (the signature, and the two that need its digest), then the failure
    expect(g2.errors.filter((l) => l.startsWith('::error title='))).toEqual([
      expect.stringMatching(/^::error title=modelseal policy rule signature not met::.*config.json/),
      expect.stringMatching(/^::error title=modelseal policy rule provenance not met::/),
      expect.stringMatching(/^::error title=modelseal policy rule approvals.production not met::/),
    ]);
    expect(g2.errors.at(-1)).toMatch(/^::error::modelseal: policy .*3 rule\(s\) failed/);
    expect(g2.summary).toContain('FAILED');
    expect(g2.summary).toContain('(the signature did not verify)');
  });

  it('verify mode: a public key (PEM text or path), the signer in the report; a changed model fails with the differences', async () => {
    const { model, keys } = setup();
    expect(modelseal(['sign', model, '--key', keys.release!.priv]).status).toBe(0);
    const r = await runAction(action, { mode: 'verify', 'model-path': model, key: keys.release!.pubPem });
    expectOk(r);
    expect(r.outputs).toMatchObject({ verified: 'true', 'signature-path': path.join(model, 'model.sig') });
    expect(r.report.signer).toEqual({ kind: 'key', keyType: 'ecdsa-p256', fingerprint: keyFingerprint(loadPublicKey(keys.release!.pub).key), publicKeySha256: spkiSha256(loadPublicKey(keys.release!.pub).key) });
    expect(r.report.model).toMatchObject({ name: 'tiny-model', resources: 4, serialization: { method: 'files', hashType: 'sha256' } });

    writeFileSync(path.join(model, 'extra.bin'), 'x');
    const bad = await runAction(action, { mode: 'verify', 'model-path': model, key: keys.release!.pub });
    expect(bad.status).toBe(1);
    expect(bad.outputs.verified).toBe('false');
    expect(bad.report).toMatchObject({ ok: false, verified: false, error: { code: 'MODEL_MISMATCH', family: 'verification' }, differences: { extra: ['extra.bin'] } });
    expect(bad.summary).toContain('MODEL_MISMATCH');
    // ignore-paths (multiline) leaves it out
    const ok = await runAction(action, { mode: 'verify', 'model-path': model, key: keys.release!.pub, 'ignore-paths': 'extra.bin\n\nnot-there.txt\n' });
    expectOk(ok);
  });

  it('refuses bad inputs with coded errors, and still writes the report and the summary', async () => {
    const { model, keys, policy } = setup();
    const cases: Array<[Record<string, string>, string]> = [
      [{ mode: 'publish', 'model-path': model }, 'BAD_OPTION'],
      [{ mode: 'gate', 'model-path': model }, 'MISSING_INPUT'],
      [{ mode: 'gate', 'model-path': model, policy, key: keys.release!.pub }, 'BAD_OPTION'],
      [{ mode: 'sign', 'model-path': model }, 'MISSING_INPUT'],
      [{ mode: 'sign', 'model-path': model, key: keys.release!.priv, keyless: 'true' }, 'BAD_OPTION'],
      [{ mode: 'sign', 'model-path': model, keyless: 'yes' }, 'BAD_OPTION'],
      [{ mode: 'approve', 'model-path': model, key: keys.alice!.priv }, 'MISSING_INPUT'],
      [{ mode: 'approve', 'model-path': model, key: keys.alice!.priv, stage: 'production', expires: 'soon' }, 'BAD_DURATION'],
      [{ mode: 'sign', 'model-path': model, key: keys.release!.pubPem }, 'PUBLIC_KEY_GIVEN'],
      [{ mode: 'verify', 'model-path': model, key: keys.release!.pub }, 'SIGNATURE_NOT_FOUND'],
      [{ mode: 'gate', 'model-path': model, policy, 'attestations-from': 'oci' }, 'BAD_OPTION'],
    ];
    for (const [inputs, code] of cases) {
      const r = await runAction(action, inputs);
      expect(r.status, JSON.stringify(inputs)).toBe(1);
      expect(r.report?.error?.code, `${JSON.stringify(inputs)}: ${r.stdout}`).toBe(code);
      expect(r.stdout).toContain(`[${code}]`);
      expect(r.summary).toContain(code);
    }
  });

  it('hashes large models on worker threads from dist/hash-worker.js, and says blake3 is not in the bundle', async () => {
    const { d, model, keys } = setup();
    writeFileSync(path.join(model, 'big-1.bin'), Buffer.alloc(6 << 20, 1));
    writeFileSync(path.join(model, 'big-2.bin'), Buffer.alloc(6 << 20, 2));
    const s = await runAction(action, { mode: 'sign', 'model-path': model, key: keys.release!.priv });
    expectOk(s);
    expect(modelseal(['verify', model, '--key', keys.release!.pub]).status).toBe(0);

    const b3 = path.join(d, 'b3-model');
    cpSync(path.join(ROOT, 'examples/tiny-model'), b3, { recursive: true });
    expect(modelseal(['sign', b3, '--key', keys.release!.priv, '--hash', 'blake3']).status).toBe(0);
    const r = await runAction(action, { mode: 'verify', 'model-path': b3, key: keys.release!.pub });
    expect(r.status).toBe(1);
    expect(r.report.error.code).toBe('BLAKE3_UNAVAILABLE');
  });

  it('leaves no key material behind in the runner temp folder', async () => {
    const { model, keys } = setup();
    const r = await runAction(action, { mode: 'sign', 'model-path': model, key: keys.release!.privPem });
    expectOk(r);
    const temp = path.dirname(r.outputs.report!);
    expect(readdirSync(temp).filter((n) => n.startsWith('modelseal-key-'))).toEqual([]);
    expect(statSync(r.outputs.report!).isFile()).toBe(true);
  });
});
