import { InputError } from '@modelseal/core';

/**
 * The action's inputs, as action.yml declares them, read into one typed
 * object. Only syntax is checked here (which mode, which inputs each mode
 * needs, booleans); what the values mean is core's business.
 */
export const MODES = ['sign', 'attest-provenance', 'approve', 'verify', 'gate'] as const;
export type Mode = (typeof MODES)[number];

export interface ActionInputs {
  mode: Mode;
  modelPath: string;
  signature?: string;
  policy?: string;
  stage?: string;
  /** folder of attestation bundles (default: `<model>.attestations`) */
  attestations?: string;
  attestationsFrom: 'folder' | 'github';
  githubToken?: string;
  /** PEM text (from a secret) or a path: private key to sign, public key to verify */
  key?: string;
  keyPassword?: string;
  keyless: boolean;
  identity?: string;
  issuer?: string;
  ignorePaths: string[];
  approver?: string;
  reason?: string;
  expires?: string;
  /** keyless: a private Sigstore (or the tests' one on 127.0.0.1) */
  trustedRoot?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  rekorEntryType?: 'dsse' | 'intoto';
}

/** `core.getInput` semantics: '' when unset; values are trimmed. */
export type GetInput = (name: string) => string;

const SIGNING_MODES: readonly Mode[] = ['sign', 'attest-provenance', 'approve'];

export function readInputs(get: GetInput): ActionInputs {
  const opt = (name: string) => {
    const v = get(name).trim();
    return v === '' ? undefined : v;
  };
  const mode = opt('mode') ?? 'gate';
  if (!(MODES as readonly string[]).includes(mode)) throw new InputError('BAD_OPTION', `input mode: "${mode}" is not one of ${MODES.join(', ')}`);
  const modelPath = opt('model-path');
  if (!modelPath) throw new InputError('MISSING_INPUT', 'input model-path is required: the model folder, file or tarball');
  const from = opt('attestations-from') ?? 'folder';
  if (from !== 'folder' && from !== 'github') throw new InputError('BAD_OPTION', `input attestations-from: "${from}" is not folder or github`);
  const entryType = opt('rekor-entry-type');
  if (entryType !== undefined && entryType !== 'dsse' && entryType !== 'intoto') throw new InputError('BAD_OPTION', `input rekor-entry-type: "${entryType}" is not dsse or intoto`);

  const i: ActionInputs = {
    mode: mode as Mode,
    modelPath,
    keyless: bool(get('keyless'), 'keyless'),
    attestationsFrom: from,
    ignorePaths: get('ignore-paths').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== ''),
  };
  const strings = {
    signature: 'signature', policy: 'policy', stage: 'stage', attestations: 'attestations', githubToken: 'github-token', key: 'key',
    keyPassword: 'key-password', identity: 'identity', issuer: 'issuer', approver: 'approver', reason: 'reason', expires: 'expires',
    trustedRoot: 'trusted-root', fulcioUrl: 'fulcio-url', rekorUrl: 'rekor-url',
  } as const;
  for (const [field, name] of Object.entries(strings)) {
    const v = field === 'key' ? keyInput(get(name)) : opt(name);
    if (v !== undefined) (i as unknown as Record<string, unknown>)[field] = v;
  }
  if (entryType) i.rekorEntryType = entryType;
  checkModeInputs(i);
  return i;
}

/** Key material keeps its line breaks (a PEM from a secret); a path is trimmed. */
function keyInput(raw: string): string | undefined {
  if (raw.trim() === '') return undefined;
  return raw.includes('-----BEGIN') ? raw : raw.trim();
}

function bool(v: string, name: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === '' || s === 'false') return false;
  if (s === 'true') return true;
  throw new InputError('BAD_OPTION', `input ${name}: "${v}" is not true or false`);
}

function checkModeInputs(i: ActionInputs): void {
  const needs = (ok: boolean, msg: string) => {
    if (!ok) throw new InputError('MISSING_INPUT', `mode ${i.mode}: ${msg}`);
  };
  const refuse = (names: string[], why: string) => {
    const given = names.filter((n) => i[camel(n) as keyof ActionInputs] !== undefined);
    if (given.length) throw new InputError('BAD_OPTION', `mode ${i.mode}: input ${given.join(', ')} ${why}`);
  };
  if (SIGNING_MODES.includes(i.mode)) {
    if (i.keyless && i.key) throw new InputError('BAD_OPTION', `mode ${i.mode}: give either key or keyless: true, not both`);
    needs(i.keyless || i.key !== undefined, 'a signer is needed: key (a PEM secret or a path) or keyless: true');
  }
  if (i.mode === 'approve') needs(i.stage !== undefined, 'input stage is required (e.g. production)');
  if (i.mode === 'verify') {
    needs(i.key !== undefined || i.identity !== undefined || i.issuer !== undefined, 'trust is needed: key (a public key) or identity and issuer (keyless)');
    refuse(['policy'], 'belongs to mode gate');
  }
  if (i.mode === 'gate') {
    needs(i.policy !== undefined, 'input policy is required (the release policy file)');
    refuse(['key', 'identity', 'issuer'], 'is not used: the policy names the trusted signers');
  }
  if (i.attestationsFrom === 'github' && i.attestations !== undefined) {
    throw new InputError('BAD_OPTION', 'give either attestations (a folder) or attestations-from: github, not both');
  }
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
