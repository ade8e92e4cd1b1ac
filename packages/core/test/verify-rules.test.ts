/**
 * Regression tests for the verifier's soundness rules (issue: OMS conformance
 * and CLI contract; issue: hardening items 2-12, 14-17). Each case builds a
 * real model, signs it with a real key, breaks one thing, and asserts the
 * exact error code.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_PREDICATE_V1, attestModel, buildApproval, bundleText, evaluatePolicy, generateKeyPair, hashModel, hashModelDetailed, IN_TOTO_PAYLOAD_TYPE,
  keySigner, LIMITS, loadPolicy, loadPrivateKey, loadPublicKey, ModelMismatchError, parseBundle, readAttestations, signModel, verifyModel,
  type Signer, type PolicyReport,
} from '@modelseal/core/internals';
import { bytes, codeOf, tempDir, writeTree } from './helpers.js';

function keys(type: 'ed25519' | 'ecdsa-p256' = 'ed25519') {
  const kp = generateKeyPair(type);
  const priv = createPrivateKey(kp.privatePem);
  return { priv, pub: loadPublicKeyPem(kp.publicPem), pem: kp };
}
function loadPublicKeyPem(pem: string): KeyObject {
  const f = path.join(tempDir(), 'k.pub');
  writeFileSync(f, pem);
  return loadPublicKey(f).key;
}
const model = (files: Record<string, string | Uint8Array>) => writeTree(path.join(tempDir(), 'model'), files);

/** Signs an arbitrary statement as a bundle (what an attacker holding no key cannot do, but a signer's bug could). */
async function signStatement(signer: Signer, statement: unknown, file: string): Promise<void> {
  const b = await signer.createBundle(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE);
  writeFileSync(file, JSON.stringify(b));
}
const statementOf = (sig: string) => JSON.parse(Buffer.from(JSON.parse(readFileSync(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString());

describe('OMS conformance', () => {
  it('shard signatures give empty files no resource; verify passes and says so', async () => {
    const k = keys();
    const m = model({ 'w.bin': bytes(2500), 'pkg/__init__.py': '', 'empty.txt': '' });
    const s = await signModel(m, { signer: keySigner(k.priv), hash: { method: 'shards', shardSize: 1000 } });
    expect(s.manifest.resources.map((r) => r.name)).toEqual(['w.bin:0:1000', 'w.bin:1000:2000', 'w.bin:2000:2500']);
    expect(s.warnings.join('\n')).toMatch(/empty file empty.txt/);
    const r = await verifyModel(m, { trust: { publicKey: k.pub } });
    expect(r.warnings.filter((w) => /not covered by a shard signature: empty file/.test(w))).toHaveLength(2);
    // a new empty file is not a difference in shard mode (model_signing passes it) but is named
    writeFileSync(path.join(m, 'new-empty'), '');
    expect((await verifyModel(m, { trust: { publicKey: k.pub } })).warnings.join('\n')).toMatch(/empty file new-empty/);
    // a signed file emptied is: its shards are missing
    writeFileSync(path.join(m, 'w.bin'), '');
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('MODEL_MISMATCH');
  });

  it('absolute --ignore-paths inside the model are recorded relative; outside the model they are refused', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a', 'cache/x': 'x' });
    const s = await signModel(m, { signer: keySigner(k.priv), hash: { ignorePaths: [path.join(m, 'cache')] } });
    expect(s.manifest.serialization.ignorePaths).toContain('cache');
    expect(s.manifest.resources.map((r) => r.name)).toEqual(['a.bin']);
    expect(await codeOf(hashModel(m, { ignorePaths: ['/etc'] }))).toBe('IGNORE_PATH_OUTSIDE_MODEL');
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub }, ignorePaths: [path.dirname(m)] }))).toBe('IGNORE_PATH_OUTSIDE_MODEL');
    expect(await codeOf(hashModel(m, { ignorePaths: [m] }))).toBe('BAD_IGNORE_PATH');
  });

  it('model_signing v0.2 signatures (one subject per file) verify; changes and extra files fail', async () => {
    const k = keys('ecdsa-p256');
    const m = model({ 'signme-1': 'one', 'signme-2': 'two' });
    const files = await hashModel(m);
    const legacy = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [...files.resources].reverse().map((r) => ({ name: r.name, digest: { sha256: r.digest }, annotations: { actual_hash_algorithm: 'file-sha256' } })),
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: { unused: 'Unused, just passed due to API requirements' },
    };
    await signStatement(keySigner(k.priv), legacy, path.join(m, 'model.sig'));
    const r = await verifyModel(m, { trust: { publicKey: k.pub } });
    expect(r.manifest.resources.map((x) => x.name)).toEqual(['signme-1', 'signme-2']);
    expect(r.warnings[0]).toMatch(/v0.2 format/);
    writeFileSync(path.join(m, 'extra.py'), 'x');
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('MODEL_MISMATCH');
    expect((await verifyModel(m, { trust: { publicKey: k.pub }, ignoreUnsignedFiles: true })).unsignedFiles).toEqual(['extra.py']);
    writeFileSync(path.join(m, 'signme-2'), 'TWO');
    const e = await verifyModel(m, { trust: { publicKey: k.pub }, ignoreUnsignedFiles: true }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['signme-2']);
    // a v0.2 statement naming a file twice is refused
    await signStatement(keySigner(k.priv), { ...legacy, subject: [legacy.subject[0], legacy.subject[0]] }, path.join(m, 'model.sig'));
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('DUPLICATE_RESOURCE');
  });

  it('recorded ignore paths are the truth: sign --no-ignore-git-paths then verify passes; older signatures get the .git defaults', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a', '.git/HEAD': 'ref', '.gitattributes': '*' });
    await signModel(m, { signer: keySigner(k.priv), hash: { ignoreGitPaths: false } });
    const r = await verifyModel(m, { trust: { publicKey: k.pub } });
    expect(r.manifest.resources.map((x) => x.name)).toEqual(['.git/HEAD', '.gitattributes', 'a.bin']);
    // an older signature records no ignore paths: .git* is left out, unless the caller says otherwise
    const st = statementOf(path.join(m, 'model.sig'));
    delete st.predicate.serialization.ignore_paths;
    const only = (await hashModel(m)).resources;
    st.predicate.resources = only.map((x) => ({ name: x.name, algorithm: x.algorithm, digest: x.digest }));
    st.subject[0].digest.sha256 = (await hashModel(m)).rootDigest;
    await signStatement(keySigner(k.priv), st, path.join(m, 'model.sig'));
    expect((await verifyModel(m, { trust: { publicKey: k.pub } })).manifest.resources.map((x) => x.name)).toEqual(['a.bin']);
    const e = await verifyModel(m, { trust: { publicKey: k.pub }, ignoreGitPaths: false }).catch((x) => x);
    expect(e.differences.extra.sort()).toEqual(['.git/HEAD', '.gitattributes']);
  });
});

