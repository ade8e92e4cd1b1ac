import { InputError, type HashOptions } from '@modelseal/core';
import { Option, type Command } from 'commander';
import { collect } from './output.js';

/** Parses 1000000, 64MiB, 1GB ... into bytes. */
export function parseBytes(s: string): number {
  const m = /^([0-9]+)\s*(|B|K|KB|KiB|M|MB|MiB|G|GB|GiB)$/i.exec(s.trim());
  if (!m) throw new InputError('BAD_OPTION', `"${s}" is not a byte count (e.g. 1000000000, 512MiB, 1GB)`);
  const unit = m[2]!.toLowerCase();
  const mult: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20, g: 1e9, gb: 1e9, gib: 1 << 30 };
  const n = Number(m[1]) * mult[unit]!;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InputError('BAD_OPTION', `"${s}" is not a positive byte count`);
  return n;
}

/** The hashing flags shared by hash, sign and verify. */
export function addHashOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--hash <type>', 'hash for each file or shard').choices(['sha256', 'blake2', 'blake3']).default('sha256'))
    .addOption(new Option('--method <method>', 'one digest per file, or per shard of each file').choices(['files', 'shards']).default('files'))
    .option('--shard-size <bytes>', 'shard size for --method shards (default 1000000000, as model_signing)')
    .option('--ignore-paths <path>', 'a path to leave out (relative to the model, or absolute inside it); a folder leaves out all below it; repeatable', collect)
    .option('--no-ignore-git-paths', 'hash .git, .gitattributes, .github and .gitignore too')
    .option('--allow-symlinks', 'follow symbolic links that stay inside the model folder')
    .option('-q, --quiet', 'no progress bar')
    .option('--json', 'print the result as one JSON object (also on failure)');
}

export interface HashFlags {
  hash: string;
  method: string;
  shardSize?: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  quiet?: boolean;
}

export function hashOptionsFrom(f: HashFlags): HashOptions {
  return {
    hashType: f.hash as HashOptions['hashType'],
    method: f.method as 'files' | 'shards',
    ...(f.shardSize !== undefined ? { shardSize: parseBytes(f.shardSize) } : {}),
    ignorePaths: f.ignorePaths ?? [],
    ignoreGitPaths: f.ignoreGitPaths,
    allowSymlinks: f.allowSymlinks ?? false,
  };
}
