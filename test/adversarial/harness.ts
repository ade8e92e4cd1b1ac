/**
 * The adversarial corpus's one harness. Every case is built in a temp folder
 * with real files and real keys, then run twice: through the library (the
 * thrown ModelsealError's code and family) and through the built CLI as a
 * child process with --json (exit status, the `[CODE]` of the one stderr
 * line, and `error.code` of the one JSON object on stdout). Both must give the
 * same exit code (0 verified, 1 not verified, 2 bad input) and the same code.
 *
 * CLI runs go through a small pool so one case can start several at once
 * (each spawn costs ~0.2 s of Node start-up).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import {
  exitCodeFor, generateKeyPair, IN_TOTO_PAYLOAD_TYPE, keySigner, loadPublicKey, ModelsealError, VerificationError,
  type KeyType, type PolicyReport, type Signer,
} from '@modelseal/core/internals';
import { modelsealAsync, tmp } from '../cli.js';

export { tmp };

export type Exit = 0 | 1 | 2;

/** One row of the corpus table: what a case must produce, on both paths. */
export interface Row {
  category: string;
  name: string;
  exit: Exit;
  code: string;
  /** a known finding: the case is written as it should behave and marked it.fails */
  finding?: string;
}

const rows: Row[] = [];
/** With ADVERSARIAL_TABLE=file, every checked row is appended to that file as a markdown table line. */
afterAll(() => {
  const out = process.env.ADVERSARIAL_TABLE;
  if (out) appendFileSync(out, rows.map((r) => `| ${r.category} | ${r.name.replace(/\|/g, '\\|')} | ${r.exit} | ${r.code}${r.finding ? ` (finding: ${r.finding})` : ''} |\n`).join(''));
});
export function record(r: Row): void {
  rows.push(r);
}

// ---------- files, keys ----------

export { bytes } from '../../packages/core/test/helpers.js';

