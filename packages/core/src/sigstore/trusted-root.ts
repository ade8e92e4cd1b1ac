import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { InputError } from '../errors.js';

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
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));
}

export function loadTrustedRoot(file: string): TrustedRoot {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError('BAD_TRUSTED_ROOT', `${file}: cannot read trusted root (${(err as Error).message})`, { cause: err });
  }
  const mt = (json as { mediaType?: unknown })?.mediaType;
  if (typeof mt !== 'string' || !mt.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new InputError('BAD_TRUSTED_ROOT', `${file}: not a Sigstore trusted root (mediaType ${JSON.stringify(mt)})`);
  }
  return TrustedRoot.fromJSON(json);
}

/** Fetches the current public-good trusted root through TUF (network), caching under `cachePath`. */
export async function refreshTrustedRoot(cachePath?: string): Promise<TrustedRoot> {
  const { getTrustedRoot } = await import('@sigstore/tuf');
  return getTrustedRoot(cachePath ? { cachePath } : {});
}