describe('fail-opens (hardening 2-4)', () => {
  it('shards + ignoreUnsignedFiles: bytes appended to a signed file at a shard boundary fail', async () => {
    const k = keys();
    const m = model({ 'model.pt': bytes(2000), 'a.txt': 'a' });
    await signModel(m, { signer: keySigner(k.priv), hash: { method: 'shards', shardSize: 1000 } });
    writeFileSync(path.join(m, 'model.pt'), Buffer.concat([bytes(2000), Buffer.from('PK\x03\x04 appended archive')]));
    const e = await verifyModel(m, { trust: { publicKey: k.pub }, ignoreUnsignedFiles: true }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.extra).toEqual(['model.pt:2000:2021']);
    // an unsigned file is still allowed, and named
    writeFileSync(path.join(m, 'model.pt'), bytes(2000));
    writeFileSync(path.join(m, 'notes.md'), 'n');
    expect((await verifyModel(m, { trust: { publicKey: k.pub }, ignoreUnsignedFiles: true })).unsignedFiles).toEqual(['notes.md']);
  });

  it('a signed empty manifest is refused, even with ignoreUnsignedFiles; signing an empty model is refused', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a' });
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'model', digest: { sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' } }], predicateType: 'https://model_signing/signature/v1.0', predicate: { serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: [] }, resources: [] } };
    await signStatement(keySigner(k.priv), st, path.join(m, 'model.sig'));
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub }, ignoreUnsignedFiles: true }))).toBe('EMPTY_MANIFEST');
    expect(await codeOf(signModel(model({ '.gitignore': 'x' }), { signer: keySigner(k.priv) }))).toBe('EMPTY_MODEL');
    expect(await codeOf(signModel(model({ e: '' }), { signer: keySigner(k.priv), hash: { method: 'shards' } }))).toBe('EMPTY_MODEL');
  });

  it('a detached signature: its name is not ignored inside the model', async () => {
    const k = keys();
    const root = tempDir();
    const m = writeTree(path.join(root, 'model'), { 'a.bin': 'a', 'release.sig': 'a model file that happens to be named release.sig' });
    const sig = path.join(root, 'sigs/release.sig');
    mkdirSync(path.dirname(sig));
    await signModel(m, { signer: keySigner(k.priv), signaturePath: sig });
    const r = await verifyModel(m, { trust: { publicKey: k.pub }, signaturePath: sig });
    expect(r.manifest.resources.map((x) => x.name)).toEqual(['a.bin', 'release.sig']);
    // and an unsigned file named like the signature, added to the model, is an extra file
    const m2 = writeTree(path.join(root, 'model2'), { 'a.bin': 'a' });
    const sig2 = path.join(root, 'sigs/other.sig');
    await signModel(m2, { signer: keySigner(k.priv), signaturePath: sig2 });
    writeFileSync(path.join(m2, 'other.sig'), 'planted');
    const e = await verifyModel(m2, { trust: { publicKey: k.pub }, signaturePath: sig2 }).catch((x) => x);
    expect(e.differences.extra).toEqual(['other.sig']);
  });
});

