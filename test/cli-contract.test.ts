/**
 * The CLI contract scripts rely on: with --json, exactly one JSON object on
 * stdout for every outcome, valid against schemas/output-v1.schema.json;
 * exit 0 / 1 / 2; errors as one coded line on stderr; no flag silently ignored.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelseal, ROOT, tmp, type CliResult } from './cli.js';

const schema = JSON.parse(readFileSync(path.join(ROOT, 'packages/core/schemas/output-v1.schema.json'), 'utf8'));
// formats (date-time) are annotations in JSON Schema 2020-12; ajv would warn about each
const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(schema);

/** The one JSON object a --json run printed, checked against the schema and the exit code. */
function json(r: CliResult, exit: 0 | 1 | 2, code?: string): any {
  expect(r.status, r.stderr).toBe(exit);
  const text = r.stdout.trim();
  expect(text.startsWith('{') && text.endsWith('}'), r.stdout).toBe(true);
  const obj = JSON.parse(text); // one value: JSON.parse refuses two objects in a row
  expect(validate(obj), JSON.stringify(validate.errors)).toBe(true);
  expect(obj.ok).toBe(exit === 0);
  if (code) {
    expect(obj.error.code).toBe(code);
    expect(obj.error.family).toBe(exit === 1 ? 'verification' : 'input');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^modelseal: .*\\[${code}\\]\\n$`));
  }
  return obj;
}

let d: string;
let model: string;
const key = (n: string) => path.join(d, n);

beforeAll(() => {
  d = tmp();
  model = path.join(d, 'tiny-model');
  cpSync(path.join(ROOT, 'examples/tiny-model'), model, { recursive: true });
  for (const n of ['k', 'other', 'alice']) {
    const kg = json(modelseal(['keygen', '--out', key(n), '--type', 'ecdsa-p256', '--json']), 0);
    expect(kg).toMatchObject({ command: 'keygen', keyType: 'ecdsa-p256', encrypted: false, publicKey: key(`${n}.pub`) });
  }
  writeFileSync(key('policy.yml'), `version: 1\nsigners:\n  - key: k.pub\napprovals:\n  production:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n  staging:\n    threshold: 1\n    approvers:\n      - key: alice.pub\n`);
});

describe('--json: one object on stdout for every outcome', () => {
  it('keygen, hash, sign, verify, attest provenance, approve, attestations list, verify --policy: success', () => {
    const h = json(modelseal(['hash', model, '--json']), 0);
    expect(h.model.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.statement.predicateType).toBe('https://model_signing/signature/v1.0');
    const s = json(modelseal(['sign', model, '--key', key('k.key'), '--json']), 0);
    expect(s).toMatchObject({ command: 'sign', model: { digest: h.model.digest }, signer: { kind: 'key', keyType: 'ecdsa-p256' } });
    const v = json(modelseal(['verify', model, '--key', key('k.pub'), '--json']), 0);
    expect(v).toMatchObject({ command: 'verify', verified: true, model: { digest: h.model.digest, resources: h.model.resources }, signer: { fingerprint: s.signer.fingerprint, publicKeySha256: s.signer.publicKeySha256 } });
    const p = json(modelseal(['attest', 'provenance', model, '--key', key('other.key'), '--repository', 'acme/models', '--workflow', '.github/workflows/train.yml', '--ref', 'refs/heads/main', '--json']), 0);
    expect(p).toMatchObject({ command: 'attest provenance', predicateType: 'https://slsa.dev/provenance/v1', model: { digest: h.model.digest } });
    const a = json(modelseal(['approve', model, '--stage', 'production', '--key', key('alice.key'), '--json', '-q']), 0);
    expect(a.signer.publicKeySha256).toMatch(/^[0-9a-f]{64}$/);
    const l = json(modelseal(['attestations', 'list', model, '--json']), 0);
    expect(l.attestations).toHaveLength(2);
    const pol = json(modelseal(['verify', model, '--policy', key('policy.yml'), '--stage', 'production', '--json']), 0);
    expect(pol).toMatchObject({ mode: 'policy', verified: true, model: { digest: h.model.digest }, signer: { kind: 'key' }, rules: [{ rule: 'signature', ok: true }, { rule: 'approvals.production', ok: true }] });
  });

  it('failures: each with its code, family and exit code, and still one object', () => {
    json(modelseal(['verify', model, '--key', key('other.pub'), '--json']), 1, 'SIGNATURE_INVALID');
    json(modelseal(['verify', model, '--json']), 2, 'MISSING_TRUST');
    json(modelseal(['verify', path.join(d, 'nope'), '--key', key('k.pub'), '--json']), 2, 'MODEL_NOT_FOUND');
    json(modelseal(['hash', path.join(d, 'nope'), '--json']), 2, 'MODEL_NOT_FOUND');
    json(modelseal(['attestations', 'list', path.join(d, 'nope'), '--json']), 2, 'MODEL_NOT_FOUND');
    json(modelseal(['keygen', '--out', key('k'), '--json']), 2, 'FILE_EXISTS');
    json(modelseal(['verify', model, '--key', key('k.key'), '--json']), 2, 'PRIVATE_KEY_GIVEN');
    json(modelseal(['sign', model, '--key', key('k.pub'), '--json', '--signature', path.join(d, 'x.sig')]), 2, 'PUBLIC_KEY_GIVEN');
    json(modelseal(['verify', path.join(model, 'model.sig'), '--key', key('k.pub'), '--json']), 2, 'MODEL_IS_SIGNATURE');
    json(modelseal(['verify', model, '--policy', key('policy.yml'), '--stage', 'prod', '--json']), 2, 'UNKNOWN_STAGE');
    json(modelseal(['verify', model, '--key', key('k.pub'), '--bogus', '--json']), 2, 'UNKNOWN_OPTION');
    const bad = path.join(d, 'bad.sig');
    writeFileSync(bad, '{not json');
    json(modelseal(['verify', model, '--key', key('k.pub'), '--signature', bad, '--json']), 2, 'BAD_JSON');
    // the model changes: a mismatch lists the differences; the policy fails with its rules
    const m2 = path.join(d, 'm2');
    cpSync(model, m2, { recursive: true });
    cpSync(`${model}.attestations`, `${m2}.attestations`, { recursive: true });
    writeFileSync(path.join(m2, 'config.json'), '{"tampered":true}');
    const mm = json(modelseal(['verify', m2, '--key', key('k.pub'), '--json']), 1, 'MODEL_MISMATCH');
    expect(mm).toMatchObject({ verified: false, differences: { changed: ['config.json'], missing: [], extra: [] } });
    const pf = json(modelseal(['verify', m2, '--policy', key('policy.yml'), '--json']), 1, 'POLICY_FAILED');
    expect(pf).toMatchObject({ verified: false, mode: 'policy', rules: expect.arrayContaining([expect.objectContaining({ rule: 'signature', ok: false })]) });
    // approving a model that no longer matches its signature
    json(modelseal(['approve', m2, '--stage', 'production', '--key', key('alice.key'), '--json']), 1, 'MODEL_MISMATCH');
  });
});

describe('no silently ignored flags, usage errors in one shape', () => {
  it('--stage/--attestations need --policy; --policy refuses trust and hashing flags', () => {
    const one = (args: string[], code: string) => {
      const r = modelseal(args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^modelseal: .*\\[${code}\\]\\n$`));
      expect(r.stdout).toBe('');
    };
    one(['verify', model, '--key', key('k.pub'), '--stage', 'production'], 'BAD_OPTION');
    one(['verify', model, '--key', key('k.pub'), '--attestations', d], 'BAD_OPTION');
    for (const extra of [['--issuer', 'https://x'], ['--key', key('k.pub')], ['--github-ref', 'refs/heads/main'], ['--ignore-paths', 'a'], ['--ignore-unsigned-files'], ['--no-ignore-git-paths']]) {
      one(['verify', model, '--policy', key('policy.yml'), ...extra], 'BAD_OPTION');
    }
    const unknown = modelseal(['verify', model, '--policy', key('policy.yml'), '--stage', 'qa']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no approval rule for stage "qa"; it defines: production, staging \[UNKNOWN_STAGE\]/);
    one(['frobnicate'], 'UNKNOWN_COMMAND');
    one(['verify'], 'MISSING_ARGUMENT');
    one(['hash', model, '--method'], 'MISSING_OPTION_VALUE');
    one(['hash', model, '--hash', 'md5'], 'BAD_OPTION');
    one(['keygen'], 'MISSING_OPTION');
    one(['hash', model, 'extra-arg'], 'TOO_MANY_ARGUMENTS');
    one(['verify', model, '--ignore-paths', '/etc', '--key', key('k.pub')], 'IGNORE_PATH_OUTSIDE_MODEL');
  });

  it('list options are repeatable and never swallow the model argument', () => {
    const plain = modelseal(['hash', model, '--ignore-paths', 'model.sig']).stdout;
    const r = modelseal(['hash', '--ignore-paths', 'tokenizer.json', '--ignore-paths', 'nope/', model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toBe(plain);
    const abs = modelseal(['hash', '--ignore-paths', path.join(model, 'tokenizer.json'), model]);
    expect(abs.stdout).toBe(r.stdout);
  });

  it('-q and --json exist on every command that hashes or verifies', () => {
    for (const cmd of [['hash'], ['sign'], ['verify'], ['attest', 'provenance'], ['approve']]) {
      const help = modelseal([...cmd, '--help']).stdout;
      expect(help, cmd.join(' ')).toMatch(/-q, --quiet/);
      expect(help, cmd.join(' ')).toMatch(/--json/);
    }
  });
});

