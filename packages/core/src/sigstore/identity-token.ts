import { InputError } from '../errors.js';

export const SIGSTORE_AUDIENCE = 'sigstore';

export interface TokenSources {
  /** --identity-token */
  explicit?: string;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

/** Reads a JWT's claims without checking its signature: Fulcio does that. We only catch mistakes early. */
export function jwtClaims(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new InputError('BAD_IDENTITY_TOKEN', 'the identity token is not a JWT (expected three dot-separated parts)');
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('claims are not an object');
    return claims as Record<string, unknown>;
  } catch (err) {
    throw new InputError('BAD_IDENTITY_TOKEN', `the identity token's claims do not decode (${(err as Error).message})`, { cause: err });
  }
}

/** Refuses a token Fulcio would refuse, with a message that says why. */
export function checkIdentityToken(token: string, now = Date.now()): Record<string, unknown> {
  const c = jwtClaims(token);
  const aud = c.aud;
  const auds = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  if (!auds.includes(SIGSTORE_AUDIENCE)) {
    throw new InputError('TOKEN_WRONG_AUDIENCE', `the identity token is for audience ${JSON.stringify(aud ?? null)}, not "${SIGSTORE_AUDIENCE}"`);
  }
  if (typeof c.exp === 'number' && c.exp * 1000 < now) {
    throw new InputError('TOKEN_EXPIRED', `the identity token expired at ${new Date(c.exp * 1000).toISOString()}`);
  }
  if (typeof c.iss !== 'string') throw new InputError('BAD_IDENTITY_TOKEN', 'the identity token has no issuer (iss)');
  return c;
}

/**
 * Finds an OIDC identity token: --identity-token, then SIGSTORE_ID_TOKEN,
 * then the GitHub Actions ambient token (the job needs `id-token: write`).
 */
export async function resolveIdentityToken(src: TokenSources = {}): Promise<string> {
  const env = src.env ?? process.env;
  const token = src.explicit ?? env.SIGSTORE_ID_TOKEN ?? (await githubActionsToken(env, src.fetch ?? fetch));
  if (!token) {
    throw new InputError(
      'NO_IDENTITY_TOKEN',
      'keyless signing needs an OIDC identity token: pass --identity-token or set SIGSTORE_ID_TOKEN, or run in GitHub Actions with "permissions: id-token: write"',
    );
  }
  checkIdentityToken(token);
  return token.trim();
}

async function githubActionsToken(env: NodeJS.ProcessEnv, doFetch: typeof fetch): Promise<string | undefined> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) return undefined;
  const u = new URL(url);
  u.searchParams.set('audience', SIGSTORE_AUDIENCE);
  let res: Response;
  try {
    res = await doFetch(u, { headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new InputError('TOKEN_REQUEST_FAILED', `cannot get the GitHub Actions identity token (${(err as Error).message})`, { cause: err });
  }
  if (!res.ok) throw new InputError('TOKEN_REQUEST_FAILED', `GitHub Actions refused the identity token request (HTTP ${res.status})`);
  const body = (await res.json()) as { value?: unknown };
  if (typeof body.value !== 'string') throw new InputError('TOKEN_REQUEST_FAILED', 'GitHub Actions answered without a token');
  return body.value;
}
