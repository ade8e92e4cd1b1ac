import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { errorJson, InputError } from '@modelseal/core/internals';
import { MODES, readInputs, type ActionInputs, type Mode } from './inputs.js';
import { KeyFiles } from './key-material.js';
import { outputsOf } from './outputs.js';
import { reportJson } from './report.js';
import type { ModeFailure, ModeResult } from './results.js';
import { runMode } from './run.js';
import { renderSummary } from './summary.js';

/**
 * The action: inputs -> the core calls the CLI makes -> outputs, the JSON
 * report, annotations and the job summary. Every outcome, success or failure,
 * sets `report` and writes the summary.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const mask = (s: string) => core.setSecret(s);
  const keys = new KeyFiles(mask);
  let inputs: ActionInputs | undefined;
  let outcome: ModeResult | ModeFailure;
  try {
    inputs = readInputs((n) => core.getInput(n));
    outcome = await runMode(inputs, { keys, mask, env });
  } catch (err) {
    const error = addonMissing(err) ?? err;
    outcome = { mode: inputs?.mode ?? modeGuess(), error, modelPath: inputs?.modelPath ?? core.getInput('model-path') };
  } finally {
    keys.cleanup();
  }
  await publish(outcome, env);
}

/**
 * The BLAKE3 addon is native code, so it is not in the bundle: core loads it
 * on first use, and in the action that fails unless someone shipped it.
 */
function addonMissing(err: unknown): InputError | undefined {
  // core's hashing reports a failed load as READ_ERROR of the file being hashed; the message names the addon
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if ((e?.code !== 'MODULE_NOT_FOUND' && e?.code !== 'READ_ERROR') || !/Cannot find (module|package) '@napi-rs\/blake-hash'/.test(String(e.message))) return undefined;
  return new InputError('BLAKE3_UNAVAILABLE', 'this model is hashed with blake3, whose native addon (@napi-rs/blake-hash) is not in the action bundle: sign with sha256 (the default) or blake2, or verify with the modelseal CLI', { cause: err });
}

/** For the report of inputs that did not parse: the mode asked for, if it is one. */
function modeGuess(): Mode {
  const m = core.getInput('mode');
  return MODES.find((x) => x === m) ?? 'gate';
}

async function publish(outcome: ModeResult | ModeFailure, env: NodeJS.ProcessEnv): Promise<void> {
  for (const [name, value] of Object.entries(outputsOf(outcome))) core.setOutput(name, value);
  const report = reportJson(outcome);
  const file = path.join(env.RUNNER_TEMP || tmpdir(), `modelseal-${outcome.mode}-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  core.setOutput('report', file);
  try {
    await core.summary.addRaw(renderSummary(outcome)).write();
  } catch (err) {
    // outside Actions (no GITHUB_STEP_SUMMARY) the summary has nowhere to go; the outcome still stands
    core.warning(`job summary not written: ${(err as Error).message}`);
  }
  if ('error' in outcome) {
    const e = errorJson(outcome.error);
    if (e.family === 'internal') core.error((outcome.error as Error)?.stack ?? e.message);
    core.setFailed(`modelseal: ${e.family === 'verification' ? 'verification failed: ' : ''}${e.message} [${e.code}]`);
    return;
  }
  if (outcome.mode === 'gate') {
    const failed = outcome.report.rules.filter((r) => !r.ok);
    for (const r of failed) core.error(r.detail, { title: `modelseal policy rule ${r.rule} not met` });
    if (failed.length) {
      core.setFailed(`modelseal: policy ${outcome.policyFile}: ${failed.length} rule(s) failed: ${failed.map((r) => r.rule).join(', ')} [POLICY_FAILED]`);
      return;
    }
  }
  core.info(summaryLine(outcome));
}

function summaryLine(r: ModeResult): string {
  switch (r.mode) {
    case 'sign':
      return `signed ${r.manifest.modelName} (sha256:${r.manifest.rootDigest}) -> ${r.signaturePath}`;
    case 'attest-provenance':
    case 'approve':
      return `${r.mode === 'approve' ? 'approval' : 'provenance'} for ${r.name} (sha256:${r.digest}) -> ${r.file}`;
    case 'verify':
      return `verified ${r.result.modelName}: sha256:${r.result.rootDigest}`;
    case 'gate':
      return `policy ${r.policyFile}: pass (${r.report.model?.name} sha256:${r.report.model?.digest.sha256})`;
  }
}

