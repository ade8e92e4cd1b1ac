import type { HashProgress } from '@modelseal/core';

function mb(n: number): string {
  return (n / 1e6).toFixed(n >= 1e9 ? 0 : 1);
}

/**
 * A hashing progress bar on stderr: bytes done/total, MB/s, ETA. Returns
 * undefined (no bar) unless stderr is a terminal and --quiet is off, so logs
 * and pipes stay clean.
 */
export function progressBar(quiet: boolean, stream: NodeJS.WriteStream = process.stderr) {
  if (quiet || !stream.isTTY) return undefined;
  const t0 = performance.now();
  let last = 0;
  let drawn = false;
  const render = (p: HashProgress) => {
    const now = performance.now();
    if (now - last < 100 && p.bytesDone < p.bytesTotal) return;
    last = now;
    const secs = (now - t0) / 1000;
    const rate = secs > 0 ? p.bytesDone / secs : 0;
    const width = 30;
    const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
    const bar = p.bytesTotal > 0 ? '[' + '#'.repeat(Math.round(frac * width)).padEnd(width, '.') + '] ' : '';
    const total = p.bytesTotal > 0 ? `/${mb(p.bytesTotal)}` : '';
    const eta = p.bytesTotal > 0 && rate > 0 ? ` ETA ${Math.max(0, (p.bytesTotal - p.bytesDone) / rate).toFixed(0)}s` : '';
    stream.write(`\r${bar}${mb(p.bytesDone)}${total} MB  ${mb(rate)} MB/s${eta}\x1b[K`);
    drawn = true;
  };
  return {
    onProgress: render,
    done: () => {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
