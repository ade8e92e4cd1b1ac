import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

/**
 * Installs modelseal as a user does, from the tarballs `npm pack` makes, into
 * a fresh project outside this repository: whatever the tarballs miss (files,
 * dependencies, types, the schemas folder, the BLAKE3 addon) fails here, not
 * for a user. Dependencies come from the npm cache when it has them
 * (--prefer-offline), else from the registry.
 */
const work = mkdtempSync(path.join(tmpdir(), 'modelseal-pack-'));
const proj = path.join(work, 'project');
// npm and the installed bin (`#!/usr/bin/env node`) run on the Node running the tests.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false' };
const BIN = path.join(proj, 'node_modules/.bin/modelseal');

function run(cmd: string, args: string[], cwd = proj): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(cmd: string, args: string[], cwd = proj): string {
  const r = run(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

let tarballs: { name: string; filename: string; files: { path: string }[] }[] = [];

beforeAll(() => {
  mkdirSync(proj);
  const packed = execFileSync('npm', ['pack', '--json', '-w', 'packages/core', '-w', 'packages/cli', '--pack-destination', work], { cwd: ROOT, env, encoding: 'utf8' });
  tarballs = JSON.parse(packed) as typeof tarballs;
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'uses-modelseal', version: '1.0.0', private: true, type: 'module' }));
  ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((t) => path.join(work, t.filename))]);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('installed from npm pack tarballs', () => {
  it('packs what a user needs and nothing of the build state', () => {
    const files = (name: string) => tarballs.find((t) => t.name === name)!.files.map((f) => f.path);
    const core = files('@modelseal/core');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/hashing/hash-worker.js', 'schemas/policy-v1.schema.json', 'package.json']) expect(core).toContain(f);
    expect(files('@modelseal/cli')).toContain('dist/main.js');
    for (const f of [...core, ...files('@modelseal/cli')]) expect(f).not.toMatch(/tsbuildinfo|(^|\/)test\//);
  });

  it('runs the installed bin: --version, keygen, sign, verify, tampering caught', () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;
    expect(ok(BIN, ['--version']).trim()).toBe(version);
    const model = path.join(proj, 'model');
    mkdirSync(model);
    writeFileSync(path.join(model, 'config.json'), '{"layers": 2}');
    // over the inline limit, so the worker threads (hash-worker.js) hash it
    writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(9 << 20, 7));
    ok(BIN, ['keygen', '--out', 'k']);
    ok(BIN, ['sign', model, '--key', 'k.key', '--signature', 'model.sig', '-q']);
    expect(ok(BIN, ['verify', model, '--key', 'k.pub', '--signature', 'model.sig', '-q'])).toMatch(/^verified model: sha256:[0-9a-f]{64}, 2 resources/);
    // the BLAKE3 addon is installed with the library
    expect(ok(BIN, ['hash', model, '--hash', 'blake3', '-q']).trim()).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(path.join(model, 'config.json'), '{"layers": 3}');
    const bad = run(BIN, ['verify', model, '--key', 'k.pub', '--signature', 'model.sig', '-q']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('config.json');
    writeFileSync(path.join(model, 'config.json'), '{"layers": 2}');
  });

  it('imports the library, calls verifyModel, and type-checks against its declarations', () => {
    const script = `
import { existsSync } from 'node:fs';
import { verifyModel, trustFromSpec, type VerifyResult } from '@modelseal/core';
import { POLICY_SCHEMA_PATH } from '@modelseal/core/internals';
const r: VerifyResult = await verifyModel('model', { trust: trustFromSpec({ key: 'k.pub' }), signaturePath: 'model.sig' });
console.log(JSON.stringify({ resources: r.manifest.resources.length, schema: existsSync(POLICY_SCHEMA_PATH) }));
`;
    writeFileSync(path.join(proj, 'lib.ts'), script);
    // the same code as plain JavaScript, run by Node
    writeFileSync(path.join(proj, 'lib.mjs'), script.replace(', type VerifyResult', '').replace(': VerifyResult', ''));
    expect(JSON.parse(ok(process.execPath, ['lib.mjs']))).toEqual({ resources: 2, schema: true });
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    ok(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'lib.ts']);
  });
});