export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  mkdirSync(root, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(root, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
  return root;
}

/** A copy of a (signed) model folder, to break one thing in. */
export function copyModel(src: string, name: string): string {
  const dst = path.join(tmp(), name);
  cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
  return dst;
}

export interface Keys {
  name: string;
  priv: KeyObject;
  pub: KeyObject;
  privFile: string;
  pubFile: string;
  signer: Signer;
}

/** A real key pair, written as PEM files in `dir` (`<name>.key`, `<name>.pub`). */
export function makeKeys(dir: string, name: string, type: KeyType = 'ed25519'): Keys {
  const kp = generateKeyPair(type);
  const privFile = path.join(dir, `${name}.key`);
  const pubFile = path.join(dir, `${name}.pub`);
  writeFileSync(privFile, kp.privatePem);
  writeFileSync(pubFile, kp.publicPem);
  const priv = createPrivateKey(kp.privatePem);
  return { name, priv, pub: loadPublicKey(pubFile).key, privFile, pubFile, signer: keySigner(priv) };
}

/** A CA (self-signed, CA:TRUE, keyCertSign) and a code-signing leaf for `key`, made by openssl. */
export function makeCa(dir: string, name: string): { caPem: string; caKey: string } {
  const caKey = path.join(dir, `${name}-ca.key`);
  const caPem = path.join(dir, `${name}-ca.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caPem, '-days', '2', '-subj', `/CN=${name}-ca`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], { stdio: 'ignore' });
  return { caPem, caKey };
}
export function issueLeaf(dir: string, ca: { caPem: string; caKey: string }, k: Keys): X509Certificate {
  const csr = path.join(dir, `${k.name}.csr`);
  const crt = path.join(dir, `${k.name}-${path.basename(ca.caPem, '.pem')}.crt`);
  const ext = path.join(dir, 'leaf-ext.cnf');
  writeFileSync(ext, 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
  execFileSync('openssl', ['req', '-new', '-key', k.privFile, '-subj', `/CN=${k.name}`, '-out', csr], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca.caPem, '-CAkey', ca.caKey, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', crt], { stdio: 'ignore' });
  return new X509Certificate(readFileSync(crt));
}

// ---------- signed statements ----------

/** The in-toto statement inside a bundle file. */
export function statementOf(sigFile: string): any {
  return JSON.parse(Buffer.from(JSON.parse(readFileSync(sigFile, 'utf8')).dsseEnvelope.payload, 'base64').toString());
}

/** Signs any statement with a real key, as a signer's bug (or a stolen key) could: what a malformed signed manifest looks like. */
export async function signStatement(signer: Signer, statement: unknown, file: string, payloadType = IN_TOTO_PAYLOAD_TYPE): Promise<void> {
  const b = await signer.createBundle(Buffer.from(typeof statement === 'string' ? statement : JSON.stringify(statement)), payloadType);
  writeFileSync(file, JSON.stringify(b));
}

// ---------- running a case ----------

export interface CliOutcome {
  exit: number | null;
  code: string | undefined;
  json: any;
  stdout: string;
  stderr: string;
}

let running = 0;
const waiting: Array<() => void> = [];
const POOL = 4;

/** Runs the CLI (with --json added) and reads its outcome; at most POOL children at once. */
export async function cli(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliOutcome> {
  if (running >= POOL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    const argv = args.includes('--json') ? args : [...args, '--json'];
    // MODELSEAL_STATE_DIR=off: `sign` must not record file states in the user's cache from a test.
    const r = await modelsealAsync(argv, { env: { MODELSEAL_STATE_DIR: 'off' }, timeoutMs: opts.timeoutMs ?? 30_000 });
    let json: unknown;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    const m = /^modelseal: .*\[([A-Z0-9_]+)\]$/m.exec(r.stderr);
    return { exit: r.status, code: m?.[1], json, stdout: r.stdout, stderr: r.stderr };
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export interface LibOutcome {
  exit: Exit;
  code: string | undefined;
  error?: ModelsealError;
  value?: unknown;
}

/** Runs a library call: resolves is exit 0; a ModelsealError gives its family's exit code; anything else fails the test. */
export async function lib(fn: () => Promise<unknown> | unknown): Promise<LibOutcome> {
  try {
    const value = await fn();
    return { exit: 0, code: undefined, value };
  } catch (err) {
    if (!(err instanceof ModelsealError)) throw new Error(`library threw a non-ModelsealError: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
    return { exit: exitCodeFor(err), code: err.code, error: err };
  }
}

export interface Expectation {
  exit: Exit;
  /** the error code on failure; 'OK' for success */
  code: string;
  /** matched against the library error's message and the CLI's stderr line */
  message?: RegExp;
  /** extra checks on the library outcome and the CLI's JSON */
  libCheck?: (o: LibOutcome) => void;
  jsonCheck?: (json: any) => void;
}

/** Asserts one CLI outcome: exit status, the stderr code and the JSON error.code agree with the expectation. */
export function expectCli(o: CliOutcome, e: Expectation, where: string): void {
  const ctx = `${where}\n--- stderr:\n${o.stderr}\n--- stdout:\n${o.stdout.slice(0, 2000)}`;
  expect(o.stderr, ctx).not.toMatch(/INTERNAL_ERROR|unexpected error|\n\s+at /);
  expect(o.json, `${ctx}\n(stdout must be one JSON object)`).toBeTypeOf('object');
  if (e.exit === 0) {
    expect(o.exit, ctx).toBe(0);
    expect(o.json.ok, ctx).toBe(true);
    expect(o.code, ctx).toBeUndefined();
  } else {
    expect({ exit: o.exit, stderrCode: o.code, jsonCode: o.json?.error?.code }, ctx).toEqual({ exit: e.exit, stderrCode: e.code, jsonCode: e.code });
    expect(o.json.ok, ctx).toBe(false);
    // one line of error (warnings may come before it)
    expect(o.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('modelseal: warning:')), ctx).toHaveLength(1);
    if (e.message) expect(o.stderr, ctx).toMatch(e.message);
  }
  e.jsonCheck?.(o.json);
}

export function expectLib(o: LibOutcome, e: Expectation, where: string): void {
  expect({ exit: o.exit, code: o.code ?? 'OK' }, `${where}: ${o.error?.message ?? ''}`).toEqual({ exit: e.exit, code: e.code });
  if (e.message && o.error) expect(o.error.message).toMatch(e.message);
  e.libCheck?.(o);
}

