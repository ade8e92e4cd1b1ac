import { hashModel, toOmsStatement, writeFileAtomic } from '@modelseal/core';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { progressBar } from '../progress.js';

interface Flags extends HashFlags {
  output?: string;
  json?: boolean;
}

export function hashCommand(): Command {
  return addHashOptions(
    new Command('hash')
      .description('hash a model (folder, file, or .tar/.tar.gz) into an OMS manifest and print its root digest')
      .argument('<model>', 'model folder, single file, or tarball'),
  )
    .option('-o, --output <file>', 'write the manifest (OMS in-toto statement) to this file')
    .option('--json', 'print the manifest (OMS in-toto statement) instead of the digest')
    .action(async (model: string, flags: Flags) => {
      const bar = progressBar(flags.quiet ?? false);
      const manifest = await hashModel(model, { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) }).finally(() => bar?.done());
      const statement = JSON.stringify(toOmsStatement(manifest), null, 2) + '\n';
      if (flags.output) writeFileAtomic(flags.output, statement);
      process.stdout.write(flags.json ? statement : `${manifest.rootDigest}\n`);
    });
}
