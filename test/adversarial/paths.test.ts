/**
 * Adversarial corpus: paths and file types. Symlinks in and out of the
 * model, FIFOs, hard links, Unicode normalization, control characters and
 * colons in names, deep trees, and signed manifests that name paths outside
 * the model (crafted statements signed with the real key, as a signer's bug
 * or a stolen key would produce).
 */
import { execFileSync } from 'node:child_process';
import { linkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeRootDigest, compareResourceNames, signModel, verifyModel, type HashOptions } from '@modelseal/core/internals';
import { all, bytes, copyModel, makeKeys, signStatement, statementOf, tmp, writeTree, type Check, type Keys, mismatch } from './harness.js';

let k: Keys;
let work: string;

beforeAll(() => {
  work = tmp();
  k = makeKeys(work, 'release');
});

function verifyCheck(name: string, model: string, e: Omit<Check, 'category' | 'name' | 'lib' | 'cli'>, o: { ignoreUnsigned?: boolean; signature?: string } = {}): Check {
  return {
    category: 'paths and types',
    name: `${name}${o.ignoreUnsigned ? ' (--ignore-unsigned-files)' : ''}`,
    lib: () => verifyModel(model, { trust: { publicKey: k.pub }, ...(o.ignoreUnsigned ? { ignoreUnsignedFiles: true } : {}), ...(o.signature ? { signaturePath: o.signature } : {}) }),
    cli: ['verify', model, '--key', k.pubFile, ...(o.ignoreUnsigned ? ['--ignore-unsigned-files'] : []), ...(o.signature ? ['--signature', o.signature] : [])],
    ...e,
  };
}

/** `sign` through both paths, each writing its own detached signature (so they do not race). */
function signCheck(name: string, model: string, hash: HashOptions, e: Omit<Check, 'category' | 'name' | 'lib' | 'cli'>): Check {
  const out = tmp();
  const flags = [...(hash.allowSymlinks ? ['--allow-symlinks'] : []), ...(hash.method ? ['--method', hash.method] : []), ...(hash.shardSize ? ['--shard-size', String(hash.shardSize)] : [])];
  return {
    category: 'paths and types',
    name: `sign: ${name}`,
    lib: () => signModel(model, { signer: k.signer, hash, signaturePath: path.join(out, 'lib.sig') }),
    cli: ['sign', model, '--key', k.privFile, '--signature', path.join(out, 'cli.sig'), ...flags],
    ...e,
  };
}

describe('symlinks', () => {
  it('signing: refused without --allow-symlinks; followed inside the model with it; refused when it leaves the model', async () => {
    const inside = writeTree(path.join(tmp(), 'inside'), { 'weights.bin': bytes(100), 'a.txt': 'a' });
    symlinkSync('weights.bin', path.join(inside, 'alias.bin'));
    const outside = writeTree(path.join(tmp(), 'outside'), { 'a.txt': 'a' });
    writeFileSync(path.join(path.dirname(outside), 'secret.txt'), 'outside the model');
    symlinkSync('../secret.txt', path.join(outside, 'leak.txt'));
    const dangling = writeTree(path.join(tmp(), 'dangling'), { 'a.txt': 'a' });
    symlinkSync('nowhere', path.join(dangling, 'gone'));
    const loop = writeTree(path.join(tmp(), 'loop'), { 'a.txt': 'a' });
    symlinkSync('.', path.join(loop, 'self'));
    await all([
      signCheck('symlink inside, no --allow-symlinks', inside, {}, { exit: 2, code: 'SYMLINK_REFUSED' }),
      signCheck('symlink inside, --allow-symlinks', inside, { allowSymlinks: true }, { exit: 0, code: 'OK' }),
      signCheck('symlink to a file outside, --allow-symlinks', outside, { allowSymlinks: true }, { exit: 2, code: 'SYMLINK_ESCAPES_MODEL' }),
      signCheck('symlink to a file outside, no --allow-symlinks', outside, {}, { exit: 2, code: 'SYMLINK_REFUSED' }),
      signCheck('dangling symlink, --allow-symlinks', dangling, { allowSymlinks: true }, { exit: 2, code: 'BROKEN_SYMLINK' }),
      signCheck('symlink to the model folder itself, --allow-symlinks', loop, { allowSymlinks: true }, { exit: 2, code: 'SYMLINK_LOOP' }),
    ]);
  });

  it('verifying: the signature decides whether links are followed; a planted link is refused or mismatches', async () => {
    // signed without symlinks: a signed file replaced by a link to identical bytes is refused
    const plain = writeTree(path.join(tmp(), 'plain'), { 'weights.bin': bytes(100), 'copy.bin': bytes(100) });
    await signModel(plain, { signer: k.signer });
    const planted = copyModel(plain, 'planted');
    rmSync(path.join(planted, 'weights.bin'));
    symlinkSync('copy.bin', path.join(planted, 'weights.bin'));
    // signed with symlinks allowed
    const linked = writeTree(path.join(tmp(), 'linked'), { 'weights.bin': bytes(100), 'other.bin': bytes(100, 7) });
    symlinkSync('weights.bin', path.join(linked, 'alias.bin'));
    await signModel(linked, { signer: k.signer, hash: { allowSymlinks: true } });
    const retarget = copyModel(linked, 'retarget');
    rmSync(path.join(retarget, 'alias.bin'));
    symlinkSync('other.bin', path.join(retarget, 'alias.bin'));
    // the same bytes, but outside the model: refused even though the digest would match
    const escape = copyModel(linked, 'escape');
    writeFileSync(path.join(path.dirname(escape), 'same.bin'), bytes(100));
    rmSync(path.join(escape, 'alias.bin'));
    symlinkSync(path.join(path.dirname(escape), 'same.bin'), path.join(escape, 'alias.bin'));
    await all([
      verifyCheck('signed file replaced by a symlink (signature does not allow symlinks)', planted, { exit: 2, code: 'SYMLINK_REFUSED' }),
      verifyCheck('signed file replaced by a symlink (signature does not allow symlinks)', planted, { exit: 2, code: 'SYMLINK_REFUSED' }, { ignoreUnsigned: true }),
      verifyCheck('symlinks allowed by the signature: untouched', linked, { exit: 0, code: 'OK' }),
      verifyCheck('symlinks allowed: link retargeted to another file inside', retarget, mismatch({ changed: ['alias.bin'] })),
      verifyCheck('symlinks allowed: link retargeted outside the model (same bytes)', escape, { exit: 2, code: 'SYMLINK_ESCAPES_MODEL' }),
    ]);
  });
});

