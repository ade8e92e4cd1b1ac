/**
 * Adversarial corpus: release policies and attestations. Replayed approvals,
 * wrong stages, unlisted signers, one approver counted twice, expiry,
 * rejections, planted symlinks and oversized files in the attestations
 * folder, and policies that list a key twice. A failed rule is exit 1 /
 * POLICY_FAILED naming the rule and why; a bad folder or policy is exit 2.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { APPROVAL_PREDICATE_V1, attestModel, buildApproval, evaluatePolicy, LIMITS, loadPolicy, signModel } from '@modelseal/core/internals';
import { both, bytes, makeKeys, policyBoth, tmp, writeTree, type Keys, type PolicyCheck } from './harness.js';

const DAY = 86_400_000;
let d: string;
let model: string;
let otherModel: string;
let release: Keys, alice: Keys, bob: Keys, mallory: Keys;
let two: string; // production: 2 of alice, bob
let one: string; // production: 1 of alice, maxAge 1d

beforeAll(async () => {
  d = tmp();
  [release, alice, bob, mallory] = (['release', 'alice', 'bob', 'mallory'] as const).map((n) => makeKeys(d, n, n === 'bob' ? 'ecdsa-p256' : 'ed25519')) as [Keys, Keys, Keys, Keys];
  model = writeTree(path.join(d, 'model'), { 'weights.bin': bytes(500), 'config.json': '{}' });
  otherModel = writeTree(path.join(d, 'other'), { 'weights.bin': bytes(500, 2), 'config.json': '{}' });
  await signModel(model, { signer: release.signer });
  await signModel(otherModel, { signer: release.signer });
  two = path.join(d, 'two.yml');
  writeFileSync(two, 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 2\n    approvers:\n      - key: alice.pub\n      - key: bob.pub\n  staging:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n');
  one = path.join(d, 'one.yml');
  writeFileSync(one, 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 1\n    maxAge: 1d\n    approvers:\n      - key: alice.pub\n');
});

let n = 0;
/** A fresh attestations folder. */
const folder = () => {
  const f = path.join(d, `att-${++n}`);
  mkdirSync(f);
  return f;
};
/** A real approval (or rejection) of `m`, written into `dir`. */
async function approve(who: Keys, dir: string, o: { stage?: string; m?: string; decision?: 'approved' | 'rejected'; ageMs?: number; expiresInMs?: number; reason?: string } = {}) {
  const pred = buildApproval({
    stage: o.stage ?? 'production',
    decision: o.decision ?? 'approved',
    now: new Date(Date.now() - (o.ageMs ?? 0)),
    ...(o.expiresInMs ? { expiresInMs: o.expiresInMs } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  });
  return (await attestModel(o.m ?? model, APPROVAL_PREDICATE_V1, pred, { signer: who.signer, label: `approval-${who.name}`, dir })).file;
}

function policyCase(c: Omit<PolicyCheck, 'category' | 'model'> & { stage?: string }): Promise<void> {
  const full: PolicyCheck = { category: 'policy and attestations', model, ...c };
  return policyBoth(full, async () => evaluatePolicy(model, loadPolicy(c.policy), { ...(c.attestationsDir ? { attestationsDir: c.attestationsDir } : {}), ...(c.stage ? { stage: c.stage } : {}) }));
}

describe('approvals', () => {
  it('baseline: two distinct approvers pass 2-of-2', async () => {
    const f = folder();
    await approve(alice, f);
    await approve(bob, f);
    await policyCase({ name: 'alice and bob approve production (2 of 2)', policy: two, attestationsDir: f, stage: 'production', ok: true, rule: 'approvals.production', why: /2 of 2 required distinct approvals/ });
  });

  it('replayed approvals from another model, approvals for another stage, unlisted signers, one approver twice', async () => {
    const replay = folder();
    const elsewhere = folder();
    for (const who of [alice, bob]) {
      const f = await approve(who, elsewhere, { m: otherModel });
      copyFileSync(f, path.join(replay, path.basename(f)));
    }
    const stage = folder();
    await approve(alice, stage, { stage: 'staging' });
    await approve(bob, stage, { stage: 'staging' });
    const unlisted = folder();
    await approve(alice, unlisted);
    await approve(mallory, unlisted);
    const twice = folder();
    await approve(alice, twice, { ageMs: 60_000 });
    await approve(alice, twice);
    const future = folder();
    await approve(alice, future);
    await approve(bob, future, { ageMs: -2 * DAY });
    await Promise.all([
      policyCase({ name: 'approvals replayed from another model', policy: two, attestationsDir: replay, stage: 'production', ok: false, rule: 'approvals.production', why: /0 of 2[\s\S]*for another model digest/ }),
      policyCase({ name: 'approvals for stage staging, policy asks production', policy: two, attestationsDir: stage, stage: 'production', ok: false, rule: 'approvals.production', why: /0 of 2[\s\S]*for stage staging, not production/ }),
      policyCase({ name: 'second approval by an unlisted signer', policy: two, attestationsDir: unlisted, stage: 'production', ok: false, rule: 'approvals.production', why: /1 of 2[\s\S]*not signed by an approver for production/ }),
      policyCase({ name: 'one key approves twice (2-of-2)', policy: two, attestationsDir: twice, stage: 'production', ok: false, rule: 'approvals.production', why: /1 of 2[\s\S]*superseded by a later decision/ }),
      policyCase({ name: 'approval dated two days in the future', policy: two, attestationsDir: future, stage: 'production', ok: false, rule: 'approvals.production', why: /1 of 2[\s\S]*is in the future/ }),
    ]);
  });

  it('expiry, maxAge, and the latest decision of each approver', async () => {
    const expired = folder();
    await approve(alice, expired, { ageMs: 2 * 3_600_000, expiresInMs: 3_600_000 });
    const old = folder();
    await approve(alice, old, { ageMs: 2 * DAY });
    const rejectThenApprove = folder();
    await approve(alice, rejectThenApprove, { decision: 'rejected', reason: 'bias', ageMs: 3_600_000 });
    await approve(alice, rejectThenApprove);
    const approveThenReject = folder();
    await approve(alice, approveThenReject, { ageMs: 3_600_000 });
    await approve(alice, approveThenReject, { decision: 'rejected', reason: 'leaks PII' });
    const expiredRejection = folder();
    await approve(alice, expiredRejection, { ageMs: 3_600_000 });
    await approve(alice, expiredRejection, { decision: 'rejected', reason: 'stale', ageMs: 600_000, expiresInMs: 60_000 });
    await Promise.all([
      policyCase({ name: 'approval expired (expiresAt in the past)', policy: one, attestationsDir: expired, ok: false, rule: 'approvals.production', why: /0 of 1[\s\S]*expired at/ }),
      policyCase({ name: 'approval older than the policy maxAge (1d)', policy: one, attestationsDir: old, ok: false, rule: 'approvals.production', why: /0 of 1[\s\S]*older than maxAge 1d/ }),
      policyCase({ name: 'rejection, then a later approval by the same key: approved', policy: one, attestationsDir: rejectThenApprove, ok: true, rule: 'approvals.production', why: /1 of 1[\s\S]*rejected, superseded by a later decision/ }),
      policyCase({ name: 'approval, then a later rejection by the same key: rejected', policy: one, attestationsDir: approveThenReject, ok: false, rule: 'approvals.production', why: /rejected by an authorised approver[\s\S]*leaks PII/ }),
      policyCase({ name: 'a later rejection that has "expired" still stands', policy: one, attestationsDir: expiredRejection, ok: false, rule: 'approvals.production', why: /rejected by an authorised approver[\s\S]*stale/ }),
    ]);
  });
});

describe('approvals across a re-signing', () => {
  it('approvals of the files-method signature do not carry over when the same bytes are re-signed as shards', async () => {
    const m = writeTree(path.join(d, 'resigned'), { 'weights.bin': bytes(500), 'config.json': '{}' });
    await signModel(m, { signer: release.signer });
    const f = folder();
    await approve(alice, f, { m });
    await signModel(m, { signer: release.signer, hash: { method: 'shards', shardSize: 100 } });
    await policyBoth(
      { category: 'policy and attestations', name: 'approval made before the model was re-signed with another serialization', model: m, policy: one, attestationsDir: f, ok: false, rule: 'approvals.production', why: /0 of 1[\s\S]*hashed as files\/sha256, but the signature records shards\/sha256\/100/ },
      () => evaluatePolicy(m, loadPolicy(one), { attestationsDir: f }),
    );
  });
});

describe('the attestations folder', () => {
  it('symlinked, dangling, looping and oversized attestation files are listed as unreadable, never followed or read', async () => {
    const link = folder();
    const real = await approve(alice, folder());
    symlinkSync(real, path.join(link, path.basename(real)));
    const odd = folder();
    symlinkSync('nowhere.sigstore.json', path.join(odd, 'dangling.sigstore.json'));
    symlinkSync('loop.sigstore.json', path.join(odd, 'loop.sigstore.json'));
    mkdirSync(path.join(odd, 'dir.sigstore.json'));
    execFileSync('mkfifo', [path.join(odd, 'fifo.sigstore.json')]);
    const big = folder();
    const huge = path.join(big, 'huge.sigstore.json');
    writeFileSync(huge, '');
    truncateSync(huge, LIMITS.bundleBytes + 1); // sparse: costs no disk, and must cost no memory
    await Promise.all([
      policyCase({ name: 'attestation file is a symlink to a valid approval', policy: one, attestationsDir: link, ok: false, rule: 'approvals.production', why: /symbolic link, not a regular file \(not followed\)/ }),
      policyCase({ name: 'dangling and looping symlinks, a folder and a FIFO named *.sigstore.json', policy: one, attestationsDir: odd, ok: false, rule: 'approvals.production', why: /a symbolic link, not a regular file \(not followed\) {2}\[dangling[\s\S]*a folder, not a regular file \(not followed\) {2}\[dir[\s\S]*a FIFO, not a regular file \(not followed\) {2}\[fifo[\s\S]*a symbolic link, not a regular file \(not followed\) {2}\[loop/ }),
      policyCase({ name: 'attestation file of 128 MiB + 1 (sparse)', policy: one, attestationsDir: big, ok: false, rule: 'approvals.production', why: /over the 134217728-byte limit \[BUNDLE_TOO_LARGE\]/ }),
    ]);
  });

  it('too many attestation files, or files adding up to more than the folder budget, are refused as a whole (exit 2)', async () => {
    const f = folder();
    for (const name of ['a', 'b', 'c']) {
      const p = path.join(f, `${name}.sigstore.json`);
      writeFileSync(p, '');
      truncateSync(p, 100 << 20);
    }
    const many = folder();
    for (let i = 0; i <= LIMITS.attestationFiles; i++) writeFileSync(path.join(many, `${i}.sigstore.json`), '');
    await both({
      category: 'policy and attestations',
      name: `${LIMITS.attestationFiles + 1} attestation files`,
      lib: () => evaluatePolicy(model, loadPolicy(one), { attestationsDir: many }),
      cli: ['verify', model, '--policy', one, '--attestations', many],
      exit: 2,
      code: 'ATTESTATIONS_TOO_MANY',
    });
    await both({
      category: 'policy and attestations',
      name: 'three 100 MiB attestation files (folder budget 256 MiB)',
      lib: () => evaluatePolicy(model, loadPolicy(one), { attestationsDir: f }),
      cli: ['verify', model, '--policy', one, '--attestations', f],
      exit: 2,
      code: 'ATTESTATIONS_TOO_LARGE',
    });
  });
});

describe('policy files', () => {
  const policyLoad = (name: string, file: string, text: string, e: { exit: 0 | 1 | 2; code: string; finding?: string }) => {
    writeFileSync(file, text);
    return both({
      category: 'policy and attestations',
      name,
      lib: () => loadPolicy(file),
      cli: ['verify', model, '--policy', file, '--attestations', folder()],
      ...e,
    });
  };

  it('a duplicate key in a JSON or YAML policy is refused', async () => {
    await Promise.all([
      policyLoad('JSON policy with a duplicate "signers" key', path.join(d, 'dup.json'), '{"version": 1, "signers": [{"key": "alice.pub"}], "signers": [{"key": "release.pub"}]}', { exit: 2, code: 'POLICY_INVALID' }),
      policyLoad('YAML policy with a duplicate "signers" key', path.join(d, 'dup.yml'), 'version: 1\nsigners:\n  - key: alice.pub\nsigners:\n  - key: release.pub\n', { exit: 2, code: 'POLICY_INVALID' }),
      policyLoad('YAML policy with a duplicate stage', path.join(d, 'dup-stage.yml'), 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 1\n    approvers:\n      - key: mallory.pub\n  production:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n', { exit: 2, code: 'POLICY_INVALID' }),
    ]);
  });

  // Found by this corpus, fixed: a 2-of-2 over one key could never be met and the author was not told.
  it('the same approver key listed twice (same file, or a copy under another name) is a policy error', async () => {
    copyFileSync(alice.pubFile, path.join(d, 'alice-copy.pub'));
    await Promise.all([
      policyLoad('approver key listed twice (same file)', path.join(d, 'same-key.yml'), 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 2\n    approvers:\n      - key: alice.pub\n      - key: alice.pub\n', { exit: 2, code: 'POLICY_INVALID' }),
      policyLoad('approver key listed twice (a copy under another file name)', path.join(d, 'same-key-copy.yml'), 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 2\n    approvers:\n      - key: alice.pub\n      - key: alice-copy.pub\n', { exit: 2, code: 'POLICY_INVALID' }),
    ]);
  });
});
