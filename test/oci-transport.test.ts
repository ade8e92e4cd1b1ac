import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keySigner, loadPublicKey, signModel } from '@modelseal/core/internals';
import { pullModel, pushModel, verifyOci } from '@modelseal/core/oci';
import { createPrivateKey } from 'node:crypto';
import { codeOf } from '../packages/core/test/helpers.js';
import { tmp } from './cli.js';
import { haveTool, REGISTRY_BIN, startRegistry, type TestRegistry } from './registry.js';

const HAVE = haveTool(REGISTRY_BIN, 'OCI registry (docker-registry)');

/**
 * A token service and an authenticating front for the real registry, as
 * registries with Bearer auth work (Docker Hub, GHCR, Harbor): 401 with a
 * `WWW-Authenticate: Bearer realm,service,scope` challenge, tokens for Basic
 * credentials at the realm. It can also fail chosen upload chunks, to prove
 * the client resumes from the registry's upload status.
 */
class AuthFront {
  server!: Server;
  port = 0;
  scopes: string[] = [];
  failPatches = new Set<number>();
  patches = 0;
  constructor(private readonly upstream: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      const scopes = url.searchParams.getAll('scope');
      this.scopes.push(...scopes);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok ${scopes.join(' ')}` }));
      return;
    }
    const repo = /^\/v2\/(.+?)\/(?:blobs|manifests|referrers)\//.exec(url.pathname)?.[1];
    const need = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const auth = req.headers.authorization ?? '';
    const ok = repo === undefined || auth === 'Bearer static-token' || auth.split(' ').some((s) => s === `repository:${repo}:pull,push` || (need === 'pull' && s === `repository:${repo}:pull`));
    if (!auth.startsWith('Bearer ') || !ok) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${this.port}/token",service="front",scope="repository:${repo}:${need}"`, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.method === 'PATCH' && this.failPatches.has(++this.patches)) {
      // the chunk is lost on the way: the registry never sees it
      req.resume();
      req.on('end', () => res.writeHead(502).end('bad gateway'));
      return;
    }
    const up = request({ host: '127.0.0.1', port: this.upstream, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  }
}

describe.skipIf(!HAVE)('OCI transport: Bearer token auth and chunk retry (real registry behind a token front)', () => {
  let reg: TestRegistry;
  let front: AuthFront;
  let model: string;
  let pub: ReturnType<typeof loadPublicKey>['key'];
  beforeAll(async () => {
    reg = await startRegistry();
    front = new AuthFront(Number(reg.host.split(':')[1]));
    await front.start();
    const d = tmp();
    const kp = generateKeyPair('ed25519');
    writeFileSync(path.join(d, 'k.pub'), kp.publicPem);
    pub = loadPublicKey(path.join(d, 'k.pub')).key;
    model = path.join(d, 'model');
    (await import('node:fs')).mkdirSync(model);
    writeFileSync(path.join(model, 'weights.bin'), randomBytes(1 << 20));
    writeFileSync(path.join(model, 'config.json'), '{"a":1}');
    await signModel(model, { signer: keySigner(createPrivateKey(kp.privatePem)) });
  });
  afterAll(async () => {
    front?.server.close();
    await reg?.stop();
  });

  it('gets a scoped token from the challenge, uploads in chunks, and resumes a lost chunk from the upload status', async () => {
    const ref = `oci://127.0.0.1:${front.port}/ml/chunked:v1`;
    front.failPatches = new Set([3, 4]);
    let last = 0;
    const r = await pushModel(model, ref, { plainHttp: true, username: 'alice', password: 'pw', chunkSize: 100_000, onProgress: (p) => (last = p.bytesDone) });
    expect(r.uploaded).toBe(2);
    expect(front.patches).toBeGreaterThan(11); // 11 chunks of 100 kB for 1 MiB, two sent twice
    expect(last).toBe((1 << 20) + 7);
    expect(front.scopes).toContain('repository:ml/chunked:pull,push');
    const dest = path.join(tmp(), 'out');
    await pullModel(ref, dest, { plainHttp: true, username: 'alice', password: 'pw', trust: { publicKey: pub } });
    expect(readFileSync(path.join(dest, 'weights.bin'))).toEqual(readFileSync(path.join(model, 'weights.bin')));
    expect(front.scopes).toContain('repository:ml/chunked:pull');
  });

  it('a chunk that keeps failing ends the push with a registry error; wrong credentials are OCI_UNAUTHORIZED', async () => {
    front.patches = 0;
    front.failPatches = new Set([1, 2, 3, 4, 5]);
    expect(await codeOf(pushModel(model, `127.0.0.1:${front.port}/ml/fails:v1`, { plainHttp: true, username: 'alice', password: 'pw', chunkSize: 100_000, retries: 2 }))).toBe('OCI_REGISTRY_ERROR');
    front.failPatches = new Set();
    expect(await codeOf(pushModel(model, `127.0.0.1:${front.port}/ml/x:v1`, { plainHttp: true, username: 'alice', password: 'nope' }))).toBe('OCI_UNAUTHORIZED');
    expect(await codeOf(verifyOci(`oci://127.0.0.1:${front.port}/ml/chunked:v1`, { plainHttp: true, trust: { publicKey: pub } }))).toBe('OCI_UNAUTHORIZED');
  });

  it('an aborted pull (Ctrl-C) stops with INTERRUPTED and leaves nothing behind', async () => {
    const ac = new AbortController();
    const dest = path.join(tmp(), 'aborted');
    const p = pullModel(`oci://127.0.0.1:${front.port}/ml/chunked:v1`, dest, { plainHttp: true, username: 'alice', password: 'pw', trust: { publicKey: pub }, signal: ac.signal, onProgress: () => ac.abort() });
    expect(await codeOf(p)).toBe('INTERRUPTED');
    expect(readdirSync(path.dirname(dest))).toEqual([]);
  });

  it('MODELSEAL_REGISTRY_TOKEN is sent as the bearer token', async () => {
    const prev = process.env.MODELSEAL_REGISTRY_TOKEN;
    process.env.MODELSEAL_REGISTRY_TOKEN = 'static-token';
    try {
      const v = await verifyOci(`oci://127.0.0.1:${front.port}/ml/chunked:v1`, { plainHttp: true, trust: { publicKey: pub }, noDownload: true });
      expect(v.mode).toBe('no-download');
    } finally {
      if (prev === undefined) delete process.env.MODELSEAL_REGISTRY_TOKEN;
      else process.env.MODELSEAL_REGISTRY_TOKEN = prev;
    }
  });

  it('an https registry that is not there: OCI_UNREACHABLE naming --plain-http', async () => {
    expect(await codeOf(verifyOci(`oci://127.0.0.1:${front.port}/ml/chunked:v1`, { trust: { publicKey: pub } }))).toBe('OCI_UNREACHABLE');
  });
});
