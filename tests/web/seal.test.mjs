// The upload worker (app/seal-worker.js) and the page's side of it (transfer.js runSealer),
// in Node: the worker script runs in a vm context whose `self` talks to a fake Worker, so
// the real message protocol (parts, credits, progress, errors) is what is tested. Every
// sealed blob is opened with linkcore's ContentDecryptor (itself checked against the
// shared vectors), so a wrong nonce, chunk boundary, padding or part split fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, "..", "..", "src", "blindvault", "web");
const hook = `
const target = ${JSON.stringify(pathToFileURL(join(web, "linkcore.js")).href)};
export async function resolve(specifier, context, next) {
  return specifier === "/s/assets/linkcore.js" ? { url: target, shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const core = await import(pathToFileURL(join(web, "linkcore.js")).href);
const { runSealer, sealJob, ReadError } = await import(pathToFileURL(join(web, "app", "transfer.js")).href);
const source = readFileSync(join(web, "app", "seal-worker.js"), "utf8");

/** A Worker-like object running seal-worker.js; records the most parts held at once. */
function fakeWorker() {
  const page = { onmessage: null, onerror: null, terminated: false, held: 0, maxHeld: 0 };
  const self = {
    postMessage(m) {
      if (m.part) page.maxHeld = Math.max(page.maxHeld, ++page.held);
      setImmediate(() => !page.terminated && page.onmessage?.({ data: m }));
    },
  };
  vm.runInNewContext(source, { self, crypto: globalThis.crypto, performance, Promise, Math, Uint8Array, Error, String });
  page.postMessage = (m) => {
    if (m.credit) page.held -= m.credit;
    setImmediate(() => self.onmessage({ data: m }));
  };
  page.terminate = () => {
    page.terminated = true;
  };
  return page;
}

function randomFile(n) {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)));
  return { bytes, file: new File([bytes], "f.bin") };
}

async function sealAndOpen(n, partSize, inFlight = 2) {
  const { bytes, file } = randomFile(n);
  const key = crypto.getRandomValues(new Uint8Array(32));
  const nodeId = crypto.getRandomValues(new Uint8Array(16));
  const job = await sealJob(file, key, nodeId, 3, partSize);
  const parts = [];
  let plain = 0;
  const worker = fakeWorker();
  const times = await runSealer(worker, job, {
    inFlight,
    onPlain: (k) => (plain += k),
    onPart: async (number, part) => {
      parts.push([number, part]);
      await new Promise((r) => setTimeout(r, 1)); // a send takes a while
    },
  });
  assert.ok(worker.terminated);
  assert.ok(times.readMs >= 0 && times.encryptMs >= 0);
  assert.ok(worker.maxHeld <= inFlight, `held ${worker.maxHeld} parts`);
  assert.deepEqual(parts.map(([i]) => i), parts.map((_, i) => i + 1));
  const total = core.sealedContentSize(n);
  parts.slice(0, -1).forEach(([, p]) => assert.equal(p.length, partSize));
  const blob = core.concat(...parts.map(([, p]) => p));
  assert.equal(blob.length, total);
  assert.equal(plain, n);
  const dec = new core.ContentDecryptor(key, nodeId, 3, n);
  const out = core.concat(await dec.update(blob), await dec.finish());
  assert.deepEqual(out, bytes);
  return { blob, key, nodeId };
}

test("the seal worker's parts open with ContentDecryptor (sizes around chunk, slice and part ends)", async () => {
  for (const [n, part] of [
    [0, 1 << 20], [1, 1 << 20], [16383, 1 << 20], [16384, 50_000], [16385, 16_400],
    [4 * 1024 * 1024 + 7, 999_999], [9 * 1024 * 1024, 8 << 20],
  ]) {
    await sealAndOpen(n, part);
  }
});

test("the seal worker holds no more parts than the page gave credit for", async () => {
  await sealAndOpen(3 * 1024 * 1024, 65_536, 1);
});

test("a fresh salt each time: the same file and key never seal to the same bytes", async () => {
  const { blob: a } = await sealAndOpen(1000, 1 << 20);
  const { blob: b } = await sealAndOpen(1000, 1 << 20);
  assert.notDeepEqual(a.subarray(5, 29), b.subarray(5, 29));
});

test("a file that changed size after it was picked fails with ReadError, no part sent", async () => {
  const { file } = randomFile(40_000);
  const job = await sealJob(file, new Uint8Array(32), new Uint8Array(16), 1, 1 << 20);
  job.size = 30_000; // what was picked is not what is there now
  let sent = 0;
  await assert.rejects(
    runSealer(fakeWorker(), job, { onPart: async () => sent++ }),
    (e) => e instanceof ReadError && /changed/.test(e.message),
  );
  assert.equal(sent, 0);
});

test("a failed send or a cancel ends the worker and rejects", async () => {
  const { file } = randomFile(200_000);
  const job = await sealJob(file, new Uint8Array(32), new Uint8Array(16), 1, 16_400);
  const worker = fakeWorker();
  await assert.rejects(
    runSealer(worker, job, { onPart: async () => { throw new Error("quota"); } }),
    /quota/,
  );
  assert.ok(worker.terminated);
  const ctl = new AbortController();
  const w2 = fakeWorker();
  const run = runSealer(w2, await sealJob(file, new Uint8Array(32), new Uint8Array(16), 1, 16_400), {
    onPart: async () => ctl.abort(),
    signal: ctl.signal,
  });
  await assert.rejects(run, (e) => e.name === "AbortError");
  assert.ok(w2.terminated);
});
