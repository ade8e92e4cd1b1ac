import { modelJson, OUTPUT_VERSION } from '@modelseal/core/internals';
import { pushModel } from '@modelseal/core/oci';
import { attachDetails } from '../output.js';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { progressBar } from '../progress.js';
import { addSignerOptions, signerFromFlags, type SignerFlags } from '../signer-options.js';
import { addRegistryOptions, registryOptionsFrom, type RegistryFlags } from '../oci-options.js';

interface Flags extends HashFlags, SignerFlags, RegistryFlags {
  attestations?: string;
  from?: string;
  json?: boolean;
}

export function pushCommand(): Command {
  return addRegistryOptions(
    addSignerOptions(
      addHashOptions(
        new Command('push')
          .description('push a signed model folder to an OCI registry (CNCF ModelPack, one layer per file), its signature and attestations as referrers')
          .argument('<model>', 'model folder')
          .argument('<reference>', 'registry/repository:tag (oci:// prefix optional)'),
      ),
    ),
  )
    .option('--attestations <dir>', 'attestation bundles to attach (default: <model>.attestations when it exists)')
    .option('--from <repository>', 'mount blobs from this repository of the same registry instead of uploading them')
    .action(async (model: string, reference: string, f: Flags) => {
      try {
        const registry = await registryOptionsFrom(f);
        const signer = f.key || f.keyless ? (await signerFromFlags(f)).signer : undefined;
        const bar = progressBar(f.quiet ?? false);
        const r = await pushModel(model, reference, {
          ...registry,
          ...(signer ? { signer, hash: hashOptionsFrom(f) } : {}),
          ...(f.attestations ? { attestationsDir: f.attestations } : {}),
          ...(f.from ? { from: f.from } : {}),
          ...(bar ? { onProgress: bar.onProgress } : {}),
        }).finally(() => bar?.done());
        if (f.json) {
          const { model: m, warnings, ...rest } = r;
          process.stdout.write(JSON.stringify({ version: OUTPUT_VERSION, command: 'push', ok: true, ...rest, model: modelJson(m), warnings }, null, 2) + '\n');
          return;
        }
        for (const w of r.warnings) process.stderr.write(`modelseal: warning: ${w}\n`);
        process.stderr.write(
          `pushed ${r.model.modelName}: ${r.layers} layers (${r.uploaded} uploaded, ${r.skipped} already there${r.mounted ? `, ${r.mounted} mounted` : ''}), ${r.referrers.length} referrer(s) -> ${r.reference}\n`,
        );
        process.stdout.write(`${r.digest}\n`);
      } catch (err) {
        attachDetails(err, { reference });
        throw err;
      }
    });
}
