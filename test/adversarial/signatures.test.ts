/**
 * Adversarial corpus: signatures. Another model's valid signature, edits to
 * the payload after signing, statements re-signed with a changed predicate
 * type or a malformed resource list, certificates from an untrusted CA, the
 * wrong key, payloadType confusion, and bundles that are truncated, empty or
 * nested 100k levels deep.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import {
  APPROVAL_PREDICATE_V1, attestModel, buildApproval, computeRootDigest, keySigner, LIMITS, signModel, verifyModel, type Trust,
} from '@modelseal/core/internals';
import { all, bytes, issueLeaf, makeCa, makeKeys, signStatement, statementOf, tmp, writeTree, type Check, type Keys } from './harness.js';

let d: string;
let k: Keys;
let other: Keys;
let model: string;
let sig: string; // model's own signature (files method), detached
let shardSig: string; // the same model, shards method
let otherSig: string; // another model, same key

beforeAll(async () => {
  d = tmp();
  k = makeKeys(d, 'release', 'ecdsa-p256');
  other = makeKeys(d, 'other');
  model = writeTree(path.join(d, 'model'), { 'a.txt': 'alpha', 'w.bin': bytes(3000), 'z.json': '{}' });
  const otherModel = writeTree(path.join(d, 'other-model'), { 'a.txt': 'another model', 'w.bin': bytes(3000, 9) });
  sig = path.join(d, 'model.sig');
  shardSig = path.join(d, 'shards.sig');
  otherSig = path.join(d, 'other.sig');
  await signModel(model, { signer: k.signer, signaturePath: sig });
  await signModel(model, { signer: k.signer, signaturePath: shardSig, hash: { method: 'shards', shardSize: 1000 } });
  await signModel(otherModel, { signer: k.signer, signaturePath: otherSig });
});

let n = 0;
/** Writes a variant of a signature file. */
function variant(text: string | Buffer): string {
  const f = path.join(d, `variant-${++n}.sig`);
  writeFileSync(f, text);
  return f;
}
/** The bundle of `file` with its JSON changed by `edit`. */
function editBundle(file: string, edit: (b: any) => void): string {
  const b = JSON.parse(readFileSync(file, 'utf8'));
  edit(b);
  return variant(JSON.stringify(b));
}
/** The model's statement, edited, re-signed with the release key (the signature holds; the content is what is tested). */
async function resigned(base: string, edit: (st: any) => void, o: { fixRoot?: boolean; signer?: Keys; payloadType?: string } = {}): Promise<string> {
  const st = statementOf(base);
  edit(st);
  if (o.fixRoot ?? true) st.subject[0].digest.sha256 = computeRootDigest(st.predicate.resources);
  const f = path.join(d, `variant-${++n}.sig`);
  await signStatement((o.signer ?? k).signer, st, f, o.payloadType);
  return f;
}

type TrustKind = 'key' | 'other-key' | { ca: string };
function verifyCheck(name: string, signature: string, e: Omit<Check, 'category' | 'name' | 'lib' | 'cli'>, trust: TrustKind = 'key'): Check {
  const t: Trust = trust === 'key' ? { publicKey: k.pub } : trust === 'other-key' ? { publicKey: other.pub } : { certificateAuthorities: [new X509Certificate(readFileSync(trust.ca))] };
  const flags = trust === 'key' ? ['--key', k.pubFile] : trust === 'other-key' ? ['--key', other.pubFile] : ['--certificate-chain', trust.ca];
  return {
    category: 'signatures',
    name,
    lib: () => verifyModel(model, { trust: t, signaturePath: signature }),
    cli: ['verify', model, ...flags, '--signature', signature],
    ...e,
  };
}

