import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, modelseal, modelsealAsync, tmp } from './cli.js';

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = x = (x * 1103515245 + 12345) & 0xff;
  return b;
}

/** 5 shards of at most 256 KiB (a.bin 2, b.bin, c/d.bin, config.json); plus an empty file. */
function model(root: string): string {
  const m = path.join(root, 'model');
  mkdirSync(path.join(m, 'c'), { recursive: true });
  writeFileSync(path.join(m, 'a.bin'), bytes(300_000, 1));
  writeFileSync(path.join(m, 'b.bin'), bytes(200_000, 2));
  writeFileSync(path.join(m, 'c/d.bin'), bytes(150_000, 3));
  writeFileSync(path.join(m, 'config.json'), '{"n":1}');
  writeFileSync(path.join(m, 'empty'), '');
  return m;
}

const SHARDS = ['--method', 'shards', '--shard-size', '256KiB', '-q'];

/** Hashes every part of N at once, one process each, as N machines would. */
async function hashParts(m: string, out: string, n: number, extra: string[] = []): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const files = Array.from({ length: n }, (_, i) => path.join(out, `part-${i + 1}.json`));
  const runs = await Promise.all(files.map((f, i) => modelsealAsync(['hash', m, ...SHARDS, ...extra, '--part', `${i + 1}/${n}`, '--output', f])));
  for (const r of runs) expect(r.status, r.stderr).toBe(0);
  return files;
}

