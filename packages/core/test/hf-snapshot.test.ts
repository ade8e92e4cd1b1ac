import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel, keySigner, ModelMismatchError, openVerified, resolveHfUri, signModel, verifyModel, verifyModelAudited } from '@modelseal/core';
import { bytes, codeOf, tempDir } from './helpers.js';
import { keys } from './load-fixtures.js';

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

/**
 * Builds a hub cache as huggingface_hub lays it out: blobs named by etag,
 * snapshot files as relative symlinks into ../../blobs (deeper for nested
 * files), refs/main naming the commit. The signature is uploaded with the
 * model, so model.sig in the snapshot is itself a symlink to a blob.
 */
async function hubCache(files: Record<string, Buffer | string> = { 'config.json': '{"a":1}', 'model.safetensors': bytes(200_000, 5), 'tokenizer/vocab.txt': 'x\ny\n' }) {
  const cache = tempDir('modelseal-hub-');
  const repo = path.join(cache, 'models--acme--tiny');
  const snap = path.join(repo, 'snapshots', COMMIT);
  mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  mkdirSync(path.join(repo, 'refs'), { recursive: true });
  writeFileSync(path.join(repo, 'refs', 'main'), COMMIT);
  const addBlob = (name: string, data: Buffer | string) => {
    const etag = createHash('sha1').update(data).digest('hex');
    writeFileSync(path.join(repo, 'blobs', etag), data);
    const link = path.join(snap, name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.relative(path.dirname(link), path.join(repo, 'blobs', etag)), link);
  };
  for (const [name, data] of Object.entries(files)) addBlob(name, data);
  const k = keys();
  const sigTmp = path.join(tempDir(), 'model.sig');
  await signModel(snap, { signer: keySigner(k.privateKey), signaturePath: sigTmp });
  addBlob('model.sig', readFileSync(sigTmp));
  return { cache, repo, snap, ...k };
}