describe('keygen on a terminal', () => {
  /** Runs keygen under a pseudo-terminal (util-linux `script`), typing the given lines. */
  function onTty(out: string, lines: string[]) {
    const cmd = `env -u MODELSEAL_KEY_PASSWORD ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'packages/cli/dist/main.js'))} keygen --out ${JSON.stringify(out)}`;
    // typed as a person types: each line after its prompt has had time to show
    const typing = lines.map((l) => `sleep 1.5; printf '%s\\n' '${l}'`).join('; ');
    return spawnSync('bash', ['-c', `(${typing}; sleep 3) | script -qec ${JSON.stringify(cmd)} /dev/null`], { encoding: 'utf8', timeout: 60_000 });
  }

  it('offers to encrypt the private key, asks twice, and refuses two different passphrases', () => {
    const dir = tmp();
    const r = onTty(path.join(dir, 'enc'), ['s3cret', 's3cret']);
    expect(r.stdout).toMatch(/passphrase to encrypt the private key/);
    expect(readFileSync(path.join(dir, 'enc.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const m = path.join(dir, 'm');
    cpSync(path.join(ROOT, 'examples/tiny-model'), m, { recursive: true });
    expect(modelseal(['sign', m, '--key', path.join(dir, 'enc.key')], { env: { MODELSEAL_KEY_PASSWORD: 's3cret' } }).status).toBe(0);
    expect(modelseal(['sign', m, '--key', path.join(dir, 'enc.key')], { env: { MODELSEAL_KEY_PASSWORD: 'wrong' } }).stderr).toMatch(/\[KEY_PASSWORD_WRONG\]/);
    const plain = onTty(path.join(dir, 'plain'), ['']);
    expect(plain.stdout).toMatch(/wrote .*plain.key and/);
    expect(readFileSync(path.join(dir, 'plain.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const differ = onTty(path.join(dir, 'differ'), ['one', 'two']);
    expect(differ.stdout).toMatch(/\[PASSPHRASE_MISMATCH\]/);
    expect(existsSync(path.join(dir, 'differ.key'))).toBe(false);
  });
});

describe('verify --cache and --audit-log', () => {
  it('a second verify hashes nothing that did not change; each run appends one audit line, success or failure', () => {
    const dir = tmp();
    const m = path.join(dir, 'm');
    cpSync(path.join(ROOT, 'examples/tiny-model'), m, { recursive: true });
    expect(modelseal(['keygen', '--out', path.join(dir, 'k'), '--json']).status).toBe(0);
    expect(modelseal(['sign', m, '--key', path.join(dir, 'k.key')]).status).toBe(0);
    const args = ['verify', m, '--key', path.join(dir, 'k.pub'), '--cache', path.join(dir, 'cache'), '--audit-log', path.join(dir, 'audit.jsonl'), '--json'];
    const first = json(modelseal(args), 0);
    expect(first.cacheHits).toBe(0);
    expect(json(modelseal(args), 0).cacheHits).toBe(first.model.resources);
    writeFileSync(path.join(m, 'config.json'), '{"tampered":true}');
    json(modelseal(args), 1, 'MODEL_MISMATCH');
    const lines = readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ok)).toEqual([true, true, false]);
    expect(lines[2]).toMatchObject({ error: { code: 'MODEL_MISMATCH' }, signer: { kind: 'key' } });
    const r = modelseal(['verify', m, '--policy', key('policy.yml'), '--cache', path.join(dir, 'cache')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\[BAD_OPTION\]/);
  });
});
