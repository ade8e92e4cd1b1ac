import { signModel, signResultJson } from '@modelseal/core';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { printJson, printWarnings } from '../output.js';
import { progressBar } from '../progress.js';
import { addSignerOptions, signerFromFlags, type SignerFlags } from '../signer-options.js';

interface Flags extends HashFlags, SignerFlags {
  signature?: string;
  json?: boolean;
}

export function signCommand(): Command {
  return addSignerOptions(
    addHashOptions(
      new Command('sign')
        .description('hash a model and sign its manifest (Sigstore bundle, OMS format)')
        .argument('<model>', 'model folder, single file, or tarball'),
    ),
  )
    .option('--signature <file>', 'where to write the signature (default: model.sig in the folder, <file>.sig beside a file)')
    .action(async (model: string, flags: Flags) => {
      const { signer, describe } = await signerFromFlags(flags);
      const bar = progressBar(flags.quiet ?? false);
      const r = await signModel(model, {
        signer,
        hash: { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) },
        ...(flags.signature ? { signaturePath: flags.signature } : {}),
      }).finally(() => bar?.done());
      if (flags.json) {
        printJson(signResultJson(r, describe(r.bundle)));
        return;
      }
      printWarnings(r.warnings);
      process.stderr.write(`signed ${r.manifest.modelName} (${r.manifest.resources.length} resources) -> ${r.signaturePath}\n`);
      process.stdout.write(`${r.manifest.rootDigest}\n`);
    });
}
