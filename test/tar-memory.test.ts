import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { entry, header, paxBody } from '../packages/core/test/tar-craft.js';
import { CLI, ROOT, tmp } from './cli.js';

/**
 * Peak memory of the CLI on hostile tarballs: each runs in a child whose
 * max RSS is read at exit (test/max-rss.mjs, preloaded), and must stay under
 * a bound however large the archive claims or is. The numbers are printed.
 */

const MiB = 1 << 20;
const RSS = path.join(ROOT, 'test/max-rss.mjs');

/** Streams a gzipped tarball to disk: `parts` yields buffers (never the whole archive in memory). */
async function gzTar(file: string, parts: () => Generator<Buffer>): Promise<string> {
  const gz = createGzip({ level: 1 });
  const out = gz.pipe(createWriteStream(file));
  for (const b of parts()) if (!gz.write(b)) await new Promise((r) => gz.once('drain', r));
  gz.end(Buffer.alloc(1024));
  await new Promise<void>((r) => out.on('finish', () => r()));
  return file;
}

function* zeros(n: number, chunk = 4 * MiB): Generator<Buffer> {
  const z = Buffer.alloc(chunk);
  for (let left = n; left > 0; left -= chunk) yield left >= chunk ? z : z.subarray(0, left);
}

function runCli(args: string[]): Promise<{ status: number | null; stderr: string; stdout: string; rssMiB: number; seconds: number }> {
  const rssFile = path.join(tmp(), 'rss');
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(RSS).href, CLI, ...args], { env: { ...process.env, MODELSEAL_MAX_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, rssMiB: Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024), seconds: (Date.now() - t0) / 1000 }));
  });
}

describe('peak memory on hostile tarballs (CLI child, max RSS)', () => {
  // Bounds: the archive's size must not matter (streamed or refused at a
  // header); only its entry count and name bytes may, as the manifest lists
  // every entry (capped by LIMITS.tarEntries and LIMITS.tarNamesTotalBytes).
  const cases: Array<[string, () => Generator<Buffer>, number, string | undefined, number]> = [
    ['a 256 MiB file (gzip of zeros, 0.3 MB on disk): streamed', function* () {
      yield header({ name: 'big.bin', typeflag: '0', size: 256 * MiB });
      yield* zeros(256 * MiB);
    }, 0, undefined, 200],
    ['a PAX header declaring 1 GiB (gzip bomb): refused at its header', function* () {
      yield header({ name: 'P', typeflag: 'x', size: 1024 * MiB });
      yield* zeros(64 * MiB);
    }, 2, 'TAR_EXTENDED_HEADER_TOO_LARGE', 200],
    ['a GNU long name declaring 256 MiB: refused at its header', function* () {
      yield header({ name: '././@LongLink', typeflag: 'L', size: 256 * MiB, format: 'gnu' });
      yield* zeros(64 * MiB);
    }, 2, 'TAR_EXTENDED_HEADER_TOO_LARGE', 200],
    ['100,000 empty files', function* () {
      for (let i = 0; i < 100_000; i++) yield header({ name: `d${i % 100}/f${i}`, typeflag: '0', size: 0 });
    }, 0, undefined, 400],
    ['10,000 names 4,000 bytes deep (2,000 levels each, no shared prefix)', function* () {
      const deep = 'a/'.repeat(1995);
      for (let i = 0; i < 10_000; i++) {
        yield entry({ name: 'PaxHeaders/x', typeflag: 'x', body: paxBody([['path', `x${i}/${deep}f`]]) });
        yield header({ name: 'placeholder', typeflag: '0', size: 0 });
      }
    }, 0, undefined, 400],
  ];

  it.each(cases)('%s', async (what, parts, exit, code, limitMiB) => {
    const t = await gzTar(path.join(tmp(), 'hostile.tar.gz'), parts);
    const r = await runCli(['hash', t, '--quiet']);
    console.log(`peak RSS ${r.rssMiB} MiB, ${r.seconds.toFixed(1)} s, exit ${r.status}: ${what}`);
    expect(r.status, r.stderr).toBe(exit);
    if (code) expect(r.stderr).toContain(`[${code}]`);
    expect(r.rssMiB).toBeLessThan(limitMiB);
    expect(r.seconds).toBeLessThan(60);
  }, 180_000);
});
