import { realpathSync } from 'node:fs';
import nodePath from 'node:path';
import { FormatError, InputError } from './errors.js';

/**
 * Resource names are POSIX paths relative to the model root. These rules keep
 * a manifest from ever naming something outside the model.
 */
export function checkRelativeName(name: string, what = 'path'): string | undefined {
  if (name === '.') return undefined; // the single-file model's one resource
  if (name.length === 0) return `empty ${what}`;
  if (name.includes('\0')) return `${what} contains a NUL byte`;
  if (name.startsWith('/')) return `absolute ${what} "${name}"`;
  if (/^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return `absolute ${what} "${name}"`;
  for (const part of name.split('/')) {
    if (part === '..') return `${what} "${name}" escapes the model root`;
    if (part === '' || part === '.') return `${what} "${name}" is not normalized`;
  }
  return undefined;
}

export function assertRelativeName(name: string, what = 'path'): void {
  const problem = checkRelativeName(name, what);
  if (problem) throw new FormatError('BAD_PATH', problem);
}

/** Code-point comparison, as Python compares str (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/**
 * model_signing sorts manifest keys as Python sorts PurePosixPath objects:
 * component by component, each compared by code point. So "a/b" sorts before
 * "a.txt" although "." < "/" in a plain string sort. Compares in place,
 * without splitting: a sort of deep paths (thousands of levels) would
 * otherwise allocate every component on every comparison.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    const ea = componentEnd(a, i);
    const eb = componentEnd(b, j);
    const c = compareCodePointRanges(a, i, ea, b, j, eb);
    if (c !== 0) return c;
    const lastA = ea === a.length;
    const lastB = eb === b.length;
    if (lastA || lastB) return lastA === lastB ? 0 : lastA ? -1 : 1;
    i = ea + 1;
    j = eb + 1;
  }
}

function componentEnd(s: string, from: number): number {
  const k = s.indexOf('/', from);
  return k < 0 ? s.length : k;
}

/** Code-point order of a[i..ea) and b[j..eb); "/" never splits a surrogate pair. */
function compareCodePointRanges(a: string, i: number, ea: number, b: string, j: number, eb: number): number {
  while (i < ea && j < eb) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    const w = x > 0xffff ? 2 : 1;
    i += w;
    j += w;
  }
  if (i < ea) return 1;
  if (j < eb) return -1;
  return 0;
}

/** True if `name` is `prefix` or lies below it (prefix given without trailing slash). */
export function isUnder(name: string, prefix: string): boolean {
  return name === prefix || name.startsWith(prefix + '/');
}

/** Normalizes a user-given ignore path ("./a/b/" -> "a/b"), rejecting escapes. */
export function normalizeIgnorePath(p: string): string {
  let s = p.replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  s = s.replace(/\/+$/, '').replace(/\/+/g, '/');
  const problem = checkRelativeName(s, 'ignore path');
  if (problem || s === '.') throw new FormatError('BAD_IGNORE_PATH', problem ?? `ignore path "${p}" names the whole model`);
  return s;
}

/**
 * An ignore path as model_signing takes it: relative to the model root, or
 * absolute and inside the model (recorded relative). An absolute path outside
 * the model is refused: it could never match, and the user meant something else.
 */
export function ignorePathInModel(p: string, modelPath: string): string {
  if (!nodePath.isAbsolute(p)) return normalizeIgnorePath(p);
  const roots = [nodePath.resolve(modelPath)];
  try {
    roots.push(realpathSync(modelPath));
  } catch {
    // a missing model is reported by the walk
  }
  for (const root of roots) {
    const rel = nodePath.relative(root, nodePath.resolve(p));
    if (rel === '') throw new InputError('BAD_IGNORE_PATH', `ignore path ${p} is the whole model`);
    if (!rel.startsWith('..') && !nodePath.isAbsolute(rel)) return normalizeIgnorePath(rel.split(nodePath.sep).join('/'));
  }
  throw new InputError('IGNORE_PATH_OUTSIDE_MODEL', `ignore path ${p} is outside the model ${modelPath}`);
}

