import { parseBundle, type ParsedBundle } from '../bundle.js';
import { FormatError, InputError, VerificationError } from '../errors.js';
import { parseJsonBounded } from '../limits.js';
import { verifyEnvelope, type Trust, type VerifiedSigner } from '../verify-model.js';
import { parseModelStatement, type ModelStatement } from './statement.js';

/**
 * A stable id for "the same signer". Key holders are identified by their
 * public key (SPKI digest), so a bare key and any number of certificates for
 * it are one approver; keyless signers by issuer and identity, since their
 * keys are ephemeral.
 */
export function signerId(s: VerifiedSigner): string {
  if (s.kind === 'keyless') return `oidc:${s.identity.issuer} ${s.identity.subjectAlternativeName}`;
  return `spki:${s.publicKeySha256}`;
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
      return { signer, trustIndex: i, statement: parseModelStatement(parseJsonBounded(b.payload, `${where}: payload`, 'BAD_PAYLOAD')) };
    } catch (err) {
      if (err instanceof FormatError || err instanceof InputError) throw err;
      reasons.push((err as Error).message);
    }
  }
  throw new VerificationError('UNTRUSTED_ATTESTATION_SIGNER', `${where}: not signed by a trusted signer (${reasons.join('; ') || 'no signers configured'})`);
}

/** Reads an attestation's statement without verifying anything: for listings only. */
export function peekAttestation(bytes: Buffer, where: string): { statement: ModelStatement; material: string } {
  const b = parseBundle(bytes, where);
  const statement = parseModelStatement(parseJsonBounded(b.payload, `${where}: payload`, 'BAD_PAYLOAD'));
  const m = b.material;
  const material = m.kind === 'publicKey' ? `key ${m.hint ?? '(no hint)'}` : m.kind === 'certificate' ? 'keyless certificate' : 'certificate chain';
  return { statement, material };
}
