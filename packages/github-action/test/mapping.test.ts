import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError, ModelMismatchError, type PolicyReport } from '@modelseal/core';
import { readInputs, type ActionInputs } from '../src/inputs.js';
import { KeyFiles } from '../src/key-material.js';
import { outputsOf } from '../src/outputs.js';
import { reportJson } from '../src/report.js';
import type { ModeResult } from '../src/results.js';
import { requireIdTokenPermission } from '../src/signer.js';
import { cell, rekor, renderSummary } from '../src/summary.js';
import { tempDir } from '../../core/test/helpers.js';

/** Inputs as the runner passes them: every declared input, with action.yml's defaults. */
const meta = parse(readFileSync(path.join(import.meta.dirname, '../action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }>; outputs: Record<string, unknown> };
function inputs(given: Record<string, string>): (name: string) => string {
  for (const k of Object.keys(given)) if (!(k in meta.inputs)) throw new Error(`undeclared input ${k}`);
  return (name) => {
    if (!(name in meta.inputs)) throw new Error(`the action reads ${name}, which action.yml does not declare`);
    return given[name] ?? meta.inputs[name]!.default ?? '';
  };
}
const read = (given: Record<string, string>) => readInputs(inputs(given));
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).code;
  }
  throw new Error('expected an InputError');
};