describe('special files', () => {
  it('a FIFO in the model, or as the signature, is refused and never blocks', async () => {
    const m = writeTree(path.join(tmp(), 'fifo'), { 'a.txt': 'a', 'b.bin': bytes(50) });
    await signModel(m, { signer: k.signer });
    const added = copyModel(m, 'fifo-added');
    execFileSync('mkfifo', [path.join(added, 'pipe')]);
    const replaced = copyModel(m, 'fifo-replaced');
    rmSync(path.join(replaced, 'b.bin'));
    execFileSync('mkfifo', [path.join(replaced, 'b.bin')]);
    const sigFifo = path.join(tmp(), 'model.sig');
    execFileSync('mkfifo', [sigFifo]);
    await all([
      signCheck('model holds a FIFO', added, {}, { exit: 2, code: 'BAD_FILE_TYPE' }),
      verifyCheck('FIFO added to a signed model', added, { exit: 2, code: 'BAD_FILE_TYPE' }),
      verifyCheck('FIFO added to a signed model', added, { exit: 2, code: 'BAD_FILE_TYPE' }, { ignoreUnsigned: true }),
      verifyCheck('signed file replaced by a FIFO', replaced, { exit: 2, code: 'BAD_FILE_TYPE' }),
      verifyCheck('the signature file is a FIFO', m, { exit: 2, code: 'NOT_A_FILE' }, { signature: sigFifo }),
      verifyCheck('the signature file is /dev/zero', m, { exit: 2, code: 'NOT_A_FILE' }, { signature: '/dev/zero' }),
      verifyCheck('the signature file is a folder', m, { exit: 2, code: 'NOT_A_FILE' }, { signature: path.dirname(sigFifo) }),
    ]);
  });

  it('a hard link to a file outside the model is a regular file: it is hashed, and a change through the other name is caught', async () => {
    // Documented behaviour: a hard link cannot be told from a regular file (it is one); its bytes are signed,
    // so whoever can write the other name can change the model, and verification then fails.
    const d = tmp();
    writeFileSync(path.join(d, 'outside.bin'), bytes(64, 3));
    const m = writeTree(path.join(d, 'model'), { 'a.txt': 'a' });
    linkSync(path.join(d, 'outside.bin'), path.join(m, 'linked.bin'));
    await signModel(m, { signer: k.signer });
    const ok = verifyCheck('hard link to a file outside the model (signed as a regular file)', m, {
      exit: 0,
      code: 'OK',
      libCheck: (o) => expect((o.value as { manifest: { resources: Array<{ name: string }> } }).manifest.resources.map((r) => r.name)).toEqual(['a.txt', 'linked.bin']),
    });
    await all([ok]);
    writeFileSync(path.join(d, 'outside.bin'), bytes(64, 4)); // in place: same inode, so the model's file changes too
    await all([verifyCheck('hard-linked file changed through its outside name', m, mismatch({ changed: ['linked.bin'] }))]);
  });
});

