import { FormatError } from '../errors.js';
import { IN_TOTO_STATEMENT_V1 } from '../statement.js';

/** An in-toto Statement v1 about one model, identified by its OMS root digest. */
export interface ModelStatement<P = unknown> {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: string;
  predicate: P;
}

export function modelStatement<P>(modelName: string, rootDigest: string, predicateType: string, predicate: P): ModelStatement<P> {
  return { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: modelName, digest: { sha256: rootDigest } }], predicateType, predicate };
}

/** Checks the envelope of an attestation statement; the predicate is checked by its own parser. */
export function parseModelStatement(v: unknown): ModelStatement {
  const s = v as Partial<ModelStatement> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new FormatError('BAD_STATEMENT', 'attestation payload is not a JSON object');
  if (s._type !== IN_TOTO_STATEMENT_V1) throw new FormatError('BAD_STATEMENT', `attestation _type is ${JSON.stringify(s._type)}`);
  if (!Array.isArray(s.subject) || s.subject.length !== 1) throw new FormatError('BAD_SUBJECT', 'an attestation must have exactly one subject (the model)');
  const sub = s.subject[0];
  if (typeof sub?.name !== 'string' || typeof sub.digest?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sub.digest.sha256)) {
    throw new FormatError('BAD_SUBJECT', 'attestation subject must have a name and a sha256 digest');
  }
  if (typeof s.predicateType !== 'string') throw new FormatError('BAD_STATEMENT', 'attestation has no predicateType');
  if (typeof s.predicate !== 'object' || s.predicate === null) throw new FormatError('BAD_PREDICATE', 'attestation has no predicate');
  return s as ModelStatement;
}
