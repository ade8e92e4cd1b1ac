import { parseBundle } from '../bundle.js';
import type { HashProgress } from '../hash-model.js';
import { resolveModelPath } from '../inputs/hf-snapshot.js';
import { signerJson as toSignerJson, type SignerJson } from '../report/json.js';
import { manifestDigest } from '../manifest-digest.js';
import type { PolicyReport } from '../policy/evaluate.js';
import { defaultSignaturePath } from '../sign-model.js';
import { assertModelPath, ModelMismatchError, readBundle, signedManifest, verifyEnvelope, verifyModel, type VerifyResult } from '../verify-model.js';
import { auditEvent, failureEvent, type AuditEvent, type AuditFacts } from './audit.js';
import { checkTrustChoice, decideByPolicy, type LoadTrustOptions } from './trust-decision.js';
import { VerificationCacheSession, type VerificationCacheOptions } from './verification-cache.js';

/** `verifyModelAudited`'s options: a trust or a policy, plus cache and audit sink. */
export interface AuditedVerifyOptions extends LoadTrustOptions {
  /** reuse digests verified before, for files whose state has not changed */
  cache?: VerificationCacheOptions;
  /** told one event per call, success or failure, before the call returns or throws */
  onAudit?: (event: AuditEvent) => void;
  ignorePaths?: readonly string[];
  /** see VerifyOptions.ignoreGitPaths (signatures that record no ignore paths) */
  ignoreGitPaths?: boolean;
  ignoreUnsignedFiles?: boolean;
  onProgress?: (p: HashProgress) => void;
  /** recorded in the event: `exec` when verifying before a command */
  operation?: AuditEvent['operation'];
  command?: string[];
}

/** `verifyModel`'s result, with the structured signer, policy report, cache counts and the audit event. */
export interface AuditedVerifyResult extends VerifyResult {
  /** the model folder verified (an `hf://` URI resolved to its snapshot) */
  modelPath: string;
  signerJson: SignerJson;
  policy?: PolicyReport;
  cache?: { hits: number; misses: number };
  /** cache problems: never fatal, the model was hashed instead */
  warnings: string[];
  event: AuditEvent;
}

/**
 * `verifyModel` for load time: a trust or a policy, the verification cache,
 * `hf://org/name[@rev]` model paths, and one audit event per call. With a
 * trust, cached digests stand in for hashing unchanged files; with a policy,
 * `evaluatePolicy` hashes the model itself (the cache is not consulted).
 * The signature and the policy are checked on every call.
 */
export async function verifyModelAudited(model: string, o: AuditedVerifyOptions): Promise<AuditedVerifyResult> {
  const facts: AuditFacts = { operation: o.operation ?? 'verify', modelPath: model, ...(o.command ? { command: o.command } : {}) };
  let out: AuditedVerifyResult;
  try {
    checkTrustChoice(o);
    const modelPath = resolveModelPath(model);
    if (modelPath !== model) Object.assign(facts, { modelPath, uri: model });
    assertModelPath(modelPath);
    const signaturePath = o.signaturePath ?? defaultSignaturePath(modelPath);
    const bytes = readBundle(signaturePath, o.signaturePath ? undefined : modelPath);
    const bundle = parseBundle(bytes, signaturePath);
    let result: VerifyResult;
    let policy: PolicyReport | undefined;
    let cache: VerificationCacheSession | undefined;
    if (o.policy) {
      const d = await decideByPolicy(modelPath, signaturePath, bundle, { ...o, policy: o.policy });
      const manifest = signedManifest(bundle);
      result = { modelName: manifest.modelName, rootDigest: manifest.rootDigest, manifestDigest: manifestDigest(manifest), signer: d.signer, manifest, warnings: [...d.report.warnings], notCovered: [], unsignedFiles: [], reused: 0 };
      policy = d.report;
      facts.policy = { file: o.policy.file, ...(o.stage ? { stage: o.stage } : {}), report: d.report };
    } else {
      const trust = o.trust!;
      cache = o.cache ? new VerificationCacheSession(o.cache.dir, modelPath) : undefined;
      result = await verifyModel(modelPath, {
        trust,
        bundle: bytes,
        signaturePath,
        ...(o.ignorePaths ? { ignorePaths: o.ignorePaths } : {}),
        ...(o.ignoreUnsignedFiles ? { ignoreUnsignedFiles: true } : {}),
        ...(o.ignoreGitPaths === false ? { ignoreGitPaths: false } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.at ? { at: o.at } : {}),
        ...(cache ? { known: cache } : {}),
      })
        .catch((err: unknown) => {
          // The signature held but the model did not match: the failure event still says who signed what.
          if (err instanceof ModelMismatchError) {
            Object.assign(facts, { manifest: signedManifest(bundle), signer: toSignerJson(verifyEnvelope(bundle, trust, o.at)) });
          }
          throw err;
        })
        .finally(() => {
          if (cache) facts.cache = { hits: cache.hits, misses: cache.misses };
        });
      // Only now, verified, may the fresh digests be remembered.
      cache?.commit();
    }
    const signerJson = toSignerJson(result.signer);
    Object.assign(facts, { manifest: result.manifest, signer: signerJson });
    out = {
      ...result,
      modelPath,
      signerJson,
      ...(policy ? { policy } : {}),
      ...(facts.cache ? { cache: facts.cache } : {}),
      warnings: [...result.warnings, ...(o.policy && o.cache ? ['the verification cache is not used with a policy: the policy evaluation hashes the model itself'] : []), ...(cache?.warnings ?? [])],
      event: auditEvent(facts),
    };
  } catch (err) {
    o.onAudit?.(failureEvent(facts, err, o.stage));
    throw err;
  }
  // Outside the try: an audit sink that fails is that error, not a second event.
  o.onAudit?.(out.event);
  return out;
}
