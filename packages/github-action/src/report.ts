import { createHash, X509Certificate } from 'node:crypto';
import {
  certificateIdentity, failureJson, keyFingerprint, keyTypeOf, modelJson, ModelMismatchError, OUTPUT_VERSION, type OutcomeJson,
  type ParsedBundle, type SignerJson, type VerifiedSigner,
} from '@modelseal/core';
import type { Mode } from './inputs.js';
import type { ModeFailure, ModeResult } from './results.js';

/** The CLI command each mode stands for: the report is what that command prints with `--json`. */
export const COMMAND: Record<Mode, string> = {
  sign: 'sign',
  'attest-provenance': 'attest provenance',
  approve: 'approve',
  verify: 'verify',
  gate: 'verify',
};

/**
 * The `report` output: one JSON object per run, built from core's output
 * shapes (report/json.ts). The only place the action shapes JSON, so that
 * it follows core when core gains serializers for verify results and
 * policy reports.
 */
export function reportJson(r: ModeResult | ModeFailure): OutcomeJson & Record<string, unknown> {
  if ('error' in r) {
    const differences = r.error instanceof ModelMismatchError ? { differences: r.error.differences } : {};
    return failureJson(COMMAND[r.mode], r.error, { ...(r.mode === 'verify' || r.mode === 'gate' ? { verified: false } : {}), ...differences });
  }
  const head = { version: OUTPUT_VERSION as typeof OUTPUT_VERSION, command: COMMAND[r.mode], warnings: [] as string[] };
  switch (r.mode) {
    case 'sign':
      return { ...head, ok: true, model: modelJson(r.manifest), signature: r.signaturePath };
    case 'attest-provenance':
    case 'approve':
      return { ...head, ok: true, model: { name: r.name, digest: { sha256: r.digest } }, attestation: r.file, predicateType: r.predicateType, predicate: r.predicate };
    case 'verify':
      return { ...head, ok: true, verified: true, model: modelJson(r.result.manifest), signer: signerJson(r.result.signer, r.bundle), signature: r.signaturePath };
    case 'gate':
      return {
        ...head,
        ok: r.report.ok,
        verified: r.report.ok,
        policy: { file: r.policyFile, ...(r.stage ? { stage: r.stage } : {}) },
        ...(r.report.model ? { model: { name: r.report.model.name, digest: { sha256: r.report.model.rootDigest } } } : {}),
        rules: r.report.rules,
        ...(r.report.ok ? {} : { error: { code: 'POLICY_FAILED', message: `${r.report.rules.filter((x) => !x.ok).length} rule(s) failed`, family: 'verification' as const } }),
      };
  }
}

/** A verified signer as SignerJson; the bundle supplies the certificate and log entries. */
export function signerJson(s: VerifiedSigner, b: ParsedBundle): SignerJson {
  if (s.kind === 'key') return { kind: 'key', keyType: s.keyType, fingerprint: s.fingerprint, publicKeySha256: s.fingerprint };
  const leafDer = b.material.kind === 'certificate' ? b.material.certificate : b.material.kind === 'certificateChain' ? b.material.certificates[0]! : undefined;
  const leaf = leafDer ? new X509Certificate(leafDer) : undefined;
  const keyInfo = leaf ? { keyType: keyTypeOf(leaf.publicKey, 'certificate'), publicKeySha256: keyFingerprint(leaf.publicKey) } : { keyType: 'unknown' as const, publicKeySha256: '' };
  const certificateSha256 = leafDer ? createHash('sha256').update(leafDer).digest('hex') : '';
  if (s.kind === 'certificate') {
    return { kind: 'certificate', keyType: keyInfo.keyType === 'unknown' ? 'ecdsa-p256' : keyInfo.keyType, publicKeySha256: keyInfo.publicKeySha256, subject: s.subject, issuer: s.issuer, certificateSha256, chain: s.chain };
  }
  const id = s.identity ?? (leafDer ? certificateIdentity(leafDer) : undefined);
  const github = id?.sourceRepositoryURI
    ? {
        github: {
          repository: id.sourceRepositoryURI.replace(/^https:\/\/[^/]+\//, ''),
          ...(id.sourceRepositoryRef ? { ref: id.sourceRepositoryRef } : {}),
          ...(id.sourceRepositoryDigest ? { sha: id.sourceRepositoryDigest } : {}),
          ...(id.buildConfigURI ? { workflow: id.buildConfigURI } : {}),
          ...(id.runInvocationURI ? { runUrl: id.runInvocationURI } : {}),
          ...(id.runnerEnvironment ? { runnerEnvironment: id.runnerEnvironment } : {}),
          ...(id.buildTrigger ? { trigger: id.buildTrigger } : {}),
        },
      }
    : {};
  const tlog = b.tlogEntries.flatMap((t) => {
    const e = t as { logIndex?: unknown; integratedTime?: unknown; logId?: { keyId?: unknown } };
    if (typeof e?.logIndex !== 'string') return [];
    return [{ logIndex: e.logIndex, ...(typeof e.integratedTime === 'string' ? { integratedTime: e.integratedTime } : {}), ...(typeof e.logId?.keyId === 'string' ? { logId: e.logId.keyId } : {}) }];
  });
  return {
    kind: 'keyless',
    ...keyInfo,
    identity: id?.subjectAlternativeName ?? '',
    issuer: id?.issuer ?? '',
    certificateSha256,
    ...github,
    ...(s.signedAt ? { signedAt: new Date(Number(s.signedAt) * 1000).toISOString() } : {}),
    ...(tlog.length ? { tlog } : {}),
  };
}