describe('distributed hashing from the command line', () => {
  it('N processes hash parts, merge gives the single-machine digest (N = 1, 3, and 7 with empty parts), sign --manifest verifies', async () => {
    const d = tmp();
    const m = model(d);
    const single = modelseal(['hash', m, ...SHARDS]);
    expect(single.status).toBe(0);
    for (const n of [1, 3, 7]) {
      const parts = await hashParts(m, path.join(d, `n${n}`), n);
      if (n === 7) expect(parts.map((p) => JSON.parse(readFileSync(p, 'utf8')).resources.length)).toEqual([1, 0, 1, 1, 0, 1, 1]);
      const merged = modelseal(['manifest', 'merge', ...parts.reverse(), '--output', path.join(d, `manifest-${n}.json`)]);
      expect(merged.status, merged.stderr).toBe(0);
      expect(merged.stdout).toBe(single.stdout);
    }
    expect(modelseal(['keygen', '--out', path.join(d, 'k')]).status).toBe(0);
    const s = modelseal(['sign', '--manifest', path.join(d, 'manifest-7.json'), '--key', path.join(d, 'k.key'), '--signature', path.join(d, 'model.sig')]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toBe(single.stdout);
    expect(s.stderr).toContain('not read here');
    const v = modelseal(['verify', m, '--key', path.join(d, 'k.pub'), '--signature', path.join(d, 'model.sig')]);
    expect(v.status, v.stderr).toBe(0);
  });

  it('missing, duplicated, tampered and disagreeing parts each exit 2 with their own code', async () => {
    const d = tmp();
    const m = model(d);
    const [p1, p2, p3] = (await hashParts(m, path.join(d, 'p'), 3)) as [string, string, string];
    const [, q2] = (await hashParts(m, path.join(d, 'q'), 3, ['--hash', 'blake2'])) as [string, string, string];
    const tampered = path.join(d, 'tampered.json');
    const j = JSON.parse(readFileSync(p2, 'utf8'));
    j.resources.pop();
    writeFileSync(tampered, JSON.stringify(j));
    for (const [parts, code] of [
      [[p1, p3], 'PART_MISSING'],
      [[p1, p2, p2, p3], 'PART_DUPLICATE'],
      [[p1, tampered, p3], 'RESOURCE_MISSING'],
      [[p1, q2, p3], 'SERIALIZATION_MISMATCH'],
    ] as const) {
      const r = modelseal(['manifest', 'merge', ...parts, '--output', path.join(d, 'out.json')]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`[${code}]`);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
    expect(modelseal(['hash', m, ...SHARDS, '--part', '4/3']).stderr).toContain('[BAD_PART]');
  });

  it('sign --manifest refuses a model path, hashing options, a missing --signature and a forged manifest', () => {
    const d = tmp();
    const m = model(d);
    const man = path.join(d, 'manifest.json');
    expect(modelseal(['hash', m, ...SHARDS, '--output', man]).status).toBe(0);
    expect(modelseal(['keygen', '--out', path.join(d, 'k')]).status).toBe(0);
    const key = path.join(d, 'k.key');
    const sig = path.join(d, 's.sig');
    for (const args of [
      ['sign', m, '--manifest', man, '--key', key, '--signature', sig],
      ['sign', '--manifest', man, '--key', key],
      ['sign', '--manifest', man, '--key', key, '--signature', sig, '--method', 'shards'],
    ]) {
      const r = modelseal(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('[BAD_OPTION]');
    }
    const j = JSON.parse(readFileSync(man, 'utf8'));
    j.predicate.resources[0].digest = '0'.repeat(64);
    writeFileSync(man, JSON.stringify(j));
    const forged = modelseal(['sign', '--manifest', man, '--key', key, '--signature', sig]);
    expect(forged.status).toBe(2);
    expect(forged.stderr).toContain('[ROOT_DIGEST_MISMATCH]');
  });
});

describe('incremental re-signing from the command line', () => {
  it('--reuse-from re-hashes only the changed file, even with its mtime restored, and signs what a full hash gives', async () => {
    const d = tmp();
    const m = model(d);
    const env = { MODELSEAL_STATE_DIR: path.join(d, 'state') };
    expect(modelseal(['keygen', '--out', path.join(d, 'k')]).status).toBe(0);
    expect(modelseal(['keygen', '--out', path.join(d, 'other')]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 2100)); // past the racy margin: files changed within 2 s of signing are always re-read
    const key = path.join(d, 'k.key');
    const first = modelseal(['sign', m, '--key', key, '-q'], { env });
    expect(first.status, first.stderr).toBe(0);

    const b = path.join(m, 'b.bin');
    const ref = path.join(d, 'ref');
    writeFileSync(ref, '');
    spawnSync('touch', ['-r', b, ref]);
    const fd = openSync(b, 'r+');
    writeSync(fd, Buffer.from('tampered'), 0, 8, 1000);
    closeSync(fd);
    spawnSync('touch', ['-r', ref, b]);

    const again = modelseal(['sign', m, '--key', key, '-q', '--reuse-from', path.join(m, 'model.sig')], { env });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('reused the digests of 4 unchanged files');
    expect(again.stdout).toBe(modelseal(['hash', m, '-q']).stdout);
    expect(again.stdout).not.toBe(first.stdout);
    expect(modelseal(['verify', m, '--key', path.join(d, 'k.pub')]).status).toBe(0);

    const wrong = modelseal(['sign', m, '--key', key, '-q', '--reuse-from', path.join(m, 'model.sig'), '--reuse-key', path.join(d, 'other.pub')], { env });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('[SIGNATURE_INVALID]');
    const stray = modelseal(['sign', m, '--key', key, '-q', '--reuse-key', path.join(d, 'k.pub')], { env });
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('[BAD_OPTION]');

    // a certificate signer says which CAs made the old signature
    const certs = path.join(FIXTURES, 'keys/certificate');
    const certSign = ['sign', m, '--key', path.join(certs, 'signing-key.pem'), '--certificate-chain', path.join(certs, 'signing-key-cert.pem'), '--certificate-chain', path.join(certs, 'int-ca-cert.pem'), '-q'];
    expect(modelseal(certSign, { env }).status).toBe(0);
    const noCa = modelseal([...certSign, '--reuse-from', path.join(m, 'model.sig')], { env });
    expect(noCa.status).toBe(2);
    expect(noCa.stderr).toContain('[MISSING_TRUST]');
    const withCa = modelseal([...certSign, '--reuse-from', path.join(m, 'model.sig'), '--reuse-certificate-chain', path.join(certs, 'ca-cert.pem')], { env });
    expect(withCa.status, withCa.stderr).toBe(0);
    expect(withCa.stderr).toMatch(/reused the digests of [45] unchanged files/);
    expect(withCa.stdout).toBe(again.stdout);
  });
});
