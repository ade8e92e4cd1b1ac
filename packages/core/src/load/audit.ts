import { closeSync, constants as fsc, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import type { PolicyReport } from '../policy/evaluate.js';
import { PolicyVerdictError } from '../policy/verdict-error.js';
import { errorJson, modelJson, type ErrorJson, type ModelJson, type SignerJson } from '../report/json.js';

/**
 * One audit event per verification, success or failure: what was loaded, who
 * signed it, why it was trusted (the policy verdict, each failed rule) and how
 * much hashing the cache saved. A fleet appends these as JSON Lines and can
 * later show what each server loaded. The shapes inside are the shared ones of
 * `report/json.ts`, so an event's `signer` reads like `verify --json`'s.
 */

export const AUDIT_EVENT_VERSION = 1;

/** One verification, as an audit trail records it (one JSON line in `--audit-log`). */
export interface AuditEvent {
  version: typeof AUDIT_EVENT_VERSION;
  type: 'modelseal.verification';
  /** ISO 8601, when the verification finished */
  time: string;
  tool: { name: 'modelseal'; version: string };
  /** `verify` (verifyModelAudited, CLI verify), `open` (openVerified), `exec` (CLI exec) */
  operation: 'verify' | 'open' | 'exec';
  ok: boolean;
  /** the path as given (for `hf://` the snapshot folder), and what the signature says, once known */
  model: { path: string; uri?: string } & Partial<ModelJson>;
  signer?: SignerJson;
  policy?: { file: string; stage?: string; ok: boolean; failed: Array<{ rule: string; detail: string }> };
  /** files whose digests came from the verification cache; misses were hashed */
  cache?: { hits: number; misses: number };
  /** `exec`: the command that was started (or would have been) */
  command?: string[];
  error?: ErrorJson;
}

let version: string | undefined;
/** The version of @modelseal/core, as its package.json says. */
export function toolVersion(): string {
  version ??= (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  return version;
}

/** What a verification learned, turned into an `AuditEvent` by `auditEvent`. */
export interface AuditFacts {
  operation: AuditEvent['operation'];
  modelPath: string;
  uri?: string;
  manifest?: Manifest;
  signer?: SignerJson;
  policy?: { file: string; stage?: string; report: PolicyReport };
  cache?: { hits: number; misses: number };
  command?: string[];
  error?: unknown;
}

/** Builds the event from what a verification learned; `ok` is false whenever there is an error. */
export function auditEvent(f: AuditFacts, now: Date = new Date()): AuditEvent {
  return {
    version: AUDIT_EVENT_VERSION,
    type: 'modelseal.verification',
    time: now.toISOString(),
    tool: { name: 'modelseal', version: toolVersion() },
    operation: f.operation,
    ok: f.error === undefined,
    model: { path: f.modelPath, ...(f.uri ? { uri: f.uri } : {}), ...(f.manifest ? modelJson(f.manifest) : {}) },
    ...(f.signer ? { signer: f.signer } : {}),
    ...(f.policy
      ? {
          policy: {
            file: f.policy.file,
            ...(f.policy.stage ? { stage: f.policy.stage } : {}),
            ok: f.policy.report.ok,
            failed: f.policy.report.rules.filter((r) => !r.ok).map((r) => ({ rule: r.rule, detail: r.detail })),
          },
        }
      : {}),
    ...(f.cache ? { cache: f.cache } : {}),
    ...(f.command ? { command: f.command } : {}),
    ...(f.error !== undefined ? { error: errorJson(f.error) } : {}),
  };
}

/**
 * Appends one event as one JSON line, in one write(2) on a descriptor opened
 * O_APPEND: concurrent writers (several servers, one log) never interleave
 * inside a line. Created 0600 when missing. A log that cannot be written is an
 * error: a caller that asked for an audit trail must not proceed without one.
 */
export function appendAuditEvent(file: string, event: AuditEvent): void {
  const line = Buffer.from(JSON.stringify(event) + '\n', 'utf8');
  let fd: number;
  try {
    fd = openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOCTTY, 0o600);
  } catch (err) {
    throw new InputError('AUDIT_LOG_UNWRITABLE', `${file}: cannot open audit log (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  try {
    const n = writeSync(fd, line);
    if (n !== line.length) throw new InputError('AUDIT_LOG_UNWRITABLE', `${file}: short write to audit log (${n} of ${line.length} bytes)`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('AUDIT_LOG_UNWRITABLE', `${file}: cannot write audit log (${(err as Error).message})`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** The event of a failed verification: a failed policy still says which rules failed and who signed. */
export function failureEvent(facts: AuditFacts, err: unknown, stage?: string): AuditEvent {
  if (err instanceof PolicyVerdictError) {
    facts.policy = { file: err.file, ...(stage ? { stage } : {}), report: err.report };
    if (err.signer) facts.signer = err.signer;
  }
  return auditEvent({ ...facts, error: err });
}
