#!/usr/bin/env node
// Hashing benchmark: MB/s of `modelseal hash` beside `openssl dgst -sha256`
// and `b3sum` over the same files, in the same run, page cache warm; on a
// checkpoint-like layout also against the machine's limit (every core at
// openssl's one-core rate) and an oversubscribed reference pool
// (bench/ref-pool.mjs); and CLI start-up times.
// Usage: npm run bench [-- --runs 5 --keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'bench/.work');
const CLI = path.join(ROOT, 'packages/cli/dist/main.js');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 5;
const STARTUP_RUNS = 21;
// --only basic,checkpoint,startup runs some sections (RESULTS.md is written only by a full run)
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['basic', 'checkpoint', 'startup'];
const want = (section) => ONLY.includes(section);
const GiB = 1 << 30;
const MiB = 1 << 20;

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
for (const c of ['openssl', 'b3sum']) {
  if (!have(c)) {
    console.error(`bench: ${c} is not installed (apt-get install -y ${c === 'b3sum' ? 'b3sum' : 'openssl'})`);
    process.exit(2);
  }
}

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

function ensureModel(name, build) {
  const dir = path.join(WORK, name);
  const stamp = path.join(WORK, `${name}.done`);
  if (!existsSync(stamp)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    console.error(`bench: generating ${name} ...`);
    build(dir);
    writeFileSync(stamp, '');
  }
  return dir;
}

const big = want('basic') && ensureModel('big-2GiB', (dir) => {
  writeRandom(path.join(dir, 'model-00001-of-00001.safetensors'), 1.5 * GiB);
  mkdirSync(path.join(dir, 'extra'));
  for (let i = 0; i < 512; i++) writeRandom(path.join(dir, 'extra', `part-${i}.bin`), MiB);
});
const many = want('basic') && ensureModel('many-10k', (dir) => {
  for (let d = 0; d < 100; d++) {
    mkdirSync(path.join(dir, `d${d}`));
    for (let f = 0; f < 100; f++) writeRandom(path.join(dir, `d${d}`, `f${f}.bin`), 32 * 1024);
  }
});

// Laid out like a real checkpoint: three large weight shards and many small files
// (tokenizer, configs); the layout where threads = cores leaves a core idle.
const checkpoint = want('checkpoint') && ensureModel('checkpoint-2GB', (dir) => {
  for (let i = 1; i <= 3; i++) writeRandom(path.join(dir, `model-0000${i}-of-00003.safetensors`), 640 * MiB);
  mkdirSync(path.join(dir, 'small'));
  for (let i = 0; i < 200; i++) writeRandom(path.join(dir, 'small', `f${i}.json`), 4096 + i * 512);
});
const tiny = ensureModel('tiny-5KB', (dir) => {
  writeRandom(path.join(dir, 'weights.bin'), 4 * 1024);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ layers: 2, hidden: 64 }));
});

function listFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

