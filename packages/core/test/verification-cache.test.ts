import { chmodSync, mkdirSync, symlinkSync, closeSync, openSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { appendAuditEvent, loadCertificates, loadPolicy, ModelMismatchError, verifyModelAudited, type AuditEvent } from '@modelseal/core';
import { bytes, codeOf, FIXTURES, tempDir } from './helpers.js';
import { keyPolicy, keys, signedModel } from './load-fixtures.js';

const eventOk = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../schemas/audit-event-v1.schema.json'), 'utf8')));
const files = { 'a.bin': bytes(100_000, 1), 'b.bin': bytes(50_000, 2), 'sub/c.json': '{}' };

/** Same size, one byte different, mtime put back: only the ctime tells. */
function sneakyEdit(file: string): void {
  const st = statSync(file);
  const b = readFileSync(file);
  b[10]! ^= 1;
  const fd = openSync(file, 'r+');
  writeSync(fd, b, 10, 1, 10);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
  expect(statSync(file, { bigint: true }).mtimeNs).toBe(statSync(file, { bigint: true }).mtimeNs);
}

describe('verification cache', () => {
  it('a warm cache re-hashes nothing; the signature is still checked every time', async () => {
    const m = await signedModel(files);
    const cache = { dir: path.join(tempDir(), 'cache') };
    const cold = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(cold.cache).toEqual({ hits: 0, misses: 3 });
    const warm = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(warm.cache).toEqual({ hits: 3, misses: 0 });
    expect(warm.rootDigest).toBe(cold.rootDigest);
    expect(warm.event.cache).toEqual({ hits: 3, misses: 0 });
    // the trust decision is not cached
    expect(await codeOf(verifyModelAudited(m.dir, { trust: { publicKey: keys().publicKey }, cache }))).toBe('SIGNATURE_INVALID');
    const entries = readdirSync(cache.dir);
    expect(entries).toHaveLength(1);
    expect(statSync(path.join(cache.dir, entries[0]!)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(cache.dir, entries[0]!), 'utf8'))).toMatchObject({ version: 1, scheme: 'sha256/files' });
  });

  it('a same-size edit whose mtime was restored is a miss (ctime), and is caught', async () => {
    const m = await signedModel(files);
    const cache = { dir: path.join(tempDir(), 'cache') };
    await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    await new Promise((r) => setTimeout(r, 20)); // past the filesystem's timestamp granularity
    sneakyEdit(path.join(m.dir, 'a.bin'));
    const events: AuditEvent[] = [];
    const e = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache, onAudit: (x) => events.push(x) }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['a.bin']);
    expect(events[0]).toMatchObject({ ok: false, cache: { hits: 2, misses: 1 }, error: { code: 'MODEL_MISMATCH' } });
  });

  it('stores nothing from a verification that failed', async () => {
    const m = await signedModel(files);
    sneakyEdit(path.join(m.dir, 'b.bin'));
    const cache = { dir: path.join(tempDir(), 'cache') };
    expect(await codeOf(verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache }))).toBe('MODEL_MISMATCH');
    expect(() => readdirSync(cache.dir)).toThrow(); // never even created
  });

  it('a corrupt or foreign cache file is a miss with a warning, never a failure or a hit', async () => {
    const m = await signedModel(files);
    const cache = { dir: path.join(tempDir(), 'cache') };
    await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    const f = path.join(cache.dir, readdirSync(cache.dir)[0]!);
    writeFileSync(f, '{"version": 1, "modelPath": "/elsewhere", "scheme": "sha256/files", "files": {}}');
    const r = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(r.cache).toEqual({ hits: 0, misses: 3 });
    expect(r.warnings.join()).toMatch(/not a version 1 entry for this model/);
    writeFileSync(f, '{not json');
    const r2 = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect(r2.warnings.join()).toMatch(/cache ignored/);
    // a forged entry with the right state but wrong digests is not believed: the signature decides
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    for (const e of Object.values(doc.files) as Array<{ digests: string[] }>) e.digests = e.digests.map(() => 'ab'.repeat(32));
    writeFileSync(f, JSON.stringify(doc));
    expect(await codeOf(verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache }))).toBe('MODEL_MISMATCH');
  });

  it('a cache folder that cannot be written is a warning', async () => {
    const m = await signedModel(files);
    const blocker = path.join(tempDir(), 'file');
    writeFileSync(blocker, '');
    const r = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache: { dir: path.join(blocker, 'cache') } });
    expect(r.warnings.join()).toMatch(/cache not written/);
  });

  it('a world-writable or symlinked cache folder is not used', async () => {
    const m = await signedModel(files);
    const dir = path.join(tempDir(), 'cache');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const r = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache: { dir } });
    expect(r.warnings.join()).toMatch(/not used: .* writable by every user/);
    expect(readdirSync(dir)).toEqual([]);
    const link = path.join(tempDir(), 'link');
    chmodSync(dir, 0o700);
    symlinkSync(dir, link);
    expect((await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache: { dir: link } })).warnings.join()).toMatch(/symbolic link/);
  });

  it('shard manifests cache per file, all shards at once', async () => {
    const m = await signedModel({ 'w.bin': bytes(5000, 9) }, { method: 'shards', shardSize: 1024 });
    const cache = { dir: path.join(tempDir(), 'cache') };
    await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache });
    expect((await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, cache })).cache).toEqual({ hits: 1, misses: 0 });
  });
});

