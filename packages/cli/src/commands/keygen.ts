import { generateKeyPair, keyFingerprint, KEY_TYPES, loadPublicKey, OUTPUT_VERSION, spkiSha256, writeFileAtomic, InputError, type KeyType } from '@modelseal/core/internals';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { printJson } from '../output.js';
import { keyPassphrase, onTerminal } from '../passphrase.js';

/**
 * The private key's passphrase: MODELSEAL_KEY_PASSWORD when set; on a
 * terminal, asked twice (empty: unencrypted), as cosign offers; else none.
 */
async function newKeyPassphrase(): Promise<string | undefined> {
  if (process.env.MODELSEAL_KEY_PASSWORD !== undefined) return process.env.MODELSEAL_KEY_PASSWORD || undefined;
  if (!onTerminal()) return undefined;
  const first = await keyPassphrase('passphrase to encrypt the private key (empty: none): ', { ignoreEnv: true });
  if (!first) return undefined;
  const again = await keyPassphrase('again: ', { ignoreEnv: true });
  if (again !== first) throw new InputError('PASSPHRASE_MISMATCH', 'the two passphrases differ; nothing was written');
  return first;
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('generate a signing key pair: NAME.key (private, 0600; on a terminal you are offered to encrypt it) and NAME.pub')
    .addOption(new Option('--type <type>', 'ed25519 (modelseal-to-modelseal), or ECDSA for signatures other OMS tools verify').choices([...KEY_TYPES]).default('ed25519'))
    .requiredOption('--out <name>', 'file name prefix')
    .option('--json', 'print the result as one JSON object (also on failure)')
    .action(async (flags: { type: KeyType; out: string; json?: boolean }) => {
      const priv = `${flags.out}.key`;
      const pub = `${flags.out}.pub`;
      for (const f of [priv, pub]) if (existsSync(f)) throw new InputError('FILE_EXISTS', `${f}: already exists; refusing to overwrite`);
      const passphrase = await newKeyPassphrase();
      const { privatePem, publicPem } = generateKeyPair(flags.type, passphrase);
      writeFileAtomic(priv, privatePem, { mode: 0o600, exclusive: true });
      writeFileAtomic(pub, publicPem, { exclusive: true });
      const key = loadPublicKey(pub).key;
      if (flags.json) {
        printJson({ version: OUTPUT_VERSION, command: 'keygen', ok: true, keyType: flags.type, privateKey: priv, publicKey: pub, encrypted: passphrase !== undefined, fingerprint: keyFingerprint(key), publicKeySha256: spkiSha256(key), warnings: [] });
        return;
      }
      process.stderr.write(`wrote ${priv}${passphrase ? ' (encrypted)' : ''} and ${pub} (${flags.type})\n`);
    });
}
