import { InputError } from '../errors.js';

/** `registry/repository[:tag][@sha256:hex]`, the way docker, skopeo and oras spell it. */
export interface OciReference {
  /** host[:port], e.g. `ghcr.io`, `127.0.0.1:5000` */
  registry: string;
  /** `org/model`: lowercase path components, as the distribution spec allows */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` */
  digest?: string;
}

export const OCI_SCHEME = 'oci://';
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REGISTRY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export function isOciReference(s: string): boolean {
  return s.startsWith(OCI_SCHEME);
}

/**
 * Parses a reference. The registry host is always explicit (no docker.io
 * default): a model name that silently resolved to Docker Hub would send it
 * somewhere the user did not say.
 */
export function parseReference(input: string): OciReference {
  const s = input.startsWith(OCI_SCHEME) ? input.slice(OCI_SCHEME.length) : input;
  const bad = (why: string): never => {
    throw new InputError('BAD_REFERENCE', `"${input}" is not an OCI reference (${why}); expected registry/repository:tag or registry/repository@sha256:<hex>`);
  };
  const slash = s.indexOf('/');
  if (slash <= 0) bad('no registry host');
  const registry = s.slice(0, slash);
  if (!REGISTRY.test(registry)) bad(`bad registry host "${registry}"`);
  let rest = s.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest)) bad('the digest must be sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`bad tag "${tag}"`);
  }
  if (rest.length === 0 || rest.length > 255 || !rest.split('/').every((c) => REPO_COMPONENT.test(c))) bad(`bad repository "${rest}"`);
  return { registry, repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatReference(r: OciReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function manifestRef(r: OciReference): string {
  const ref = r.digest ?? r.tag;
  if (!ref) throw new InputError('BAD_REFERENCE', `${formatReference(r)}: give a tag or a digest`);
  return ref;
}
