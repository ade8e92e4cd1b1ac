import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel, parseOmsStatement, toOmsStatement } from '@modelseal/core/internals';
import { FIXTURES } from './helpers.js';

function payloadOf(dir: string): any {
  const bundle = JSON.parse(readFileSync(path.join(dir, 'model.sig'), 'utf8'));
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

const v1 = readdirSync(FIXTURES).filter((d) => /^v1\./.test(d)).sort();

describe('model_signing interop: manifests', () => {
  it('finds the v1.x fixtures', () => {
    expect(v1.length).toBeGreaterThanOrEqual(9);
  });

  it.each(v1)('%s: modelseal computes the signed subject digest and resources', async (name) => {
    const dir = path.join(FIXTURES, name);
    const signed = payloadOf(dir);
    const single = signed.predicate.resources[0].name === '.';
    const manifest = await hashModel(single ? path.join(dir, 'signme-1') : dir, { ignorePaths: ['ignore-me'] });
    expect(manifest.rootDigest).toBe(signed.subject[0].digest.sha256);
    expect(manifest.modelName).toBe(signed.subject[0].name);
    const ours = toOmsStatement(manifest).predicate.resources;
    expect(ours).toEqual(signed.predicate.resources.map((r: any) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })));
    // and our parser accepts what model_signing wrote
    expect(parseOmsStatement(signed).rootDigest).toBe(manifest.rootDigest);
  });

  it('without ignoring ignore-me, the v1.1.0 folder hashes to something else', async () => {
    const dir = path.join(FIXTURES, 'v1.1.0-elliptic-key');
    const m = await hashModel(dir);
    expect(m.resources.map((r) => r.name)).toContain('ignore-me');
    expect(m.rootDigest).not.toBe(payloadOf(dir).subject[0].digest.sha256);
  });

  it('the v0.2 fixture statement (one subject per file) reads as the files-method SHA-256 manifest of its folder', async () => {
    const dir = path.join(FIXTURES, 'v0.2.0-certificate');
    const legacy = parseOmsStatement(payloadOf(dir));
    expect(legacy.legacyFormat).toBe('model_signing-v0.2');
    const ours = await hashModel(dir);
    expect(legacy.resources).toEqual(ours.resources);
    expect(legacy.rootDigest).toBe(ours.rootDigest);
  });
});
