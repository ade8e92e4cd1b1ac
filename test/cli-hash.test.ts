import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, modelseal, ROOT, tmp } from './cli.js';

describe('modelseal hash', () => {
  it('prints the root digest of the bundled example model', () => {
    const r = modelseal(['hash', 'examples/tiny-model']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.stderr).toBe(''); // not a TTY: no progress bar
  });

  it('matches model_signing on a fixture, and --json prints the result with the OMS statement', () => {
    const dir = path.join(FIXTURES, 'v1.1.0-elliptic-key');
    const signed = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(dir, 'model.sig'), 'utf8')).dsseEnvelope.payload, 'base64').toString());
    const r = modelseal(['hash', dir, '--ignore-paths', 'ignore-me']);
    expect(r.stdout.trim()).toBe(signed.subject[0].digest.sha256);
    const j = modelseal(['hash', dir, '--ignore-paths', 'ignore-me', '--json']);
    expect(j.status).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out).toMatchObject({ version: 1, command: 'hash', ok: true, model: { name: 'v1.1.0-elliptic-key', digest: { sha256: signed.subject[0].digest.sha256 }, resources: 2 }, warnings: [] });
    const st = out.statement;
    expect(st.subject).toEqual([{ name: 'v1.1.0-elliptic-key', digest: { sha256: signed.subject[0].digest.sha256 } }]);
    expect(st.predicate.resources).toEqual(signed.predicate.resources.map((x: any) => ({ name: x.name, algorithm: x.algorithm, digest: x.digest })));
  });

  it('writes the manifest with --output, atomically, and honours hash options', () => {
    const out = path.join(tmp(), 'manifest.json');
    const r = modelseal(['hash', 'examples/tiny-model', '--hash', 'blake2', '--method', 'shards', '--shard-size', '1KiB', '--output', out]);
    expect(r.status).toBe(0);
    const st = JSON.parse(readFileSync(out, 'utf8'));
    expect(st.predicate.serialization).toMatchObject({ method: 'shards', hash_type: 'blake2b', shard_size: 1024 });
    expect(st.predicate.resources.some((x: any) => x.name === 'model.safetensors:1024:2048')).toBe(true);
    expect(st.subject[0].digest.sha256).toBe(r.stdout.trim());
    expect(readdirSync(path.dirname(out))).toEqual(['manifest.json']); // no temp file left behind
  });

  it('a tarball gives the same digest as the folder', () => {
    const d = tmp();
    const t = path.join(d, 'tiny.tar.gz');
    execFileSync('tar', ['-C', path.join(ROOT, 'examples'), '-czf', t, 'tiny-model']);
    expect(modelseal(['hash', t]).stdout).toBe(modelseal(['hash', 'examples/tiny-model']).stdout);
  });

  it.each([
    [['hash', '/no/such/model'], /no such file or folder/],
    [['hash', 'examples/tiny-model', '--hash', 'md5'], /Allowed choices are sha256, blake2, blake3/],
    [['hash', 'examples/tiny-model', '--method', 'tensors'], /Allowed choices are files, shards/],
    [['hash', 'examples/tiny-model', '--method', 'shards', '--shard-size', 'lots'], /not a byte count/],
    [['hash', 'examples/tiny-model', '--shard-size', '10'], /only applies to --method shards/],
    [['hash', 'examples/tiny-model', '--ignore-paths', '../x'], /escapes the model root/],
    [['hash'], /missing required argument/],
    [['frobnicate'], /unknown command/],
  ])('exits 2 with a one-line error for %j', (args, message) => {
    const r = modelseal(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
  });

  it('refuses a symlink with exit 2 naming the file, and follows it with --allow-symlinks', () => {
    const d = path.join(tmp(), 'm');
    mkdirSync(d);
    writeFileSync(path.join(d, 'w.bin'), 'w');
    symlinkSync('w.bin', path.join(d, 'alias.bin'));
    const r = modelseal(['hash', d]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('alias.bin');
    expect(r.stderr).toContain('--allow-symlinks');
    expect(modelseal(['hash', d, '--allow-symlinks']).status).toBe(0);
  });

  it('does not leave a file behind when hashing fails', () => {
    const out = path.join(tmp(), 'm.json');
    expect(modelseal(['hash', '/no/such', '--output', out]).status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('hashes a single file', () => {
    const f = path.join(ROOT, 'examples/tiny-model/config.json');
    const st = JSON.parse(modelseal(['hash', f, '--json']).stdout).statement;
    expect(st.predicate.resources).toEqual([
      { name: '.', algorithm: 'sha256', digest: createHash('sha256').update(readFileSync(f)).digest('hex') },
    ]);
  });
});
