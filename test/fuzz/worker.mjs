// Runs fuzz inputs for the runner, one at a time, in a worker thread the
// runner can terminate: a synchronous hang or a heap blow-up costs only this
// worker. Replies { ok, code } for success or a ModelsealError, { crash } for
// anything else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { ModelsealError } from '@modelseal/core';
import { executors } from './targets.mjs';

// The yaml package reports odd-but-parsed input through process.emitWarning; thousands of them would drown the report.
process.emitWarning = () => {};
const work = mkdtempSync(path.join(tmpdir(), 'modelseal-fuzz-'));
const run = executors(work);
const describe = (e) => ({ name: e?.name ?? typeof e, message: String(e?.message ?? e).slice(0, 500), stack: String(e?.stack ?? '').split('\n').slice(0, 8).join('\n') });
process.on('uncaughtException', (e) => parentPort.postMessage({ crash: { kind: 'uncaught exception', ...describe(e) } }));
process.on('unhandledRejection', (e) => parentPort.postMessage({ crash: { kind: 'unhandled rejection', ...describe(e) } }));

parentPort.on('message', async ({ target, input, variant, done }) => {
  if (done) {
    rmSync(work, { recursive: true, force: true });
    parentPort.close();
    return;
  }
  try {
    const outcome = await run[target](Buffer.from(input), variant);
    parentPort.postMessage({ ok: true, code: outcome ?? 'OK' });
  } catch (e) {
    if (e instanceof ModelsealError) parentPort.postMessage({ ok: true, code: e.code });
    else parentPort.postMessage({ crash: { kind: 'non-ModelsealError thrown', ...describe(e) } });
  }
});
parentPort.postMessage({ ready: true });
