import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { LIMITS, readBoundedFile } from './limits.js';
import * as ed from '@noble/ed25519';
import { InputError } from './errors.js';

// @noble/ed25519's synchronous API needs SHA-512 supplied. node:crypto's
// (OpenSSL) rather than @noble/hashes: same digest, and importing @noble/hashes
// cost every CLI start several milliseconds of table set-up.
ed.hashes.sha512 = (m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest());

/** A signing key type: Ed25519 or ECDSA on P-256, P-384 or P-521. */
export type KeyType = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521';
/** Every key type modelseal signs and verifies with. */
export const KEY_TYPES: readonly KeyType[] = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521'];

/** The hash each ECDSA curve signs with, as model_signing and the OMS spec pair them. */
export const ECDSA_HASH: Record<Exclude<KeyType, 'ed25519'>, 'sha256' | 'sha384' | 'sha512'> = {
  'ecdsa-p256': 'sha256',
  'ecdsa-p384': 'sha384',
  'ecdsa-p521': 'sha512',
};

const CURVES: Record<string, KeyType> = { 'prime256v1': 'ecdsa-p256', 'secp384r1': 'ecdsa-p384', 'secp521r1': 'ecdsa-p521' };

/** Sigstore's `keyDetails` names (PublicKeyDetails), used in older model_signing bundles. */
export const KEY_DETAILS: Record<KeyType, string> = {
  ed25519: 'PKIX_ED25519',
  'ecdsa-p256': 'PKIX_ECDSA_P256_SHA_256',
  'ecdsa-p384': 'PKIX_ECDSA_P384_SHA_384',
  'ecdsa-p521': 'PKIX_ECDSA_P521_SHA_512',
};

export function keyTypeOf(key: KeyObject, where: string): KeyType {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') {
    const t = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (t) return t;
    throw new InputError('UNSUPPORTED_KEY', `${where}: EC curve ${key.asymmetricKeyDetails?.namedCurve} is not supported (use P-256, P-384 or P-521)`);
  }
  throw new InputError('UNSUPPORTED_KEY', `${where}: ${key.asymmetricKeyType} keys are not supported (use Ed25519 or ECDSA)`);
}

/** The canonical SPKI PEM text of a public key. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * A key's id: hex SHA-256 of its SPKI PEM text. model_signing 1.1 writes the
 * same value as the bundle's `publicKey.hint`, so hints interoperate.
 */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKeyPem(pub)).digest('hex');
}

/** SHA-256 of the DER SubjectPublicKeyInfo: the same key whether it comes bare, in a certificate, or in several. */
export function spkiSha256(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Key files may carry text around the PEM block (openssl -text output): keep the block only. */
function pemBlock(text: string, kinds: RegExp, where: string): string {
  const m = new RegExp(`-----BEGIN (${kinds.source})-----[\\s\\S]*?-----END \\1-----`).exec(text);
  if (!m) throw new InputError('BAD_KEY', `${where}: no PEM block found`);
  return m[0];
}

function readText(file: string): string {
  return readBoundedFile(file, { limit: LIMITS.keyFileBytes, what: 'key', notFoundCode: 'KEY_UNREADABLE', tooLargeCode: 'KEY_TOO_LARGE' }).toString('utf8');
}

/** Reads a PEM public key (SPKI) file and names its type; refuses key types modelseal does not sign with. */
export function loadPublicKey(file: string): { key: KeyObject; type: KeyType } {
  const text = readText(file);
  if (!/-----BEGIN PUBLIC KEY-----/.test(text)) {
    if (/-----BEGIN (ENCRYPTED |EC |)PRIVATE KEY-----/.test(text)) {
      throw new InputError('PRIVATE_KEY_GIVEN', `${file} is a private key; verification takes the public key (${file.replace(/\.key$/, '.pub')}, or: openssl pkey -in ${file} -pubout)`);
    }
    if (/-----BEGIN CERTIFICATE-----/.test(text)) {
      throw new InputError('CERTIFICATE_GIVEN', `${file} is a certificate, not a public key: verify with --certificate-chain CA.pem (the CA that issued it)`);
    }
  }
  const pem = pemBlock(text, /PUBLIC KEY/, file);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new InputError('BAD_KEY', `${file}: not a valid public key (${(err as Error).message})`, { cause: err });
  }
  return { key, type: keyTypeOf(key, file) };
}

export interface LoadedPrivateKey {
  key: KeyObject;
  publicKey: KeyObject;
  type: KeyType;
  /** true when group or others can read the file: the CLI warns */
  looseMode: boolean;
}

/**
 * Loads a PKCS#8 (or SEC1 EC) PEM private key. Encrypted keys take the
 * passphrase given; a missing or wrong passphrase is a clear error.
 */
export function loadPrivateKey(file: string, passphrase?: string): LoadedPrivateKey {
  const text = readText(file);
  if (!/-----BEGIN (ENCRYPTED |EC |)PRIVATE KEY-----/.test(text) && /-----BEGIN (PUBLIC KEY|CERTIFICATE)-----/.test(text)) {
    throw new InputError('PUBLIC_KEY_GIVEN', `${file} is a ${/CERTIFICATE/.test(text) ? 'certificate' : 'public key'}; signing takes the private key (${file.replace(/\.pub$/, '.key')})`);
  }
  const pem = pemBlock(text, /ENCRYPTED PRIVATE KEY|PRIVATE KEY|EC PRIVATE KEY/, file);
  const encrypted = pem.startsWith('-----BEGIN ENCRYPTED') || /Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && passphrase === undefined) {
    throw new InputError('KEY_PASSWORD_REQUIRED', `${file}: key is encrypted; set MODELSEAL_KEY_PASSWORD or run on a terminal to be asked`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: pem, passphrase: passphrase ?? '' } : pem);
  } catch (err) {
    if (encrypted) throw new InputError('KEY_PASSWORD_WRONG', `${file}: cannot decrypt key (wrong passphrase?)`, { cause: err });
    throw new InputError('BAD_KEY', `${file}: not a valid private key (${(err as Error).message})`, { cause: err });
  }
  const mode = statSync(file).mode;
  return { key, publicKey: createPublicKey(key), type: keyTypeOf(key, file), looseMode: (mode & 0o077) !== 0 };
}

/** A new key pair as PEM. Ed25519 secrets come from @noble/ed25519's CSPRNG-backed generator. */
export function generateKeyPair(type: KeyType, passphrase?: string): { privatePem: string; publicPem: string } {
  let priv: KeyObject;
  if (type === 'ed25519') {
    const secret = ed.utils.randomSecretKey();
    const pub = ed.getPublicKey(secret);
    priv = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(secret).toString('base64url'), x: Buffer.from(pub).toString('base64url') }, format: 'jwk' });
  } else {
    const namedCurve = { 'ecdsa-p256': 'prime256v1', 'ecdsa-p384': 'secp384r1', 'ecdsa-p521': 'secp521r1' }[type];
    if (!namedCurve) throw new InputError('BAD_KEY_TYPE', `unknown key type "${type}" (expected ${KEY_TYPES.join(', ')})`);
    priv = generateKeyPairSync('ec', { namedCurve }).privateKey;
  }
  const privatePem = priv.export(passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' }).toString();
  return { privatePem, publicPem: publicKeyPem(createPublicKey(priv)) };
}

/** Raw 32-byte Ed25519 keys, for @noble/ed25519. */
export function ed25519Secret(key: KeyObject): Uint8Array {
  return Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
}
export function ed25519Public(key: KeyObject): Uint8Array {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}
