import { execFileSync } from 'node:child_process';
import { appendFileSync, linkSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { signModel, keySigner, type HashOptions } from '@modelseal/core/internals';
import { archive, dir, entry, file, gnuLong, pax } from '../../packages/core/test/tar-craft.js';

/**
 * The adversarial corpus, as data: each case builds its inputs in a fresh
 * folder and names one operation (hash or verify), run both through the CLI
 * and through the library, with the exact exit code and error code expected.
 * Categories here: tar header forms and paths/file types. (Signature and
 * policy rows are added by the verifier work.)
 */

export interface Ctx {
  dir: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** path of the public key PEM, for the CLI */
  pub: string;
}

export type Op =
  | { op: 'hash'; target: string; opts?: HashOptions }
  | { op: 'verify'; target: string };

export interface AdversarialCase {
  id: string;
  category: 'tar' | 'paths';
  what: string;
  build: (c: Ctx) => Op | Promise<Op>;
  exit: 0 | 1 | 2;
  /** the ModelsealError code (exit 1 and 2) */
  code?: string;
}

const files = { 'config.json': '{"a":1}', 'weights/model.bin': Buffer.alloc(5000, 3), 'tokenizer.json': '{}' };

function model(c: Ctx, tree: Record<string, string | Buffer> = files, name = 'model'): string {
  const root = path.join(c.dir, name);
  for (const [n, data] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(root, n)), { recursive: true });
    writeFileSync(path.join(root, n), data);
  }
  return root;
}

async function signed(c: Ctx, target: string, hash: HashOptions = {}): Promise<string> {
  await signModel(target, { signer: keySigner(c.privateKey), hash });
  return target;
}

const tarball = (c: Ctx, bytes: Buffer, name = 'm.tar'): Op => {
  const p = path.join(c.dir, name);
  writeFileSync(p, bytes);
  return { op: 'hash', target: p };
};

const evil = file('evil.py', 'import os\n');

/** A GNU tar of the standard model, signed; `tamper` then rewrites the tarball. */
async function signedTar(c: Ctx, tamper: (tarPath: string, root: string) => void): Promise<Op> {
  const root = model(c);
  const t = path.join(c.dir, 'model.tar');
  execFileSync('tar', ['-C', c.dir, '-cf', t, 'model']);
  await signed(c, t);
  tamper(t, root);
  return { op: 'verify', target: t };
}

