import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_PREDICATE_V1, attestModel, buildApproval, buildProvenance, generateKeyPair, keySigner, loadPublicKey, signModel, SLSA_PROVENANCE_V1 } from '@modelseal/core/internals';
import { attachBundle, fallbackTag, OCI_INDEX, parseReference, pullModel, pushModel, RegistryClient, sha256Digest, verifyOci, type PushResult, OCI_MANIFEST, type ImageManifest } from '@modelseal/core/oci';
import { codeOf } from '../packages/core/test/helpers.js';
import { modelsealAsync, ROOT, tmp } from './cli.js';
import { blobDataPath, haveTool, REGISTRY_BIN, startRegistry, type TestRegistry } from './registry.js';

const HAVE = haveTool(REGISTRY_BIN, 'OCI registry (docker-registry)');
const HAVE_SKOPEO = HAVE && haveTool('skopeo', 'skopeo interop');

let reg: TestRegistry;
let d: string;
let model: string;
let policy: string;
let pushed: PushResult & { ok: boolean };
const ms = (args: string[], o: { env?: Record<string, string> } = {}) => modelsealAsync([...args], o);
const json = (s: string) => JSON.parse(s) as Record<string, any>;
const release = () => loadPublicKey(path.join(d, 'release.pub')).key;

/** A model folder with the example files, a nested file and one unique file (so tampering its blob touches no other test). */
function makeModel(dir: string, name = 'tiny-model'): string {
  const m = path.join(dir, name);
  cpSync(path.join(ROOT, 'examples/tiny-model'), m, { recursive: true });
  mkdirSync(path.join(m, 'sub'));
  writeFileSync(path.join(m, 'sub/unique.bin'), randomBytes(4096));
  writeFileSync(path.join(m, 'README.md'), '# tiny\n');
  return m;
}

function keys(): Record<string, ReturnType<typeof createPrivateKey>> {
  const out: Record<string, ReturnType<typeof createPrivateKey>> = {};
  for (const name of ['release', 'alice', 'bob', 'ci']) {
    const kp = generateKeyPair(name === 'release' ? 'ecdsa-p256' : 'ed25519');
    writeFileSync(path.join(d, `${name}.pub`), kp.publicPem);
    writeFileSync(path.join(d, `${name}.key`), kp.privatePem, { mode: 0o600 });
    out[name] = createPrivateKey(kp.privatePem);
  }
  return out;
}

/** Nothing at the destination, and no temporary pull folder left beside it. */
function nothingLeft(dest: string): void {
  expect(existsSync(dest)).toBe(false);
  expect(readdirSync(path.dirname(dest)).filter((n) => n.includes('modelseal-pull'))).toEqual([]);
}

const ref = (repo: string) => `oci://${reg.host}/${repo}`;
const client = (repo: string) => new RegistryClient(parseReference(ref(repo)), { plainHttp: true, push: true });

/** Pushes a fresh signed copy of the model to `repo` (core API: fast). */
async function pushFresh(repo: string, k: Record<string, ReturnType<typeof createPrivateKey>>) {
  const m = makeModel(tmp());
  return { m, r: await pushModel(m, ref(repo), { plainHttp: true, signer: keySigner(k.release!) }) };
}

