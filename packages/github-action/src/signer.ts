import { InputError, keylessSigner, keySigner, loadPrivateKey, PUBLIC_GOOD, resolveIdentityToken, type Signer } from '@modelseal/core/internals';
import type { ActionInputs } from './inputs.js';
import type { KeyFiles } from './key-material.js';

/**
 * Keyless signing in Actions uses the job's OIDC token, which exists only
 * when the job has `permissions: id-token: write`. Checked first, so a
 * missing permission fails in a second, not after hashing a large model.
 */
export function requireIdTokenPermission(env: NodeJS.ProcessEnv): void {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new InputError(
      'MISSING_ID_TOKEN_PERMISSION',
      'keyless signing needs the workflow\'s OIDC token, but ACTIONS_ID_TOKEN_REQUEST_URL is not set: add "permissions: id-token: write" to the job',
    );
  }
}

/** The same signers as the CLI's --key / --keyless, from action inputs. */
export async function signerFromInputs(i: ActionInputs, keys: KeyFiles, mask: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  if (i.keyless) {
    requireIdTokenPermission(env);
    const token = await resolveIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: env.ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.ACTIONS_ID_TOKEN_REQUEST_TOKEN } });
    mask(token);
    return keylessSigner({
      identityToken: token,
      fulcioURL: i.fulcioUrl ?? PUBLIC_GOOD.fulcioURL,
      rekorURL: i.rekorUrl ?? PUBLIC_GOOD.rekorURL,
      ...(i.rekorEntryType ? { rekorEntryType: i.rekorEntryType } : {}),
    });
  }
  if (!i.key) throw new InputError('MISSING_KEY', 'a signer is needed: key or keyless: true');
  const password = i.keyPassword ?? env.MODELSEAL_KEY_PASSWORD;
  if (password) mask(password);
  const file = keys.path(i.key, { secret: true });
  return keySigner(loadPrivateKey(file, password).key);
}
