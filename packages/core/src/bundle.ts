import { FormatError } from './errors.js';
import { LIMITS, parseJsonBounded } from './limits.js';
import type { DsseEnvelope } from './dsse.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Older bundle versions, accepted on read (keyless bundles from older sigstore clients). */
export const BUNDLE_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const BUNDLE_V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

/** A signature file is small; a larger one is refused before it is parsed. */
export const MAX_BUNDLE_BYTES = LIMITS.bundleBytes;

export interface SerializedBundle {
  mediaType: string;
  verificationMaterial: {
    publicKey?: { hint?: string; rawBytes?: string; keyDetails?: string };
    x509CertificateChain?: { certificates: Array<{ rawBytes: string }> };
    certificate?: { rawBytes: string };
    tlogEntries?: unknown[];
    timestampVerificationData?: unknown;
  };
  dsseEnvelope: DsseEnvelope;
}

/** What the verification material says about who signed. */
export type SignerMaterial =
  | { kind: 'publicKey'; hint?: string; rawPem?: string }
  | { kind: 'certificateChain'; certificates: Buffer[] }
  | { kind: 'certificate'; certificate: Buffer };

export interface ParsedBundle {
  json: SerializedBundle;
  material: SignerMaterial;
  payloadType: string;
  payload: Buffer;
  signature: Buffer;
  tlogEntries: unknown[];
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeB64(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || s.length % 4 === 1 || !B64.test(s.replace(/\s/g, ''))) {
    throw new FormatError('BAD_BASE64', `${what} is not valid base64`);
  }
  return Buffer.from(s, 'base64');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a Sigstore bundle holding a DSSE envelope with exactly one
 * signature. Everything else (message signatures, several signatures,
 * unknown media types) is refused here, before any cryptography.
 */
export function parseBundle(text: string | Buffer, where = 'bundle'): ParsedBundle {
  if (text.length > MAX_BUNDLE_BYTES) throw new FormatError('BUNDLE_TOO_LARGE', `${where}: ${text.length} bytes is over the ${MAX_BUNDLE_BYTES}-byte limit`);
  const json = parseJsonBounded(text, where, 'BAD_JSON');
  if (!isObject(json)) throw new FormatError('BAD_BUNDLE', `${where}: not a JSON object`);
  const mt = json.mediaType;
  if (mt !== BUNDLE_V03_MEDIA_TYPE && mt !== BUNDLE_V02_MEDIA_TYPE && mt !== BUNDLE_V01_MEDIA_TYPE) {
    throw new FormatError('BAD_MEDIA_TYPE', `${where}: mediaType ${JSON.stringify(mt)} is not a Sigstore bundle`);
  }
  const vm = json.verificationMaterial;
  if (!isObject(vm)) throw new FormatError('BAD_BUNDLE', `${where}: verificationMaterial is missing`);
  const env = json.dsseEnvelope;
  if (!isObject(env)) {
    throw new FormatError('BAD_BUNDLE', `${where}: no dsseEnvelope${json.messageSignature ? ' (a message signature, not a model signature)' : ''}`);
  }
  if (typeof env.payloadType !== 'string') throw new FormatError('BAD_BUNDLE', `${where}: dsseEnvelope.payloadType is missing`);
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) throw new FormatError('NO_SIGNATURE', `${where}: the envelope has no signatures`);
  if (env.signatures.length > 1) throw new FormatError('MULTIPLE_SIGNATURES', `${where}: the envelope has ${env.signatures.length} signatures; exactly one is supported`);
  const sig0: unknown = env.signatures[0];
  if (!isObject(sig0)) throw new FormatError('BAD_BUNDLE', `${where}: signature entry is not an object`);
  const signature = decodeB64(sig0.sig, `${where}: signature`);
  if (signature.length === 0) throw new FormatError('NO_SIGNATURE', `${where}: the signature is empty`);
  const payload = decodeB64(env.payload, `${where}: payload`);

  const kinds = ['publicKey', 'x509CertificateChain', 'certificate'].filter((k) => vm[k] !== undefined && vm[k] !== null);
  if (kinds.length !== 1) throw new FormatError('BAD_BUNDLE', `${where}: verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate`);
  let material: SignerMaterial;
  if (kinds[0] === 'publicKey') {
    const pk = vm.publicKey;
    if (!isObject(pk)) throw new FormatError('BAD_BUNDLE', `${where}: publicKey is not an object`);
    material = { kind: 'publicKey' };
    if (typeof pk.hint === 'string' && pk.hint) material.hint = pk.hint;
    if (pk.rawBytes !== undefined) material.rawPem = decodeB64(pk.rawBytes, `${where}: publicKey.rawBytes`).toString('utf8');
  } else if (kinds[0] === 'x509CertificateChain') {
    const chain = vm.x509CertificateChain;
    if (!isObject(chain) || !Array.isArray(chain.certificates) || chain.certificates.length === 0) {
      throw new FormatError('BAD_BUNDLE', `${where}: x509CertificateChain has no certificates`);
    }
    material = {
      kind: 'certificateChain',
      certificates: chain.certificates.map((c: unknown, i: number) => decodeB64(isObject(c) ? c.rawBytes : undefined, `${where}: certificate #${i}`)),
    };
  } else {
    const c = vm.certificate;
    material = { kind: 'certificate', certificate: decodeB64(isObject(c) ? c.rawBytes : undefined, `${where}: certificate`) };
  }
  const tlog = vm.tlogEntries;
  if (tlog !== undefined && !Array.isArray(tlog)) throw new FormatError('BAD_BUNDLE', `${where}: tlogEntries must be a list`);
  if (material.kind === 'certificate' && (!Array.isArray(tlog) || tlog.length === 0)) {
    // OMS 1.0: a keyless (short-lived certificate) bundle without a log entry proves nothing about when it signed.
    throw new FormatError('TLOG_MISSING', `${where}: keyless signature has no transparency log entry (Rekor); it cannot be verified`);
  }
  return {
    json: json as unknown as SerializedBundle,
    material,
    payloadType: env.payloadType,
    payload,
    signature,
    tlogEntries: (tlog as unknown[] | undefined) ?? [],
  };
}
