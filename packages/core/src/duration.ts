import { InputError } from './errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "30d", "12h", "2w", "90m" -> milliseconds. */
export function parseDuration(s: string, what = 'duration'): number {
  const m = /^([1-9][0-9]*)([smhdw])$/.exec(s.trim());
  if (!m) throw new InputError('BAD_DURATION', `${what} "${s}" is not a duration like 30d, 12h, 2w`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
