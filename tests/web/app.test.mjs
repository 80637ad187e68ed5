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
  };
  const { results, passed, failed } = await runApp(m, files, argon2);
  assert.deepEqual(failed, []);
  assert.equal(passed, Object.keys(files).length);
  assert.ok(results.length >= 50);
});
