import { createRequire as __msCreateRequire } from 'node:module'; const require = __msCreateRequire(import.meta.url);

// packages/core/dist/hashing/hash-worker.js
import { parentPort, workerData } from "node:worker_threads";

// packages/core/dist/hashing/read-range.js
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

// packages/core/dist/hashing/algorithms.js
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
function createHasher(type) {
  switch (type) {
    case "sha256":
      return createHash("sha256");
    case "blake2b":
      return createHash("blake2b512");
    case "blake3": {
      const h = new (blake3Addon()).Blake3Hasher();
      return { update: (d) => void h.update(d), digest: () => h.digestBuffer() };
    }
  }
}
var blake3Module;
function blake3Addon() {
  blake3Module ??= createRequire(import.meta.url)("@napi-rs/blake-hash");
  return blake3Module;
}

// packages/core/dist/hashing/read-range.js
var READ_BUFFER_BYTES = 4 << 20;
function hashTask(task, hashType, noFollow, buf2, onBytes2) {
  let fd;
  try {
    fd = openSync(task.absPath, constants.O_RDONLY | (noFollow ? constants.O_NOFOLLOW : 0));
    const st = fstatSync(fd);
    if (!st.isFile())
      return fail(task, "BAD_FILE_TYPE", `${task.name}: is no longer a regular file`);
    if (st.size !== task.fileSize) {
      return fail(task, "FILE_CHANGED", `${task.name}: file size changed while hashing (${task.fileSize} -> ${st.size} bytes)`);
    }
    const h = createHasher(hashType);
    let pos = task.start;
    while (pos < task.end) {
      const want = Math.min(buf2.length, task.end - pos);
      const n = readSync(fd, buf2, 0, want, pos);
      if (n === 0)
        return fail(task, "FILE_CHANGED", `${task.name}: file was truncated while hashing (EOF at byte ${pos})`);
      h.update(n === buf2.length ? buf2 : buf2.subarray(0, n));
      pos += n;
      onBytes2?.(n);
    }
    return { id: task.id, digest: h.digest() };
  } catch (err) {
    const e = err;
    if (e.code === "ELOOP")
      return fail(task, "SYMLINK_REFUSED", `${task.name}: became a symbolic link while hashing`);
    return fail(task, "READ_ERROR", `${task.name}: ${e.message}`);
  } finally {
    if (fd !== void 0)
      closeSync(fd);
  }
}
function fail(task, code, message) {
  return { id: task.id, error: { code, message } };
}

// packages/core/dist/hashing/hash-worker.js
var init = workerData;
var counter = new BigInt64Array(init.progress);
var buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
var onBytes = (n) => void Atomics.add(counter, 0, BigInt(n));
parentPort.on("message", (req) => {
  const outcomes = [];
  for (const t of req.tasks) {
    const o = hashTask(t, init.hashType, init.noFollow, buf, onBytes);
    outcomes.push(o);
    if ("error" in o)
      break;
  }
  parentPort.postMessage(outcomes);
});
//# sourceMappingURL=hash-worker.js.map
