import { spawn } from 'node:child_process';
import { accessSync, constants as fsc, statSync } from 'node:fs';
import path from 'node:path';
import {
  appendAuditEvent, hasTrust, InputError, loadPolicy, loadTrustedRoot, trustFromSpec, verifyModelAudited,
  type AuditedVerifyOptions, type TrustSpec,
} from '@modelseal/core/internals';
import { Command } from 'commander';
import { addTrustOptions } from '../trust-flags.js';

interface Flags extends TrustSpec {
  signature?: string;
  policy?: string;
  stage?: string;
  attestations?: string;
  cache?: string;
  auditLog?: string;
  spawn?: boolean;
  quiet?: boolean;
}

/** The executable a command name stands for: as given when it has a slash, else the first match on PATH. */
function resolveCommand(cmd: string): string {
  const candidates = cmd.includes('/') ? [path.resolve(cmd)] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, cmd));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, fsc.X_OK);
        return c;
      }
    } catch {
      // not here
    }
  }
  throw new InputError('COMMAND_NOT_FOUND', `${cmd}: command not found or not executable`);
}

/** Signals a supervisor sends that the command, not modelseal, should get. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGWINCH'];

/**
 * Runs the command as a child: stdio inherited, signals forwarded, its exit
 * status passed on (a child killed by a signal kills us with the same one).
 */
function runChild(file: string, args: string[]): Promise<never> {
  return new Promise(() => {
    const child = spawn(file, args.slice(1), { stdio: 'inherit', argv0: args[0] });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    for (const s of FORWARDED) process.on(s, forward);
    child.on('error', (err) => {
      process.stderr.write(`modelseal: cannot start ${file}: ${err.message} [COMMAND_FAILED]\n`);
      process.exit(2);
    });
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      process.exit(code ?? 1);
    });
  });
}

export function execCommand(): Command {
  return addTrustOptions(new Command('exec'))
    .description('verify a model, then run a command in place of modelseal (the command never starts unless the model verified): exit 1 not verified, 2 bad input, else the command\'s own status')
    .usage('<model> (--key PUB | --certificate-chain CA | --identity ID --issuer URL | --policy FILE) [options] -- <command> [args...]')
    .argument('<model>', 'model folder or file, or hf://org/name[@rev] from the local Hugging Face cache')
    .argument('<command...>', 'the command to run, after --')
    .option('--signature <file>', 'signature file (default: model.sig in the folder, <file>.sig beside a file)')
    .option('--policy <file>', 'release policy: its signers, provenance and approvals decide')
    .option('--stage <stage>', 'with --policy: check only this stage\'s approvals')
    .option('--attestations <dir>', 'with --policy: where attestations are kept (default: <model>.attestations)')
    .option('--cache <dir>', 'verification cache: unchanged files are not re-hashed (keep it as protected as the model)')
    .option('--audit-log <file>', 'append one JSON line per verification, success or failure')
    .option('--spawn', 'run the command as a child (signals forwarded, exit status passed on) instead of replacing modelseal')
    .option('-q, --quiet', 'print nothing on success')
    .action(async (model: string, command: string[], flags: Flags) => {
      const file = resolveCommand(command[0]!);
      const o: AuditedVerifyOptions = {
        operation: 'exec',
        command,
        ...(flags.signature ? { signaturePath: flags.signature } : {}),
        ...(flags.cache ? { cache: { dir: flags.cache } } : {}),
        ...(flags.auditLog ? { onAudit: (e) => appendAuditEvent(flags.auditLog!, e) } : {}),
      };
      if (flags.policy) {
        if (hasTrust(flags)) throw new InputError('BAD_OPTION', '--policy names the trusted signers itself; drop --key/--certificate-chain/--identity');
        o.policy = loadPolicy(flags.policy);
        if (flags.stage) o.stage = flags.stage;
        if (flags.attestations) o.attestationsDir = flags.attestations;
        if (flags.trustedRoot) o.trustedRoot = loadTrustedRoot(flags.trustedRoot);
      } else {
        if (flags.stage || flags.attestations) throw new InputError('BAD_OPTION', '--stage and --attestations apply with --policy only');
        o.trust = trustFromSpec(flags);
      }
      const r = await verifyModelAudited(model, o);
      for (const w of r.warnings) process.stderr.write(`modelseal: warning: ${w}\n`);
      if (!flags.quiet) {
        const cache = r.cache ? `, ${r.cache.hits}/${r.cache.hits + r.cache.misses} files from cache` : '';
        process.stderr.write(`modelseal: verified ${r.modelName} sha256:${r.rootDigest}${cache}; running ${command.join(' ')}\n`);
      }
      if (!flags.spawn && typeof process.execve === 'function') {
        process.execve(file, command, process.env);
      }
      await runChild(file, command);
    });
}
