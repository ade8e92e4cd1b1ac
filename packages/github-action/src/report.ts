import { bundleSignerJson, failureJson, OUTPUT_VERSION, policyReportJson, signResultJson, verifyResultJson, type OutcomeJson } from '@modelseal/core/internals';
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
/** Any command's `--json` object: the common fields, and the command's own. */
export type ReportJson = OutcomeJson & { [field: string]: unknown };

export function reportJson(r: ModeResult | ModeFailure): ReportJson {
  if ('error' in r) return failureJson(COMMAND[r.mode], r.error);
  const head = { version: OUTPUT_VERSION as typeof OUTPUT_VERSION, command: COMMAND[r.mode], warnings: [] as string[] };
  switch (r.mode) {
    case 'sign':
      return { ...(signResultJson({ manifest: r.manifest, bundle: r.bundle.json, signaturePath: r.signaturePath, warnings: [] }, bundleSignerJson(r.bundle.json)) as unknown as ReportJson) };
    case 'attest-provenance':
    case 'approve':
      return { ...head, ok: true, model: { name: r.name, digest: { sha256: r.digest } }, attestation: r.file, predicateType: r.predicateType, predicate: r.predicate };
    case 'verify':
      return { ...(verifyResultJson(r.result) as unknown as ReportJson), signature: r.signaturePath };
    case 'gate': {
      const j = policyReportJson(r.report) as unknown as ReportJson;
      return r.report.ok ? j : { ...j, error: { code: 'POLICY_FAILED', message: `${r.report.rules.filter((x) => !x.ok).length} rule(s) failed`, family: 'verification' as const } };
    }
  }
}
