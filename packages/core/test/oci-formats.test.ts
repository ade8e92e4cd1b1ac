import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel } from '@modelseal/core/internals';
import { layerMediaType, modelConfig, modelManifest, layerFor, parseChallenge, parseModelManifest, parseReference, resolveCredentials, sha256Digest, type Descriptor } from '@modelseal/core/oci';
import { LayerDigester } from '../src/oci/layer-digest.js';
import { bytes, tempDir, writeTree } from './helpers.js';

const codeOfSync = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  throw new Error('expected an error');
};

describe('OCI references', () => {
  it.each([
    ['oci://ghcr.io/acme/llama:v1', { registry: 'ghcr.io', repository: 'acme/llama', tag: 'v1' }],
    ['127.0.0.1:5000/ml/model@sha256:' + 'a'.repeat(64), { registry: '127.0.0.1:5000', repository: 'ml/model', digest: 'sha256:' + 'a'.repeat(64) }],
    ['localhost:5000/a/b/c:1.0-rc_1@sha256:' + 'b'.repeat(64), { registry: 'localhost:5000', repository: 'a/b/c', tag: '1.0-rc_1', digest: 'sha256:' + 'b'.repeat(64) }],
    ['registry.example.com/model', { registry: 'registry.example.com', repository: 'model' }],
  ])('parses %s', (s, want) => expect(parseReference(s)).toEqual(want));

  it.each(['model:v1', 'oci://', 'ghcr.io/Acme/model:v1', 'ghcr.io/a/model:-bad', 'ghcr.io/a/model@sha256:abc', 'ghcr.io/a/model@md5:' + 'a'.repeat(32), 'ghcr.io//x', 'bad host!/x'])(
    'refuses %s',
    (s) => expect(codeOfSync(() => parseReference(s))).toBe('BAD_REFERENCE'),
  );
});

