import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel, loadCertificates, ModelsealError, parseBundle, verifyEnvelope } from '@modelseal/core/internals';

/**
 * Inputs the fuzzer (`npm run fuzz`, test/fuzz/) found crashing, kept as
 * regression cases: each must now end in a coded error.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const DIR = path.join(ROOT, 'test/fuzz/regressions');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/model_signing');
const files = readdirSync(DIR).filter((f) => f.endsWith('.bin')).sort();

describe('fuzz regressions', () => {
  // Found in 30 s on the code before the fix: a mutated keyUsage extension in a
  // bundle certificate threw "not a bit string" / "invalid bit string" from the DER parser.
  it.each(files.filter((f) => f.startsWith('bundle.')))('%s: a malformed certificate extension is CERT_BAD_EXTENSION', (f) => {
    const b = parseBundle(readFileSync(path.join(DIR, f)));
    const ca = loadCertificates(path.join(FIXTURES, 'keys/certificate/ca-cert.pem'));
    let err: unknown;
    try {
      verifyEnvelope(b, { certificateAuthorities: ca });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelsealError);
    expect((err as ModelsealError).code).toBe('CERT_BAD_EXTENSION');
  });

  // Found in CI: a header whose mode field GNU tar only warns about and Python's tarfile refuses.
  it.each(files.filter((f) => f.startsWith('tar.')))('%s: an archive that standard readers read differently is refused', async (f) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'modelseal-fuzz-'));
    const tar = path.join(dir, 'model.tar');
    copyFileSync(path.join(DIR, f), tar);
    const err = await hashModel(tar).catch((e: unknown) => e);
    rmSync(dir, { recursive: true, force: true });
    expect(err).toBeInstanceOf(ModelsealError);
    expect((err as ModelsealError).code).toMatch(/^TAR_/);
  });

  it('the fuzz harness replays every regression input without a finding', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'test/fuzz/run.mjs'), '--replay'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`replay: ${files.length} inputs, 0 failing`);
  });
});
