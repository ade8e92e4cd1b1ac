import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keySigner, signModel } from '@modelseal/core';
import { ROOT, tmp } from './cli.js';

const SERVER = path.join(ROOT, 'examples/serving/node-server/server.mjs');

async function signedModel() {
  const dir = tmp();
  const model = path.join(dir, 'tiny');
  mkdirSync(model);
  writeFileSync(path.join(model, 'config.json'), '{"hidden": 8}');
  writeFileSync(path.join(model, 'model.onnx'), Buffer.alloc(64_000, 3));
  const kp = generateKeyPair('ecdsa-p256');
  const pub = path.join(dir, 'release.pub');
  writeFileSync(pub, kp.publicPem);
  await signModel(model, { signer: keySigner(createPrivateKey(kp.privatePem)) });
  return { dir, model, pub };
}

/** Starts the example server; resolves with its port once listening, or with its exit status if it stops first. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const ready = new Promise<{ port?: number; status?: number | null; stderr: string }>((resolve) => {
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), stderr: err });
    });
    child.on('close', (status) => resolve({ status, stderr: err }));
  });
  return { child, ready };
}

describe('examples/serving/node-server', () => {
  it('serves a model that verifies, having read it through openVerified', async () => {
    const { dir, model, pub } = await signedModel();
    const log = path.join(dir, 'audit.jsonl');
    const { child, ready } = start({ MODEL_DIR: model, MODEL_PUBLIC_KEY: pub, MODELSEAL_AUDIT_LOG: log });
    try {
      const r = await ready;
      expect(r.port).toBeGreaterThan(0);
      const health = await (await fetch(`http://127.0.0.1:${r.port}/health`)).json();
      expect(health).toMatchObject({ model: 'tiny', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), files: 2, bytes: 64_013, signer: { kind: 'key', keyType: 'ecdsa-p256' } });
      expect(JSON.parse(readFileSync(log, 'utf8'))).toMatchObject({ ok: true, operation: 'open' });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses to start (exit 1, no port) on a tampered model; exit 2 without a key', async () => {
    const { model, pub } = await signedModel();
    writeFileSync(path.join(model, 'model.onnx'), Buffer.alloc(64_000, 4));
    const r = await start({ MODEL_DIR: model, MODEL_PUBLIC_KEY: pub }).ready;
    expect(r.port).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refusing to start: .*\[MODEL_MISMATCH\]/);
    const r2 = await start({ MODEL_DIR: model }).ready;
    expect([r2.status, r2.port]).toEqual([2, undefined]);
    expect(r2.stderr).toContain('[MISSING_TRUST]');
  });
});
