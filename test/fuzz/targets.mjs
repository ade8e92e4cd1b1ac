// The fuzz targets: what each one feeds a mutated input to, its seeds, and
// its mutator. A target must end in success or a ModelsealError; anything
// else (another error, a hang, an uncaught exception, running out of the
// worker's heap) is a finding.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  generateKeyPair,
  hashModel,
  loadCertificates,
  loadPolicy,
  loadPublicKey,
  ModelsealError,
  parseBundle,
  publicGoodTrustedRoot,
  signedManifest,
  verifyEnvelope,
} from '@modelseal/core/internals';
import { mutateBundle, mutateBytes, mutateJsonText, mutateTar } from './mutate.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures/model_signing');

// ---- seeds (built in the runner) --------------------------------------------

function bundleSeeds() {
  if (!existsSync(FIXTURES)) throw new Error(`fuzz: ${FIXTURES} is missing (the bundle seeds are the model_signing fixtures)`);
  return readdirSync(FIXTURES)
    .filter((d) => existsSync(path.join(FIXTURES, d, 'model.sig')))
    .map((d) => ({ input: readFileSync(path.join(FIXTURES, d, 'model.sig')), variant: 'sig' }));
}

const POLICY_YAML = `version: 1
signers:
  - key: release.pub
  - identity: https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main
    issuer: https://token.actions.githubusercontent.com
provenance:
  repository: acme/models
  workflow: .github/workflows/train.yml
  ref: refs/heads/main
  signers:
    - key: ci.pub
approvals:
  production:
    threshold: 2
    approvers:
      - key: alice.pub
      - key: bob.pub
      - identity: bob@acme.com
        issuer: https://accounts.google.com
    maxAge: 30d
  staging:
    threshold: 1
    approvers:
      - key: alice.pub
`;

function policySeeds(yamlParse) {
  const doc = yamlParse(POLICY_YAML);
  return [
    { input: Buffer.from(POLICY_YAML), variant: 'yml' },
    { input: Buffer.from('version: 1\nsigners:\n  - key: release.pub\n'), variant: 'yml' },
    { input: Buffer.from('x: &a [*a]\nversion: 1\nsigners: [{key: release.pub}]\n'), variant: 'yml' },
    { input: Buffer.from(JSON.stringify(doc, null, 2)), variant: 'json' },
    { input: Buffer.from(JSON.stringify({ version: 1, signers: [{ key: 'release.pub' }] })), variant: 'json' },
  ];
}

/** Honest tarballs from GNU tar (gnu, posix) and Python (pax, gnu) of a small model, plus a few crafted forms. */
function tarSeeds(work) {
  const model = path.join(work, 'seed-model');
  const files = { 'config.json': '{"a":1}', 'w/part-1.bin': Buffer.alloc(3000, 7), 'empty.txt': '', [`long/${'d'.repeat(110)}.bin`]: 'x', 'ü.txt': 'u', '.git/HEAD': 'ref' };
  for (const [n, c] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(model, n)), { recursive: true });
    writeFileSync(path.join(model, n), c);
  }
  const out = [];
  for (const format of ['gnu', 'posix', 'v7']) {
    const t = path.join(work, `seed-${format}.tar`);
    if (spawnSync('tar', [`--format=${format}`, '-C', work, '-cf', t, 'seed-model']).status === 0) out.push({ input: readFileSync(t), variant: 'tar' });
  }
  const t = path.join(work, 'seed-dot.tar');
  execFileSync('tar', ['-C', model, '-cf', t, '.']);
  out.push({ input: readFileSync(t), variant: 'tar.gz' });
  for (const f of ['PAX_FORMAT', 'GNU_FORMAT']) {
    const p = path.join(work, `seed-py-${f}.tar`);
    const r = spawnSync('python3', ['-c', `import sys, tarfile\nwith tarfile.open(sys.argv[1], "w", format=tarfile.${f}) as t: t.add(sys.argv[2], arcname="m")`, p, model]);
    if (r.status === 0) out.push({ input: readFileSync(p), variant: 'tar' });
  }
  return out;
}

// ---- YAML-aware mutation -------------------------------------------------------

const YAML_BITS = ['&a ', '*a', '!!binary ', '!!str ', '<<: *a', '? ', '- ', '  ', '\t', '{', '[', '"', "'", '#', ': ', '---\n', '...\n', '%YAML 1.2\n', 'key: ', 'threshold: 1e9', 'maxAge: 0d', 'version: 1'];

