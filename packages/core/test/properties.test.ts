import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparePaths,
  compareResourceNames,
  createManifest,
  DIGEST_BYTES,
  exitCodeFor,
  hashModel,
  hashPart,
  keySigner,
  mergePartialManifests,
  ModelsealError,
  parseOmsStatement,
  shardName,
  signModel,
  toOmsStatement,
  verifyModel,
  type HashType,
  type Serialization,
} from '@modelseal/core/internals';
import { tempDir } from './helpers.js';

/**
 * Properties over generated inputs (fast-check; failures print a seed and a
 * shrunk counterexample to replay). numRuns stay modest: the file runs in
 * well under 30 s.
 */

// Characters chosen to hit the ordering traps: "." < "/" in a plain sort, an
// astral character (UTF-16 order differs from code-point order), non-ASCII.
const segment = fc
  .array(fc.constantFrom('a', 'b', 'A', '.', '-', '_', '0', 'ü', '名', '\u{1F600}', '\uFF61', ' '), { minLength: 1, maxLength: 5 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const relPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const hashType = fc.constantFrom<HashType>('sha256', 'blake2b', 'blake3');
const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

/** Python's PurePosixPath order, written independently: tuples of parts, each part by code points. */
function referenceOrder(a: string, b: string): number {
  const pa = a.split('/').map((s) => [...s].map((c) => c.codePointAt(0)!));
  const pb = b.split('/').map((s) => [...s].map((c) => c.codePointAt(0)!));
  const cmpParts = (x: number[], y: number[]) => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = cmpParts(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

const sign = (n: number) => Math.sign(n);

describe('properties: canonical order', () => {
  it('comparePaths is a total order equal to the PurePosixPath order', () => {
    fc.assert(
      fc.property(relPath, relPath, relPath, (a, b, c) => {
        expect(sign(comparePaths(a, a))).toBe(0);
        expect(sign(comparePaths(a, b)) + sign(comparePaths(b, a))).toBe(0);
        expect(comparePaths(a, b) === 0).toBe(a === b);
        expect(sign(comparePaths(a, b))).toBe(sign(referenceOrder(a, b)));
        if (comparePaths(a, b) <= 0 && comparePaths(b, c) <= 0) expect(comparePaths(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('sorting resource names gives one order whatever the input order (files and shards)', () => {
    const shards = fc.uniqueArray(fc.tuple(relPath, fc.nat(3)), { minLength: 1, maxLength: 8, selector: ([p, i]) => `${p}\0${i}` }).map((xs) => xs.map(([p, i]) => shardName(p, i * 10, i * 10 + 10)));
    const names = fc.oneof(
      fc.uniqueArray(relPath, { minLength: 1, maxLength: 10 }).map((n) => ({ method: 'files' as const, n })),
      shards.map((n) => ({ method: 'shards' as const, n })),
    );
    fc.assert(
      fc.property(names, fc.infiniteStream(fc.nat()), ({ method, n }, rand) => {
        const sorted = [...n].sort((a, b) => compareResourceNames(a, b, method));
        const shuffled = [...n].map((x) => [rand.next().value as number, x] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
        expect([...shuffled].sort((a, b) => compareResourceNames(a, b, method))).toEqual(sorted);
        for (let i = 1; i < sorted.length; i++) expect(compareResourceNames(sorted[i - 1]!, sorted[i]!, method)).toBeLessThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties: manifest round trip', () => {
  const manifest = hashType.chain((ht) =>
    fc.oneof(
      fc.record({
        s: fc.record({ method: fc.constant('files' as const), hashType: fc.constant(ht), allowSymlinks: fc.boolean(), ignorePaths: fc.option(fc.uniqueArray(relPath, { maxLength: 3 }), { nil: undefined }) }),
        resources: fc.uniqueArray(fc.tuple(relPath, hex(DIGEST_BYTES[ht])), { minLength: 1, maxLength: 8, selector: (x) => x[0] }).map((xs) => xs.map(([name, digest]) => ({ name, algorithm: ht, digest }))),
      }),
      fc.integer({ min: 1, max: 1 << 30 }).chain((shardSize) =>
        fc.record({
          s: fc.record({ method: fc.constant('shards' as const), hashType: fc.constant(ht), allowSymlinks: fc.boolean(), shardSize: fc.constant(shardSize), ignorePaths: fc.option(fc.uniqueArray(relPath, { maxLength: 3 }), { nil: undefined }) }),
          resources: fc
            .uniqueArray(fc.tuple(relPath, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: shardSize })), { minLength: 1, maxLength: 5, selector: (x) => x[0] })
            .chain((files) => {
              const names = files.flatMap(([p, n, last]) => Array.from({ length: n }, (_, i) => shardName(p, i * shardSize, i * shardSize + (i === n - 1 ? last : shardSize))));
              return fc.tuple(...names.map(() => hex(DIGEST_BYTES[ht]))).map((ds) => names.map((name, i) => ({ name, algorithm: `${ht}-sharded-${shardSize}`, digest: ds[i]! })));
            }),
        }),
      ),
    ),
  );

  it('toOmsStatement -> JSON -> parseOmsStatement gives back the same manifest', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), manifest, (name, { s, resources }) => {
        const ser = (s.ignorePaths === undefined ? (({ ignorePaths: _i, ...rest }) => rest)(s) : s) as Serialization;
        const m = createManifest(name, ser, resources);
        const back = parseOmsStatement(JSON.parse(JSON.stringify(toOmsStatement(m))));
        expect(back).toEqual(m);
        expect(JSON.stringify(toOmsStatement(back))).toBe(JSON.stringify(toOmsStatement(m)));
      }),
      { numRuns: 200 },
    );
  });
});

// Small models whose files and folders cannot collide: folders are d*, files f*.
const fileName = fc.tuple(fc.option(fc.constantFrom('d1', 'd2', 'd1/d3'), { nil: undefined }), fc.constantFrom('f1', 'f2', 'f3.bin', 'f4.json', 'fü')).map(([d, f]) => (d ? `${d}/${f}` : f));
const model = fc.dictionary(fileName, fc.uint8Array({ maxLength: 200 }), { minKeys: 1, maxKeys: 4 });
const hashOpts = fc.oneof(fc.constant({}), fc.constantFrom(16, 64).map((shardSize) => ({ method: 'shards' as const, shardSize })));

function writeModel(files: Record<string, Uint8Array>): string {
  const root = path.join(tempDir('modelseal-prop-'), 'model');
  for (const [n, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, n)), { recursive: true });
    writeFileSync(path.join(root, n), data);
  }
  return root;
}

type Change = { kind: 'flip' | 'append' | 'truncate' | 'rename' | 'add'; pick: number; at: number; value: number };
const change = fc.record({ kind: fc.constantFrom('flip', 'append', 'truncate', 'rename', 'add'), pick: fc.nat(), at: fc.nat(), value: fc.integer({ min: 1, max: 255 }) }) as fc.Arbitrary<Change>;

/** Applies one change to the model folder; returns false when it does not apply (e.g. flipping a byte of an empty file). */
function apply(root: string, files: Record<string, Uint8Array>, c: Change): boolean {
  const names = Object.keys(files);
  const name = names[c.pick % names.length]!;
  const p = path.join(root, name);
  const data = files[name]!;
  switch (c.kind) {
    case 'flip': {
      if (data.length === 0) return false;
      const b = Buffer.from(readFileSync(p));
      b[c.at % b.length]! ^= c.value;
      writeFileSync(p, b);
      return true;
    }
    case 'append':
      appendFileSync(p, Buffer.alloc(1 + (c.at % 64), c.value));
      return true;
    case 'truncate':
      if (data.length === 0) return false;
      truncateSync(p, c.at % data.length);
      return true;
    case 'rename':
      renameSync(p, path.join(path.dirname(p), `g${c.value}`));
      return true;
    case 'add':
      writeFileSync(path.join(root, `extra-${c.value}.py`), Buffer.alloc(c.at % 10, c.value));
      return true;
  }
}

describe('properties: verification', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  it('any single-byte change, append, truncation, rename or added file fails verification (exit 1)', async () => {
    await fc.assert(
      fc.asyncProperty(model, hashOpts, change, async (files, opts, c) => {
        // shards give empty files no resource (OMS 6.3.2): a model of empty files only has nothing to sign
        fc.pre(!('method' in opts) || Object.values(files).some((d) => d.length > 0));
        // the known gap below: with shards, an empty file has no resource, so its name is not signed
        const emptyTouched = c.kind === 'rename' ? files[Object.keys(files)[c.pick % Object.keys(files).length]!]!.length === 0 : c.kind === 'add' && c.at % 10 === 0;
        fc.pre(!('method' in opts && emptyTouched));
        const root = writeModel(files);
        await signModel(root, { signer: keySigner(privateKey), hash: opts });
        await verifyModel(root, { trust: { publicKey } }); // intact: verifies
        fc.pre(apply(root, files, c));
        let err: unknown;
        try {
          await verifyModel(root, { trust: { publicKey } });
        } catch (e) {
          err = e;
        }
        expect(err, `${c.kind} should fail verification`).toBeInstanceOf(ModelsealError);
        expect((err as ModelsealError).family).toBe('verification');
        expect(exitCodeFor(err)).toBe(1);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
  });

  // Found by the property above. OMS 6.3.2 gives an empty file no shard, so a
  // shard manifest does not name empty files: adding, renaming or deleting one
  // (an empty __init__.py changes what Python imports) verifies. The signed
  // manifest carries no trace of them, so a fix needs the format to record
  // them. it.fails: this starts failing, loudly, once verification catches it.
  it.fails('KNOWN GAP: with --method shards, an added or renamed empty file is not detected', async () => {
    const root = writeModel({ 'w.bin': Buffer.alloc(100, 1), 'pkg/__init__.py': Buffer.alloc(0) });
    await signModel(root, { signer: keySigner(privateKey), hash: { method: 'shards', shardSize: 64 } });
    writeFileSync(path.join(root, '__init__.py'), '');
    renameSync(path.join(root, 'pkg/__init__.py'), path.join(root, 'pkg/other.py'));
    await expect(verifyModel(root, { trust: { publicKey } })).rejects.toBeInstanceOf(ModelsealError);
  });

  // Found by the property below: an empty file sorting after every byte of
  // the model was planned into part N + 1, which no part hashes.
  it('an empty file that sorts last is in the merged manifest of the parts', async () => {
    const root = writeModel({ 'd1/f1': Buffer.from('x'), f2: Buffer.alloc(0) });
    for (const count of [1, 2, 3]) {
      const parts = await Promise.all(Array.from({ length: count }, (_, i) => hashPart(root, { index: i + 1, count })));
      expect(mergePartialManifests(parts).resources.map((r) => r.name), `${count} parts`).toEqual(['d1/f1', 'f2']);
    }
  });

  it('a folder, a tarball of it (plain and gzipped) and the merge of its parts hash the same', async () => {
    await fc.assert(
      fc.asyncProperty(model, hashOpts, fc.boolean(), fc.integer({ min: 1, max: 4 }), async (files, opts, gz, count) => {
        const root = writeModel(files);
        const t = path.join(path.dirname(root), gz ? 'm.tar.gz' : 'm.tar');
        execFileSync('tar', ['-C', path.dirname(root), gz ? '-czf' : '-cf', t, 'model']);
        const whole = await hashModel(root, opts);
        expect(await hashModel(t, opts)).toEqual(whole);
        const parts = await Promise.all(Array.from({ length: count }, (_, i) => hashPart(root, { index: i + 1, count }, opts)));
        expect(mergePartialManifests(parts)).toEqual(whole);
      }),
      { numRuns: 25 },
    );
  });
});
