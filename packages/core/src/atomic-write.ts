import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';

/**
 * Writes a file so that readers see the old content or the new, never half:
 * a temp file beside the target, fsync, then rename over it.
 * `exclusive` refuses to replace an existing file (keys).
 */
export function writeFileAtomic(target: string, data: string | Uint8Array, opts: { mode?: number; exclusive?: boolean } = {}): void {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (opts.exclusive) {
      // link() fails if the target exists, unlike rename(): no window where a key is overwritten.
      linkExclusive(tmp, target);
    } else {
      renameSync(tmp, target);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (err instanceof InputError) throw err;
    throw new InputError('WRITE_FAILED', `${target}: cannot write (${(err as Error).message})`, { cause: err });
  }
}

function linkExclusive(tmp: string, target: string): void {
  try {
    linkSync(tmp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InputError('FILE_EXISTS', `${target}: already exists; refusing to overwrite`, { cause: err });
    }
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}
