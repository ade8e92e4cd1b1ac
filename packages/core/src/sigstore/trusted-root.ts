import { LIMITS, parseJsonBounded, readBoundedFile } from '../limits.js';
import { createRequire } from 'node:module';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { InputError } from '../errors.js';
import { sigstoreProtobuf } from '../lazy-deps.js';

export const PUBLIC_GOOD_TUF_URL = 'https://tuf-repo-cdn.sigstore.dev';

/**
 * The public-good Sigstore trusted root that ships inside @sigstore/tuf (its
 * TUF seed). Verification uses it offline; `refreshTrustedRoot` fetches a
 * newer one through TUF when the network is there.
 */
export function publicGoodTrustedRoot(): TrustedRoot {
  const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const b64 = seeds[PUBLIC_GOOD_TUF_URL]?.targets['trusted_root.json'];
  if (!b64) throw new InputError('TRUSTED_ROOT_MISSING', 'the public-good trusted root is missing from @sigstore/tuf');
  return sigstoreProtobuf().TrustedRoot.fromJSON(JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));
}

/** Reads a Sigstore `trusted_root.json` (a private or staging Sigstore, or a refreshed public-good root). */
export function loadTrustedRoot(file: string): TrustedRoot {
  const bytes = readBoundedFile(file, { limit: LIMITS.trustedRootBytes, what: 'trusted root', notFoundCode: 'BAD_TRUSTED_ROOT' });
  const json = parseJsonBounded(bytes, file, 'BAD_TRUSTED_ROOT');
  const mt = (json as { mediaType?: unknown })?.mediaType;
  if (typeof mt !== 'string' || !mt.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new InputError('BAD_TRUSTED_ROOT', `${file}: not a Sigstore trusted root (mediaType ${JSON.stringify(mt)})`);
  }
  try {
    return sigstoreProtobuf().TrustedRoot.fromJSON(json);
  } catch (err) {
    throw new InputError('BAD_TRUSTED_ROOT', `${file}: not a valid trusted root (${(err as Error).message})`, { cause: err });
  }
}

export interface RefreshOptions {
  /** TUF repository (default: public-good) */
  mirrorURL?: string;
  /** the repository's initial root.json, required for any repository but public-good (whose root ships in @sigstore/tuf) */
  rootPath?: string;
  /** where TUF metadata is cached between runs */
  cachePath: string;
}

/**
 * Fetches the current trusted root through TUF (network): the metadata chain
 * is verified from the pinned root, so a mirror cannot hand us a forged root.
 */
export async function refreshTrustedRoot(o: RefreshOptions): Promise<TrustedRoot> {
  const { getTrustedRoot } = await import('@sigstore/tuf');
  try {
    return await getTrustedRoot({
      cachePath: o.cachePath,
      ...(o.mirrorURL ? { mirrorURL: o.mirrorURL } : {}),
      ...(o.rootPath ? { rootPath: o.rootPath } : {}),
      forceCache: false,
      retry: 1,
      timeout: 15_000,
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new InputError('TUF_REFRESH_FAILED', `cannot refresh the trusted root from ${o.mirrorURL ?? PUBLIC_GOOD_TUF_URL}: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, { cause: err });
  }
}

/** trusted_root.json text, as `--trusted-root` reads it. */
export function serializeTrustedRoot(root: TrustedRoot): string {
  return JSON.stringify(sigstoreProtobuf().TrustedRoot.toJSON(root), null, 2) + '\n';
}
