/**
 * @modelseal/core: the public API. Hash, sign and verify ML models in the
 * OpenSSF Model Signing (OMS) format, check them against a release policy,
 * and load them verified at serving time.
 *
 * Everything here is a deliberate API decision (see the README's Library
 * section). The building blocks the CLI and the GitHub Action also use live
 * behind `@modelseal/core/internals`, which follows no compatibility promise.
 *
 * @packageDocumentation
 */

// ---- errors: every failure is a ModelsealError with a stable `code` ----------
/** Base class of every modelseal failure: `code` (stable, UPPER_SNAKE) and `family` (`input` or `verification`). */
export { ModelsealError } from './errors.js';
/** Bad usage or bad input (CLI exit 2). */
export { InputError } from './errors.js';
/** A manifest, statement, bundle or policy that does not follow its format (an InputError). */
export { FormatError } from './errors.js';
/** The model path holds something modelseal refuses to hash: special files, escaping symlinks (an InputError). */
export { ModelPathError } from './errors.js';
/** The inputs were well-formed but do not prove what was asked (CLI exit 1). */
export { VerificationError } from './errors.js';
/** The CLI exit code for an error: 1 for verification failures, 2 otherwise. */
export { exitCodeFor } from './errors.js';
/** `input` or `verification`. */
export type { ErrorFamily } from './errors.js';
/** MODEL_MISMATCH: the model differs from what was signed; `.differences` lists changed, missing and extra names. */
export { ModelMismatchError } from './verify-model.js';
/** POLICY_FAILED: the policy's verdict was fail; `.report` says which rules failed and why. */
export { PolicyVerdictError } from './policy/verdict-error.js';

// ---- hashing ---------------------------------------------------------------
/** Hashes a model folder, file or tarball into its OMS manifest. */
export { hashModel } from './hash-model.js';
/** Options of `hashModel` and `signModel`: hash type, files or shards, ignores, symlinks, progress. */
export type { HashOptions, HashProgress } from './hash-model.js';
/** A hashed model: resources, serialization and root digest. */
export type { Manifest, ResourceDescriptor, Serialization } from './manifest.js';
/** The in-toto statement that is signed for a manifest. */
export { toOmsStatement } from './statement.js';
/** The digest and hash type names. */
export type { HashType } from './hashing/algorithms.js';

// ---- keys, signers and trust -------------------------------------------------
/** Reads a PEM public key file (Ed25519, ECDSA P-256/384/521). */
export { loadPublicKey } from './keys.js';
/** Reads a PEM private key file, encrypted or not. */
export { loadPrivateKey } from './keys.js';
/** Makes a new key pair as PEM text. */
export { generateKeyPair } from './keys.js';
/** Key types modelseal signs and verifies with. */
export { KEY_TYPES, type KeyType } from './keys.js';
/** Reads PEM certificates (a CA bundle, a chain). */
export { loadCertificates } from './x509-chain.js';
/** A signer from a private key (and optionally its certificate chain). */
export { keySigner } from './sign-model.js';
/** Who signs, as `signModel` takes it. */
export type { Signer } from './sign-model.js';
/** Keyless (Sigstore: Fulcio certificate, Rekor entry) signing. */
export { keylessSigner } from './sigstore/keyless-sign.js';
/** Sigstore trust roots: the public-good one shipped with modelseal, or one read from a file. */
export { publicGoodTrustedRoot, loadTrustedRoot } from './sigstore/trusted-root.js';
/** What a keyless signer's certificate must say (identity, issuer, GitHub claims). */
export type { IdentityPolicy } from './sigstore/identity.js';
/** Keyless trust: a trusted root and an identity policy. */
export type { KeylessTrust, KeylessSigner } from './sigstore/keyless-verify.js';
/** Trust as users spell it (key file, CA files, keyless identity) into a `Trust`, as every entry point does. */
export { trustFromSpec, type TrustSpec } from './trust-options.js';

// ---- signing and verifying ---------------------------------------------------
/** Hashes, signs and writes the signature (a Sigstore bundle, `model.sig` by default). */
export { signModel, type SignOptions, type SignResult } from './sign-model.js';
/** Verifies a model against its signature; throws on any doubt. */
export { verifyModel, type VerifyOptions, type VerifyResult, type VerifiedSigner, type Trust } from './verify-model.js';
/** How a model differs from its signature. */
export type { ManifestDifferences } from './compare.js';

// ---- release policy --------------------------------------------------------------
/** Reads and validates a release policy file (YAML or JSON). */
export { loadPolicy, type LoadedPolicy } from './policy/load.js';
/** Evaluates a policy: signature, provenance, approvals; one report, every rule. */
export { evaluatePolicy, type EvaluateOptions, type PolicyReport, type RuleResult } from './policy/evaluate.js';

// ---- load time -------------------------------------------------------------------
/** Opens a model for verified reading: every byte read is checked against the signed manifest. */
export { openVerified, type OpenVerifiedOptions, type VerifiedModel, type VerifiedReadOptions } from './load/open-verified.js';
/** `verifyModel` with a policy option, the verification cache, `hf://` paths and an audit event. */
export { verifyModelAudited, type AuditedVerifyOptions, type AuditedVerifyResult } from './load/verify-audited.js';
/** A trust or a policy, as the load-time functions take them. */
export type { LoadTrustOptions } from './load/trust-decision.js';
/** The verification cache's location. */
export type { VerificationCacheOptions } from './load/verification-cache.js';
/** Audit events and the JSON Lines writer. */
export { appendAuditEvent, AUDIT_EVENT_VERSION, type AuditEvent } from './load/audit.js';
/** `hf://org/name[@rev]` to its snapshot folder in the local Hugging Face cache. */
export { resolveModelPath, resolveHfUri, hfHubCacheDir } from './inputs/hf-snapshot.js';

// ---- JSON shapes ------------------------------------------------------------------
/** The signer, model and error as every JSON output and audit event writes them. */
export type { SignerJson, ModelJson, ErrorJson } from './report/json.js';
/** A verified signer in its JSON form (as `verify --json` and audit events write it). */
export { signerJson } from './report/json.js';