describe('signatures', () => {
  it('baseline, another model\'s signature, the wrong key, payload edited after signing', async () => {
    const payloadEdited = editBundle(sig, (b) => {
      const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
      st.predicate.resources[0].digest = st.predicate.resources[1].digest;
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    });
    const whitespace = editBundle(sig, (b) => {
      b.dsseEnvelope.payload = Buffer.from(Buffer.from(b.dsseEnvelope.payload, 'base64').toString() + ' ').toString('base64');
    });
    await all([
      verifyCheck('baseline: the model\'s own signature', sig, { exit: 0, code: 'OK' }),
      verifyCheck('another model\'s valid signature (same key)', otherSig, { exit: 1, code: 'MODEL_MISMATCH' }),
      verifyCheck('wrong key', sig, { exit: 1, code: 'SIGNATURE_INVALID', message: /the bundle names key [0-9a-f]{64}/ }, 'other-key'),
      verifyCheck('payload edited after signing (a digest swapped)', payloadEdited, { exit: 1, code: 'SIGNATURE_INVALID' }),
      verifyCheck('payload edited after signing (one trailing space)', whitespace, { exit: 1, code: 'SIGNATURE_INVALID' }),
    ]);
  });

  it('predicate type changed and re-signed; an approval attestation presented as the model signature', async () => {
    const future = await resigned(sig, (st) => (st.predicateType = 'https://model_signing/signature/v2.0'));
    const slsa = await resigned(sig, (st) => (st.predicateType = 'https://slsa.dev/provenance/v1'));
    // a genuine approval of this very model, signed by the same key: a statement about the model, not its signature
    const approval = (await attestModel(model, APPROVAL_PREDICATE_V1, buildApproval({ stage: 'production' }), { signer: k.signer, label: 'approval', dir: path.join(d, 'att'), signaturePath: sig })).file;
    const typeDropped = await resigned(sig, (st) => delete st.predicateType);
    await all([
      verifyCheck('predicateType changed to signature/v2.0, re-signed', future, { exit: 2, code: 'BAD_PREDICATE_TYPE' }),
      verifyCheck('predicateType changed to SLSA provenance, re-signed', slsa, { exit: 2, code: 'BAD_PREDICATE_TYPE' }),
      verifyCheck('predicateType removed, re-signed', typeDropped, { exit: 2, code: 'BAD_PREDICATE_TYPE' }),
      verifyCheck('an approval attestation of this model given as its signature', approval, { exit: 2, code: 'BAD_PREDICATE_TYPE' }),
    ]);
  });

  it('resources reordered, duplicated, with a gap, overlapping or with a stale root digest, re-signed', async () => {
    const reordered = await resigned(sig, (st) => st.predicate.resources.reverse());
    const duplicated = await resigned(sig, (st) => st.predicate.resources.splice(1, 0, st.predicate.resources[0]));
    const gap = await resigned(shardSig, (st) => (st.predicate.resources = st.predicate.resources.filter((r: { name: string }) => r.name !== 'w.bin:1000:2000')));
    const overlap = await resigned(shardSig, (st) => {
      const i = st.predicate.resources.findIndex((r: { name: string }) => r.name === 'w.bin:1000:2000');
      st.predicate.resources[i] = { ...st.predicate.resources[i], name: 'w.bin:500:1500' };
    });
    const stale = await resigned(sig, (st) => (st.predicate.resources = st.predicate.resources.slice(1)), { fixRoot: false });
    const dropped = await resigned(sig, (st) => (st.predicate.resources = st.predicate.resources.slice(1)));
    await all([
      verifyCheck('resources reordered, re-signed', reordered, { exit: 2, code: 'UNSORTED_RESOURCES' }),
      verifyCheck('a resource duplicated, re-signed', duplicated, { exit: 2, code: 'DUPLICATE_RESOURCE' }),
      // A manifest whose shards of one file leave a hole describes no file at all. It fails closed as a
      // mismatch that names the unsigned range (the bytes there are covered by nothing).
      verifyCheck('shards: a middle shard missing (gap), re-signed', gap, { exit: 1, code: 'MODEL_MISMATCH', message: /unsigned extra files \(1\): w\.bin:1000:2000/ }),
      verifyCheck('shards: overlapping shard w.bin:500:1500, re-signed', overlap, { exit: 2, code: 'BAD_SHARD_NAME' }),
      verifyCheck('a resource dropped, subject digest left stale, re-signed', stale, { exit: 2, code: 'ROOT_DIGEST_MISMATCH' }),
      verifyCheck('a resource dropped, subject digest fixed, re-signed', dropped, { exit: 1, code: 'MODEL_MISMATCH', message: /unsigned extra files \(1\): a\.txt/ }),
    ]);
  });

  it('serialization and resource fields edited, re-signed', async () => {
    const algo = await resigned(sig, (st) => (st.predicate.resources[0].algorithm = 'blake3'));
    const hashType = await resigned(sig, (st) => (st.predicate.serialization.hash_type = 'blake3'));
    const upper = await resigned(sig, (st) => (st.predicate.resources[0].digest = st.predicate.resources[0].digest.toUpperCase()));
    const ignoreUp = await resigned(sig, (st) => (st.predicate.serialization.ignore_paths = ['../model']));
    const ignoreAll = await resigned(sig, (st) => (st.predicate.serialization.ignore_paths = ['.']));
    const fraction = await resigned(shardSig, (st) => (st.predicate.serialization.shard_size = 1000.5));
    const zeros = await resigned(shardSig, (st) => (st.predicate.resources[0].name = 'a.txt:00:5'));
    const method = await resigned(shardSig, (st) => (st.predicate.serialization.method = 'files'));
    await all([
      verifyCheck('resource algorithm changed to blake3, re-signed', algo, { exit: 2, code: 'BAD_ALGORITHM' }),
      verifyCheck('serialization hash_type changed to blake3, re-signed', hashType, { exit: 2, code: 'BAD_ALGORITHM' }),
      verifyCheck('a digest in upper case, re-signed', upper, { exit: 2, code: 'BAD_DIGEST' }),
      verifyCheck('ignore_paths ["../model"], re-signed', ignoreUp, { exit: 2, code: 'BAD_IGNORE_PATH' }),
      verifyCheck('ignore_paths ["."] (the whole model), re-signed', ignoreAll, { exit: 2, code: 'BAD_IGNORE_PATH' }),
      verifyCheck('shard_size 1000.5, re-signed', fraction, { exit: 2, code: 'BAD_SERIALIZATION' }),
      verifyCheck('shard name with a leading zero (a.txt:00:5), re-signed', zeros, { exit: 2, code: 'BAD_SHARD_NAME' }),
      verifyCheck('method changed from shards to files (shard_size left), re-signed', method, { exit: 2, code: 'BAD_SERIALIZATION' }),
    ]);
  });

  it('certificates: a chain from an untrusted CA, with its own root appended; the wrong trust kind', async () => {
    const good = makeCa(d, 'trusted');
    const evil = makeCa(d, 'evil');
    const signerKeys = makeKeys(d, 'leaf', 'ecdsa-p256');
    const goodLeaf = issueLeaf(d, good, signerKeys);
    const evilLeaf = issueLeaf(d, evil, signerKeys);
    const byGood = path.join(d, 'by-good.sig');
    const byEvil = path.join(d, 'by-evil.sig');
    const byEvilWithRoot = path.join(d, 'by-evil-root.sig');
    await signModel(model, { signer: keySigner(signerKeys.priv, [goodLeaf]), signaturePath: byGood });
    await signModel(model, { signer: keySigner(signerKeys.priv, [evilLeaf]), signaturePath: byEvil });
    await signModel(model, { signer: keySigner(signerKeys.priv, [evilLeaf, new X509Certificate(readFileSync(evil.caPem))]), signaturePath: byEvilWithRoot });
    await all([
      verifyCheck('certificate chain from the trusted CA (baseline)', byGood, { exit: 0, code: 'OK' }, { ca: good.caPem }),
      verifyCheck('certificate from an untrusted CA', byEvil, { exit: 1, code: 'CERT_UNTRUSTED' }, { ca: good.caPem }),
      verifyCheck('certificate from an untrusted CA, its self-signed root inside the bundle', byEvilWithRoot, { exit: 1, code: 'CERT_UNTRUSTED' }, { ca: good.caPem }),
      verifyCheck('bare-key signature checked against a CA', sig, { exit: 1, code: 'WRONG_TRUST_KIND' }, { ca: good.caPem }),
      verifyCheck('certificate signature checked against a key', byGood, { exit: 1, code: 'WRONG_TRUST_KIND' }),
    ]);
  });

  it('payloadType confusion: re-signed as another type, or the field edited after signing', async () => {
    const asJson = await resigned(sig, () => {}, { payloadType: 'application/json' });
    const edited = editBundle(sig, (b) => (b.dsseEnvelope.payloadType = 'application/vnd.in-toto+json; charset=utf-8'));
    await all([
      verifyCheck('statement signed with payloadType application/json', asJson, { exit: 1, code: 'PAYLOAD_TYPE_MISMATCH' }),
      verifyCheck('payloadType edited after signing', edited, { exit: 1, code: 'PAYLOAD_TYPE_MISMATCH' }),
    ]);
  });

  it('bundle shape: truncated, empty, not a bundle, several or no signatures, 100k-deep nesting', async () => {
    const text = readFileSync(sig, 'utf8');
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepField = variant(text.replace(/^\{/, `{"x":${deep},`));
    const deepPayload = await resigned(sig, () => {}, { fixRoot: false });
    await signStatement(k.signer, `{"_type":${deep}}`, deepPayload);
    const huge = variant('');
    truncateSync(huge, LIMITS.bundleBytes + 1);
    await all([
      verifyCheck('truncated bundle (half the bytes)', variant(text.slice(0, text.length >> 1)), { exit: 2, code: 'BAD_JSON' }),
      verifyCheck('empty bundle (0 bytes)', variant(''), { exit: 2, code: 'BAD_JSON' }),
      verifyCheck('bundle is {}', variant('{}'), { exit: 2, code: 'BAD_MEDIA_TYPE' }),
      verifyCheck('bundle is null', variant('null'), { exit: 2, code: 'BAD_BUNDLE' }),
      verifyCheck('two signatures in the envelope', editBundle(sig, (b) => b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0])), { exit: 2, code: 'MULTIPLE_SIGNATURES' }),
      verifyCheck('no signature in the envelope', editBundle(sig, (b) => (b.dsseEnvelope.signatures = [])), { exit: 2, code: 'NO_SIGNATURE' }),
      verifyCheck('a message signature instead of an envelope', editBundle(sig, (b) => {
        b.messageSignature = { messageDigest: { algorithm: 'SHA2_256', digest: 'AA==' }, signature: 'AA==' };
        delete b.dsseEnvelope;
      }), { exit: 2, code: 'BAD_BUNDLE' }),
      verifyCheck('100k-deep JSON array as the bundle', variant(deep), { exit: 2, code: 'JSON_TOO_DEEP' }),
      verifyCheck('100k-deep JSON in an unknown bundle field', deepField, { exit: 2, code: 'JSON_TOO_DEEP' }),
      verifyCheck('100k-deep JSON as the signed payload', deepPayload, { exit: 2, code: 'JSON_TOO_DEEP' }),
      verifyCheck('signature file of 128 MiB + 1 (sparse)', huge, { exit: 2, code: 'BUNDLE_TOO_LARGE' }),
    ]);
  });
});