describe('WWW-Authenticate challenges', () => {
  it('reads Bearer and Basic challenges, quoted or not', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="x \\"y\\""')).toEqual({ scheme: 'basic', params: { realm: 'x "y"' } });
    expect(parseChallenge('Bearer realm=https://t/token, service=r')).toEqual({ scheme: 'bearer', params: { realm: 'https://t/token', service: 'r' } });
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe('registry credentials', () => {
  const env = (cfg: unknown, extra: Record<string, string> = {}) => {
    const d = tempDir();
    writeFileSync(path.join(d, 'config.json'), JSON.stringify(cfg));
    return { DOCKER_CONFIG: d, PATH: process.env.PATH ?? '', ...extra };
  };
  it('explicit user/password, then MODELSEAL_REGISTRY_TOKEN, then the Docker config', () => {
    const e = env({ auths: { 'https://r.example/v1/': { auth: Buffer.from('u:p:with:colons').toString('base64') } } });
    expect(resolveCredentials('r.example', { env: e })).toEqual({ kind: 'basic', username: 'u', password: 'p:with:colons' });
    expect(resolveCredentials('r.example', { env: { ...e, MODELSEAL_REGISTRY_TOKEN: 't0k' } })).toEqual({ kind: 'token', token: 't0k' });
    expect(resolveCredentials('r.example', { env: e, username: 'x', password: 'y' })).toEqual({ kind: 'basic', username: 'x', password: 'y' });
    expect(resolveCredentials('other.example', { env: e })).toEqual({ kind: 'anonymous' });
    expect(resolveCredentials('r.example', { env: env({ auths: { 'r.example': { identitytoken: 'refresh' } } }) })).toEqual({ kind: 'refresh', token: 'refresh' });
    expect(resolveCredentials('r.example', { env: { DOCKER_CONFIG: path.join(tempDir(), 'none') } })).toEqual({ kind: 'anonymous' });
  });

  it('runs docker-credential-<helper> get; a helper that does not know the host falls through', () => {
    const bin = tempDir();
    writeFileSync(path.join(bin, 'docker-credential-t'), '#!/bin/sh\nread h\n[ "$h" = r.example ] && { echo \'{"Username":"<token>","Secret":"idt"}\'; exit 0; }\necho "credentials not found in native keychain"; exit 1\n', { mode: 0o755 });
    const e = env({ credsStore: 't', auths: { 'q.example': { username: 'a', password: 'b' } } }, { PATH: `${bin}:${process.env.PATH}` });
    expect(resolveCredentials('r.example', { env: e })).toEqual({ kind: 'refresh', token: 'idt' });
    expect(resolveCredentials('q.example', { env: e })).toEqual({ kind: 'basic', username: 'a', password: 'b' });
    expect(codeOfSync(() => resolveCredentials('r.example', { env: env({ credHelpers: { 'r.example': 'missing-helper' } }) }))).toBe('CREDENTIAL_HELPER_FAILED');
    expect(codeOfSync(() => resolveCredentials('r.example', { env: env({ credHelpers: { 'r.example': '../../bin/sh' } }) }))).toBe('BAD_DOCKER_CONFIG');
    expect(codeOfSync(() => resolveCredentials('r.example', { username: 'x' }))).toBe('BAD_OPTION');
  });
});

describe('ModelPack manifests', () => {
  const config: Descriptor = { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: sha256Digest(Buffer.from('{}')), size: 2 };
  const layers = [layerFor('model.safetensors', 'a'.repeat(64), 10), layerFor('sub/tokenizer.json', 'b'.repeat(64), 3), layerFor('README.md', 'c'.repeat(64), 1), layerFor('run.py', 'd'.repeat(64), 1)];
  const bytesOf = (m: unknown) => Buffer.from(JSON.stringify(m));

  it('layer media types by file kind; config lists the layer digests as diffIds', () => {
    expect(layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.cncf.model.weight.v1.raw',
      'application/vnd.cncf.model.weight.config.v1.raw',
      'application/vnd.cncf.model.doc.v1.raw',
      'application/vnd.cncf.model.code.v1.raw',
    ]);
    expect(layerMediaType('LICENSE')).toBe('application/vnd.cncf.model.doc.v1.raw');
    expect(JSON.parse(modelConfig('m', layers).toString()).modelfs).toEqual({ type: 'layers', diffIds: layers.map((l) => l.digest) });
    expect(parseModelManifest(bytesOf(modelManifest(config, layers)), 'm').layers).toEqual(layers);
  });

  it.each([
    ['a tar layer', (m: any) => (m.layers[0].mediaType = 'application/vnd.cncf.model.weight.v1.tar'), 'OCI_UNSUPPORTED_LAYER'],
    ['a sha512 digest', (m: any) => (m.layers[0].digest = 'sha512:' + 'a'.repeat(128)), 'OCI_UNSUPPORTED_DIGEST'],
    ['no path annotation', (m: any) => (m.layers[0].annotations = {}), 'OCI_BAD_LAYER_PATH'],
    ['a path with ./', (m: any) => (m.layers[0].annotations['org.cncf.model.filepath'] = './x'), 'OCI_BAD_LAYER_PATH'],
    ['a Windows path', (m: any) => (m.layers[0].annotations['org.cncf.model.filepath'] = 'C:\\x'), 'OCI_BAD_LAYER_PATH'],
    ['the model itself', (m: any) => (m.layers[0].annotations['org.cncf.model.filepath'] = '.'), 'OCI_BAD_LAYER_PATH'],
    ['a folder that is a file', (m: any) => (m.layers[1].annotations['org.cncf.model.filepath'] = 'model.safetensors/x'), 'OCI_BAD_LAYER_PATH'],
    ['a negative size', (m: any) => (m.layers[0].size = -1), 'OCI_BAD_MANIFEST'],
    ['another artifact type', (m: any) => ((m.artifactType = 'application/vnd.example'), (m.config.mediaType = 'application/vnd.oci.empty.v1+json')), 'OCI_NOT_A_MODEL'],
    ['an index', (m: any) => (m.mediaType = 'application/vnd.oci.image.index.v1+json'), 'OCI_NOT_A_MODEL'],
  ])('refuses %s', (_w, mutate, code) => {
    const m = JSON.parse(JSON.stringify(modelManifest(config, layers)));
    mutate(m);
    expect(codeOfSync(() => parseModelManifest(bytesOf(m), 'm'))).toBe(code);
  });
});

describe('streamed layer digests equal local hashing', () => {
  it.each([
    ['files sha256', { method: 'files' as const, hashType: 'sha256' as const }],
    ['files blake3', { method: 'files' as const, hashType: 'blake3' as const }],
    ['shards sha256', { method: 'shards' as const, hashType: 'sha256' as const, shardSize: 1000 }],
    ['shards blake2b', { method: 'shards' as const, hashType: 'blake2b' as const, shardSize: 4096 }],
  ])('%s, fed in odd-sized pieces', async (_w, opts) => {
    const d = tempDir();
    const data = bytes(10_000, 7);
    writeTree(d, { 'w.bin': data, 'empty.bin': '' });
    mkdirSync(path.join(d, 'x'));
    const local = await hashModel(d, opts);
    const s = local.serialization;
    const out = [];
    for (const [name, content] of [['empty.bin', Buffer.alloc(0)], ['w.bin', data]] as const) {
      const g = new LayerDigester({ path: name, digest: sha256Digest(content), size: content.length, mediaType: '' }, s);
      for (let i = 0; i < content.length; i += 777) g.update(content.subarray(i, i + 777));
      out.push(...g.finish());
    }
    expect(out.sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([...local.resources].sort((a, b) => (a.name < b.name ? -1 : 1)));
  });

  it('refuses bytes that do not match the digest or the size', () => {
    const l = { path: 'a', digest: sha256Digest(Buffer.from('abc')), size: 3, mediaType: '' };
    const g = new LayerDigester(l);
    g.update(Buffer.from('abd'));
    expect(codeOfSync(() => g.finish())).toBe('OCI_BLOB_DIGEST_MISMATCH');
    const h = new LayerDigester(l);
    expect(codeOfSync(() => h.update(Buffer.from('abcd')))).toBe('OCI_BLOB_SIZE_MISMATCH');
    const k = new LayerDigester(l);
    k.update(Buffer.from('ab'));
    expect(codeOfSync(() => k.finish())).toBe('OCI_BLOB_SIZE_MISMATCH');
  });
});
