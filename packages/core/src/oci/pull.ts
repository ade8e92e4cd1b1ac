import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { PolicyVerdictError } from '../policy/verdict-error.js';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { parseBundle } from '../bundle.js';
import { FormatError, InputError, ModelsealError } from '../errors.js';
import type { HashProgress } from '../hash-model.js';
import { createManifest, type Manifest, type ResourceDescriptor, type Serialization } from '../manifest.js';
import type { LoadedPolicy } from '../policy/load.js';
import { evaluatePolicy, type PolicyReport } from '../policy/evaluate.js';
import { DEFAULT_SIGNATURE_NAME } from '../hash-model.js';
import { signedManifest, verifyModel, type Trust, type VerifyResult } from '../verify-model.js';
import { ociAttestations } from './attestations.js';
import type { ReferredBundle } from './bundle-referrer.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { ignoredBy, LayerDigester } from './layer-digest.js';
import type { ModelLayer } from './modelpack.js';
import { clientFor, fetchModelManifest, signatureCandidates, type RegistryOptions, type RemoteModel } from './remote-model.js';

const WRITE_BATCH = 1 << 20;

export interface PullOptions extends RegistryOptions {
  /** who must have signed the model (or `policy`) */
  trust?: Trust;
  /** a release policy: signers, provenance, approvals (attestations come from the referrers) */
  policy?: LoadedPolicy;
  stage?: string;
  onProgress?: (p: HashProgress) => void;
  /** abort the download (Ctrl-C): the temporary folder is removed, INTERRUPTED is thrown */
  signal?: AbortSignal;
}

export interface PullResult {
  reference: string;
  digest: string;
  destination: string;
  files: number;
  bytes: number;
  /** layers under paths the signature leaves out: not written (they are not signed) */
  skipped: string[];
  signature: string;
  verified?: VerifyResult;
  policy?: PolicyReport;
}

/** The policy did not pass: the report is attached for printing. */
/**
 * Pulls a model into `dest`: every layer streamed into a temporary folder
 * beside `dest` through SHA-256, the signature (and policy) verified against
 * what was written, and only then renamed into place. On any failure the
 * temporary folder is removed and nothing exists at `dest`.
 */
