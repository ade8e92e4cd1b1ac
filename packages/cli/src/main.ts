#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

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
  { name: 'approve', summary: 'sign an approval (or --reject) of a model digest for a stage', load: async () => [(await import('./commands/attest.js')).approveCommand()] },
  { name: 'attestations', summary: 'attestations kept beside a model', load: async () => [(await import('./commands/attest.js')).attestationsCommand()] },
];

interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command[]>;
}

/** The command a run names: the first word, or the one after `help`. */
function namedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Exit codes for every command: 0 success, 1 verification failure, 2 bad usage or bad input. */
export async function run(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Sign and verify ML models (OpenSSF Model Signing format)')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) })
    .showHelpAfterError(false);
  const wanted = namedCommand(argv);
  for (const entry of COMMANDS) {
    // The others get a stub with the same name and summary: enough for --help and for commander to know the name.
    const commands = entry.name === wanted ? await entry.load() : [new Command(entry.name).summary(entry.summary).description(entry.summary)];
    for (const c of commands) program.addCommand(c);
  }
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
    // Loaded here, not at start-up: the command that threw has loaded it already.
    const { exitCodeFor, ModelsealError } = await import('@modelseal/core');
    const code = exitCodeFor(err);
    const msg = err instanceof ModelsealError ? `${err.message} [${err.code}]` : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`modelseal: ${code === 1 ? 'verification failed: ' : ''}${msg}\n`);
    return code;
  }
}

process.exitCode = await run(process.argv.slice(2));