function mutateYaml(r, input, corpus) {
  if (r.chance(0.4)) return mutateBytes(r, input, corpus);
  const lines = input.toString('utf8').split('\n');
  const i = r.int(lines.length);
  switch (r.int(5)) {
    case 0: lines.splice(i, 0, lines[r.int(lines.length)]); break; // duplicate a line (duplicate keys)
    case 1: lines.splice(i, 1); break;
    case 2: lines[i] = (r.chance(0.5) ? '  ' : '') + lines[i].replace(/^ {2}/, r.chance(0.5) ? '' : '    '); break;
    case 3: { const at = r.int(lines[i].length + 1); lines[i] = lines[i].slice(0, at) + r.pick(YAML_BITS) + lines[i].slice(at); break; }
    default: { const j = r.int(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; }
  }
  return Buffer.from(lines.join('\n'));
}

export const MUTATORS = {
  bundle: (r, seed, corpus) => mutateBundle(r, seed.input, corpus),
  policy: (r, seed, corpus) => (seed.variant === 'json' ? (r.chance(0.7) ? mutateJsonText(r, seed.input) : mutateBytes(r, seed.input, corpus)) : mutateYaml(r, seed.input, corpus)),
  tar: (r, seed, corpus) => mutateTar(r, seed.input, corpus),
};

export async function seedsFor(name, work) {
  if (name === 'bundle') return bundleSeeds();
  if (name === 'policy') return policySeeds((await import('yaml')).parse);
  return tarSeeds(work);
}

// ---- executors (run in the worker) ---------------------------------------------

/** Sets up what the targets read besides the input (keys, trust) in `work`; returns name -> run(input, variant). */
export function executors(work) {
  for (const name of ['release', 'alice', 'bob', 'ci']) writeFileSync(path.join(work, `${name}.pub`), generateKeyPair('ed25519').publicPem);
  const keyTrust = { publicKey: loadPublicKey(path.join(FIXTURES, 'keys/certificate/signing-key-pub.pem')).key };
  const caTrust = { certificateAuthorities: loadCertificates(path.join(FIXTURES, 'keys/certificate/ca-cert.pem')) };
  // the identity of the *-sigstore fixtures: keyless bundles go through sigstore-js's verifier as well
  const keylessTrust = { sigstore: { trustedRoot: publicGoodTrustedRoot(), policy: { identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' } } };
  let n = 0;
  return {
    bundle(input) {
      const b = parseBundle(input, 'fuzzed bundle');
      // the signature fails on almost every mutated input; the parse of what it names (keys, certificates) is the point
      let verified = 'verified';
      try {
        const trust = b.material.kind === 'publicKey' ? keyTrust : b.tlogEntries.length > 0 ? keylessTrust : caTrust;
        verifyEnvelope(b, trust);
      } catch (e) {
        if (!(e instanceof ModelsealError)) throw e;
        verified = e.code;
      }
      try {
        signedManifest(b);
        return `${verified} OK`;
      } catch (e) {
        if (!(e instanceof ModelsealError)) throw e;
        return `${verified} ${e.code}`;
      }
    },
    policy(input, variant) {
      const file = path.join(work, `policy.${variant}`);
      writeFileSync(file, input);
      loadPolicy(file);
    },
    async tar(input, variant) {
      const file = path.join(work, `m${n++ % 4}.${variant}`);
      writeFileSync(file, variant === 'tar.gz' ? gzipSync(input) : input);
      if (n % 4 === 0) return differential(file, work);
      const opts = [{}, { method: 'shards', shardSize: 1024 }, { hashType: 'blake3', ignorePaths: ['.git', 'w'] }][n % 3];
      await hashModel(file, opts);
    },
  };
}

/**
 * The tar oracle: an archive modelseal accepts must extract, with GNU tar and
 * with Python's tarfile, to exactly the files and bytes it hashed (nothing
 * ignored here). A difference is thrown as a plain Error: a finding.
 */
async function differential(file, work) {
  const m = await hashModel(file, { ignoreGitPaths: false, signatureName: '.fuzz-no-such.sig' });
  const hashed = Object.fromEntries(m.resources.map((r) => [r.name, r.digest]));
  const base = path.basename(file).replace(/\.tar(\.gz)?$/, '');
  for (const reader of ['gnu-tar', 'python']) {
    const dest = mkdtempSync(path.join(work, `x-${reader}-`));
    try {
      if (reader === 'gnu-tar') spawnSync('tar', ['-xf', file, '-C', dest]);
      else spawnSync('python3', ['-c', 'import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t: t.extractall(sys.argv[2], filter="tar")', file, dest]);
      let got = listTree(dest);
      if (m.modelName !== base) got = Object.fromEntries(Object.entries(got).map(([k, v]) => [k.startsWith(`${m.modelName}/`) ? k.slice(m.modelName.length + 1) : `<outside>/${k}`, v]));
      const a = JSON.stringify(Object.entries(hashed).sort());
      const b = JSON.stringify(Object.entries(got).sort());
      if (a !== b) throw new Error(`tar differential: modelseal hashed ${a.slice(0, 300)} but ${reader} extracted ${b.slice(0, 300)}`);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  }
  return 'OK (extracts as hashed)';
}

function listTree(root, rel = '', out = {}) {
  for (const name of readdirSync(path.join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(path.join(root, r));
    if (st.isDirectory()) listTree(root, r, out);
    else out[r] = st.isFile() ? createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex') : '<not a file>';
  }
  return out;
}