export async function pullModel(reference: string, dest: string, o: PullOptions): Promise<PullResult> {
  if (!o.trust && !o.policy) throw new InputError('MISSING_TRUST', 'pull needs --key, --certificate-chain, --identity/--issuer, or --policy');
  const target = path.resolve(dest);
  if (existsSync(target)) throw new InputError('DESTINATION_EXISTS', `${dest}: already exists; pull into a new folder`);
  const parent = path.dirname(target);
  if (!existsSync(parent)) throw new InputError('DESTINATION_PARENT_MISSING', `${parent}: no such folder`);
  const client = clientFor(reference, o);
  const model = await fetchModelManifest(client);
  const candidates = await signatureCandidates(client, model);
  const tmp = path.join(parent, `.${path.basename(target)}.modelseal-pull-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp);
  try {
    const first = streamingSerialization(candidates);
    const { resources, bytes, skipped } = await downloadLayers(client, model, first, tmp, o.onProgress, o.signal);
    const streamed = (s: Serialization) => (sameSerialization(s, first) ? createManifest(path.basename(target), s, resources) : undefined);
    const outcome = await checkCandidates(tmp, candidates, model, client, o, streamed);
    renameSync(tmp, target);
    return {
      reference: model.reference,
      digest: model.digest,
      destination: target,
      files: model.layers.length - skipped.length,
      bytes,
      skipped,
      signature: outcome.signature,
      ...(outcome.verified ? { verified: outcome.verified } : {}),
      ...(outcome.policy ? { policy: outcome.policy } : {}),
    };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The serialization to digest the stream with: the first signature that parses (a malformed newer one must not hide a good one). */
export function streamingSerialization(candidates: ReferredBundle[]): Serialization {
  let firstError: unknown;
  for (const c of candidates) {
    try {
      return signedManifest(parseBundle(c.bytes, c.where)).serialization;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}

function sameSerialization(a: Serialization, b: Serialization): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Streams every signed layer into `dir` (or nowhere, when `dir` is undefined), digesting as it goes. */
export async function downloadLayers(
  client: RegistryClient,
  model: RemoteModel,
  s: Serialization,
  dir: string | undefined,
  onProgress?: (p: HashProgress) => void,
  signal?: AbortSignal,
): Promise<{ resources: ResourceDescriptor[]; bytes: number; skipped: string[] }> {
  const total = model.layers.reduce((n, l) => n + (ignoredBy(s, l.path) ? 0 : l.size), 0);
  let done = 0;
  const resources: ResourceDescriptor[] = [];
  const skipped: string[] = [];
  for (const l of model.layers) {
    if (ignoredBy(s, l.path)) {
      skipped.push(l.path);
      continue;
    }
    resources.push(
      ...(await downloadLayer(
        client,
        l,
        s,
        dir,
        (n) => {
          done += n;
          onProgress?.({ bytesDone: done, bytesTotal: total });
        },
        signal,
      )),
    );
  }
  return { resources, bytes: done, skipped };
}

async function downloadLayer(client: RegistryClient, l: ModelLayer, s: Serialization, dir: string | undefined, onBytes: (n: number) => void, signal?: AbortSignal): Promise<ResourceDescriptor[]> {
  const interrupted = () => new InputError('INTERRUPTED', `interrupted while downloading ${l.path}`);
  if (signal?.aborted) throw interrupted();
  const digester = new LayerDigester(l, s);
  let cleanup: (() => void) | undefined;
  let fh;
  if (dir) {
    const file = path.join(dir, ...l.path.split('/'));
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
      // 'wx': never follow or replace anything; the folder is ours and new. EEXIST here means two
      // layer paths name one file on this filesystem (case-insensitive or normalizing file systems).
      fh = await open(file, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new FormatError('OCI_DUPLICATE_LAYER_PATH', `layer ${l.path}: another layer already wrote this path on this file system (${code})`, { cause: err });
      throw new InputError('WRITE_FAILED', `${file}: cannot write (${code ?? (err as Error).message})`, { cause: err });
    }
  }
  try {
    const stream = await client.blobStream(l.digest);
    const stop = () => (stream as { destroy?: () => void }).destroy?.();
    signal?.addEventListener('abort', stop, { once: true });
    cleanup = () => signal?.removeEventListener('abort', stop);
    // socket reads are 64 KiB; writing them in 1 MiB batches saves most of the write calls
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    for await (const chunk of stream) {
      digester.update(chunk);
      if (fh) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) {
          await fh.writev(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      onBytes(chunk.length);
    }
    if (fh && pending.length) await fh.writev(pending);
    return digester.finish();
  } catch (err) {
    if (signal?.aborted) throw interrupted();
    if (err instanceof ModelsealError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.syscall === 'write' || e.syscall === 'writev') throw new InputError('WRITE_FAILED', `layer ${l.path}: cannot write (${e.code ?? e.message})`, { cause: err });
    throw new RegistryError('OCI_UNREACHABLE', `layer ${l.path}: the download broke off (${e.code ?? e.message})`, undefined, { cause: err });
  } finally {
    cleanup?.();
    await fh?.close();
  }
}

/**
 * Tries each attached model signature, newest first, until one verifies
 * (with `trust`) or passes the policy; otherwise the newest one's failure.
 */
async function checkCandidates(
  dir: string,
  candidates: ReferredBundle[],
  model: RemoteModel,
  client: RegistryClient,
  o: PullOptions,
  streamed: (s: Serialization) => Manifest | undefined,
): Promise<{ signature: string; verified?: VerifyResult; policy?: PolicyReport }> {
  const sigFile = path.join(dir, DEFAULT_SIGNATURE_NAME);
  const sigInModel = model.layers.some((l) => l.path === DEFAULT_SIGNATURE_NAME);
  let firstError: unknown;
  for (const c of candidates) {
    try {
      const s = signedManifest(parseBundle(c.bytes, c.where)).serialization;
      if (!sigInModel) writeFileSync(sigFile, c.bytes, { mode: 0o644 });
      if (o.policy) {
        if (sigInModel) throw new InputError('OCI_SIGNATURE_NAME_TAKEN', `${model.reference}: the model has a layer named ${DEFAULT_SIGNATURE_NAME}; a policy check needs that name for the signature`);
        const report = await evaluatePolicy(dir, o.policy, { attestations: ociAttestations(model.digest, client), signaturePath: sigFile, ...(o.stage ? { stage: o.stage } : {}) });
        if (report.ok) return { signature: c.where, policy: report };
        firstError ??= new PolicyVerdictError(`${o.policy.file} (${model.reference}@${model.digest})`, report);
        continue;
      }
      const m = streamed(s);
      const verified = await verifyModel(dir, { trust: o.trust!, bundle: c.bytes, ...(m ? { manifest: m } : {}) });
      return { signature: c.where, verified };
    } catch (err) {
      if (!(err instanceof ModelsealError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError;
}
