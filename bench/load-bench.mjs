#!/usr/bin/env node
// Load-time benchmark: verifying a 2 GiB model cold (no verification cache),
// warm (from the cache), and reading it through openVerified (each file once,
// hashed as it is read), beside a plain fs.createReadStream read of the same
// files and a hash-everything pass (what model_signing does to verify), in
// one run. Medians of several runs; each run is its own process, so peak RSS
// is that variant's own; variants take turns, run after run. Page cache warm throughout: the ratios compare CPU
// and I/O paths, not the disk.
// Usage: node bench/load-bench.mjs [--runs 5] [--size-gib 2]
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GiB, MiB, ROOT, median, writeRandom } from './lib.mjs';

const WORK = path.join(ROOT, 'bench/.work');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const RUNS = opt('--runs', 5);
const core = await import(path.join(ROOT, 'packages/core/dist/internals.js'));

// ---- child: one measured operation, prints {secs, rssMiB, bytes} -------------
if (process.env.LOAD_BENCH_CHILD) {
  const [mode, model, sig, pub, cacheDir] = JSON.parse(process.env.LOAD_BENCH_CHILD);
  const trust = { publicKey: core.loadPublicKey(pub).key };
  const walk = () => core.walkModel(model, { ignorePaths: [], allowSymlinks: false }).files;
  const { createReadStream } = await import('node:fs');
  const drain = (s) => new Promise((resolve, reject) => { let n = 0; s.on('data', (c) => (n += c.length)); s.on('end', () => resolve(n)); s.on('error', reject); });
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  if (mode === 'plain') {
    for (const f of walk()) bytes += await drain(createReadStream(f.absPath, { highWaterMark: MiB }));
  } else if (mode === 'plain-sha256') {
    const { createHash } = await import('node:crypto');
    for (const f of walk()) {
      const h = createHash('sha256');
      const s = createReadStream(f.absPath, { highWaterMark: MiB });
      s.on('data', (c) => h.update(c));
      bytes += await drain(s);
      h.digest();
    }
  } else if (mode === 'hash-all') {
    await core.hashModel(model);
  } else if (mode === 'verify-cold') {
    await core.verifyModelAudited(model, { trust, signaturePath: sig });
  } else if (mode === 'verify-warm') {
    const r = await core.verifyModelAudited(model, { trust, signaturePath: sig, cache: { dir: cacheDir } });
    if (r.cache.misses !== 0) throw new Error(`warm run missed ${r.cache.misses} files`);
  } else if (mode === 'open-read') {
    const h = await core.openVerified(model, { trust, signaturePath: sig });
    for (const name of h.files) bytes += await drain(h.createReadStream(name));
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ secs, rssMiB: process.resourceUsage().maxRSS / 1024, bytes }));
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------

const sizeGiB = opt('--size-gib', 2);
const name = `load-${sizeGiB}GiB`;
const model = path.join(WORK, name);
if (!existsSync(`${model}.done`)) {
  rmSync(model, { recursive: true, force: true });
  mkdirSync(path.join(model, 'extra'), { recursive: true });
  console.error(`load-bench: generating ${name} ...`);
  // one big weights file and 256 small ones, like a checkpoint with its tokenizer and configs
  writeRandom(path.join(model, 'model.safetensors'), sizeGiB * GiB - 256 * MiB);
  for (let i = 0; i < 256; i++) writeRandom(path.join(model, 'extra', `part-${i}.bin`), MiB);
  writeFileSync(`${model}.done`, '');
}
const sig = `${model}.sig`;
const pub = path.join(WORK, 'load-bench.pub');
const kp = core.generateKeyPair('ed25519');
writeFileSync(pub, kp.publicPem);
await core.signModel(model, { signer: core.keySigner(createPrivateKey(kp.privatePem)), signaturePath: sig });
const cacheDir = path.join(WORK, 'load-bench-cache');
rmSync(cacheDir, { recursive: true, force: true });
await core.verifyModelAudited(model, { trust: { publicKey: core.loadPublicKey(pub).key }, signaturePath: sig, cache: { dir: cacheDir } });

function once(mode) {
  const r = spawnSync(process.execPath, [import.meta.filename], { env: { ...process.env, LOAD_BENCH_CHILD: JSON.stringify([mode, model, sig, pub, cacheDir]) }, encoding: 'utf8', maxBuffer: 16 * MiB });
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const MODES = [
  ['plain', 'plain fs.createReadStream of every file (no hashing)'],
  ['plain-sha256', 'plain fs.createReadStream + SHA-256 of each file, one stream at a time'],
  ['hash-all', 'hash everything (hashModel, worker per CPU, as model_signing verifies)'],
  ['verify-cold', 'verify, no cache (signature + hash everything)'],
  ['verify-warm', 'verify, warm verification cache'],
  ['open-read', 'openVerified + createReadStream of every file once'],
];
once('plain'); // warm the page cache
// Round-robin, so that load from elsewhere on the machine falls on every variant alike.
const runs = Object.fromEntries(MODES.map(([m]) => [m, []]));
for (let i = 0; i < RUNS; i++) for (const [mode] of MODES) runs[mode].push(once(mode));
const results = Object.fromEntries(MODES.map(([m]) => [m, { secs: median(runs[m].map((r) => r.secs)), rssMiB: median(runs[m].map((r) => r.rssMiB)) }]));
const size = sizeGiB * GiB;
const plain = results.plain.secs;
const cold = results['verify-cold'].secs;
console.log(`\nLoad-time verification, ${sizeGiB} GiB model (1 file of ${sizeGiB * 1024 - 256} MiB + 256 x 1 MiB), page cache warm, median of ${RUNS} runs, node ${process.version}, ${(await import('node:os')).cpus().length} CPUs.\n`);
console.log('| variant | seconds | MB/s | x plain read time | x verify cold time | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [mode, label] of MODES) {
  const r = results[mode];
  console.log(`| ${label} | ${r.secs.toFixed(3)} | ${(size / r.secs / 1e6).toFixed(0)} | ${(r.secs / plain).toFixed(2)} | ${(r.secs / cold).toFixed(3)} | ${r.rssMiB.toFixed(0)} |`);
}
console.log(`\nwarm cache speed-up over cold verify: ${(cold / results['verify-warm'].secs).toFixed(0)}x`);
