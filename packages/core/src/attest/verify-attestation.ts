import { parseBundle, type ParsedBundle } from '../bundle.js';
import { FormatError, VerificationError } from '../errors.js';
import { verifyEnvelope, type Trust, type VerifiedSigner } from '../verify-model.js';
import { parseModelStatement, type ModelStatement } from './statement.js';

/** A stable id for "the same signer": two signatures by one key or one identity are one approver. */
export function signerId(s: VerifiedSigner): string {
  if (s.kind === 'key') return `key:${s.fingerprint}`;
  if (s.kind === 'certificate') return `x509:${s.fingerprint}`;
  return `oidc:${s.identity.issuer} ${s.identity.subjectAlternativeName}`;
}

export function describeSigner(s: VerifiedSigner): string {
  if (s.kind === 'key') return `key ${s.fingerprint.slice(0, 16)}… (${s.keyType})`;
  if (s.kind === 'certificate') return `certificate "${s.subject}"`;
  return `${s.identity.subjectAlternativeName} (${s.identity.issuer})`;
}

export interface VerifiedAttestation {
  signer: VerifiedSigner;
  /** index into the trusts that accepted it */
  trustIndex: number;
  statement: ModelStatement;
}

/**
 * Verifies an attestation bundle (raw, or already parsed) against any one of
 * `trusts`, then parses its statement. The error says why each trust refused it.
 */
export function verifyAttestation(bundle: Buffer | string | ParsedBundle, trusts: readonly Trust[], where = 'attestation', at?: Date): VerifiedAttestation {
  const b = typeof bundle === 'string' || Buffer.isBuffer(bundle) ? parseBundle(bundle, where) : bundle;
  const reasons: string[] = [];
  for (let i = 0; i < trusts.length; i++) {
    try {
      const signer = verifyEnvelope(b, trusts[i]!, at);
      let json: unknown;
      try {
        json = JSON.parse(b.payload.toString('utf8'));
      } catch (err) {
        throw new FormatError('BAD_PAYLOAD', `${where}: payload is not JSON`, { cause: err });
      }
      return { signer, trustIndex: i, statement: parseModelStatement(json) };
    } catch (err) {
      if (err instanceof FormatError) throw err;
      reasons.push((err as Error).message);
    }
  }
  throw new VerificationError('UNTRUSTED_ATTESTATION_SIGNER', `${where}: not signed by a trusted signer (${reasons.join('; ') || 'no signers configured'})`);
}

/** Reads an attestation's statement without verifying anything: for listings only. */
export function peekAttestation(bytes: Buffer, where: string): { statement: ModelStatement; material: string } {
  const b = parseBundle(bytes, where);
  const statement = parseModelStatement(JSON.parse(b.payload.toString('utf8')));
  const m = b.material;
  const material = m.kind === 'publicKey' ? `key ${m.hint ?? '(no hint)'}` : m.kind === 'certificate' ? 'keyless certificate' : 'certificate chain';
  return { statement, material };
}
