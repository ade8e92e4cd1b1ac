import { defaultSignStateDir, InputError, signModelIncremental, signPrecomputed, signResultJson, trustFromSpec, type ReuseFrom, type Signer, type Trust } from '@modelseal/core/internals';
import { Command } from 'commander';
import { addHashOptions, hashOptionsFrom, type HashFlags } from '../options.js';
import { collect, printJson, printWarnings } from '../output.js';
import { progressBar } from '../progress.js';
import { addSignerOptions, signerFromFlags, type SignerFlags } from '../signer-options.js';

interface Flags extends HashFlags, SignerFlags {
  signature?: string;
  json?: boolean;
  manifest?: string;
  reuseFrom?: string;
  reuseKey?: string;
  reuseCertificateChain?: string[];
  reuseIdentity?: string;
  reuseIssuer?: string;
  reuseTrustedRoot?: string;
}

const HASH_FLAGS = ['hash', 'method', 'shardSize', 'ignorePaths', 'ignoreGitPaths', 'allowSymlinks'] as const;
const REUSE_TRUST_FLAGS = ['reuseKey', 'reuseCertificateChain', 'reuseIdentity', 'reuseIssuer', 'reuseTrustedRoot'] as const;

/** Who must have made the old signature: the --reuse-* trust flags, else the signer's own public key. */
function reuseTrust(flags: Flags, signer: Signer): Trust {
  if (REUSE_TRUST_FLAGS.some((k) => flags[k] !== undefined)) {
    return trustFromSpec({
      ...(flags.reuseKey !== undefined ? { key: flags.reuseKey } : {}),
      ...(flags.reuseCertificateChain ? { certificateChain: flags.reuseCertificateChain } : {}),
      ...(flags.reuseIdentity !== undefined ? { identity: flags.reuseIdentity } : {}),
      ...(flags.reuseIssuer !== undefined ? { issuer: flags.reuseIssuer } : {}),
      ...(flags.reuseTrustedRoot !== undefined ? { trustedRoot: flags.reuseTrustedRoot } : {}),
    });
  }
  if (flags.certificateChain?.length) {
    throw new InputError('MISSING_TRUST', '--reuse-from with --certificate-chain: the old signature carries a certificate; say which CAs to trust with --reuse-certificate-chain CA.pem');
  }
  if (signer.publicKey) return { publicKey: signer.publicKey };
  throw new InputError('MISSING_TRUST', '--reuse-from with --keyless needs to know who made the old signature: --reuse-identity and --reuse-issuer (or --reuse-key / --reuse-certificate-chain)');
}

export function signCommand(): Command {
  return addSignerOptions(
    addHashOptions(
      new Command('sign')
        .description('hash a model and sign its manifest (Sigstore bundle, OMS format); or sign a manifest computed elsewhere (--manifest)')
        .argument('[model]', 'model folder, single file, or tarball (not with --manifest)'),
    ),
  )
    .option('--signature <file>', 'where to write the signature (default: model.sig in the folder, <file>.sig beside a file)')
    .option('--manifest <file>', 'sign this precomputed manifest (from `hash --output` or `manifest merge`) without reading the model: the signature then states that the model is what the manifest says, on the word of whoever computed it; needs --signature')
    .option('--reuse-from <sig>', 're-sign incrementally: verify this old signature (with your own key unless --reuse-* trust is given) and re-hash only files changed since it was made on this machine')
    .option('--reuse-key <pub>', '--reuse-from: the old signature was made with this public key')
    .option('--reuse-certificate-chain <pem>', '--reuse-from: the old signature was made with a certificate from these CAs; repeatable', collect)
    .option('--reuse-identity <id>', '--reuse-from: the old signature is keyless, by this identity (with --reuse-issuer)')
    .option('--reuse-issuer <url>', '--reuse-from: the OIDC issuer of the old keyless signature')
    .option('--reuse-trusted-root <file>', '--reuse-from: Sigstore trusted_root.json for the old keyless signature')
    .addHelpText(
      'after',
      `
With --manifest nothing of the model is read: the signer vouches that the model is what the manifest says.
Each sign of a folder or file records its files' states (device, inode, size, mtime, ctime) in
$MODELSEAL_STATE_DIR (default ~/.cache/modelseal/sign-state; "off" disables) so that a later
--reuse-from can tell unchanged files; a file not provably unchanged is always hashed again.`,
    )
    .action(async (model: string | undefined, flags: Flags, cmd: Command) => {
      if (flags.manifest !== undefined) {
        if (model !== undefined) throw new InputError('BAD_OPTION', '--manifest signs a manifest instead of a model: give no model path');
        if (!flags.signature) throw new InputError('BAD_OPTION', '--manifest needs --signature OUT (there is no model folder to put it in)');
        const set = HASH_FLAGS.filter((k) => cmd.getOptionValueSource(k) === 'cli');
        if (set.length > 0 || flags.reuseFrom !== undefined) throw new InputError('BAD_OPTION', '--manifest takes the serialization from the manifest: hashing and --reuse-from options do not apply');
        const { signer, describe } = await signerFromFlags(flags);
        const r = await signPrecomputed(flags.manifest, { signer, signaturePath: flags.signature });
        if (flags.json) {
          printJson(signResultJson(r, describe(r.bundle)));
          return;
        }
        process.stderr.write(`signed manifest of ${r.manifest.modelName} (${r.manifest.resources.length} resources, not read here) -> ${r.signaturePath}\n`);
        process.stdout.write(`${r.manifest.rootDigest}\n`);
        return;
      }
      if (model === undefined) throw new InputError('BAD_OPTION', 'give the model to sign, or --manifest FILE');
      if (flags.reuseFrom === undefined && REUSE_TRUST_FLAGS.some((k) => flags[k] !== undefined)) throw new InputError('BAD_OPTION', 'the --reuse-* trust options need --reuse-from OLD.sig');
      const { signer, describe } = await signerFromFlags(flags);
      const reuse: ReuseFrom | undefined = flags.reuseFrom !== undefined ? { signaturePath: flags.reuseFrom, trust: reuseTrust(flags, signer) } : undefined;
      const stateDir = defaultSignStateDir();
      const bar = progressBar(flags.quiet ?? false);
      const r = await signModelIncremental(model, {
        signer,
        hash: { ...hashOptionsFrom(flags), ...(bar ? { onProgress: bar.onProgress } : {}) },
        ...(flags.signature ? { signaturePath: flags.signature } : {}),
        ...(reuse ? { reuse } : {}),
        ...(stateDir ? { stateDir } : {}),
      }).finally(() => bar?.done());
      const warnings = [...r.warnings, ...(r.stateWarning ? [r.stateWarning] : []), ...(r.reuse?.note ? [r.reuse.note] : [])];
      if (flags.json) {
        printJson({ ...signResultJson({ ...r, warnings }, describe(r.bundle)), ...(r.reuse ? { reusedFiles: r.reuse.reusedFiles } : {}) });
        return;
      }
      printWarnings(warnings);
      if (r.reuse && !r.reuse.note) process.stderr.write(`reused the digests of ${r.reuse.reusedFiles} unchanged files from ${flags.reuseFrom}\n`);
      process.stderr.write(`signed ${r.manifest.modelName} (${r.manifest.resources.length} resources) -> ${r.signaturePath}\n`);
      process.stdout.write(`${r.manifest.rootDigest}\n`);
    });
}
