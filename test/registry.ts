import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const APT = 'apt-get install -y docker-registry skopeo apache2-utils';

/** True when the tool is installed; under CI=true a missing tool is a failure, otherwise a loud skip. */
export function haveTool(bin: string, what: string): boolean {
  const ok = bin.startsWith('/') ? existsSync(bin) : spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`${what} (${bin}) is missing and CI=true: ${APT}`);
  console.warn(`\n*** SKIPPING ${what} tests: ${bin} is not installed. Install with: ${APT}\n`);
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  url: string;
  /** the registry's storage root (for tamper tests that write blobs directly) */
  store: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with a
 * temp config and storage; optional htpasswd Basic auth (bcrypt, via apache2-utils).
 */
export async function startRegistry(o: { users?: Record<string, string> } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelseal-registry-'));
  const store = path.join(dir, 'store');
  const port = await freePort();
  let auth = '';
  if (o.users) {
    const htpasswd = path.join(dir, 'htpasswd');
    for (const [i, [u, p]] of Object.entries(o.users).entries()) {
      const r = spawnSync('htpasswd', [...(i === 0 ? ['-c'] : []), '-B', '-C', '4', '-b', htpasswd, u, p], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    }
    auth = `auth:\n  htpasswd:\n    realm: modelseal-test\n    path: ${htpasswd}\n`;
  }
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${store}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: modelseal-test-secret\n${auth}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() - t0 > 15_000) {
      child.kill();
      throw new Error(`docker-registry did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    store,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The path of a blob's data file in the registry's filesystem storage. */
export function blobDataPath(store: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(store, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
