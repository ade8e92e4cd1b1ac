import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { SerializedBundle } from '../bundle.js';
import { MAX_BUNDLE_BYTES } from '../bundle.js';
import { InputError } from '../errors.js';

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
  writeFileAtomic(file, JSON.stringify(bundle, null, 2) + '\n');
  return file;
}

export interface StoredAttestation {
  file: string;
  bytes: Buffer;
}

/** Every attestation file in the folder; a folder that does not exist holds none. */
export function readAttestations(dir: string): StoredAttestation[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InputError('ATTESTATIONS_UNREADABLE', `${dir}: cannot list attestations (${(err as Error).message})`, { cause: err });
  }
  return names
    .filter((n) => n.endsWith(ATTESTATION_SUFFIX))
    .sort()
    .flatMap((n) => {
      const file = path.join(dir, n);
      const st = statSync(file);
      if (!st.isFile() || st.size > MAX_BUNDLE_BYTES) return [];
      return [{ file, bytes: readFileSync(file) }];
    });
}
