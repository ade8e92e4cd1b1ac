#!/usr/bin/env node
// `npm run fuzz`: a seeded, structure-aware mutation fuzzer over the bundle
// and statement parser, the policy loader and the tar reader (no
// coverage-guided fuzzer loads on these machines: see
// ../shared/notes/tooling.md). Each target runs for its share of
// FUZZ_SECONDS (default 60) in a worker thread; an input fails the run if it
// throws anything but a ModelsealError, raises an uncaught exception, runs
// longer than FUZZ_TIMEOUT_MS (default 5000), or exhausts the worker's heap.
// Failing inputs are written to test/fuzz/crashes/; once fixed, move them to
// test/fuzz/regressions/, which `node test/fuzz/run.mjs --replay` (run by the
// normal test suite) replays.
//
//   FUZZ_SECONDS=60 FUZZ_SEED=1234 node test/fuzz/run.mjs [--target tar] [--replay]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { mutateBytes, rng } from './mutate.mjs';
import { MUTATORS, seedsFor } from './targets.mjs';

const HERE = import.meta.dirname;
const args = process.argv.slice(2);
const TARGETS = ['bundle', 'policy', 'tar'];
const only = args.includes('--target') ? [args[args.indexOf('--target') + 1]] : TARGETS;
const TOTAL_SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const TIMEOUT_MS = Number(process.env.FUZZ_TIMEOUT_MS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const HEAP_MB = 512;

/** A worker that runs one input at a time; restarted after a finding. */
class Runner {
  constructor() {
    this.start();
  }
  start() {
    this.worker = new Worker(path.join(HERE, 'worker.mjs'), { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    this.pending = undefined;
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.ready) resolve();
        else if (this.pending) this.settle(m);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', (e) => (this.pending ? this.settle({ crash: { kind: 'worker error', name: e.name, message: String(e.message), stack: String(e.stack).split('\n').slice(0, 8).join('\n') } }) : reject(e)));
      this.worker.on('exit', (c) => this.pending && this.settle({ crash: { kind: `worker exited (${c})`, name: 'exit', message: `exit code ${c}` } }));
    });
  }
  settle(m) {
    const p = this.pending;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(m);
  }
  async exec(target, input, variant) {
    await this.ready;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle({ crash: { kind: 'hang', name: 'timeout', message: `no result after ${TIMEOUT_MS} ms` } }), TIMEOUT_MS);
      this.pending = { resolve, timer };
      this.worker.postMessage({ target, input, variant });
    });
  }
  async restart() {
    await this.worker.terminate();
    this.start();
  }
  async close() {
    this.worker.postMessage({ done: true });
    await this.worker.terminate();
  }
}

function save(dir, target, variant, input, crash) {
  mkdirSync(dir, { recursive: true });
  const id = createHash('sha256').update(input).digest('hex').slice(0, 12);
  const file = path.join(dir, `${target}.${variant}.${id}.bin`);
  writeFileSync(file, input);
  writeFileSync(file.replace(/\.bin$/, '.txt'), `${crash.kind}: ${crash.name}: ${crash.message}\n${crash.stack ?? ''}\n`);
  return file;
}

async function replay() {
  const dir = path.join(HERE, 'regressions');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [];
  const runner = new Runner();
  let failed = 0;
  for (const f of files) {
    const [target, ...rest] = f.split('.');
    const variant = rest.slice(0, -2).join('.');
    const m = await runner.exec(target, readFileSync(path.join(dir, f)), variant);
    if (m.crash) {
      failed++;
      console.log(`replay ${f}: FAIL ${m.crash.kind}: ${m.crash.name}: ${m.crash.message}`);
      await runner.restart();
    } else console.log(`replay ${f}: ${m.code}`);
  }
  await runner.close();
  console.log(`replay: ${files.length} inputs, ${failed} failing`);
  return failed === 0;
}

async function fuzz(target, seconds, seed) {
  const work = mkdtempSync(path.join(tmpdir(), 'modelseal-fuzz-seeds-'));
  const seeds = await seedsFor(target, work);
  rmSync(work, { recursive: true, force: true });
  const r = rng(seed);
  const corpus = [...seeds];
  const outcomes = new Map();
  const findings = [];
  const runner = new Runner();
  const mutate = MUTATORS[target];
  const end = Date.now() + seconds * 1000;
  let execs = 0;
  // the seeds themselves first: they must pass cleanly
  const queue = seeds.map((s) => ({ ...s }));
  while (Date.now() < end) {
    let item = queue.shift();
    if (!item) {
      const base = r.pick(corpus);
      let input = base.input;
      for (let k = 1 + r.int(3); k > 0; k--) {
        try {
          input = mutate(r, { input, variant: base.variant }, corpus.map((c) => c.input));
        } catch {
          input = mutateBytes(r, input, [input]); // a structure mutator tripped on an odd input: fall back to bytes
        }
      }
      item = { input, variant: base.variant };
    }
    const m = await runner.exec(target, item.input, item.variant);
    execs++;
    if (m.crash) {
      const file = save(path.join(HERE, 'crashes'), target, item.variant, item.input, m.crash);
      findings.push(`${m.crash.kind}: ${m.crash.name}: ${m.crash.message.split('\n')[0]} (${path.relative(process.cwd(), file)})`);
      await runner.restart();
      continue;
    }
    const n = outcomes.get(m.code) ?? 0;
    outcomes.set(m.code, n + 1);
    // an input with an outcome seen rarely is worth mutating further
    if (n < 3 && corpus.length < 500) corpus.push(item);
  }
  await runner.close();
  const top = [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([c, n]) => `${c}=${n}`).join(', ');
  console.log(`fuzz ${target}: ${execs} executions in ${seconds} s (${Math.round(execs / seconds)}/s), seed ${seed}, corpus ${corpus.length}, ${outcomes.size} outcomes, ${findings.length} findings`);
  console.log(`  most frequent outcomes: ${top}`);
  for (const f of findings.slice(0, 20)) console.log(`  FINDING ${f}`);
  return findings.length === 0;
}

let ok = true;
if (args.includes('--replay')) ok = await replay();
else {
  const per = TOTAL_SECONDS / only.length;
  console.log(`fuzz: ${only.join(', ')} for ${per.toFixed(0)} s each, seed ${SEED}, per-input timeout ${TIMEOUT_MS} ms, worker heap ${HEAP_MB} MB`);
  for (const [i, t] of only.entries()) {
    if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
    ok = (await fuzz(t, per, SEED + i)) && ok;
  }
}
process.exit(ok ? 0 : 1);