describe('approvals (hardening 5-8)', () => {
  function policyDir(extraApprovers = '') {
    const d = tempDir();
    const m = writeTree(path.join(d, 'model'), { 'docs.txt': 'print("hello")', 'weights.bin': bytes(100) });
    const names = ['release', 'alice', 'bob'];
    const k = Object.fromEntries(names.map((n) => {
      const kp = generateKeyPair('ecdsa-p256');
      writeFileSync(path.join(d, `${n}.pub`), kp.publicPem);
      writeFileSync(path.join(d, `${n}.key`), kp.privatePem);
      return [n, createPrivateKey(kp.privatePem)];
    }));
    writeFileSync(path.join(d, 'policy.yml'), `version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 2\n    approvers:\n      - key: alice.pub\n      - key: bob.pub\n${extraApprovers}`);
    return { d, m, k };
  }
  const approve = (m: string, s: Signer, extra: Partial<Parameters<typeof buildApproval>[0]> = {}) =>
    attestModel(m, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production', ...extra }), { signer: s, label: 'approval-production' });
  const rule = (r: PolicyReport) => r.rules.find((x) => x.rule === 'approvals.production')!;

  it('one key counts once: a bare key and a certificate for the same key are one approver', async () => {
    const { d, m, k } = policyDir('      - certificateChain: ca.pem\n');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(d, 'ca.key'), '-out', path.join(d, 'ca.pem'), '-days', '2', '-subj', '/CN=test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-new', '-key', path.join(d, 'alice.key'), '-subj', '/CN=alice', '-out', path.join(d, 'alice.csr')], { stdio: 'ignore' });
    writeFileSync(path.join(d, 'ext.cnf'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
    execFileSync('openssl', ['x509', '-req', '-in', path.join(d, 'alice.csr'), '-CA', path.join(d, 'ca.pem'), '-CAkey', path.join(d, 'ca.key'), '-CAcreateserial', '-days', '1', '-extfile', path.join(d, 'ext.cnf'), '-out', path.join(d, 'alice.crt')], { stdio: 'ignore' });
    await signModel(m, { signer: keySigner(k.release!) });
    await approve(m, keySigner(k.alice!));
    const { X509Certificate } = await import('node:crypto');
    await approve(m, keySigner(k.alice!, [new X509Certificate(readFileSync(path.join(d, 'alice.crt')))]));
    const r = await evaluatePolicy(m, loadPolicy(path.join(d, 'policy.yml')), { stage: 'production' });
    expect(rule(r).ok).toBe(false);
    expect(rule(r).detail).toMatch(/^1 of 2/);
    expect(rule(r).items!.some((i) => /superseded|one entry counts once/.test(i.why))).toBe(true);
    await approve(m, keySigner(k.bob!));
    expect(rule(await evaluatePolicy(m, loadPolicy(path.join(d, 'policy.yml')), { stage: 'production' })).ok).toBe(true);
  });

  it('approvals bind file names: renaming a file (same root digest) voids them; older digest-only approvals count with a note', async () => {
    const { d, m, k } = policyDir();
    await signModel(m, { signer: keySigner(k.release!) });
    await approve(m, keySigner(k.alice!));
    await approve(m, keySigner(k.bob!));
    const policy = loadPolicy(path.join(d, 'policy.yml'));
    expect((await evaluatePolicy(m, policy, { stage: 'production' })).ok).toBe(true);
    const before = (await hashModel(m)).rootDigest;
    renameSync(path.join(m, 'docs.txt'), path.join(m, 'modeling.py'));
    await signModel(m, { signer: keySigner(k.release!) });
    expect((await hashModel(m)).rootDigest).toBe(before); // the OMS root digest does not bind names
    const r = await evaluatePolicy(m, policy, { stage: 'production' });
    expect(rule(r).ok).toBe(false);
    expect(rule(r).items!.every((i) => /renamed, moved or re-serialized/.test(i.why))).toBe(true);
    // an attestation made by an older modelseal (root digest only) still counts, with a note
    const old = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'model', digest: { sha256: before } }], predicateType: APPROVAL_PREDICATE_V1, predicate: buildApproval({ stage: 'production' }) };
    for (const who of ['alice', 'bob'] as const) await signStatement(keySigner(k[who]!), old, path.join(`${m}.attestations`, `old-${who}.sigstore.json`));
    const r2 = await evaluatePolicy(m, policy, { stage: 'production' });
    expect(rule(r2).ok).toBe(true);
    expect(rule(r2).items!.filter((i) => i.counted).every((i) => /binds digests only/.test(i.why))).toBe(true);
  });

  it('a rejection does not expire, and the approver\'s later approval supersedes it', async () => {
    const { d, m, k } = policyDir();
    await signModel(m, { signer: keySigner(k.release!) });
    const policy = loadPolicy(path.join(d, 'policy.yml'));
    await approve(m, keySigner(k.bob!));
    await approve(m, keySigner(k.alice!), { decision: 'rejected', reason: 'bias', now: new Date(Date.now() - 3 * 86_400_000), expiresInMs: 86_400_000 });
    const r = await evaluatePolicy(m, policy, { stage: 'production' });
    expect(rule(r)).toMatchObject({ ok: false, detail: expect.stringMatching(/rejected by an authorised approver.*bias/) });
    await approve(m, keySigner(k.alice!));
    const r2 = await evaluatePolicy(m, policy, { stage: 'production' });
    expect(rule(r2).ok).toBe(true);
    expect(rule(r2).items!.some((i) => /rejected, superseded by a later decision/.test(i.why))).toBe(true);
  });

  it('a JSON policy with a duplicate key is refused, like YAML', () => {
    const { d } = policyDir();
    writeFileSync(path.join(d, 'p.json'), '{"version": 1, "signers": [{"key": "alice.pub"}], "signers": [{"key": "release.pub"}]}');
    expect(() => loadPolicy(path.join(d, 'p.json'))).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });

  it('approve refuses a model that no longer matches its signature, unless forced; a planted shard_size: 1 is bounded', async () => {
    const { m, k } = policyDir();
    await signModel(m, { signer: keySigner(k.release!) });
    writeFileSync(path.join(m, 'weights.bin'), 'changed');
    expect(await codeOf(approve(m, keySigner(k.alice!)))).toBe('MODEL_MISMATCH');
    const forced = await attestModel(m, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: keySigner(k.alice!), label: 'a', force: true });
    expect(forced.warnings[0]).toMatch(/--force/);
    // a planted, unverified model.sig claiming 1-byte shards over a big file: refused before any allocation
    const big = model({ 'w.bin': '' });
    truncateSync(path.join(big, 'w.bin'), LIMITS.resources + 10);
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'model', digest: { sha256: '0'.repeat(64) } }], predicateType: 'https://model_signing/signature/v1.0', predicate: { serialization: { method: 'shards', hash_type: 'sha256', allow_symlinks: false, shard_size: 1 }, resources: [] } };
    writeFileSync(path.join(big, 'model.sig'), JSON.stringify(await keySigner(k.bob!).createBundle(Buffer.from(JSON.stringify(st)), IN_TOTO_PAYLOAD_TYPE)));
    expect(await codeOf(approve(big, keySigner(k.alice!)))).toBe('ROOT_DIGEST_MISMATCH');
    st.subject[0]!.digest.sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    writeFileSync(path.join(big, 'model.sig'), JSON.stringify(await keySigner(k.bob!).createBundle(Buffer.from(JSON.stringify(st)), IN_TOTO_PAYLOAD_TYPE)));
    expect(await codeOf(approve(big, keySigner(k.alice!)))).toBe('EMPTY_MANIFEST');
    expect(await codeOf(hashModel(big, { method: 'shards', shardSize: 1 }))).toBe('TOO_MANY_RESOURCES');
  });

  it('a planted model.sig listing a huge ignore_paths is refused before any file is matched against it', async () => {
    const { m, k } = policyDir();
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'model', digest: { sha256: '0'.repeat(64) } }], predicateType: 'https://model_signing/signature/v1.0', predicate: { serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: Array.from({ length: LIMITS.ignorePaths + 1 }, (_, i) => `p${i}`) }, resources: [] } };
    writeFileSync(path.join(m, 'model.sig'), JSON.stringify(await keySigner(k.bob!).createBundle(Buffer.from(JSON.stringify(st)), IN_TOTO_PAYLOAD_TYPE)));
    expect(await codeOf(approve(m, keySigner(k.alice!)))).toBe('TOO_MANY_IGNORE_PATHS');
    expect(await codeOf(hashModel(m, { ignorePaths: Array.from({ length: LIMITS.ignorePaths }, (_, i) => `q${i}`) }))).toBe('TOO_MANY_IGNORE_PATHS');
  });

  it('approving an unsigned model warns', async () => {
    const { m, k } = policyDir();
    expect((await approve(m, keySigner(k.alice!))).warnings[0]).toMatch(/is not signed/);
  });

  it('an approval made over another hashing configuration says so, not "the model changed"', async () => {
    const { d, m, k } = policyDir();
    // approved while unsigned, with shards; later signed with files
    await attestModel(m, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: keySigner(k.alice!), label: 'a', hash: { method: 'shards', shardSize: 64 } });
    await signModel(m, { signer: keySigner(k.release!) });
    const r = await evaluatePolicy(m, loadPolicy(path.join(d, 'policy.yml')), { stage: 'production' });
    expect(rule(r).items![0]!.why).toMatch(/hashed as shards\/sha256\/64, but the signature records files\/sha256/);
  });
});