describe.skipIf(!HAVE)('OCI registry (CNCF distribution on 127.0.0.1)', () => {
  let k: Record<string, ReturnType<typeof createPrivateKey>>;
  beforeAll(async () => {
    reg = await startRegistry();
    d = tmp();
    k = keys();
    model = makeModel(d);
    await signModel(model, { signer: keySigner(k.release!) });
    const prov = buildProvenance({ repository: 'acme/models', workflow: '.github/workflows/train.yml', ref: 'refs/heads/main', commit: 'a'.repeat(40), github: false }, []);
    await attestModel(model, SLSA_PROVENANCE_V1, prov, { signer: keySigner(k.ci!), label: 'provenance' });
    for (const who of ['alice', 'bob']) await attestModel(model, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: keySigner(k[who]!), label: 'approval-production' });
    policy = path.join(d, 'policy.yml');
    writeFileSync(
      policy,
      `version: 1\nsigners:\n  - key: release.pub\nprovenance:\n  repository: acme/models\n  workflow: .github/workflows/train.yml\n  ref: refs/heads/main\n  signers:\n    - key: ci.pub\napprovals:\n  production:\n    threshold: 2\n    approvers:\n      - key: alice.pub\n      - key: bob.pub\n`,
    );
    const r = await ms(['push', model, `${reg.host}/ml/model:v1`, '--plain-http', '--json']);
    expect(r.status, r.stderr).toBe(0);
    pushed = json(r.stdout) as typeof pushed;
  });
  afterAll(async () => reg?.stop());

  it('push: one raw layer per file, the signature and three attestations as referrers (tag-schema fallback)', async () => {
    expect(pushed).toMatchObject({ ok: true, command: 'push', layers: 6, uploaded: 6, skipped: 0 });
    expect(pushed.referrers.map((x) => x.via)).toEqual(['tag', 'tag', 'tag', 'tag']);
    const c = client('ml/model');
    const m = (await c.getManifest('v1'))!;
    expect(m.digest).toBe(pushed.digest);
    const man = JSON.parse(m.bytes.toString()) as ImageManifest;
    expect(man.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(man.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    const byPath = Object.fromEntries(man.layers.map((l) => [l.annotations!['org.cncf.model.filepath'], l]));
    expect(Object.keys(byPath).sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'sub/unique.bin', 'tokenizer.json']);
    expect(byPath['model.safetensors']!.mediaType).toBe('application/vnd.cncf.model.weight.v1.raw');
    expect(byPath['tokenizer.json']!.mediaType).toBe('application/vnd.cncf.model.weight.config.v1.raw');
    expect(byPath['README.md']!.mediaType).toBe('application/vnd.cncf.model.doc.v1.raw');
    expect(byPath['sub/unique.bin']!.annotations!['org.opencontainers.image.title']).toBe('unique.bin');
    // raw layers: the layer digest is the file's SHA-256
    expect(byPath['model.safetensors']!.digest).toBe(sha256Digest(readFileSync(path.join(model, 'model.safetensors'))));
    const config = JSON.parse((await c.blobBytes(man.config.digest, 1 << 20)).toString());
    expect(config.modelfs).toEqual({ type: 'layers', diffIds: man.layers.map((l) => l.digest) });
    // the referrer index: cosign-style bundle referrers, predicate types annotated
    const idx = JSON.parse((await c.getManifest(fallbackTag(pushed.digest)))!.bytes.toString());
    expect(idx.mediaType).toBe(OCI_INDEX);
    const types = idx.manifests.map((x: any) => x.annotations['dev.sigstore.bundle.predicateType']).sort();
    expect(types).toEqual([APPROVAL_PREDICATE_V1, APPROVAL_PREDICATE_V1, 'https://model_signing/signature/v1.0', SLSA_PROVENANCE_V1].sort());
    for (const x of idx.manifests) expect(x).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
    const sig = JSON.parse((await c.getManifest(idx.manifests[0].digest))!.bytes.toString());
    expect(sig).toMatchObject({ subject: { digest: pushed.digest }, config: { mediaType: 'application/vnd.oci.empty.v1+json' }, annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' } });
  });

  it('push again: every blob is already there and no referrer is duplicated', async () => {
    const r = await ms(['push', model, `oci://${reg.host}/ml/model:v1`, '--plain-http', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ digest: pushed.digest, uploaded: 0, skipped: 6 });
    expect(json(r.stdout).referrers.every((x: any) => x.via === 'existing')).toBe(true);
    const idx = JSON.parse((await client('ml/model').getManifest(fallbackTag(pushed.digest)))!.bytes.toString());
    expect(idx.manifests).toHaveLength(4);
    // another repository of the same registry: blobs are mounted from --from, not uploaded
    const m = await pushModel(model, ref('team/model:v1'), { plainHttp: true, from: 'ml/model' });
    expect(m).toMatchObject({ digest: pushed.digest, mounted: 6, uploaded: 0 });
  });

  it('pull with a policy (signature, provenance, two approvals from the referrers), then verify the folder locally', async () => {
    const dest = path.join(tmp(), 'pulled');
    const r = await ms(['pull', `oci://${reg.host}/ml/model:v1`, dest, '--policy', policy, '--stage', 'production', '--plain-http', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({ ok: true, command: 'pull', digest: pushed.digest, files: 6, policy: { ok: true } });
    expect(out.policy.rules.map((x: any) => x.rule)).toEqual(['signature', 'provenance', 'approvals.production']);
    for (const f of ['model.safetensors', 'sub/unique.bin', 'README.md']) expect(readFileSync(path.join(dest, f))).toEqual(readFileSync(path.join(model, f)));
    const v = await ms(['verify', dest, '--key', path.join(d, 'release.pub')]);
    expect(v.status, v.stderr).toBe(0);
    // a policy that needs three approvals fails: exit 1, nothing left
    const strict = path.join(d, 'strict.yml');
    writeFileSync(strict, `${readFileSync(policy, 'utf8')}  staging:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n`);
    const dest2 = path.join(tmp(), 'pulled');
    const f = await ms(['pull', `oci://${reg.host}/ml/model:v1`, dest2, '--policy', strict, '--stage', 'staging', '--plain-http', '--json']);
    expect(f.status).toBe(1);
    expect(json(f.stdout)).toMatchObject({ ok: false, error: { code: 'POLICY_FAILED' }, policy: { ok: false } });
    nothingLeft(dest2);
  });

  it('verify oci:// streams the layers; --no-download checks the manifest only and says what that proves', async () => {
    const key = path.join(d, 'release.pub');
    const s = await ms(['verify', `oci://${reg.host}/ml/model:v1`, '--key', key, '--plain-http', '--json']);
    expect(s.status, s.stderr).toBe(0);
    expect(json(s.stdout)).toMatchObject({ ok: true, mode: 'stream', digest: pushed.digest, model: { resources: 6 } });
    const n = await ms(['verify', `oci://${reg.host}/ml/model@${pushed.digest}`, '--key', key, '--plain-http', '--no-download']);
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout).toMatch(/proves: the registry's manifest for this digest names exactly the files/);
    expect(n.stdout).toMatch(/does not prove: that the bytes the registry serves/);
    const p = await ms(['verify', `oci://${reg.host}/ml/model:v1`, '--policy', policy, '--plain-http']);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/PASS {2}approvals.production: 2 of 2/);
    const wrong = await ms(['verify', `oci://${reg.host}/ml/model:v1`, '--key', path.join(d, 'alice.pub'), '--plain-http', '--json']);
    expect(wrong.status).toBe(1);
    expect(json(wrong.stdout).error.code).toBe('SIGNATURE_INVALID');
    const list = await ms(['attestations', 'list', `oci://${reg.host}/ml/model:v1`, '--plain-http', '--json']);
    expect(list.status, list.stderr).toBe(0);
    expect(json(list.stdout).attestations).toHaveLength(4);
    expect(await codeOf(verifyOci(ref('ml/nothing:v1'), { plainHttp: true, trust: { publicKey: release() } }))).toBe('OCI_NOT_FOUND');
  });

  it('shard-method signatures verify from the stream; --no-download refuses them', async () => {
    const m = makeModel(tmp());
    writeFileSync(path.join(m, 'big.bin'), randomBytes(300_000));
    await signModel(m, { signer: keySigner(k.release!), hash: { method: 'shards', shardSize: 65_536, hashType: 'blake2b' } });
    await pushModel(m, ref('ml/sharded:v1'), { plainHttp: true, chunkSize: 100_000 }); // chunked PATCH uploads
    expect((await verifyOci(ref('ml/sharded:v1'), { plainHttp: true, trust: { publicKey: release() } })).verified!.manifest.resources.length).toBeGreaterThan(6);
    expect(await codeOf(verifyOci(ref('ml/sharded:v1'), { plainHttp: true, trust: { publicKey: release() }, noDownload: true }))).toBe('OCI_NO_DOWNLOAD_UNSUPPORTED');
    const dest = path.join(tmp(), 'sharded');
    await pullModel(ref('ml/sharded:v1'), dest, { plainHttp: true, trust: { publicKey: release() } });
    expect(readFileSync(path.join(dest, 'big.bin'))).toEqual(readFileSync(path.join(m, 'big.bin')));
  });

  it('concurrent writers of the fallback index (If-Match ignored by this registry): none of their referrers is lost', async () => {
    const { r } = await pushFresh('ml/race:v1', k);
    const c = client('ml/race');
    const subject = { mediaType: OCI_MANIFEST, digest: r.digest, size: 0 };
    const attached = await Promise.all([1, 2, 3, 4].map((i) => attachBundle(new RegistryClient(c.ref, { plainHttp: true, push: true }), subject, Buffer.from(`{"bundle":${i}}`))));
    const idx = JSON.parse((await c.getManifest(fallbackTag(r.digest)))!.bytes.toString());
    expect(idx.manifests.map((x: any) => x.digest).sort()).toEqual([r.referrers[0]!.digest, ...attached.map((a) => a.digest)].sort());
  });

  describe('tampering: each case has its own code and leaves nothing behind', () => {
    const pullFails = async (repo: string) => {
      const dest = path.join(tmp(), 'dest');
      const code = await codeOf(pullModel(ref(repo), dest, { plainHttp: true, trust: { publicKey: release() } }));
      nothingLeft(dest);
      return code;
    };

    it('another layer pushed under the same tag', async () => {
      const { r } = await pushFresh('t/extra:v1', k);
      const c = client('t/extra');
      const man = JSON.parse((await c.getManifest('v1'))!.bytes.toString()) as ImageManifest;
      const extra = Buffer.from('import os; os.system("curl evil")\n');
      await c.pushBlobBytes(extra, sha256Digest(extra));
      man.layers.push({ mediaType: 'application/vnd.cncf.model.code.v1.raw', digest: sha256Digest(extra), size: extra.length, annotations: { 'org.cncf.model.filepath': 'setup.py' } });
      const bytes = Buffer.from(JSON.stringify(man));
      await c.putManifest('v1', bytes, OCI_MANIFEST);
      // with no signature for the new manifest, and with the old signature re-attached to it
      expect(await pullFails('t/extra:v1')).toBe('OCI_SIGNATURE_MISSING');
      const sig = readFileSync(path.join(path.dirname(r.referrers[0]!.file), 'model.sig'));
      await attachBundle(c, { mediaType: OCI_MANIFEST, digest: sha256Digest(bytes), size: bytes.length }, sig);
      expect(await pullFails('t/extra:v1')).toBe('MODEL_MISMATCH');
      expect(await codeOf(verifyOci(ref('t/extra:v1'), { plainHttp: true, trust: { publicKey: release() }, noDownload: true }))).toBe('MODEL_MISMATCH');
    });

    it('the signature referrer deleted', async () => {
      const { r } = await pushFresh('t/deleted:v1', k);
      await client('t/deleted').deleteManifest(r.referrers[0]!.digest);
      expect(await pullFails('t/deleted:v1')).toBe('OCI_SIGNATURE_MISSING');
    });

    it('a malformed newer signature referrer does not hide the valid one', async () => {
      const { r } = await pushFresh('t/junk:v1', k);
      const junk = Buffer.from(JSON.stringify({ dsseEnvelope: { payload: Buffer.from('{"predicateType":"https://model_signing/signature/v1.0"}').toString('base64') } }));
      await attachBundle(client('t/junk'), { mediaType: OCI_MANIFEST, digest: r.digest, size: 0 }, junk);
      const dest = path.join(tmp(), 'ok');
      expect((await pullModel(ref('t/junk:v1'), dest, { plainHttp: true, trust: { publicKey: release() } })).signature).toContain(r.referrers[0]!.digest);
    });

    it("another model's signature referrer listed for this one", async () => {
      const a = await pushFresh('t/foreign:a', k);
      const b = await pushFresh('t/foreign:b', k);
      const c = client('t/foreign');
      const bIdx = (await c.getManifest(fallbackTag(b.r.digest)))!.bytes;
      await c.putManifest(fallbackTag(a.r.digest), bIdx, OCI_INDEX);
      expect(await pullFails('t/foreign:a')).toBe('OCI_REFERRER_SUBJECT_MISMATCH');
    });

    it('a layer whose bytes do not match its digest (written into the registry storage)', async () => {
      const { m, r } = await pushFresh('t/bytes:v1', k);
      const digest = sha256Digest(readFileSync(path.join(m, 'sub/unique.bin')));
      const file = blobDataPath(reg.store, digest);
      writeFileSync(file, randomBytes(4096));
      expect(await pullFails('t/bytes:v1')).toBe('OCI_BLOB_DIGEST_MISMATCH');
      expect(await codeOf(verifyOci(ref('t/bytes:v1'), { plainHttp: true, trust: { publicKey: release() } }))).toBe('OCI_BLOB_DIGEST_MISMATCH');
      // --no-download cannot see it, and says so
      const nd = await verifyOci(`${ref('t/bytes')}@${r.digest}`, { plainHttp: true, trust: { publicKey: release() }, noDownload: true });
      expect(nd.doesNotProve).toMatch(/bytes the registry serves/);
    });

    it.each([
      ['a ../ path', '../escape.bin', 'OCI_BAD_LAYER_PATH'],
      ['an absolute path', '/etc/cron.d/x', 'OCI_BAD_LAYER_PATH'],
      ['a repeated path', 'config.json', 'OCI_DUPLICATE_LAYER_PATH'],
      ['a file where a folder is', 'sub', 'OCI_BAD_LAYER_PATH'],
    ])('a manifest with %s in a layer annotation', async (_what, p, code) => {
      const repo = `t/path${randomBytes(3).toString('hex')}`;
      await pushFresh(`${repo}:v1`, k);
      const c = client(repo);
      const man = JSON.parse((await c.getManifest('v1'))!.bytes.toString()) as ImageManifest;
      man.layers.push({ ...man.layers[0]!, annotations: { 'org.cncf.model.filepath': p } });
      await c.putManifest('v1', Buffer.from(JSON.stringify(man)), OCI_MANIFEST);
      expect(await pullFails(`${repo}:v1`)).toBe(code);
    });

    it('the CLI: exit 1 for a verification failure, one JSON object, nothing at the destination', async () => {
      const dest = path.join(tmp(), 'cli-dest');
      const r = await ms(['pull', `oci://${reg.host}/t/deleted:v1`, dest, '--key', path.join(d, 'release.pub'), '--plain-http', '--json']);
      expect(r.status).toBe(1);
      expect(json(r.stdout)).toMatchObject({ ok: false, command: 'pull', error: { code: 'OCI_SIGNATURE_MISSING', family: 'verification' } });
      expect(r.stderr).toMatch(/^modelseal: verification failed: .*\[OCI_SIGNATURE_MISSING\]\n$/);
      nothingLeft(dest);
      const exists = await ms(['pull', `oci://${reg.host}/ml/model:v1`, d, '--key', path.join(d, 'release.pub'), '--plain-http']);
      expect(exists.status).toBe(2);
      expect(exists.stderr).toMatch(/DESTINATION_EXISTS/);
    });
  });

  describe.skipIf(!HAVE_SKOPEO)('skopeo (an independent client)', () => {
    const skopeo = (...args: string[]) => {
      const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };

    it('reads the manifest and the referrer index; copies to another repository and through an OCI layout, which still pull and verify', async () => {
      const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/ml/model:v1`);
      expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(pushed.digest);
      const idx = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/ml/model:${fallbackTag(pushed.digest)}`));
      expect(idx.manifests).toHaveLength(4);
      // skopeo 1.9 rewrites an index (dropping descriptors' artifactType); the manifests it lists keep their digests
      const copy = (from: string, to: string) => skopeo('copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', from, to);
      const tag = fallbackTag(pushed.digest);
      // registry -> registry: the model and its referrer index (skopeo 1.9 does not follow referrers itself)
      copy(`docker://${reg.host}/ml/model:v1`, `docker://${reg.host}/copy/model:v1`);
      copy(`docker://${reg.host}/ml/model:${tag}`, `docker://${reg.host}/copy/model:${tag}`);
      // registry -> OCI layout -> another repository
      const layout = path.join(tmp(), 'layout');
      copy(`docker://${reg.host}/ml/model:v1`, `oci:${layout}:v1`);
      copy(`docker://${reg.host}/ml/model:${tag}`, `oci:${layout}:${tag}`);
      const layoutIndex = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
      expect(layoutIndex.manifests.map((x: any) => x.digest)).toContain(pushed.digest);
      copy(`oci:${layout}:v1`, `docker://${reg.host}/layout/model:v1`);
      copy(`oci:${layout}:${tag}`, `docker://${reg.host}/layout/model:${tag}`);
      for (const repo of ['copy/model', 'layout/model']) {
        const dest = path.join(tmp(), 'm');
        const r = await ms(['pull', `${reg.host}/${repo}:v1`, dest, '--policy', policy, '--stage', 'production', '--plain-http', '--json']);
        expect(r.status, r.stderr).toBe(0);
        expect(json(r.stdout)).toMatchObject({ digest: pushed.digest, policy: { ok: true } });
      }
    });
  });
});

describe.skipIf(!HAVE)('OCI registry with htpasswd Basic auth', () => {
  let areg: TestRegistry;
  let m: string;
  let dir: string;
  beforeAll(async () => {
    areg = await startRegistry({ users: { alice: 'correct horse' } });
    dir = tmp();
    const kp = generateKeyPair('ed25519');
    writeFileSync(path.join(dir, 'k.pub'), kp.publicPem);
    writeFileSync(path.join(dir, 'k.key'), kp.privatePem, { mode: 0o600 });
    m = makeModel(dir);
  });
  afterAll(async () => areg?.stop());

  it('a wrong password is a clean exit 2; the right one pushes; a Docker config entry and a credential helper pull', async () => {
    const target = `${areg.host}/secure/model:v1`;
    const anon = await ms(['push', m, target, '--key', path.join(dir, 'k.key'), '--plain-http', '--json']);
    expect(anon.status).toBe(2);
    expect(json(anon.stdout).error.code).toBe('OCI_UNAUTHORIZED');
    const wrong = await modelsealStdin(['push', m, target, '--key', path.join(dir, 'k.key'), '--plain-http', '--username', 'alice', '--password-stdin', '--json'], 'wrong\n');
    expect(wrong.status).toBe(2);
    expect(json(wrong.stdout)).toMatchObject({ ok: false, error: { code: 'OCI_UNAUTHORIZED', family: 'input' } });
    expect(wrong.stderr).toMatch(/^modelseal: .*\[OCI_UNAUTHORIZED\]\n$/);
    const right = await modelsealStdin(['push', m, target, '--key', path.join(dir, 'k.key'), '--plain-http', '--username', 'alice', '--password-stdin'], 'correct horse\n');
    expect(right.status, right.stderr).toBe(0);
    // Docker config with an inline auths entry
    const cfg = path.join(dir, 'docker');
    mkdirSync(cfg);
    writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [`http://${areg.host}`]: { auth: Buffer.from('alice:correct horse').toString('base64') } } }));
    const dest = path.join(tmp(), 'a');
    const p = await ms(['pull', `oci://${target}`, dest, '--key', path.join(dir, 'k.pub'), '--plain-http'], { env: { DOCKER_CONFIG: cfg } });
    expect(p.status, p.stderr).toBe(0);
    // a credential helper named for the host
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'docker-credential-mstest'), `#!/bin/sh\nread host\n[ "$host" = "${areg.host}" ] || { echo "credentials not found"; exit 1; }\necho '{"Username":"alice","Secret":"correct horse"}'\n`, { mode: 0o755 });
    writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ credHelpers: { [areg.host]: 'mstest' } }));
    const h = await ms(['verify', `oci://${target}`, '--key', path.join(dir, 'k.pub'), '--plain-http', '--no-download'], { env: { DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH}` } });
    expect(h.status, h.stderr).toBe(0);
    const bad = await ms(['verify', `oci://${target}`, '--key', path.join(dir, 'k.pub'), '--plain-http'], { env: { MODELSEAL_REGISTRY_TOKEN: 'not-a-token', DOCKER_CONFIG: cfg } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/OCI_UNAUTHORIZED/);
  });
});

/** The CLI with text on stdin (--password-stdin). */
const modelsealStdin = (args: string[], input: string) => modelsealAsync(args, { input });
