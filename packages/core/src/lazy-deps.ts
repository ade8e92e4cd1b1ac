import { createRequire } from 'node:module';

/**
 * Dependencies that cost start-up time and only some runs need, loaded on
 * first use (they are CommonJS, so a synchronous require works). Verifying a
 * model signed with a key never touches the Sigstore libraries; loading them
 * at import time cost every `modelseal verify` about 0.05 s.
 */
// Each call is spelled `createRequire(import.meta.url)('<id>')` in full: the Action's bundler
// (packages/github-action/build.mjs) recognises that form and bundles the module.

let verifyMod: typeof import('@sigstore/verify') | undefined;
let bundleMod: typeof import('@sigstore/bundle') | undefined;
let coreMod: typeof import('@sigstore/core') | undefined;
let protobufMod: typeof import('@sigstore/protobuf-specs') | undefined;

export function sigstoreVerify(): typeof import('@sigstore/verify') {
  return (verifyMod ??= createRequire(import.meta.url)('@sigstore/verify') as typeof import('@sigstore/verify'));
}
export function sigstoreBundle(): typeof import('@sigstore/bundle') {
  return (bundleMod ??= createRequire(import.meta.url)('@sigstore/bundle') as typeof import('@sigstore/bundle'));
}
export function sigstoreCore(): typeof import('@sigstore/core') {
  return (coreMod ??= createRequire(import.meta.url)('@sigstore/core') as typeof import('@sigstore/core'));
}
export function sigstoreProtobuf(): typeof import('@sigstore/protobuf-specs') {
  return (protobufMod ??= createRequire(import.meta.url)('@sigstore/protobuf-specs') as typeof import('@sigstore/protobuf-specs'));
}