function timed(cmd, argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { maxBuffer: 256 * MiB, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.slice(0, 4).join(' ')} failed: ${r.stderr}`);
  return secs;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const rows = [];
for (const [label, dir] of want('basic') ? [['2 GiB (1.5 GiB file + 512 x 1 MiB)', big], ['10k files x 32 KiB', many]] : []) {
  const files = listFiles(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const mbps = (secs) => bytes / 1e6 / secs;
  // Warm the page cache so every tool reads from memory.
  execFileSync('sh', ['-c', `cat ${JSON.stringify(dir)}/**/* >/dev/null 2>&1 || find ${JSON.stringify(dir)} -type f -exec cat {} + > /dev/null`]);
  const measure = (cmd, argv) => median(Array.from({ length: RUNS }, () => timed(cmd, argv)));
  const openssl = mbps(measure('openssl', ['dgst', '-sha256', ...files]));
  const b3 = mbps(measure('b3sum', files));
  const b3one = mbps(measure('b3sum', ['--num-threads', '1', ...files]));
  rows.push({ model: label, tool: '`openssl dgst -sha256`', mbps: openssl, vsOpenssl: 1, vsB3: openssl / b3 });
  rows.push({ model: label, tool: '`b3sum` (mmap, all cores)', mbps: b3, vsOpenssl: b3 / openssl, vsB3: 1 });
  rows.push({ model: label, tool: '`b3sum --num-threads 1`', mbps: b3one, vsOpenssl: b3one / openssl, vsB3: b3one / b3 });
  const configs = [];
  for (const method of ['files', 'shards']) for (const hash of ['sha256', 'blake2', 'blake3']) configs.push({ method, hash, extra: [] });
  if (dir === big) configs.push({ method: 'shards', hash: 'sha256', extra: ['--shard-size', '256MiB'] }, { method: 'shards', hash: 'blake3', extra: ['--shard-size', '256MiB'] });
  for (const c of configs) {
    const argv = [CLI, 'hash', dir, '--method', c.method, '--hash', c.hash, '-q', ...c.extra];
    const m = mbps(measure(process.execPath, argv));
    const tool = `modelseal ${c.method} ${c.hash}${c.extra.length ? ` (${c.extra.join(' ')})` : ''}`;
    rows.push({ model: label, tool, mbps: m, vsOpenssl: m / openssl, vsB3: m / b3 });
  }
}

// Checkpoint layout: against the machine's limit and the oversubscribed reference.
const cores = availableParallelism();
const ckRows = [];
if (want('checkpoint')) {
  const dir = checkpoint;
  const files = listFiles(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const mbps = (secs) => bytes / 1e6 / secs;
  execFileSync('sh', ['-c', `find ${JSON.stringify(dir)} -type f -exec cat {} + > /dev/null`]);
  const measure = (cmd, argv) => median(Array.from({ length: RUNS }, () => timed(cmd, argv)));
  // one openssl process over every file: one core's rate, process included
  const oneCore = mbps(measure('openssl', ['dgst', '-sha256', ...files]));
  const limit = oneCore * cores;
  const b3 = mbps(measure('b3sum', files));
  const ref = mbps(measure(process.execPath, [path.join(ROOT, 'bench/ref-pool.mjs'), dir]));
  const add = (tool, m) => ckRows.push({ tool, mbps: m, vsOne: m / oneCore, vsLimit: m / limit, vsRef: m / ref, vsB3: m / b3 });
  add('`openssl dgst -sha256` (one process, one core)', oneCore);
  add(`machine limit (${cores} cores x openssl one-core rate)`, limit);
  add(`reference: ${Math.min(32, cores + 4)} worker threads, whole files, sha256 (bench/ref-pool.mjs)`, ref);
  add('`b3sum` (mmap, all cores)', b3);
  for (const [label, extra] of [
    ['modelseal files sha256', ['--method', 'files']],
    ['modelseal shards sha256 (--shard-size 128MiB)', ['--method', 'shards', '--shard-size', '128MiB']],
    ['modelseal shards sha256 (default 1 GB shards)', ['--method', 'shards']],
    ['modelseal files blake3', ['--method', 'files', '--hash', 'blake3']],
    ['modelseal shards blake3 (--shard-size 128MiB)', ['--method', 'shards', '--hash', 'blake3', '--shard-size', '128MiB']],
  ]) add(label, mbps(measure(process.execPath, [CLI, 'hash', dir, '-q', ...extra])));
}

// CLI start-up, whole process: wall time (and CPU time when GNU time is there,
// steadier than wall time on a shared machine).
const gnuTime = existsSync('/usr/bin/time');
function timedCpu(argv) {
  if (!gnuTime) return { wall: timed(process.execPath, argv), cpu: NaN };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: u + s };
}
const keyBase = path.join(WORK, 'bench-key');
if (!existsSync(`${keyBase}.pub`)) execFileSync(process.execPath, [CLI, 'keygen', '--out', keyBase]);
const tinySig = path.join(WORK, 'tiny-5KB.sig');
execFileSync(process.execPath, [CLI, 'sign', tiny, '--key', `${keyBase}.key`, '--signature', tinySig, '-q']);
const emptyScript = path.join(WORK, 'empty.mjs');
writeFileSync(emptyScript, '');
const startRows = [];
for (const [label, argv] of !want('startup') ? [] : [
  ['`node empty.mjs` (Node alone)', [emptyScript]],
  ['`modelseal --version`', [CLI, '--version']],
  ['`modelseal --help`', [CLI, '--help']],
  ['`modelseal verify` 5 KB model, key', [CLI, 'verify', tiny, '--key', `${keyBase}.pub`, '--signature', tinySig, '-q']],
]) {
  const xs = Array.from({ length: STARTUP_RUNS }, () => timedCpu(argv));
  startRows.push({ label, wall: median(xs.map((x) => x.wall)), min: Math.min(...xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = `Hash throughput, page cache warm, median of ${RUNS} runs, MB = 10^6 bytes, whole process timed (start-up included).\nMachine: ${cpus().length} x ${cpu}; node ${process.version}; ${execFileSync('openssl', ['version']).toString().trim()}; ${execFileSync('b3sum', ['--version']).toString().trim()}; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine lowers every figure).\n`;
const table = !want('basic') ? '' : ['| model | tool | MB/s | x openssl sha256 | x b3sum |', '|---|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.model} | ${r.tool} | ${r.mbps.toFixed(0)} | ${r.vsOpenssl.toFixed(2)} | ${r.vsB3.toFixed(2)} |`)].join('\n');
const ckTable = !want('checkpoint') ? '' : [
  `### Checkpoint layout: 3 x 640 MiB + 200 small files (${(listFiles(checkpoint).reduce((s, f) => s + statSync(f).size, 0) / 1e9).toFixed(2)} GB), ${cores} cores`,
  '',
  'Targets: files method >= 1.00 x the reference pool; shards at 128 MiB >= 0.90 x the machine limit.',
  '',
  '| tool | MB/s | x openssl one core | x machine limit | x reference pool | x b3sum |',
  '|---|---:|---:|---:|---:|---:|',
  ...ckRows.map((r) => `| ${r.tool} | ${r.mbps.toFixed(0)} | ${r.vsOne.toFixed(2)} | ${r.vsLimit.toFixed(2)} | ${r.vsRef.toFixed(2)} | ${r.vsB3.toFixed(2)} |`),
].join('\n');
const startTable = !want('startup') ? '' : [
  `### CLI start-up, whole process, median of ${STARTUP_RUNS} runs`,
  '',
  'Targets: `--version` and `--help` <= 0.05 s; verify of a 5 KB model with a key <= 0.08 s.',
  '',
  '| command | wall median s | wall min s | CPU median s (user+sys) |',
  '|---|---:|---:|---:|',
  ...startRows.map((r) => `| ${r.label} | ${r.wall.toFixed(3)} | ${r.min.toFixed(3)} | ${Number.isNaN(r.cpu) ? 'n/a' : r.cpu.toFixed(2)} |`),
].join('\n');
const out = `${header}\n${table}\n\n${ckTable}\n\n${startTable}\n`;
process.stdout.write(out);
if (ONLY.length === 3) writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), `# Benchmark results\n\nWritten by \`npm run bench\` (bench/hash-bench.mjs).\n\n${out}`);
if (!args.includes('--keep')) console.error('bench: generated models kept in bench/.work for the next run (delete it to free ~4.5 GB)');
