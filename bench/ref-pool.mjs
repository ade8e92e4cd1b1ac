#!/usr/bin/env node
// Reference for target 1 of the bench: an oversubscribed pool as model_signing's
// Python hashing does it (min(32, cores + 4) threads), here N+4 worker threads that
// each take the next whole file and hash it with node:crypto SHA-256, reading
// 256 KiB at a time as modelseal does (REF_READ_KIB changes it), so that only
// the scheduling differs.
// Usage: node bench/ref-pool.mjs <folder>   (prints one line per file: digest path)
import { availableParallelism } from 'node:os';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (isMainThread) {
  const dir = process.argv[2];
  const files = readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
  const next = new Int32Array(new SharedArrayBuffer(4));
  const n = Math.min(32, availableParallelism() + 4, files.length);
  const out = [];
  await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { files, next: next.buffer } });
      w.on('message', (m) => out.push(m));
      w.on('error', reject);
      w.on('exit', resolve);
    })),
  );
  process.stdout.write(out.sort().join('\n') + '\n');
} else {
  const { files, next } = workerData;
  const counter = new Int32Array(next);
  const buf = Buffer.allocUnsafe(Number(process.env.REF_READ_KIB ?? 256) << 10);
  for (let i = Atomics.add(counter, 0, 1); i < files.length; i = Atomics.add(counter, 0, 1)) {
    const fd = openSync(files[i], 'r');
    const h = createHash('sha256');
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(n === buf.length ? buf : buf.subarray(0, n));
    closeSync(fd);
    parentPort.postMessage(`${h.digest('hex')} ${path.relative(workerData.files[0] ? '' : '', files[i])}`);
  }
}
