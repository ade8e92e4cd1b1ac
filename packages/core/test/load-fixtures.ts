import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPair, keySigner, signModel, type HashOptions } from '@modelseal/core';
import { tempDir, writeTree } from './helpers.js';

export interface SignedModel {
  dir: string;
  publicKey: KeyObject;
  /** the public key as a PEM file, for policies and the CLI */
  publicKeyFile: string;
  privateKey: KeyObject;
}

/** A fresh key pair, its public half written beside the models. */
export function keys(): { publicKey: KeyObject; privateKey: KeyObject; publicKeyFile: string } {
  const kp = generateKeyPair('ed25519');
  const publicKeyFile = path.join(tempDir('modelseal-keys-'), 'release.pub');
  writeFileSync(publicKeyFile, kp.publicPem);
  return { privateKey: createPrivateKey(kp.privatePem), publicKey: createPublicKey(kp.publicPem), publicKeyFile };
}

/** Writes a model folder and signs it (model.sig inside) with a fresh key. */
export async function signedModel(files: Record<string, string | Uint8Array>, hash: HashOptions = {}): Promise<SignedModel> {
  const dir = writeTree(path.join(tempDir('modelseal-load-'), 'model'), files);
  const k = keys();
  await signModel(dir, { signer: keySigner(k.privateKey), hash });
  return { dir, ...k };
}

/** A one-signer policy file trusting the key. */
export function keyPolicy(publicKeyFile: string): string {
  const p = path.join(path.dirname(publicKeyFile), 'policy.yaml');
  writeFileSync(p, `version: 1\nsigners:\n  - key: ${path.basename(publicKeyFile)}\n`);
  return p;
}
