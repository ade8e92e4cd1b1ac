import { hashModel, hashPart, parsePartSpec, toOmsStatement, toPartialManifestJson, writeFileAtomic } from '@modelseal/core';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { progressBar } from '../progress.js';

interface Flags extends HashFlags {
  output?: string;
  json?: boolean;
  part?: string;
}

export function hashCommand(): Command {
  return addHashOptions(
    new Command('hash')
      .description('hash a model (folder, file, or .tar/.tar.gz) into an OMS manifest and print its root digest')
      .argument('<model>', 'model folder, single file, or tarball'),
  )
    .option('-o, --output <file>', 'write the manifest (OMS in-toto statement) to this file')
    .option('--json', 'print the manifest (OMS in-toto statement) instead of the digest')
    .option('--part <I/N>', 'hash only part I of N (distributed hashing; best with --method shards) and write a partial manifest for `modelseal manifest merge`')
    .action(async (model: string, flags: Flags) => {
      const bar = progressBar(flags.quiet ?? false);
      const opts = { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) };
      if (flags.part !== undefined) {
        const part = await hashPart(model, parsePartSpec(flags.part), opts).finally(() => bar?.done());
        const text = JSON.stringify(toPartialManifestJson(part), null, 2) + '\n';
        if (flags.output) writeFileAtomic(flags.output, text);
        if (flags.json || !flags.output) process.stdout.write(text);
        else process.stderr.write(`part ${part.part.index}/${part.part.count}: ${part.resources.length} resources of ${part.files.length} files -> ${flags.output}\n`);
        return;
      }
      const manifest = await hashModel(model, opts).finally(() => bar?.done());
      const statement = JSON.stringify(toOmsStatement(manifest), null, 2) + '\n';
      if (flags.output) writeFileAtomic(flags.output, statement);
      process.stdout.write(flags.json ? statement : `${manifest.rootDigest}\n`);
    });
}
