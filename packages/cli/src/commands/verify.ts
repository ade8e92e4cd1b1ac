import { checkIdentityPolicy, loadCertificates, loadPublicKey, loadTrustedRoot, publicGoodTrustedRoot, verifyModel, InputError, ModelMismatchError, type IdentityPolicy, type Trust, type VerifyResult } from '@modelseal/core';
import { Command } from 'commander';
import { progressBar } from '../progress.js';

/** The keyless flags are named as IdentityPolicy's fields, so they pass straight through. */
interface Flags extends IdentityPolicy {
  signature?: string;
  key?: string;
  certificateChain?: string[];
  ignorePaths?: string[];
  ignoreUnsignedFiles?: boolean;
  json?: boolean;
  quiet?: boolean;
  trustedRoot?: string;
}

function trustFrom(flags: Flags): Trust {
  const keyless = flags.identity ?? flags.identityRegexp ?? flags.issuer ?? flags.issuerRegexp;
  const kinds = [flags.key, flags.certificateChain, keyless].filter((x) => x !== undefined).length;
  if (kinds > 1) throw new InputError('BAD_OPTION', 'give one of --key, --certificate-chain, or --identity/--issuer (keyless)');
  if (flags.key) return { publicKey: loadPublicKey(flags.key).key };
  if (flags.certificateChain) return { certificateAuthorities: flags.certificateChain.flatMap((f) => loadCertificates(f)) };
  if (keyless !== undefined) {
    const keys = ['identity', 'identityRegexp', 'issuer', 'issuerRegexp', 'githubRepository', 'githubRef', 'githubWorkflow'] as const;
    const policy: IdentityPolicy = Object.fromEntries(keys.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
    checkIdentityPolicy(policy);
    return { sigstore: { trustedRoot: flags.trustedRoot ? loadTrustedRoot(flags.trustedRoot) : publicGoodTrustedRoot(), policy } };
  }
  throw new InputError('MISSING_TRUST', 'verify needs --key PUB, --certificate-chain CA_PEM, or --identity and --issuer (keyless)');
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
  return new Command('verify')
    .description('verify a model against its signature: exit 0 verified, 1 not verified, 2 bad input')
    .argument('<model>', 'model folder, single file, or tarball')
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
