#!/usr/bin/env node
// OCI benchmark: push and pull MB/s against Debian's docker-registry on
// loopback, and the CLI's peak memory (max RSS, GNU time) for a 1 GiB layer
// and a 2 GiB model. Usage: npm run build && npx --no-install node bench/oci-bench.mjs [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadavg } from 'node:os';
/* global fetch */

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'bench/.work/oci');
const CLI = path.join(ROOT, 'packages/cli/dist/main.js');
const MiB = 1 << 20;
const GiB = 1 << 30;

for (const [bin, pkg] of [['/usr/bin/docker-registry', 'docker-registry'], ['/usr/bin/time', 'time']]) {
  if (!existsSync(bin)) {
    console.error(`oci-bench: ${bin} is missing (apt-get install -y ${pkg})`);
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

/** Runs the CLI under GNU time: seconds and peak RSS (MiB). */
function timed(args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`modelseal ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { secs, rssMiB: kb / 1024 };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const port = await freePort();
writeFileSync(
  path.join(WORK, 'config.yml'),
  `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${WORK}/store\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: bench\n`,
);
const registry = spawn('/usr/bin/docker-registry', ['serve', path.join(WORK, 'config.yml')], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
  } catch {
    if (i > 200) throw new Error('registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const host = `127.0.0.1:${port}`;
spawnSync(process.execPath, [CLI, 'keygen', '--out', path.join(WORK, 'k')]);
const key = path.join(WORK, 'k.key');
const pub = path.join(WORK, 'k.pub');

const rows = [];
const load0 = loadavg()[0].toFixed(1);
async function run(label, files) {
  const model = path.join(WORK, label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-+$/, ''));
  mkdirSync(model, { recursive: true });
  let bytes = 0;
  for (const [name, size] of files) {
    writeRandom(path.join(model, name), size);
    bytes += size;
  }
  spawnSync(process.execPath, [CLI, 'sign', model, '--key', key, '-q']);
  const ref = `${host}/bench/${path.basename(model)}:v1`;
  const push = timed(['push', model, ref, '--plain-http', '-q']);
  const pushAgain = timed(['push', model, ref, '--plain-http', '-q']);
  const dest = `${model}-pulled`;
  const pull = timed(['pull', ref, dest, '--key', pub, '--plain-http', '-q']);
  const verify = timed(['verify', `oci://${ref}`, '--key', pub, '--plain-http', '-q']);
  const noDl = timed(['verify', `oci://${ref}`, '--key', pub, '--plain-http', '--no-download']);
  rmSync(dest, { recursive: true, force: true });
  const mbs = (s) => Math.round(bytes / 1e6 / s);
  rows.push(
    [label, 'push (check model.sig by rehashing, upload)', push.secs, mbs(push.secs), push.rssMiB],
    [label, 'push again (all blobs present: HEAD only, still rehash)', pushAgain.secs, mbs(pushAgain.secs), pushAgain.rssMiB],
    [label, 'pull (stream to disk + SHA-256 + verify)', pull.secs, mbs(pull.secs), pull.rssMiB],
    [label, 'verify oci:// (stream + hash, no writes)', verify.secs, mbs(verify.secs), verify.rssMiB],
    [label, 'verify oci:// --no-download', noDl.secs, '-', noDl.rssMiB],
  );
  if (!process.argv.includes('--keep')) rmSync(model, { recursive: true, force: true });
}

try {
  await run('1 GiB single layer', [['model.safetensors', GiB]]);
  await run('2 GiB model (1.5 GiB + 512 x 1 MiB)', [['model.safetensors', 1.5 * GiB], ...Array.from({ length: 512 }, (_, i) => [`shard-${String(i).padStart(3, '0')}.bin`, MiB])]);
} finally {
  registry.kill();
  if (!process.argv.includes('--keep')) rmSync(WORK, { recursive: true, force: true });
}

const lines = [
  `OCI push/pull on loopback (docker-registry ${spawnSync('dpkg-query', ['-W', '-f=${Version}', 'docker-registry'], { encoding: 'utf8' }).stdout}, filesystem storage), node ${process.version}, whole CLI process timed, MB = 10^6 bytes, peak memory = max RSS of the modelseal process. Load average (1 min) at start ${load0}, at end ${loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} cores: the machine is shared, so MB/s are lower bounds.`,
  '',
  '| model | operation | seconds | MB/s | peak RSS MiB |',
  '|---|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2].toFixed(1)} | ${r[3]} | ${Math.round(r[4])} |`),
];
console.log(lines.join('\n'));
