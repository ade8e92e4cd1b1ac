import { Transform, type TransformCallback } from 'node:stream';
import { ModelPathError } from '../errors.js';
import { LIMITS } from '../limits.js';

/**
 * A strict reader of tar headers, run on the same bytes as tar-stream (it
 * passes them through unchanged) so that modelseal does not trust one
 * library's reading of a format that readers disagree on.
 *
 * GNU tar, Python's tarfile and tar-stream read several header forms
 * differently: global PAX headers, sparse files, two extended headers in a
 * row, directories that carry data, V7 names ending in "/", a "prefix" field
 * outside the POSIX format, numbers with stray characters, anything after the
 * end-of-archive block. An archive using any of them could extract to files
 * that were never hashed, so each is refused with its own code. What is left
 * is the subset where all three readers agree: regular files and folders,
 * named by the ustar name (+ POSIX prefix), at most one GNU long name or one
 * PAX header with plain keywords before each entry.
 *
 * Each accepted entry is queued (name, kind, size); the caller checks that
 * tar-stream reports exactly the same entries in the same order.
 */

export interface InspectedEntry {
  /** the name as every reader sees it, before any normalisation */
  name: string;
  kind: 'file' | 'directory';
  size: number;
}

const BLOCK = 512;
const USTAR = Buffer.from('ustar\x0000', 'latin1');
const GNU = Buffer.from('ustar  \x00', 'latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** PAX keywords with one meaning in every reader, none of which changes what a file is or holds. */
const PAX_PLAIN = new Set(['path', 'size', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname', 'comment', 'charset', 'hdrcharset']);
/** Vendor keywords GNU tar, bsdtar and star write for metadata (ignored by readers that do not know them). */
const PAX_VENDOR = /^(SCHILY\.(xattr\.|acl\.|dev$|ino$|nlink$|fflags$)|LIBARCHIVE\.(xattr\.|creationtime$))/;
const UTF8_CHARSET = 'ISO-IR 10646 2000 UTF-8';

interface Pending {
  kind: 'pax' | 'gnu-long-name';
  path?: string;
  size?: number;
}

const refuse = (code: string, msg: string) => new ModelPathError(code, msg);

export class TarHeaderInspector extends Transform {
  readonly entries: InspectedEntry[] = [];
  private readonly where: string;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** bytes of the current entry's data (and padding) still to pass over */
  private skip = 0;
  /** an extended header's body being collected */
  private ext: { kind: Pending['kind']; size: number; parts: Buffer[]; got: number } | undefined;
  private pending: Pending | undefined;
  private ended = false;
  private offset = 0;
  private count = 0;
  private nameBytes = 0;

  constructor(where: string) {
    super();
    this.where = where;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.inspect(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    // A missing end-of-archive block is tolerated by every reader; a dangling extended header is not read alike.
    if (this.pending || this.ext) cb(refuse('TAR_EXTENDED_HEADER_DANGLING', `${this.where}: an extended header is not followed by an entry`));
    else if (this.headerFill > 0 || this.skip > 0) cb(refuse('TAR_CORRUPT', `${this.where}: truncated (the archive ends inside ${this.skip > 0 ? 'an entry' : 'a header'})`));
    else cb();
  }

  private inspect(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.ended) {
        // GNU tar and Python stop at the first zero block; tar-stream reads on. Nothing may follow but zeros.
        for (; i < chunk.length; i++) {
          if (chunk[i] !== 0) throw refuse('TAR_TRAILING_DATA', `${this.where}: data after the end-of-archive block at offset ${this.offset + i} (GNU tar and Python ignore it, other readers do not)`);
        }
        break;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (this.ext) {
        const e = this.ext;
        const n = Math.min(e.size - e.got, chunk.length - i);
        e.parts.push(Buffer.from(chunk.subarray(i, i + n)));
        e.got += n;
        i += n;
        if (e.got === e.size) {
          this.ext = undefined;
          this.pending = parseExtended(e.kind, Buffer.concat(e.parts), this.where);
          this.skip = padding(e.size);
        }
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + n);
      this.headerFill += n;
      i += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(this.header, this.offset + i - BLOCK);
      }
    }
    this.offset += chunk.length;
  }

  private onHeader(h: Buffer, at: number): void {
    const where = `${this.where}: header at offset ${at}`;
    if (h.every((b) => b === 0)) {
      if (this.pending) throw refuse('TAR_EXTENDED_HEADER_DANGLING', `${where}: an extended header is followed by the end of the archive`);
      this.ended = true;
      return;
    }
    checkChecksum(h, where);
    const format = h.subarray(257, 265).equals(USTAR) ? 'ustar' : h.subarray(257, 265).equals(GNU) ? 'gnu' : undefined;
    if (!format) throw refuse('TAR_UNKNOWN_FORMAT', `${where}: neither a POSIX ustar nor a GNU header`);
    // Python joins bytes 345..500 to the name as a prefix whatever the format; GNU tar only for ustar.
    if (format === 'gnu' && h.subarray(345, 500).some((b) => b !== 0)) {
      throw refuse('TAR_AMBIGUOUS_HEADER', `${where}: a GNU header with data in the ustar prefix field (Python reads it as part of the name, GNU tar does not)`);
    }
    const size = parseNumber(h.subarray(124, 136), 'size', where);
    // Fields we do not use must still read the same everywhere: Python's tarfile refuses the whole
    // header over a bad mode or mtime that GNU tar only warns about (found by the tar fuzz oracle).
    for (const [start, end, what] of NUMERIC_FIELDS) if (!isBlank(h.subarray(start, end))) parseNumber(h.subarray(start, end), what, where);
    const flag = String.fromCharCode(h[156]!);
    if (flag === 'x' || flag === 'L') {
      if (this.pending) throw refuse('TAR_EXTENDED_HEADER_REPEATED', `${where}: two extended headers in a row (readers keep different ones)`);
      if (size > LIMITS.tarExtendedHeaderBytes) {
        throw refuse('TAR_EXTENDED_HEADER_TOO_LARGE', `${where}: extended header of ${size} bytes, over the ${LIMITS.tarExtendedHeaderBytes}-byte limit`);
      }
      const kind = flag === 'x' ? 'pax' : 'gnu-long-name';
      // An empty long name is the empty name to GNU tar and Python, and no long name to tar-stream.
      if (size === 0 && kind === 'gnu-long-name') throw refuse('TAR_BAD_NAME', `${where}: empty GNU long name`);
      if (size === 0) this.pending = { kind };
      else this.ext = { kind, size, parts: [], got: 0 };
      return;
    }
    switch (flag) {
      case 'g':
        throw refuse('TAR_GLOBAL_HEADER', `${where}: a global PAX header (readers apply it differently to the entries after it)`);
      case 'S':
        throw refuse('TAR_SPARSE', `${where}: a GNU sparse file (readers expand it differently)`);
      case 'K':
      case '1':
      case '2':
        throw refuse('TAR_LINK_REFUSED', `${where}: a link; links in tarballs are refused`);
      case '0':
      case '\0':
      case '7':
      case '5':
        break;
      default:
        throw refuse('TAR_BAD_TYPE', `${where}: entry type ${JSON.stringify(flag)}; only files and folders are allowed`);
    }
    let name = text(cString(h.subarray(0, 100)), 'name', where);
    if (format === 'ustar') {
      const prefix = text(cString(h.subarray(345, 500)), 'name prefix', where);
      if (prefix) name = `${prefix}/${name}`;
    }
    const p = this.pending;
    this.pending = undefined;
    if (p?.path !== undefined) name = p.path;
    const dataSize = p?.size ?? size;
    const kind = flag === '5' ? 'directory' : 'file';
    if (kind === 'file' && name.endsWith('/')) {
      throw refuse('TAR_FILE_NAME_SLASH', `${where}: file entry "${name}" has a name ending in "/" (GNU tar and Python make it a folder)`);
    }
    if (kind === 'directory' && dataSize !== 0) {
      throw refuse('TAR_DIRECTORY_WITH_DATA', `${where}: folder entry "${name}" carries ${dataSize} bytes of data (readers disagree on whether to skip them)`);
    }
    if (++this.count > LIMITS.tarEntries) throw refuse('TAR_TOO_MANY_ENTRIES', `${this.where}: more than ${LIMITS.tarEntries} entries`);
    const bytes = Buffer.byteLength(name);
    if (bytes > LIMITS.tarNameBytes) throw refuse('TAR_NAME_TOO_LONG', `${where}: entry name of ${bytes} bytes, over the ${LIMITS.tarNameBytes}-byte limit (PATH_MAX)`);
    if ((this.nameBytes += bytes) > LIMITS.tarNamesTotalBytes) throw refuse('TAR_NAMES_TOO_LARGE', `${this.where}: entry names total over ${LIMITS.tarNamesTotalBytes} bytes`);
    this.entries.push({ name, kind, size: dataSize });
    this.skip = dataSize + padding(dataSize);
  }
}

const padding = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

function cString(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

function text(b: Buffer, what: string, where: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw refuse('TAR_BAD_NAME', `${where}: the ${what} is not UTF-8 (readers decode such bytes differently)`);
  }
}

/** The unsigned header sum with the checksum field read as spaces, as tar-stream requires. */
function checkChecksum(h: Buffer, where: string): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  const m = /^ *([0-7]+)[ \0]*$/.exec(h.toString('latin1', 148, 156));
  if (!m || parseInt(m[1]!, 8) !== sum) throw refuse('TAR_CORRUPT', `${where}: not a tar header (checksum does not match; is it compressed in another format?)`);
}

/** The numeric header fields besides size: mode, uid, gid, mtime, and the ustar device numbers. */
const NUMERIC_FIELDS: ReadonlyArray<[number, number, string]> = [[100, 108, 'mode'], [108, 116, 'uid'], [116, 124, 'gid'], [136, 148, 'mtime'], [329, 337, 'devmajor'], [337, 345, 'devminor']];

/** An unset field (NULs and spaces only): every reader takes it as 0. */
function isBlank(f: Buffer): boolean {
  return f.every((b) => b === 0 || b === 0x20);
}

/**
 * A numeric field: octal digits after optional spaces, ended by NUL or space
 * (what GNU tar accepts), or GNU's positive base-256. Python's int() would
 * also take "0_7" or "+7", tar-stream's parseInt stops at the first odd
 * character: such fields are refused.
 */
function parseNumber(f: Buffer, what: string, where: string): number {
  if (f[0] === 0x80) {
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    if (!Number.isSafeInteger(n)) throw refuse('TAR_BAD_NUMBER', `${where}: ${what} field is too large`);
    return n;
  }
  const s = f.toString('latin1');
  const m = /^ *([0-7]+)[ \0]*$/.exec(s);
  if (!m) throw refuse('TAR_BAD_NUMBER', `${where}: ${what} field ${JSON.stringify(s)} is not an octal number`);
  const n = parseInt(m[1]!, 8);
  if (!Number.isSafeInteger(n)) throw refuse('TAR_BAD_NUMBER', `${where}: ${what} field is too large`);
  return n;
}

/** A PAX header's records, or a GNU long name, checked record by record. */
function parseExtended(kind: Pending['kind'], body: Buffer, where: string): Pending {
  if (kind === 'gnu-long-name') {
    const name = cString(body);
    if (body.subarray(name.length).some((b) => b !== 0)) throw refuse('TAR_AMBIGUOUS_HEADER', `${where}: GNU long name has data after its end`);
    if (name.length === 0) throw refuse('TAR_BAD_NAME', `${where}: empty GNU long name`);
    return { kind, path: text(name, 'long name', where) };
  }
  const out: Pending = { kind };
  const seen = new Set<string>();
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    const lenText = sp < 0 ? '' : body.toString('latin1', pos, sp);
    const len = /^[1-9][0-9]{0,8}$/.test(lenText) ? parseInt(lenText, 10) : NaN;
    if (!(len > 0) || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw refuse('TAR_PAX_MALFORMED', `${where}: PAX record at byte ${pos} is malformed`);
    }
    const rec = body.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw refuse('TAR_PAX_MALFORMED', `${where}: PAX record at byte ${pos} has no keyword`);
    const key = text(rec.subarray(0, eq), 'PAX keyword', where);
    const value = text(rec.subarray(eq + 1), `PAX ${key} value`, where);
    pos += len;
    if (seen.has(key)) throw refuse('TAR_PAX_MALFORMED', `${where}: PAX keyword ${key} is repeated (readers keep different ones)`);
    seen.add(key);
    if (key.startsWith('GNU.sparse.')) throw refuse('TAR_SPARSE', `${where}: PAX keyword ${key} marks a sparse file (readers expand it differently)`);
    if (!PAX_PLAIN.has(key) && !PAX_VENDOR.test(key)) throw refuse('TAR_PAX_UNSUPPORTED', `${where}: PAX keyword ${key} is not supported`);
    if (key === 'hdrcharset' && value !== UTF8_CHARSET) throw refuse('TAR_PAX_UNSUPPORTED', `${where}: PAX hdrcharset ${JSON.stringify(value)} (names must be UTF-8)`);
    if (key === 'path') {
      if (value === '' || value.includes('\0')) throw refuse('TAR_BAD_NAME', `${where}: PAX path is empty or holds a NUL`);
      out.path = value;
    }
    if (key === 'size') {
      if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) throw refuse('TAR_BAD_NUMBER', `${where}: PAX size ${JSON.stringify(value)} is not a size`);
      out.size = Number(value);
    }
  }
  return out;
}
