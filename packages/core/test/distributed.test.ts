import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hashModel,
  hashPart,
  mergePartialManifests,
  parsePartSpec,
  planParts,
  serializationFor,
  toPartialManifestJson,
  type HashOptions,
  type PartialManifest,
} from '@modelseal/core/internals';
import { bytes, codeOf, tempDir, writeTree } from './helpers.js';

const SHARDS: HashOptions = { method: 'shards', shardSize: 1000 };
const schemaOk = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../schemas/partial-manifest-v1.schema.json'), 'utf8')),
);

/** 3 "weights" of uneven sizes, a config, an empty file, a nested file: 16 shards of 1000 bytes at most. */
function model(): string {
  return writeTree(path.join(tempDir(), 'm'), {
    'w1.bin': bytes(5500, 1),
    'w2.bin': bytes(3000, 2),
    'sub/w3.bin': bytes(4200, 3),
    'config.json': '{"layers":2}',
    'empty': '',
    'tokenizer.txt': bytes(900, 4),
  });
}

async function parts(dir: string, n: number, opts: HashOptions = SHARDS): Promise<PartialManifest[]> {
  const out: PartialManifest[] = [];
  for (let i = 1; i <= n; i++) out.push(await hashPart(dir, { index: i, count: n }, opts));
  return out;
}

