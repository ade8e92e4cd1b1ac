import { createHash, type Hash } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { createHasher, type StreamHasher } from '../hashing/algorithms.js';
import { resourceAlgorithm, shardName, type ResourceDescriptor, type Serialization } from '../manifest.js';
import { isUnder } from '../paths.js';
import type { ModelLayer } from './modelpack.js';

/** True when the serialization leaves this path out (the same rule a local walk applies). */
export function ignoredBy(s: Serialization, p: string): boolean {
  return (s.ignorePaths ?? []).some((i) => isUnder(p, i));
}

/**
 * Digests one layer's bytes as they stream past: SHA-256 for the layer digest
 * (what the registry promised), and the OMS resources the signature's
 * serialization asks for (files or shards, any hash type). Nothing is kept
 * but the running hashes.
 */
export class LayerDigester {
  private readonly layerHash: Hash = createHash('sha256');
  private n = 0;
  private readonly resources: ResourceDescriptor[] = [];
  private shard: StreamHasher | undefined;
  private shardStart = 0;

  constructor(
    readonly layer: ModelLayer,
    private readonly s?: Serialization,
  ) {
    if (s && s.method === 'files' && s.hashType !== 'sha256') this.shard = createHasher(s.hashType);
  }

  update(chunk: Uint8Array): void {
    this.n += chunk.length;
    if (this.n > this.layer.size) {
      throw new VerificationError('OCI_BLOB_SIZE_MISMATCH', `layer ${this.layer.path} (${this.layer.digest}): more than the ${this.layer.size} bytes the manifest gives`);
    }
    this.layerHash.update(chunk);
    const s = this.s;
    if (!s) return;
    if (s.method === 'files') {
      this.shard?.update(chunk);
      return;
    }
    let off = 0;
    const pos = this.n - chunk.length;
    while (off < chunk.length) {
      const at = pos + off;
      if (!this.shard) {
        this.shard = createHasher(s.hashType);
        this.shardStart = at;
      }
      const room = this.shardStart + s.shardSize - at;
      const take = Math.min(room, chunk.length - off);
      this.shard.update(chunk.subarray(off, off + take));
      off += take;
      if (take === room) this.closeShard(at + take);
    }
  }

  private closeShard(end: number): void {
    const s = this.s as Extract<Serialization, { method: 'shards' }>;
    this.resources.push({ name: shardName(this.layer.path, this.shardStart, end), algorithm: resourceAlgorithm(s), digest: this.shard!.digest().toString('hex') });
    this.shard = undefined;
  }

  /** Checks size and digest; returns the OMS resources for this file. */
  finish(): ResourceDescriptor[] {
    const got = `sha256:${this.layerHash.digest('hex')}`;
    if (this.n !== this.layer.size) {
      throw new VerificationError('OCI_BLOB_SIZE_MISMATCH', `layer ${this.layer.path} (${this.layer.digest}): ${this.n} bytes, the manifest says ${this.layer.size}`);
    }
    if (got !== this.layer.digest) {
      throw new VerificationError('OCI_BLOB_DIGEST_MISMATCH', `layer ${this.layer.path}: the registry sent bytes hashing to ${got}, not ${this.layer.digest}`);
    }
    const s = this.s;
    if (!s) return [];
    if (s.method === 'files') {
      const digest = s.hashType === 'sha256' ? got.slice(7) : this.shard!.digest().toString('hex');
      return [{ name: this.layer.path, algorithm: resourceAlgorithm(s), digest }];
    }
    if (this.shard) this.closeShard(this.n);
    return this.resources;
  }
}
