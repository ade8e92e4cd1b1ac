#!/usr/bin/env node
// Incremental re-signing benchmark: `modelseal sign --reuse-from` after a
// one-file change in a 2 GiB model, against a full sign, whole processes,
// page cache warm. Also distributed hashing: N part processes + merge against
// one `modelseal hash`. Usage: npm run build && node bench/reuse-bench.mjs [--runs 3]
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'bench/.work');
const CLI = path.join(ROOT, 'packages/cli/dist/main.js');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 3;
const MiB = 1 << 20;

function writeRandom(file, size) {
  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(Math.min(size, 16 * MiB));
  for (let left = size; left > 0; ) {
    const n = Math.min(left, buf.length);
    randomFillSync(buf, 0, n);
    writeSync(fd, buf, 0, n);
    left -= n;
  }
  closeSync(fd);
}

// 4 weight files of 512 MiB, a config, a tokenizer: a 2 GiB checkpoint
const model = path.join(WORK, 'reuse-2GiB');
if (!existsSync(`${model}.done`)) {
  rmSync(model, { recursive: true, force: true });
  mkdirSync(model, { recursive: true });
  console.error('bench: generating reuse-2GiB ...');
  for (let i = 1; i <= 4; i++) writeRandom(path.join(model, `model-0000${i}-of-00004.safetensors`), 512 * MiB);
  writeFileSync(path.join(model, 'config.json'), JSON.stringify({ layers: 32, hidden: 4096 }));
  writeRandom(path.join(model, 'tokenizer.json'), 2 * MiB);
  writeFileSync(`${model}.done`, '');
}
const stateDir = path.join(WORK, 'reuse-state');
rmSync(stateDir, { recursive: true, force: true });
const env = { ...process.env, MODELSEAL_STATE_DIR: stateDir };
const keyBase = path.join(WORK, 'reuse-key');
if (!existsSync(`${keyBase}.key`)) run(['keygen', '--out', keyBase]);
const sig = path.join(WORK, 'reuse-model.sig');