describe('crashes, hangs and memory (hardening 9-12)', () => {
  it('a signature that is a FIFO, a device, or a folder is refused at once', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a' });
    execFileSync('mkfifo', [path.join(m, 'model.sig')]);
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('NOT_A_FILE');
    const m2 = model({ 'a.bin': 'a' });
    symlinkSync('/dev/zero', path.join(m2, 'model.sig'));
    expect(await codeOf(verifyModel(m2, { trust: { publicKey: k.pub } }))).toBe('NOT_A_FILE');
    const m3 = model({ 'a.bin': 'a', 'model.sig/x': 'x' });
    expect(await codeOf(verifyModel(m3, { trust: { publicKey: k.pub } }))).toBe('NOT_A_FILE');
    const d = tempDir();
    execFileSync('mkfifo', [path.join(d, 'policy.yml'), path.join(d, 'k.pub')]);
    expect(() => loadPolicy(path.join(d, 'policy.yml'))).toThrow(expect.objectContaining({ code: 'NOT_A_FILE' }));
    expect(() => loadPublicKey(path.join(d, 'k.pub'))).toThrow(expect.objectContaining({ code: 'NOT_A_FILE' }));
  });

  it('dangling and looping symlinks in the attestations folder are reported, not thrown', () => {
    const d = tempDir();
    symlinkSync(path.join(d, 'nowhere'), path.join(d, 'a.sigstore.json'));
    symlinkSync(path.join(d, 'b.sigstore.json'), path.join(d, 'b.sigstore.json'));
    writeFileSync(path.join(d, 'c.sigstore.json'), '{}');
    const rows = readAttestations(d);
    expect(rows.map((r) => ('error' in r ? 'error' : 'ok'))).toEqual(['error', 'error', 'ok']);
  });

  it('deeply nested JSON is refused before parsing', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a' });
    writeFileSync(path.join(m, 'model.sig'), '['.repeat(100_000) + ']'.repeat(100_000));
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('JSON_TOO_DEEP');
    // nesting inside a signed payload too
    const deep = { _type: 'https://in-toto.io/Statement/v1', x: JSON.parse('['.repeat(200) + ']'.repeat(200)) };
    await signStatement(keySigner(k.priv), deep, path.join(m, 'model.sig'));
    expect(await codeOf(verifyModel(m, { trust: { publicKey: k.pub } }))).toBe('JSON_TOO_DEEP');
  });

  it('a signature too large for verifiers is refused before anything is written', () => {
    const huge = { mediaType: 'x', verificationMaterial: {}, dsseEnvelope: { payload: 'A'.repeat(LIMITS.bundleBytes), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [] } };
    expect(() => bundleText(huge as never)).toThrow(expect.objectContaining({ code: 'BUNDLE_TOO_LARGE' }));
  });
});

