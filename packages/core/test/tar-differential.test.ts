import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel, isUnder, ModelPathError } from '@modelseal/core/internals';
import { bytes, tempDir, writeTree } from './helpers.js';
import { archive, dir, entry, extractWith, file, gnuLong, pax, type Extracted } from './tar-craft.js';

/**
 * A tarball is hashed as a stream, never extracted, so what a standard reader
 * (GNU tar, Python's tarfile) extracts from it must be exactly what was
 * hashed, or the archive must be refused. Every hostile archive here is built
 * byte by byte and extracted with both readers.
 */

const IGNORE = ['.git'];

async function hashed(tarPath: string): Promise<Extracted> {
  const m = await hashModel(tarPath, { ignorePaths: IGNORE });
  return Object.fromEntries(m.resources.map((r) => [r.name, r.digest]));
}

function withoutIgnored(files: Extracted, top = ''): Extracted {
  const out: Extracted = {};
  for (const [k, v] of Object.entries(files)) {
    const name = top ? k.slice(top.length + 1) : k;
    if (!IGNORE.some((p) => isUnder(name, p))) out[name] = v;
  }
  return out;
}

async function codeOf(tarPath: string): Promise<string | undefined> {
  try {
    await hashModel(tarPath, { ignorePaths: IGNORE });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelPathError);
    return (e as ModelPathError).code;
  }
}

function write(bytesOf: Buffer, name = 'm.tar'): string {
  const p = path.join(tempDir(), name);
  writeFileSync(p, bytesOf);
  return p;
}

const evil = file('evil.py', 'import os; os.system("id")\n');

