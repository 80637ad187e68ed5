// The vault app's modules against the shared vectors, in Node. The app imports linkcore.js
// by the path the server serves it at (/s/assets/linkcore.js); a resolve hook maps that
// path to the file in the source tree.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire, register } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { APP_TYPES, runApp } from "./app_vectors.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, "..", "..", "src", "blindvault", "web");
const hook = `
const target = ${JSON.stringify(pathToFileURL(join(web, "linkcore.js")).href)};
export async function resolve(specifier, context, next) {
  return specifier === "/s/assets/linkcore.js" ? { url: target, shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const load = (name) => import(pathToFileURL(join(web, "app", name)).href);
const hashwasm = createRequire(import.meta.url)(join(web, "app", "vendor", "hash-wasm-argon2.umd.min.js"));
const argon2 = async ({ password, salt, m, t, p }) =>
  hashwasm.argon2id({ password, salt, parallelism: p, iterations: t, memorySize: m, hashLength: 32, outputType: "binary" });

const files = {};
for (const type of APP_TYPES) {
  const dir = join(here, "..", "vectors", "v1", type);
  for (const name of readdirSync(dir).sort()) files[`v1/${type}/${name}`] = JSON.parse(readFileSync(join(dir, name), "utf8"));
}

test("vault app modules pass every shared vector", async () => {
  const m = {
    core: await import(pathToFileURL(join(web, "linkcore.js")).href),
    formats: await load("formats.js"),
    manifest: await load("manifest.js"),
    kdf: await load("kdf.js"),
    crypto: await load("crypto.js"),
    sharing: await load("sharing.js"),
  };
  const { results, passed, failed } = await runApp(m, files, argon2);
  assert.deepEqual(failed, []);
  assert.equal(passed, Object.keys(files).length);
  assert.ok(results.length >= 50);
});

test("encodeBody writes body 4 with the trash; edits carry the trash through; toTrash as `rm`", async () => {
  const core = await import(pathToFileURL(join(web, "linkcore.js")).href);
  const { encodeBody } = await load("manifest.js");
  const edits = await load("edits.js");
  const id = (i) => new Uint8Array(16).fill(i);
  const file = (name, nodeId) => ({
    kind: "file", name, nodeId, key: new Uint8Array(32).fill(9), contentVersion: 2, size: 5, mtimeMs: 1, writtenMs: 2,
    writer: new Uint8Array(32).fill(8), history: [{ contentVersion: 1, key: new Uint8Array(32), size: 3, mtimeMs: 1, writtenMs: 1, writer: new Uint8Array(32) }],
  });
  const folder = { kind: "folder", name: "d", nodeId: id(4), key: new Uint8Array(32).fill(7), keyVersion: 1, mtimeMs: 3 };
  let body = { entries: [file("a", id(1)), file("b", id(2)), folder], tombstones: [], trash: [] };
  body = edits.toTrash(body, "b", { deletedMs: 50, path: "/b", entry: body.entries[1] });
  body = edits.toTrash(body, "a", { deletedMs: 60, path: "/a", entry: body.entries[0] });
  assert.deepEqual(body.entries.map((e) => e.name), ["d"]);
  assert.deepEqual(body.tombstones.map((t) => [t.nodeId[0], t.deletedMs]), [[2, 50], [1, 60]]);
  // every other edit keeps the trash as it is
  body = edits.upsert(body, [file("c", id(3))]);
  body = edits.rename(body, folder, "e");
  body = edits.remove(body, "c", id(3));
  assert.equal(body.trash.length, 2);
  const bytes = encodeBody(body);
  assert.equal(bytes[4], 4); // BVMB version 4
  const got = core.decodeManifestBody(bytes, { allowTrash: true });
  assert.deepEqual(got.trash.map((t) => [t.path, t.deletedMs, t.entry.name, t.entry.history.length]), [["/a", 60, "a", 1], ["/b", 50, "b", 1]]);
  assert.deepEqual(encodeBody({ entries: got.entries, tombstones: got.tombstones, trash: got.trash }), bytes);
  assert.throws(() => core.decodeManifestBody(bytes), core.FormatError); // never in a link snapshot
  // the encoder applies the reader's rules: a live entry may not be in the trash
  assert.throws(() => encodeBody({ ...body, entries: [...body.entries, file("a", id(1))] }), core.FormatError);
});

test("a paged folder (spec §7a) is refused by the vault with a clear message", async () => {
  const core = await import(pathToFileURL(join(web, "linkcore.js")).href);
  const { openVerified } = await load("manifest.js");
  const v = JSON.parse(readFileSync(join(here, "..", "vectors", "v1", "manifest-paged", "v1.json"), "utf8"));
  const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
  const writers = new Map(); // nobody: the refusal comes before any signature check
  await assert.rejects(openVerified(hex(v.data), hex(v.inputs.folder_key), hex(v.inputs.node_id), writers), (e) => {
    assert.ok(e instanceof core.FormatError);
    assert.equal(e.message, core.PAGED_UNSUPPORTED);
    return true;
  });
});