describe('audit events', () => {
  it('verifyModelAudited: one event on success and on failure; appendAuditEvent writes one JSON line each', async () => {
    const m = await signedModel(files);
    const log = path.join(tempDir(), 'audit.jsonl');
    const sink = (e: AuditEvent) => appendAuditEvent(log, e);
    const ok = await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, onAudit: sink });
    writeFileSync(path.join(m.dir, 'extra'), 'x');
    await verifyModelAudited(m.dir, { trust: { publicKey: m.publicKey }, onAudit: sink }).catch(() => undefined);
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const [a, b] = lines.slice(0, 2).map((l) => JSON.parse(l) as AuditEvent);
    expect(a).toMatchObject({
      version: 1, operation: 'verify', ok: true, tool: { name: 'modelseal', version: expect.any(String) },
      model: { path: m.dir, name: 'model', digest: { sha256: ok.rootDigest }, serialization: { method: 'files', hashType: 'sha256' }, resources: 3 },
      signer: { kind: 'key', keyType: 'ed25519', fingerprint: expect.any(String) },
    });
    expect(Date.parse(a!.time)).not.toBeNaN();
    expect(b).toMatchObject({ ok: false, error: { code: 'MODEL_MISMATCH', family: 'verification' }, signer: { kind: 'key' } });
    expect(statSync(log).mode & 0o777).toBe(0o600);
    for (const e of [a, b]) expect(eventOk(e), JSON.stringify(eventOk.errors)).toBe(true);
  });

  it('a policy verdict lists each failed rule', async () => {
    const m = await signedModel(files);
    const text = `version: 1\nsigners:\n  - key: ${path.basename(m.publicKeyFile)}\napprovals:\n  production:\n    threshold: 1\n    approvers:\n      - key: ${path.basename(m.publicKeyFile)}\n`;
    const p = keyPolicy(m.publicKeyFile);
    writeFileSync(p, text);
    const events: AuditEvent[] = [];
    expect(await codeOf(verifyModelAudited(m.dir, { policy: loadPolicy(p), stage: 'production', onAudit: (e) => events.push(e) }))).toBe('POLICY_FAILED');
    expect(eventOk(events[0]), JSON.stringify(eventOk.errors)).toBe(true);
    expect(events[0]).toMatchObject({ ok: false, policy: { file: p, stage: 'production', ok: false, failed: [{ rule: 'approvals.production', detail: expect.any(String) }] }, signer: { kind: 'key' } });
  });

  it('a certificate signer (model_signing fixture) is described as the JSON output describes it', async () => {
    const dir = path.join(FIXTURES, 'v1.0.0-certificate');
    const r = await verifyModelAudited(dir, { trust: { certificateAuthorities: loadCertificates(path.join(FIXTURES, 'keys/certificate/ca-cert.pem')) }, ignorePaths: ['ignore-me'] });
    expect(r.event.signer).toMatchObject({
      kind: 'certificate', keyType: 'ecdsa-p384', subject: 'CN=intermediate-ca', issuer: expect.any(String),
      certificateSha256: expect.stringMatching(/^[0-9a-f]{64}$/), publicKeySha256: expect.stringMatching(/^[0-9a-f]{64}$/), chain: expect.arrayContaining(['CN=root-ca']),
    });
  });

  it('an audit log that cannot be opened is an error', () => {
    expect(() => appendAuditEvent(path.join(tempDir(), 'no/such/dir/audit.jsonl'), {} as AuditEvent)).toThrow(expect.objectContaining({ code: 'AUDIT_LOG_UNWRITABLE' }));
  });
});
