import { bundleSignerJson, keylessSigner, keySigner, loadCertificates, loadPrivateKey, PUBLIC_GOOD, resolveIdentityToken, STAGING, InputError, type SerializedBundle, type Signer, type SignerJson } from '@modelseal/core/internals';
import { collect } from './output.js';
import { Option, type Command } from 'commander';
import { keyPassphrase } from './passphrase.js';

export interface SignerFlags {
  key?: string;
  certificateChain?: string[];
  keyless?: boolean;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
  rekorEntryType?: 'dsse' | 'intoto';
}

/** The signer flags shared by sign, attest and approve. */
export function addSignerOptions(cmd: Command): Command {
  return cmd
    .option('--key <file>', 'PEM private key (PKCS#8; encrypted keys read MODELSEAL_KEY_PASSWORD or ask on the terminal)')
    .option('--certificate-chain <pem>', 'signing certificate first, then intermediates (certificate method); repeatable', collect)
    .option('--keyless', 'sign with Sigstore: an OIDC identity, a Fulcio certificate and a Rekor entry (no key to manage)')
    .option('--identity-token <jwt>', 'keyless: OIDC token (default: SIGSTORE_ID_TOKEN, then the GitHub Actions token)')
    .option('--fulcio-url <url>', 'keyless: Fulcio instance (default public-good)')
    .option('--rekor-url <url>', 'keyless: Rekor instance (default public-good)')
    .option('--tsa-url <url>', 'keyless: also get an RFC 3161 timestamp from this TSA')
    .option('--staging', 'keyless: use the Sigstore staging instances')
    .addOption(new Option('--rekor-entry-type <type>', 'keyless: Rekor entry kind (intoto writes a v0.2 bundle, for Rekor deployments without dsse)').choices(['dsse', 'intoto']).default('dsse'));
}

/** A signer, and how to describe in JSON who signed a bundle it made. */
export interface FlagSigner {
  signer: Signer;
  describe: (bundle: SerializedBundle) => SignerJson;
}

export async function signerFromFlags(flags: SignerFlags): Promise<FlagSigner> {
  const signer = await makeSigner(flags);
  return { signer, describe: (b) => bundleSignerJson(b, signer.publicKey) };
}

async function makeSigner(flags: SignerFlags): Promise<Signer> {
  if (flags.keyless && flags.key) throw new InputError('BAD_OPTION', 'give either --key or --keyless, not both');
  if (flags.keyless) {
    const token = await resolveIdentityToken(flags.identityToken !== undefined ? { explicit: flags.identityToken } : {});
    const base = flags.staging ? STAGING : PUBLIC_GOOD;
    const tsa = flags.tsaUrl ?? (flags.staging ? STAGING.tsaURL : undefined);
    return keylessSigner({
      identityToken: token,
      fulcioURL: flags.fulcioUrl ?? base.fulcioURL,
      rekorURL: flags.rekorUrl ?? base.rekorURL,
      ...(tsa ? { tsaURL: tsa } : {}),
      ...(flags.rekorEntryType ? { rekorEntryType: flags.rekorEntryType } : {}),
    });
  }
  if (!flags.key) throw new InputError('MISSING_KEY', 'a signer is needed: --key KEY or --keyless');
  let key;
  try {
    key = loadPrivateKey(flags.key);
  } catch (e) {
    if ((e as InputError).code !== 'KEY_PASSWORD_REQUIRED') throw e;
    const pass = await keyPassphrase(`passphrase for ${flags.key}: `);
    if (pass === undefined) throw e;
    key = loadPrivateKey(flags.key, pass);
  }
  if (key.looseMode) process.stderr.write(`modelseal: warning: ${flags.key} is readable by group or others; chmod 600 it\n`);
  return keySigner(key.key, (flags.certificateChain ?? []).flatMap((f) => loadCertificates(f)));
}
