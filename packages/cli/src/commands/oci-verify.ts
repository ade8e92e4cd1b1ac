import { PolicyVerdictError } from '@modelseal/core/internals';
import { InputError, modelJson, signerJson, OUTPUT_VERSION } from '@modelseal/core/internals';
import { clientFor, fetchModelManifest, listOciAttestations, verifyOci, type VerifyOciResult } from '@modelseal/core/oci';
import { attachDetails } from '../output.js';
import { progressBar } from '../progress.js';
import { registryOptionsFrom, trustOrPolicy, withInterrupt, type RegistryFlags, type TrustFlags } from '../oci-options.js';
import { printPolicyLines } from './pull.js';

/** Flags `verify` gains for oci:// models (the rest of verify's flags are shared). */
export interface OciVerifyFlags extends RegistryFlags, TrustFlags {
  json?: boolean;
  quiet?: boolean;
  download?: boolean;
  signature?: string;
  attestations?: string;
  ignorePaths?: string[];
  ignoreUnsignedFiles?: boolean;
}

function describe(r: VerifyOciResult): string {
  const v = r.verified;
  const head = v ? `verified ${r.reference}@${r.digest}: ${v.modelName} sha256:${v.rootDigest}, ${v.manifest.resources.length} resources, signature ${r.signature}` : `verified ${r.reference}@${r.digest}`;
  return `${head}\nproves: ${r.proves}\n${r.doesNotProve ? `does not prove: ${r.doesNotProve}\n` : ''}`;
}

/** `modelseal verify oci://...`: called from verify's action when the model is a registry reference. */
export async function verifyOciCommandAction(reference: string, f: OciVerifyFlags): Promise<void> {
  try {
    for (const [flag, set] of [['--signature', f.signature], ['--attestations', f.attestations], ['--ignore-paths', f.ignorePaths], ['--ignore-unsigned-files', f.ignoreUnsignedFiles]] as const) {
      if (set) throw new InputError('BAD_OPTION', `${flag} does not apply to oci:// models (the signature and attestations are referrers)`);
    }
    const registry = await registryOptionsFrom(f);
    const bar = f.download === false ? undefined : progressBar(f.quiet ?? false);
    const r = await withInterrupt((signal) => verifyOci(reference, { ...registry, ...trustOrPolicy(f), signal, ...(f.download === false ? { noDownload: true } : {}), ...(bar ? { onProgress: bar.onProgress } : {}) })).finally(() => bar?.done());
    if (f.json) {
      const { verified, ...rest } = r;
      process.stdout.write(
        JSON.stringify({ version: OUTPUT_VERSION, command: 'verify', ok: true, ...rest, ...(verified ? { model: modelJson(verified.manifest, verified.manifestDigest), signer: signerJson(verified.signer) } : {}), warnings: [] }, null, 2) + '\n',
      );
      return;
    }
    if (r.policy) process.stdout.write(printPolicyLines(r.policy));
    process.stdout.write(describe(r));
  } catch (err) {
    if (!f.json && err instanceof PolicyVerdictError) process.stdout.write(printPolicyLines(err.report));
    attachDetails(err, { reference, ...(err instanceof PolicyVerdictError ? { policy: err.report } : {}) });
    throw err;
  }
}

/** `modelseal attestations list oci://...`: what the referrers say they are (unverified). */
export async function listOciCommandAction(reference: string, f: RegistryFlags & { json?: boolean }): Promise<void> {
  try {
    const client = clientFor(reference, await registryOptionsFrom(f));
    const model = await fetchModelManifest(client);
    const rows = await listOciAttestations(client, model.digest);
    if (f.json) {
      process.stdout.write(JSON.stringify({ version: OUTPUT_VERSION, command: 'attestations list', ok: true, reference: model.reference, digest: model.digest, attestations: rows, warnings: [] }, null, 2) + '\n');
      return;
    }
    if (rows.length === 0) process.stdout.write(`no referrers for ${model.reference}@${model.digest}\n`);
    for (const r of rows) process.stdout.write(r.error ? `${r.where}: unreadable: ${r.error} [${r.code}]\n` : `${r.where}: ${r.predicateType}\n`);
  } catch (err) {
    attachDetails(err, { reference });
    throw err;
  }
}
