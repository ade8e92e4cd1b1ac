import { InputError } from '../errors.js';
import { LIMITS, parseJsonBounded } from '../limits.js';
import type { AttestationSource, StoredAttestation } from './source.js';

export interface GithubAttestationsOptions {
  /** owner/repo */
  repository: string;
  /** the model's OMS root digest (hex): attestations are stored by subject digest */
  digest: string;
  /** default: GITHUB_API_URL, else https://api.github.com */
  apiUrl?: string;
  /** a token that may read the repository's attestations (GITHUB_TOKEN with `attestations: read`) */
  token?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const PAGE = 100;

/**
 * GitHub's attestations API as an attestation source:
 * `GET /repos/{owner}/{repo}/attestations/sha256:{digest}`, every page.
 * The API is only storage: each bundle is returned as raw bytes and the
 * policy evaluator verifies it locally, like a file from a folder. The token
 * is sent to the API's own origin only (a `next` link elsewhere is refused),
 * and the count and bytes read are bounded as for a folder.
 */
export function githubAttestations(o: GithubAttestationsOptions): AttestationSource {
  if (!REPO.test(o.repository)) throw new InputError('BAD_OPTION', `"${o.repository}" is not owner/repo`);
  if (!/^[0-9a-f]{64}$/.test(o.digest)) throw new InputError('BAD_OPTION', `"${o.digest}" is not a hex SHA-256 digest`);
  const api = new URL((o.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '') + '/');
  const first = new URL(`repos/${o.repository}/attestations/sha256:${o.digest}?per_page=${PAGE}`, api);
  return {
    description: `GitHub attestations of ${o.repository} for sha256:${o.digest}`,
    list: () => listAll(first, api, o),
  };
}

async function listAll(first: URL, api: URL, o: GithubAttestationsOptions): Promise<Array<StoredAttestation | { file: string; error: string }>> {
  const doFetch = o.fetch ?? fetch;
  const out: Array<StoredAttestation | { file: string; error: string }> = [];
  const seen = new Set<string>();
  let total = 0;
  for (let url: URL | undefined = first; url; ) {
    if (seen.has(url.href)) break; // a server that links a page to itself must not loop us
    seen.add(url.href);
    const res = await get(doFetch, url, o);
    if (res.status === 404) return out; // nothing stored for this digest
    if (!res.ok) throw new InputError('ATTESTATIONS_UNREADABLE', `${url.href}: HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (the token needs "permissions: attestations: read")' : ''}`);
    const body = await boundedText(res, LIMITS.attestationBytes - total, url.href);
    total += body.length;
    const list = (parseJsonBounded(body, url.href, 'BAD_ATTESTATIONS_RESPONSE') as { attestations?: unknown })?.attestations;
    if (!Array.isArray(list)) throw new InputError('BAD_ATTESTATIONS_RESPONSE', `${url.href}: the answer has no attestations list`);
    for (const a of list) {
      const file = `${first.origin}${first.pathname}#${out.length}`;
      if (out.length >= LIMITS.attestationFiles) {
        throw new InputError('ATTESTATIONS_TOO_MANY', `${first.href}: more than ${LIMITS.attestationFiles} attestations`);
      }
      const bundle = (a as { bundle?: unknown } | null)?.bundle;
      if (typeof bundle !== 'object' || bundle === null) out.push({ file, error: 'no bundle in the answer (bundle_url is not fetched)' });
      else {
        const bytes = Buffer.from(JSON.stringify(bundle));
        if (bytes.length > LIMITS.bundleBytes) out.push({ file, error: `bundle of ${bytes.length} bytes is over the ${LIMITS.bundleBytes}-byte limit` });
        else out.push({ file, bytes });
      }
    }
    url = nextLink(res.headers.get('link'), url, api);
  }
  return out;
}

async function get(doFetch: typeof fetch, url: URL, o: GithubAttestationsOptions): Promise<Response> {
  try {
    return await doFetch(url, {
      headers: {
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
      },
      redirect: 'error',
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new InputError('ATTESTATIONS_UNREADABLE', `${url.href}: ${(err as Error).message}`, { cause: err });
  }
}

/** The body as text, refusing more than `limit` bytes before holding them. */
async function boundedText(res: Response, limit: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body ?? []) {
    n += (c as Uint8Array).length;
    if (n > limit) {
      await res.body?.cancel().catch(() => undefined);
      throw new InputError('ATTESTATIONS_TOO_LARGE', `${where}: attestations add up to more than ${LIMITS.attestationBytes} bytes`);
    }
    chunks.push(Buffer.from(c as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** RFC 8288 `Link: <url>; rel="next"`, followed only on the API's own origin and path. */
function nextLink(header: string | null, base: URL, api: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!m || !/\brel="?next"?/.test(m[2]!)) continue;
    const next = new URL(m[1]!, base);
    if (next.origin !== api.origin || !next.pathname.startsWith(api.pathname)) {
      throw new InputError('ATTESTATIONS_UNREADABLE', `${base.href}: next page ${next.href} is outside ${api.href} (not followed)`);
    }
    return next;
  }
  return undefined;
}
