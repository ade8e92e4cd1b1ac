import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { ModelsealError } from '@modelseal/core';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = 'modelseal-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Writes a tree of files: { 'a/b.bin': Buffer | string }. Returns the root. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(root, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
  return root;
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/model_signing');

/** The `code` of the ModelsealError a promise rejects with; fails the test if it resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return (e as ModelsealError).code;
  }
  throw new Error('expected a ModelsealError');
}
