// Bundles the action into dist/ (committed: GitHub runs dist/index.js from a
// checkout of the repository, with no node_modules). Run after `tsc -b`:
// it bundles the compiled JavaScript of core and of the action, and chains
// their source maps. The output is reproducible: no timestamps, paths are
// relative, inputs are pinned by package-lock.json.
//
// Two files besides the map: index.js, and hash-worker.js, which core's hash
// pool starts as a worker thread from a URL beside its own module.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
/** `node build.mjs [OUTDIR]`: another folder lets a test check that dist/ is fresh without touching it. */
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));
const core = path.resolve(here, '../core/dist');

/**
 * Native addons cannot be bundled. BLAKE3 is loaded lazily by core; without
 * it, sha256 and blake2b models work and blake3 fails with a coded error.
 */
const EXTERNAL = ['@napi-rs/blake-hash'];

/**
 * Core loads some modules on first use with `createRequire(import.meta.url)(id)`
 * (ajv, the policy schema, the public-good trusted root). esbuild does not
 * follow that call, so it is rewritten to a plain `require(id)`, which esbuild
 * does bundle. Externals are left as they are: resolved at run time, if present.
 */
const inlineCreateRequire = {
  name: 'inline-create-require',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(core + path.sep)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const out = text.replace(/createRequire\(import\.meta\.url\)\((['"])([^'"]+)\1\)/g, (all, _q, id) => (EXTERNAL.includes(id) ? all : `require(${JSON.stringify(id)})`));
      return { contents: out, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

await build({
  entryPoints: {
    index: path.join(here, 'src/index.ts'),
    'hash-worker': path.join(core, 'hashing/hash-worker.js'),
  },
  outdir,
  // comments in the bundle name files relative to this: fixed, so the output does not depend on the caller's folder
  absWorkingDir: path.resolve(here, '../..'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  external: EXTERNAL,
  // Bundled CommonJS calls require() for node builtins; ESM has none, so give it one.
  banner: { js: "import { createRequire as __msCreateRequire } from 'node:module'; const require = __msCreateRequire(import.meta.url);" },
  plugins: [inlineCreateRequire],
  logLevel: 'warning',
});
