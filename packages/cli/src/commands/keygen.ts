import { generateKeyPair, KEY_TYPES, writeFileAtomic, InputError, type KeyType } from '@modelseal/core';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('generate a signing key pair: NAME.key (private, 0600) and NAME.pub')
    .addOption(new Option('--type <type>', 'ed25519 (modelseal-to-modelseal), or ECDSA for signatures other OMS tools verify').choices([...KEY_TYPES]).default('ed25519'))
    .requiredOption('--out <name>', 'file name prefix')
    .action((flags: { type: KeyType; out: string }) => {
      const priv = `${flags.out}.key`;
      const pub = `${flags.out}.pub`;
      for (const f of [priv, pub]) if (existsSync(f)) throw new InputError('FILE_EXISTS', `${f}: already exists; refusing to overwrite`);
      // MODELSEAL_KEY_PASSWORD, when set, encrypts the private key (PKCS#8, AES-256-CBC).
      const { privatePem, publicPem } = generateKeyPair(flags.type, process.env.MODELSEAL_KEY_PASSWORD || undefined);
      writeFileAtomic(priv, privatePem, { mode: 0o600, exclusive: true });
      writeFileAtomic(pub, publicPem, { exclusive: true });
      process.stderr.write(`wrote ${priv} and ${pub} (${flags.type})\n`);
    });
}
