import type { Manifest, ParsedBundle, PolicyReport, VerifyResult } from '@modelseal/core/internals';
import type { BundleFacts } from './bundle-facts.js';
import type { Mode } from './inputs.js';

/** What each mode produced: the data the outputs, the JSON report and the job summary are rendered from. */
export type ModeResult =
  | { mode: 'sign'; manifest: Manifest; signaturePath: string; bundle: ParsedBundle }
  | { mode: 'attest-provenance' | 'approve'; name: string; digest: string; file: string; predicateType: string; predicate: unknown; bundle: ParsedBundle }
  | { mode: 'verify'; result: VerifyResult; signaturePath: string; bundle: ParsedBundle }
  | {
      mode: 'gate';
      report: PolicyReport;
      policyFile: string;
      stage?: string;
      signaturePath: string;
      /** where attestations were read from, for the summary */
      source: string;
      /** the signature's details, when it parses */
      signature?: BundleFacts;
      /** each attestation the source returned, by the name the report uses */
      attestations: Map<string, BundleFacts | undefined>;
    };

/** A mode that threw: a bad input, or a verification failure (verify mode). */
export interface ModeFailure {
  mode: Mode;
  error: unknown;
  modelPath: string;
}