describe('action inputs', () => {
  it('maps each declared input to its field, with the defaults of action.yml', () => {
    const i = read({ 'model-path': 'models/m', policy: 'p.yml', stage: 'production', 'ignore-paths': ' a.txt \n\n  logs/\r\nb ', signature: 's.sig', 'trusted-root': 'root.json' });
    expect(i).toEqual<ActionInputs>({
      mode: 'gate', modelPath: 'models/m', policy: 'p.yml', stage: 'production', ignorePaths: ['a.txt', 'logs/', 'b'], signature: 's.sig', trustedRoot: 'root.json',
      keyless: false, attestationsFrom: 'folder', githubToken: '${{ github.token }}',
    });
    const s = read({ mode: 'approve', 'model-path': 'm', key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', 'key-password': 'pw', stage: 'production', reason: 'ok', approver: 'Alice', expires: '30d' });
    expect(s).toMatchObject({ mode: 'approve', key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', keyPassword: 'pw', reason: 'ok', approver: 'Alice', expires: '30d' });
    expect(read({ mode: 'sign', 'model-path': 'm', keyless: 'TRUE', 'fulcio-url': 'https://f', 'rekor-url': 'https://r', 'rekor-entry-type': 'intoto' })).toMatchObject({ keyless: true, fulcioUrl: 'https://f', rekorUrl: 'https://r', rekorEntryType: 'intoto' });
    expect(read({ mode: 'verify', 'model-path': 'm', identity: 'https://github.com/a/b/.github/workflows/r.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' })).toMatchObject({ identity: expect.any(String), issuer: expect.any(String) });
    expect(read({ mode: 'sign', 'model-path': 'm', key: '  keys/release.key \n' }).key).toBe('keys/release.key');
  });

  it('every input action.yml declares is read, and every one read is declared', () => {
    const asked = new Set<string>();
    readInputs((n) => {
      asked.add(n);
      return inputs({ 'model-path': 'm', policy: 'p.yml' })(n);
    });
    expect([...asked].sort()).toEqual(Object.keys(meta.inputs).sort());
  });

  it('refuses what a mode cannot use, with coded errors', () => {
    expect(codeOf(() => read({ mode: 'deploy', 'model-path': 'm' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'gate' }))).toBe('MISSING_INPUT');
    expect(codeOf(() => read({ mode: 'gate', 'model-path': 'm' }))).toBe('MISSING_INPUT');
    expect(codeOf(() => read({ mode: 'gate', 'model-path': 'm', policy: 'p', identity: 'x' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'gate', 'model-path': 'm', policy: 'p', 'attestations-from': 'github', attestations: 'dir' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'gate', 'model-path': 'm', policy: 'p', 'attestations-from': 'oci' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'sign', 'model-path': 'm' }))).toBe('MISSING_INPUT');
    expect(codeOf(() => read({ mode: 'sign', 'model-path': 'm', key: 'k', keyless: 'true' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'sign', 'model-path': 'm', keyless: '1' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'sign', 'model-path': 'm', keyless: 'true', 'rekor-entry-type': 'hashedrekord' }))).toBe('BAD_OPTION');
    expect(codeOf(() => read({ mode: 'approve', 'model-path': 'm', key: 'k' }))).toBe('MISSING_INPUT');
    expect(codeOf(() => read({ mode: 'verify', 'model-path': 'm' }))).toBe('MISSING_INPUT');
    expect(codeOf(() => read({ mode: 'verify', 'model-path': 'm', key: 'k', policy: 'p' }))).toBe('BAD_OPTION');
  });

  it('keyless needs the OIDC request URL and token (permissions: id-token: write)', () => {
    expect(codeOf(() => requireIdTokenPermission({}))).toBe('MISSING_ID_TOKEN_PERMISSION');
    expect(() => requireIdTokenPermission({})).toThrow(/permissions: id-token: write/);
    expect(codeOf(() => requireIdTokenPermission({ ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }))).toBe('MISSING_ID_TOKEN_PERMISSION');
    expect(() => requireIdTokenPermission({ ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' })).not.toThrow();
  });
});

describe('key material', () => {
  it('writes PEM text to a 0600 file, masks it line by line, and removes it; a path is used as it is', () => {
    const masked: string[] = [];
    const keys = new KeyFiles((s) => masked.push(s), tempDir());
    const pem = '-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----';
    const f = keys.path(pem, { secret: true });
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(f, 'utf8')).toBe(`${pem}\n`);
    expect(masked).toEqual([pem, 'AAAA', 'BBBB']);
    expect(keys.path('keys/a.key', { secret: true })).toBe('keys/a.key');
    const pub = keys.path('-----BEGIN PUBLIC KEY-----\nCCCC\n-----END PUBLIC KEY-----\n', { secret: false });
    expect(masked).toHaveLength(3);
    // a private key pasted where a public key belongs (verify) is masked all the same
    keys.path('-----BEGIN PRIVATE KEY-----\nDDDD\n-----END PRIVATE KEY-----\n', { secret: false });
    expect(masked.slice(3)).toEqual(['-----BEGIN PRIVATE KEY-----\nDDDD\n-----END PRIVATE KEY-----\n', 'DDDD']);
    keys.cleanup();
    expect(() => statSync(f)).toThrow();
    expect(() => statSync(pub)).toThrow();
  });
});

const report = (ok: boolean): PolicyReport => ({
  ok,
  policy: 'policy.yml',
  warnings: [],
  ...(ok ? { model: { name: 'm', digest: { sha256: 'ab'.repeat(32) }, serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] }, resources: 1 } } : {}),
  rules: [
    { rule: 'signature', ok, detail: ok ? 'signed by key abc' : 'model does not match its signature: changed: a|b.bin' },
    { rule: 'approvals.production', ok, detail: ok ? '1 of 1' : '0 of 1 required distinct approvals', items: [{ file: 'f1', counted: ok, why: ok ? 'key x: approved' : 'not signed by an approver for production' }] },
  ],
});
const gate = (ok: boolean): ModeResult => ({ mode: 'gate', report: report(ok), policyFile: 'policy.yml', stage: 'production', signaturePath: 'm/model.sig', source: 'folder m.attestations', attestations: new Map([['f1', { tlog: [{ logIndex: '12345' }], approval: { stage: 'production', decision: 'approved', approvedAt: '2026-01-02T03:04:05Z', reason: 'eval <b>0.9</b>', approver: 'Bob' } }]]) });

describe('outputs, report and summary', () => {
  it('gate: outputs from the policy report', () => {
    expect(outputsOf(gate(true))).toEqual({ digest: 'ab'.repeat(32), verified: 'true', 'signature-path': 'm/model.sig' });
    expect(outputsOf(gate(false))).toEqual({ verified: 'false', 'signature-path': 'm/model.sig' });
    expect(outputsOf({ mode: 'gate', error: new InputError('X', 'x'), modelPath: 'm' })).toEqual({ verified: 'false' });
    expect(outputsOf({ mode: 'sign', error: new InputError('X', 'x'), modelPath: 'm' })).toEqual({});
    // every output set is declared in action.yml (report is set by main)
    for (const r of [gate(true), gate(false)]) for (const k of Object.keys(outputsOf(r))) expect(meta.outputs).toHaveProperty(k);
    expect(meta.outputs).toHaveProperty('report');
  });

  it('the report is the CLI JSON envelope: version, command, ok, warnings, error', () => {
    expect(reportJson(gate(true))).toMatchObject({ version: 1, command: 'verify', ok: true, verified: true, warnings: [], model: { name: 'm', digest: { sha256: 'ab'.repeat(32) } }, policy: 'policy.yml' });
    expect(reportJson(gate(false))).toMatchObject({ ok: false, verified: false, error: { code: 'POLICY_FAILED', family: 'verification' } });
    const mismatch = new ModelMismatchError({ changed: ['a.bin'], missing: [], extra: [] } as never);
    expect(reportJson({ mode: 'verify', error: mismatch, modelPath: 'm' })).toMatchObject({ ok: false, verified: false, error: { code: 'MODEL_MISMATCH', family: 'verification' }, differences: { changed: ['a.bin'] } });
    expect(reportJson({ mode: 'sign', error: new Error('boom'), modelPath: 'm' })).toMatchObject({ command: 'sign', ok: false, error: { code: 'INTERNAL_ERROR', family: 'internal' } });
  });

  it('the summary shows rules, approvals (who, when, why) and Rekor links; bundle text cannot inject markdown or HTML', () => {
    const md = renderSummary(gate(true));
    expect(md).toContain('## ✅ modelseal gate for production: passed');
    expect(md).toContain('| Digest | `sha256:' + 'ab'.repeat(32) + '` |');
    expect(md).toContain('| ✅ | "Bob" | 2026-01-02T03:04:05Z | approved | eval &lt;b&gt;0.9&lt;/b&gt; | 12345 (log unknown…, not public-good) | key x: approved |');
    const bad = renderSummary(gate(false));
    expect(bad).toContain('## ❌ modelseal gate for production: FAILED');
    expect(bad).toContain('changed: a\\|b.bin');
    expect(bad).toContain('– (the signature did not verify)');
    expect(cell('a|b\nc<script>`x`')).toBe("a\\|b c&lt;script&gt;'x'");
    // search links only for the public-good log (its key id from the shipped trusted root)
    expect(rekor({ tlog: [{ logIndex: '7', logId: 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=' }] })).toBe('[7](https://search.sigstore.dev/?logIndex=7)');
    expect(rekor({ tlog: [{ logIndex: '8', logId: 'zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=' }, { logIndex: '9' }] })).toBe('8 (log zxGZFVvd0FEm…, not public-good), 9 (log unknown…, not public-good)');
    expect(rekor({ tlog: [] })).toBe('–');
    expect(renderSummary({ mode: 'verify', error: new InputError('SIGNATURE_NOT_FOUND', 'm/model.sig: no signature'), modelPath: 'm' })).toContain('[`SIGNATURE_NOT_FOUND`]');
  });
});
