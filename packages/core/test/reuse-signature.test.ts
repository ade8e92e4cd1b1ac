import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  hashModel,
  keySigner,
  reuseSource,
  signModelIncremental,
  verifyModel,
  walkModel,
  type HashOptions,
  type Manifest,
} from '@modelseal/core/internals';
import { bytes, codeOf, tempDir, writeTree } from './helpers.js';

const key = createPrivateKey(generateKeyPair('ed25519').privatePem);
const signer = keySigner(key);
const trust = { publicKey: createPublicKey(key) };
const FILES = { 'w1.bin': bytes(300_000, 1), 'w2.bin': bytes(200_000, 2), 'sub/w3.bin': bytes(100_000, 3), 'config.json': '{"a":1}', 'empty': '' };

/** Models written, then aged past the racy margin (2 s) once for the whole file: files changed later are what the tests change. */
const models: string[] = [];
beforeAll(async () => {
  for (let i = 0; i < 6; i++) models.push(writeTree(path.join(tempDir(), `m${i}`), FILES));
  await new Promise((r) => setTimeout(r, 2100));
});

/** Overwrites bytes in place and gives the file its old mtime back: only ctime tells. */
function sneakyEdit(file: string, at = 10): void {
  const before = statSync(file, { bigint: true });
  const ref = path.join(tempDir(), 'ref');
  writeFileSync(ref, '');
  // GNU touch copies times to the nanosecond (utimensat); Node's utimes rounds them
  expect(spawnSync('touch', ['-r', file, ref]).status).toBe(0);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from('XYZ'), 0, 3, at);
  closeSync(fd);
  expect(spawnSync('touch', ['-r', ref, file]).status).toBe(0);
  const after = statSync(file, { bigint: true });
  expect(after.mtimeNs).toBe(before.mtimeNs);
  expect(after.size).toBe(before.size);
  expect(after.ino).toBe(before.ino);
}

async function sign(dir: string, stateDir: string, hash: HashOptions = {}, reuseFrom?: string) {
  return signModelIncremental(dir, { signer, hash, stateDir, ...(reuseFrom ? { reuse: { signaturePath: reuseFrom, trust } } : {}) });
}

