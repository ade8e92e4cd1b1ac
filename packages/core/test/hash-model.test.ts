import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { hashModel, hashModelDetailed, ModelPathError, InputError, type Manifest } from '@modelseal/core/internals';
import { bytes, tempDir, writeTree } from './helpers.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function model(files: Record<string, string | Uint8Array>): string {
  return writeTree(path.join(tempDir(), 'mymodel'), files);
}

async function errorOf(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an error');
}

function byName(m: Manifest): Record<string, string> {
  return Object.fromEntries(m.resources.map((r) => [r.name, r.digest]));
}

type EntryHeader = Parameters<ReturnType<typeof tar.pack>['entry']>[0];

/** Builds a tarball entry by entry, for archives no honest tar would make. */
async function craftTar(file: string, entries: Array<{ header: EntryHeader; body?: string }>): Promise<string> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry(e.header, e.body ?? '', (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

describe('hashModel: folders and files', () => {
  it('digests every file with each hash type, checked against independent implementations', async () => {
    const data = { 'config.json': '{"a":1}', 'w/part-1.bin': bytes(70_000, 3), 'w/part-2.bin': bytes(1234, 4) };
    const dir = model(data);
    const impl = { sha256: (b: Uint8Array) => sha256(b), blake2b: (b: Uint8Array) => hex(blake2b(b)), blake3: (b: Uint8Array) => hex(blake3(b)) };
    for (const [type, fn] of Object.entries(impl)) {
      const m = await hashModel(dir, { hashType: type as 'sha256' });
      expect(m.modelName).toBe('mymodel');
      expect(m.serialization).toMatchObject({ method: 'files', hashType: type });
      for (const [name, content] of Object.entries(data)) {
        expect(byName(m)[name], `${type} ${name}`).toBe(fn(Buffer.from(content)));
      }
      expect(new Set(m.resources.map((r) => r.algorithm))).toEqual(new Set([type]));
    }
  });

  it('accepts the CLI spelling blake2 and records blake2b', async () => {
    const m = await hashModel(model({ a: 'x' }), { hashType: 'blake2' });
    expect(m.serialization.hashType).toBe('blake2b');
  });

  it('shards files at shard_size boundaries, end exclusive, and gives empty files no resource (OMS 6.3.2)', async () => {
    const big = bytes(25, 9);
    const dir = model({ 'big.bin': big, 'small.bin': 'abc', 'empty.bin': '', 'pkg/__init__.py': '' });
    const d = await hashModelDetailed(dir, { method: 'shards', shardSize: 10 });
    const m = d.manifest;
    expect(m.resources.map((r) => r.name)).toEqual(['big.bin:0:10', 'big.bin:10:20', 'big.bin:20:25', 'small.bin:0:3']);
    expect(d.emptyFiles.sort()).toEqual(['empty.bin', 'pkg/__init__.py']);
    expect(byName(m)['big.bin:10:20']).toBe(sha256(big.subarray(10, 20)));
    expect(m.resources[0]!.algorithm).toBe('sha256-sharded-10');
    expect(m.serialization).toMatchObject({ method: 'shards', shardSize: 10, hashType: 'sha256' });
    // The spec's algorithm, computed independently: SHA-256 over the raw shard digests of non-empty files, in order.
    const spec = createHash('sha256');
    for (let s = 0; s < 25; s += 10) spec.update(createHash('sha256').update(big.subarray(s, Math.min(s + 10, 25))).digest());
    spec.update(createHash('sha256').update('abc').digest());
    expect(m.rootDigest).toBe(spec.digest('hex'));
    // files mode still lists empty files
    expect((await hashModel(dir)).resources.map((r) => r.name)).toContain('empty.bin');
  });

  it('gives the same digests on worker threads as inline (models over the inline limit)', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) files[`shard-${i}.bin`] = bytes(1_500_000 + i, i + 1);
    const dir = model(files);
    const sharded = await hashModel(dir, { method: 'shards', shardSize: 1_000_000 });
    expect(sharded.resources).toHaveLength(24);
    for (const [name, content] of Object.entries(files)) {
      expect(byName(sharded)[`${name}:1000000:${content.length}`]).toBe(sha256(content.subarray(1_000_000)));
    }
    const single = await hashModel(dir, { workers: 1 });
    const multi = await hashModel(dir, { workers: 2 });
    expect(multi).toEqual(single);
    expect(byName(multi)['shard-3.bin']).toBe(sha256(files['shard-3.bin']!));
  });

  it('reports progress up to the total', async () => {
    const dir = model({ a: bytes(9_000_000, 1), b: bytes(100, 2) });
    const seen: number[] = [];
    await hashModel(dir, { onProgress: (p) => seen.push(p.bytesDone / p.bytesTotal) });
    expect(seen.at(-1)).toBe(1);
  });

  it('hashes a single file as the one resource "."', async () => {
    const dir = model({ 'only.safetensors': 'weights' });
    const m = await hashModel(path.join(dir, 'only.safetensors'));
    expect(m.modelName).toBe('only.safetensors');
    expect(m.resources).toEqual([{ name: '.', algorithm: 'sha256', digest: sha256(Buffer.from('weights')) }]);
  });

  it('ignores git paths and model.sig by default, and user paths (folders included)', async () => {
    const dir = model({ 'a.bin': 'a', '.git/HEAD': 'ref', '.gitattributes': '*', 'model.sig': '{}', 'docs/x.md': 'x', 'docs2/y': 'y' });
    const m = await hashModel(dir, { ignorePaths: ['docs/'] });
    expect(m.resources.map((r) => r.name)).toEqual(['a.bin', 'docs2/y']);
    expect(m.serialization.ignorePaths).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'docs', 'model.sig']);
    const all = await hashModel(dir, { ignoreGitPaths: false });
    expect(all.resources.map((r) => r.name)).toContain('.git/HEAD');
  });

  it('handles empty files, empty folders, deep trees and non-ASCII names', async () => {
    let deep = '';
    for (let i = 0; i < 60; i++) deep += `d${i}/`;
    const dir = model({ 'empty.bin': '', [`${deep}leaf.txt`]: 'leaf', 'modèle/权重 ü.bin': 'w', 'emoji/\u{1F600}.txt': 'e' });
    mkdirSync(path.join(dir, 'empty-folder/nested'), { recursive: true });
    const m = await hashModel(dir);
    expect(byName(m)['empty.bin']).toBe(sha256(Buffer.alloc(0)));
    expect(byName(m)[`${deep}leaf.txt`]).toBe(sha256(Buffer.from('leaf')));
    expect(byName(m)['modèle/权重 ü.bin']).toBe(sha256(Buffer.from('w')));
    expect(m.resources).toHaveLength(4);
  });

  it('hashes 100k small files', { timeout: 180_000 }, async () => {
    const dir = path.join(tempDir(), 'many');
    for (let d = 0; d < 100; d++) {
      mkdirSync(path.join(dir, `d${d}`), { recursive: true });
      for (let f = 0; f < 1000; f++) writeFileSync(path.join(dir, `d${d}`, `f${f}.txt`), `${d}/${f}`);
    }
    const m = await hashModel(dir);
    expect(m.resources).toHaveLength(100_000);
    expect(byName(m)['d42/f999.txt']).toBe(sha256(Buffer.from('42/999')));
  });

  it('refuses a model that does not exist, and special files', async () => {
    expect((await errorOf(hashModel('/nonexistent/model'))).code).toBe('MODEL_NOT_FOUND');
    const dir = model({ a: 'a' });
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const e = await errorOf(hashModel(dir));
    expect(e.code).toBe('BAD_FILE_TYPE');
    expect(e.message).toContain('pipe');
  });

  it('rejects bad options', async () => {
    const dir = model({ a: 'a' });
    expect((await errorOf(hashModel(dir, { hashType: 'md5' as 'sha256' }))).code).toBe('BAD_HASH_TYPE');
    expect((await errorOf(hashModel(dir, { method: 'shards', shardSize: 0 }))).code).toBe('BAD_OPTION');
    expect((await errorOf(hashModel(dir, { shardSize: 10 }))).code).toBe('BAD_OPTION');
    expect((await errorOf(hashModel(dir, { ignorePaths: ['../etc'] }))).code).toBe('BAD_IGNORE_PATH');
  });
});

