import { keylessSigner, keySigner, loadCertificates, loadPrivateKey, PUBLIC_GOOD, resolveIdentityToken, signModel, STAGING, InputError, type Signer } from '@modelseal/core';
import { Command, Option } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { keyPassphrase } from '../passphrase.js';
import { progressBar } from '../progress.js';

interface Flags extends HashFlags {
  keyless?: boolean;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
  rekorEntryType?: 'dsse' | 'intoto';
  key?: string;
  certificateChain?: string[];
  signature?: string;
}

export function signCommand(): Command {
  return addHashOptions(
    new Command('sign')
      .description('hash a model and sign its manifest (Sigstore bundle, OMS format)')
      .argument('<model>', 'model folder, single file, or tarball'),
  )
    .option('--keyless', 'sign with Sigstore: an OIDC identity, a Fulcio certificate and a Rekor entry (no key to manage)')
    .option('--identity-token <jwt>', 'keyless: OIDC token (default: SIGSTORE_ID_TOKEN, then the GitHub Actions token)')
    .option('--fulcio-url <url>', 'keyless: Fulcio instance (default public-good)')
    .option('--rekor-url <url>', 'keyless: Rekor instance (default public-good)')
    .option('--tsa-url <url>', 'keyless: also get an RFC 3161 timestamp from this TSA')
    .option('--staging', 'keyless: use the Sigstore staging instances')
    .addOption(new Option('--rekor-entry-type <type>', 'keyless: Rekor entry kind (intoto writes a v0.2 bundle, for Rekor deployments without dsse)').choices(['dsse', 'intoto']).default('dsse'))
    .option('--key <file>', 'PEM private key (PKCS#8; encrypted keys read MODELSEAL_KEY_PASSWORD or ask on the terminal)')
    .option('--certificate-chain <pem...>', 'signing certificate first, then intermediates (certificate method)')
    .option('--signature <file>', 'where to write the signature (default: model.sig in the folder, <file>.sig beside a file)')
    .action(async (model: string, flags: Flags) => {
      if (flags.keyless && flags.key) throw new InputError('BAD_OPTION', 'give either --key or --keyless, not both');
      if (flags.keyless) {
        const token = await resolveIdentityToken(flags.identityToken !== undefined ? { explicit: flags.identityToken } : {});
        const base = flags.staging ? STAGING : PUBLIC_GOOD;
        const tsa = flags.tsaUrl ?? (flags.staging ? STAGING.tsaURL : undefined);
        const signer = keylessSigner({
          identityToken: token,
          fulcioURL: flags.fulcioUrl ?? base.fulcioURL,
          rekorURL: flags.rekorUrl ?? base.rekorURL,
          ...(tsa ? { tsaURL: tsa } : {}),
          ...(flags.rekorEntryType ? { rekorEntryType: flags.rekorEntryType } : {}),
        });
        return finish(model, flags, signer);
      }
      if (!flags.key) throw new InputError('MISSING_KEY', 'sign needs --key KEY or --keyless');
      let key = (() => {
        try {
          return loadPrivateKey(flags.key!);
        } catch (e) {
          if ((e as InputError).code !== 'KEY_PASSWORD_REQUIRED') throw e;
          return undefined;
        }
      })();
      if (!key) {
        const pass = await keyPassphrase(`passphrase for ${flags.key}: `);
        if (pass === undefined) throw new InputError('KEY_PASSWORD_REQUIRED', `${flags.key}: key is encrypted; set MODELSEAL_KEY_PASSWORD or run on a terminal to be asked`);
        key = loadPrivateKey(flags.key, pass);
      }
      if (key.looseMode) process.stderr.write(`modelseal: warning: ${flags.key} is readable by group or others; chmod 600 it\n`);
      const chain = (flags.certificateChain ?? []).flatMap((f) => loadCertificates(f));
      return finish(model, flags, keySigner(key.key, chain));
    });
}

async function finish(model: string, flags: Flags, signer: Signer): Promise<void> {
      const bar = progressBar(flags.quiet ?? false);
      const r = await signModel(model, {
        signer,
        hash: { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) },
        ...(flags.signature ? { signaturePath: flags.signature } : {}),
      }).finally(() => bar?.done());
      process.stderr.write(`signed ${r.manifest.modelName} (${r.manifest.resources.length} resources) -> ${r.signaturePath}\n`);
      process.stdout.write(`${r.manifest.rootDigest}\n`);
}
