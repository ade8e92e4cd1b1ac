import { mkdirSync, openSync, readFileSync, utimesSync, writeFileSync, closeSync, writeSync, statSync, rmSync, symlinkSync, renameSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCertificates, loadPolicy, ModelMismatchError, openVerified, signModel, keySigner, type AuditEvent, type VerifiedModel } from '@modelseal/core';
import { bytes, codeOf, FIXTURES, tempDir } from './helpers.js';
import { keyPolicy, keys, signedModel } from './load-fixtures.js';

/** Reads a stream to its end; returns what was delivered and the error, if any. */
async function drain(h: VerifiedModel, name: string, chunkBytes: number): Promise<{ got: Buffer; error?: Error & { code?: string } }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of h.createReadStream(name, { chunkBytes })) chunks.push(c as Buffer);
    return { got: Buffer.concat(chunks) };
  } catch (error) {
    return { got: Buffer.concat(chunks), error: error as Error & { code?: string } };
  }
}

/** Rewrites a file in place (same inode), flipping one byte. */
function flipInPlace(file: string, at: number): void {
  const b = readFileSync(file);
  b[at]! ^= 0xff;
  const fd = openSync(file, 'r+');
  writeSync(fd, b, at, 1, at);
  closeSync(fd);
}

describe('openVerified: files manifests', () => {
  const weights = bytes(300_000, 7);
  const files = { 'config.json': '{"layers":2}', 'weights.bin': weights, 'tok/vocab.txt': 'a\nb\n' };

  it('reads signed files whole and as streams, and lists them', async () => {
    const m = await signedModel(files);
    const events: AuditEvent[] = [];
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey }, onAudit: (e) => events.push(e) });
    expect([...h.files].sort()).toEqual(['config.json', 'tok/vocab.txt', 'weights.bin']);
    expect((await h.readFile('weights.bin')).equals(weights)).toBe(true);
    expect((await drain(h, 'weights.bin', 4096)).got.equals(weights)).toBe(true);
    expect((await h.readFile('config.json')).toString()).toBe('{"layers":2}');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'modelseal.verification', operation: 'open', ok: true, model: { path: m.dir, name: 'model', digest: { sha256: h.rootDigest } }, signer: { kind: 'key', keyType: 'ed25519' } });
    expect(events[0]!.signer).toMatchObject({ publicKeySha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('refuses names the manifest does not list: the signature, unknown, traversal', async () => {
    const m = await signedModel(files);
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey } });
    for (const n of ['model.sig', 'nope.bin', '../model.sig', 'tok', '/etc/passwd']) {
      expect(() => h.createReadStream(n)).toThrow(expect.objectContaining({ code: 'NOT_IN_MANIFEST' }));
      expect(await codeOf(h.readFile(n))).toBe('NOT_IN_MANIFEST');
    }
  });

  it('a file edited in place after open is caught by readFile and by a stream, before the last chunk', async () => {
    const m = await signedModel(files);
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey } });
    await new Promise((r) => setTimeout(r, 20));
    flipInPlace(path.join(m.dir, 'weights.bin'), 299_999);
    expect(await codeOf(h.readFile('weights.bin'))).toBe('FILE_CHANGED');
    const s = await drain(h, 'weights.bin', 10_000);
    expect(s.error?.code).toBe('FILE_CHANGED');
    // every chunk but the last was delivered; the last (with the changed byte) never was
    expect(s.got.length).toBe(290_000);
  });

  it('a file swapped for another after open (rename over it) is caught; one tampered before open is a mismatch', async () => {
    const m = await signedModel(files);
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey } });
    const evil = path.join(m.dir, '..', 'evil.bin');
    writeFileSync(evil, bytes(300_000, 8));
    renameSync(evil, path.join(m.dir, 'weights.bin'));
    expect(await codeOf(h.readFile('weights.bin'))).toBe('FILE_CHANGED');

    const m2 = await signedModel(files);
    flipInPlace(path.join(m2.dir, 'weights.bin'), 5);
    const h2 = await openVerified(m2.dir, { trust: { publicKey: m2.publicKey } }); // no bytes hashed at open
    const e = await h2.readFile('weights.bin').catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['weights.bin']);
  });

  it('a file that grew or shrank after open is caught; one replaced by a symlink is not followed', async () => {
    const m = await signedModel(files);
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey } });
    writeFileSync(path.join(m.dir, 'config.json'), '{"layers":2}\n');
    expect(await codeOf(h.readFile('config.json'))).toBe('FILE_CHANGED');
    writeFileSync(path.join(m.dir, 'tok/vocab.txt'), 'a\n');
    expect(await codeOf(h.readFile('tok/vocab.txt'))).toBe('FILE_CHANGED');
    const w = path.join(m.dir, 'weights.bin');
    const copy = path.join(m.dir, '..', 'copy.bin');
    writeFileSync(copy, weights);
    rmSync(w);
    symlinkSync(copy, w);
    expect(await codeOf(h.readFile('weights.bin'))).toBe('FILE_CHANGED');
  });

  it('refuses at open, without reading bytes: an extra file, a missing file, the wrong key, a folder signature on a file', async () => {
    const m = await signedModel(files);
    writeFileSync(path.join(m.dir, 'extra.bin'), 'x');
    const e = await openVerified(m.dir, { trust: { publicKey: m.publicKey } }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences).toEqual({ changed: [], missing: [], extra: ['extra.bin'] });
    rmSync(path.join(m.dir, 'extra.bin'));
    rmSync(path.join(m.dir, 'tok/vocab.txt'));
    const e2 = await openVerified(m.dir, { trust: { publicKey: m.publicKey } }).catch((x) => x);
    expect(e2.differences.missing).toEqual(['tok/vocab.txt']);

    const m2 = await signedModel(files);
    const events: AuditEvent[] = [];
    expect(await codeOf(openVerified(m2.dir, { trust: { publicKey: keys().publicKey }, onAudit: (x) => events.push(x) }))).toBe('SIGNATURE_INVALID');
    expect(events[0]).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID', family: 'verification' } });
    expect(events[0]!.signer).toBeUndefined();
    expect(await codeOf(openVerified(path.join(m2.dir, 'weights.bin'), { trust: { publicKey: m2.publicKey }, signaturePath: path.join(m2.dir, 'model.sig') }))).toBe('MODEL_KIND_MISMATCH');
    expect(await codeOf(openVerified(m2.dir, {}))).toBe('MISSING_TRUST');
  });

  it('reads model_signing signatures as verifyModel does (the shipped v0.2 fixture fails its own signature check there too)', async () => {
    const trust = { certificateAuthorities: loadCertificates(path.join(FIXTURES, 'keys/certificate/ca-cert.pem')) };
    expect(await codeOf(openVerified(path.join(FIXTURES, 'v0.2.0-certificate'), { trust }))).toBe('SIGNATURE_INVALID');
    // and opens a v1.0 one, reading its files
    const h = await openVerified(path.join(FIXTURES, 'v1.0.0-certificate'), { trust });
    expect([...h.files].sort()).toEqual(['signme-1', 'signme-2']);
    expect((await h.readFile('signme-1')).equals(readFileSync(path.join(FIXTURES, 'v1.0.0-certificate/signme-1')))).toBe(true);
  });

  it('applies exactly verifyModel\'s ignore rule: recorded ignores, no .git defaults then, a detached signature\'s name not ignored', async () => {
    const dir = tempDir();
    const m = path.join(dir, 'model');
    mkdirSync(path.join(m, '.git'), { recursive: true });
    writeFileSync(path.join(m, 'w.bin'), bytes(100, 5));
    writeFileSync(path.join(m, '.git/HEAD'), 'ref');
    const k = keys();
    const sig = path.join(dir, 'release.sig');
    await signModel(m, { signer: keySigner(k.privateKey), signaturePath: sig, hash: { ignoreGitPaths: false } });
    const h = await openVerified(m, { trust: { publicKey: k.publicKey }, signaturePath: sig });
    expect([...h.files].sort()).toEqual(['.git/HEAD', 'w.bin']);
    // an unsigned file named like the detached signature is an extra file, as in verifyModel
    writeFileSync(path.join(m, 'release.sig'), 'planted');
    expect(await codeOf(openVerified(m, { trust: { publicKey: k.publicKey }, signaturePath: sig }))).toBe('MODEL_MISMATCH');
  });

  it('a single-file model reads as "."', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'model.gguf');
    writeFileSync(f, bytes(5000, 3));
    const k = keys();
    await signModel(f, { signer: keySigner(k.privateKey) });
    const h = await openVerified(f, { trust: { publicKey: k.publicKey } });
    expect(h.files).toEqual(['.']);
    expect((await h.readFile('.')).equals(bytes(5000, 3))).toBe(true);
  });
});

