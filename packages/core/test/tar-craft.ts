/**
 * Tarballs built byte by byte, for header forms no honest tar writer makes.
 * Every field is written exactly as given, so a test can produce the precise
 * ambiguity it is about (and nothing else).
 */

export interface RawHeader {
  name: string | Buffer;
  /** one character: '0', '\0', '5', 'x', 'g', 'L', 'S', ... */
  typeflag: string;
  /** the declared size; defaults to the body's length */
  size?: number;
  /** raw bytes for the 12-byte size field, overriding `size` */
  sizeField?: Buffer;
  body?: Buffer | string;
  /** ustar (POSIX, the default), gnu ('ustar  \0'), or v7 (no magic) */
  format?: 'ustar' | 'gnu' | 'v7';
  /** bytes 345..500: the ustar prefix (or, in other formats, whatever is there) */
  prefix?: string;
  linkname?: string;
  /** compute the checksum as a signed sum (some old tars did) */
  signedChecksum?: boolean;
}

function put(b: Buffer, off: number, len: number, s: string | Buffer): void {
  const v = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (v.length > len) throw new Error(`field at ${off} overflows: ${v.length} > ${len}`);
  v.copy(b, off);
}

const oct = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';

/** One 512-byte header block with a valid checksum. */
export function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  const body = h.body === undefined ? Buffer.alloc(0) : Buffer.from(h.body);
  put(b, 0, 100, h.name);
  put(b, 100, 8, oct(0o644, 8));
  put(b, 108, 8, oct(0, 8));
  put(b, 116, 8, oct(0, 8));
  put(b, 124, 12, h.sizeField ?? oct(h.size ?? body.length, 12));
  put(b, 136, 12, oct(1_700_000_000, 12));
  b[156] = h.typeflag.charCodeAt(0);
  if (h.linkname) put(b, 157, 100, h.linkname);
  const format = h.format ?? 'ustar';
  if (format === 'ustar') put(b, 257, 8, Buffer.from('ustar\x0000', 'latin1'));
  if (format === 'gnu') put(b, 257, 8, Buffer.from('ustar  \x00', 'latin1'));
  if (h.prefix) put(b, 345, 155, h.prefix);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += h.signedChecksum && x > 127 ? x - 256 : x;
  put(b, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return b;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** A header followed by its body, padded to the block size. */
export function entry(h: RawHeader): Buffer {
  const body = h.body === undefined ? Buffer.alloc(0) : Buffer.from(h.body);
  return Buffer.concat([header(h), body, pad(body.length)]);
}

export const file = (name: string, body: string | Buffer = `content of ${name}\n`, extra: Partial<RawHeader> = {}): Buffer =>
  entry({ name, typeflag: '0', body, ...extra });
export const dir = (name: string, extra: Partial<RawHeader> = {}): Buffer => entry({ name, typeflag: '5', ...extra });

/** PAX records ("%d %s=%s\n", the length counting itself). */
export function paxBody(records: Array<[string, string]>): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      const restLen = Buffer.byteLength(rest);
      let len = restLen + 1;
      while (String(len).length + restLen !== len) len++;
      return Buffer.from(`${len}${rest}`);
    }),
  );
}

export const pax = (records: Array<[string, string]>, typeflag = 'x', name = 'PaxHeaders/x'): Buffer =>
  entry({ name, typeflag, body: paxBody(records) });
export const gnuLong = (longName: string, typeflag = 'L'): Buffer =>
  entry({ name: '././@LongLink', typeflag, body: Buffer.concat([Buffer.from(longName), Buffer.alloc(1)]), format: 'gnu' });

/** The archive: entries, then the two zero blocks that end it. */
export const archive = (...parts: Buffer[]): Buffer => Buffer.concat([...parts, Buffer.alloc(1024)]);

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What a reader left on disk: relative path -> sha256 hex of regular files ("<symlink>" etc. otherwise). */
export type Extracted = Record<string, string>;

function listTree(root: string): Extracted {
  const out: Extracted = {};
  const walk = (rel: string) => {
    for (const n of readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
      else out[r] = st.isFile() ? createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex') : '<not a file>';
    }
  };
  walk('');
  return out;
}

/**
 * Extracts with a standard reader into a fresh folder and lists what it
 * made (also when the reader reports an error: partial output counts).
 */
export function extractWith(reader: 'gnu-tar' | 'python', tarPath: string): { files: Extracted; ok: boolean; stderr: string } {
  const dest = mkdtempSync(path.join(tmpdir(), `modelseal-x-${reader}-`));
  try {
    const r =
      reader === 'gnu-tar'
        ? spawnSync('tar', ['-xf', tarPath, '-C', dest], { encoding: 'utf8' })
        : spawnSync('python3', ['-c', 'import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t: t.extractall(sys.argv[2], filter="tar")', tarPath, dest], { encoding: 'utf8' });
    return { files: listTree(dest), ok: r.status === 0, stderr: r.stderr };
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}