describe('Hugging Face cache snapshots', () => {
  it('verifies in place without --allow-symlinks; names are snapshot paths; model.sig is a blob symlink', async () => {
    const h = await hubCache();
    const r = await verifyModel(h.snap, { trust: { publicKey: h.publicKey } });
    expect(r.manifest.resources.map((x) => x.name)).toEqual(['config.json', 'model.safetensors', 'tokenizer/vocab.txt']);
    expect(r.manifest.serialization.allowSymlinks).toBe(false);
    // the same bytes in a plain folder give the same root digest: blob names play no part
    const plain = path.join(tempDir(), 'plain');
    mkdirSync(path.join(plain, 'tokenizer'), { recursive: true });
    for (const n of ['config.json', 'model.safetensors', 'tokenizer/vocab.txt']) writeFileSync(path.join(plain, n), readFileSync(path.join(h.snap, n)));
    expect((await hashModel(plain)).rootDigest).toBe(r.rootDigest);
  });

  it('resolves hf://org/name[@rev] from HF_HUB_CACHE or HF_HOME, without network', async () => {
    const h = await hubCache();
    expect(resolveHfUri('hf://acme/tiny', { HF_HUB_CACHE: h.cache })).toBe(h.snap);
    expect(resolveHfUri(`hf://acme/tiny@${COMMIT}`, { HF_HUB_CACHE: h.cache })).toBe(h.snap);
    const home = tempDir();
    renameSync(h.cache, path.join(home, 'hub'));
    const snap = resolveHfUri('hf://acme/tiny@main', { HF_HOME: home });
    expect(snap).toBe(path.join(home, 'hub', 'models--acme--tiny', 'snapshots', COMMIT));
    const env = { HF_HOME: home };
    expect(() => resolveHfUri('hf://acme/other', env)).toThrow(expect.objectContaining({ code: 'HF_MODEL_NOT_CACHED' }));
    expect(() => resolveHfUri('hf://acme/tiny@v2', env)).toThrow(expect.objectContaining({ code: 'HF_REVISION_NOT_CACHED' }));
    expect(() => resolveHfUri(`hf://acme/tiny@${OTHER}`, env)).toThrow(expect.objectContaining({ code: 'HF_REVISION_NOT_CACHED' }));
    for (const bad of ['hf://acme', 'hf://acme/tiny/x', 'hf://../tiny', 'hf://acme/tiny@../../x', 'hf://acme/a--b']) {
      expect(() => resolveHfUri(bad, env), bad).toThrow(expect.objectContaining({ code: 'BAD_HF_URI' }));
    }
  });

  it('verifyModelAudited and openVerified take hf:// URIs', async () => {
    const h = await hubCache();
    process.env.HF_HUB_CACHE = h.cache;
    try {
      const r = await verifyModelAudited('hf://acme/tiny', { trust: { publicKey: h.publicKey } });
      expect(r.event.model).toMatchObject({ path: h.snap, uri: 'hf://acme/tiny' });
      const v = await openVerified('hf://acme/tiny', { trust: { publicKey: h.publicKey } });
      expect((await v.readFile('model.safetensors')).equals(bytes(200_000, 5))).toBe(true);
    } finally {
      delete process.env.HF_HUB_CACHE;
    }
  });

  it('every byte is hashed: a blob changed under its etag name is a mismatch', async () => {
    const h = await hubCache();
    writeFileSync(path.join(h.snap, 'config.json'), '{"a":2}'); // writes through the link into the blob
    const e = await verifyModel(h.snap, { trust: { publicKey: h.publicKey } }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['config.json']);
  });

  it('refuses links that leave the repository blobs folder, a nested blob, and a symlinked blobs folder', async () => {
    const trust = (h: { publicKey: import('node:crypto').KeyObject }) => ({ trust: { publicKey: h.publicKey } });
    const h = await hubCache();
    // to a file elsewhere in the repository
    writeFileSync(path.join(h.repo, 'refs', 'x'), 'x');
    symlinkSync('../../refs/x', path.join(h.snap, 'x'));
    expect(await codeOf(verifyModel(h.snap, trust(h)))).toBe('SYMLINK_REFUSED');
    rmSync(path.join(h.snap, 'x'));
    // to another repository's blobs
    const other = path.join(path.dirname(h.repo), 'models--evil--x', 'blobs');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'e1'), 'evil');
    symlinkSync('../../../models--evil--x/blobs/e1', path.join(h.snap, 'y'));
    expect(await codeOf(verifyModel(h.snap, trust(h)))).toBe('SYMLINK_REFUSED');
    rmSync(path.join(h.snap, 'y'));
    // to a file in a folder below blobs
    mkdirSync(path.join(h.repo, 'blobs', 'deeper'));
    writeFileSync(path.join(h.repo, 'blobs', 'deeper', 'f'), 'f');
    symlinkSync('../../blobs/deeper/f', path.join(h.snap, 'z'));
    expect(await codeOf(verifyModel(h.snap, trust(h)))).toBe('SYMLINK_REFUSED');
    rmSync(path.join(h.snap, 'z'));
    // to the blobs folder itself
    symlinkSync('../../blobs', path.join(h.snap, 'w'));
    expect(await codeOf(verifyModel(h.snap, trust(h)))).toBe('SYMLINK_REFUSED');
    rmSync(path.join(h.snap, 'w'));
    await expect(verifyModel(h.snap, trust(h))).resolves.toBeTruthy();

    // blobs itself a symlink (to a folder with the very same bytes): the layout is not recognised
    const h2 = await hubCache();
    const real = path.join(tempDir(), 'blobs');
    renameSync(path.join(h2.repo, 'blobs'), real);
    symlinkSync(real, path.join(h2.repo, 'blobs'));
    expect(await codeOf(verifyModel(h2.snap, trust(h2)))).toBe('SYMLINK_REFUSED');
  });

  it('a folder merely named like a snapshot, outside models--*, gets no special treatment', async () => {
    const root = tempDir();
    const snap = path.join(root, 'notarepo', 'snapshots', COMMIT);
    mkdirSync(path.join(root, 'notarepo', 'blobs'), { recursive: true });
    mkdirSync(snap, { recursive: true });
    writeFileSync(path.join(root, 'notarepo', 'blobs', 'e'), 'x');
    symlinkSync('../../blobs/e', path.join(snap, 'f'));
    expect(await codeOf(hashModel(snap))).toBe('SYMLINK_REFUSED');
  });
});