export const CORPUS: AdversarialCase[] = [
  // ---- tar header forms (hash) ------------------------------------------------
  { id: 'tar-honest-gnu', category: 'tar', what: 'a GNU tar of a folder', exit: 0, build: (c) => {
    model(c);
    const t = path.join(c.dir, 'model.tar.gz');
    execFileSync('tar', ['-C', c.dir, '-czf', t, 'model']);
    return { op: 'hash', target: t };
  } },
  { id: 'tar-global-pax', category: 'tar', what: 'a global PAX header setting path', exit: 2, code: 'TAR_GLOBAL_HEADER', build: (c) => tarball(c, archive(pax([['path', 'evil.py']], 'g'), file('.git/x'))) },
  { id: 'tar-pax-sparse', category: 'tar', what: 'PAX 1.0 sparse keywords (GNU.sparse.name)', exit: 2, code: 'TAR_SPARSE', build: (c) => tarball(c, archive(pax([['GNU.sparse.name', 'evil.py'], ['GNU.sparse.major', '1']]), file('.git/x'))) },
  { id: 'tar-gnu-sparse', category: 'tar', what: 'a GNU sparse entry (typeflag S)', exit: 2, code: 'TAR_SPARSE', build: (c) => tarball(c, archive(entry({ name: 'w.bin', typeflag: 'S', body: 'x', format: 'gnu' }))) },
  { id: 'tar-two-pax', category: 'tar', what: 'two PAX headers in a row', exit: 2, code: 'TAR_EXTENDED_HEADER_REPEATED', build: (c) => tarball(c, archive(pax([['path', 'evil.py']]), pax([['path', '.git/x']]), file('config.json'))) },
  { id: 'tar-two-gnu-long', category: 'tar', what: 'two GNU long names in a row', exit: 2, code: 'TAR_EXTENDED_HEADER_REPEATED', build: (c) => tarball(c, archive(gnuLong('evil.py'), gnuLong('.git/x'), file('config.json', undefined, { format: 'gnu' }))) },
  { id: 'tar-v7-dir-data', category: 'tar', what: 'a V7 folder entry (typeflag NUL, name/) under .git carrying an archive', exit: 2, code: 'TAR_FILE_NAME_SLASH', build: (c) => tarball(c, archive(file('config.json'), entry({ name: '.git/', typeflag: '\0', body: archive(evil) }))) },
  { id: 'tar-dir-data', category: 'tar', what: 'a folder entry carrying data', exit: 2, code: 'TAR_DIRECTORY_WITH_DATA', build: (c) => tarball(c, archive(entry({ name: 'd', typeflag: '5', body: evil }))) },
  { id: 'tar-file-slash', category: 'tar', what: 'a regular file whose name ends in "/"', exit: 2, code: 'TAR_FILE_NAME_SLASH', build: (c) => tarball(c, archive(entry({ name: 'x/', typeflag: '0', body: 'data' }))) },
  { id: 'tar-after-eof', category: 'tar', what: 'an entry after the end-of-archive blocks', exit: 2, code: 'TAR_TRAILING_DATA', build: (c) => tarball(c, Buffer.concat([archive(file('config.json')), evil])) },
  { id: 'tar-gnu-prefix', category: 'tar', what: 'a GNU header with a ustar prefix', exit: 2, code: 'TAR_AMBIGUOUS_HEADER', build: (c) => tarball(c, archive(file('evil.py', 'x', { format: 'gnu', prefix: '.git' }))) },
  { id: 'tar-bad-size', category: 'tar', what: 'a size field with an underscore', exit: 2, code: 'TAR_BAD_NUMBER', build: (c) => tarball(c, archive(file('a', evil, { sizeField: Buffer.from('0000_0\0\0\0\0\0\0') }))) },
  { id: 'tar-symlink', category: 'tar', what: 'a symbolic link', exit: 2, code: 'TAR_LINK_REFUSED', build: (c) => tarball(c, archive(file('a'), entry({ name: 'l', typeflag: '2', linkname: '/etc/passwd' }))) },
  { id: 'tar-hardlink', category: 'tar', what: 'a hard link', exit: 2, code: 'TAR_LINK_REFUSED', build: (c) => tarball(c, archive(file('a'), entry({ name: 'h', typeflag: '1', linkname: 'a' }))) },
  { id: 'tar-fifo', category: 'tar', what: 'a FIFO', exit: 2, code: 'TAR_BAD_TYPE', build: (c) => tarball(c, archive(entry({ name: 'p', typeflag: '6' }))) },
  { id: 'tar-dotdot', category: 'tar', what: 'a ../ name', exit: 2, code: 'TAR_BAD_NAME', build: (c) => tarball(c, archive(file('../evil.py'))) },
  { id: 'tar-absolute', category: 'tar', what: 'an absolute name', exit: 2, code: 'TAR_BAD_NAME', build: (c) => tarball(c, archive(file('/etc/cron.d/x'))) },
  { id: 'tar-dotdot-ignored', category: 'tar', what: 'a ../ name under the ignored .git', exit: 2, code: 'TAR_BAD_NAME', build: (c) => tarball(c, archive(file('.git/../../evil.py'))) },
  { id: 'tar-duplicate', category: 'tar', what: 'the same name twice', exit: 2, code: 'TAR_DUPLICATE', build: (c) => tarball(c, archive(file('a', '1'), file('./a', '2'))) },
  { id: 'tar-file-folder', category: 'tar', what: 'a file that is also a folder', exit: 2, code: 'TAR_FILE_FOLDER_CONFLICT', build: (c) => tarball(c, archive(file('a'), file('a/b'))) },
  { id: 'tar-outside-top', category: 'tar', what: 'an entry outside the top folder', exit: 2, code: 'TAR_OUTSIDE_TOP', build: (c) => tarball(c, archive(dir('m/'), file('m/a'), file('other/b'))) },
  { id: 'tar-name-too-long', category: 'tar', what: 'a name over PATH_MAX', exit: 2, code: 'TAR_NAME_TOO_LONG', build: (c) => tarball(c, archive(pax([['path', `${'a/'.repeat(2100)}f`]]), file('x'))) },
  { id: 'tar-truncated-gz', category: 'tar', what: 'a truncated .tar.gz', exit: 2, code: 'TAR_CORRUPT', build: (c) => {
    model(c);
    const t = path.join(c.dir, 'model.tar.gz');
    execFileSync('tar', ['-C', c.dir, '-czf', t, 'model']);
    const whole = execFileSync('cat', [t]);
    writeFileSync(t, whole.subarray(0, whole.length - 40));
    return { op: 'hash', target: t };
  } },

  // ---- signed tarballs, then changed (verify) -----------------------------------
  { id: 'tar-signed-intact', category: 'tar', what: 'a signed tarball, unchanged', exit: 0, build: (c) => signedTar(c, () => {}) },
  { id: 'tar-signed-appended-entry', category: 'tar', what: 'a signed tarball with an entry appended after its end', exit: 2, code: 'TAR_TRAILING_DATA', build: (c) => signedTar(c, (t) => appendFileSync(t, evil)) },
  { id: 'tar-signed-added-file', category: 'tar', what: 'a signed tarball rebuilt with an extra file', exit: 1, code: 'MODEL_MISMATCH', build: (c) => signedTar(c, (t, root) => {
    writeFileSync(path.join(root, 'evil.py'), 'import os\n');
    execFileSync('tar', ['-C', c.dir, '-cf', t, 'model']);
  }) },
  { id: 'tar-signed-renamed-file', category: 'tar', what: 'a signed tarball rebuilt with a file renamed', exit: 1, code: 'MODEL_MISMATCH', build: (c) => signedTar(c, (t, root) => {
    renameSync(path.join(root, 'tokenizer.json'), path.join(root, 'tokenizer2.json'));
    execFileSync('tar', ['-C', c.dir, '-cf', t, 'model']);
  }) },

  // ---- paths and file types -------------------------------------------------------
  { id: 'path-symlink', category: 'paths', what: 'a symlink in the model', exit: 2, code: 'SYMLINK_REFUSED', build: (c) => {
    const root = model(c);
    symlinkSync('/etc/passwd', path.join(root, 'passwd'));
    return { op: 'hash', target: root };
  } },
  { id: 'path-symlink-escape', category: 'paths', what: 'with --allow-symlinks, a symlink leaving the model', exit: 2, code: 'SYMLINK_ESCAPES_MODEL', build: (c) => {
    const root = model(c);
    symlinkSync('../..', path.join(root, 'up'));
    return { op: 'hash', target: root, opts: { allowSymlinks: true } };
  } },
  { id: 'path-symlink-loop', category: 'paths', what: 'with --allow-symlinks, a folder link to its own parent', exit: 2, code: 'SYMLINK_LOOP', build: (c) => {
    const root = model(c);
    symlinkSync('..', path.join(root, 'weights', 'up'));
    return { op: 'hash', target: root, opts: { allowSymlinks: true } };
  } },
  // two links pointing at each other never resolve: reported as a broken link (ELOOP on resolution)
  { id: 'path-symlink-cycle', category: 'paths', what: 'with --allow-symlinks, two links pointing at each other', exit: 2, code: 'BROKEN_SYMLINK', build: (c) => {
    const root = model(c);
    symlinkSync('b', path.join(root, 'a'));
    symlinkSync('a', path.join(root, 'b'));
    return { op: 'hash', target: root, opts: { allowSymlinks: true } };
  } },
  { id: 'path-fifo', category: 'paths', what: 'a FIFO in the model', exit: 2, code: 'BAD_FILE_TYPE', build: (c) => {
    const root = model(c);
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    return { op: 'hash', target: root };
  } },
  { id: 'path-symlink-added', category: 'paths', what: 'a symlink added to a signed model', exit: 2, code: 'SYMLINK_REFUSED', build: async (c) => {
    const root = await signed(c, model(c));
    symlinkSync('config.json', path.join(root, 'extra.json'));
    return { op: 'verify', target: root };
  } },
  { id: 'path-hardlink', category: 'paths', what: 'a hard link inside the model (two names, one file): both signed', exit: 0, build: async (c) => {
    const root = model(c);
    linkSync(path.join(root, 'config.json'), path.join(root, 'config-copy.json'));
    return { op: 'verify', target: await signed(c, root) };
  } },
  { id: 'path-nfc-nfd', category: 'paths', what: 'a signed NFC name renamed to its NFD form', exit: 1, code: 'MODEL_MISMATCH', build: async (c) => {
    const root = await signed(c, model(c, { ...files, 'caf\u00e9.json': '{}' }));
    renameSync(path.join(root, 'caf\u00e9.json'), path.join(root, 'cafe\u0301.json'));
    return { op: 'verify', target: root };
  } },
  { id: 'path-case-rename', category: 'paths', what: 'a signed file renamed to another case', exit: 1, code: 'MODEL_MISMATCH', build: async (c) => {
    const root = await signed(c, model(c));
    renameSync(path.join(root, 'config.json'), path.join(root, 'Config.json'));
    return { op: 'verify', target: root };
  } },
  { id: 'path-control-chars', category: 'paths', what: 'names with newline, CR and ESC, signed and verified', exit: 0, build: async (c) => ({ op: 'verify', target: await signed(c, model(c, { ...files, 'a\nb.txt': '1', 'c\rd.txt': '2', 'e\u001b[31mf.txt': '3' })) }) },
  { id: 'path-control-chars-changed', category: 'paths', what: 'a changed file whose name holds a newline', exit: 1, code: 'MODEL_MISMATCH', build: async (c) => {
    const root = await signed(c, model(c, { ...files, 'a\nb.txt': '1' }));
    writeFileSync(path.join(root, 'a\nb.txt'), '2');
    return { op: 'verify', target: root };
  } },
  { id: 'path-colons-shards', category: 'paths', what: 'file names shaped like shard names (w:0:10), sharded', exit: 0, build: async (c) => ({ op: 'verify', target: await signed(c, model(c, { 'w:0:10': Buffer.alloc(30, 1), 'w': Buffer.alloc(10, 2) }), { method: 'shards', shardSize: 16 }) }) },
  { id: 'path-colons-shards-swap', category: 'paths', what: 'contents of w and w:0:10 swapped after sharded signing', exit: 1, code: 'MODEL_MISMATCH', build: async (c) => {
    const root = await signed(c, model(c, { 'w:0:10': Buffer.alloc(10, 1), 'w': Buffer.alloc(10, 2) }), { method: 'shards', shardSize: 16 });
    writeFileSync(path.join(root, 'w:0:10'), Buffer.alloc(10, 2));
    writeFileSync(path.join(root, 'w'), Buffer.alloc(10, 1));
    return { op: 'verify', target: root };
  } },
  { id: 'path-deep-tree', category: 'paths', what: 'a 120-level deep tree, signed and verified', exit: 0, build: async (c) => ({ op: 'verify', target: await signed(c, model(c, { ...files, [`${'d/'.repeat(120)}leaf.bin`]: 'deep' })) }) },
  { id: 'path-deep-tree-moved', category: 'paths', what: 'a file moved one level deeper', exit: 1, code: 'MODEL_MISMATCH', build: async (c) => {
    const deep = 'd/'.repeat(30);
    const root = await signed(c, model(c, { ...files, [`${deep}leaf.bin`]: 'deep' }));
    mkdirSync(path.join(root, deep, 'd'));
    renameSync(path.join(root, deep, 'leaf.bin'), path.join(root, deep, 'd/leaf.bin'));
    return { op: 'verify', target: root };
  } },
];
