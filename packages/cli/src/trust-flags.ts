import type { Command } from 'commander';
import { collect } from './output.js';

/**
 * The flags that say whom to trust, the same on every command that verifies
 * (verify, exec, pull): they map one to one onto core's TrustSpec.
 */
export function addTrustOptions(cmd: Command): Command {
  return cmd
    .option('--key <pem>', 'trusted public key')
    .option('--certificate-chain <pem>', 'trusted root CA certificate(s); repeatable', collect)
    .option('--identity <id>', 'keyless: the signer identity (certificate SAN: email or URI), exact')
    .option('--identity-regexp <re>', 'keyless: the signer identity, as a regular expression anchored at both ends')
    .option('--issuer <url>', 'keyless: the OIDC issuer, exact')
    .option('--issuer-regexp <re>', 'keyless: the OIDC issuer, as an anchored regular expression')
    .option('--github-repository <owner/repo>', 'keyless: the GitHub repository the signing workflow ran in')
    .option('--github-ref <ref>', 'keyless: the git ref it ran on (refs/heads/main, refs/tags/v1)')
    .option('--github-workflow <path>', 'keyless: the signing workflow (.github/workflows/release.yml or owner/repo/.github/workflows/release.yml)')
    .option('--trusted-root <file>', 'keyless: Sigstore trusted_root.json (default: the public-good root shipped with modelseal)');
}
