import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, hashModel, ModelsealError, verifyModel } from '@modelseal/core/internals';
import { modelsealAsync, tmp } from '../cli.js';
import { CORPUS, type Ctx, type Op } from './corpus.js';

/**
 * Runs every case of the adversarial corpus through the library and through
 * the CLI (a child process), asserting the same exit code and error code from
 * both.
 */

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

async function library(op: Op): Promise<{ exit: number; code?: string }> {
  try {
    if (op.op === 'hash') await hashModel(op.target, op.opts);
    else await verifyModel(op.target, { trust: { publicKey } });
    return { exit: 0 };
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return { exit: exitCodeFor(e), code: (e as ModelsealError).code };
  }
}

function cliArgs(op: Op, pub: string): string[] {
  if (op.op === 'verify') return ['verify', op.target, '--key', pub, '--quiet'];
  return ['hash', op.target, '--quiet', ...(op.opts?.allowSymlinks ? ['--allow-symlinks'] : [])];
}

describe('adversarial corpus: tar header forms, paths and file types', () => {
  it.each(CORPUS.map((c) => [`${c.id}: ${c.what}`, c] as const))('%s', async (_name, k) => {
    const dir = tmp();
    const pub = path.join(dir, 'signer.pub');
    writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    const ctx: Ctx = { dir, privateKey, publicKey, pub };
    const op = await k.build(ctx);
    const want = k.code ? { exit: k.exit, code: k.code } : { exit: k.exit };
    expect(await library(op), 'library').toEqual(want);
    const r = await modelsealAsync(cliArgs(op, pub));
    expect(r.status, `CLI: ${r.stderr}`).toBe(k.exit);
    if (k.code) expect(r.stderr).toContain(`[${k.code}]`);
  });
});
