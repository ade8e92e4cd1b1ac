import { cpSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, modelseal, ROOT, tmp } from './cli.js';

describe('modelseal keygen / sign / verify', () => {
  it('round trip on the example model; tampering exits 1 with the file list', () => {
    const d = tmp();
    const model = path.join(d, 'tiny-model');
    cpSync(path.join(ROOT, 'examples/tiny-model'), model, { recursive: true });
    expect(modelseal(['keygen', '--out', path.join(d, 'k')]).status).toBe(0);
    expect(statSync(path.join(d, 'k.key')).mode & 0o777).toBe(0o600);
    expect(modelseal(['keygen', '--out', path.join(d, 'k')]).status).toBe(2); // no overwrite
    const s = modelseal(['sign', model, '--key', path.join(d, 'k.key')]);
    expect(s.status).toBe(0);
    expect(existsSync(path.join(model, 'model.sig'))).toBe(true);
    const v = modelseal(['verify', model, '--key', path.join(d, 'k.pub')]);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain(`sha256:${s.stdout.trim()}`);
    const j = JSON.parse(modelseal(['verify', model, '--key', path.join(d, 'k.pub'), '--json']).stdout);
    expect(j).toMatchObject({ version: 1, command: 'verify', ok: true, verified: true, model: { digest: { sha256: s.stdout.trim() } }, signer: { kind: 'key', keyType: 'ed25519' }, warnings: [] });
    writeFileSync(path.join(model, 'config.json'), '{"tampered":true}');
    const bad = modelseal(['verify', model, '--key', path.join(d, 'k.pub'), '--json']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, verified: false, error: { code: 'MODEL_MISMATCH', family: 'verification' }, differences: { changed: ['config.json'], missing: [], extra: [] } });
    expect(bad.stderr).toMatch(/verification failed: .*changed \(1\): config.json/);
  });

  it('verifies model_signing fixtures from the CLI (key and certificate)', () => {
    const keys = path.join(FIXTURES, 'keys/certificate');
    const k = modelseal(['verify', path.join(FIXTURES, 'v1.0.1-elliptic-key'), '--key', path.join(keys, 'signing-key-pub.pem'), '--ignore-paths', 'ignore-me']);
    expect(k.status).toBe(0);
    const c = modelseal(['verify', path.join(FIXTURES, 'v1.1.0-certificate'), '--certificate-chain', path.join(keys, 'ca-cert.pem')]);
    expect(c.status).toBe(0);
    expect(c.stdout).toContain('CN=root-ca');
    const single = modelseal(['verify', path.join(FIXTURES, 'v1.0.0-elliptic-key/signme-1'), '--signature', path.join(FIXTURES, 'v1.0.0-elliptic-key/model.sig'), '--key', path.join(keys, 'signing-key-pub.pem')]);
    expect(single.status).toBe(0);
  });

  it('encrypted keys read MODELSEAL_KEY_PASSWORD; bad inputs exit 2 without a stack trace', () => {
    const d = tmp();
    expect(modelseal(['keygen', '--type', 'ecdsa-p256', '--out', path.join(d, 'e')], { env: { MODELSEAL_KEY_PASSWORD: 'pw' } }).status).toBe(0);
    expect(readFileSync(path.join(d, 'e.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    const noPw = modelseal(['sign', 'examples/tiny-model', '--key', path.join(d, 'e.key'), '--signature', path.join(d, 's.sig')]);
    expect(noPw.status).toBe(2);
    expect(noPw.stderr).toContain('MODELSEAL_KEY_PASSWORD');
    const ok = modelseal(['sign', 'examples/tiny-model', '--key', path.join(d, 'e.key'), '--signature', path.join(d, 's.sig')], { env: { MODELSEAL_KEY_PASSWORD: 'pw' } });
    expect(ok.status).toBe(0);
    expect(modelseal(['verify', 'examples/tiny-model', '--signature', path.join(d, 's.sig'), '--key', path.join(d, 'e.pub')]).status).toBe(0);
    writeFileSync(path.join(d, 'junk.sig'), '{not json');
    for (const args of [
      ['verify', 'examples/tiny-model', '--signature', path.join(d, 'junk.sig'), '--key', path.join(d, 'e.pub')],
      ['verify', 'examples/tiny-model', '--signature', path.join(d, 'missing.sig'), '--key', path.join(d, 'e.pub')],
      ['verify', 'examples/tiny-model', '--signature', path.join(d, 's.sig')],
      ['sign', 'examples/tiny-model'],
      ['keygen', '--type', 'rsa', '--out', path.join(d, 'r')],
    ]) {
      const r = modelseal(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // the wrong key is a verification failure, not bad input
    expect(modelseal(['keygen', '--out', path.join(d, 'other')]).status).toBe(0);
    expect(modelseal(['verify', 'examples/tiny-model', '--signature', path.join(d, 's.sig'), '--key', path.join(d, 'other.pub')]).status).toBe(1);
  });
});