describe('hashModel: symlinks', () => {
  it('refuses symlinks by default, naming the link', async () => {
    const dir = model({ 'real.bin': 'r' });
    symlinkSync('real.bin', path.join(dir, 'link.bin'));
    const e = await errorOf(hashModel(dir));
    expect(e).toBeInstanceOf(ModelPathError);
    expect(e.code).toBe('SYMLINK_REFUSED');
    expect(e.message).toContain('link.bin');
  });

  it('follows links inside the model with allowSymlinks, hashing the target content under the link name', async () => {
    const dir = model({ 'real.bin': 'r', 'sub/x': 'x' });
    symlinkSync('real.bin', path.join(dir, 'link.bin'));
    symlinkSync('sub', path.join(dir, 'sublink'));
    const m = await hashModel(dir, { allowSymlinks: true });
    expect(byName(m)['link.bin']).toBe(sha256(Buffer.from('r')));
    expect(byName(m)['sublink/x']).toBe(sha256(Buffer.from('x')));
    expect(m.serialization.allowSymlinks).toBe(true);
  });

  it('refuses links out of the model folder even with allowSymlinks', async () => {
    const outside = writeTree(tempDir(), { 'secret.txt': 's' });
    const dir = model({ a: 'a' });
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'escape'));
    expect((await errorOf(hashModel(dir, { allowSymlinks: true }))).code).toBe('SYMLINK_ESCAPES_MODEL');
    const dir2 = model({ a: 'a' });
    symlinkSync('../../', path.join(dir2, 'up'));
    expect((await errorOf(hashModel(dir2, { allowSymlinks: true }))).code).toBe('SYMLINK_ESCAPES_MODEL');
  });

  it('refuses broken links and link loops', async () => {
    const dir = model({ a: 'a' });
    symlinkSync('nowhere', path.join(dir, 'broken'));
    expect((await errorOf(hashModel(dir, { allowSymlinks: true }))).code).toBe('BROKEN_SYMLINK');
    const dir2 = model({ 'sub/a': 'a' });
    symlinkSync('..', path.join(dir2, 'sub', 'loop'));
    expect((await errorOf(hashModel(dir2, { allowSymlinks: true }))).code).toBe('SYMLINK_LOOP');
  });
});