describe('tarballs: what standard readers extract is what was hashed', () => {
  const tree = {
    'config.json': '{"a":1}',
    'weights/model.safetensors': bytes(70_000, 9),
    'empty.txt': '',
    'ü/名前.bin': 'n',
    [`long/${'d'.repeat(120)}/${'f'.repeat(140)}.bin`]: bytes(1000, 2),
    '.git/config': 'ignored but checked',
  };

  it.each(['gnu', 'posix', 'ustar-short-names'])('accepts archives GNU tar writes (--format=%s)', async (format) => {
    const files = format === 'ustar-short-names' ? Object.fromEntries(Object.entries(tree).filter(([k]) => k.length < 100)) : tree;
    const root = writeTree(path.join(tempDir(), 'mymodel'), files);
    const t = path.join(tempDir(), 'm.tar');
    execFileSync('tar', [`--format=${format.replace('-short-names', '')}`, '-C', path.dirname(root), '-cf', t, 'mymodel']);
    const got = await hashed(t);
    expect(got).toEqual(Object.fromEntries((await hashModel(root, { ignorePaths: IGNORE })).resources.map((r) => [r.name, r.digest])));
    for (const reader of ['gnu-tar', 'python'] as const) expect(withoutIgnored(extractWith(reader, t).files, 'mymodel'), reader).toEqual(got);
  });

  it.each(['GNU_FORMAT', 'PAX_FORMAT'])("accepts archives Python's tarfile writes (%s)", async (format) => {
    const root = writeTree(path.join(tempDir(), 'mymodel'), tree);
    const t = path.join(tempDir(), 'm.tar.gz');
    const py = `import sys, tarfile\nwith tarfile.open(sys.argv[1], "w:gz", format=tarfile.${format}) as t: t.add(sys.argv[2], arcname=".")`;
    const r = spawnSync('python3', ['-c', py, t, root], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = await hashed(t);
    expect(Object.keys(got).length).toBe(Object.keys(tree).length - 1);
    for (const reader of ['gnu-tar', 'python'] as const) expect(withoutIgnored(extractWith(reader, t).files), reader).toEqual(got);
  });

  it('accepts one PAX header (path, size, vendor keys) or one GNU long name per entry, read alike by all', async () => {
    const long = `a/${'x'.repeat(150)}.bin`;
    const t = write(
      archive(
        pax([['path', long], ['mtime', '1700000000.5'], ['SCHILY.xattr.user.k', 'v']]),
        file('placeholder', 'pax named'),
        pax([['size', '4']]),
        file('sized', 'abcd'),
        gnuLong(`b/${'y'.repeat(130)}`),
        file('ignored-name', 'gnu named', { format: 'gnu' }),
        dir('c'),
        file('c/d', ''),
      ),
    );
    const got = await hashed(t);
    expect(Object.keys(got).sort()).toEqual([long, `b/${'y'.repeat(130)}`, 'c/d', 'sized'].sort());
    for (const reader of ['gnu-tar', 'python'] as const) expect(withoutIgnored(extractWith(reader, t).files), reader).toEqual(got);
  });

  // Each archive below extracts, with GNU tar or Python, to something other
  // than what tar-stream alone reads. `extracts` names what a standard reader
  // makes of it that tar-stream did not hash (the hazard, checked too).
  const cases: Array<[string, Buffer, string, { extracts?: string }]> = [
    ['a V7 folder (typeflag NUL, name ending in "/") under .git/ carrying an archive', archive(file('config.json'), entry({ name: '.git/', typeflag: '\0', body: archive(evil) })), 'TAR_FILE_NAME_SLASH', { extracts: 'evil.py' }],
    ['a regular file (typeflag 0) named ".git/" carrying an entry', archive(file('config.json'), entry({ name: '.git/', typeflag: '0', body: evil })), 'TAR_FILE_NAME_SLASH', { extracts: 'evil.py' }],
    ['a folder entry carrying data', archive(file('config.json'), entry({ name: '.git', typeflag: '5', body: evil })), 'TAR_DIRECTORY_WITH_DATA', { extracts: 'evil.py' }],
    ['a contiguous file whose name ends in "/"', archive(file('config.json'), entry({ name: 'x/', typeflag: '7', body: 'hello' })), 'TAR_FILE_NAME_SLASH', {}],
    ['a global PAX header setting path', archive(pax([['path', 'evil.py']], 'g'), file('.git/x', 'import os\n')), 'TAR_GLOBAL_HEADER', { extracts: 'evil.py' }],
    [
      'PAX 1.0 sparse keywords (GNU.sparse.name)',
      archive(pax([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', 'evil.py'], ['GNU.sparse.realsize', '10']]), file('.git/x', Buffer.concat([Buffer.from('1\n0\n10\n'), Buffer.alloc(505), Buffer.from('import os\n')]))),
      'TAR_SPARSE',
      { extracts: 'evil.py' },
    ],
    ['a GNU sparse entry (typeflag S)', archive(entry({ name: 'evil.py', typeflag: 'S', body: 'x', format: 'gnu' })), 'TAR_SPARSE', {}],
    ['two PAX headers in a row', archive(pax([['path', 'evil.py']]), pax([['path', '.git/x']]), file('config.json')), 'TAR_EXTENDED_HEADER_REPEATED', { extracts: 'evil.py' }],
    ['two GNU long names in a row', archive(gnuLong('evil.py'), gnuLong('.git/x'), file('config.json', undefined, { format: 'gnu' })), 'TAR_EXTENDED_HEADER_REPEATED', { extracts: 'evil.py' }],
    ['a PAX header then a GNU long name', archive(pax([['path', '.git/x']]), gnuLong('evil.py'), file('config.json', undefined, { format: 'gnu' })), 'TAR_EXTENDED_HEADER_REPEATED', {}],
    ['a PAX keyword given twice', archive(pax([['path', 'evil.py'], ['path', '.git/x']]), file('config.json')), 'TAR_PAX_MALFORMED', {}],
    ['a PAX record with a wrong length', archive(entry({ name: 'P', typeflag: 'x', body: '99 path=evil.py\n' }), file('config.json')), 'TAR_PAX_MALFORMED', {}],
    ['a PAX hdrcharset=BINARY name', archive(pax([['hdrcharset', 'BINARY'], ['path', 'caf\u00e9']]), file('x')), 'TAR_PAX_UNSUPPORTED', {}],
    ['a PAX linkpath', archive(pax([['linkpath', 'evil.py']]), file('x')), 'TAR_PAX_UNSUPPORTED', {}],
    ['an extended header at the end of the archive', archive(file('config.json'), pax([['path', 'evil.py']])), 'TAR_EXTENDED_HEADER_DANGLING', {}],
    ['an extended header over the size limit', archive(entry({ name: 'P', typeflag: 'x', size: 2 << 20, body: '' })), 'TAR_EXTENDED_HEADER_TOO_LARGE', {}],
    ['an entry after the end-of-archive blocks', Buffer.concat([archive(file('config.json')), evil]), 'TAR_TRAILING_DATA', {}],
    ['an entry after one zero block', Buffer.concat([file('config.json'), Buffer.alloc(512), evil, Buffer.alloc(1024)]), 'TAR_TRAILING_DATA', {}],
    ['a GNU header with a "prefix" (Python joins it, GNU tar does not)', archive(file('evil.py', 'x', { format: 'gnu', prefix: '.git' })), 'TAR_AMBIGUOUS_HEADER', { extracts: 'evil.py' }],
    ['a V7 header (no magic) with a "prefix"', archive(file('evil.py', 'x', { format: 'v7', prefix: '.git' })), 'TAR_UNKNOWN_FORMAT', { extracts: 'evil.py' }],
    ['a size field Python reads with int() ("0000_0")', archive(file('.git/a', evil, { sizeField: Buffer.from('0000_0\0\0\0\0\0\0') })), 'TAR_BAD_NUMBER', { extracts: 'evil.py' }],
    ['a checksum that only matches as a signed sum', archive(file('caf\u00e9', 'x', { signedChecksum: true })), 'TAR_CORRUPT', {}],
    ['a name that is not UTF-8', archive(entry({ name: Buffer.from([0x63, 0xff]), typeflag: '0', body: 'x' })), 'TAR_BAD_NAME', {}],
    ['a file and a folder of the same name', archive(file('a'), file('a/b')), 'TAR_FILE_FOLDER_CONFLICT', {}],
    ['a file below a file given later', archive(file('a/b'), file('a')), 'TAR_FILE_FOLDER_CONFLICT', {}],
    ['an empty GNU long name', archive(entry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }), file('x', 'y', { format: 'gnu' })), 'TAR_BAD_NAME', {}],
    ['a GNU long link (typeflag K)', archive(gnuLong('/etc/passwd', 'K'), file('x')), 'TAR_LINK_REFUSED', {}],
    ['a symbolic link under an ignored folder', archive(file('config.json'), entry({ name: '.git/l', typeflag: '2', linkname: '/etc/passwd' })), 'TAR_LINK_REFUSED', {}],
    ['a ../ name under an ignored folder', archive(file('.git/../../evil.py')), 'TAR_BAD_NAME', {}],
    ['a duplicate under an ignored folder', archive(file('.git/a'), file('.git/a')), 'TAR_DUPLICATE', {}],
    ['a name over PATH_MAX (4096 bytes)', archive(pax([['path', `${'a/'.repeat(2100)}f`]]), file('placeholder')), 'TAR_NAME_TOO_LONG', {}],
    ['a GNU dumpdir entry (typeflag D)', archive(entry({ name: 'd', typeflag: 'D', body: 'Yevil.py\0\0', format: 'gnu' })), 'TAR_BAD_TYPE', {}],
    ['a volume label (typeflag V)', archive(entry({ name: 'label', typeflag: 'V', format: 'gnu' }), file('x')), 'TAR_BAD_TYPE', {}],
  ];

  it.each(cases)('refuses %s', async (_what, archiveBytes, code, { extracts }) => {
    const t = write(archiveBytes);
    expect(await codeOf(t)).toBe(code);
    if (extracts) {
      const made = ['gnu-tar', 'python'].flatMap((r) => Object.keys(extractWith(r as 'gnu-tar', t).files));
      expect(made, 'the hazard this case is about: a standard reader extracts the unsigned file').toContain(extracts);
    }
  });

  it('refuses the same forms inside a gzip stream', async () => {
    const gz = path.join(tempDir(), 'm.tar.gz');
    writeFileSync(path.join(path.dirname(gz), 'm.tar'), cases[0]![1]);
    execFileSync('gzip', ['-k', path.join(path.dirname(gz), 'm.tar')]);
    expect(await codeOf(gz)).toBe('TAR_FILE_NAME_SLASH');
  });
});
