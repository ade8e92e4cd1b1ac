import { InputError, loadPolicy, trustFromSpec, type LoadedPolicy, type Trust, type TrustSpec } from '@modelseal/core/internals';
import type { RegistryOptions } from '@modelseal/core/oci';
import { addTrustOptions as addTrustFlags } from './trust-flags.js';
import type { Command } from 'commander';

export interface RegistryFlags {
  plainHttp?: boolean;
  username?: string;
  passwordStdin?: boolean;
}

/** Registry access flags shared by push, pull, verify oci:// and attestations list oci://. */
export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--plain-http', 'talk to the registry over plain HTTP (never implied, not even for localhost)')
    .option('--username <user>', 'registry user name (the password comes from --password-stdin)')
    .option('--password-stdin', 'read the registry password or token from standard input');
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

export async function registryOptionsFrom(f: RegistryFlags): Promise<RegistryOptions> {
  if (f.passwordStdin && !f.username) throw new InputError('BAD_OPTION', '--password-stdin needs --username');
  if (f.username && !f.passwordStdin) throw new InputError('BAD_OPTION', '--username needs --password-stdin (passwords are never taken as arguments)');
  return {
    ...(f.plainHttp ? { plainHttp: true } : {}),
    ...(f.username ? { username: f.username, password: await readStdin() } : {}),
  };
}

/** The trust flags of verify, and a policy, for pull. */
export function addTrustOptions(cmd: Command): Command {
  return addTrustFlags(cmd)
    .option('--policy <file>', 'release policy: signers, provenance, approvals (attestations are read from the referrers)')
    .option('--stage <stage>', "with --policy: check only this stage's approvals");
}

export interface TrustFlags extends TrustSpec {
  policy?: string;
  stage?: string;
}

/** Exactly one of: trust flags, or a policy (which names its own signers). */
export function trustOrPolicy(f: TrustFlags): { trust?: Trust; policy?: LoadedPolicy; stage?: string } {
  if (f.policy) {
    if (f.key || f.certificateChain || f.identity || f.identityRegexp) {
      throw new InputError('BAD_OPTION', '--policy names the trusted signers itself; drop --key/--certificate-chain/--identity');
    }
    return { policy: loadPolicy(f.policy), ...(f.stage ? { stage: f.stage } : {}) };
  }
  if (f.stage) throw new InputError('BAD_OPTION', '--stage applies with --policy only');
  return { trust: trustFromSpec(f) };
}

/** Ctrl-C (or SIGTERM) aborts a download cleanly: the core removes its temporary folder before the process exits. */
export async function withInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const abort = () => ac.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await run(ac.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}

/** verify's extra flags for oci:// models (here, not in oci-verify.ts, so that verify loads the registry client only for oci://). */
export function addOciVerifyOptions(cmd: Command): Command {
  return addRegistryOptions(cmd).option('--no-download', 'oci:// only: compare the signed manifest with the registry manifest, downloading no layer (sha256 files-method signatures)');
}
