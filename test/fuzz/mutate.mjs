/* global structuredClone */
// Seeded, structure-aware mutations for the fuzz targets. No coverage
// guidance is available here (jazzer.js does not load on these machines), so
// the mutator knows the formats instead: JSON values, base64-wrapped DSSE
// payloads and certificates inside bundles, tar header fields.

/** A small deterministic PRNG (mulberry32): the same seed gives the same inputs. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p };
}

const INTERESTING_BYTES = [0x00, 0x01, 0x20, 0x2f, 0x2e, 0x30, 0x37, 0x38, 0x7f, 0x80, 0xff, 0x0a, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d];

// ---- byte-level -------------------------------------------------------------

export function mutateBytes(r, input, corpus) {
  const b = Buffer.from(input);
  switch (r.int(8)) {
    case 0: // flip bits
      for (let k = 1 + r.int(4); k > 0 && b.length; k--) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    case 1: // interesting bytes
      for (let k = 1 + r.int(4); k > 0 && b.length; k--) b[r.int(b.length)] = r.pick(INTERESTING_BYTES);
      return b;
    case 2: // truncate
      return b.subarray(0, r.int(b.length + 1));
    case 3: { // delete a range
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(64))]);
    }
    case 4: { // insert random bytes
      const at = r.int(b.length + 1);
      const ins = Buffer.from(Array.from({ length: 1 + r.int(32) }, () => r.int(256)));
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 5: { // duplicate a range
      const at = r.int(b.length + 1);
      const len = r.int(Math.min(1024, b.length - at) + 1);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 6: { // splice with another corpus input
      const other = r.pick(corpus);
      const at = r.int(b.length + 1);
      const from = r.int(other.length + 1);
      return Buffer.concat([b.subarray(0, at), other.subarray(from, from + r.int(4096))]);
    }
    default: { // overwrite a range with one byte
      const at = r.int(b.length + 1);
      b.fill(r.pick(INTERESTING_BYTES), at, Math.min(b.length, at + 1 + r.int(16)));
      return b;
    }
  }
}

// ---- JSON -------------------------------------------------------------------

function randomValue(r, depth = 0) {
  switch (r.int(12)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1, 1.5, 2 ** 53, -(2 ** 63), 1e308, NaN, 1e-7, 1000000000.0]);
    case 3: return '';
    case 4: return r.pick(['../x', '/etc/passwd', 'a/../b', '.', 'a\u0000b', 'a\nb\u001b[31m', 'x:0:1', 'sha256', 'blake2b', 'files', 'shards', '\ud800']);
    case 5: return 'A'.repeat(r.pick([1, 64, 65, 1000, 100000]));
    case 6: return depth < 3 ? [randomValue(r, depth + 1)] : [];
    case 7: return depth < 3 ? { [r.pick(['name', 'digest', 'algorithm', 'path', 'key', 'x'])]: randomValue(r, depth + 1) } : {};
    case 8: { // deep nesting
      let v = 0;
      for (let i = r.pick([10, 63, 65, 500]); i > 0; i--) v = [v];
      return v;
    }
    case 9: return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256))).toString('base64');
    case 10: return 'f'.repeat(r.pick([63, 64, 128]));
    default: return r.int(1000);
  }
}

/** Every [container, key] pair in a parsed JSON value. */
function slots(v, out = []) {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push([v, k]);
      slots(v[k], out);
    }
  }
  return out;
}