describe('names', () => {
  it('NFC and NFD spellings are different files: a rename between them fails', async () => {
    const nfc = 'caf\u00e9.txt';
    const nfd = 'cafe\u0301.txt';
    const m = writeTree(path.join(tmp(), 'unicode'), { [nfc]: 'menu', 'b.txt': 'b' });
    await signModel(m, { signer: k.signer });
    const renamed = copyModel(m, 'nfd');
    renameSync(path.join(renamed, nfc), path.join(renamed, nfd));
    const both = copyModel(m, 'both');
    writeFileSync(path.join(both, nfd), 'other menu');
    await all([
      verifyCheck('NFC name renamed to its NFD form', renamed, mismatch({ missing: [nfc], extra: [nfd] })),
      verifyCheck('NFC name renamed to its NFD form', renamed, mismatch({ missing: [nfc] }), { ignoreUnsigned: true }),
      verifyCheck('NFD twin added beside the signed NFC name', both, mismatch({ extra: [nfd] })),
    ]);
  });

  // Found by this corpus, fixed: Node decodes directory entries as UTF-8, so a name that is not valid UTF-8
  // (Linux allows any bytes) came back with U+FFFD and no longer named the file on disk (MODEL_NOT_FOUND,
  // DUPLICATE_RESOURCE). The walk now refuses such a name for what it is.
  it('a file name that is not valid UTF-8 is refused as such (BAD_FILE_NAME), not as missing or duplicate', async () => {
    const m = writeTree(path.join(tmp(), 'utf8'), { 'a.txt': 'a', 'x\ufffd.py': 'print("signed")\n' });
    await signModel(m, { signer: k.signer });
    const raw = (dir: string, name: string, bytesOfName: number[]) => writeFileSync(Buffer.concat([Buffer.from(path.join(dir, name)), Buffer.from(bytesOfName), Buffer.from('.py')]), 'import os\n');
    const added = copyModel(m, 'utf8-added');
    raw(added, 'evil', [0xfe]);
    const twin = copyModel(m, 'utf8-twin');
    raw(twin, 'x', [0xff]); // decodes as "x\ufffd.py", the signed file's name
    await all([
      signCheck('a file name with the byte 0xFE (not UTF-8)', added, {}, { exit: 2, code: 'BAD_FILE_NAME' }),
      verifyCheck('unsigned file whose name is not UTF-8', added, { exit: 2, code: 'BAD_FILE_NAME' }, { ignoreUnsigned: true }),
      verifyCheck('non-UTF-8 twin of a signed name (x\\xff.py beside x\\ufffd.py)', twin, { exit: 2, code: 'BAD_FILE_NAME' }),
    ]);
  });

  it('control characters in names are escaped in every message', async () => {
    const evil = 'a\x1b[2Jb\rc\nd\x07\u202e.txt';
    const m = writeTree(path.join(tmp(), 'ctrl'), { [evil]: 'x', 'ok.txt': 'y' });
    await signModel(m, { signer: k.signer });
    const changed = copyModel(m, 'ctrl-changed');
    writeFileSync(path.join(changed, evil), 'X');
    const escaped = (o: { error?: Error }) => {
      expect(o.error!.message).toContain('a\\x1b[2Jb\\x0dc\\x0ad\\x07\\u202e.txt');
      // eslint-disable-next-line no-control-regex
      expect(o.error!.message).not.toMatch(/[\x00-\x1f\u202e]/);
    };
    await all([
      verifyCheck('control characters in a signed name (untouched)', m, { exit: 0, code: 'OK' }),
      verifyCheck('control characters in a changed file name', changed, {
        ...mismatch({ changed: [evil] }),
        message: /a\\x1b\[2Jb\\x0dc\\x0ad\\x07\\u202e\.txt/,
        libCheck: escaped,
      }),
    ]);
  });

  it('colons in names (shards): a file named like a shard is its own file', async () => {
    const m = writeTree(path.join(tmp(), 'colons'), { 'w.bin': bytes(1500), 'w.bin:0:1000': bytes(10, 5), 'ratio 1:2.txt': 'r', 'x:': 'x' });
    await signModel(m, { signer: k.signer, hash: { method: 'shards', shardSize: 1000 } });
    const renamed = copyModel(m, 'colon-renamed');
    rmSync(path.join(renamed, 'w.bin'));
    renameSync(path.join(renamed, 'w.bin:0:1000'), path.join(renamed, 'w.bin'));
    const changed = copyModel(m, 'colon-changed');
    writeFileSync(path.join(changed, 'w.bin:0:1000'), bytes(10, 6));
    await all([
      verifyCheck('colon names (w.bin:0:1000, ratio 1:2.txt, x:) untouched', m, {
        exit: 0,
        code: 'OK',
        libCheck: (o) => expect((o.value as { manifest: { resources: Array<{ name: string }> } }).manifest.resources.map((r) => r.name)).toEqual(['ratio 1:2.txt:0:1', 'w.bin:0:1000', 'w.bin:1000:1500', 'w.bin:0:1000:0:10', 'x::0:1']),
      }),
      verifyCheck('file named w.bin:0:1000 changed', changed, mismatch({ changed: ['w.bin:0:1000:0:10'] })),
      verifyCheck('file named w.bin:0:1000 renamed over w.bin', renamed, mismatch({ missing: ['w.bin:0:1000', 'w.bin:1000:1500', 'w.bin:0:1000:0:10'], extra: ['w.bin:0:10'] })),
    ]);
  });

  it('a deep tree (1000 levels) signs and verifies; a change at the bottom is named', async () => {
    const deep = Array.from({ length: 1000 }, () => 'd').join('/');
    const m = writeTree(path.join(tmp(), 'deep'), { [`${deep}/leaf.bin`]: bytes(10), 'top.txt': 't' });
    await signModel(m, { signer: k.signer });
    const changed = copyModel(m, 'deep-changed');
    writeFileSync(path.join(changed, deep, 'leaf.bin'), bytes(10, 2));
    await all([
      verifyCheck('1000-level deep tree untouched', m, { exit: 0, code: 'OK' }),
      verifyCheck('1000-level deep tree, bottom file changed', changed, mismatch({ changed: [`${deep}/leaf.bin`] })),
    ]);
  });
});

describe('signed manifests naming paths outside the model (re-signed with the real key)', () => {
  it('../, absolute, unnormalized and NUL names are refused as BAD_PATH before any file is read', async () => {
    const d = tmp();
    const m = writeTree(path.join(d, 'model'), { 'a.txt': 'a' });
    writeFileSync(path.join(d, 'outside.txt'), 'outside');
    const files = path.join(d, 'files.sig');
    await signModel(m, { signer: k.signer, signaturePath: files });
    const shards = path.join(d, 'shards.sig');
    await signModel(m, { signer: k.signer, signaturePath: shards, hash: { method: 'shards', shardSize: 1000 } });
    const digest = statementOf(files).predicate.resources[0].digest;
    const crafted = async (label: string, base: string, names: string[], method: 'files' | 'shards') => {
      const st = statementOf(base);
      const algorithm = st.predicate.resources[0].algorithm;
      const resources = names.map((name) => ({ name, algorithm, digest })).sort((x, y) => {
        try {
          return compareResourceNames(x.name, y.name, method);
        } catch {
          return 0;
        }
      });
      st.predicate.resources = resources;
      st.subject[0].digest.sha256 = computeRootDigest(resources);
      const sig = path.join(d, `${label}.sig`);
      await signStatement(k.signer, st, sig);
      return sig;
    };
    const cases: Array<[string, string[], 'files' | 'shards', string, 1 | 2]> = [
      ['../outside.txt', ['../outside.txt', 'a.txt'], 'files', 'BAD_PATH', 2],
      ['a/../../outside.txt', ['a.txt', 'a/../../outside.txt'], 'files', 'BAD_PATH', 2],
      ['/etc/passwd', ['/etc/passwd', 'a.txt'], 'files', 'BAD_PATH', 2],
      ['./a.txt', ['./a.txt'], 'files', 'BAD_PATH', 2],
      ['a//b', ['a.txt', 'a//b'], 'files', 'BAD_PATH', 2],
      ['C:\\evil', ['C:\\evil', 'a.txt'], 'files', 'BAD_PATH', 2],
      ['NUL byte', ['a.txt\0.py'], 'files', 'BAD_PATH', 2],
      ['../outside.txt:0:7 (shards)', ['../outside.txt:0:7', 'a.txt:0:1'], 'shards', 'BAD_PATH', 2],
      ['/etc/passwd:0:7 (shards)', ['/etc/passwd:0:7', 'a.txt:0:1'], 'shards', 'BAD_PATH', 2],
      ['"." (the single-file name) in a folder signature', ['.'], 'files', 'MODEL_KIND_MISMATCH', 1],
    ];
    const checks: Check[] = [];
    for (const [label, names, method, code, exit] of cases) {
      const sig = await crafted(label.replace(/[^a-z0-9]+/gi, '_'), method === 'files' ? files : shards, names, method);
      checks.push(verifyCheck(`signed manifest names ${label}`, m, { exit, code }, { signature: sig }));
    }
    // model_signing v0.2 form: one subject per file
    const legacy = path.join(d, 'legacy.sig');
    await signStatement(k.signer, { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: '../outside.txt', digest: { sha256: digest } }], predicateType: 'https://model_signing/Digests/v0.1', predicate: {} }, legacy);
    checks.push(verifyCheck('v0.2 signed statement names ../outside.txt', m, { exit: 2, code: 'BAD_PATH' }, { signature: legacy }));
    await all(checks);
  });
});