describe('openVerified: shards manifests', () => {
  const big = bytes(3500, 11);

  it('checks sizes at open and each shard as it passes', async () => {
    const m = await signedModel({ 'w.bin': big, 'empty.bin': '' }, { method: 'shards', shardSize: 1000 });
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey } });
    expect((await h.readFile('w.bin', { chunkBytes: 300 })).equals(big)).toBe(true);
    expect((await h.readFile('empty.bin')).length).toBe(0);

    flipInPlace(path.join(m.dir, 'w.bin'), 1500); // second shard
    const s = await drain(h, 'w.bin', 300);
    expect(s.error?.code).toBe('FILE_CHANGED');
    // the first shard was verified and delivered; of the second, nothing past its verified prefix chunks
    expect(s.got.length).toBeLessThan(2000);
    expect(s.got.subarray(0, 1000).equals(big.subarray(0, 1000))).toBe(true);
  });

  it('a file whose size no longer matches the shard ranges is refused at open', async () => {
    const m = await signedModel({ 'w.bin': big }, { method: 'shards', shardSize: 1000 });
    writeFileSync(path.join(m.dir, 'w.bin'), Buffer.concat([big, Buffer.from('x')]));
    const e = await openVerified(m.dir, { trust: { publicKey: m.publicKey } }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['w.bin']);
  });
});

