import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelsealError, InputError } from '../errors.js';
import type { HashType } from './algorithms.js';
import type { WorkerInit, WorkerRequest } from './hash-worker.js';
import { hashTask, READ_BUFFER_BYTES, type HashTask, type TaskOutcome } from './read-range.js';

export interface RunOptions {
  hashType: HashType;
  noFollow: boolean;
  /** defaults to the number of CPUs */
  workers?: number;
  /** called with the running total of bytes hashed, at most every `progressIntervalMs` */
  onProgress?: (bytesDone: number) => void;
  progressIntervalMs?: number;
}

/** Below this, starting worker threads costs more than hashing on this thread. */
const INLINE_MAX_BYTES = 8 << 20;
/** Small tasks travel in batches so that 100k tiny files do not mean 100k messages. */
const BATCH_MAX_BYTES = 16 << 20;
const BATCH_MAX_TASKS = 256;

function toError(o: Extract<TaskOutcome, { error: unknown }>): ModelsealError {
  return new InputError(o.error.code, o.error.message);
}

/**
 * Hashes every task and returns digests by task id. Tasks are handed out
 * largest first (longest-processing-time first) so that both cores finish
 * together; each worker pulls its next batch as soon as it is free.
 */
export async function runHashTasks(tasks: readonly HashTask[], opts: RunOptions): Promise<Map<number, Uint8Array>> {
  const total = tasks.reduce((s, t) => s + (t.end - t.start), 0);
  const digests = new Map<number, Uint8Array>();
  const nWorkers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), tasks.length));
  if (total <= INLINE_MAX_BYTES) {
    const buf = Buffer.allocUnsafe(Math.min(READ_BUFFER_BYTES, Math.max(total, 1)));
    let done = 0;
    for (const t of tasks) {
      const o = hashTask(t, opts.hashType, opts.noFollow, buf, (n) => (done += n));
      if ('error' in o) throw toError(o);
      digests.set(o.id, o.digest);
    }
    opts.onProgress?.(done);
    return digests;
  }

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

  const progress = new SharedArrayBuffer(8);
  const counter = new BigInt64Array(progress);
  const init: WorkerInit = { hashType: opts.hashType, noFollow: opts.noFollow, progress };
  const workers = Array.from({ length: Math.min(nWorkers, batches.length) }, () =>
    new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: init }),
  );
  const timer = opts.onProgress
    ? setInterval(() => opts.onProgress!(Number(Atomics.load(counter, 0))), opts.progressIntervalMs ?? 100)
    : undefined;
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
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
              reject(toError(o));
              return;
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
    await Promise.all(workers.map((w) => w.terminate()));
  }
  opts.onProgress?.(Number(Atomics.load(counter, 0)));
  return digests;
}
