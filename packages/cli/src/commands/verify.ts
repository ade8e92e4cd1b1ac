import { loadCertificates, loadPublicKey, verifyModel, InputError, ModelMismatchError, type Trust, type VerifyResult } from '@modelseal/core';
import { Command } from 'commander';
import { progressBar } from '../progress.js';

interface Flags {
  signature?: string;
  key?: string;
  certificateChain?: string[];
  ignorePaths?: string[];
  ignoreUnsignedFiles?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function trustFrom(flags: Flags): Trust {
  if (flags.key && flags.certificateChain) throw new InputError('BAD_OPTION', 'give either --key or --certificate-chain, not both');
  if (flags.key) return { publicKey: loadPublicKey(flags.key).key };
  if (flags.certificateChain) return { certificateAuthorities: flags.certificateChain.flatMap((f) => loadCertificates(f)) };
  throw new InputError('MISSING_TRUST', 'verify needs --key PUB or --certificate-chain CA_PEM');
}

function describe(r: VerifyResult): string {
  const s = r.signer;
  const who = s.kind === 'key' ? `key ${s.fingerprint} (${s.keyType})` : `certificate "${s.subject}" via ${s.chain.slice(1).map((c) => `"${c}"`).join(' -> ')}`;
  return `verified ${r.modelName}: sha256:${r.rootDigest}, ${r.manifest.resources.length} resources, signed by ${who}\n`;
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('verify a model against its signature: exit 0 verified, 1 not verified, 2 bad input')
    .argument('<model>', 'model folder, single file, or tarball')
    .option('--signature <file>', 'signature file (default: model.sig in the folder, <file>.sig beside a file)')
    .option('--key <pem>', 'trusted public key')
    .option('--certificate-chain <pem...>', 'trusted root CA certificate(s)')
    .option('--ignore-paths <paths...>', 'paths to leave out, on top of those the signature records')
    .option('--ignore-unsigned-files', 'hash only the files the signature names (extra files are allowed)')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress bar')
    .action(async (model: string, flags: Flags) => {
      const trust = trustFrom(flags);
      const bar = progressBar(flags.quiet ?? false);
      try {
        const r = await verifyModel(model, {
          trust,
          ...(flags.signature ? { signaturePath: flags.signature } : {}),
          ignorePaths: flags.ignorePaths ?? [],
          ignoreUnsignedFiles: flags.ignoreUnsignedFiles ?? false,
          ...(bar ? { onProgress: bar.onProgress } : {}),
        }).finally(() => bar?.done());
        process.stdout.write(flags.json ? JSON.stringify({ verified: true, modelName: r.modelName, rootDigest: r.rootDigest, signer: r.signer }, null, 2) + '\n' : describe(r));
      } catch (err) {
        if (flags.json && err instanceof ModelMismatchError) {
          process.stdout.write(JSON.stringify({ verified: false, code: err.code, ...err.differences }, null, 2) + '\n');
        }
        throw err;
      }
    });
}
