import { ModelsealError, printable } from '@modelseal/core/internals';

export { invocation, printJson } from './invocation.js';

/** Human-readable notes on stderr, never on stdout (which scripts read). */
export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`modelseal: warning: ${printable(w)}\n`);
}

/** A value that lists flags: `--x a --x b` collects ['a', 'b'] (never swallows the positional model argument). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds facts to a failure's JSON (the one failure object main.ts prints), e.g. the registry reference. */
export function attachDetails(err: unknown, extra: Record<string, unknown>): void {
  if (err instanceof ModelsealError) err.details = { ...err.details, ...extra };
}
