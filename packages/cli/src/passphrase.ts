import { openSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { ReadStream, WriteStream } from 'node:tty';

/** Whether a person can be asked: stdin is a terminal (tests and CI never are). */
export function onTerminal(): boolean {
  return process.stdin.isTTY === true;
}

/** MODELSEAL_KEY_PASSWORD, else a prompt on the terminal (no echo), else undefined. */
export async function keyPassphrase(prompt: string, o: { ignoreEnv?: boolean } = {}): Promise<string | undefined> {
  const env = process.env.MODELSEAL_KEY_PASSWORD;
  if (env !== undefined && !o.ignoreEnv) return env;
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  try {
    // No echo before the prompt shows: a passphrase typed early must not appear on screen.
    input.setRawMode(true);
    output.write(prompt);
    const rl = createInterface({ input, output: undefined, terminal: false });
    const line = await new Promise<string>((resolve) => rl.once('line', resolve));
    rl.close();
    output.write('\n');
    return line;
  } finally {
    input.setRawMode(false);
    input.destroy();
    output.destroy();
    try {
      closeSync(fd);
    } catch {
      // already closed by the streams
    }
  }
}
