import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, hashModel, keySigner, loadCertificates, loadPrivateKey, signManifest } from '@modelseal/core/internals';
import { bytes, FIXTURES, tempDir, writeTree } from './helpers.js';

const SCHEMAS = path.resolve(import.meta.dirname, '../schemas');
const ajv = new Ajv({ allErrors: true, strict: false });
const statementOk = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS, 'oms-statement-v1.0.schema.json'), 'utf8')));

/** modelseal keeps one schema of its own: the statement, because it says what the spec's does not (shard algorithms as model_signing writes them). */
function check(bundle: unknown) {
  const payload = JSON.parse(Buffer.from((bundle as any).dsseEnvelope.payload, 'base64').toString());
  expect(statementOk(payload), JSON.stringify(statementOk.errors)).toBe(true);
}

describe('OMS v1.0 schemas', () => {
  it('every v1.x model_signing fixture validates (the schemas describe what model_signing writes)', () => {
    for (const d of readdirSync(FIXTURES).filter((n) => n.startsWith('v1.'))) check(JSON.parse(readFileSync(path.join(FIXTURES, d, 'model.sig'), 'utf8')));
  });

  it('every kind of bundle modelseal writes validates', async () => {
    const d = writeTree(path.join(tempDir(), 'm'), { 'a.bin': bytes(3000), 'b/c.json': '{}', 'empty': '' });
    const chain = [...loadCertificates(path.join(FIXTURES, 'keys/certificate/signing-key-cert.pem')), ...loadCertificates(path.join(FIXTURES, 'keys/certificate/int-ca-cert.pem'))];
    const ecKey = loadPrivateKey(path.join(FIXTURES, 'keys/certificate/signing-key.pem')).key;
    const signers = [
      keySigner(createPrivateKey(generateKeyPair('ed25519').privatePem)),
      keySigner(createPrivateKey(generateKeyPair('ecdsa-p256').privatePem)),
      keySigner(ecKey),
      keySigner(ecKey, chain),
    ];
    for (const hash of [{}, { method: 'shards' as const, shardSize: 1000, hashType: 'blake2b' as const }, { hashType: 'blake3' as const }]) {
      const m = await hashModel(d, hash);
      for (const s of signers) check(await signManifest(m, s));
    }
  });

  it('the schemas reject what they should', () => {
    const good = JSON.parse(readFileSync(path.join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8'));
    const st = JSON.parse(Buffer.from(good.dsseEnvelope.payload, 'base64').toString());
    expect(statementOk({ ...st, predicate: { ...st.predicate, resources: [{ name: '../x', algorithm: 'sha256', digest: 'a'.repeat(64) }] } })).toBe(false);
    expect(statementOk({ ...st, predicate: { ...st.predicate, serialization: { method: 'shards', hash_type: 'sha256', allow_symlinks: false } } })).toBe(false);
  });
});
