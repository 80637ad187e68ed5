// node --test: decrypt-stream.js (the service worker's decryption) against blobs sealed
// here with WebCrypto and linkcore's own derivations, each test changing one thing; and
// its security checks removed one at a time (the "// mutant: NAME" lines), each of which
// a test here must notice (scripts/mutants covers Python only).
import assert from "node:assert/strict";
import { readFile, writeFile, mkdtemp, rm } from "node:fs/promises";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

register("./stream-hooks.mjs", import.meta.url);
const core = await import("/s/assets/linkcore.js");
const SOURCE = new URL("../../src/blindvault/web/stream/decrypt-stream.js", import.meta.url);
const ds = await import(SOURCE.href);

const subtle = globalThis.crypto.subtle;
// getRandomValues fills at most 64 KiB per call
const rand = (n) => {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
};
const CHUNK = core.CHUNK_SIZE;
const HEADER = 5 + core.C2SP_HEADER_SIZE;

function nonce(base, i) {
  const n = base.slice();
  for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) n[j] ^= c % 256;
  return n;
}

// A BVCT blob of `plain` as the client writes it: Padmé-padded with zeros (or `padByte`).
async function seal(file, plain, { padByte = 0 } = {}) {
  const padded = new Uint8Array(core.padmeLength(plain.length)).fill(padByte);
  padded.set(plain);
  const salt = rand(24);
  const ctx = core.contentContext(file.nodeId, file.version);
  const { aeadKey, baseNonce, commitment } = await core.chunkedDerive(file.key, salt, ctx);
  const key = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["encrypt"]);
  const parts = [new Uint8Array([0x42, 0x56, 0x43, 0x54, 1]), salt, commitment];
  const count = Math.floor(padded.length / CHUNK) + 1;
  for (let i = 0; i < count; i++) {
    const piece = padded.subarray(i * CHUNK, Math.min((i + 1) * CHUNK, padded.length));
    parts.push(new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce(baseNonce, i) }, key, piece)));
  }
  return core.concat(...parts);
}

const newFile = (size) => ({ key: rand(32), nodeId: rand(16), version: 3, size });

// A fetcher over bytes in memory, answering like the server (206 for a range).
function served(blob, { cut = 0 } = {}) {
  const seen = [];
  const fetcher = async (start, end) => {
    seen.push([start, end]);
    const stop = Math.max(start, (end ?? blob.length) - (start >= HEADER ? cut : 0)); // cut the chunks
    return new Response(blob.slice(start, stop), { status: start > 0 || end !== null ? 206 : 200 });
  };
  fetcher.seen = seen;
  return fetcher;
}

async function drain(stream) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const SIZES = [0, 1, 4096, 4097, CHUNK - 1, CHUNK, CHUNK + 1, 100_000, 3 * CHUNK];

test("whole stream: every size decrypts to the plaintext", async () => {
  for (const size of SIZES) {
    const plain = rand(size);
    const file = newFile(size);
    assert.deepEqual(await drain(ds.decryptStream(served(await seal(file, plain)), file)), plain, `size ${size}`);
  }
});

test("ranges: any range is the plaintext's slice, and only covering chunks are fetched", async () => {
  const size = 200_000;
  const plain = rand(size);
  const file = newFile(size);
  const blob = await seal(file, plain);
  const cases = [[0, 1], [0, size], [CHUNK - 1, CHUNK + 1], [150_000, size], [size - 1, size], [5, 5], [70_000, null]];
  for (const [a, b] of cases) {
    const f = served(blob);
    const got = await drain(ds.decryptRange(f, file, a, b));
    assert.deepEqual(got, plain.subarray(a, b ?? size), `range ${a}-${b}`);
    if (b !== null && b > a) {
      const [, [from, to]] = f.seen; // header first, then one ranged read of the chunks
      assert.equal(from, HEADER + Math.floor(a / CHUNK) * core.SEALED_CHUNK_SIZE);
      assert.ok(to - from <= (Math.floor((b - 1) / CHUNK) - Math.floor(a / CHUNK) + 1) * core.SEALED_CHUNK_SIZE);
    }
  }
});

test("a flipped byte fails the chunk that holds it, and only ranges that cover it", async () => {
  const size = 100_000;
  const plain = rand(size);
  const file = newFile(size);
  const blob = await seal(file, plain);
  blob[HEADER + 3 * core.SEALED_CHUNK_SIZE + 100] ^= 1; // inside chunk 3
  await assert.rejects(drain(ds.decryptRange(served(blob), file, 3 * CHUNK + 5, 3 * CHUNK + 6)), core.IntegrityError);
  await assert.rejects(drain(ds.decryptStream(served(blob), file)), core.IntegrityError);
  assert.deepEqual(await drain(ds.decryptRange(served(blob), file, 0, CHUNK)), plain.subarray(0, CHUNK));
});

