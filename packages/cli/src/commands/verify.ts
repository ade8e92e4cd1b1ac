import {
  appendAuditEvent, hasTrust, InputError, loadPolicy, loadTrustedRoot, PolicyVerdictError, policyReportJson, printable, trustFromSpec, verifyModelAudited, verifyResultJson,
  type AuditedVerifyOptions, type PolicyReport, type TrustSpec, type VerifyResult,
} from '@modelseal/core/internals';
import { Command } from 'commander';
import { attachDetails, collect, printJson, printWarnings } from '../output.js';
import { progressBar } from '../progress.js';
import { addTrustOptions } from '../trust-flags.js';
import { addOciVerifyOptions } from '../oci-options.js';

/** The keyless flags are named as IdentityPolicy's fields, so they pass straight through. */
interface Flags extends TrustSpec {
  cache?: string;
  auditLog?: string;
  signature?: string;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  ignoreUnsignedFiles?: boolean;
  json?: boolean;
  quiet?: boolean;
  policy?: string;
  stage?: string;
  attestations?: string;
}

function printReport(r: PolicyReport): void {
  const lines = r.rules.map((x) => {
    const head = `${x.ok ? 'PASS' : 'FAIL'}  ${x.rule}: ${printable(x.detail)}`;
    const sub = (x.items ?? []).map((i) => `        ${i.counted ? '+' : '-'} ${printable(i.why)}  [${printable(i.file)}]`);
    return [head, ...sub].join('\n');
  });
  const model = r.model ? ` (${printable(r.model.name)} sha256:${r.model.digest.sha256})` : '';
  process.stdout.write(`${lines.join('\n')}\n${r.ok ? 'VERDICT: pass' : 'VERDICT: fail'}${model}\n`);
}

function describe(r: VerifyResult): string {
  const s = r.signer;
  const who =
    s.kind === 'key'
      ? `key ${s.fingerprint} (${s.keyType})`
      : s.kind === 'certificate'
        ? `certificate "${s.subject}" via ${s.chain.slice(1).map((c) => `"${c}"`).join(' -> ')}`
        : `${s.identity.subjectAlternativeName} (issuer ${s.identity.issuer}${s.signedAt ? `, logged ${new Date(Number(s.signedAt) * 1000).toISOString()}` : ''})`;
  return printable(`verified ${r.modelName}: sha256:${r.rootDigest}, ${r.manifest.resources.length} resources, signed by ${who}`) + '\n';
}

/** Flags that only plain verification uses: with --policy they would be silently ignored, so they are refused. */
const PLAIN_ONLY: Array<[keyof Flags, string]> = [
  ['ignorePaths', '--ignore-paths'],
  ['ignoreUnsignedFiles', '--ignore-unsigned-files'],
];

/** What `verify` asks of core: a trust or a policy, the cache and the audit log, from the flags. */
function auditedOptions(flags: Flags, bar: ReturnType<typeof progressBar>): AuditedVerifyOptions {
  const o: AuditedVerifyOptions = {
    ...(flags.signature ? { signaturePath: flags.signature } : {}),
    ...(flags.cache ? { cache: { dir: flags.cache } } : {}),
    ...(flags.auditLog ? { onAudit: (e) => appendAuditEvent(flags.auditLog!, e) } : {}),
    ...(bar ? { onProgress: bar.onProgress } : {}),
  };
  if (flags.policy) {
    if (hasTrust(flags)) throw new InputError('BAD_OPTION', '--policy names the trusted signers itself; drop --key/--certificate-chain/--identity/--issuer/--github-*');
    for (const [k, name] of PLAIN_ONLY) if (flags[k] !== undefined) throw new InputError('BAD_OPTION', `${name} does not apply with --policy (the policy decides what is verified)`);
    if (flags.ignoreGitPaths === false) throw new InputError('BAD_OPTION', '--no-ignore-git-paths does not apply with --policy');
    if (flags.cache) throw new InputError('BAD_OPTION', '--cache does not apply with --policy (the policy evaluation hashes the model itself)');
    return {
      ...o,
      policy: loadPolicy(flags.policy),
      ...(flags.stage ? { stage: flags.stage } : {}),
      ...(flags.attestations ? { attestationsDir: flags.attestations } : {}),
      ...(flags.trustedRoot ? { trustedRoot: loadTrustedRoot(flags.trustedRoot) } : {}),
    };
  }
  if (flags.stage !== undefined) throw new InputError('BAD_OPTION', '--stage applies with --policy only');
  if (flags.attestations !== undefined) throw new InputError('BAD_OPTION', '--attestations applies with --policy only');
  return {
    ...o,
    trust: trustFromSpec(flags),
    ignorePaths: flags.ignorePaths ?? [],
    ...(flags.ignoreGitPaths === false ? { ignoreGitPaths: false } : {}),
    ...(flags.ignoreUnsignedFiles ? { ignoreUnsignedFiles: true } : {}),
  };
}

async function verifyAction(model: string, flags: Flags): Promise<void> {
  const bar = progressBar(flags.quiet ?? false);
  const o = auditedOptions(flags, bar);
  let r;
  try {
    r = await verifyModelAudited(model, o).finally(() => bar?.done());
  } catch (err) {
    if (err instanceof PolicyVerdictError) {
      if (!flags.json) printReport(err.report);
      const { error: _e, ok: _o, ...details } = policyReportJson(err.report);
      attachDetails(err, details);
    }
    throw err;
  }
  if (r.policy) {
    if (flags.json) printJson(policyReportJson(r.policy));
    else {
      printWarnings(r.warnings);
      printReport(r.policy);
    }
    return;
  }
  if (flags.json) printJson(verifyResultJson(r));
  else {
    printWarnings(r.warnings);
    process.stdout.write(describe(r));
  }
}

export function verifyCommand(): Command {
  return addTrustOptions(addOciVerifyOptions(new Command('verify')))
    .description('verify a model against its signature (or a release policy): exit 0 verified, 1 not verified, 2 bad input')
    .argument('<model>', 'model folder, single file, tarball, oci://registry/repository:tag, or hf://org/name[@rev] (local Hugging Face cache)')
    .option('--signature <file>', 'signature file (default: model.sig in the folder, <file>.sig beside a file)')
    .option('--ignore-paths <path>', 'a path to leave out, on top of those the signature records; repeatable', collect)
    .option('--no-ignore-git-paths', 'for signatures that record no ignore paths (model_signing < 1.1): do not leave out .git* files')
    .option('--ignore-unsigned-files', 'allow files the signature does not name (they are listed, never read)')
    .option('--json', 'print the result as one JSON object (also on failure)')
    .option('-q, --quiet', 'no progress bar')
    .option('--policy <file>', 'release policy (YAML or JSON): signers, provenance, approvals; prints one line per rule')
    .option('--stage <stage>', "with --policy: check only this stage's approvals")
    .option('--attestations <dir>', 'with --policy: where attestations are kept (default: <model>.attestations)')
    .option('--cache <dir>', 'verification cache: unchanged files are not hashed again (the signature is checked every time; keep the folder as protected as the model)')
    .option('--audit-log <file>', 'append one JSON line per verification (success or failure) to this file')
    .action(async (model: string, flags: Flags) => {
      // The registry client (node:http/https/tls) is loaded only for oci:// models.
      if (model.startsWith('oci://')) return (await import('./oci-verify.js')).verifyOciCommandAction(model, flags);
      return verifyAction(model, flags);
    });
}
