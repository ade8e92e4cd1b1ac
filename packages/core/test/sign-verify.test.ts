import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair, InputError, keySigner, loadCertificates, loadPrivateKey, loadPublicKey, ModelMismatchError,
  hashModel, preAuthEncoding, signBytes, signManifest, signModel, verifyModel, type Trust,
  LIMITS,
} from '@modelseal/core/internals';
import { bytes, codeOf, FIXTURES, tempDir, writeTree } from './helpers.js';

const KEYS = path.join(FIXTURES, 'keys/certificate');
const fixturePub = () => loadPublicKey(path.join(KEYS, 'signing-key-pub.pem')).key;
const fixtureCA = () => loadCertificates(path.join(KEYS, 'ca-cert.pem'));
const SINGLE = new Set(['v0.3.1-elliptic-key', 'v1.0.0-elliptic-key']);

/** A writable copy of a fixture folder. */
function copyFixture(name: string): string {
  const dst = path.join(tempDir(), name);
  cpSync(path.join(FIXTURES, name), dst, { recursive: true });
  return dst;
}

function trustFor(name: string): Trust {
  return name.includes('elliptic') ? { publicKey: fixturePub() } : { certificateAuthorities: fixtureCA() };
}

function verifyFixture(dir: string, name: string, extra: Partial<Parameters<typeof verifyModel>[1]> = {}) {
  const model = SINGLE.has(name) ? path.join(dir, 'signme-1') : dir;
  return verifyModel(model, { trust: trustFor(name), signaturePath: path.join(dir, 'model.sig'), ignorePaths: ['ignore-me'], ...extra });
}

const keyOrCert = ['v1.0.0-elliptic-key', 'v1.0.1-elliptic-key', 'v1.1.0-elliptic-key', 'v1.0.0-certificate', 'v1.0.1-certificate', 'v1.1.0-certificate'];

