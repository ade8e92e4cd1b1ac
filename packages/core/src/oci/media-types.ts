/**
 * The formats on the wire. A model is a CNCF ModelPack artifact
 * (modelpack/model-spec v1: docs/spec.md, specs-go/v1/mediatype.go,
 * annotations.go) with one uncompressed layer per file, so each layer's
 * digest is the file's SHA-256. Signatures and attestations are Sigstore
 * bundles attached as referrers the way cosign 3 attaches them.
 */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
/** `{}`: the empty descriptor's blob, which must exist in the registry even when inlined as data */
export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export const MODEL_ARTIFACT = 'application/vnd.cncf.model.manifest.v1+json';
export const MODEL_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const LAYER_WEIGHT = 'application/vnd.cncf.model.weight.v1.raw';
export const LAYER_WEIGHT_CONFIG = 'application/vnd.cncf.model.weight.config.v1.raw';
export const LAYER_DOC = 'application/vnd.cncf.model.doc.v1.raw';
export const LAYER_CODE = 'application/vnd.cncf.model.code.v1.raw';
export const RAW_LAYERS: readonly string[] = [LAYER_WEIGHT, LAYER_WEIGHT_CONFIG, LAYER_DOC, LAYER_CODE];

export const ANNOTATION_FILEPATH = 'org.cncf.model.filepath';
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

export const SIGSTORE_BUNDLE_ARTIFACT = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE = 'dev.sigstore.bundle.predicateType';

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof OCI_MANIFEST;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof OCI_INDEX;
  manifests: Descriptor[];
}

/** Which ModelPack layer type a file is, by name: weights unless it looks like config, docs or code. */
export function layerMediaType(filePath: string): string {
  const base = filePath.split('/').pop()!.toLowerCase();
  if (/^(readme|license|licence|notice|model_card|modelcard)(\..*)?$/.test(base) || /\.(md|rst|txt|pdf)$/.test(base)) return LAYER_DOC;
  if (/\.(py|sh|ipynb|js|ts|go|rs|c|cc|cpp|h)$/.test(base)) return LAYER_CODE;
  if (/\.(json|yaml|yml|toml|ini|cfg|model|tiktoken|vocab)$/.test(base) || /^(vocab|merges|tokenizer)/.test(base)) {
    // safetensors index files are JSON but describe weights; they still count as configuration here
    return LAYER_WEIGHT_CONFIG;
  }
  return LAYER_WEIGHT;
}