describe('openVerified: policy and cache', () => {
  it('with a policy: the signer from the policy, the verdict in the event; a failing policy refuses', async () => {
    const m = await signedModel({ 'a.bin': bytes(1000, 2) });
    const events: AuditEvent[] = [];
    const h = await openVerified(m.dir, { policy: loadPolicy(keyPolicy(m.publicKeyFile)), onAudit: (e) => events.push(e) });
    expect(h.policy?.ok).toBe(true);
    expect(events[0]).toMatchObject({ ok: true, policy: { ok: true, failed: [] }, signer: { kind: 'key' } });
    const other = keys();
    const e = await openVerified(m.dir, { policy: loadPolicy(keyPolicy(other.publicKeyFile)), onAudit: (x) => events.push(x) }).catch((x) => x);
    expect(e.code).toBe('POLICY_FAILED');
    expect(events[1]).toMatchObject({ ok: false, policy: { ok: false, failed: [{ rule: 'signature' }] }, error: { code: 'POLICY_FAILED' } });
  });

  it('reads fill the cache; the next open checks unchanged files against it, and a changed one misses', async () => {
    const m = await signedModel({ 'a.bin': bytes(1000, 2), 'b.bin': bytes(2000, 3) });
    const cache = { dir: path.join(tempDir(), 'cache') };
    const h = await openVerified(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(h.event.cache).toEqual({ hits: 0, misses: 2 });
    for (const f of h.files) await h.readFile(f);
    const h2 = await openVerified(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(h2.event.cache).toEqual({ hits: 2, misses: 0 });
    const st = statSync(path.join(m.dir, 'a.bin'));
    flipInPlace(path.join(m.dir, 'a.bin'), 0);
    utimesSync(path.join(m.dir, 'a.bin'), st.atime, st.mtime);
    const h3 = await openVerified(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(h3.event.cache).toEqual({ hits: 1, misses: 1 });
    expect(await codeOf(h3.readFile('a.bin'))).toBe('MODEL_MISMATCH');
  });
});
