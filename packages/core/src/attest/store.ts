import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { SerializedBundle } from '../bundle.js';
import { InputError, ModelsealError } from '../errors.js';
import { kindOf, LIMITS, readBoundedFile } from '../limits.js';
import type { AttestationSource, StoredAttestation } from './source.js';

export type { AttestationSource, StoredAttestation } from './source.js';

export const ATTESTATION_SUFFIX = '.sigstore.json';

/**
 * Attestations live beside the model (`<model>.attestations/`), not inside
 * it: inside, every new attestation would be an unsigned extra file to a
 * plain OMS verifier such as model_signing.
 */
export function defaultAttestationsDir(modelPath: string): string {
  return `${path.resolve(modelPath)}.attestations`;
}

export function writeAttestation(dir: string, label: string, bundle: SerializedBundle, now = new Date()): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new InputError('WRITE_FAILED', `${dir}: cannot create attestations folder (${(err as Error).message})`, { cause: err });
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${label}-${stamp}-${randomBytes(3).toString('hex')}${ATTESTATION_SUFFIX}`);
  const text = JSON.stringify(bundle, null, 2) + '\n';
  if (text.length > LIMITS.bundleBytes) throw new InputError('BUNDLE_TOO_LARGE', `attestation of ${text.length} bytes is over the ${LIMITS.bundleBytes}-byte limit for a bundle`);
  writeFileAtomic(file, text);
  return file;
}

/**
 * The attestations in a folder. Symlinks, folders and other non-files are
 * reported as unreadable entries (never followed, never fatal); the number of
 * files and the bytes read are bounded so a planted folder cannot exhaust memory.
 */
export function folderAttestations(dir: string): AttestationSource {
  return {
    description: `folder ${dir}`,
    list: async () => readAttestations(dir),
  };
}

/** Every attestation file in the folder; a folder that does not exist holds none. */
export function readAttestations(dir: string): Array<StoredAttestation | { file: string; error: string }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InputError('ATTESTATIONS_UNREADABLE', `${dir}: cannot list attestations (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const wanted = names.filter((n) => n.endsWith(ATTESTATION_SUFFIX)).sort();
  if (wanted.length > LIMITS.attestationFiles) {
    throw new InputError('ATTESTATIONS_TOO_MANY', `${dir}: ${wanted.length} attestation files, over the limit of ${LIMITS.attestationFiles}`);
  }
  let total = 0;
  return wanted.map((n) => {
    const file = path.join(dir, n);
    try {
      const st = lstatSync(file);
      if (!st.isFile()) return { file, error: `${kindOf(st)}, not a regular file (not followed)` };
      if (total + st.size > LIMITS.attestationBytes) {
        throw new InputError('ATTESTATIONS_TOO_LARGE', `${dir}: attestation files add up to more than ${LIMITS.attestationBytes} bytes`);
      }
      const bytes = readBoundedFile(file, { limit: LIMITS.bundleBytes, what: 'attestation', notFoundCode: 'ATTESTATION_UNREADABLE', tooLargeCode: 'BUNDLE_TOO_LARGE' });
      total += bytes.length;
      return { file, bytes };
    } catch (err) {
      if (err instanceof InputError && (err.code === 'ATTESTATIONS_TOO_LARGE')) throw err;
      return { file, error: err instanceof ModelsealError ? `${err.message} [${err.code}]` : (err as Error).message };
    }
  });
}
