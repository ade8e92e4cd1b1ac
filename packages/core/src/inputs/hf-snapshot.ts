import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readBoundedFile } from '../limits.js';

/**
 * The Hugging Face hub cache keeps each repository as
 *   <cache>/models--org--name/blobs/<etag>          the bytes, named by etag
 *   <cache>/models--org--name/snapshots/<rev>/...   relative symlinks into ../../blobs
 *   <cache>/models--org--name/refs/<branch>         the commit hash a branch points to
 * A snapshot is verified in place: its symlinks are followed only into that
 * same repository's own `blobs/` folder, and a blob's name is never taken as
 * its digest (every byte is hashed).
 */
export interface HfSnapshot {
  /** the repository folder (models--org--name), resolved */
  repoDir: string;
  /** its blobs folder, checked to be a real folder and not a symlink */
  blobsDir: string;
}

const REPO_DIR = /^(models|datasets|spaces)--./;

/**
 * Recognises a resolved model root that is a snapshot folder of the hub cache.
 * A `blobs` that is itself a symlink (it could lead anywhere) disqualifies the layout.
 */
export function hfSnapshotOf(root: string): HfSnapshot | undefined {
  const snapshots = path.dirname(root);
  const repoDir = path.dirname(snapshots);
  if (path.basename(snapshots) !== 'snapshots' || !REPO_DIR.test(path.basename(repoDir))) return undefined;
  const blobsDir = path.join(repoDir, 'blobs');
  try {
    if (!lstatSync(blobsDir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return { repoDir, blobsDir };
}

/**
 * Where a snapshot symlink leads, when that is a regular file directly inside
 * the repository's blobs folder; undefined for any other link (which the
 * walker then refuses as it refuses every symlink).
 */
export function hfBlobTarget(snap: HfSnapshot, link: string): { target: string; stat: BigIntStats } | undefined {
  let target: string;
  try {
    target = realpathSync(link);
  } catch {
    return undefined;
  }
  if (path.dirname(target) !== snap.blobsDir) return undefined;
  try {
    const st = lstatSync(target, { bigint: true });
    return st.isFile() ? { target, stat: st } : undefined;
  } catch {
    return undefined; // gone since realpath: the walker reports the link as it finds it
  }
}

/** The hub cache folder, as huggingface_hub finds it: HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub. */
export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, 'hub');
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'huggingface', 'hub');
  return path.join(homedir(), '.cache', 'huggingface', 'hub');
}

/** Model paths starting with this name a Hugging Face repository in the local hub cache. */
export const HF_URI_PREFIX = 'hf://';
const COMMIT = /^[0-9a-f]{40}$/;
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Resolves `hf://org/name[@rev]` to its snapshot folder in the local cache,
 * without network. `rev` is a commit hash, or a branch/tag name looked up in
 * `refs/` (default `main`).
 */
export function resolveHfUri(uri: string, env: NodeJS.ProcessEnv = process.env): string {
  const spec = uri.slice(HF_URI_PREFIX.length);
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const rev = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => NAME_PART.test(p) && !p.includes('--') && p !== '..')) {
    throw new InputError('BAD_HF_URI', `${uri}: expected hf://org/name or hf://org/name@revision`);
  }
  if (rev === '' || rev.split('/').some((s) => s === '' || s === '.' || s === '..') || rev.includes('\0')) {
    throw new InputError('BAD_HF_URI', `${uri}: bad revision "${rev}"`);
  }
  const cache = hfHubCacheDir(env);
  const repoDir = path.join(cache, `models--${parts[0]}--${parts[1]}`);
  if (!isDir(repoDir)) throw new InputError('HF_MODEL_NOT_CACHED', `${uri}: not in the Hugging Face cache (${repoDir}); download it first (huggingface-cli download ${repo})`);
  let commit = rev;
  if (!COMMIT.test(rev)) {
    const ref = path.join(repoDir, 'refs', ...rev.split('/'));
    const text = readBoundedFile(ref, { limit: 1024, what: 'Hugging Face ref', notFoundCode: 'HF_REVISION_NOT_CACHED' }).toString('utf8').trim();
    if (!COMMIT.test(text)) throw new InputError('BAD_HF_REF', `${ref}: does not hold a commit hash`);
    commit = text;
  }
  const snapshot = path.join(repoDir, 'snapshots', commit);
  if (!isDir(snapshot)) {
    const have = safeList(path.join(repoDir, 'snapshots'));
    throw new InputError('HF_REVISION_NOT_CACHED', `${uri}: revision ${commit} is not in the cache${have.length ? ` (cached: ${have.join(', ')})` : ''}`);
  }
  return snapshot;
}

/** `hf://...` resolved to its snapshot; any other model path unchanged. */
export function resolveModelPath(model: string, env: NodeJS.ProcessEnv = process.env): string {
  return model.startsWith(HF_URI_PREFIX) ? resolveHfUri(model, env) : model;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function safeList(p: string): string[] {
  try {
    return readdirSync(p).slice(0, 5);
  } catch {
    return [];
  }
}
