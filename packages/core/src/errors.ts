import { printable } from './printable.js';

/**
 * Every failure modelseal reports is a ModelsealError with a stable `code`.
 * The family decides the CLI exit code (see `exitCodeFor`), so the CLI, the
 * GitHub Action and library callers classify failures the same way.
 */
export type ErrorFamily =
  /** the caller gave us something unusable: bad flags, unreadable files, malformed formats */
  | 'input'
  /** the inputs were well-formed but do not prove what was asked */
  | 'verification';

/** The base of every modelseal failure: a stable UPPER_SNAKE `code`, and a `family` that decides the exit code. */
export class ModelsealError extends Error {
  readonly code: string;
  readonly family: ErrorFamily;
  /** structured facts for `--json` output and reports (e.g. the differences of a mismatch) */
  details?: Record<string, unknown>;
  constructor(code: string, message: string, family: ErrorFamily, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    // Messages name files, and file names are attacker-chosen: never let them carry terminal control sequences.
    super(printable(message), options);
    if (options?.details) this.details = options.details;
    this.name = new.target.name;
    this.code = code;
    this.family = family;
  }
}

/** Bad usage or bad input (exit 2). */
export class InputError extends ModelsealError {
  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, 'input', options);
  }
}

/** A manifest, statement or bundle that does not follow its format (exit 2). */
export class FormatError extends InputError {}

/** Walking the model found something we refuse to hash (exit 2). */
export class ModelPathError extends InputError {}

/** The model does not match what was signed, or the signature does not hold (exit 1). */
export class VerificationError extends ModelsealError {
  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, 'verification', options);
  }
}

/** The CLI exit code for an error: 1 for a verification failure, 2 for anything else (bad input, or not a ModelsealError). */
export function exitCodeFor(err: unknown): 1 | 2 {
  if (err instanceof ModelsealError) return err.family === 'verification' ? 1 : 2;
  return 2;
}