describe('model_signing interop: verifying its signatures', () => {
  it.each([...keyOrCert, 'v0.3.1-elliptic-key', 'v0.3.1-certificate'])('%s verifies', async (name) => {
    const r = await verifyFixture(path.join(FIXTURES, name), name);
    const signed = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(FIXTURES, name, 'model.sig'), 'utf8')).dsseEnvelope.payload, 'base64').toString());
    expect(r.rootDigest).toBe(signed.subject[0].digest.sha256);
    if (name.includes('elliptic')) expect(r.signer).toMatchObject({ kind: 'key', keyType: 'ecdsa-p384', fingerprint: 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e' });
    else expect(r.signer).toMatchObject({ kind: 'certificate', subject: 'CN=intermediate-ca', chain: ['CN=intermediate-ca', 'CN=intermediate-ca', 'CN=root-ca'] });
  });

  it('v1.1.0 records its ignore paths, so it verifies without --ignore-paths; v1.0.1 does not', async () => {
    await expect(verifyFixture(path.join(FIXTURES, 'v1.1.0-elliptic-key'), 'v1.1.0-elliptic-key', { ignorePaths: [] })).resolves.toBeTruthy();
    const e = await verifyFixture(path.join(FIXTURES, 'v1.0.1-elliptic-key'), 'v1.0.1-elliptic-key', { ignorePaths: [] }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.extra).toEqual(['ignore-me']);
  });

  it('the shipped v0.2 fixture: its statement matches the folder, but its signature does not verify with its own certificate', async () => {
    // Checked by hand with openssl too: no hash (SHA-256/384), encoding (DER/P1363) or input (PAE, payload) verifies it.
    // v0.2 verification itself is tested with v0.2 bundles made with the fixture keys (verify-rules.test.ts).
    expect(await codeOf(verifyFixture(path.join(FIXTURES, 'v0.2.0-certificate'), 'v0.2.0-certificate'))).toBe('SIGNATURE_INVALID');
  });

  describe.each(keyOrCert.filter((n) => !SINGLE.has(n)))('%s after tampering', (name) => {
    it('one byte of signme-1 flipped: changed', async () => {
      const d = copyFixture(name);
      const b = readFileSync(path.join(d, 'signme-1'));
      b[0] ^= 1;
      writeFileSync(path.join(d, 'signme-1'), b);
      const e = await verifyFixture(d, name).catch((x) => x);
      expect(e).toBeInstanceOf(ModelMismatchError);
      expect(e.differences).toEqual({ changed: ['signme-1'], missing: [], extra: [] });
    });
    it('signme-2 deleted: missing', async () => {
      const d = copyFixture(name);
      rmSync(path.join(d, 'signme-2'));
      expect((await verifyFixture(d, name).catch((x) => x)).differences).toEqual({ changed: [], missing: ['signme-2'], extra: [] });
    });
    it('a file added: extra (unless --ignore-unsigned-files)', async () => {
      const d = copyFixture(name);
      writeFileSync(path.join(d, 'backdoor.py'), 'import os');
      expect((await verifyFixture(d, name).catch((x) => x)).differences).toEqual({ changed: [], missing: [], extra: ['backdoor.py'] });
      await expect(verifyFixture(d, name, { ignoreUnsignedFiles: true })).resolves.toBeTruthy();
    });
    it('a file renamed: missing and extra', async () => {
      const d = copyFixture(name);
      renameSync(path.join(d, 'signme-2'), path.join(d, 'signme-3'));
      expect((await verifyFixture(d, name).catch((x) => x)).differences).toEqual({ changed: [], missing: ['signme-2'], extra: ['signme-3'] });
    });
    it('payload edited: bad signature', async () => {
      const d = copyFixture(name);
      const sigPath = path.join(d, 'model.sig');
      const b = JSON.parse(readFileSync(sigPath, 'utf8'));
      const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
      st.predicate.resources[0].digest = 'f'.repeat(64);
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
      writeFileSync(sigPath, JSON.stringify(b));
      expect(await codeOf(verifyFixture(d, name))).toBe('SIGNATURE_INVALID');
    });
  });

  it('a signature replaced by another folder\'s is rejected', async () => {
    const d = copyFixture('v1.1.0-certificate');
    cpSync(path.join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), path.join(d, 'model.sig'));
    // the key signature verifies with its key, but signs other content (signme-1 differs)
    const e = await verifyModel(d, { trust: { publicKey: fixturePub() }, ignorePaths: ['ignore-me'] }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e.differences.changed).toEqual(['signme-1']);
    // and a certificate signature is not accepted where a key is trusted
    const d2 = copyFixture('v1.1.0-elliptic-key');
    cpSync(path.join(FIXTURES, 'v1.1.0-certificate/model.sig'), path.join(d2, 'model.sig'));
    expect(await codeOf(verifyModel(d2, { trust: { publicKey: fixturePub() } }))).toBe('WRONG_TRUST_KIND');
    // a single-file signature is not accepted for a folder
    const d3 = copyFixture('v1.1.0-elliptic-key');
    cpSync(path.join(FIXTURES, 'v1.0.0-elliptic-key/model.sig'), path.join(d3, 'model.sig'));
    expect(await codeOf(verifyModel(d3, { trust: { publicKey: fixturePub() } }))).toBe('MODEL_KIND_MISMATCH');
  });

  it('a certificate chain to another CA is untrusted', async () => {
    // trusting only a CA of another PKI (the public-good Fulcio-issued leaf of a sigstore fixture)
    const leafOfAnotherPki = new X509Certificate(Buffer.from(JSON.parse(readFileSync(path.join(FIXTURES, 'v1.1.0-sigstore/model.sig'), 'utf8')).verificationMaterial.certificate.rawBytes, 'base64'));
    expect(await codeOf(verifyFixture(path.join(FIXTURES, 'v1.1.0-certificate'), 'v1.1.0-certificate', { trust: { certificateAuthorities: [leafOfAnotherPki] } }))).toBe('CERT_UNTRUSTED');
    // certificates outside their validity at the verification time
    expect(await codeOf(verifyFixture(path.join(FIXTURES, 'v1.1.0-certificate'), 'v1.1.0-certificate', { at: new Date('2040-01-01') }))).toBe('CERT_EXPIRED');
  });
});