/** Mutates one place in a JSON value (in place); returns the value. */
export function mutateJsonValue(r, v) {
  const all = slots(v);
  if (all.length === 0) return randomValue(r);
  const [c, k] = r.pick(all);
  switch (r.int(6)) {
    case 0: if (Array.isArray(c)) c.splice(Number(k), 1); else delete c[k]; break;
    case 1: c[k] = randomValue(r); break;
    case 2: if (Array.isArray(c)) c.push(structuredClone(c[k])); else c[k + r.pick(['', '_', 'X'])] = structuredClone(c[k]); break;
    case 3: if (typeof c[k] === 'string') c[k] = c[k] + r.pick(['', '/', '\u0000', ':0:0', 'x', '=']); else c[k] = String(c[k]); break;
    case 4: if (Array.isArray(c) && c.length > 1) c.reverse(); else c[k] = [c[k]]; break;
    default: if (typeof c[k] === 'number') c[k] = r.pick([c[k] + 1, -c[k], c[k] * 1e6, 0]); else c[k] = randomValue(r); break;
  }
  return v;
}

export function mutateJsonText(r, input) {
  let v;
  try {
    v = JSON.parse(input.toString('utf8'));
  } catch {
    return mutateBytes(r, input, [input]);
  }
  const text = JSON.stringify(mutateJsonValue(r, v), null, r.chance(0.5) ? 2 : undefined) ?? 'null';
  if (r.chance(0.1)) {
    // a duplicate key, which JSON.stringify can never write
    return Buffer.from(text.replace(/\{"([^"]+)":/, (m, k) => `{"${k}":0,"${k}":`));
  }
  return Buffer.from(text);
}

/**
 * Sigstore bundles wrap what matters in base64: the DSSE payload (an in-toto
 * statement) and DER certificates. Mutate inside those as well as the JSON.
 */
export function mutateBundle(r, input, corpus) {
  let b;
  try {
    b = JSON.parse(input.toString('utf8'));
  } catch {
    return mutateBytes(r, input, corpus);
  }
  const env = b?.dsseEnvelope;
  const vm = b?.verificationMaterial;
  const chain = vm?.x509CertificateChain?.certificates;
  const certs = [...(Array.isArray(chain) ? chain : []), ...(vm?.certificate ? [vm.certificate] : [])].filter((c) => c && typeof c === 'object');
  const choice = r.int(4);
  if (choice === 0 && typeof env?.payload === 'string') {
    const payload = mutateJsonText(r, Buffer.from(env.payload, 'base64'));
    env.payload = payload.toString('base64');
  } else if (choice === 1 && certs.length > 0) {
    const c = r.pick(certs);
    if (typeof c.rawBytes === 'string') c.rawBytes = mutateDer(r, Buffer.from(c.rawBytes, 'base64')).toString('base64');
  } else if (choice === 2) {
    return mutateBytes(r, input, corpus);
  } else {
    mutateJsonValue(r, b);
  }
  return Buffer.from(JSON.stringify(b));
}

/** DER: flip bytes, mostly in the extensions near the end of the TBS. */
function mutateDer(r, der) {
  const b = Buffer.from(der);
  for (let k = 1 + r.int(3); k > 0 && b.length; k--) {
    const at = r.chance(0.6) ? Math.floor(b.length * (0.5 + r.next() * 0.4)) : r.int(b.length);
    b[at] = r.chance(0.5) ? b[at] ^ (1 << r.int(8)) : r.pick(INTERESTING_BYTES);
  }
  return r.chance(0.1) ? b.subarray(0, r.int(b.length)) : b;
}

// ---- tar --------------------------------------------------------------------

/** Offsets of the header blocks in a tar (lenient: follows octal sizes). */
export function tarHeaderOffsets(b) {
  const out = [];
  let off = 0;
  while (off + 512 <= b.length && out.length < 10000) {
    const h = b.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    out.push(off);
    const size = parseInt(h.toString('latin1', 124, 136).replace(/[^0-7]/g, '') || '0', 8);
    off += 512 + Math.ceil((Number.isFinite(size) ? size : 0) / 512) * 512;
  }
  return out;
}

function setChecksum(h) {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of h) sum += x;
  Buffer.from(sum.toString(8).padStart(6, '0') + '\0 ').copy(h, 148);
}

