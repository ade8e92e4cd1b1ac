import type { Manifest } from './manifest.js';

/** Every way a model differs from its signed manifest, by resource name. */
export interface ManifestDifferences {
  /** signed, present, different digest */
  changed: string[];
  /** signed, not present */
  missing: string[];
  /** present, not signed */
  extra: string[];
}

/** Resource-by-resource comparison of what was signed with what is on disk. */
export function compareManifests(signed: Manifest, actual: Manifest): ManifestDifferences {
  const want = new Map(signed.resources.map((r) => [r.name, r.digest]));
  const have = new Map(actual.resources.map((r) => [r.name, r.digest]));
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [name, digest] of want) {
    const got = have.get(name);
    if (got === undefined) missing.push(name);
    else if (got !== digest) changed.push(name);
  }
  const extra = [...have.keys()].filter((n) => !want.has(n));
  return { changed, missing, extra };
}

export function hasDifferences(d: ManifestDifferences): boolean {
  return d.changed.length + d.missing.length + d.extra.length > 0;
}

export function describeDifferences(d: ManifestDifferences, limit = 20): string {
  const parts: string[] = [];
  const list = (label: string, names: string[]) => {
    if (names.length === 0) return;
    const shown = names.slice(0, limit).join(', ');
    parts.push(`${label} (${names.length}): ${shown}${names.length > limit ? ', ...' : ''}`);
  };
  list('changed', d.changed);
  list('missing', d.missing);
  list('unsigned extra files', d.extra);
  return parts.join('; ');
}
