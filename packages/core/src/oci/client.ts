import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { ModelsealError, VerificationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { parseChallenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { RegistryError, registryErrorText } from './errors.js';
import { OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { formatReference, SHA256_DIGEST, type OciReference } from './reference.js';
import { streamRequest, type StreamResponse } from './stream-request.js';

export interface ClientOptions {
  credentials?: Credentials;
  /** talk http:// instead of https:// (only when the user asks) */
  plainHttp?: boolean;
  /** ask for push rights as well as pull */
  push?: boolean;
  /** blobs above this go up in PATCH chunks of this size (default 64 MiB) */
  chunkSize?: number;
  /** retries of one failed chunk or request (default 3) */
  retries?: number;
}

/** Bytes moved, for progress bars: the same shape hashing reports. */
export type OnBytes = (n: number) => void;

const MANIFEST_ACCEPT = `${OCI_MANIFEST}, ${OCI_INDEX}`;
const READ_SIZE = 1 << 20;

/**
 * A small OCI distribution-spec client over Node's fetch: exactly the calls
 * modelseal needs (blobs, manifests, referrers), nothing cached on disk.
 * Blobs stream from and to files in 1 MiB reads: memory does not grow with
 * the model. Auth follows the `WWW-Authenticate` challenge (Basic, or Bearer
 * from the registry's token service with a repository scope).
 */
export class RegistryClient {
  readonly base: string;
  private auth: string | undefined;
  private readonly chunkSize: number;
  private readonly retries: number;

  constructor(
    readonly ref: OciReference,
    private readonly o: ClientOptions = {},
  ) {
    this.base = `${o.plainHttp ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}/`;
    this.chunkSize = o.chunkSize ?? 64 << 20;
    this.retries = o.retries ?? 3;
    if (o.credentials?.kind === 'token') this.auth = `Bearer ${o.credentials.token}`;
  }

  get where(): string {
    return formatReference(this.ref);
  }

  /** One request, authenticating on a 401 challenge and retrying once. `body` is a factory so it can be sent again. */
  async request(method: string, url: string, init: { headers?: Record<string, string>; body?: () => Uint8Array | AsyncIterable<Uint8Array>; extraScopes?: string[] } = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.auth) headers.authorization = this.auth;
      const body = init.body?.();
      let res: Response;
      try {
        res = await fetch(new URL(url, this.base), {
          method,
          headers,
          redirect: 'follow',
          ...(body !== undefined ? { body, duplex: 'half' } : {}),
        } as RequestInit);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new RegistryError('OCI_UNREACHABLE', `${this.ref.registry}: cannot ${method} ${new URL(url, this.base).pathname} (${cause?.code ?? cause?.message ?? (err as Error).message})${this.o.plainHttp ? '' : '; for a plain-HTTP registry pass --plain-http'}`, undefined, { cause: err });
      }
      if (res.status !== 401 || attempt > 0) {
        if (res.status === 401) {
          await res.body?.cancel();
          throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: authentication failed (HTTP 401)${this.o.credentials?.kind === 'anonymous' || !this.o.credentials ? ': no credentials found (docker login, --username/--password-stdin, or MODELSEAL_REGISTRY_TOKEN)' : ': check the user name and password or token'}`, 401);
        }
        if (res.status === 403) {
          const why = await registryErrorText(res);
          throw new RegistryError('OCI_DENIED', `${this.ref.registry}: access to ${this.ref.repository} denied (${why})`, 403);
        }
        return res;
      }
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      await res.body?.cancel();
      this.auth = await this.authorize(challenge, init.extraScopes ?? []);
    }
  }

  /** `request` for blob bodies: node:http streams, the same auth and error mapping. */
  private async send(method: string, url: string, headers: Record<string, string>, body?: () => AsyncIterable<Uint8Array>): Promise<StreamResponse> {
    for (let attempt = 0; ; attempt++) {
      const h: Record<string, string> = { ...headers };
      if (this.auth) h.authorization = this.auth;
      const target = new URL(url, this.base);
      let res: StreamResponse;
      try {
        res = await streamRequest(method, target.toString(), h, body?.());
      } catch (err) {
        if (err instanceof ModelsealError) throw err;
        throw new RegistryError('OCI_UNREACHABLE', `${this.ref.registry}: cannot ${method} ${target.pathname} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, undefined, { cause: err });
      }
      if (res.status === 401 && attempt === 0) {
        res.body.resume();
        this.auth = await this.authorize(parseChallenge(firstHeader(res.headers['www-authenticate']) ?? null), []);
        continue;
      }
      if (res.status === 401) {
        res.body.resume();
        throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: authentication failed (HTTP 401)`, 401);
      }
      if (res.status === 403) throw new RegistryError('OCI_DENIED', `${this.ref.registry}: access to ${this.ref.repository} denied (${await streamErrorText(res)})`, 403);
      return res;
    }
  }

  private async failStream(res: StreamResponse, what: string, code = 'OCI_REGISTRY_ERROR'): Promise<never> {
    throw new RegistryError(code, `${this.where}: ${what}: ${await streamErrorText(res)}`, res.status);
  }

  private async authorize(ch: ReturnType<typeof parseChallenge>, extraScopes: string[]): Promise<string> {
    const c = this.o.credentials ?? { kind: 'anonymous' };
    if (!ch) throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: HTTP 401 without a WWW-Authenticate challenge`, 401);
    if (ch.scheme === 'basic') {
      if (c.kind !== 'basic') throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: the registry wants a user name and password (docker login, or --username with --password-stdin)`, 401);
      return basic(c.username, c.password);
    }
    if (ch.scheme !== 'bearer') throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: unsupported auth scheme "${ch.scheme}"`, 401);
    if (c.kind === 'token') throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: the registry refused the token from MODELSEAL_REGISTRY_TOKEN`, 401);
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: Bearer challenge without a realm`, 401);
    const url = new URL(realm);
    if (url.protocol !== 'https:' && !(this.o.plainHttp && url.protocol === 'http:')) {
      throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: token service ${url.origin} is not https (pass --plain-http to allow)`, 401);
    }
    const scopes = [`repository:${this.ref.repository}:${this.o.push ? 'pull,push' : 'pull'}`, ...extraScopes];
    if (ch.params.scope && !scopes.includes(ch.params.scope)) scopes.push(ch.params.scope);
    let res: Response;
    try {
      if (c.kind === 'refresh') {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.token, client_id: 'modelseal', scope: scopes.join(' ') });
        if (ch.params.service) form.set('service', ch.params.service);
        res = await fetch(url, { method: 'POST', body: form });
      } else {
        if (ch.params.service) url.searchParams.set('service', ch.params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        res = await fetch(url, { headers: c.kind === 'basic' ? { authorization: basic(c.username, c.password) } : {} });
      }
    } catch (err) {
      throw new RegistryError('OCI_UNREACHABLE', `token service ${url.origin}: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!res.ok) throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: token service refused (${await registryErrorText(res)})`, 401);
    const text = await readBounded(res, 1 << 20, 'token response');
    let j: { token?: unknown; access_token?: unknown };
    try {
      j = JSON.parse(text.toString('utf8')) as typeof j;
    } catch {
      throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: token service did not answer JSON`, 401);
    }
    const token = typeof j.token === 'string' ? j.token : typeof j.access_token === 'string' ? j.access_token : undefined;
    if (!token) throw new RegistryError('OCI_UNAUTHORIZED', `${this.ref.registry}: token service gave no token`, 401);
    return `Bearer ${token}`;
  }

  private async fail(res: Response, what: string, code = 'OCI_REGISTRY_ERROR'): Promise<never> {
    throw new RegistryError(code, `${this.where}: ${what}: ${await registryErrorText(res)}`, res.status);
  }

  /** The blob's size when the registry has it (HEAD), else undefined. */
  async blobSize(digest: string): Promise<number | undefined> {
    const res = await this.request('HEAD', `blobs/${digest}`);
    if (res.status === 404) return undefined;
    if (!res.ok) return this.fail(res, `HEAD blob ${digest}`);
    const n = Number(res.headers.get('content-length'));
    return Number.isSafeInteger(n) ? n : -1;
  }

  /** Cross-repository mount; returns true when the registry mounted it (201), false when it wants an upload instead. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const res = await this.request('POST', `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { extraScopes: [`repository:${from}:pull`] });
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // an upload session was opened instead; leave it to expire (an upload of its own follows)
      return false;
    }
    return this.fail(res, `mount ${digest} from ${from}`);
  }

  private async startUpload(): Promise<string> {
    const res = await this.request('POST', 'blobs/uploads/');
    await res.body?.cancel();
    if (res.status !== 202) return this.fail(res, 'start blob upload');
    return this.location(res);
  }

  private location(res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new RegistryError('OCI_REGISTRY_ERROR', `${this.where}: upload response without a Location header`, res.status);
    return new URL(loc, this.base).toString();
  }

  /** Pushes bytes held in memory (configs, manifests' blobs, bundles: small by construction). */
  async pushBlobBytes(bytes: Buffer, digest: string): Promise<void> {
    if ((await this.blobSize(digest)) !== undefined) return;
    const loc = await this.startUpload();
    const res = await this.request('PUT', withDigest(loc, digest), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: () => bytes,
    });
    await res.body?.cancel();
    if (res.status !== 201) return this.fail(res, `upload blob ${digest}`);
  }

  /**
   * Streams a file into the registry as the blob `digest`. Small files go in
   * one PUT; bigger ones in PATCH chunks with `Content-Range`, each retried
   * from where the registry says it stands (`Range`) when it fails.
   */
  async pushBlobFile(file: string, digest: string, size: number, onBytes?: OnBytes): Promise<void> {
    let loc = await this.startUpload();
    if (size <= this.chunkSize) {
      const res = await this.send('PUT', withDigest(loc, digest), { 'content-type': 'application/octet-stream', 'content-length': String(size) }, () => fileChunks(file, 0, size, onBytes));
      if (res.status !== 201) return this.failStream(res, `upload blob ${digest}`, res.status === 400 ? 'OCI_UPLOAD_REJECTED' : 'OCI_REGISTRY_ERROR');
      res.body.resume();
      return;
    }
    let offset = 0;
    while (offset < size) {
      const end = Math.min(offset + this.chunkSize, size);
      let failures = 0;
      for (;;) {
        let sent = 0;
        try {
          const start = offset;
          const res = await this.send(
            'PATCH',
            loc,
            { 'content-type': 'application/octet-stream', 'content-length': String(end - start), 'content-range': `${start}-${end - 1}` },
            () => fileChunks(file, start, end, (n) => ((sent += n), onBytes?.(n))),
          );
          res.body.resume();
          if (res.status !== 202) throw new RegistryError('OCI_REGISTRY_ERROR', `${this.where}: upload chunk ${start}-${end - 1}: HTTP ${res.status}`, res.status);
          const next = firstHeader(res.headers.location);
          if (!next) throw new RegistryError('OCI_REGISTRY_ERROR', `${this.where}: upload response without a Location header`, res.status);
          loc = new URL(next, this.base).toString();
          offset = end;
          break;
        } catch (err) {
          if (err instanceof RegistryError && (err.code === 'OCI_UNAUTHORIZED' || err.code === 'OCI_DENIED')) throw err;
          if (++failures > this.retries) throw err;
          onBytes?.(-sent);
          // Ask where the upload stands and resume from there (the spec's upload status call).
          const st = await this.request('GET', loc);
          await st.body?.cancel();
          if (st.status !== 204) throw err;
          loc = this.location(st);
          const m = /^(?:bytes=)?0-(\d+)$/.exec(st.headers.get('range') ?? '');
          const have = m ? Number(m[1]) + 1 : 0;
          if (have > end || have < 0) throw err;
          if (have > offset) onBytes?.(have - offset);
          offset = have;
          if (offset >= end) break;
        }
      }
    }
    const res = await this.request('PUT', withDigest(loc, digest), { headers: { 'content-length': '0' } });
    await res.body?.cancel();
    if (res.status !== 201) return this.fail(res, `finish upload of ${digest}`, res.status === 400 ? 'OCI_UPLOAD_REJECTED' : 'OCI_REGISTRY_ERROR');
  }

  /** The blob's bytes as a stream; the caller checks them against the digest. */
  async blobStream(digest: string): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.send('GET', `blobs/${digest}`, {});
    if (res.status === 404) {
      res.body.resume();
      throw new VerificationError('OCI_BLOB_MISSING', `${this.where}: blob ${digest} is not in the registry`);
    }
    if (res.status < 200 || res.status > 299) return this.failStream(res, `GET blob ${digest}`);
    return res.body;
  }

  /** A small blob (a config, a bundle), read up to `limit` bytes and checked against its digest. */
  async blobBytes(digest: string, limit: number): Promise<Buffer> {
    const res = await this.request('GET', `blobs/${digest}`);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new VerificationError('OCI_BLOB_MISSING', `${this.where}: blob ${digest} is not in the registry`);
    }
    if (!res.ok) return this.fail(res, `GET blob ${digest}`);
    const bytes = await readBounded(res, limit, `blob ${digest}`);
    checkDigest(bytes, digest, `${this.where}: blob`);
    return bytes;
  }

  /** PUT a manifest or index at a tag or digest; returns its digest and whether the registry handles `subject` itself. */
  async putManifest(ref: string, bytes: Buffer, mediaType: string, headers: Record<string, string> = {}): Promise<{ digest: string; subjectHandled: boolean }> {
    const res = await this.request('PUT', `manifests/${ref}`, { headers: { 'content-type': mediaType, ...headers }, body: () => bytes });
    await res.body?.cancel();
    if (res.status !== 201) return this.fail(res, `PUT manifest ${ref}`);
    return { digest: sha256Digest(bytes), subjectHandled: res.headers.has('oci-subject') };
  }

  /** GET a manifest or index; undefined when the registry has none. The digest is computed, never taken from headers. */
  async getManifest(ref: string): Promise<{ bytes: Buffer; digest: string; mediaType: string; etag?: string } | undefined> {
    const res = await this.request('GET', `manifests/${ref}`, { headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, `GET manifest ${ref}`);
    const bytes = await readBounded(res, LIMITS.ociManifestBytes, `manifest ${ref}`);
    const digest = sha256Digest(bytes);
    if (SHA256_DIGEST.test(ref) && digest !== ref) {
      throw new VerificationError('OCI_MANIFEST_DIGEST_MISMATCH', `${this.where}: the registry answered ${ref} with bytes whose digest is ${digest}`);
    }
    const etag = res.headers.get('etag');
    return { bytes, digest, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), ...(etag ? { etag } : {}) };
  }

  async deleteManifest(digest: string): Promise<void> {
    const res = await this.request('DELETE', `manifests/${digest}`);
    await res.body?.cancel();
    if (res.status !== 202 && res.status !== 404) return this.fail(res, `DELETE manifest ${digest}`);
  }

  /** The referrers API: the index, or undefined when the registry does not offer the API (404 from the router). */
  async referrersApi(digest: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', `referrers/${digest}`, { headers: { accept: OCI_INDEX } });
    if (res.status === 404 || res.status === 405 || res.status === 400) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, `GET referrers of ${digest}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const bytes = await readBounded(res, LIMITS.ociManifestBytes, `referrers of ${digest}`);
    return type === OCI_INDEX ? bytes : undefined;
  }
}

export function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function checkDigest(bytes: Uint8Array, digest: string, where: string): void {
  const got = sha256Digest(bytes);
  if (got !== digest) throw new VerificationError('OCI_BLOB_DIGEST_MISMATCH', `${where} ${digest}: the bytes hash to ${got}`);
}

/** Appends the digest query parameter to an upload Location, which may already carry a query (`?_state=`). */
function withDigest(loc: string, digest: string): string {
  return `${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** Reads [start, end) of a file in 1 MiB pieces: the only buffers an upload holds. */
async function* fileChunks(file: string, start: number, end: number, onBytes?: OnBytes): AsyncGenerator<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    let pos = start;
    while (pos < end) {
      const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, end - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new RegistryError('OCI_FILE_CHANGED', `${file}: shorter than when it was hashed (changed during push)`);
      pos += bytesRead;
      onBytes?.(bytesRead);
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A response body read fully, refusing more than `limit` bytes. */
export async function readBounded(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new RegistryError('OCI_RESPONSE_TOO_LARGE', `${what}: ${declared} bytes is over the ${limit}-byte limit`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  if (res.body) {
    for await (const c of res.body) {
      n += c.length;
      if (n > limit) {
        await res.body.cancel().catch(() => undefined);
        throw new RegistryError('OCI_RESPONSE_TOO_LARGE', `${what}: over the ${limit}-byte limit`);
      }
      parts.push(Buffer.from(c));
    }
  }
  return Buffer.concat(parts);
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function streamErrorText(res: StreamResponse): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    if (n < 2000) parts.push(Buffer.from(c as Uint8Array));
    n += (c as Uint8Array).length;
  }
  const text = Buffer.concat(parts).toString('utf8').slice(0, 2000);
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(j.errors) && j.errors.length) return `HTTP ${res.status} ${j.errors.map((e) => `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`).join('; ')}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}${text.trim() ? ` ${text.trim().slice(0, 200)}` : ''}`;
}
