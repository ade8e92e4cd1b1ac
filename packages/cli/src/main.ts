#!/usr/bin/env node
import { exitCodeFor, ModelsealError } from '@modelseal/core';
import { Command, CommanderError } from 'commander';
import { hashCommand } from './commands/hash.js';
import { keygenCommand } from './commands/keygen.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { trustCommand } from './commands/trust.js';
import { approveCommand, attestationsCommand, attestCommand } from './commands/attest.js';
import { execCommand } from './commands/exec.js';

/** Exit codes for every command: 0 success, 1 verification failure, 2 bad usage or bad input. */
export async function run(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Sign and verify ML models (OpenSSF Model Signing format)')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) })
    .showHelpAfterError(false);
  program.addCommand(hashCommand());
  program.addCommand(keygenCommand());
  program.addCommand(signCommand());
  program.addCommand(verifyCommand());
  program.addCommand(trustCommand());
  program.addCommand(attestCommand());
  program.addCommand(approveCommand());
  program.addCommand(attestationsCommand());
  program.addCommand(execCommand());
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version come here too, with exit code 0
      return err.exitCode === 0 ? 0 : 2;
    }
    const code = exitCodeFor(err);
    const msg = err instanceof ModelsealError ? `${err.message} [${err.code}]` : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`modelseal: ${code === 1 ? 'verification failed: ' : ''}${msg}\n`);
    return code;
  }
}

process.exitCode = await run(process.argv.slice(2));
