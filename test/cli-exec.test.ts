import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keySigner, signModel } from '@modelseal/core';
import { CLI, modelseal, ROOT, tmp } from './cli.js';

/** A signed model folder and the public key file that verifies it. */
async function signed(): Promise<{ model: string; pub: string; dir: string }> {
  const dir = tmp();
  const model = path.join(dir, 'model');
  mkdirSync(path.join(model, 'sub'), { recursive: true });
  writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(100_000, 7));
  writeFileSync(path.join(model, 'sub', 'config.json'), '{}');
  const kp = generateKeyPair('ed25519');
  const pub = path.join(dir, 'release.pub');
  writeFileSync(pub, kp.publicPem);
  await signModel(model, { signer: keySigner(createPrivateKey(kp.privatePem)) });
  return { model, pub, dir };
}

const NODE = process.execPath;

describe('modelseal exec', () => {
  it.each([[[] as string[]], [['--spawn']]])('verifies, then runs the command with its args and exit status %j', async (mode) => {
    const { model, pub } = await signed();
    const r = modelseal(['exec', model, '--key', pub, ...mode, '--', NODE, '-e', 'console.log("ran", process.argv.slice(1).join(",")); process.exit(7)', 'a', 'b c']);
    expect(r.stdout).toBe('ran a,b c\n');
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/^modelseal: verified model sha256:[0-9a-f]{64}; running /);
  });

  it('never starts the command for a tampered model (exit 1), a missing key (exit 2) or an unknown command (exit 2)', async () => {
    const { model, pub, dir } = await signed();
    const marker = path.join(dir, 'started');
    const cmd = ['--', NODE, '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`];
    writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(100_000, 8));
    const r = modelseal(['exec', model, '--key', pub, ...cmd]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^modelseal: verification failed: .*\[MODEL_MISMATCH\]\n$/);
    expect(existsSync(marker)).toBe(false);
    const r2 = modelseal(['exec', model, '--key', path.join(dir, 'nope.pub'), ...cmd]);
    expect(r2.status).toBe(2);
    expect(modelseal(['exec', model, '--key', pub, '--', 'no-such-command-xyz']).stderr).toMatch(/\[COMMAND_NOT_FOUND\]/);
    expect(modelseal(['exec', model, '--', NODE]).status).toBe(2); // no trust at all
    expect(existsSync(marker)).toBe(false);
  });

  it('--audit-log gets one JSON line per run, success or failure; --cache spares re-hashing', async () => {
    const { model, pub, dir } = await signed();
    const log = path.join(dir, 'audit.jsonl');
    const cache = path.join(dir, 'cache');
    const args = ['exec', model, '--key', pub, '--cache', cache, '--audit-log', log, '--', NODE, '-e', '0'];
    expect(modelseal(args).status).toBe(0);
    const warm = modelseal(args);
    expect(warm.status).toBe(0);
    expect(warm.stderr).toContain('2/2 files from cache');
    writeFileSync(path.join(model, 'sub', 'config.json'), '{ }');
    expect(modelseal(args).status).toBe(1);
    const events = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.ok, e.operation, e.cache?.hits])).toEqual([[true, 'exec', 0], [true, 'exec', 2], [false, 'exec', 1]]);
    const eventOk = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(path.join(ROOT, 'packages/core/schemas/audit-event-v1.schema.json'), 'utf8')));
    for (const e of events) expect(eventOk(e), JSON.stringify(eventOk.errors)).toBe(true);
    expect(events[2]).toMatchObject({ command: [NODE, '-e', '0'], error: { code: 'MODEL_MISMATCH' }, signer: { kind: 'key' }, model: { path: model } });
  });

  it('an audit log that cannot be written stops the command from starting (exit 2)', async () => {
    const { model, pub, dir } = await signed();
    const marker = path.join(dir, 'started');
    const r = modelseal(['exec', model, '--key', pub, '--audit-log', path.join(dir, 'no/such/dir/audit.jsonl'), '--', NODE, '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\[AUDIT_LOG_UNWRITABLE\]/);
    expect(existsSync(marker)).toBe(false);
  });

  it('--policy decides instead of a key', async () => {
    const { model, pub, dir } = await signed();
    const policy = path.join(dir, 'policy.yaml');
    writeFileSync(policy, `version: 1\nsigners:\n  - key: ${path.basename(pub)}\n`);
    const r = modelseal(['exec', model, '--policy', policy, '--', NODE, '-e', 'console.log("up")']);
    expect([r.status, r.stdout]).toEqual([0, 'up\n']);
    expect(modelseal(['exec', model, '--policy', policy, '--key', pub, '--', NODE]).status).toBe(2);
  });

  it('--spawn forwards signals to the command and passes its status on', async () => {
    const { model, pub } = await signed();
    const script = 'process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(3) }); console.log("ready"); setInterval(() => {}, 1000)';
    const child = spawn(NODE, [CLI, 'exec', model, '--key', pub, '--spawn', '-q', '--', NODE, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const status = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('ready')) child.kill('SIGTERM');
      });
      child.on('close', (code) => resolve(code));
    });
    expect(out).toBe('ready\ngot SIGTERM\n');
    expect(status).toBe(3);
  });
});

describe('modelseal exec hf://', () => {
  it('verifies a Hugging Face cache snapshot in place, resolved from HF_HUB_CACHE', async () => {
    const { model, pub, dir } = await signed();
    // move the signed files into hub cache layout: blobs + relative symlinks
    const { renameSync, symlinkSync } = await import('node:fs');
    const repo = path.join(dir, 'hub', 'models--acme--tiny');
    const snap = path.join(repo, 'snapshots', 'c'.repeat(40));
    mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    mkdirSync(path.join(snap, 'sub'), { recursive: true });
    mkdirSync(path.join(repo, 'refs'));
    writeFileSync(path.join(repo, 'refs', 'main'), 'c'.repeat(40) + '\n');
    for (const [i, name] of ['weights.bin', 'sub/config.json', 'model.sig'].entries()) {
      renameSync(path.join(model, name), path.join(repo, 'blobs', `etag${i}`));
      symlinkSync(path.relative(path.dirname(path.join(snap, name)), path.join(repo, 'blobs', `etag${i}`)), path.join(snap, name));
    }
    const env = { HF_HUB_CACHE: path.join(dir, 'hub') };
    const r = modelseal(['exec', 'hf://acme/tiny', '--key', pub, '--', NODE, '-e', 'console.log("served")'], { env });
    expect([r.status, r.stdout]).toEqual([0, 'served\n']);
    expect(r.stderr).toMatch(/^modelseal: verified model sha256:/);
    expect(modelseal(['exec', 'hf://acme/tiny@v9', '--key', pub, '--', NODE], { env }).stderr).toMatch(/\[HF_REVISION_NOT_CACHED\]/);
  });
});
