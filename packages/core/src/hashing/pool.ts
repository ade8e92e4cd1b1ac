import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { HashType } from './algorithms.js';
import type { WorkerInit, WorkerRequest } from './hash-worker.js';
import { hashTask, READ_BUFFER_BYTES, type HashTask, type TaskOutcome } from './read-range.js';

export interface PoolOptions {
  hashType: HashType;
  noFollow: boolean;
  /** most threads to run at once; by default the CPU count, plus OVERSUBSCRIBE when the work is a few large tasks */
  workers?: number;
}

export interface RunOptions {
  /** called with the running total of bytes hashed, every `intervalMs` or so */
  onProgress?: (bytesDone: number) => void;
  intervalMs?: number;
}

/** Below these, starting worker threads costs more than hashing on this thread. */
const INLINE_MAX_BYTES = 8 << 20;
const INLINE_MAX_TASKS = 512;
/** Small tasks travel in batches so that 100k tiny files do not mean 100k messages. */
const BATCH_MAX_BYTES = 16 << 20;
const BATCH_MAX_TASKS = 256;
/**
 * Threads beyond the core count when the work is a few large tasks (as
 * model_signing's min(32, cores + 4) thread pool does). With only as many
 * threads as cores, a 3-file checkpoint on 2 cores hashes two files and then
 * the third on one core while the other idles (75% of the machine at best);
 * with a thread per large task the OS shares every core among all of them to
 * the end. Only then: time-sharing costs cache (each switch evicts the other
 * thread's read buffer), measured +20% CPU for 128 MiB shards of that
 * checkpoint on 6 threads against 2, and +25% for 100k tiny files; with many
 * tasks, pulling them largest first already keeps the cores even.
 */
const OVERSUBSCRIBE = 4;
/** "A few": fewer large tasks than this many per core, where a large task is one that travels alone (> BATCH_MAX_BYTES). */
const FEW_LARGE_PER_CORE = 2;

/** How many threads to start for these batches (before the caller's cap). */
export function threadsFor(batches: readonly HashTask[][], cores: number): number {
  const large = batches.filter((b) => b.length === 1 && b[0]!.end - b[0]!.start > BATCH_MAX_BYTES).length;
  const wanted = large > 0 && large < cores * FEW_LARGE_PER_CORE ? cores + OVERSUBSCRIBE : cores;
  return Math.min(wanted, batches.length);
}

function toError(o: Extract<TaskOutcome, { error: unknown }>): InputError {
  return new InputError(o.error.code, o.error.message);
}

/**
 * Worker threads that hash file ranges. `run` decides whether the work is
 * big enough to need them; they start only then, so verifying a small model
 * (serving code at load time) never pays for threads.
 */
export class HashPool {
  private readonly progress = new SharedArrayBuffer(8);
  private readonly counter = new BigInt64Array(this.progress);
  private workers: Worker[] = [];

  constructor(private readonly opts: PoolOptions) {}

  private start(count: number): Worker[] {
    const n = Math.max(1, Math.min(count, this.opts.workers ?? count));
    const init: WorkerInit = { hashType: this.opts.hashType, noFollow: this.opts.noFollow, progress: this.progress };
    while (this.workers.length < n) this.workers.push(new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: init }));
    return this.workers.slice(0, n);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }

  /**
   * Hashes every task, returning digests by task id. Tasks are handed out
   * largest first so that the cores finish together; a worker pulls its next
   * batch as soon as it is free.
   */
  async run(tasks: readonly HashTask[], ro: RunOptions = {}): Promise<Map<number, Uint8Array>> {
    const total = tasks.reduce((s, t) => s + (t.end - t.start), 0);
    const digests = new Map<number, Uint8Array>();
    if (total <= INLINE_MAX_BYTES && tasks.length <= INLINE_MAX_TASKS) {
      const buf = Buffer.allocUnsafe(Math.min(READ_BUFFER_BYTES, Math.max(total, 1)));
      let done = 0;
      for (const t of tasks) {
        const o = hashTask(t, this.opts.hashType, this.opts.noFollow, buf, (n) => (done += n));
        if ('error' in o) throw toError(o);
        digests.set(o.id, o.digest);
      }
      ro.onProgress?.(done);
      return digests;
    }

    const batches = batch(tasks);
    const workers = this.start(threadsFor(batches, availableParallelism()));
    const timer = ro.onProgress ? setInterval(() => ro.onProgress!(Number(Atomics.load(this.counter, 0))), ro.intervalMs ?? 100) : undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let next = 0;
        let running = 0;
        let failed = false;
        const dispatch = (w: Worker) => {
          if (failed) return;
          if (next >= batches.length) {
            if (running === 0) resolve();
            return;
          }
          running++;
          const req: WorkerRequest = { tasks: batches[next++]! };
          w.postMessage(req);
        };
        for (const w of workers) {
          w.on('message', (outcomes: TaskOutcome[]) => {
            running--;
            for (const o of outcomes) {
              if ('error' in o) {
                failed = true;
                return reject(toError(o));
              }
              digests.set(o.id, o.digest);
            }
            dispatch(w);
          });
          w.on('error', (err) => {
            failed = true;
            reject(new InputError('HASH_WORKER_FAILED', `hash worker failed: ${err.message}`, { cause: err }));
          });
        }
        for (const w of workers) dispatch(w);
      });
    } finally {
      if (timer) clearInterval(timer);
    }
    ro.onProgress?.(Number(Atomics.load(this.counter, 0)));
    return digests;
  }
}

function batch(tasks: readonly HashTask[]): HashTask[][] {
  const batches: HashTask[][] = [];
  let cur: HashTask[] = [];
  let curBytes = 0;
  for (const t of [...tasks].sort((a, b) => b.end - b.start - (a.end - a.start))) {
    const size = t.end - t.start;
    if (cur.length > 0 && (curBytes + size > BATCH_MAX_BYTES || cur.length >= BATCH_MAX_TASKS)) {
      batches.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(t);
    curBytes += size;
  }
  if (cur.length) batches.push(cur);
  return batches;
}
