/**
 * The JSON every entry point prints: `modelseal ... --json`, the GitHub
 * Action's `report` output and audit events are built here, so one concept
 * (a signer, a model, an error) has one shape everywhere. The shapes are
 * described by `schemas/output-v1.schema.json`; change them only on purpose.
 */
import type { ManifestDifferences } from '../compare.js';
import { ModelsealError } from '../errors.js';
import type { KeyType } from '../keys.js';
import type { Manifest, Serialization } from '../manifest.js';

export const OUTPUT_VERSION = 1;

/** A digest with its algorithm, as in-toto writes it. */
export interface DigestJson {
  sha256: string;
}

export interface ErrorJson {
  code: string;
  message: string;
  /** `input`: exit 2; `verification`: exit 1; `internal`: a bug (exit 2) */
  family: 'input' | 'verification' | 'internal';
}

export interface SerializationJson {
  method: 'files' | 'shards';
  hashType: string;
  shardSize?: number;
  allowSymlinks: boolean;
  ignorePaths: string[];
}

export interface ModelJson {
  name: string;
  /** the OMS root digest: SHA-256 over the resources' digests, in order */
  digest: DigestJson;
  /** SHA-256 over the canonical manifest (names, digests, serialization): binds file names too */
  manifestDigest?: DigestJson;
  serialization: SerializationJson;
  resources: number;
}

/** Who signed, as verified. The same object in verify, policy reports, attestation listings and audit events. */
export type SignerJson =
  | { kind: 'key'; keyType: KeyType; fingerprint: string; publicKeySha256: string }
  | { kind: 'certificate'; keyType: KeyType; publicKeySha256: string; subject: string; issuer: string; certificateSha256: string; chain: string[] }
  | {
      kind: 'keyless';
      keyType: KeyType | 'unknown';
      publicKeySha256: string;
      identity: string;
      issuer: string;
      certificateSha256: string;
      /** GitHub Actions claims from the Fulcio certificate, when present */
      github?: { repository?: string; ref?: string; sha?: string; workflow?: string; runUrl?: string; runnerEnvironment?: string; trigger?: string };
      /** the latest verified signing time, ISO 8601 */
      signedAt?: string;
      tlog?: Array<{ logIndex: string; integratedTime?: string; logId?: string }>;
    };

/** Fields every `--json` object has. */
export interface OutcomeJson {
  version: typeof OUTPUT_VERSION;
  command: string;
  ok: boolean;
  warnings: string[];
  error?: ErrorJson;
}

export function errorJson(err: unknown): ErrorJson {
  if (err instanceof ModelsealError) return { code: err.code, message: err.message, family: err.family };
  return { code: 'INTERNAL_ERROR', message: (err as Error)?.message ?? String(err), family: 'internal' };
}

export function serializationJson(s: Serialization): SerializationJson {
  return {
    method: s.method,
    hashType: s.hashType,
    ...(s.method === 'shards' ? { shardSize: s.shardSize } : {}),
    allowSymlinks: s.allowSymlinks,
    ignorePaths: [...(s.ignorePaths ?? [])],
  };
}

export function modelJson(m: Manifest, manifestDigest?: string): ModelJson {
  return {
    name: m.modelName,
    digest: { sha256: m.rootDigest },
    ...(manifestDigest ? { manifestDigest: { sha256: manifestDigest } } : {}),
    serialization: serializationJson(m.serialization),
    resources: m.resources.length,
  };
}

/** A failure as JSON: the same envelope as success, with `ok: false` and the error. */
export function failureJson(command: string, err: unknown, extra: Record<string, unknown> = {}): OutcomeJson & Record<string, unknown> {
  return { version: OUTPUT_VERSION, command, ok: false, ...extra, warnings: [], error: errorJson(err) };
}

export type DifferencesJson = ManifestDifferences;
