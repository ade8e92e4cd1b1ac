import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HashPool, threadsFor } from '../dist/hashing/pool.js';
import type { HashTask } from '../dist/hashing/read-range.js';
import { bytes, tempDir, writeTree } from './helpers.js';

// from dist, as the CLI runs it: the pool starts its worker from the built hash-worker.js beside it
const MiB = 1 << 20;
const task = (id: number, size: number): HashTask => ({ id, absPath: `/m/${id}`, name: String(id), start: 0, end: size, fileSize: size });
const alone = (sizes: number[]) => sizes.map((s, i) => [task(i, s)]);

describe('threadsFor: more threads than cores only for a few large tasks', () => {
  it('a checkpoint of 3 large files and a batch of small ones on 2 cores: one thread per batch (4)', () => {
    expect(threadsFor([...alone([640 * MiB, 640 * MiB, 640 * MiB]), [task(3, 4096), task(4, 5000)]], 2)).toBe(4);
  });
  it('caps the extra threads at cores + 4', () => {
    const smallBatches = Array.from({ length: 10 }, (_, i) => [task(100 + i, 1000)]);
    expect(threadsFor([...alone([100 * MiB, 100 * MiB, 100 * MiB]), ...smallBatches], 2)).toBe(6);
    expect(threadsFor(alone(Array(7).fill(100 * MiB) as number[]), 4)).toBe(7);
    expect(threadsFor(alone(Array(7).fill(100 * MiB) as number[]), 8)).toBe(7);
  });
  it('many large tasks (15 shards of 128 MiB on 2 cores), or only small ones: as many threads as cores', () => {
    expect(threadsFor([...alone(Array(15).fill(128 * MiB) as number[]), [task(15, 10)]], 2)).toBe(2);
    expect(threadsFor(Array.from({ length: 400 }, (_, i) => [task(i, 100)]), 2)).toBe(2);
  });
  it('never more threads than batches', () => {
    expect(threadsFor(alone([64 * MiB]), 16)).toBe(1);
  });
});

describe('HashPool.run with more threads than cores', () => {
  it('returns each task digest by id, reads ranges exactly, and reports every byte as progress', async () => {
    // four files over the batch size, so each travels alone and the pool oversubscribes
    const files = Object.fromEntries([17, 18, 19, 20].map((m, i) => [`w${i}.bin`, bytes(m * MiB + i, i + 1)]));
    const dir = writeTree(path.join(tempDir(), 'm'), files);
    const tasks: HashTask[] = [];
    for (const name of Object.keys(files)) {
      const size = files[name]!.length;
      const abs = path.join(dir, name);
      // the whole file, and a middle range that crosses read-buffer boundaries
      tasks.push({ id: tasks.length, absPath: abs, name, start: 0, end: size, fileSize: size });
      tasks.push({ id: tasks.length, absPath: abs, name, start: 1000, end: size - 777, fileSize: size });
    }
    const pool = new HashPool({ hashType: 'sha256', noFollow: true });
    let last = 0;
    try {
      const digests = await pool.run(tasks, { onProgress: (n) => (last = n), intervalMs: 5 });
      for (const t of tasks) {
        const want = createHash('sha256').update(readFileSync(t.absPath).subarray(t.start, t.end)).digest('hex');
        expect(Buffer.from(digests.get(t.id)!).toString('hex')).toBe(want);
      }
      expect(last).toBe(tasks.reduce((s, t) => s + t.end - t.start, 0));
    } finally {
      await pool.close();
    }
  });
});