describe('correctness and disclosure (hardening 14-17)', () => {
  it('a single file signed with shards verifies (resources named .:start:end)', async () => {
    const k = keys();
    const f = path.join(tempDir(), 'model.safetensors');
    writeFileSync(f, bytes(2500));
    const s = await signModel(f, { signer: keySigner(k.priv), hash: { method: 'shards', shardSize: 1000 } });
    expect(s.manifest.resources.map((r) => r.name)).toEqual(['.:0:1000', '.:1000:2000', '.:2000:2500']);
    await expect(verifyModel(f, { trust: { publicKey: k.pub } })).resolves.toMatchObject({ rootDigest: s.manifest.rootDigest });
  });

  it('paths the signer ignored are reported as not covered', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a', 'weights/x.bin': 'x' });
    await signModel(m, { signer: keySigner(k.priv), hash: { ignorePaths: ['weights'] } });
    const r = await verifyModel(m, { trust: { publicKey: k.pub } });
    expect(r.notCovered).toEqual(['weights']);
    expect(r.warnings.join('\n')).toMatch(/not covered by the signature \(ignored\): weights/);
  });

  it('file names with control characters are escaped in messages', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a' });
    await signModel(m, { signer: keySigner(k.priv) });
    writeFileSync(path.join(m, 'evil\x1b[2J\rverified OK\n.bin'), 'x');
    const e = await verifyModel(m, { trust: { publicKey: k.pub } }).catch((x) => x);
    expect(e.message).toContain('evil\\x1b[2J\\x0dverified OK\\x0a.bin');
    // eslint-disable-next-line no-control-regex
    expect(e.message).not.toMatch(/[\x00-\x1f]/);
    expect(e.differences.extra).toEqual(['evil\x1b[2J\rverified OK\n.bin']); // data stays exact
  });

  it('unsigned extra files are named without being read', async () => {
    const k = keys();
    const m = model({ 'a.bin': 'a' });
    await signModel(m, { signer: keySigner(k.priv) });
    // 64 GiB of holes: reading it would take minutes and fail this test by timeout
    writeFileSync(path.join(m, 'huge.bin'), '');
    truncateSync(path.join(m, 'huge.bin'), 64 * 2 ** 30);
    const e = await verifyModel(m, { trust: { publicKey: k.pub } }).catch((x) => x);
    expect(e.differences.extra).toEqual(['huge.bin']);
    const d = await hashModelDetailed(m, { onlyPaths: new Set(['a.bin']) });
    expect(d).toMatchObject({ unhashed: ['huge.bin'], bytesHashed: 1 });
  });
});

