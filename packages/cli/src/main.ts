#!/usr/bin/env node
import { exitCodeFor, failureJson, InputError, ModelsealError, printable } from '@modelseal/core/internals';
import { Command, CommanderError } from 'commander';
import { hashCommand } from './commands/hash.js';
import { keygenCommand } from './commands/keygen.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { trustCommand } from './commands/trust.js';
import { approveCommand, attestationsCommand, attestCommand } from './commands/attest.js';
import { execCommand } from './commands/exec.js';
import { invocation, printJson } from './output.js';

/** Commander's own error codes, as ours: every usage error is one coded line, exit 2. */
const USAGE_CODES: Record<string, string> = {
  'commander.unknownOption': 'UNKNOWN_OPTION',
  'commander.unknownCommand': 'UNKNOWN_COMMAND',
  'commander.missingArgument': 'MISSING_ARGUMENT',
  'commander.optionMissingArgument': 'MISSING_OPTION_VALUE',
  'commander.missingMandatoryOptionValue': 'MISSING_OPTION',
  'commander.invalidArgument': 'BAD_OPTION',
  'commander.excessArguments': 'TOO_MANY_ARGUMENTS',
  'commander.conflictingOption': 'CONFLICTING_OPTIONS',
};

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x && x.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}
import { manifestCommand } from './commands/manifest.js';
import { pushCommand } from './commands/push.js';
import { pullCommand } from './commands/pull.js';

/** Exit codes for every command: 0 success, 1 verification failure, 2 bad usage or bad input. */
export async function run(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Sign and verify ML models (OpenSSF Model Signing format)')
    .version('0.1.0')
    .exitOverride()
    // Commander's errors are printed below, in our one-line shape.
    .configureOutput({ outputError: () => {} })
    .showHelpAfterError(false);
  program.hook('preAction', (_root, action) => {
    invocation.command = commandPath(action);
    invocation.json = action.opts().json === true;
  });
  program.addCommand(hashCommand());
  program.addCommand(keygenCommand());
  program.addCommand(signCommand());
  program.addCommand(verifyCommand());
  program.addCommand(trustCommand());
  program.addCommand(attestCommand());
  program.addCommand(approveCommand());
  program.addCommand(attestationsCommand());
  program.addCommand(execCommand());
  program.addCommand(manifestCommand());
  program.addCommand(pushCommand());
  program.addCommand(pullCommand());
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput({ outputError: () => {} });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (caught) {
    let err = caught;
    if (err instanceof CommanderError) {
      // --help and --version come here too, with exit code 0
      if (err.exitCode === 0) return 0;
      err = new InputError(USAGE_CODES[err.code] ?? 'USAGE', `${err.message.replace(/^error: /, '')} (see modelseal ${guessCommand(argv)} --help)`.replace(' ' + ' ', ' '));
    }
    const code = exitCodeFor(err);
    if (invocation.json || argv.includes('--json')) printJson(failureJson(invocation.command || guessCommand(argv), err));
    const msg =
      err instanceof ModelsealError
        ? `${err.message} [${err.code}]`
        : `unexpected error: ${printable((err as Error)?.message ?? String(err))} [INTERNAL_ERROR]${process.env.MODELSEAL_DEBUG ? `\n${(err as Error)?.stack}` : ' (set MODELSEAL_DEBUG=1 for a stack trace, and please report it)'}`;
    process.stderr.write(`modelseal: ${code === 1 ? 'verification failed: ' : ''}${msg}\n`);
    return code;
  }
}

/** The command a failed parse was for, from the words before the first option. */
function guessCommand(argv: string[]): string {
  const words = argv.filter((a) => !a.startsWith('-')).slice(0, 2);
  return ['attest', 'attestations', 'trust', 'manifest'].includes(words[0] ?? '') ? words.join(' ') : (words[0] ?? '');
}

process.exitCode = await run(process.argv.slice(2));
