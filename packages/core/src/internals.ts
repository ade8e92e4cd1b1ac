/**
 * @modelseal/core/internals: every building block, for modelseal's own CLI,
 * GitHub Action and tests. No compatibility promise: names and shapes here
 * change with the code. Library users import from `@modelseal/core`, the
 * deliberate public API (which this re-exports too).
 *
 * @packageDocumentation
 *
 * The OCI registry client is its own subpath, `@modelseal/core/oci`: it pulls in
 * node:http/https/tls, which every other command would otherwise pay for at start.
 */
export * from './errors.js';
export * from './paths.js';
export { HASH_TYPES, DIGEST_BYTES, parseHashType, createHasher, type HashType, type StreamHasher } from './hashing/algorithms.js';
export * from './manifest.js';
export * from './statement.js';
export * from './hash-model.js';
export { walkModel, type ModelFile, type WalkedModel, type WalkOptions } from './inputs/walk.js';
export { hashTarball, isTarballPath } from './inputs/tar.js';
export { writeFileAtomic } from './atomic-write.js';
export * from './dsse.js';
export * from './keys.js';
export * from './signature.js';
export * from './bundle.js';
export * from './x509-chain.js';
export * from './compare.js';
export * from './sign-model.js';
export * from './verify-model.js';
export * from './sigstore/trusted-root.js';
export * from './sigstore/identity.js';
export * from './sigstore/keyless-verify.js';
export * from './sigstore/identity-token.js';
export * from './sigstore/keyless-sign.js';
export * from './duration.js';
export * from './attest/statement.js';
export * from './attest/provenance.js';
export * from './attest/approval.js';
export * from './attest/store.js';
export * from './limits.js';
export * from './report/json.js';
export * from './attest/verify-attestation.js';
export * from './attest/create.js';
export * from './policy/load.js';
export * from './policy/evaluate.js';
export * from './trust-options.js';
export * from './printable.js';
export * from './manifest-digest.js';
export * from './report/outputs.js';
export * from './report/bundle-signer.js';
export * from './distributed/parts.js';
export * from './distributed/partial-manifest.js';
export * from './distributed/hash-part.js';
export * from './distributed/merge.js';
export * from './sign-precomputed.js';
export * from './reuse-signature.js';
export { defaultSignStateDir, RACY_MARGIN_NS } from './reuse/sign-state.js';
export * from './attest/github-source.js';
export * from './load/open-verified.js';
export * from './load/verify-audited.js';
export * from './load/verification-cache.js';
export * from './load/audit.js';
export { PolicyVerdictError } from './policy/verdict-error.js';
export { type LoadTrustOptions } from './load/trust-decision.js';
export { resolveHfUri, resolveModelPath, hfHubCacheDir, HF_URI_PREFIX } from './inputs/hf-snapshot.js';
export * from './load/trust-decision.js';
export * from './inputs/hf-snapshot.js';
export { fileState, type FileState } from './inputs/walk.js';
