import { FormatError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { manifestDigest } from '../manifest-digest.js';
import { IN_TOTO_STATEMENT_V1, parseOmsSerialization, toOmsSerialization, type OmsSerialization } from '../statement.js';
import type { Serialization } from '../manifest.js';

/**
 * Subject annotations that bind an attestation to the whole manifest. The OMS
 * root digest hashes resource digests only, so renaming `docs.txt` to
 * `modeling.py` keeps it; the manifest digest covers names and hashing
 * parameters too, and the serialization says how the digest was computed (so
 * a mismatch can be told apart from a changed model).
 */
export const MANIFEST_DIGEST_ANNOTATION = 'dev.modelseal.manifest.sha256';
export const SERIALIZATION_ANNOTATION = 'dev.modelseal.serialization';

/** An in-toto Statement v1 about one model, identified by its OMS root digest. */
export interface ModelStatement<P = unknown> {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: [{ name: string; digest: { sha256: string }; annotations?: { [MANIFEST_DIGEST_ANNOTATION]?: string; [SERIALIZATION_ANNOTATION]?: OmsSerialization } }];
  predicateType: string;
  predicate: P;
}

export function modelStatement<P>(m: Manifest, predicateType: string, predicate: P): ModelStatement<P> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: m.modelName, digest: { sha256: m.rootDigest }, annotations: { [MANIFEST_DIGEST_ANNOTATION]: manifestDigest(m), [SERIALIZATION_ANNOTATION]: toOmsSerialization(m.serialization) } }],
    predicateType,
    predicate,
  };
}

/** What an attestation's subject binds: always the root digest; the manifest digest and serialization when recorded. */
export interface SubjectBinding {
  rootDigest: string;
  manifestDigest?: string;
  serialization?: Serialization;
}

export function subjectBinding(s: ModelStatement): SubjectBinding {
  const a = s.subject[0].annotations;
  return {
    rootDigest: s.subject[0].digest.sha256,
    ...(a?.[MANIFEST_DIGEST_ANNOTATION] ? { manifestDigest: a[MANIFEST_DIGEST_ANNOTATION] } : {}),
    ...(a?.[SERIALIZATION_ANNOTATION] ? { serialization: parseOmsSerialization(a[SERIALIZATION_ANNOTATION]) } : {}),
  };
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
  const a = sub.annotations as Record<string, unknown> | undefined;
  if (a !== undefined) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new FormatError('BAD_SUBJECT', 'attestation subject annotations must be an object');
    const md = a[MANIFEST_DIGEST_ANNOTATION];
    if (md !== undefined && (typeof md !== 'string' || !/^[0-9a-f]{64}$/.test(md))) throw new FormatError('BAD_SUBJECT', `attestation ${MANIFEST_DIGEST_ANNOTATION} must be 64 lowercase hex digits`);
    if (a[SERIALIZATION_ANNOTATION] !== undefined) parseOmsSerialization(a[SERIALIZATION_ANNOTATION]);
  }
  if (typeof s.predicateType !== 'string') throw new FormatError('BAD_STATEMENT', 'attestation has no predicateType');
  if (typeof s.predicate !== 'object' || s.predicate === null) throw new FormatError('BAD_PREDICATE', 'attestation has no predicate');
  return s as ModelStatement;
}
