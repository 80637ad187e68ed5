// node --test tests/web/: linkcore.js against every applicable vector file, in Node 20.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";

import * as drop from "../../src/blindvault/web/dropcore.js";
import * as core from "../../src/blindvault/web/linkcore.js";
import { DROP_TYPES, EXTERNAL_FILES, OWN_TYPES, SIGNATURE_ONLY_MANIFEST_CASES, runAll } from "./vectors.mjs";

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors");

function loadFiles() {
  const files = {};
  for (const type of [...OWN_TYPES, ...DROP_TYPES]) {
    for (const name of readdirSync(join(VECTORS, "v1", type)).filter((n) => n.endsWith(".json"))) {
      files[`v1/${type}/${name}`] = JSON.parse(readFileSync(join(VECTORS, "v1", type, name), "utf8"));
    }
  }
  for (const path of EXTERNAL_FILES) files[path] = JSON.parse(readFileSync(join(VECTORS, path), "utf8"));
  return files;
}

const files = loadFiles();
const { results, counts } = await runAll(core, files, async (bytes) => new Uint8Array(inflateSync(bytes)), drop);

console.log("linkcore.js vector counts:", JSON.stringify(counts.byGroup));
console.log(
  `C2SP: ${counts.c2sp.header} cases streamed with header, ${counts.c2sp.raw} also in raw mode; ` +
    "not applicable to a decryptor: random-access reads and the encryption side",
);
console.log("manifest cases only a signature check catches (open on the page):", counts.signatureOnly.join(", "));

test("every v1 vector file of the page's types ran", () => {
  const types = [...OWN_TYPES, ...DROP_TYPES];
  const ran = results.filter((r) => types.includes(r.group)).length;
  const want = Object.keys(files).filter((p) => p.startsWith("v1/")).length;
  assert.equal(ran, want);
  for (const type of types) assert.ok(counts.byGroup[type]?.passed > 0, type);
});

test("drop vectors: every valid drop sealed byte-exact, the rest are the owner's to refuse", () => {
  const drops = Object.values(files).filter((v) => v.type === "drop");
  const invalid = drops.filter((v) => v.expect !== "valid").map((v) => v.case);
  assert.deepEqual(counts.ownerOnly.sort(), invalid.sort());
  assert.equal(counts.byGroup.drop.passed, drops.length);
  assert.ok(drops.length - invalid.length >= 3);
  assert.equal(counts.byGroup["drop-link"].passed, 13);
});

test("external vector counts", () => {
  assert.equal(counts.byGroup.c2sp.passed + counts.byGroup.c2sp.failed, 35);
  assert.equal(counts.c2sp.header, 35 - 2); // all but the two InvalidKeySize cases
  assert.equal(counts.c2sp.raw, 25); // every case with aeadKey / baseNonce (no HeaderFailure)
  assert.equal(counts.byGroup.rfc5869.passed + counts.byGroup.rfc5869.failed, 3);
  assert.equal(counts.byGroup["wycheproof-hkdf"].passed + counts.byGroup["wycheproof-hkdf"].failed, 86);
});

test("signature-only manifest cases are exactly the documented ones", () => {
  assert.deepEqual(counts.signatureOnly.sort(), Object.keys(SIGNATURE_ONLY_MANIFEST_CASES).sort());
});

for (const r of results) {
  test(`${r.group}/${r.name}`, () => assert.ok(r.ok, r.error));
}
