// The vector files of tests/vectors/ applied to linkcore.js. Shared by Node
// (vectors.test.mjs) and Chromium (test_browser.py): the caller hands in the linkcore
// module, the vector files ({relative path: parsed JSON}) and a zlib inflater, and gets
// back one result per case plus counts. Nothing here touches the file system or DOM.

// Manifest cases that only the writer's Ed25519 signature catches. A link holder has
// no pinned writer identities, so the page cannot verify signatures (see openManifest
// in linkcore.js): these open on the page, and the test asserts exactly that, so a new
// vector of this kind cannot slip by unnoticed.
export const SIGNATURE_ONLY_MANIFEST_CASES = {
  "flipped-signature": "only the signature bytes changed; the AEAD still verifies",
  "writer-not-authorized": "sealed with the right folder key by a writer the reader does not pin",
};

const STEPS = [1000, 16400, 70000];

function check(cond, what) {
  if (!cond) throw new Error(`mismatch: ${what}`);
}

function same(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`mismatch: ${what}: got ${g.slice(0, 200)}, want ${w.slice(0, 200)}`);
}

async function expectError(core, name, fn) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof core[name]) return e;
    throw new Error(`expected ${name}, got ${e?.name}: ${e?.message}`);
  }
  throw new Error(`expected ${name}, got success`);
}

async function digestHex(core, hash, bytes) {
  return core.toHex(new Uint8Array(await globalThis.crypto.subtle.digest(hash, bytes)));
}

// Feed `data` in `step`-sized pieces; returns {plain, error} with everything released.
async function stream(dec, data, step) {
  const parts = [];
  try {
    for (let i = 0; i < data.length; i += step) parts.push(await dec.update(data.subarray(i, i + step)));
    parts.push(await dec.finish());
    return { plain: concatAll(parts), error: null };
  } catch (error) {
    return { plain: concatAll(parts), error };
  }
}

