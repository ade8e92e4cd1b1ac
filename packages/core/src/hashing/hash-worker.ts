import { parentPort, workerData } from 'node:worker_threads';
import type { HashType } from './algorithms.js';
import { hashTask, READ_BUFFER_BYTES, type HashTask, type TaskOutcome } from './read-range.js';

/** Messages the pool sends: a batch of tasks to hash in order. */
export interface WorkerRequest {
  tasks: HashTask[];
}
export interface WorkerInit {
  hashType: HashType;
  noFollow: boolean;
  /** shared byte counter (BigInt64Array over a SharedArrayBuffer) for progress */
  progress: SharedArrayBuffer;
}

const init = workerData as WorkerInit;
const counter = new BigInt64Array(init.progress);
const buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
const onBytes = (n: number) => void Atomics.add(counter, 0, BigInt(n));

parentPort!.on('message', (req: WorkerRequest) => {
  const outcomes: TaskOutcome[] = [];
  for (const t of req.tasks) {
    const o = hashTask(t, init.hashType, init.noFollow, buf, onBytes);
    outcomes.push(o);
    if ('error' in o) break; // the pool stops at the first failure
  }
  parentPort!.postMessage(outcomes);
});