describe('modelseal signatures read like model_signing\'s', () => {
  it('signing with the fixture EC key gives the fixture bundle\'s structure and verifies with its public key', async () => {
    const d = copyFixture('v1.1.0-elliptic-key');
    rmSync(path.join(d, 'model.sig'));
    const key = loadPrivateKey(path.join(KEYS, 'signing-key.pem'));
    expect(key.type).toBe('ecdsa-p384');
    const r = await signModel(d, { signer: keySigner(key.key), hash: { ignorePaths: ['ignore-me'] } });
    const ours = JSON.parse(readFileSync(path.join(d, 'model.sig'), 'utf8'));
    const theirs = JSON.parse(readFileSync(path.join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8'));
    const shape = (b: any) => ({
      top: Object.keys(b).sort(),
      vm: Object.keys(b.verificationMaterial).sort(),
      pk: b.verificationMaterial.publicKey,
      env: Object.keys(b.dsseEnvelope).sort(),
      sig: Object.keys(b.dsseEnvelope.signatures[0]).sort(),
      payloadType: b.dsseEnvelope.payloadType,
      mediaType: b.mediaType,
    });
    expect(shape(ours)).toEqual(shape(theirs));
    const payload = (b: any) => JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    expect(payload(ours).subject).toEqual(payload(theirs).subject);
    expect(payload(ours).predicate.resources).toEqual(payload(theirs).predicate.resources.map((x: any) => ({ name: x.name, algorithm: x.algorithm, digest: x.digest })));
    expect(Object.keys(payload(ours).predicate.serialization).sort()).toEqual(Object.keys(payload(theirs).predicate.serialization).sort());
    expect(new Set(payload(ours).predicate.serialization.ignore_paths)).toEqual(new Set(payload(theirs).predicate.serialization.ignore_paths));
    const v = await verifyModel(d, { trust: { publicKey: fixturePub() } });
    expect(v.rootDigest).toBe(r.manifest.rootDigest);
  });

  it('signs with a certificate chain that verifies against the fixture root CA', async () => {
    const d = writeTree(path.join(tempDir(), 'certmodel'), { 'w.bin': bytes(1000) });
    const key = loadPrivateKey(path.join(KEYS, 'signing-key.pem'));
    const chain = [...loadCertificates(path.join(KEYS, 'signing-key-cert.pem')), ...loadCertificates(path.join(KEYS, 'int-ca-cert.pem'))];
    await signModel(d, { signer: keySigner(key.key, chain) });
    const b = JSON.parse(readFileSync(path.join(d, 'model.sig'), 'utf8'));
    expect(b.verificationMaterial.x509CertificateChain.certificates).toHaveLength(2);
    const r = await verifyModel(d, { trust: { certificateAuthorities: fixtureCA() } });
    expect(r.signer).toMatchObject({ kind: 'certificate', subject: 'CN=intermediate-ca' });
    expect(() => keySigner(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey, chain)).toThrow(/not for the signing key/);
  });
});

describe('sign and verify with local keys', () => {
  it.each(['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521'] as const)('%s: round trip, wrong key rejected', async (type) => {
    const d = writeTree(path.join(tempDir(), 'm'), { 'config.json': '{}', 'w/model.safetensors': bytes(50_000) });
    const kp = generateKeyPair(type);
    const priv = createPrivateKey(kp.privatePem);
    await signModel(d, { signer: keySigner(priv), hash: { method: 'shards', shardSize: 10_000, hashType: 'blake3' } });
    const pubFile = path.join(tempDir(), 'k.pub');
    writeFileSync(pubFile, kp.publicPem);
    const r = await verifyModel(d, { trust: { publicKey: loadPublicKey(pubFile).key } });
    expect(r.signer).toMatchObject({ kind: 'key', keyType: type });
    expect(r.manifest.serialization).toMatchObject({ method: 'shards', shardSize: 10_000, hashType: 'blake3' });
    const other = createPrivateKey(generateKeyPair(type).privatePem);
    expect(await codeOf(verifyModel(d, { trust: { publicKey: other } }))).toBe('SIGNATURE_INVALID');
  });

  it('encrypted keys need the right passphrase', () => {
    const kp = generateKeyPair('ed25519', 'correct horse');
    const f = path.join(tempDir(), 'enc.key');
    writeFileSync(f, kp.privatePem, { mode: 0o600 });
    expect(kp.privatePem).toContain('ENCRYPTED');
    expect(() => loadPrivateKey(f)).toThrow(expect.objectContaining({ code: 'KEY_PASSWORD_REQUIRED' }));
    expect(() => loadPrivateKey(f, 'wrong')).toThrow(expect.objectContaining({ code: 'KEY_PASSWORD_WRONG' }));
    const k = loadPrivateKey(f, 'correct horse');
    expect(k.type).toBe('ed25519');
    expect(k.looseMode).toBe(false);
  });

  it('verifies a manifest computed elsewhere without reading files', async () => {
    const d = writeTree(path.join(tempDir(), 'm'), { a: 'a', b: 'b' });
    const priv = createPrivateKey(generateKeyPair('ed25519').privatePem);
    await signModel(d, { signer: keySigner(priv) });
    const manifest = await hashModel(d);
    const bundle = readFileSync(path.join(d, 'model.sig'));
    const r = await verifyModel('/nonexistent', { trust: { publicKey: priv }, bundle, manifest });
    expect(r.rootDigest).toBe(manifest.rootDigest);
    const other = await hashModel(writeTree(path.join(tempDir(), 'm'), { a: 'a', b: 'B' }));
    expect(await codeOf(verifyModel('/nonexistent', { trust: { publicKey: priv }, bundle, manifest: other }))).toBe('MODEL_MISMATCH');
  });

  it('refuses to sign an empty model, and a failed sign keeps the old signature', async () => {
    const priv = createPrivateKey(generateKeyPair('ed25519').privatePem);
    const empty = writeTree(path.join(tempDir(), 'm'), { '.gitignore': 'x' });
    expect(await codeOf(signModel(empty, { signer: keySigner(priv) }))).toBe('EMPTY_MODEL');
    expect(existsSync(path.join(empty, 'model.sig'))).toBe(false);
    const d = writeTree(path.join(tempDir(), 'm'), { a: 'a' });
    await signModel(d, { signer: keySigner(priv) });
    const before = readFileSync(path.join(d, 'model.sig'));
    expect(await codeOf(signModel(d, { signer: keySigner(priv), hash: { ignorePaths: ['../x'] } }))).toBe('BAD_IGNORE_PATH');
    expect(readFileSync(path.join(d, 'model.sig'))).toEqual(before);
  });
});

describe('bad signature files', () => {
  const priv = createPrivateKey(generateKeyPair('ed25519').privatePem);
  async function signedModel() {
    const d = writeTree(path.join(tempDir(), 'm'), { a: 'a' });
    await signModel(d, { signer: keySigner(priv) });
    return { d, bundle: JSON.parse(readFileSync(path.join(d, 'model.sig'), 'utf8')) };
  }
  async function codeWith(mutate: (b: any) => unknown): Promise<string> {
    const { d, bundle } = await signedModel();
    const out = mutate(bundle);
    // mutators without a parameter return the whole raw file
    writeFileSync(path.join(d, 'model.sig'), mutate.length === 0 ? (out as string | Buffer) : JSON.stringify(bundle));
    return codeOf(verifyModel(d, { trust: { publicKey: priv } }));
  }
  /** A correctly signed envelope over arbitrary payload bytes and type. */
  function resign(b: any, payload: Buffer, payloadType = b.dsseEnvelope.payloadType) {
    b.dsseEnvelope.payload = payload.toString('base64');
    b.dsseEnvelope.payloadType = payloadType;
    b.dsseEnvelope.signatures[0].sig = Buffer.from(signBytes(priv, preAuthEncoding(payloadType, payload))).toString('base64');
  }

  it.each([
    ['malformed JSON', () => '{"mediaType": ', 'BAD_JSON'],
    ['wrong media type', (b: any) => (b.mediaType = 'application/json'), 'BAD_MEDIA_TYPE'],
    ['empty signatures', (b: any) => (b.dsseEnvelope.signatures = []), 'NO_SIGNATURE'],
    ['two signatures', (b: any) => b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0]), 'MULTIPLE_SIGNATURES'],
    ['non-base64 signature', (b: any) => (b.dsseEnvelope.signatures[0].sig = '!!!not base64!!!'), 'BAD_BASE64'],
    ['non-base64 payload', (b: any) => (b.dsseEnvelope.payload = 'a$b'), 'BAD_BASE64'],
    ['signed payload that is not JSON', (b: any) => resign(b, Buffer.from('not json')), 'BAD_PAYLOAD'],
    ['payloadType confusion', (b: any) => resign(b, Buffer.from(b.dsseEnvelope.payload, 'base64'), 'application/vnd.dev.sigstore.other+json'), 'PAYLOAD_TYPE_MISMATCH'],
    ['payloadType changed after signing', (b: any) => (b.dsseEnvelope.payloadType = 'application/json'), 'PAYLOAD_TYPE_MISMATCH'],
    ['a message signature instead of an envelope', (b: any) => { b.messageSignature = {}; delete b.dsseEnvelope; }, 'BAD_BUNDLE'],
    ['no verification material', (b: any) => (b.verificationMaterial = {}), 'BAD_BUNDLE'],
    ['huge file', () => Buffer.alloc(LIMITS.bundleBytes + 1, 0x20), 'BUNDLE_TOO_LARGE'],
    ['a statement with another predicate, correctly signed', (b: any) => {
      const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
      st.predicateType = 'https://slsa.dev/provenance/v1';
      resign(b, Buffer.from(JSON.stringify(st)));
    }, 'BAD_PREDICATE_TYPE'],
  ])('%s', async (_what, mutate, code) => {
    expect(await codeWith(mutate)).toBe(code);
  });

  it('missing signature file and unsupported key types', async () => {
    const d = writeTree(path.join(tempDir(), 'm'), { a: 'a' });
    expect(await codeOf(verifyModel(d, { trust: { publicKey: priv } }))).toBe('SIGNATURE_NOT_FOUND');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const f = path.join(tempDir(), 'rsa.pub');
    writeFileSync(f, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(() => loadPublicKey(f)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY' }));
    expect(() => loadPublicKey(path.join(d, 'a'))).toThrow(InputError);
  });

  it('signManifest output parses back through the verifier', async () => {
    const m = await hashModel(writeTree(path.join(tempDir(), 'm'), { a: 'a' }));
    const b = await signManifest(m, keySigner(priv));
    const r = await verifyModel('/unused', { trust: { publicKey: priv }, bundle: JSON.stringify(b), manifest: m });
    expect(r.modelName).toBe('m');
  });
});
