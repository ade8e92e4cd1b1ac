export * from './errors.js';
export * from './paths.js';
export { HASH_TYPES, DIGEST_BYTES, parseHashType, createHasher, type HashType, type StreamHasher } from './hashing/algorithms.js';
export * from './manifest.js';
export * from './statement.js';
export * from './hash-model.js';
export { walkModel, type ModelFile, type WalkedModel, type WalkOptions } from './inputs/walk.js';
export { hashTarball, isTarballPath } from './inputs/tar.js';
export { writeFileAtomic } from './atomic-write.js';
