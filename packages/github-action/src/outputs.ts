import type { ModeFailure, ModeResult } from './results.js';

/**
 * The action's outputs (besides `report`) for each outcome. `verified` is set
 * by the modes that verify, `false` on any failure of those.
 */
export function outputsOf(r: ModeResult | ModeFailure): Record<string, string> {
  if ('error' in r) return r.mode === 'verify' || r.mode === 'gate' ? { verified: 'false' } : {};
  switch (r.mode) {
    case 'sign':
      return { digest: r.manifest.rootDigest, 'signature-path': r.signaturePath };
    case 'attest-provenance':
    case 'approve':
      return { digest: r.digest, 'bundle-path': r.file };
    case 'verify':
      return { digest: r.result.rootDigest, verified: 'true', 'signature-path': r.signaturePath };
    case 'gate':
      return { ...(r.report.model ? { digest: r.report.model.digest.sha256 } : {}), verified: String(r.report.ok), 'signature-path': r.signaturePath };
  }
}
