import { createPrivateKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APPROVAL_PREDICATE_V1, attestModel, buildApproval, evaluatePolicy, generateKeyPair, githubAttestations, keySigner, LIMITS, loadPolicy, signModel,
} from '@modelseal/core/internals';
import { codeOf, tempDir, writeTree } from './helpers.js';
import { writeFileSync } from 'node:fs';

/**
 * GitHub's attestations API as a source, against a stand-in on 127.0.0.1
 * that serves real bundles made here. The API is storage only: what it
 * serves is verified by evaluatePolicy like a file from a folder.
 */
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, base: string) => void): Promise<{ base: string; hits: IncomingMessage[] }> {
  const hits: IncomingMessage[] = [];
  let base = '';
  const s = createServer((req, res) => {
    hits.push(req);
    handler(req, res, base);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { base, hits };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const DIGEST = 'ab'.repeat(32);

describe('githubAttestations', () => {
  it('reads every page by following Link rel="next", sending the token, and returns each bundle as bytes', async () => {
    const pages = [[{ n: 1 }, { n: 2 }], [{ n: 3 }]];
    const api = await serve((req, res, base) => {
      const u = new URL(req.url!, base);
      const page = Number(u.searchParams.get('page') ?? '1');
      const link: Record<string, string> = page < pages.length ? { Link: `<${base}/api/v3${u.pathname.replace('/api/v3', '')}?page=${page + 1}>; rel="next", <${base}/x>; rel="last"` } : {};
      json(res, 200, { attestations: pages[page - 1]!.map((bundle) => ({ bundle, repository_id: 1 })) }, link);
    });
    const src = githubAttestations({ repository: 'acme/models', digest: DIGEST, apiUrl: `${api.base}/api/v3`, token: 'tok' });
    const list = await src.list();
    expect(list.map((a) => ('bytes' in a ? JSON.parse(a.bytes.toString()) : a))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(api.hits.map((h) => h.url)).toEqual([`/api/v3/repos/acme/models/attestations/sha256:${DIGEST}?per_page=100`, `/api/v3/repos/acme/models/attestations/sha256:${DIGEST}?page=2`]);
    expect(api.hits.every((h) => h.headers.authorization === 'Bearer tok' && h.headers['x-github-api-version'] === '2022-11-28')).toBe(true);
    expect(src.description).toBe(`GitHub attestations of acme/models for sha256:${DIGEST}`);
  });

  it('404 means no attestations; errors and refusals are coded', async () => {
    const api = await serve((req, res, base) => {
      const u = new URL(req.url!, base);
      if (u.pathname.startsWith('/none/')) return json(res, 404, { message: 'Not Found' });
      if (u.pathname.startsWith('/denied/')) return json(res, 403, { message: 'Resource not accessible by integration' });
      if (u.pathname.startsWith('/garbage/')) return json(res, 200, 'not json');
      if (u.pathname.startsWith('/shape/')) return json(res, 200, { items: [] });
      if (u.pathname.startsWith('/elsewhere/')) return json(res, 200, { attestations: [] }, { Link: '<https://evil.example/steal>; rel="next"' });
      if (u.pathname.startsWith('/loop/')) return json(res, 200, { attestations: [{ bundle: { a: 1 } }] }, { Link: `<${base}${u.pathname}${u.search}>; rel="next"` });
      if (u.pathname.startsWith('/nobundle/')) return json(res, 200, { attestations: [{ bundle: null, bundle_url: 'https://x' }] });
      json(res, 500, {});
    });
    const src = (prefix: string) => githubAttestations({ repository: 'acme/models', digest: DIGEST, apiUrl: `${api.base}/${prefix}` });
    expect(await src('none').list()).toEqual([]);
    expect(await codeOf(src('denied').list())).toBe('ATTESTATIONS_UNREADABLE');
    await expect(src('denied').list()).rejects.toThrow(/HTTP 403 .*attestations: read/);
    expect(await codeOf(src('garbage').list())).toBe('BAD_ATTESTATIONS_RESPONSE');
    expect(await codeOf(src('shape').list())).toBe('BAD_ATTESTATIONS_RESPONSE');
    // the token never leaves the API's origin
    expect(await codeOf(src('elsewhere').list())).toBe('ATTESTATIONS_UNREADABLE');
    expect(await src('loop').list()).toHaveLength(1);
    expect(await src('nobundle').list()).toEqual([{ file: expect.stringContaining('#0'), error: expect.stringContaining('no bundle') }]);
    expect(await codeOf(githubAttestations({ repository: 'acme/models', digest: DIGEST, apiUrl: 'http://127.0.0.1:1' }).list())).toBe('ATTESTATIONS_UNREADABLE');
    expect(await codeOf(Promise.resolve().then(() => githubAttestations({ repository: 'acme/../x', digest: DIGEST })))).toBe('BAD_OPTION');
    expect(await codeOf(Promise.resolve().then(() => githubAttestations({ repository: 'acme/models', digest: 'sha256:xyz' })))).toBe('BAD_OPTION');
  });

  it('bounds what it reads: total bytes and number of attestations', async () => {
    const big = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // a stream that never ends would hold memory: refused past the limit
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const write = () => {
        while (sent <= LIMITS.attestationBytes) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', write);
        }
        res.end();
      };
      write();
    });
    expect(await codeOf(githubAttestations({ repository: 'a/b', digest: DIGEST, apiUrl: big.base }).list())).toBe('ATTESTATIONS_TOO_LARGE');
    const many = await serve((_req, res) => json(res, 200, { attestations: Array.from({ length: LIMITS.attestationFiles + 1 }, () => ({ bundle: {} })) }));
    expect(await codeOf(githubAttestations({ repository: 'a/b', digest: DIGEST, apiUrl: many.base }).list())).toBe('ATTESTATIONS_TOO_MANY');
  });

  it('feeds evaluatePolicy: real approvals served by the API count; one for another digest does not', async () => {
    const d = tempDir();
    const model = writeTree(path.join(d, 'm'), { 'weights.bin': 'w'.repeat(100), 'config.json': '{}' });
    const release = generateKeyPair('ed25519');
    const alice = generateKeyPair('ed25519');
    writeFileSync(path.join(d, 'release.pub'), release.publicPem);
    writeFileSync(path.join(d, 'alice.pub'), alice.publicPem);
    writeFileSync(path.join(d, 'policy.yml'), 'version: 1\nsigners:\n  - key: release.pub\napprovals:\n  production:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n');
    const signed = await signModel(model, { signer: keySigner(createPrivateKey(release.privatePem)) });
    const dir = path.join(d, 'elsewhere');
    const ok = await attestModel(model, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: keySigner(createPrivateKey(alice.privatePem)), label: 'a', dir });
    const other = writeTree(path.join(d, 'other'), { 'x.bin': 'x' });
    const stale = await attestModel(other, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: keySigner(createPrivateKey(alice.privatePem)), label: 'b', dir });
    const digest = signed.manifest.rootDigest;
    const api = await serve((req, res, base) => {
      const u = new URL(req.url!, base);
      if (u.pathname !== `/repos/acme/models/attestations/sha256:${digest}`) return json(res, 404, {});
      json(res, 200, { attestations: [{ bundle: stale.bundle }, { bundle: ok.bundle }] });
    });
    const policy = loadPolicy(path.join(d, 'policy.yml'));
    const report = await evaluatePolicy(model, policy, { attestations: githubAttestations({ repository: 'acme/models', digest, apiUrl: api.base }) });
    expect(report.ok).toBe(true);
    const items = report.rules.find((r) => r.rule === 'approvals.production')!.items!;
    expect(items.map((i) => i.counted)).toEqual([false, true]);
    expect(items[0]!.why).toMatch(/another model digest/);
    expect(items[1]!.file).toBe(`${api.base}/repos/acme/models/attestations/sha256:${digest}#1`);
  });
});
