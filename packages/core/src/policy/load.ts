import { LIMITS, readBoundedFile } from '../limits.js';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { loadPublicKey, spkiSha256 } from '../keys.js';
import { checkIdentityPolicy, type IdentityPolicy } from '../sigstore/identity.js';
import { loadCertificates } from '../x509-chain.js';

export type SignerSpec = { name?: string } & ({ key: string } | { certificateChain: string } | IdentityPolicy);

/** The policy file as written (validated against schemas/policy-v1.schema.json). */
export interface PolicyDocument {
  version: 1;
  signers: SignerSpec[];
  provenance?: { repository: string; workflow?: string; ref?: string; signers?: SignerSpec[] };
  approvals?: Record<string, { threshold: number; approvers: SignerSpec[]; maxAge?: string }>;
}

/** A signer the policy trusts, with its key or CA loaded. Keyless ones need a trusted root at evaluation. */
export type PolicySigner =
  | { label: string; kind: 'key'; publicKey: import('node:crypto').KeyObject }
  | { label: string; kind: 'certificate'; certificateAuthorities: import('node:crypto').X509Certificate[] }
  | { label: string; kind: 'keyless'; policy: IdentityPolicy };

/** A policy file, validated, with every key and CA it names loaded: what `evaluatePolicy` takes. */
export interface LoadedPolicy {
  file: string;
  signers: PolicySigner[];
  provenance?: { repository: string; workflow?: string; ref?: string; signers?: PolicySigner[] };
  approvals: Array<{ stage: string; threshold: number; approvers: PolicySigner[]; maxAgeMs?: number; maxAge?: string }>;
}

export const POLICY_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/policy-v1.schema.json', import.meta.url));

type Validator = ((v: unknown) => boolean) & { errors?: Array<{ keyword: string; instancePath: string; message?: string; params?: Record<string, unknown> }> | null };
let validator: Validator | undefined;
function validate(): Validator {
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: true, strict: false }).compile(
      // required, not read by path: a bundler (the GitHub Action's) can then inline the schema
      createRequire(import.meta.url)('../../schemas/policy-v1.schema.json') as object,
    ) as Validator;
  }
  return validator;
}

/** The first schema error in words a policy author can act on (an unknown key names the key). */
function schemaError(file: string, errors: NonNullable<Validator['errors']>): InputError {
  const unknown = errors.find((e) => e.params && 'additionalProperty' in e.params);
  if (unknown) {
    return new InputError('POLICY_INVALID', `${file}: unknown key "${String(unknown.params!.additionalProperty)}" at ${unknown.instancePath || '/'}`);
  }
  const e = errors.find((x) => x.keyword !== 'oneOf' && x.keyword !== 'anyOf') ?? errors[0]!;
  return new InputError('POLICY_INVALID', `${file}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

function signerLabel(s: SignerSpec): string {
  if (s.name) return s.name;
  if ('key' in s) return `key ${s.key}`;
  if ('certificateChain' in s) return `CA ${s.certificateChain}`;
  return s.identity ?? `/${s.identityRegexp}/`;
}

function loadSigner(s: SignerSpec, dir: string, file: string): PolicySigner {
  const label = signerLabel(s);
  if ('key' in s) {
    const p = path.resolve(dir, s.key);
    try {
      return { label, kind: 'key', publicKey: loadPublicKey(p).key };
    } catch (err) {
      throw new InputError('POLICY_KEY_MISSING', `${file}: signer key ${s.key}: ${(err as Error).message}`, { cause: err });
    }
  }
  if ('certificateChain' in s) {
    return { label, kind: 'certificate', certificateAuthorities: loadCertificates(path.resolve(dir, s.certificateChain)) };
  }
  const { name: _name, ...policy } = s;
  try {
    checkIdentityPolicy(policy);
  } catch (err) {
    throw new InputError('POLICY_INVALID', `${file}: signer ${label}: ${(err as Error).message.replace(/--identity-regexp|--identity/g, 'identity').replace(/--issuer-regexp|--issuer/g, 'issuer')}`, { cause: err });
  }
  return { label, kind: 'keyless', policy };
}

/** What makes two policy entries the same signer: one public key, one set of CAs, one identity rule. */
function signerIdentity(s: PolicySigner): string {
  if (s.kind === 'key') return `key ${spkiSha256(s.publicKey)}`;
  if (s.kind === 'certificate') return `ca ${s.certificateAuthorities.map((c) => c.fingerprint256).sort().join(',')}`;
  return `keyless ${JSON.stringify(Object.entries(s.policy).sort())}`;
}

/** A list that names one signer twice is a mistake the author must hear of: a k-of-n that can never be met, or a miscount. */
function refuseDuplicates(list: PolicySigner[], where: string, file: string): PolicySigner[] {
  const seen = new Map<string, string>();
  for (const s of list) {
    const id = signerIdentity(s);
    const first = seen.get(id);
    if (first !== undefined) throw new InputError('POLICY_INVALID', `${file}: ${where} lists one signer twice (${first} and ${s.label}${s.kind === 'key' ? ': the same public key' : ''})`);
    seen.set(id, s.label);
  }
  return list;
}

/** Reads a YAML or JSON policy, validates it, and loads every key and CA it names. */
export function loadPolicy(file: string): LoadedPolicy {
  const text = readBoundedFile(file, { limit: LIMITS.policyBytes, what: 'policy', notFoundCode: 'POLICY_UNREADABLE', tooLargeCode: 'POLICY_TOO_LARGE' }).toString('utf8');
  const json = /\.json$/i.test(file);
  let doc: unknown;
  try {
    if (json) JSON.parse(text); // strict JSON syntax first
    // Then through the YAML parser (JSON is YAML 1.2) for its duplicate-key check: JSON.parse keeps the last of two keys silently.
    // yaml is loaded on use: it costs every CLI start otherwise.
    doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new InputError('POLICY_INVALID', `${file}: not valid ${json ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  const v = validate();
  if (!v(doc)) throw schemaError(file, v.errors ?? []);
  const d = doc as PolicyDocument;
  const dir = path.dirname(path.resolve(file));
  const load = (list: SignerSpec[], where: string) => refuseDuplicates(list.map((s) => loadSigner(s, dir, file)), where, file);
  return {
    file,
    signers: load(d.signers, 'signers'),
    ...(d.provenance
      ? { provenance: { repository: d.provenance.repository, ...(d.provenance.workflow ? { workflow: d.provenance.workflow } : {}), ...(d.provenance.ref ? { ref: d.provenance.ref } : {}), ...(d.provenance.signers ? { signers: load(d.provenance.signers, 'provenance.signers') } : {}) } }
      : {}),
    approvals: Object.entries(d.approvals ?? {}).map(([stage, a]) => {
      const approvers = load(a.approvers, `approvals.${stage}.approvers`);
      if (a.threshold > approvers.length) {
        throw new InputError('POLICY_INVALID', `${file}: approvals.${stage}.threshold ${a.threshold} is more than its ${approvers.length} approvers`);
      }
      return { stage, threshold: a.threshold, approvers, ...(a.maxAge ? { maxAge: a.maxAge, maxAgeMs: parseDuration(a.maxAge, `approvals.${stage}.maxAge`) } : {}) };
    }),
  };
}