describe('errors that say what to do next', () => {
  it('key mix-ups, a signature given as the model, a file inside a signed folder, a missing model, a malformed trust', async () => {
    const k = keys();
    const d = tempDir();
    writeFileSync(path.join(d, 'k.key'), k.pem.privatePem);
    writeFileSync(path.join(d, 'k.pub'), k.pem.publicPem);
    expect(() => loadPublicKey(path.join(d, 'k.key'))).toThrow(expect.objectContaining({ code: 'PRIVATE_KEY_GIVEN' }));
    expect(() => loadPrivateKey(path.join(d, 'k.pub'))).toThrow(expect.objectContaining({ code: 'PUBLIC_KEY_GIVEN' }));
    const m = model({ 'a.bin': 'a' });
    await signModel(m, { signer: keySigner(k.priv) });
    expect(await codeOf(verifyModel(path.join(m, 'model.sig'), { trust: { publicKey: k.pub } }))).toBe('MODEL_IS_SIGNATURE');
    expect(await codeOf(verifyModel(path.join(m, 'a.bin'), { trust: { publicKey: k.pub } }))).toBe('MODEL_INSIDE_SIGNED_FOLDER');
    expect(await codeOf(verifyModel(path.join(m, 'nope'), { trust: { publicKey: k.pub } }))).toBe('MODEL_NOT_FOUND');
    expect(await codeOf(verifyModel(m, undefined as never))).toBe('MISSING_TRUST');
    expect(await codeOf(verifyModel(m, { trust: {} as never }))).toBe('BAD_TRUST');
    expect(await codeOf(verifyModel(m, { trust: { publicKey: 'not a key' } as never }))).toBe('BAD_TRUST');
    expect(await codeOf(verifyModel(m, { trust: { sigstore: {} } as never }))).toBe('BAD_TRUST');
    expect(parseBundle(readFileSync(path.join(m, 'model.sig'))).material.kind).toBe('publicKey');
  });
});