describe('incremental re-signing', () => {
  it('re-hashes only the changed file (mtime restored: ctime catches it) and equals a full re-hash', async () => {
    const dir = models[0]!;
    const state = tempDir();
    const first = await sign(dir, state);
    expect(first.stateFile).toBeDefined();
    expect(statSync(first.stateFile!).mode & 0o777).toBe(0o600);
    const same = await sign(dir, state, {}, first.signaturePath);
    expect(same.reuse).toEqual({ reusedFiles: 5 });
    expect(same.manifest).toEqual(first.manifest);

    sneakyEdit(path.join(dir, 'w2.bin'));
    const again = await sign(dir, state, {}, same.signaturePath);
    expect(again.reuse).toEqual({ reusedFiles: 4 });
    expect(again.manifest).toEqual(await hashModel(dir));
    expect(again.manifest.rootDigest).not.toBe(first.manifest.rootDigest);
    await verifyModel(dir, { trust });
  });

  it('shards: the same, and a changed serialization reuses nothing', async () => {
    const dir = models[1]!;
    const state = tempDir();
    const opts: HashOptions = { method: 'shards', shardSize: 65536 };
    const first = await sign(dir, state, opts);
    sneakyEdit(path.join(dir, 'w1.bin'), 200_000);
    const again = await sign(dir, state, opts, first.signaturePath);
    expect(again.reuse!.reusedFiles).toBe(4); // w2, w3, config, and empty (no shard, nothing to read)
    expect(again.manifest).toEqual(await hashModel(dir, opts));
    const other = await sign(dir, state, { method: 'shards', shardSize: 4096 }, again.signaturePath);
    expect(other.reuse!.reusedFiles).toBe(0);
    expect(other.manifest).toEqual(await hashModel(dir, { method: 'shards', shardSize: 4096 }));
  });

  it('a replaced file (new inode), a grown file and a new file are hashed; a removed one is gone', async () => {
    const dir = models[2]!;
    const state = tempDir();
    const first = await sign(dir, state);
    writeFileSync(path.join(dir, 'x.tmp'), readFileSync(path.join(dir, 'w1.bin')));
    renameSync(path.join(dir, 'x.tmp'), path.join(dir, 'w1.bin'));
    writeFileSync(path.join(dir, 'sub/w3.bin'), bytes(100_001, 3));
    writeFileSync(path.join(dir, 'new.bin'), bytes(10, 5));
    const again = await sign(dir, state, {}, first.signaturePath);
    expect(again.reuse!.reusedFiles).toBe(3); // w2, config, empty
    expect(again.manifest).toEqual(await hashModel(dir));
  });

  it('a file changed just before signing is not recorded, so it is read again next time', async () => {
    const dir = models[3]!;
    const state = tempDir();
    writeFileSync(path.join(dir, 'config.json'), '{"a":2}');
    const first = await sign(dir, state);
    const again = await sign(dir, state, {}, first.signaturePath);
    expect(again.reuse!.reusedFiles).toBe(4);
  });

  it('without a state record, or with recording off, everything is hashed and the result is the same', async () => {
    const dir = models[4]!;
    const first = await sign(dir, tempDir());
    const elsewhere = await sign(dir, tempDir(), {}, first.signaturePath);
    expect(elsewhere.reuse).toMatchObject({ reusedFiles: 0, note: expect.stringContaining('no record') });
    expect(elsewhere.manifest).toEqual(first.manifest);
    const off = await signModelIncremental(dir, { signer, reuse: { signaturePath: first.signaturePath, trust } });
    expect(off.reuse).toMatchObject({ reusedFiles: 0, note: expect.stringContaining('off') });
    expect(off.stateFile).toBeUndefined();
  });

  it('the old signature must verify with the trusted key; a corrupt state record is refused', async () => {
    const dir = models[5]!;
    const state = tempDir();
    const first = await sign(dir, state);
    const stranger = createPublicKey(createPrivateKey(generateKeyPair('ed25519').privatePem));
    expect(await codeOf(signModelIncremental(dir, { signer, stateDir: state, reuse: { signaturePath: first.signaturePath, trust: { publicKey: stranger } } }))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(signModelIncremental(dir, { signer, stateDir: state, reuse: { signaturePath: path.join(dir, 'nope.sig'), trust } }))).toBe('SIGNATURE_NOT_FOUND');
    const rec = path.join(state, readdirSync(state)[0]!);
    writeFileSync(rec, '{"format":"modelseal-sign-state","version":1,"payloadSha256":"00","files":[]}');
    expect(await codeOf(sign(dir, state, {}, first.signaturePath))).toBe('BAD_SIGN_STATE');
  });

  it('never trusts a file the old signature does not cover, even with a matching state', () => {
    const dir = models[0]!;
    const files = walkModel(dir, { ignorePaths: [], allowSymlinks: false }).files;
    const w1 = files.find((f) => f.name === 'w1.bin')!;
    const s = w1.state!;
    const recorded = new Map([['w1.bin', `${s.dev} ${s.ino} ${s.size} ${s.mtimeNs} ${s.ctimeNs}`]]);
    const serialization = { method: 'files' as const, hashType: 'sha256' as const, allowSymlinks: false, ignorePaths: [] };
    const without: Manifest = { modelName: 'm', serialization, resources: [{ name: 'config.json', algorithm: 'sha256', digest: '00'.repeat(32) }], rootDigest: '' };
    expect(reuseSource(without, recorded).lookup(w1, serialization)).toBeUndefined();
    const withIt: Manifest = { ...without, resources: [{ name: 'w1.bin', algorithm: 'sha256', digest: 'ab'.repeat(32) }] };
    expect(reuseSource(withIt, recorded).lookup(w1, serialization)).toEqual(['ab'.repeat(32)]);
    expect(reuseSource(withIt, recorded).lookup({ ...w1, state: { ...s, ctimeNs: s.ctimeNs + 1n } }, serialization)).toBeUndefined();
  });
});