const TYPEFLAGS = ['0', '\0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'D', 'M', 'N', 'V', 'A'];
const NAMES = ['../evil', '/abs', 'a/', '.git/x', './a', 'a//b', 'a/./b', '.', '', 'x'.repeat(100), 'm/a', 'model.sig', 'a\u0000b'];

export function mutateTar(r, input, corpus) {
  const b = Buffer.from(input);
  const heads = tarHeaderOffsets(b);
  if (heads.length === 0 || r.chance(0.25)) return mutateBytes(r, input, corpus);
  const at = r.pick(heads);
  const h = b.subarray(at, at + 512);
  // half the time a change every reader should accept, so that the differential oracle has archives to compare
  if (r.chance(0.5)) {
    switch (r.int(4)) {
      case 0: { h.fill(0, 0, 100); Buffer.from(r.pick(['x', 'a/b', 'ü.bin', 'model.sig', '.git/c', 'w/part-1.bin', 'config.json', 'd/e/f'])).copy(h, 0); break; }
      case 1: { const nameEnd = h.indexOf(0); if (nameEnd > 0) h[r.int(nameEnd)] = r.pick([0x61, 0x5f, 0x2e, 0x2d]); break; }
      case 2: { Buffer.from(r.int(0o777).toString(8).padStart(7, '0') + '\0').copy(h, 100); Buffer.from(r.int(2 ** 31).toString(8).padStart(11, '0') + '\0').copy(h, 136); break; }
      default: { // data bytes only, never a header
        const data = at + 512;
        const size = parseInt(h.toString('latin1', 124, 136).replace(/[^0-7]/g, '') || '0', 8);
        if (size > 0 && data + size <= b.length) b[data + r.int(size)] ^= 1 + r.int(255);
      }
    }
    setChecksum(h);
    return b;
  }
  switch (r.int(8)) {
    case 0: h[156] = r.pick(TYPEFLAGS).charCodeAt(0); break;
    case 1: { h.fill(0, 0, 100); Buffer.from(r.pick(NAMES)).copy(h, 0, 0, 100); break; }
    case 2: { // size field
      const forms = [() => (r.int(1 << 20)).toString(8).padStart(11, '0') + '\0', () => '0000_0\0\0\0\0\0\0', () => '           \0', () => '77777777777\0', () => ' 12 34\0\0\0\0\0\0'];
      h.fill(0, 124, 136);
      if (r.chance(0.2)) { h[124] = r.pick([0x80, 0xff]); for (let i = 125; i < 136; i++) h[i] = r.int(256); } else Buffer.from(r.pick(forms)(), 'latin1').copy(h, 124, 0, 12);
      break;
    }
    case 3: Buffer.from(r.pick(['ustar\u000000', 'ustar  \u0000', '\u0000'.repeat(8), 'ustar\u0000  ']), 'latin1').copy(h, 257); break;
    case 4: { h.fill(0, 345, 500); Buffer.from(r.pick(['.git', 'a', '..', 'x/'.repeat(70)])).copy(h, 345, 0, 155); break; }
    case 5: { // an extended header record in the body after this header
      const rec = r.pick(['path=evil.py', 'GNU.sparse.name=evil.py', 'size=0', 'size=99999999', 'hdrcharset=BINARY', 'linkpath=/etc', 'path=', 'x']);
      const line = `${rec.length + 4} ${rec}\n`;
      Buffer.from(line).copy(b, Math.min(at + 512, b.length - 1));
      break;
    }
    case 6: { // duplicate this entry's header right after itself
      const copy = Buffer.from(h);
      return Buffer.concat([b.subarray(0, at + 512), copy, b.subarray(at + 512)]);
    }
    default: { // a zero block or junk after the end
      return r.chance(0.5) ? Buffer.concat([b.subarray(0, at), Buffer.alloc(512), b.subarray(at)]) : Buffer.concat([b, Buffer.from(r.pick(corpus).subarray(0, 1024))]);
    }
  }
  if (r.chance(0.9)) setChecksum(h);
  return b;
}
