#!/usr/bin/env node
// Hashing benchmark: MB/s of `modelseal hash` beside `openssl dgst -sha256`
// and `b3sum` over the same files, in the same run, page cache warm.
// Usage: npm run bench [-- --runs 3 --keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'bench/.work');
const CLI = path.join(ROOT, 'packages/cli/dist/main.js');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 3;
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

const big = ensureModel('big-2GiB', (dir) => {
  writeRandom(path.join(dir, 'model-00001-of-00001.safetensors'), 1.5 * GiB);
  mkdirSync(path.join(dir, 'extra'));
  for (let i = 0; i < 512; i++) writeRandom(path.join(dir, 'extra', `part-${i}.bin`), MiB);
});
const many = ensureModel('many-10k', (dir) => {
  for (let d = 0; d < 100; d++) {
    mkdirSync(path.join(dir, `d${d}`));
    for (let f = 0; f < 100; f++) writeRandom(path.join(dir, `d${d}`, `f${f}.bin`), 32 * 1024);
  }
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
for (const [label, dir] of [['2 GiB (1.5 GiB file + 512 x 1 MiB)', big], ['10k files x 32 KiB', many]]) {
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

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = `Hash throughput, page cache warm, median of ${RUNS} runs, MB = 10^6 bytes, whole process timed (start-up included).\nMachine: ${cpus().length} x ${cpu}; node ${process.version}; ${execFileSync('openssl', ['version']).toString().trim()}; ${execFileSync('b3sum', ['--version']).toString().trim()}.\n`;
const table = ['| model | tool | MB/s | x openssl sha256 | x b3sum |', '|---|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.model} | ${r.tool} | ${r.mbps.toFixed(0)} | ${r.vsOpenssl.toFixed(2)} | ${r.vsB3.toFixed(2)} |`)].join('\n');
const out = `${header}\n${table}\n`;
process.stdout.write(out);
writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), `# Benchmark results\n\nWritten by \`npm run bench\` (bench/hash-bench.mjs).\n\n${out}`);
if (!args.includes('--keep')) console.error('bench: generated models kept in bench/.work for the next run (delete it to free ~2.4 GB)');
