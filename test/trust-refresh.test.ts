import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initializeTUFRepo, tufHandlers } from '@tufjs/repo-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from '../packages/core/test/helpers.js';
import { refreshTrustedRoot, serializeTrustedRoot } from '@modelseal/core/internals';
import { modelsealAsync, tmp } from './cli.js';
import { startSigstoreServices, type SigstoreServices } from './sigstore-services.js';

/** A TUF repository (signed root, timestamp, snapshot, targets) holding a trusted_root.json, served over HTTP on 127.0.0.1. */
let tufServer: Server;
let tufURL: string;
let rootPath: string;
let svc: SigstoreServices;
beforeAll(async () => {
  svc = await startSigstoreServices();
  const repo = initializeTUFRepo([{ name: 'trusted_root.json', content: JSON.stringify(svc.trustedRoot) }]);
  const handlers = new Map(tufHandlers(repo, { metadataPathPrefix: '', targetPathPrefix: '/targets' }).map((h) => [h.path, h.fn]));
  tufServer = createServer((req, res) => {
    const h = handlers.get(req.url ?? '');
    if (!h) {
      res.writeHead(404);
      return res.end();
    }
    const r = h();
    res.writeHead(r.statusCode, { 'Content-Type': r.contentType ?? 'application/octet-stream' });
    res.end(r.response);
  });
  await new Promise<void>((r) => tufServer.listen(0, '127.0.0.1', r));
  tufURL = `http://127.0.0.1:${(tufServer.address() as AddressInfo).port}`;
  rootPath = path.join(tmp(), 'root.json');
  writeFileSync(rootPath, JSON.stringify(repo.rootMeta.toJSON()));
});
afterAll(async () => {
  await new Promise((r) => tufServer?.close(r));
  await svc?.close();
});

describe('trusted root refresh through TUF', () => {
  it('fetches and verifies the trusted root from a TUF repository (core)', async () => {
    const root = await refreshTrustedRoot({ mirrorURL: tufURL, rootPath, cachePath: tmp() });
    expect(JSON.parse(serializeTrustedRoot(root))).toEqual(svc.trustedRoot);
  });

  it('modelseal trust refresh writes a trusted_root.json usable with --trusted-root', async () => {
    const out = path.join(tmp(), 'trusted_root.json');
    const r = await modelsealAsync(['trust', 'refresh', '--out', out, '--tuf-url', tufURL, '--tuf-root', rootPath, '--cache', tmp()]);
    expect(r.stderr).toContain('wrote');
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).tlogs).toHaveLength(1);
  });

  it('refuses a repository whose root does not match the pinned one, and an unreachable mirror', async () => {
    const otherRepo = initializeTUFRepo([{ name: 'trusted_root.json', content: '{}' }]);
    const wrongRoot = path.join(tmp(), 'other-root.json');
    writeFileSync(wrongRoot, JSON.stringify(otherRepo.rootMeta.toJSON()));
    expect(await codeOf(refreshTrustedRoot({ mirrorURL: tufURL, rootPath: wrongRoot, cachePath: tmp() }))).toBe('TUF_REFRESH_FAILED');
    expect(await codeOf(refreshTrustedRoot({ mirrorURL: 'http://127.0.0.1:9', rootPath, cachePath: tmp() }))).toBe('TUF_REFRESH_FAILED');
  });
});
