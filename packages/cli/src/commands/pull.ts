import { PolicyVerdictError } from '@modelseal/core/internals';
import { modelJson, signerJson, OUTPUT_VERSION, type PolicyReport } from '@modelseal/core/internals';
import { pullModel } from '@modelseal/core/oci';
import { attachDetails } from '../output.js';
import { Command } from 'commander';
import { progressBar } from '../progress.js';
import { addRegistryOptions, addTrustOptions, registryOptionsFrom, trustOrPolicy, withInterrupt, type RegistryFlags, type TrustFlags } from '../oci-options.js';

interface Flags extends RegistryFlags, TrustFlags {
  json?: boolean;
  quiet?: boolean;
}

export function printPolicyLines(r: PolicyReport): string {
  return r.rules.map((x) => `${x.ok ? 'PASS' : 'FAIL'}  ${x.rule}: ${x.detail}`).join('\n') + '\n';
}

export function pullCommand(): Command {
  return addTrustOptions(
    addRegistryOptions(
      new Command('pull')
        .description('pull a model from an OCI registry into a new folder, verified: nothing is left at <dir> unless the signature (and policy) hold')
        .argument('<reference>', 'registry/repository:tag or @sha256:... (oci:// prefix optional)')
        .argument('<dir>', 'destination folder (must not exist)'),
    ),
  )
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress bar')
    .action(async (reference: string, dir: string, f: Flags) => {
      try {
        const registry = await registryOptionsFrom(f);
        const bar = progressBar(f.quiet ?? false);
        const r = await withInterrupt((signal) => pullModel(reference, dir, { ...registry, ...trustOrPolicy(f), signal, ...(bar ? { onProgress: bar.onProgress } : {}) })).finally(() => bar?.done());
        if (f.json) {
          const { verified, policy, ...rest } = r;
          process.stdout.write(
            JSON.stringify(
              { version: OUTPUT_VERSION, command: 'pull', ok: true, ...rest, ...(verified ? { model: modelJson(verified.manifest, verified.manifestDigest), signer: signerJson(verified.signer) } : {}), ...(policy ? { policy } : {}), warnings: r.skipped.map((p) => `${p}: not written (outside the signed files)`) },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        if (r.policy) process.stdout.write(printPolicyLines(r.policy));
        for (const p of r.skipped) process.stderr.write(`modelseal: warning: ${p}: not written (outside the signed files)\n`);
        process.stderr.write(`pulled ${r.reference}@${r.digest}: ${r.files} files, ${r.bytes} bytes, verified -> ${r.destination}\n`);
        process.stdout.write(`${r.destination}\n`);
      } catch (err) {
        if (!f.json && err instanceof PolicyVerdictError) process.stdout.write(printPolicyLines(err.report));
        attachDetails(err, { reference, ...(err instanceof PolicyVerdictError ? { policy: err.report } : {}) });
        throw err;
      }
    });
}