test("chunks moved, another file's key or blob, or a wrong size are refused", async () => {
  const size = 3 * CHUNK + 10;
  const plain = rand(size);
  const file = newFile(size);
  const blob = await seal(file, plain);
  const swapped = blob.slice();
  const c = (i) => HEADER + i * core.SEALED_CHUNK_SIZE;
  swapped.set(blob.subarray(c(1), c(2)), c(0));
  swapped.set(blob.subarray(c(0), c(1)), c(1));
  await assert.rejects(drain(ds.decryptRange(served(swapped), file, 0, 10)), core.IntegrityError);
  const other = { ...file, nodeId: rand(16) }; // a blob swapped between files
  await assert.rejects(drain(ds.decryptRange(served(blob), other, 0, 10)), core.IntegrityError);
  await assert.rejects(drain(ds.decryptRange(served(blob), { ...file, key: rand(32) }, 0, 10)), core.IntegrityError);
  // a size that puts the short last chunk elsewhere (the descriptor is authenticated; this
  // is the server truncating or extending the blob)
  const bigger = { ...file, size: 5 * CHUNK };
  await assert.rejects(drain(ds.decryptRange(served(blob), bigger, 3 * CHUNK, 3 * CHUNK + 20)), core.IntegrityError);
});

test("range: a response shorter than asked is an integrity failure", async () => {
  const file = newFile(100_000);
  const blob = await seal(file, rand(100_000));
  await assert.rejects(drain(ds.decryptRange(served(blob, { cut: 7 }), file, 0, 50_000)), core.IntegrityError);
});

test("range: non-zero padding is refused", async () => {
  const size = 5000; // padded to 5120: 120 bytes of padding in the last chunk
  const file = newFile(size);
  const blob = await seal(file, rand(size), { padByte: 1 });
  await assert.rejects(drain(ds.decryptRange(served(blob), file, 4990, 5000)), core.IntegrityError);
});

test("range: a header shorter than 61 bytes or a wrong prefix is refused", async () => {
  const file = newFile(100);
  const blob = await seal(file, rand(100));
  const short = async (start, end) => new Response(blob.slice(start, Math.min(end ?? blob.length, 40)), { status: 206 });
  await assert.rejects(drain(ds.decryptRange(short, file, 0, 10)), core.IntegrityError);
  const wrong = blob.slice();
  wrong[4] = 2;
  await assert.rejects(drain(ds.decryptRange(served(wrong), file, 0, 10)), core.FormatError);
});

test("fetcher: HTTP failures carry the status and the server's error code", async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async () =>
    new Response(JSON.stringify({ error: { code: "link_exhausted" } }), { status: 410 });
  try {
    const f = ds.makeFetcher({ url: "/v1/l/x/blob/y", headers: { "X-Link-Token": "t" } });
    await assert.rejects(f(0, null), (e) => e instanceof ds.FetchError && e.status === 410 && e.apiCode === "link_exhausted");
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.throws(() => ds.makeFetcher({ url: "https://elsewhere.example/x" }), core.UsageError);
});

// ------------------------------------------------------------------ mutants

const ATTACKS = {
  "stream.range-padding": "range: non-zero padding is refused",
  "stream.range-truncated": "range: a response shorter than asked is an integrity failure",
  "stream.range-prefix": "range: a header shorter than 61 bytes or a wrong prefix is refused",
};

// Remove the statement a marker names: the marked line, or the line below a marker line.
function mutate(source, name) {
  const lines = source.split("\n");
  const at = lines.findIndex((l) => l.includes(`// mutant: ${name}`));
  assert.ok(at >= 0, `no marker ${name}`);
  const target = lines[at].trim().startsWith("//") ? at + 1 : at;
  lines[target] = "";
  return lines.join("\n");
}

test("every marked check in decrypt-stream.js is caught by a test here", async () => {
  const source = await readFile(SOURCE, "utf8");
  const marked = [...source.matchAll(/\/\/ mutant: ([\w.-]+)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(marked)].sort(), Object.keys(ATTACKS).sort());
  const dir = await mkdtemp(join(tmpdir(), "bv-stream-mutant-"));
  try {
    for (const name of Object.keys(ATTACKS)) {
      const path = join(dir, `${name}.mjs`);
      await writeFile(path, mutate(source, name));
      const mutant = await import(pathToFileURL(path).href);
      // the attack of ATTACKS[name], on the mutant: it must no longer be refused as expected
      const refused = await attack(name, mutant).then(() => false, (e) => e instanceof core.IntegrityError || e instanceof core.FormatError);
      assert.equal(refused, false, `mutant ${name} survived: its check is not tested`);
      assert.equal(await attack(name, ds).then(() => false, () => true), true, `${name} on the real module`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function attack(name, mod) {
  if (name === "stream.range-padding") {
    const file = newFile(5000);
    return drain(mod.decryptRange(served(await seal(file, rand(5000), { padByte: 1 })), file, 4990, 5000));
  }
  if (name === "stream.range-truncated") {
    const file = newFile(100_000);
    const blob = await seal(file, rand(100_000));
    return drain(mod.decryptRange(served(blob, { cut: 7 }), file, 0, 50_000));
  }
  const file = newFile(100); // stream.range-prefix
  const blob = await seal(file, rand(100));
  blob[4] = 2;
  return drain(mod.decryptRange(served(blob), file, 0, 10));
}
