import { hashModelDetailed, hashPart, hashResultJson, OUTPUT_VERSION, parsePartSpec, toOmsStatement, toPartialManifestJson, writeFileAtomic } from '@modelseal/core/internals';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { printJson, printWarnings } from '../output.js';
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
    .option('-o, --output <file>', 'write the manifest (the OMS in-toto statement; with --part, the partial manifest) to this file')
    .option('--part <I/N>', 'hash only part I of N (distributed hashing; best with --method shards) and write a partial manifest for `modelseal manifest merge`')
    .action(async (model: string, flags: Flags) => {
      const bar = progressBar(flags.quiet ?? false);
      const opts = { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) };
      if (flags.part !== undefined) {
        const part = await hashPart(model, parsePartSpec(flags.part), opts).finally(() => bar?.done());
        const partial = toPartialManifestJson(part);
        if (flags.output) writeFileAtomic(flags.output, JSON.stringify(partial, null, 2) + '\n');
        if (flags.json) printJson({ version: OUTPUT_VERSION, command: 'hash', ok: true, part: { index: part.part.index, count: part.part.count }, partialManifest: partial, warnings: [] });
        else if (!flags.output) printJson(partial);
        else process.stderr.write(`part ${part.part.index}/${part.part.count}: ${part.resources.length} resources of ${part.files.length} files -> ${flags.output}\n`);
        return;
      }
      const d = await hashModelDetailed(model, opts).finally(() => bar?.done());
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
