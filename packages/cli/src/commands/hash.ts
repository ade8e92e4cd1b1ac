import { hashModelDetailed, hashResultJson, toOmsStatement, writeFileAtomic } from '@modelseal/core';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { printJson, printWarnings } from '../output.js';
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
    .option('-o, --output <file>', 'write the manifest (the OMS in-toto statement) to this file')
    .action(async (model: string, flags: Flags) => {
      const bar = progressBar(flags.quiet ?? false);
      const d = await hashModelDetailed(model, { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) }).finally(() => bar?.done());
      const statement = toOmsStatement(d.manifest);
      if (flags.output) writeFileAtomic(flags.output, JSON.stringify(statement, null, 2) + '\n');
      const warnings = d.emptyFiles.map((f) => `not covered by a shard manifest: empty file ${f} (the OMS format gives empty files no shard)`);
      if (flags.json) printJson(hashResultJson(d.manifest, statement, warnings));
      else {
        printWarnings(warnings);
        process.stdout.write(`${d.manifest.rootDigest}\n`);
      }
    });
}
