import { FormatError } from '../errors.js';
import { LIMITS, parseJsonBounded } from '../limits.js';
import { checkRelativeName } from '../paths.js';
import {
  ANNOTATION_FILEPATH, ANNOTATION_TITLE, layerMediaType, MODEL_ARTIFACT, MODEL_CONFIG, OCI_MANIFEST, RAW_LAYERS, type Descriptor, type ImageManifest,
} from './media-types.js';
import { SHA256_DIGEST } from './reference.js';

/** One file of the model as a layer: its POSIX path in the model, SHA-256 and size. */
export interface ModelLayer {
  path: string;
  digest: string;
  size: number;
  mediaType: string;
}

/**
 * The ModelPack config: `descriptor.name`, and `modelfs` with one diffId per
 * layer (raw layers: the diffId is the layer digest). No timestamps, so the
 * same model always gives the same manifest digest.
 */
export function modelConfig(name: string, layers: readonly ModelLayer[]): Buffer {
  return Buffer.from(JSON.stringify({ descriptor: { name }, modelfs: { type: 'layers', diffIds: layers.map((l) => l.digest) }, config: {} }));
}

export function modelManifest(config: Descriptor, layers: readonly ModelLayer[]): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MODEL_ARTIFACT,
    config,
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      annotations: { [ANNOTATION_FILEPATH]: l.path, [ANNOTATION_TITLE]: l.path.split('/').pop()! },
    })),
  };
}

export function layerFor(path: string, hexDigest: string, size: number): ModelLayer {
  return { path, digest: `sha256:${hexDigest}`, size, mediaType: layerMediaType(path) };
}

/**
 * Reads a model manifest from a registry, refusing anything a pull could be
 * tricked by: not a ModelPack artifact, layers that are archives (only raw
 * one-file layers are understood), digests other than sha256, paths that are
 * absolute, escape with `..`, repeat, or put a file where a folder must be.
 */
export function parseModelManifest(bytes: Buffer, where: string): { manifest: ImageManifest; layers: ModelLayer[] } {
  const m = parseJsonBounded(bytes, where, 'OCI_BAD_MANIFEST') as Partial<ImageManifest> | null;
  if (typeof m !== 'object' || m === null || m.schemaVersion !== 2) throw new FormatError('OCI_BAD_MANIFEST', `${where}: not an OCI image manifest`);
  if (m.mediaType !== undefined && m.mediaType !== OCI_MANIFEST) throw new FormatError('OCI_NOT_A_MODEL', `${where}: media type ${m.mediaType} is not an image manifest (an index? pull one platform's manifest by digest)`);
  if (m.artifactType !== MODEL_ARTIFACT && m.config?.mediaType !== MODEL_CONFIG) {
    throw new FormatError('OCI_NOT_A_MODEL', `${where}: not a ModelPack model (artifactType ${JSON.stringify(m.artifactType)}, config ${JSON.stringify(m.config?.mediaType)})`);
  }
  if (!Array.isArray(m.layers)) throw new FormatError('OCI_BAD_MANIFEST', `${where}: no layers`);
  if (m.layers.length > LIMITS.resources) throw new FormatError('TOO_MANY_RESOURCES', `${where}: ${m.layers.length} layers, over the limit of ${LIMITS.resources}`);
  const layers: ModelLayer[] = [];
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const [i, d] of m.layers.entries()) {
    if (typeof d !== 'object' || d === null) throw new FormatError('OCI_BAD_MANIFEST', `${where}: layer #${i} is not a descriptor`);
    if (!RAW_LAYERS.includes(d.mediaType)) throw new FormatError('OCI_UNSUPPORTED_LAYER', `${where}: layer #${i} has media type ${JSON.stringify(d.mediaType)}; only raw ModelPack layers (one file each) are supported`);
    if (typeof d.digest !== 'string' || !SHA256_DIGEST.test(d.digest)) throw new FormatError('OCI_UNSUPPORTED_DIGEST', `${where}: layer #${i} digest ${JSON.stringify(d.digest)} is not sha256:<hex>`);
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new FormatError('OCI_BAD_MANIFEST', `${where}: layer #${i} has no valid size`);
    const p = d.annotations?.[ANNOTATION_FILEPATH] ?? d.annotations?.[ANNOTATION_TITLE];
    if (typeof p !== 'string') throw new FormatError('OCI_BAD_LAYER_PATH', `${where}: layer #${i} has no ${ANNOTATION_FILEPATH} annotation`);
    const problem = checkRelativeName(p, 'layer path') ?? (p === '.' ? 'layer path "." names the model itself' : undefined);
    if (problem) throw new FormatError('OCI_BAD_LAYER_PATH', `${where}: layer #${i}: ${problem}`);
    if (files.has(p)) throw new FormatError('OCI_DUPLICATE_LAYER_PATH', `${where}: two layers for "${p}"`);
    if (dirs.has(p)) throw new FormatError('OCI_BAD_LAYER_PATH', `${where}: "${p}" is both a file and a folder`);
    const parts = p.split('/');
    for (let k = 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      if (files.has(dir)) throw new FormatError('OCI_BAD_LAYER_PATH', `${where}: "${dir}" is both a file and a folder`);
      dirs.add(dir);
    }
    files.add(p);
    layers.push({ path: p, digest: d.digest, size: d.size, mediaType: d.mediaType });
  }
  return { manifest: m as ImageManifest, layers };
}
