#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { invocation, printJson } from './invocation.js';

/**
 * Every command, by name, with the one-line summary that `modelseal --help`
 * lists and a loader for its code. Only the command that runs is loaded (it
 * brings in @modelseal/core and what it needs); `--version` and `--help` load
 * none, so they cost little more than Node's own start. To add a command, add
 * one line here: its name, its summary and `import()` of its module.
 */
const COMMANDS: readonly CommandEntry[] = [
  { name: 'hash', summary: 'hash a model into an OMS manifest and print its root digest', load: async () => [(await import('./commands/hash.js')).hashCommand()] },
  { name: 'keygen', summary: 'generate a signing key pair', load: async () => [(await import('./commands/keygen.js')).keygenCommand()] },
  { name: 'sign', summary: 'hash a model and sign its manifest', load: async () => [(await import('./commands/sign.js')).signCommand()] },
  { name: 'verify', summary: 'verify a model against its signature (or a policy)', load: async () => [(await import('./commands/verify.js')).verifyCommand()] },
  { name: 'trust', summary: 'Sigstore trust material for keyless verification', load: async () => [(await import('./commands/trust.js')).trustCommand()] },
  { name: 'attest', summary: 'create signed attestations about a model', load: async () => [(await import('./commands/attest.js')).attestCommand()] },
  { name: 'approve', summary: 'sign an approval (or --reject) of a model for a stage', load: async () => [(await import('./commands/attest.js')).approveCommand()] },
  { name: 'attestations', summary: 'attestations kept beside a model or in a registry', load: async () => [(await import('./commands/attest.js')).attestationsCommand()] },
  { name: 'manifest', summary: 'merge partial manifests hashed on several machines', load: async () => [(await import('./commands/manifest.js')).manifestCommand()] },
  { name: 'push', summary: 'push a signed model to an OCI registry, with its signature and attestations as referrers', load: async () => [(await import('./commands/push.js')).pushCommand()] },
  { name: 'pull', summary: 'pull a model from an OCI registry and verify it before it lands', load: async () => [(await import('./commands/pull.js')).pullCommand()] },
  { name: 'exec', summary: 'verify a model, then run a command (a model server) only if it verified', load: async () => [(await import('./commands/exec.js')).execCommand()] },
];

interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command[]>;
}

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

/** The command a run names: the first word, or the one after `help`. */
function namedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** The command a failed parse was for, from the words before the first option. */
function guessCommand(argv: readonly string[]): string {
  const words = argv.filter((a) => !a.startsWith('-')).slice(0, 2);
  return ['attest', 'attestations', 'trust', 'manifest'].includes(words[0] ?? '') ? words.join(' ') : (words[0] ?? '');
}

/** `verify ` when the run named a known command, for a "see modelseal verify --help" hint. */
function helpFor(argv: readonly string[]): string {
  const known = COMMANDS.some((c) => c.name === namedCommand(argv));
  return known ? `${guessCommand(argv)} ` : '';
}

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x && x.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** Exit codes for every command: 0 success, 1 verification failure, 2 bad usage or bad input. */
export async function run(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Sign and verify ML models (OpenSSF Model Signing format)')
    .version('0.1.0')
    .showHelpAfterError(false);
  const wanted = namedCommand(argv);
  for (const entry of COMMANDS) {
    // The others get a stub with the same name and summary: enough for --help and for commander to know the name.
    const commands = entry.name === wanted ? await entry.load() : [new Command(entry.name).summary(entry.summary).description(entry.summary)];
    for (const c of commands) program.addCommand(c);
  }
  program.hook('preAction', (_root, action) => {
    invocation.command = commandPath(action);
    invocation.json = action.opts().json === true;
  });
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  // Commander's own errors are printed below, in our one-line shape, for every subcommand.
  for (const c of all(program)) c.exitOverride().configureOutput({ outputError: () => {} });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (caught) {
    // --help and --version come here too, with exit code 0
    if (caught instanceof CommanderError && caught.exitCode === 0) return 0;
    // Loaded here, not at start-up: the command that threw has loaded it already.
    const { exitCodeFor, failureJson, InputError, ModelsealError, printable } = await import('@modelseal/core/internals');
    const err =
      caught instanceof CommanderError
        ? new InputError(USAGE_CODES[caught.code] ?? 'USAGE', `${caught.message.replace(/^error: /, '')} (see modelseal ${helpFor(argv)}--help)`)
        : caught;
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

process.exitCode = await run(process.argv.slice(2));
