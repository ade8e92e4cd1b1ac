import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The `key` input is PEM text (from a secret) or a path. Core loads keys
 * from files, so PEM text goes to a file only this user can read, in the
 * runner's temp folder, removed when the action ends.
 */
export class KeyFiles {
  private dirs: string[] = [];

  constructor(private readonly mask: (secret: string) => void, private readonly tempRoot = process.env.RUNNER_TEMP || tmpdir()) {}

  /** A path to the key; `secret` masks the text in the job log first. */
  path(value: string, o: { secret: boolean }): string {
    if (!value.includes('-----BEGIN')) return value;
    // a private key given where a public one is expected is still a secret
    if (o.secret || /PRIVATE KEY/.test(value)) {
      this.mask(value);
      // The runner masks a secret by its exact text: mask each line too, as logs print PEM line by line.
      for (const line of value.split(/\r?\n/)) if (line.trim() && !line.startsWith('-----')) this.mask(line.trim());
    }
    const dir = mkdtempSync(path.join(this.tempRoot, 'modelseal-key-'));
    this.dirs.push(dir);
    const file = path.join(dir, o.secret ? 'key.pem' : 'key.pub');
    writeFileSync(file, value.endsWith('\n') ? value : `${value}\n`, { mode: 0o600 });
    return file;
  }

  cleanup(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs = [];
  }
}