describe('hashModel: tarballs', () => {
  const files = { 'config.json': '{"x":1}', 'weights/model.safetensors': bytes(300_000, 5), 'empty.txt': '', 'ü/名.bin': 'n' };

  it('a tarball of a folder (either layout, gzipped or not) has the folder\'s manifest', async () => {
    const dir = model(files);
    const parent = path.dirname(dir);
    const out = tempDir();
    const plain = path.join(out, 'a.tar');
    const gz = path.join(out, 'b.tar.gz');
    const dot = path.join(out, 'mymodel.tgz');
    execFileSync('tar', ['-C', parent, '-cf', plain, 'mymodel']);
    execFileSync('tar', ['-C', parent, '-czf', gz, 'mymodel']);
    execFileSync('tar', ['-C', dir, '-czf', dot, '.']);
    for (const opts of [{}, { method: 'shards' as const, shardSize: 100_000 }, { hashType: 'blake3' as const }]) {
      const want = await hashModel(dir, opts);
      for (const t of [plain, gz, dot]) expect(await hashModel(t, opts), `${t} ${JSON.stringify(opts)}`).toEqual(want);
    }
  });

  it('applies ignore paths inside tarballs', async () => {
    const dir = model({ ...files, '.git/config': 'c', 'notes/a.md': 'a' });
    const t = path.join(tempDir(), 'm.tar');
    execFileSync('tar', ['-C', path.dirname(dir), '-cf', t, 'mymodel']);
    expect(await hashModel(t, { ignorePaths: ['notes'] })).toEqual(await hashModel(dir, { ignorePaths: ['notes'] }));
  });

  const file = (name: string, body = 'x'): { header: EntryHeader; body: string } => ({ header: { name, type: 'file', size: body.length }, body });
  it.each([
    ['a ../ entry', [file('ok'), file('../evil')], 'TAR_BAD_NAME'],
    ['a nested ../ entry', [file('a/../../evil')], 'TAR_BAD_NAME'],
    ['an absolute entry', [file('/etc/passwd')], 'TAR_BAD_NAME'],
    ['a symlink', [file('a'), { header: { name: 'l', type: 'symlink' as const, linkname: '/etc/passwd' } }], 'TAR_LINK_REFUSED'],
    ['a hard link', [file('a'), { header: { name: 'h', type: 'link' as const, linkname: 'a' } }], 'TAR_LINK_REFUSED'],
    ['a device', [{ header: { name: 'dev', type: 'character-device' as const, devmajor: 1, devminor: 3 } }], 'TAR_BAD_TYPE'],
    ['a fifo', [{ header: { name: 'p', type: 'fifo' as const } }], 'TAR_BAD_TYPE'],
    ['a duplicate', [file('a', '1'), file('b'), file('./a', '2')], 'TAR_DUPLICATE'],
    ['an entry outside the top folder', [{ header: { name: 'm/', type: 'directory' as const } }, file('m/a'), file('other/b')], 'TAR_OUTSIDE_TOP'],
  ])('refuses %s', async (_what, entries, code) => {
    const t = await craftTar(path.join(tempDir(), 'evil.tar'), entries as Array<{ header: EntryHeader; body?: string }>);
    expect((await errorOf(hashModel(t))).code).toBe(code);
  });

  it('refuses truncated and corrupt tarballs', async () => {
    const dir = model(files);
    const t = path.join(tempDir(), 'm.tar');
    execFileSync('tar', ['-C', path.dirname(dir), '-cf', t, 'mymodel']);
    const whole = readFileSync(t);
    const cut = path.join(tempDir(), 'cut.tar');
    writeFileSync(cut, whole.subarray(0, 2048 + 100_000));
    expect((await errorOf(hashModel(cut))).code).toBe('TAR_CORRUPT');
    const gzcut = path.join(tempDir(), 'cut.tar.gz');
    execFileSync('tar', ['-C', path.dirname(dir), '-czf', gzcut, 'mymodel']);
    writeFileSync(gzcut, readFileSync(gzcut).subarray(0, 500));
    expect((await errorOf(hashModel(gzcut))).code).toBe('TAR_CORRUPT');
    const junk = path.join(tempDir(), 'junk.tar');
    writeFileSync(junk, bytes(4096, 77));
    expect((await errorOf(hashModel(junk))).code).toBe('TAR_CORRUPT');
  });
});
