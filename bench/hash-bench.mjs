#!/usr/bin/env node
// Hashing benchmark: MB/s of `modelseal hash` beside `openssl dgst -sha256`
// and `b3sum` over the same files, in the same run, page cache warm; on a
// checkpoint-like layout also against the machine's limit (every core at
// openssl's one-core rate) and an oversubscribed reference pool
// (bench/ref-pool.mjs); and CLI start-up times.
// Usage: npm run bench [-- --runs 5 --keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { ROOT, CLI, MiB, GiB, have, writeRandom, median } from './lib.mjs';

const WORK = path.join(ROOT, 'bench/.work');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 5;
const STARTUP_RUNS = 21;
// --only basic,checkpoint,startup runs some sections (RESULTS.md is written only by a full run)
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['basic', 'checkpoint', 'startup'];
const want = (section) => ONLY.includes(section);

for (const c of ['openssl', 'b3sum']) {
  if (!have(c)) {
    console.error(`bench: ${c} is not installed (apt-get install -y ${c === 'b3sum' ? 'b3sum' : 'openssl'})`);
    process.exit(2);
  }
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
const tiny = want('startup') && ensureModel('tiny-5KB', (dir) => {
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

// Wall time of a whole process, and its CPU time (user + sys, children
// included) when GNU time is there: CPU time per byte barely moves with other
// work on the machine, wall time does.
const gnuTime = existsSync('/usr/bin/time');
function run(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    : spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.slice(0, 4).join(' ')} failed: ${r.stderr}`);
  if (!gnuTime) return { wall, cpu: NaN };
  const [u, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: u + sys };
}

/**
 * Times every contender RUNS times in interleaved rounds (each round runs all
 * of them once, in a rotated order), so that load from other work on the
 * machine falls on all of them alike. Returns median and best MB/s by key.
 */
function rounds(bytes, contenders) {
  const runs = new Map(contenders.map((c) => [c.key, []]));
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + r) % contenders.length];
      runs.get(c.key).push(run(c.cmd, c.argv));
    }
  }
  const out = new Map();
  for (const [key, xs] of runs) {
    const walls = xs.map((x) => x.wall);
    out.set(key, { median: bytes / 1e6 / median(walls), best: bytes / 1e6 / Math.min(...walls), perCpu: bytes / 1e6 / median(xs.map((x) => x.cpu)) });
  }
  return out;
}
const fmt = (r, base) => `${r.median.toFixed(0)} | ${r.best.toFixed(0)} | ${(r.median / base.median).toFixed(2)}`;

const rows = [];
for (const [label, dir] of want('basic') ? [['2 GiB (1.5 GiB file + 512 x 1 MiB)', big], ['10k files x 32 KiB', many]] : []) {
  const files = listFiles(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  // Warm the page cache so every tool reads from memory.
  execFileSync('sh', ['-c', `find ${JSON.stringify(dir)} -type f -exec cat {} + > /dev/null`]);
  const contenders = [
    { key: '`openssl dgst -sha256`', cmd: 'openssl', argv: ['dgst', '-sha256', ...files] },
    { key: '`b3sum` (mmap, all cores)', cmd: 'b3sum', argv: files },
    { key: '`b3sum --num-threads 1`', cmd: 'b3sum', argv: ['--num-threads', '1', ...files] },
  ];
  const configs = [];
  for (const method of ['files', 'shards']) for (const hash of ['sha256', 'blake2', 'blake3']) configs.push({ method, hash, extra: [] });
  if (dir === big) configs.push({ method: 'shards', hash: 'sha256', extra: ['--shard-size', '256MiB'] }, { method: 'shards', hash: 'blake3', extra: ['--shard-size', '256MiB'] });
  for (const c of configs) {
    contenders.push({ key: `modelseal ${c.method} ${c.hash}${c.extra.length ? ` (${c.extra.join(' ')})` : ''}`, cmd: process.execPath, argv: [CLI, 'hash', dir, '--method', c.method, '--hash', c.hash, '-q', ...c.extra] });
  }
  const r = rounds(bytes, contenders);
  const openssl = r.get('`openssl dgst -sha256`');
  const b3 = r.get('`b3sum` (mmap, all cores)');
  for (const c of contenders) rows.push(`| ${label} | ${c.key} | ${fmt(r.get(c.key), openssl)} | ${(r.get(c.key).median / b3.median).toFixed(2)} |`);
}

// Checkpoint layout: against the machine's limit and the oversubscribed reference.
const cores = availableParallelism();
const ckRows = [];
if (want('checkpoint')) {
  const dir = checkpoint;
  const files = listFiles(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  execFileSync('sh', ['-c', `find ${JSON.stringify(dir)} -type f -exec cat {} + > /dev/null`]);
  const ONE = '`openssl dgst -sha256` (one process, one core)';
  const REF = `reference: ${Math.min(32, cores + 4)} worker threads, whole files, sha256 (bench/ref-pool.mjs)`;
  const B3 = '`b3sum` (mmap, all cores)';
  const contenders = [
    // one openssl process over every file: one core's rate, process included
    { key: ONE, cmd: 'openssl', argv: ['dgst', '-sha256', ...files] },
    { key: REF, cmd: process.execPath, argv: [path.join(ROOT, 'bench/ref-pool.mjs'), dir] },
    { key: B3, cmd: 'b3sum', argv: files },
    ...[
      ['modelseal files sha256', ['--method', 'files']],
      ['modelseal shards sha256 (--shard-size 128MiB)', ['--method', 'shards', '--shard-size', '128MiB']],
      ['modelseal shards sha256 (default 1 GB shards)', ['--method', 'shards']],
      ['modelseal files blake3', ['--method', 'files', '--hash', 'blake3']],
      ['modelseal shards blake3 (--shard-size 128MiB)', ['--method', 'shards', '--hash', 'blake3', '--shard-size', '128MiB']],
    ].map(([key, extra]) => ({ key, cmd: process.execPath, argv: [CLI, 'hash', dir, '-q', ...extra] })),
  ];
  const r = rounds(bytes, contenders);
  const one = r.get(ONE);
  const limit = { median: one.median * cores, best: one.best * cores, perCpu: one.perCpu };
  const ref = r.get(REF);
  const b3 = r.get(B3);
  const add = (tool, m) => ckRows.push(`| ${tool} | ${m.median.toFixed(0)} | ${m.best.toFixed(0)} | ${Number.isNaN(m.perCpu) ? 'n/a' : m.perCpu.toFixed(0)} | ${(m.median / one.median).toFixed(2)} | ${(m.median / limit.median).toFixed(2)} | ${(m.median / ref.median).toFixed(2)} | ${(m.median / b3.median).toFixed(2)} |`);
  add(`machine limit (${cores} cores x openssl one-core rate)`, limit);
  for (const c of contenders) add(c.key, r.get(c.key));
}

// CLI start-up, whole process.
const timedCpu = (argv) => run(process.execPath, argv);
const keyBase = path.join(WORK, 'bench-key');
if (want('startup') && !existsSync(`${keyBase}.pub`)) execFileSync(process.execPath, [CLI, 'keygen', '--out', keyBase]);
const tinySig = path.join(WORK, 'tiny-5KB.sig');
if (want('startup')) execFileSync(process.execPath, [CLI, 'sign', tiny, '--key', `${keyBase}.key`, '--signature', tinySig, '-q']);
const emptyScript = path.join(WORK, 'empty.mjs');
writeFileSync(emptyScript, '');
const startRows = [];
if (want('startup')) {
  const cmds = [
    ['`node empty.mjs` (Node alone)', [emptyScript]],
    ['`modelseal --version`', [CLI, '--version']],
    ['`modelseal --help`', [CLI, '--help']],
    ['`modelseal verify` 5 KB model, key', [CLI, 'verify', tiny, '--key', `${keyBase}.pub`, '--signature', tinySig, '-q']],
  ];
  const xs = cmds.map(() => []);
  for (let r = 0; r < STARTUP_RUNS; r++) cmds.forEach(([, argv], i) => xs[i].push(timedCpu(argv)));
  cmds.forEach(([label], i) => startRows.push({ label, wall: median(xs[i].map((x) => x.wall)), min: Math.min(...xs[i].map((x) => x.wall)), cpu: median(xs[i].map((x) => x.cpu)) }));
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = `Hash throughput, page cache warm, ${RUNS} interleaved runs of every tool (median, and best = fastest run), ratios of medians, MB = 10^6 bytes, whole process timed (start-up included).\nMachine: ${cpus().length} x ${cpu}; node ${process.version}; ${execFileSync('openssl', ['version']).toString().trim()}; ${execFileSync('b3sum', ['--version']).toString().trim()}; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine lowers every figure).\n`;
const table = !want('basic') ? '' : ['| model | tool | MB/s median | MB/s best | x openssl sha256 | x b3sum |', '|---|---|---:|---:|---:|---:|', ...rows].join('\n');
const ckTable = !want('checkpoint') ? '' : [
  `### Checkpoint layout: 3 x 640 MiB + 200 small files (${(listFiles(checkpoint).reduce((s, f) => s + statSync(f).size, 0) / 1e9).toFixed(2)} GB), ${cores} cores`,
  '',
  'Targets: files method >= 1.00 x the reference pool; shards at 128 MiB >= 0.90 x the machine limit.',
  '',
  '| tool | MB/s median | MB/s best | MB per CPU-second | x openssl one core | x machine limit | x reference pool | x b3sum |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...ckRows,
].join('\n');
const startTable = !want('startup') ? '' : [
  `### CLI start-up, whole process, ${STARTUP_RUNS} interleaved runs`,
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
