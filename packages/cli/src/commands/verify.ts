import { evaluatePolicy, loadPolicy, VerificationError, type PolicyReport, loadTrustedRoot, trustFromSpec, verifyModel, InputError, ModelMismatchError, type TrustSpec, type VerifyResult } from '@modelseal/core';
import { Command } from 'commander';
import { progressBar } from '../progress.js';
import { addOciVerifyOptions, verifyOciCommandAction } from './oci-verify.js';

/** The keyless flags are named as IdentityPolicy's fields, so they pass straight through. */
interface Flags extends TrustSpec {
  signature?: string;
  ignorePaths?: string[];
  ignoreUnsignedFiles?: boolean;
  json?: boolean;
  quiet?: boolean;
  policy?: string;
  stage?: string;
  attestations?: string;
}

function printReport(r: PolicyReport, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const lines = r.rules.map((x) => {
    const head = `${x.ok ? 'PASS' : 'FAIL'}  ${x.rule}: ${x.detail}`;
    const sub = (x.items ?? []).map((i) => `        ${i.counted ? '+' : '-'} ${i.why}  [${i.file}]`);
    return [head, ...sub].join('\n');
  });
  process.stdout.write(`${lines.join('\n')}\n${r.ok ? 'VERDICT: pass' : 'VERDICT: fail'}${r.model ? ` (${r.model.name} sha256:${r.model.rootDigest})` : ''}\n`);
}

function describe(r: VerifyResult): string {
  const s = r.signer;
  const who =
    s.kind === 'key'
      ? `key ${s.fingerprint} (${s.keyType})`
      : s.kind === 'certificate'
        ? `certificate "${s.subject}" via ${s.chain.slice(1).map((c) => `"${c}"`).join(' -> ')}`
        : `${s.identity.subjectAlternativeName} (issuer ${s.identity.issuer}${s.signedAt ? `, logged ${new Date(Number(s.signedAt) * 1000).toISOString()}` : ''})`;
  return `verified ${r.modelName}: sha256:${r.rootDigest}, ${r.manifest.resources.length} resources, signed by ${who}\n`;
}

export function verifyCommand(): Command {
  return addOciVerifyOptions(new Command('verify'))
    .description('verify a model against its signature: exit 0 verified, 1 not verified, 2 bad input')
    .argument('<model>', 'model folder, single file, tarball, or oci://registry/repository:tag')
    .option('--signature <file>', 'signature file (default: model.sig in the folder, <file>.sig beside a file)')
    .option('--key <pem>', 'trusted public key')
    .option('--certificate-chain <pem...>', 'trusted root CA certificate(s)')
    .option('--identity <id>', 'keyless: the signer identity (certificate SAN: email or URI), exact')
    .option('--identity-regexp <re>', 'keyless: the signer identity, as a regular expression anchored at both ends')
    .option('--issuer <url>', 'keyless: the OIDC issuer, exact')
    .option('--issuer-regexp <re>', 'keyless: the OIDC issuer, as an anchored regular expression')
    .option('--github-repository <owner/repo>', 'keyless: the GitHub repository the signing workflow ran in')
    .option('--github-ref <ref>', 'keyless: the git ref it ran on (refs/heads/main, refs/tags/v1)')
    .option('--github-workflow <path>', 'keyless: the signing workflow (.github/workflows/release.yml or owner/repo/.github/workflows/release.yml)')
    .option('--trusted-root <file>', 'keyless: Sigstore trusted_root.json (default: the public-good root shipped with modelseal)')
    .option('--ignore-paths <paths...>', 'paths to leave out, on top of those the signature records')
    .option('--ignore-unsigned-files', 'hash only the files the signature names (extra files are allowed)')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress bar')
    .option('--policy <file>', 'release policy (YAML or JSON): signers, provenance, approvals; prints one line per rule')
    .option('--stage <stage>', 'with --policy: check only this stage\'s approvals')
    .option('--attestations <dir>', 'with --policy: where attestations are kept (default: <model>.attestations)')
    .action(async (model: string, flags: Flags) => {
      if (model.startsWith('oci://')) return verifyOciCommandAction(model, flags);
      if (flags.policy) {
        if (flags.key || flags.certificateChain || flags.identity || flags.identityRegexp) {
          throw new InputError('BAD_OPTION', '--policy names the trusted signers itself; drop --key/--certificate-chain/--identity');
        }
        const policy = loadPolicy(flags.policy);
        const report = await evaluatePolicy(model, policy, {
          ...(flags.stage ? { stage: flags.stage } : {}),
          ...(flags.signature ? { signaturePath: flags.signature } : {}),
          ...(flags.attestations ? { attestationsDir: flags.attestations } : {}),
          ...(flags.trustedRoot ? { trustedRoot: loadTrustedRoot(flags.trustedRoot) } : {}),
        });
        printReport(report, flags.json ?? false);
        if (!report.ok) {
          const failed = report.rules.filter((x) => !x.ok).map((x) => x.rule);
          throw new VerificationError('POLICY_FAILED', `policy ${flags.policy}: ${failed.length} rule(s) failed: ${failed.join(', ')}`);
        }
        return;
      }
      const trust = trustFromSpec(flags);
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
