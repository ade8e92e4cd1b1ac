/**
 * The `--json` object of each command's success, built from core results so
 * that the CLI, the GitHub Action's report and audit events agree. Failures
 * use `failureJson` (json.ts) with the error's `details`.
 */
import type { PolicyReport } from '../policy/evaluate.js';
import type { SignResult } from '../sign-model.js';
import type { VerifyResult } from '../verify-model.js';
import { OUTPUT_VERSION, modelJson, signerJson, type ModelJson, type OutcomeJson, type SignerJson } from './json.js';
import type { Manifest } from '../manifest.js';
import { manifestDigest } from '../manifest-digest.js';

export interface VerifyJson extends OutcomeJson {
  command: 'verify';
  verified: boolean;
  model: ModelJson;
  signer: SignerJson;
  /** paths present in the model that the signature does not cover (ignored by the signer or by --ignore-paths) */
  notCovered: string[];
  /** unsigned files allowed by --ignore-unsigned-files */
  unsignedFiles: string[];
  /** files whose digests came from the verification cache */
  cacheHits: number;
}

export function verifyResultJson(r: VerifyResult): VerifyJson {
  return {
    version: OUTPUT_VERSION,
    command: 'verify',
    ok: true,
    verified: true,
    model: modelJson(r.manifest, r.manifestDigest),
    signer: signerJson(r.signer),
    notCovered: r.notCovered,
    unsignedFiles: r.unsignedFiles,
    cacheHits: r.reused,
    warnings: r.warnings,
  };
}

export interface PolicyJson extends OutcomeJson {
  command: 'verify';
  mode: 'policy';
  verified: boolean;
  policy: string;
  stage?: string;
  model?: ModelJson;
  signer?: SignerJson;
  rules: PolicyReport['rules'];
}

export function policyReportJson(r: PolicyReport): PolicyJson {
  return {
    version: OUTPUT_VERSION,
    command: 'verify',
    mode: 'policy',
    ok: r.ok,
    verified: r.ok,
    policy: r.policy,
    ...(r.stage ? { stage: r.stage } : {}),
    ...(r.model ? { model: r.model } : {}),
    ...(r.signer ? { signer: r.signer } : {}),
    rules: r.rules,
    warnings: r.warnings,
  };
}

export function hashResultJson(m: Manifest, statement: unknown, warnings: string[] = []): OutcomeJson & { model: ModelJson; statement: unknown } {
  return { version: OUTPUT_VERSION, command: 'hash', ok: true, model: modelJson(m, manifestDigest(m)), statement, warnings };
}

export function signResultJson(r: SignResult, signer: SignerJson): OutcomeJson & { model: ModelJson; signature: string; signer: SignerJson } {
  return { version: OUTPUT_VERSION, command: 'sign', ok: true, model: modelJson(r.manifest, manifestDigest(r.manifest)), signature: r.signaturePath, signer, warnings: r.warnings };
}