export interface Check extends Expectation {
  category: string;
  name: string;
  /** the library call: verifyModel, signModel, loadPolicy... */
  lib: () => Promise<unknown> | unknown;
  /** the same through the CLI (argv after `modelseal`) */
  cli: string[];
  finding?: string;
}

/** Runs a check through the library and the CLI, and records its row. */
export async function both(c: Check): Promise<void> {
  record({ category: c.category, name: c.name, exit: c.exit, code: c.code, ...(c.finding ? { finding: c.finding } : {}) });
  const [l, o] = await Promise.all([lib(c.lib), cli(c.cli)]);
  expectLib(l, c, `${c.name} (library)`);
  expectCli(o, c, `${c.name} (CLI: modelseal ${c.cli.join(' ')})`);
}

/** Several checks of one case at once (independent inputs only). */
export async function all(checks: Check[]): Promise<void> {
  const results = await Promise.allSettled(checks.map(both));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw failed[0]!.reason;
}

// ---------- policy cases ----------

export interface PolicyCheck {
  category: string;
  name: string;
  model: string;
  policy: string;
  stage?: string;
  attestationsDir?: string;
  /** report.ok */
  ok: boolean;
  /** the rule that must fail (when !ok), or whose text `why` must match */
  rule?: string;
  /** matched against the failing rule's detail and items' `why` (library and CLI JSON) */
  why?: RegExp;
  finding?: string;
}

/**
 * A policy evaluation: the library returns a report (failed rules do not
 * throw); the CLI turns a failed report into exit 1, POLICY_FAILED, with the
 * rules in its JSON. Both must name the same failing rule and reason.
 */
export async function policyBoth(c: PolicyCheck, evaluate: () => Promise<PolicyReport>): Promise<void> {
  record({ category: c.category, name: c.name, exit: c.ok ? 0 : 1, code: c.ok ? 'OK' : `POLICY_FAILED (${c.rule})`, ...(c.finding ? { finding: c.finding } : {}) });
  const args = ['verify', c.model, '--policy', c.policy, ...(c.stage ? ['--stage', c.stage] : []), ...(c.attestationsDir ? ['--attestations', c.attestationsDir] : [])];
  const [r, o] = await Promise.all([evaluate(), cli(args)]);
  const text = (rules: PolicyReport['rules']) => rules.map((x) => `${x.rule} ${x.ok ? 'PASS' : 'FAIL'}: ${x.detail}\n${(x.items ?? []).map((i) => `  ${i.counted ? '+' : '-'} ${i.why}  [${path.basename(i.file)}]`).join('\n')}`).join('\n');
  const ctx = `${c.name}\n${text(r.rules)}\n--- CLI stderr:\n${o.stderr}`;
  expect(r.ok, ctx).toBe(c.ok);
  expectCli(o, { exit: c.ok ? 0 : 1, code: 'POLICY_FAILED' }, `${c.name} (CLI)`);
  if (!c.ok) {
    const failed = r.rules.filter((x) => !x.ok).map((x) => x.rule);
    expect(failed, ctx).toEqual([c.rule]);
    expect(o.json.rules.filter((x: { ok: boolean }) => !x.ok).map((x: { rule: string }) => x.rule), ctx).toEqual([c.rule]);
  }
  if (c.why) {
    const pick = (rules: PolicyReport['rules']) => rules.filter((x) => !c.rule || x.rule === c.rule);
    expect(text(pick(r.rules)), ctx).toMatch(c.why);
    expect(text(pick(o.json.rules)), ctx).toMatch(c.why);
  }
}

export { VerificationError };

/** MODEL_MISMATCH with exactly these differences, in the error's details and the CLI JSON. */
export function mismatch(d: { changed?: string[]; missing?: string[]; extra?: string[] }) {
  const want = { changed: d.changed ?? [], missing: d.missing ?? [], extra: d.extra ?? [] };
  return {
    exit: 1 as const,
    code: 'MODEL_MISMATCH',
    libCheck: (o: { error?: { details?: Record<string, unknown> } }) => expect(o.error?.details?.differences).toEqual(want),
    jsonCheck: (j: { differences?: unknown }) => expect(j.differences).toEqual(want),
  };
}
