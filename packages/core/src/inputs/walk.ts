import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats, type Stats } from 'node:fs';
import path from 'node:path';
import { ModelPathError } from '../errors.js';
import { hfBlobTarget, hfSnapshotOf } from './hf-snapshot.js';

/** A regular file of the model: its manifest name and where to read it. */
export interface ModelFile {
  /** POSIX path relative to the model root, or "." for a single-file model */
  name: string;
  /** absolute path to read (the link target when a symlink was followed) */
  absPath: string;
  size: number;
  /**
   * What identifies this exact state of the file, for digests known without
   * reading it (a verification cache, incremental re-signing): device, inode,
   * and mtime/ctime in nanoseconds. Absent for tarball entries.
   */
  state?: FileState;
}

export interface FileState {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function fileState(st: BigIntStats): FileState {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

function regular(name: string, absPath: string, st: BigIntStats): ModelFile {
  return { name, absPath, size: Number(st.size), state: fileState(st) };
}

export interface WalkOptions {
  /** normalized relative paths; a folder ignores everything below it */
  ignorePaths: readonly string[];
  allowSymlinks: boolean;
}

export interface WalkedModel {
  modelName: string;
  kind: 'folder' | 'file';
  files: ModelFile[];
}

function describe(st: Stats | BigIntStats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file or folder';
}

function fsError(p: string, err: unknown): ModelPathError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ModelPathError('MODEL_NOT_FOUND', `${p}: no such file or folder`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new ModelPathError('MODEL_UNREADABLE', `${p}: permission denied`, { cause: err });
  return new ModelPathError('MODEL_UNREADABLE', `${p}: ${(err as Error).message}`, { cause: err });
}

function attempt<T>(p: string, fn: (p: string) => T): T {
  try {
    return fn(p);
  } catch (err) {
    throw fsError(p, err);
  }
}

/**
 * Lists the files of a model folder (or the one file of a single-file model).
 * Symlinks are refused unless allowed, and even then only followed while
 * their target stays inside the model root.
 */
export function walkModel(modelPath: string, opts: WalkOptions): WalkedModel {
  const given = path.resolve(modelPath);
  // The root itself is what the user named, so a symlinked root is resolved, not refused.
  const root = attempt(given, (p) => realpathSync(p));
  const rootStat = attempt(root, (p) => lstatSync(p, { bigint: true }));
  const modelName = path.basename(given);
  if (rootStat.isFile()) {
    return { modelName, kind: 'file', files: [regular('.', root, rootStat)] };
  }
  if (!rootStat.isDirectory()) throw new ModelPathError('BAD_MODEL_PATH', `${modelPath}: ${describe(rootStat)}`);

  const files: ModelFile[] = [];
  // A name is ignored when it or a folder above it is listed: a Set and the name's own prefixes, so the
  // cost is the name's depth, not the length of the list (a planted signature can list many paths).
  const ignoreSet = new Set(opts.ignorePaths);
  const ignored = (name: string) => {
    for (let end = name.length; end > 0; end = name.lastIndexOf('/', end - 1)) if (ignoreSet.has(name.slice(0, end))) return true;
    return false;
  };
  const visitedDirs = new Set<string>([root]);
  // A Hugging Face cache snapshot: its links into the repository's own blobs/ are the files.
  const hf = hfSnapshotOf(root);
  // Explicit stack: deep trees must not overflow the JS call stack.
  const stack: Array<{ abs: string; name: string }> = [{ abs: root, name: '' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(dir.abs, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      throw new ModelPathError('MODEL_UNREADABLE', `${dir.abs}: cannot list folder: ${(err as Error).message}`, { cause: err });
    }
    for (const ent of entries) {
      const base = ent.name.toString('utf8');
      // Node would decode invalid UTF-8 to U+FFFD: a name that then no longer names the file on disk.
      if (!Buffer.from(base, 'utf8').equals(ent.name)) {
        throw new ModelPathError('BAD_FILE_NAME', `${path.join(dir.abs, base)}: file name is not valid UTF-8; OMS manifests name files in UTF-8 (rename it)`);
      }
      const name = dir.name ? `${dir.name}/${base}` : base;
      if (ignored(name)) continue;
      const abs = path.join(dir.abs, base);
      if (ent.isSymbolicLink()) {
        const blob = hf && hfBlobTarget(hf, abs);
        if (blob) {
          files.push(regular(name, blob.target, blob.stat));
          continue;
        }
        if (!opts.allowSymlinks) {
          throw new ModelPathError('SYMLINK_REFUSED', `${abs}: is a symbolic link; symlinks are refused unless --allow-symlinks is given`);
        }
        let target: string;
        try {
          target = realpathSync(abs);
        } catch (err) {
          throw new ModelPathError('BROKEN_SYMLINK', `${abs}: symbolic link does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
        }
        const rel = path.relative(root, target);
        if (rel === '') throw new ModelPathError('SYMLINK_LOOP', `${abs}: symbolic link points back to the model folder itself`);
        if ( rel.startsWith('..') || path.isAbsolute(rel)) {
          throw new ModelPathError('SYMLINK_ESCAPES_MODEL', `${abs}: symbolic link points outside the model folder (to ${target})`);
        }
        const st = attempt(target, (p) => statSync(p, { bigint: true }));
        if (st.isFile()) files.push(regular(name, target, st));
        else if (st.isDirectory()) {
          if (visitedDirs.has(target)) {
            throw new ModelPathError('SYMLINK_LOOP', `${abs}: symbolic link leads to a folder already walked (${target})`);
          }
          visitedDirs.add(target);
          stack.push({ abs: target, name });
        } else throw new ModelPathError('BAD_FILE_TYPE', `${abs}: link target is ${describe(st)}`);
      } else if (ent.isDirectory()) {
        stack.push({ abs, name });
      } else if (ent.isFile()) {
        files.push(regular(name, abs, attempt(abs, (p) => lstatSync(p, { bigint: true }))));
      } else {
        throw new ModelPathError('BAD_FILE_TYPE', `${abs}: ${describe(attempt(abs, (p) => lstatSync(p)))}; only regular files and folders can be hashed`);
      }
    }
  }
  return { modelName, kind: 'folder', files };
}
