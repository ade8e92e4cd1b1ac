import { homedir } from 'node:os';
import path from 'node:path';
import { refreshTrustedRoot, serializeTrustedRoot, writeFileAtomic } from '@modelseal/core/internals';
import { Command } from 'commander';

function defaultCache(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'modelseal', 'tuf');
}

export function trustCommand(): Command {
  const trust = new Command('trust').description('Sigstore trust material for keyless verification');
  trust
    .command('refresh')
    .description('fetch the current trusted root through TUF (network) and write it for --trusted-root')
    .requiredOption('--out <file>', 'where to write trusted_root.json')
    .option('--tuf-url <url>', 'TUF repository (default: public-good Sigstore)')
    .option('--tuf-root <file>', "the repository's initial root.json (needed for any repository but public-good)")
    .option('--cache <dir>', 'TUF metadata cache', defaultCache())
    .action(async (flags: { out: string; tufUrl?: string; tufRoot?: string; cache: string }) => {
      const root = await refreshTrustedRoot({
        cachePath: flags.cache,
        ...(flags.tufUrl ? { mirrorURL: flags.tufUrl } : {}),
        ...(flags.tufRoot ? { rootPath: flags.tufRoot } : {}),
      });
      writeFileAtomic(flags.out, serializeTrustedRoot(root));
      process.stderr.write(`wrote ${flags.out}: ${root.certificateAuthorities.length} CAs, ${root.tlogs.length} logs, ${root.timestampAuthorities.length} TSAs\n`);
    });
  return trust;
}
