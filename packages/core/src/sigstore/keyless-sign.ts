import type { SerializedBundle } from '../bundle.js';
import { InputError } from '../errors.js';
import type { Signer } from '../sign-model.js';

export const PUBLIC_GOOD = { fulcioURL: 'https://fulcio.sigstore.dev', rekorURL: 'https://rekor.sigstore.dev' } as const;
export const STAGING = { fulcioURL: 'https://fulcio.sigstage.dev', rekorURL: 'https://rekor.sigstage.dev', tsaURL: 'https://timestamp.sigstage.dev' } as const;

export interface KeylessSignOptions {
  identityToken: string;
  fulcioURL?: string;
  rekorURL?: string;
  /** adds an RFC 3161 timestamp from this TSA */
  tsaURL?: string;
  /** false: no Rekor entry (then a TSA timestamp is required for verification) */
  tlogUpload?: boolean;
  /** 'intoto' logs an intoto entry and writes a v0.2 bundle, for Rekor deployments without dsse support */
  rekorEntryType?: 'dsse' | 'intoto';
  timeoutMs?: number;
}

/**
 * Keyless signing through sigstore-js: an ephemeral key, a Fulcio certificate
 * for the token's identity, a Rekor entry for the envelope, and optionally a
 * TSA timestamp. Nothing is contacted but the URLs given (or public-good).
 */
export function keylessSigner(o: KeylessSignOptions): Signer {
  return {
    createBundle: async (payload, payloadType) => {
      if (o.tlogUpload === false && !o.tsaURL) {
        throw new InputError('BAD_OPTION', 'without a transparency log entry a timestamp authority (--tsa-url) is required');
      }
      // sigstore (with its HTTP and TUF stack) costs ~100 ms to load: only keyless signing pays it.
      const { attest } = await import('sigstore');
      try {
        const b = await attest(payload, payloadType, {
          fulcioURL: o.fulcioURL ?? PUBLIC_GOOD.fulcioURL,
          rekorURL: o.rekorURL ?? PUBLIC_GOOD.rekorURL,
          ...(o.tsaURL ? { tsaServerURL: o.tsaURL } : {}),
          identityToken: o.identityToken,
          tlogUpload: o.tlogUpload ?? true,
          legacyCompatibility: o.rekorEntryType === 'intoto',
          timeout: o.timeoutMs ?? 30_000,
          retry: 2,
        });
        return b as unknown as SerializedBundle;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        throw new InputError('KEYLESS_SIGNING_FAILED', `keyless signing failed${e.code ? ` (${e.code})` : ''}: ${e.message ?? String(err)}`, { cause: err });
      }
    },
  };
}
