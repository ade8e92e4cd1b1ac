/**
 * What the running command is and whether it was asked for JSON, set by a
 * commander hook before each action, so that the one error path in main.ts
 * can print the failure in the form the caller asked for. No imports: main.ts
 * loads this at every start.
 */
export const invocation = { command: '', json: false };

/** The one JSON object a command prints on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