function run(a) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...a], { env, encoding: 'utf8' });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`modelseal ${a.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { s, stdout: r.stdout.trim(), stderr: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Changes 8 bytes in place and gives the file its old mtime back (only ctime shows it). */
function sneakyEdit(file) {
  const ref = `${file}.ref`;
  writeFileSync(ref, '');
  spawnSync('touch', ['-r', file, ref]);
  const fd = openSync(file, 'r+');
  writeSync(fd, randomFillSync(Buffer.alloc(8)), 0, 8, 4096);
  closeSync(fd);
  spawnSync('touch', ['-r', ref, file]);
  rmSync(ref);
}

const sign = (extra = []) => run(['sign', model, '--key', `${keyBase}.key`, '--signature', sig, '-q', ...extra]);
const rows = [];
const bytes = ['config.json', 'tokenizer.json', ...[1, 2, 3, 4].map((i) => `model-0000${i}-of-00004.safetensors`)].reduce((s, f) => s + statSync(path.join(model, f)).size, 0);

// warm the page cache, then full signs
sign();
const full = [];
for (let i = 0; i < RUNS; i++) full.push(sign().s);
rows.push(['full sign (every file hashed)', median(full)]);
await sleep(2100); // the files must be older than the racy margin to be recorded
sign(); // records every file's state

for (const [label, file] of [
  ['--reuse-from, nothing changed', undefined],
  ['--reuse-from, config.json changed (mtime restored)', 'config.json'],
  ['--reuse-from, one 512 MiB weight file changed (mtime restored)', 'model-00002-of-00004.safetensors'],
]) {
  const times = [];
  let digest;
  for (let i = 0; i < RUNS; i++) {
    if (file) sneakyEdit(path.join(model, file));
    await sleep(2100); // so the edited file is recorded by this run and only the next edit shows
    const r = sign(['--reuse-from', sig]);
    times.push(r.s);
    digest = r.stdout;
  }
  const check = run(['hash', model, '-q']).stdout;
  if (digest !== check) throw new Error(`${label}: re-signed digest ${digest} is not the full hash ${check}`);
  rows.push([label, median(times)]);
}

// the same in one process (no start-up), through the library
const core = await import(path.join(ROOT, 'packages/core/dist/index.js'));
const { createPrivateKey, createPublicKey } = await import('node:crypto');
const { readFileSync } = await import('node:fs');
const pk = createPrivateKey(readFileSync(`${keyBase}.key`));
const lib = { signer: core.keySigner(pk), stateDir, signaturePath: sig };
const reuseOpt = { reuse: { signaturePath: sig, trust: { publicKey: createPublicKey(pk) } } };
const timeIt = async (f) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};
const inproc = [];
const fullLib = [];
for (let i = 0; i < RUNS; i++) fullLib.push(await timeIt(() => core.signModelIncremental(model, lib)));
inproc.push(['full sign', median(fullLib)]);
await sleep(2100);
await core.signModelIncremental(model, lib);
for (const [label, file] of [
  ['reuse, nothing changed', undefined],
  ['reuse, config.json changed', 'config.json'],
  ['reuse, one 512 MiB weight file changed', 'model-00003-of-00004.safetensors'],
]) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    if (file) sneakyEdit(path.join(model, file));
    await sleep(2100);
    times.push(await timeIt(() => core.signModelIncremental(model, { ...lib, ...reuseOpt })));
  }
  inproc.push([label, median(times)]);
}

// distributed: N processes on this machine (they share its 2 cores, so this shows the cost of the split, not a speed-up)
const shardFlags = ['--method', 'shards', '--shard-size', '128MiB', '-q'];
const one = run(['hash', model, ...shardFlags]);
const dist = [];
for (const n of [1, 4]) {
  const t = performance.now();
  const outs = Array.from({ length: n }, (_, i) => path.join(WORK, `reuse-part-${i + 1}.json`));
  await Promise.all(
    outs.map(
      (o, i) =>
        new Promise((resolve, reject) => {
          const p = spawn(process.execPath, [CLI, 'hash', model, ...shardFlags, '--part', `${i + 1}/${n}`, '--output', o], { env, stdio: 'ignore' });
          p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`part ${i + 1}: exit ${code}`))));
        }),
    ),
  );
  const m = run(['manifest', 'merge', ...outs]);
  if (m.stdout !== one.stdout) throw new Error(`merge of ${n} parts: ${m.stdout} is not ${one.stdout}`);
  dist.push([`${n} part process(es) in parallel + merge`, (performance.now() - t) / 1000]);
}

const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(`\nIncremental re-signing, 2 GiB model (4 x 512 MiB + 2 small files, ${(bytes / 1e9).toFixed(2)} GB), ed25519 key, whole processes, median of ${RUNS}:\n`);
console.log(`(1-minute load average at the end: ${load} on ${(await import('node:os')).availableParallelism()} CPUs)\n`);
console.log('| operation | seconds | x full sign |');
console.log('|---|---:|---:|');
for (const [label, s] of rows) console.log(`| ${label} | ${s.toFixed(2)} | ${(s / rows[0][1]).toFixed(3)} |`);
console.log(`\nThe same through the library in one process (no process start-up), median of ${RUNS}:\n`);
console.log('| operation | seconds | x full sign |');
console.log('|---|---:|---:|');
for (const [label, s] of inproc) console.log(`| ${label} | ${s.toFixed(3)} | ${(s / inproc[0][1]).toFixed(3)} |`);
console.log(`\nDistributed hashing on this one machine (shards of 128 MiB; one \`modelseal hash\`: ${one.s.toFixed(2)} s):\n`);
console.log('| run | seconds |');
console.log('|---|---:|');
for (const [label, s] of dist) console.log(`| ${label} | ${s.toFixed(2)} |`);
