import { writeFileAtomic } from './atomic-write.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from './limits.js';
import type { Manifest } from './manifest.js';
import { bundleText, signManifest, type Signer, type SignResult } from './sign-model.js';
import { parseOmsStatement } from './statement.js';

/**
 * Reads a manifest someone computed already (`modelseal hash --output`,
 * `modelseal manifest merge`): an OMS in-toto statement, checked in full
 * (canonical order, digest shapes, subject digest = root of the resources).
 */
export function readManifestFile(file: string): Manifest {
  const text = readBoundedFile(file, { limit: LIMITS.manifestBytes, what: 'manifest', notFoundCode: 'MANIFEST_NOT_FOUND', tooLargeCode: 'MANIFEST_TOO_LARGE' });
  return parseOmsStatement(parseJsonBounded(text, file, 'BAD_MANIFEST'));
}

/**
 * Signs a precomputed manifest without reading the model: the signer states
 * that the model is what the manifest says, on the word of whoever hashed it
 * (the machines of a distributed hash, an OCI manifest's layer digests).
 */
export async function signPrecomputed(manifestFile: string, opts: { signer: Signer; signaturePath: string }): Promise<SignResult> {
  const manifest = readManifestFile(manifestFile);
  const bundle = await signManifest(manifest, opts.signer);
  writeFileAtomic(opts.signaturePath, bundleText(bundle));
  return { manifest, bundle, signaturePath: opts.signaturePath, warnings: [] };
}