/** A partial manifest through its wire form, edited, as a file would be. */
function write(dir: string, p: PartialManifest, edit: (j: any) => void = () => {}): string {
  const j = JSON.parse(JSON.stringify(toPartialManifestJson(p)));
  edit(j);
  const f = path.join(dir, `part-${p.part.index}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(j));
  return f;
}

describe('part rule', () => {
  it('parses I/N and refuses the rest', () => {
    expect(parsePartSpec('2/7')).toEqual({ index: 2, count: 7 });
    for (const s of ['0/3', '4/3', '1/0', '1', '-1/3', '1/3/4', 'a/b', '1.5/3', '1/100001']) expect(() => parsePartSpec(s), s).toThrow(/BAD_PART|not|between/);
  });

  it('every resource once, parts contiguous in canonical order, each within one shard of T/N bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), size: fc.integer({ min: 0, max: 50_000 }) }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 700, max: 9000 }),
        (raw, n, shardSize) => {
          const files = [...new Map(raw.map((f) => [f.name, f])).values()];
          const s = serializationFor({ method: 'shards', shardSize });
          const plan = planParts(files, s, n);
          const total = files.reduce((t, f) => t + f.size, 0);
          expect(plan.reduce((t, r) => t + r.end - r.start, 0)).toBe(total);
          expect(new Set(plan.map((r) => r.name)).size).toBe(plan.length);
          for (let i = 1; i < plan.length; i++) expect(plan[i]!.part).toBeGreaterThanOrEqual(plan[i - 1]!.part);
          const perPart = new Array<number>(n + 1).fill(0);
          for (const r of plan) perPart[r.part]! += r.end - r.start;
          for (let k = 1; k <= n; k++) expect(Math.abs(perPart[k]! - total / n)).toBeLessThanOrEqual(shardSize);
          // the input order does not matter: the rule sorts
          expect(planParts([...files].reverse(), s, n)).toEqual(plan);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('hash in parts, merge', () => {
  it('the merged root digest equals the single-machine one, for N = 1, 3, 7 and with empty parts', async () => {
    const dir = model();
    const whole = await hashModel(dir, SHARDS);
    for (const n of [1, 3, 7, 40]) {
      const ps = await parts(dir, n);
      if (n === 40) expect(ps.filter((p) => p.resources.length === 0).length).toBeGreaterThan(20);
      for (const p of ps) {
        expect(p.files.map((f) => f.name)).toEqual(['config.json', 'empty', 'sub/w3.bin', 'tokenizer.txt', 'w1.bin', 'w2.bin']);
        expect(schemaOk(toPartialManifestJson(p)), JSON.stringify(schemaOk.errors)).toBe(true);
      }
      const merged = mergePartialManifests([...ps].reverse());
      expect(merged).toEqual(whole);
      // and through files, as the CLI does
      const d = tempDir();
      expect(mergePartialManifests(ps.map((p) => write(d, p)))).toEqual(whole);
    }
  });

  it('works for the files method and other hashes too', async () => {
    const dir = model();
    for (const opts of [{}, { hashType: 'blake3' as const }, { method: 'shards' as const, shardSize: 4096, hashType: 'blake2b' as const }]) {
      expect(mergePartialManifests(await parts(dir, 3, opts))).toEqual(await hashModel(dir, opts));
    }
  });

  it('a single-file model splits too; a tarball is refused', async () => {
    const d = tempDir();
    const f = path.join(d, 'one.bin');
    writeFileSync(f, bytes(10_000, 9));
    expect(mergePartialManifests(await parts(f, 4))).toEqual(await hashModel(f, SHARDS));
    writeFileSync(path.join(d, 'm.tar'), Buffer.alloc(1024));
    expect(await codeOf(hashPart(path.join(d, 'm.tar'), { index: 1, count: 2 }, SHARDS))).toBe('PART_NEEDS_FOLDER');
  });

  it('each gap, overlap, disagreement or tampering fails with its own code, naming it', async () => {
    const dir = model();
    const d = tempDir();
    const ps = await parts(dir, 3);
    const [p1, p2, p3] = ps.map((p) => write(d, p)) as [string, string, string];
    const code = (files: string[]) => codeOf(Promise.resolve().then(() => mergePartialManifests(files)));
    expect(await code([])).toBe('NO_PARTS');
    expect(await code([p1, p3])).toBe('PART_MISSING');
    expect(await code([p1, p2, p3, write(d, ps[1]!)])).toBe('PART_DUPLICATE');
    expect(await code([p1, p2, write(d, ps[2]!, (j) => (j.part.count = 4))])).toBe('PART_COUNT_MISMATCH');
    expect(await code([p1, p2, write(d, ps[2]!, (j) => (j.modelName = 'other'))])).toBe('MODEL_NAME_MISMATCH');
    expect(await code([p1, p2, write(d, ps[2]!, (j) => (j.serialization.ignore_paths = ['.git']))])).toBe('SERIALIZATION_MISMATCH');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.files[0].size += 1)), p3])).toBe('FILE_LIST_MISMATCH');
    expect(await code([p1, write(d, ps[1]!, (j) => j.files.splice(1, 1)), p3])).toBe('FILE_LIST_MISMATCH');
    // resources: removed, moved, doubled, invented, malformed
    expect(await code([p1, write(d, ps[1]!, (j) => j.resources.pop()), p3])).toBe('RESOURCE_MISSING');
    expect(await code([write(d, ps[0]!, (j) => j.resources.push(ps[1]!.resources[0])), p2, p3])).toBe('RESOURCE_WRONG_PART');
    expect(await code([p1, write(d, ps[1]!, (j) => j.resources.push(j.resources[0])), p3])).toBe('RESOURCE_DUPLICATE');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.resources[0].name = 'w2.bin:0:999')), p3])).toBe('RESOURCE_UNEXPECTED');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.resources[0].digest = 'zz')), p3])).toBe('BAD_DIGEST');
    // the file itself
    expect(await code([p1, write(d, ps[1]!, (j) => (j.version = 2)), p3])).toBe('UNSUPPORTED_PARTIAL_MANIFEST_VERSION');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.format = 'oms')), p3])).toBe('BAD_PARTIAL_MANIFEST');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.files[0].name = '../etc/passwd')), p3])).toBe('BAD_PATH');
    expect(await code([p1, write(d, ps[1]!, (j) => j.files.reverse()), p3])).toBe('BAD_PARTIAL_MANIFEST');
    expect(await code([p1, write(d, ps[1]!, (j) => (j.part.index = 0)), p3])).toBe('BAD_PARTIAL_MANIFEST');
    writeFileSync(path.join(d, 'junk.json'), '{"format":');
    expect(await code([p1, path.join(d, 'junk.json'), p3])).toBe('BAD_PARTIAL_MANIFEST');
    expect(await code([p1, path.join(d, 'nope.json'), p3])).toBe('PARTIAL_MANIFEST_NOT_FOUND');
    const msg = await Promise.resolve()
      .then(() => mergePartialManifests([p1, p3]))
      .catch((e: Error) => e.message);
    expect(msg).toContain('missing part 2 of 3');
  });

  it('parts hashed from models that differ do not merge', async () => {
    const a = model();
    const b = model();
    writeFileSync(path.join(b, 'w2.bin'), bytes(3001, 2));
    const [p1] = await parts(a, 2);
    const p2 = await hashPart(b, { index: 2, count: 2 }, SHARDS);
    expect(await codeOf(Promise.resolve().then(() => mergePartialManifests([p1!, p2])))).toBe('FILE_LIST_MISMATCH');
  });
});
