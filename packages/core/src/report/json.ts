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
import type { VerifiedSigner } from '../verify-model.js';

export const OUTPUT_VERSION = 1;

/** A digest with its algorithm, as in-toto writes it. */
export interface DigestJson {
  sha256: string;
}

/** An error in JSON output: its code, message and family. */
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

/** A model in JSON output: name, root digest, serialization, resource count. */
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
  /** keyType and publicKeySha256 are absent only in unverified listings, where the bundle carries just the key's hint */
  | { kind: 'key'; keyType?: KeyType; fingerprint: string; publicKeySha256?: string }
  | { kind: 'certificate'; keyType: KeyType | 'unknown'; publicKeySha256: string; subject: string; issuer: string; certificateSha256: string; chain: string[] }
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
  const details = err instanceof ModelsealError ? (err.details ?? {}) : {};
  const verifies = command === 'verify' || command === 'pull' || command === 'exec';
  const base = { version: OUTPUT_VERSION, command, ok: false, ...(verifies ? { verified: false } : {}), warnings: [] as string[] };
  return { ...base, ...details, ...extra, error: errorJson(err) } as OutcomeJson & Record<string, unknown>;
}

export type DifferencesJson = ManifestDifferences;

const unixToIso = (s: string | undefined) => (s && /^[0-9]+$/.test(s) ? new Date(Number(s) * 1000).toISOString() : undefined);

/** The one JSON form of a verified signer. */
export function signerJson(s: VerifiedSigner): SignerJson {
  if (s.kind === 'key') return { kind: 'key', keyType: s.keyType, fingerprint: s.fingerprint, publicKeySha256: s.publicKeySha256 };
  if (s.kind === 'certificate') {
    return { kind: 'certificate', keyType: s.keyType, publicKeySha256: s.publicKeySha256, subject: s.subject, issuer: s.issuer, certificateSha256: s.fingerprint.replace(/:/g, '').toLowerCase(), chain: s.chain };
  }
  const id = s.identity;
  const github: NonNullable<Extract<SignerJson, { kind: 'keyless' }>['github']> = {};
  if (id.sourceRepositoryURI) github.repository = id.sourceRepositoryURI.replace(/^https:\/\/github\.com\//, '');
  if (id.sourceRepositoryRef) github.ref = id.sourceRepositoryRef;
  if (id.sourceRepositoryDigest) github.sha = id.sourceRepositoryDigest;
  if (id.buildConfigURI) github.workflow = id.buildConfigURI;
  if (id.runInvocationURI) github.runUrl = id.runInvocationURI;
  if (id.runnerEnvironment) github.runnerEnvironment = id.runnerEnvironment;
  if (id.buildTrigger) github.trigger = id.buildTrigger;
  const signedAt = unixToIso(s.signedAt);
  return {
    kind: 'keyless',
    keyType: s.keyType,
    publicKeySha256: s.publicKeySha256,
    identity: id.subjectAlternativeName,
    issuer: id.issuer,
    certificateSha256: s.certificateSha256,
    ...(Object.keys(github).length ? { github } : {}),
    ...(signedAt ? { signedAt } : {}),
    tlog: s.tlog.map((t) => ({ logIndex: t.logIndex, ...(unixToIso(t.integratedTime) ? { integratedTime: unixToIso(t.integratedTime)! } : {}), ...(t.logId ? { logId: t.logId } : {}) })),
  };
}

/** One line naming a signer, for human output. */
export function describeSigner(s: VerifiedSigner): string {
  if (s.kind === 'key') return `key ${s.fingerprint.slice(0, 16)}… (${s.keyType})`;
  if (s.kind === 'certificate') return `certificate "${s.subject}"`;
  return `${s.identity.subjectAlternativeName} (${s.identity.issuer})`;
}
