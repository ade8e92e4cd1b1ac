import { mergePartialManifests, toOmsStatement, writeFileAtomic } from '@modelseal/core/internals';
import { Command } from 'commander';

interface MergeFlags {
  output?: string;
  json?: boolean;
}

export function manifestCommand(): Command {
  const cmd = new Command('manifest').description('work with manifests computed elsewhere');
  cmd
    .command('merge')
    .description('merge the partial manifests of `modelseal hash --part I/N` into the full manifest, after checking that every part is there once and that they agree; print its root digest')
    .argument('<parts...>', 'partial manifest files, one per part, in any order')
    .option('-o, --output <file>', 'write the manifest (OMS in-toto statement) to this file, ready for `modelseal sign --manifest`')
    .option('--json', 'print the manifest instead of the digest')
    .action((parts: string[], flags: MergeFlags) => {
      const manifest = mergePartialManifests(parts);
      const statement = JSON.stringify(toOmsStatement(manifest), null, 2) + '\n';
      if (flags.output) writeFileAtomic(flags.output, statement);
      process.stdout.write(flags.json ? statement : `${manifest.rootDigest}\n`);
    });
  return cmd;
}
