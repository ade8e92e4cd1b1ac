#!/usr/bin/env node
// A model server that refuses to start on a model that is not the one that was
// signed (and, with a policy, approved). The model is read once, through
// openVerified: every byte it loads was hashed on the way in and matched the
// signed manifest before the read returned.
//
//   MODEL_DIR=/models/tiny MODEL_PUBLIC_KEY=release.pub PORT=8080 node server.mjs
//   MODEL_DIR=hf://acme/tiny MODEL_POLICY=/etc/modelseal/policy.yaml node server.mjs
//
// Optional: MODEL_STAGE (with a policy), MODELSEAL_CACHE (verification cache
// folder), MODELSEAL_AUDIT_LOG (JSON Lines audit trail). Exit 1 when the model
// does not verify, 2 on bad configuration; the port is never opened.
import http from 'node:http';
import { appendAuditEvent, exitCodeFor, loadPolicy, loadPublicKey, ModelsealError, openVerified } from '@modelseal/core';

const env = process.env;

async function loadModel() {
  const model = await openVerified(env.MODEL_DIR ?? '', {
    ...(env.MODEL_POLICY ? { policy: loadPolicy(env.MODEL_POLICY) } : {}),
    ...(env.MODEL_PUBLIC_KEY ? { trust: { publicKey: loadPublicKey(env.MODEL_PUBLIC_KEY).key } } : {}),
    ...(env.MODEL_STAGE ? { stage: env.MODEL_STAGE } : {}),
    ...(env.MODELSEAL_CACHE ? { cache: { dir: env.MODELSEAL_CACHE } } : {}),
    ...(env.MODELSEAL_AUDIT_LOG ? { onAudit: (e) => appendAuditEvent(env.MODELSEAL_AUDIT_LOG, e) } : {}),
  });
  // "Loading" here is reading every file; a real server hands these buffers
  // (or the streams) to its runtime: onnxruntime-node, transformers.js, ...
  const files = {};
  for (const name of model.files) files[name] = await model.readFile(name);
  return { model, files };
}

let loaded;
try {
  loaded = await loadModel();
} catch (err) {
  const code = exitCodeFor(err);
  const msg = err instanceof ModelsealError ? `${err.message} [${err.code}]` : String(err?.stack ?? err);
  process.stderr.write(`server: refusing to start: ${msg}\n`);
  process.exit(code);
}

const { model, files } = loaded;
const bytes = Object.values(files).reduce((n, b) => n + b.length, 0);
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ model: model.modelName, digest: `sha256:${model.rootDigest}`, signer: model.signerJson, files: model.files.length, bytes }));
    return;
  }
  res.writeHead(404).end();
});
server.listen(Number(env.PORT ?? 8080), env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`listening on ${server.address().port}, serving ${model.modelName} sha256:${model.rootDigest}\n`);
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));