function concatAll(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function checkSticky(core, dec) {
  await expectError(core, "IntegrityError", () => dec.update(new Uint8Array(10)));
  await expectError(core, "IntegrityError", () => dec.finish());
}

// ------------------------------------------------------------------ tests/vectors/v1

async function linkCase(core, v) {
  const { inputs, output } = v;
  if (v.expect === "FormatError") {
    await expectError(core, "FormatError", () => core.parseLink(inputs.url));
    return;
  }
  const link = core.parseLink(inputs.url);
  const data = core.fromHex(v.data);
  const key = await core.linkKey(link.secret, link.linkId, inputs.password);
  check(link.needsPassword === (inputs.password !== null), "password mark");
  if (v.expect !== "valid") {
    await expectError(core, v.expect, () => core.openDescriptor(data, key, link.linkId));
    return;
  }
  const d = await core.openDescriptor(data, key, link.linkId);
  same(
    sortKeys({
      link_id: core.toHex(link.linkId),
      secret: core.toHex(link.secret),
      token: core.toHex(await core.linkToken(link.secret, link.linkId)),
      link_key: core.toHex(key),
      kind: d.kind,
      node_id: core.toHex(d.nodeId),
      key: core.toHex(d.key),
      version: d.version,
      size: d.size,
      mtime_ms: d.mtimeMs,
      name: d.name,
    }),
    sortKeys(output),
    "descriptor",
  );
}

function sortKeys(obj) {
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
}

async function contentCase(core, v) {
  const inp = v.inputs;
  const data = core.fromHex(v.data);
  const make = () => new core.ContentDecryptor(core.fromHex(inp.key), core.fromHex(inp.node_id), inp.content_version, inp.size);
  for (const step of [...STEPS, data.length || 1]) {
    const dec = make();
    const { plain, error } = await stream(dec, data, step);
    if (v.expect === "valid") {
      if (error) throw error;
      const got = {
        plaintext_sha256: await digestHex(core, "SHA-256", plain),
        padded_size: core.padmeLength(inp.size),
        context: core.toHex(core.contentContext(core.fromHex(inp.node_id), inp.content_version)),
      };
      if ("plaintext" in v.output) got.plaintext = core.toHex(plain);
      same(sortKeys(got), sortKeys(v.output), `content (step ${step})`);
      check(data.length === core.sealedContentSize(inp.size), "sealed size");
    } else {
      check(error instanceof core[v.expect], `expected ${v.expect}, got ${error?.name ?? "success"}`);
      // Never more than the file's bytes, and the decryptor keeps failing.
      check(plain.length <= inp.size, "released too much");
      await checkSticky(core, dec);
    }
  }
}

function entryOut(core, e) {
  const common = { name: e.name, node_id: core.toHex(e.nodeId), mtime_ms: e.mtimeMs };
  const more =
    e.kind === "file"
      ? {
          kind: "file",
          key: core.toHex(e.key),
          content_version: e.contentVersion,
          size: e.size,
          written_ms: e.writtenMs,
          writer: core.toHex(e.writer),
          history: e.history.map((h) => ({
            content_version: h.contentVersion,
            key: core.toHex(h.key),
            mtime_ms: h.mtimeMs,
            size: h.size,
            writer: core.toHex(h.writer),
            written_ms: h.writtenMs,
          })),
        }
      : { kind: "folder", key: core.toHex(e.key), key_version: e.keyVersion };
  return sortKeys({ ...common, ...more });
}

async function manifestCase(core, v) {
  const inp = v.inputs;
  const data = core.fromHex(v.data);
  const open = () => core.openManifest(data, core.fromHex(inp.folder_key), core.fromHex(inp.node_id));
  if (v.expect !== "valid" && v.case in SIGNATURE_ONLY_MANIFEST_CASES) {
    const m = await open(); // the page's documented limit: this one opens
    check(m.version >= 1, "opened");
    return "signature-only";
  }
  if (v.expect !== "valid") {
    await expectError(core, v.expect, open);
    return;
  }
  const m = await open();
  same(
    sortKeys({
      version: m.version,
      key_version: m.keyVersion,
      prev_hash: core.toHex(m.prevHash),
      writer: core.toHex(m.writer),
      hash: core.toHex(m.hash),
      body: core.toHex(m.body),
      entries: m.entries.map((e) => entryOut(core, e)),
      tombstones: m.tombstones.map((t) =>
        sortKeys({ node_id: core.toHex(t.nodeId), deleted_ms: t.deletedMs }),
      ),
    }),
    sortKeys({
      ...v.output,
      entries: v.output.entries.map(sortKeys),
      tombstones: v.output.tombstones.map(sortKeys),
    }),
    "manifest",
  );
}

async function padmeCase(core, v) {
  same(v.inputs.sizes.map(core.padmeLength), v.output.padded, "padme");
}

// ------------------------------------------------------------------ upload-only links (§10a)
// dropcore.js is the holder's side: it opens the descriptor and seals drops. Drop vectors
// that are not valid are what the owner's device must quarantine (core/drops.py opens
// drops, the page never does): the page's check of those is that it is handed them and
// counts them, so a new one cannot slip by (the tests assert the count).

async function dropLinkCase(core, v, drop) {
  const link = core.parseLink(v.inputs.url);
  const key = await core.linkKey(link.secret, link.linkId, null);
  const data = core.fromHex(v.data);
  if (v.expect !== "valid") {
    await expectError(core, v.expect, () => drop.openDropLink(data, key, link.linkId));
    return;
  }
  const t = await drop.openDropLink(data, key, link.linkId);
  same(
    sortKeys({
      secret: core.toHex(link.secret),
      token: core.toHex(await core.linkToken(link.secret, link.linkId)),
      link_key: core.toHex(key),
      recipient: core.toHex(t.recipient),
      max_size: t.maxSize,
      name: t.name,
    }),
    sortKeys(v.output),
    "drop descriptor",
  );
}

// PKCS #8 of an X25519 private key (RFC 8410): this prefix || the 32-byte secret.
const X25519_PKCS8 = "302e020100300506032b656e04220420";

async function ephemeralPair(core, secretHex) {
  const subtle = globalThis.crypto.subtle;
  const der = core.fromHex(X25519_PKCS8 + secretHex);
  const privateKey = await subtle.importKey("pkcs8", der, { name: "X25519" }, true, ["deriveBits"]);
  const { x } = await subtle.exportKey("jwk", privateKey);
  const raw = Uint8Array.from(atob(x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const publicKey = await subtle.importKey("raw", raw, { name: "X25519" }, true, []);
  return { privateKey, publicKey };
}

async function dropCase(core, v, drop) {
  if (v.expect !== "valid") return "owner-only";
  const inp = v.inputs;
  const link = core.parseLink(inp.url);
  const key = await core.linkKey(link.secret, link.linkId, null);
  const target = await drop.openDropLink(core.fromHex(inp.descriptor), key, link.linkId);
  const fixed = {
    dropId: core.fromHex(inp.fixed.drop_id),
    fileKey: core.fromHex(inp.fixed.file_key),
    salt: core.fromHex(inp.fixed.content_salt),
    ephemeral: await ephemeralPair(core, inp.fixed.ephemeral),
  };
  const plain = core.fromHex(inp.plaintext);
  const sealed = await drop.sealDrop(target, link.secret, link.linkId, inp.name, plain, inp.mtime_ms, fixed);
  check(core.toHex(sealed) === v.data, "the drop sealed from the fixed inputs is not the vector's bytes");
  check(core.toHex(sealed.subarray(39, 71)) === v.output.enc, "HPKE enc");
}

const OWN = { link: linkCase, content: contentCase, manifest: manifestCase, padme: padmeCase };
const DROP = { "drop-link": dropLinkCase, drop: dropCase };

// ------------------------------------------------------------------ external

async function c2spCase(core, t, inflate, counts) {
  const key = core.fromHex(t.key);
  const ctx = core.fromHex(t.ctx);
  const ct = await inflate(core.fromHex(t.ct));
  if (t.flags.includes("InvalidKeySize")) {
    await expectError(core, "UsageError", async () => new core.ChunkedDecryptor(key, ctx));
    return;
  }
  const checkPlain = async (plain) => {
    check(plain.length === t.msgLength, "message length");
    check((await digestHex(core, "SHA-512", plain)) === t.msgSha512, "message SHA-512");
  };
  for (const step of STEPS) {
    const dec = new core.ChunkedDecryptor(key, ctx);
    const { plain, error } = await stream(dec, ct, step);
    if (t.result === "valid") {
      if (error) throw error;
      await checkPlain(plain);
      continue;
    }
    check(error instanceof core.IntegrityError, `expected IntegrityError, got ${error?.name ?? "success"}`);
    // Only ever a prefix of the valid message, and only where Wycheproof allows it.
    check(plain.length <= (t.msgLength ?? 0), "released more than the valid prefix");
    if (plain.length) check(t.flags.includes("PartialPlaintext"), "released plaintext");
    if (plain.length && plain.length === t.msgLength) await checkPlain(plain);
    await checkSticky(core, dec);
  }
  counts.header += 1;
  if (t.flags.includes("HeaderFailure")) return; // no aeadKey / baseNonce: raw mode n/a
  // The derivation (HKDF-Expand-SHA-512) must give Wycheproof's AEAD key and nonce.
  const d = await core.chunkedDerive(key, ct.subarray(0, 24), ctx);
  same([core.toHex(d.aeadKey), core.toHex(d.baseNonce)], [t.aeadKey, t.baseNonce], "derive");
  const raw = await core.ChunkDecryptor.fromRaw(core.fromHex(t.aeadKey), core.fromHex(t.baseNonce));
  const { plain, error } = await stream(raw, ct.subarray(core.C2SP_HEADER_SIZE), 16400);
  if (t.result === "valid") {
    if (error) throw error;
    await checkPlain(plain);
  } else {
    check(error instanceof core.IntegrityError, `raw mode: expected IntegrityError, got ${error?.name ?? "success"}`);
  }
  counts.raw += 1;
}

async function rfcHkdfCase(core, t) {
  const args = [core.fromHex(t.info), t.L];
  same(core.toHex(await core.hkdfExpand("SHA-256", core.fromHex(t.prk), ...args)), t.okm, "expand");
  same(core.toHex(await core.hkdfSha256(core.fromHex(t.ikm), core.fromHex(t.salt), ...args)), t.okm, "hkdf");
}

async function wycheproofHkdfCase(core, t) {
  const run = () => core.hkdfSha256(core.fromHex(t.ikm), core.fromHex(t.salt), core.fromHex(t.info), t.size);
  if (t.result === "valid") same(core.toHex(await run()), t.okm, "hkdf");
  else {
    let failed = false;
    await run().catch(() => (failed = true)); // WebCrypto refuses L > 255 * HashLen
    check(failed, "invalid HKDF size accepted");
  }
}

// ------------------------------------------------------------------ runner

const C2SP = "external/wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json";
const RFC5869 = "external/rfc/rfc5869_hkdf_sha256.json";
const WP_HKDF = "external/wycheproof/hkdf_sha256_test.json";
export const EXTERNAL_FILES = [C2SP, RFC5869, WP_HKDF];
export const OWN_TYPES = Object.keys(OWN);
export const DROP_TYPES = Object.keys(DROP);

/**
 * files: {"v1/<type>/<case>.json" | EXTERNAL_FILES[i]: parsed JSON}; `drop`: dropcore.js,
 * for the DROP_TYPES files (optional). Returns {results: [{group, name, ok, error}], counts}.
 */
export async function runAll(core, files, inflate, drop = null) {
  const results = [];
  const counts = { signatureOnly: [], ownerOnly: [], c2sp: { header: 0, raw: 0 } };
  const run = async (group, name, fn) => {
    try {
      const note = await fn();
      if (note === "signature-only") counts.signatureOnly.push(name);
      if (note === "owner-only") counts.ownerOnly.push(name);
      results.push({ group, name, ok: true });
    } catch (e) {
      results.push({ group, name, ok: false, error: `${e?.name}: ${e?.message}` });
    }
  };
  for (const [path, v] of Object.entries(files).sort()) {
    const m = /^v1\/([^/]+)\/([^/]+)\.json$/.exec(path);
    if (m && OWN[m[1]]) await run(m[1], m[2], () => OWN[m[1]](core, v));
    if (m && DROP[m[1]] && drop) await run(m[1], m[2], () => DROP[m[1]](core, v, drop));
  }
  for (const g of files[C2SP].testGroups) {
    for (const t of g.tests) await run("c2sp", `tc${t.tcId}`, () => c2spCase(core, t, inflate, counts.c2sp));
  }
  for (const t of files[RFC5869].tests) await run("rfc5869", `A.${t.id}`, () => rfcHkdfCase(core, t));
  for (const g of files[WP_HKDF].testGroups) {
    for (const t of g.tests) await run("wycheproof-hkdf", `tc${t.tcId}`, () => wycheproofHkdfCase(core, t));
  }
  const byGroup = {};
  for (const r of results) {
    byGroup[r.group] ??= { passed: 0, failed: 0 };
    byGroup[r.group][r.ok ? "passed" : "failed"] += 1;
  }
  return { results, counts: { ...counts, byGroup } };
}
