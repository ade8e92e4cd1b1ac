import { keySigner, loadCertificates, loadPrivateKey, signModel, InputError } from '@modelseal/core';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { keyPassphrase } from '../passphrase.js';
import { progressBar } from '../progress.js';

interface Flags extends HashFlags {
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
    .option('--key <file>', 'PEM private key (PKCS#8; encrypted keys read MODELSEAL_KEY_PASSWORD or ask on the terminal)')
    .option('--certificate-chain <pem...>', 'signing certificate first, then intermediates (certificate method)')
    .option('--signature <file>', 'where to write the signature (default: model.sig in the folder, <file>.sig beside a file)')
    .action(async (model: string, flags: Flags) => {
      if (!flags.key) throw new InputError('MISSING_KEY', 'sign needs --key (keyless signing is not available yet)');
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
      const bar = progressBar(flags.quiet ?? false);
      const r = await signModel(model, {
        signer: keySigner(key.key, chain),
        hash: { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) },
        ...(flags.signature ? { signaturePath: flags.signature } : {}),
      }).finally(() => bar?.done());
      process.stderr.write(`signed ${r.manifest.modelName} (${r.manifest.resources.length} resources) -> ${r.signaturePath}\n`);
      process.stdout.write(`${r.manifest.rootDigest}\n`);
    });
}
