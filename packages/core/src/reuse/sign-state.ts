import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { FormatError } from '../errors.js';
import type { FileState } from '../inputs/walk.js';
import { LIMITS, parseJsonBounded, readBoundedFile } from '../limits.js';

/**
 * What incremental re-signing needs to know that a file is unchanged since a
 * signature was made: the exact state (device, inode, size, mtime and ctime
 * in ns) each file had when it was hashed for that signature. Kept on the
 * signing machine, one record per signed payload, named by the payload's
 * SHA-256, so a signature finds its record whatever its file is called or
 * wherever it was copied. ctime cannot be set by a user: a file written and
 * given its old mtime back (utimes) still shows a new ctime.
 *
 * Wire form: `{ "format": "modelseal-sign-state", "version": 1,
 *   "payloadSha256": "<hex>", "files": [["name", "dev", "ino", "size", "mtimeNs", "ctimeNs"], ...] }`
 */
export const SIGN_STATE_FORMAT = 'modelseal-sign-state';

/**
 * A file changed within this long before its state was read could change
 * again without its ctime moving (file times tick coarsely, and NFS stamps
 * them with the server's clock): such a file is not recorded, so the next
 * re-sign reads it again.
 */
export const RACY_MARGIN_NS = 2_000_000_000n;

/** `MODELSEAL_STATE_DIR`, else `$XDG_CACHE_HOME/modelseal/sign-state`, else `~/.cache/modelseal/sign-state`; `off` turns recording off. */
export function defaultSignStateDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.MODELSEAL_STATE_DIR;
  if (set !== undefined && set !== '') return set === 'off' ? undefined : set;
  const cache = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'modelseal', 'sign-state');
}

export function payloadDigest(payload: Buffer): string {
  return createHash('sha256').update(payload).digest('hex');
}

function statePath(dir: string, payloadSha256: string): string {
  return path.join(dir, `${payloadSha256}.json`);
}

const key = (s: FileState) => `${s.dev} ${s.ino} ${s.size} ${s.mtimeNs} ${s.ctimeNs}`;

/** Collects file states while hashing, leaving out files changed too recently to trust (RACY_MARGIN_NS). */
export class StateRecorder {
  readonly files = new Map<string, FileState>();
  /** wall clock when hashing began, in ns */
  constructor(private readonly startedNs: bigint = BigInt(Date.now()) * 1_000_000n) {}

  note(name: string, state: FileState | undefined): void {
    if (!state) return;
    if (state.ctimeNs + RACY_MARGIN_NS >= this.startedNs || state.mtimeNs + RACY_MARGIN_NS >= this.startedNs) return;
    this.files.set(name, state);
  }

  /** Writes the record for `payloadSha256` (owner-only: it tells which files a model has). */
  write(dir: string, payloadSha256: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = [...this.files].map(([name, s]) => [name, String(s.dev), String(s.ino), String(s.size), String(s.mtimeNs), String(s.ctimeNs)]);
    const file = statePath(dir, payloadSha256);
    writeFileAtomic(file, JSON.stringify({ format: SIGN_STATE_FORMAT, version: 1, payloadSha256, files }) + '\n', { mode: 0o600 });
    return file;
  }
}

/** The recorded state of each file for a signed payload; undefined when this machine has no record. */
export function readSignState(dir: string, payloadSha256: string): Map<string, string> | undefined {
  const file = statePath(dir, payloadSha256);
  let text: Buffer;
  try {
    text = readBoundedFile(file, { limit: LIMITS.signStateBytes, what: 'sign state record', notFoundCode: 'SIGN_STATE_NOT_FOUND' });
  } catch (err) {
    if ((err as { code?: string }).code === 'SIGN_STATE_NOT_FOUND') return undefined;
    throw err;
  }
  const v = parseJsonBounded(text, file, 'BAD_SIGN_STATE') as { format?: unknown; version?: unknown; payloadSha256?: unknown; files?: unknown };
  const ok = typeof v === 'object' && v !== null && v.format === SIGN_STATE_FORMAT && v.version === 1 && v.payloadSha256 === payloadSha256 && Array.isArray(v.files);
  if (!ok) throw new FormatError('BAD_SIGN_STATE', `${file}: not a sign state record for payload ${payloadSha256}; delete it`);
  const out = new Map<string, string>();
  for (const e of v.files as unknown[]) {
    if (!Array.isArray(e) || e.length !== 6 || !e.every((x) => typeof x === 'string')) throw new FormatError('BAD_SIGN_STATE', `${file}: malformed entry; delete it`);
    const [name, ...s] = e as string[];
    out.set(name!, s.join(' '));
  }
  return out;
}

/** True when `state` is exactly the recorded one. */
export function sameState(recorded: string | undefined, state: FileState | undefined): boolean {
  return recorded !== undefined && state !== undefined && recorded === key(state);
}
