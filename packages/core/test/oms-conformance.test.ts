import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, hashModel, keySigner, loadCertificates, loadPrivateKey, parseBundle, signedManifest, signManifest, ModelsealError } from '@modelseal/core/internals';
import { bytes, FIXTURES, tempDir, writeTree } from './helpers.js';

/** The OMS v1.0 specification's own schemas and test vectors (read from ../shared, never copied). */
const SPEC = path.resolve(FIXTURES, '../oms-spec');
const schema = (n: string) => JSON.parse(readFileSync(path.join(SPEC, 'schemas-v1.0', `${n}.schema.json`), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const n of ['envelope', 'predicate', 'statement']) ajv.addSchema(schema(n));
const bundleOk = ajv.compile(schema('bundle'));
const statementOk = ajv.getSchema('https://model_signing/statement/v1.0/schema')!;
const ours = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../schemas/oms-statement-v1.0.schema.json'), 'utf8')));
const vectors = (kind: string) => readdirSync(path.join(SPEC, 'test-vectors-v1.0', kind)).map((f) => [f, path.join(SPEC, 'test-vectors-v1.0', kind, f)] as const);
const payloadOf = (b: any) => JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return (e as ModelsealError).code;
  }
  throw new Error('expected a ModelsealError');
}

describe('OMS v1.0 conformance (the specification\'s schemas and vectors)', () => {
  it('every bundle modelseal writes validates against the official bundle schema; files-method statements against the official statement schema', async () => {
    const d = writeTree(path.join(tempDir(), 'm'), { 'a.bin': bytes(3000), 'b/c.json': '{}', empty: '' });
    const chain = [...loadCertificates(path.join(FIXTURES, 'keys/certificate/signing-key-cert.pem')), ...loadCertificates(path.join(FIXTURES, 'keys/certificate/int-ca-cert.pem'))];
    const ec = loadPrivateKey(path.join(FIXTURES, 'keys/certificate/signing-key.pem')).key;
    const signers = [keySigner(createPrivateKey(generateKeyPair('ed25519').privatePem)), keySigner(createPrivateKey(generateKeyPair('ecdsa-p256').privatePem)), keySigner(ec), keySigner(ec, chain)];
    let n = 0;
    for (const hashType of ['sha256', 'blake2b', 'blake3'] as const) {
      for (const method of ['files', 'shards'] as const) {
        const m = await hashModel(d, { hashType, method, ...(method === 'shards' ? { shardSize: 1000 } : {}) });
        for (const s of signers) {
          const b = await signManifest(m, s);
          expect(bundleOk(b), JSON.stringify(bundleOk.errors)).toBe(true);
          const st = payloadOf(b);
          if (method === 'files') expect(statementOk(st), JSON.stringify(statementOk.errors)).toBe(true);
          else {
            // The documented difference: the spec's resource algorithm enum lacks model_signing's `<hash>-sharded-<n>`.
            expect(statementOk(st)).toBe(false);
            expect(st.predicate.resources[0].algorithm).toBe(`${hashType}-sharded-1000`);
            expect(ours(st), JSON.stringify(ours.errors)).toBe(true);
          }
          n++;
        }
      }
    }
    expect(n).toBe(24);
  });

  it('every v1.1 model_signing fixture validates against the official bundle schema', () => {
    const v11 = readdirSync(FIXTURES).filter((d) => d.startsWith('v1.1'));
    expect(v11.length).toBeGreaterThanOrEqual(3);
    for (const d of v11) expect(bundleOk(JSON.parse(readFileSync(path.join(FIXTURES, d, 'model.sig'), 'utf8'))), d).toBe(true);
  });

  it.each(vectors('valid'))('valid/%s parses: bundle and statement', (_f, file) => {
    const b = parseBundle(readFileSync(file), file);
    const m = signedManifest(b);
    expect(m.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
    expect(bundleOk(JSON.parse(readFileSync(file, 'utf8')))).toBe(true);
  });

  it.each([
    ['empty.bundle.json', 'BAD_JSON'],
    ['missing-envelope.bundle.json', 'BAD_BUNDLE'],
    ['missing-tlog-entries.bundle.json', 'TLOG_MISSING'],
    ['missing-verification-material.bundle.json', 'BAD_BUNDLE'],
  ])('invalid/%s is rejected at the bundle level with %s', (f, code) => {
    const file = path.join(SPEC, 'test-vectors-v1.0/invalid', f);
    expect(codeOf(() => parseBundle(readFileSync(file), file))).toBe(code);
  });

  it('the vector folders hold exactly the cases tested here', () => {
    expect(vectors('invalid').map(([f]) => f).sort()).toEqual(['empty.bundle.json', 'missing-envelope.bundle.json', 'missing-tlog-entries.bundle.json', 'missing-verification-material.bundle.json']);
    expect(vectors('invalid-payload').map(([f]) => f)).toEqual(['wrong-predicate.bundle.json']);
  });

  it('invalid-payload/wrong-predicate: the bundle parses, its statement is rejected', () => {
    const file = path.join(SPEC, 'test-vectors-v1.0/invalid-payload/wrong-predicate.bundle.json');
    const b = parseBundle(readFileSync(file), file);
    expect(codeOf(() => signedManifest(b))).toBe('BAD_PREDICATE_TYPE');
  });
});
