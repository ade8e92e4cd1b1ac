import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler } from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';

/**
 * Fulcio, Rekor and a TSA from @sigstore/mock, served over real HTTP on
 * 127.0.0.1 with their own CA and log keys, plus the trusted root that
 * trusts them. Also serves a GitHub-Actions-style token endpoint.
 */
export interface SigstoreServices {
  url: string;
  trustedRoot: unknown;
  close(): Promise<void>;
  /** requests seen, by path */
  hits: string[];
}

/** `caClock`: when the mock Fulcio thinks it is, to issue certificates that are expired or not yet valid at signing time. */
export async function startSigstoreServices(opts: { actionsToken?: string; caClock?: Date } = {}): Promise<SigstoreServices> {
  const routes = new Map<string, (body: string) => Promise<{ statusCode: number; response: unknown; contentType?: string }>>();
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const path = (req.url ?? '').split('?')[0]!;
      hits.push(`${req.method} ${path}`);
      if (req.method === 'GET' && path === '/actions/token' && opts.actionsToken) {
        const ok = req.headers.authorization === 'Bearer actions-request-token' && new URL(req.url!, 'http://x').searchParams.get('audience') === 'sigstore';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        return res.end(ok ? JSON.stringify({ value: opts.actionsToken }) : '{}');
      }
      const h = routes.get(`${req.method} ${path}`);
      if (!h) {
        res.writeHead(404);
        return res.end('not found');
      }
      const r = await h(body);
      res.writeHead(r.statusCode, { 'Content-Type': r.contentType ?? 'application/json' });
      const out = r.response;
      res.end(typeof out === 'string' ? out : Buffer.from((out as ArrayBufferView).buffer, (out as ArrayBufferView).byteOffset, (out as ArrayBufferView).byteLength));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(keyPair);
  const ca = await initializeCA(keyPair, ctlog, opts.caClock);
  const tlog = await initializeTLog(url, keyPair);
  const tsa = await initializeTSA(keyPair, millisecondSafeClock());
  for (const h of [fulcioHandler(ca, { strict: true }), rekorHandler(tlog, { strict: true }), tsaHandler(tsa, { strict: true })]) {
    routes.set(`POST ${h.path}`, h.fn as never);
  }
  // validFor must start before the (second-truncated) times the logs will record.
  const past = new Date(Date.now() - 86_400_000);
  const log = (key: ArrayBufferView) => ({
    baseUrl: url,
    logId: { keyId: createHash('sha256').update(new Uint8Array(key.buffer, key.byteOffset, key.byteLength)).digest() },
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: { rawBytes: Buffer.from(key.buffer, key.byteOffset, key.byteLength), keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: past } },
  });
  const authority = (certs: ArrayBufferView[]) => ({
    subject: { commonName: 'mock', organization: 'modelseal tests' },
    uri: url,
    certChain: { certificates: certs.map((c) => ({ rawBytes: Buffer.from(c.buffer, c.byteOffset, c.byteLength) })) },
    validFor: { start: past },
  });
  const trustedRoot = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [authority([ca.rootCertificate])],
    ctlogs: [log(ctlog.publicKey)],
    tlogs: [log(tlog.publicKey)],
    timestampAuthorities: [authority([tsa.intCertificate, tsa.rootCertificate])],
  } as never);
  return { url, trustedRoot, hits, close: () => new Promise((r) => server.close(() => r())) };
}

/** An unsigned JWT with GitHub Actions claims: the mock Fulcio decodes but does not verify tokens. */
export function githubToken(over: Record<string, unknown> = {}): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main',
    aud: 'sigstore',
    exp: Math.floor(Date.now() / 1000) + 600,
    repository: 'acme/models',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    sha: 'deadbeef'.repeat(5),
    workflow_ref: 'acme/models/.github/workflows/release.yml@refs/heads/main',
    job_workflow_ref: 'acme/models/.github/workflows/release.yml@refs/heads/main',
    event_name: 'push',
    run_id: '42',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    ...over,
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

/**
 * A live clock whose milliseconds are always 123. The mock TSA encodes
 * GeneralizedTime as DER requires, dropping trailing zeros of the fraction
 * (".12Z"), and @sigstore/core's parser accepts only three digits, so about
 * one timestamp in ten would fail to parse. Real TSAs can hit the same
 * parser limit; this only keeps the tests deterministic.
 */
function millisecondSafeClock(): Date {
  return new Proxy(new Date(), {
    get(_target, prop) {
      const now = new Date();
      now.setUTCMilliseconds(123);
      const v = (now as unknown as Record<PropertyKey, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(now) : v;
    },
  });
}
