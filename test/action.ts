import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, tmp } from './cli.js';

export const ACTION_DIR = path.join(ROOT, 'packages/github-action');

/**
 * A copy of the action as GitHub checks it out: action.yml, package.json and
 * the committed dist/, in a folder with no node_modules above it. Running
 * the copy proves the bundle needs nothing else (the BLAKE3 addon included).
 */
export function checkoutAction(): string {
  const d = path.join(tmp(), 'modelseal-action');
  mkdirSync(d, { recursive: true });
  for (const f of ['action.yml', 'package.json', 'dist']) cpSync(path.join(ACTION_DIR, f), path.join(d, f), { recursive: true });
  return d;
}

interface ActionYml {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
  runs: { using: string; main: string };
}
export const actionYml = (): ActionYml => parse(readFileSync(path.join(ACTION_DIR, 'action.yml'), 'utf8')) as ActionYml;

export interface ActionRun {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** the JSON file the `report` output names */
  report?: any;
  /** `::error ...::message` workflow commands */
  errors: string[];
}

/** What a GitHub-hosted runner sets for a push to main of acme/models, running release.yml. */
export function githubEnv(workspace: string, runnerTemp: string): Record<string, string> {
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_REPOSITORY: 'acme/models',
    GITHUB_REPOSITORY_ID: '123456',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_REPOSITORY_OWNER_ID: '654321',
    GITHUB_WORKFLOW: 'release model',
    GITHUB_WORKFLOW_REF: 'acme/models/.github/workflows/release.yml@refs/heads/main',
    GITHUB_WORKFLOW_SHA: 'c0ffee'.padEnd(40, '0'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_ACTOR: 'alice',
    GITHUB_JOB: 'release',
    GITHUB_WORKSPACE: workspace,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: runnerTemp,
  };
}

/**
 * Runs the action's `runs.main` as the runner does: a child process on this
 * Node, inputs as INPUT_<NAME> (upper-cased, spaces to underscores, dashes
 * kept) with action.yml's defaults filled in, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, and a runner environment built from scratch (so
 * nothing from the test process, such as an OIDC URL, leaks in).
 */
export function runAction(actionDir: string, inputs: Record<string, string>, o: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<ActionRun> {
  const d = tmp();
  const outFile = path.join(d, 'github_output');
  const summaryFile = path.join(d, 'step_summary');
  const runnerTemp = path.join(d, 'runner_temp');
  mkdirSync(runnerTemp);
  writeFileSync(outFile, '');
  writeFileSync(summaryFile, '');
  const meta = actionYml();
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: d, ...githubEnv(o.cwd ?? d, runnerTemp), GITHUB_OUTPUT: outFile, GITHUB_STEP_SUMMARY: summaryFile };
  for (const [name, spec] of Object.entries(meta.inputs)) {
    const v = inputs[name] ?? (spec.default === '${{ github.token }}' ? 'ghs_test-token' : spec.default);
    if (v !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = v;
  }
  for (const name of Object.keys(inputs)) if (!(name in meta.inputs)) throw new Error(`input ${name} is not declared in action.yml`);
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(actionDir, meta.runs.main)], { env, cwd: o.cwd ?? d, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => {
      const outputs = parseOutputFile(readFileSync(outFile, 'utf8'));
      const report = outputs.report ? JSON.parse(readFileSync(outputs.report, 'utf8')) : undefined;
      const errors = stdout.split('\n').filter((l) => l.startsWith('::error'));
      resolve({ status, stdout, stderr, outputs, summary: readFileSync(summaryFile, 'utf8'), report, errors });
    });
  });
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as @actions/core writes GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}
