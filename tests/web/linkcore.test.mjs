// node --test: checks of linkcore.js that the vector files do not isolate. Objects are
// sealed here with a test-only encryptor built from WebCrypto and linkcore's own
// derivations, so each test changes exactly one thing.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as core from "../../src/blindvault/web/linkcore.js";

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
const rand = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));
const u8 = (v) => new Uint8Array([v]);
const u32 = (v) => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const u64 = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
};
const text16 = (s) => {
  const b = utf8.encode(s);
  return core.concat(new Uint8Array([b.length >> 8, b.length & 255]), b);
};

async function gcmSeal(rawKey, iv, plain, aad = new Uint8Array(0)) {
  const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plain));
}

// A BVCT blob of an arbitrary stream plaintext (test-only: no padding of its own).
async function sealStream(fileKey, nodeId, version, plain) {
  const salt = rand(24);
  const d = await core.chunkedDerive(fileKey, salt, core.contentContext(nodeId, version));
  const parts = [utf8.encode("BVCT"), u8(1), salt, d.commitment];
  let i = 0;
  for (let at = 0; ; at += core.CHUNK_SIZE, i++) {
    const chunk = plain.subarray(at, at + core.CHUNK_SIZE);
    const iv = d.baseNonce.slice();
    for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) iv[j] ^= c % 256;
    parts.push(await gcmSeal(d.aeadKey, iv, chunk));
    if (chunk.length < core.CHUNK_SIZE) break;
  }
  return core.concat(...parts);
}

async function openAll(dec, blob, step = 5000) {
  const out = [];
  for (let i = 0; i < blob.length; i += step) out.push(await dec.update(blob.subarray(i, i + step)));
  out.push(await dec.finish());
  return core.concat(...out);
}

test("content: the file bytes come out, the zero padding is stripped", async () => {
  const key = rand(32);
  const node = rand(16);
  const file = rand(5000);
  const padded = core.concat(file, new Uint8Array(core.padmeLength(5000) - 5000));
  const blob = await sealStream(key, node, 3, padded);
  assert.equal(blob.length, core.sealedContentSize(5000));
  assert.deepEqual(await openAll(new core.ContentDecryptor(key, node, 3, 5000), blob), file);
});

test("content: non-zero padding, short or long padding are integrity failures", async () => {
  const key = rand(32);
  const node = rand(16);
  const size = 5000;
  const full = core.padmeLength(size);
  const bad = {
    "non-zero padding": core.concat(rand(size), new Uint8Array(full - size - 1), u8(1)),
    "padding too short": core.concat(rand(size), new Uint8Array(full - size - 1)),
    "padding too long": core.concat(rand(size), new Uint8Array(full - size + 1)),
    "no padding at all": rand(size),
  };
  for (const [what, plain] of Object.entries(bad)) {
    const dec = new core.ContentDecryptor(key, node, 1, size);
    await assert.rejects(openAll(dec, await sealStream(key, node, 1, plain)), core.IntegrityError, what);
    await assert.rejects(dec.finish(), core.IntegrityError, `${what}: sticky`);
  }
});

test("content: padding past the end is refused before the final chunk", async () => {
  const key = rand(32);
  const node = rand(16);
  // 1 byte file: padded length 4096, but a 3-chunk stream arrives.
  const blob = await sealStream(key, node, 1, new Uint8Array(3 * core.CHUNK_SIZE));
  const dec = new core.ContentDecryptor(key, node, 1, 1);
  await assert.rejects(dec.update(blob.subarray(0, 2 * core.SEALED_CHUNK_SIZE + 100)), core.IntegrityError);
});

// ------------------------------------------------------------------ manifests

const ZERO32 = new Uint8Array(32);

async function sealManifest(folderKey, nodeId, body, { version = 1, prev = ZERO32 } = {}) {
  const nonce = rand(12);
  const head = core.concat(utf8.encode("BVMF"), u8(1), nodeId, u64(version), u64(1), prev, rand(32), nonce);
  const mk = await core.hkdfSha256(folderKey, new Uint8Array(0), utf8.encode("blindvault/v1/manifest-key"), 32);
  const ct = await gcmSeal(mk, nonce, body, head);
  return core.concat(head, u32(ct.length), ct, new Uint8Array(64)); // signature: not checked here
}

// Padded metadata (spec §5): x || 0x80 || zeros to Padmé(max(len(x) + 1, floor)).
function padmeRaw(n) {
  if (n < 2) return n;
  const e = Math.floor(Math.log2(n));
  const s = Math.floor(Math.log2(e)) + 1;
  const mask = 2 ** (e - s) - 1;
  return Math.ceil(n / (mask + 1)) * (mask + 1);
}
const pad = (x, floor = 512) =>
  core.concat(x, u8(0x80), new Uint8Array(padmeRaw(Math.max(x.length + 1, floor)) - x.length - 1));

const fileEntry = (name, nodeId, history = [], live = history.length + 1) =>
  core.concat(u8(1), text16(name), nodeId, rand(32), u64(live), u64(10), u64(1700000000000),
    u64(1700000000001), rand(32), u8(history.length), ...history);
const earlier = (version) => core.concat(u64(version), rand(32), u64(3), u64(1), u64(2), rand(32));
const folderEntry = (name, nodeId) => core.concat(u8(2), text16(name), nodeId, rand(32), u64(1), u64(1700000000000));
const tomb = (nodeId) => core.concat(nodeId, u64(5));
const trashItem = (path, entry, deletedMs = 7) => core.concat(u64(deletedMs), text16(path), entry);
const rawBody = (entries, tombs = [], trash = []) =>
  core.concat(utf8.encode("BVMB"), u8(4), u32(entries.length), ...entries, u32(tombs.length), ...tombs,
    u32(trash.length), ...trash);
const body = (entries, tombs = [], trash = []) => pad(rawBody(entries, tombs, trash), 1024);

test("manifest: a canonical body opens with the folder key", async () => {
  const key = rand(32);
  const node = rand(16);
  const ids = [rand(16), rand(16), rand(16)];
  const sealed = await sealManifest(
    key, node, body([folderEntry("a", ids[0]), fileEntry("b", ids[1]), fileEntry("c", ids[2], [earlier(2), earlier(1)])]),
  );
  const m = await core.openManifest(sealed, key, node);
  assert.deepEqual(
    m.entries.map((e) => [e.kind, e.name]),
    [["folder", "a"], ["file", "b"], ["file", "c"]],
  );
  assert.deepEqual(m.entries[2].history.map((h) => h.contentVersion), [2, 1]);
  await assert.rejects(core.openManifest(sealed, rand(32), node), core.IntegrityError);
  await assert.rejects(core.openManifest(sealed, key, rand(16)), core.IntegrityError);
});

test("manifest: every non-canonical body is an integrity failure", async () => {
  const key = rand(32);
  const node = rand(16);
  const a = new Uint8Array(16).fill(1);
  const b = new Uint8Array(16).fill(2);
  const cases = {
    "names out of order": body([fileEntry("b", a), fileEntry("a", b)]),
    "same name twice": body([fileEntry("a", a), fileEntry("a", b)]),
    "tombstones out of order": body([], [tomb(b), tomb(a)]),
    "node id twice": body([fileEntry("a", a)], [tomb(a)]),
    "name '.'": body([fileEntry(".", a)]),
    "name '..'": body([fileEntry("..", a)]),
    "name with /": body([fileEntry("x/y", a)]),
    "name with NUL": body([fileEntry("x\0", a)]),
    "empty name": body([fileEntry("", a)]),
    "name not NFC": body([fileEntry("e\u0301", a)]),
    "name too long": body([fileEntry("x".repeat(256), a)]),
    "unknown kind": body([core.concat(u8(3), fileEntry("a", a).subarray(1))]),
    "trailing byte": pad(core.concat(rawBody([fileEntry("a", a)]), u8(0)), 1024),
    "wrong magic": pad(core.concat(utf8.encode("BVMX"), rawBody([]).subarray(4)), 1024),
    "version 1 body (with authors)": pad(core.concat(utf8.encode("BVMB"), u8(1), rawBody([]).subarray(5)), 1024),
    "count beyond the data": pad(core.concat(utf8.encode("BVMB"), u8(4), u32(5), u32(0), u32(0)), 1024),
    "version 3 body (no trash)": pad(core.concat(utf8.encode("BVMB"), u8(3), rawBody([]).subarray(5)), 1024),
    "a trash in a link snapshot": body([], [tomb(a)], [trashItem("/x", fileEntry("x", a))]),
    "a trash item cut short": pad(core.concat(rawBody([]).subarray(0, 13), u32(1)), 1024),
    "version 2 body (no history)": pad(core.concat(utf8.encode("BVMB"), u8(2), rawBody([]).subarray(5)), 1024),
    "history not below the live version": body([fileEntry("a", a, [earlier(2)], 2)]),
    "history out of order": body([fileEntry("a", a, [earlier(1), earlier(2)])]),
    "no padding": rawBody([fileEntry("a", a)]),
    "padding one byte short": body([]).subarray(0, 1023),
    "padding not zero": core.concat(body([]).subarray(0, 511), u8(1)),
    "invalid UTF-8": body([core.concat(u8(1), new Uint8Array([0, 1, 0xff]), fileEntry("a", a).subarray(4))]),
  };
  for (const [what, plain] of Object.entries(cases)) {
    await assert.rejects(core.openManifest(await sealManifest(key, node, plain), key, node), core.IntegrityError, what);
  }
  // The same rule through the plain decoder is a FormatError.
  assert.throws(() => core.decodeManifestBody(cases["names out of order"]), core.FormatError);
});

test("manifest: the vault's own folders read their trash (allowTrash); its canonical rules", () => {
  const [a, b, c] = [1, 2, 3].map((i) => new Uint8Array(16).fill(i));
  const ok = body([fileEntry("c", c)], [tomb(a), tomb(b)], [trashItem("/d/a", fileEntry("a", a), 9), trashItem("/b", folderEntry("b", b))]);
  const got = core.decodeManifestBody(ok, { allowTrash: true });
  assert.deepEqual(got.trash.map((t) => [t.path, t.deletedMs, t.entry.kind, t.entry.name]), [["/d/a", 9, "file", "a"], ["/b", 7, "folder", "b"]]);
  assert.deepEqual(got.entries.map((e) => e.name), ["c"]);
  assert.deepEqual(core.decodeManifestBody(body([fileEntry("c", c)]), { allowTrash: true }).trash, []);
  // a link snapshot never carries one: refused without the option
  assert.throws(() => core.decodeManifestBody(ok), /no trash/);
  const bad = {
    "trash out of order": [[], [], [trashItem("/b", fileEntry("b", b)), trashItem("/a", fileEntry("a", a))]],
    "trash node id twice": [[], [], [trashItem("/a", fileEntry("a", a)), trashItem("/b", fileEntry("b", a))]],
    "a live entry also in the trash": [[fileEntry("a", a)], [], [trashItem("/a", fileEntry("a", a))]],
    "empty trash path": [[], [], [trashItem("", fileEntry("a", a))]],
    "trash path with NUL": [[], [], [trashItem("/a\0", fileEntry("a", a))]],
    "trash path too long": [[], [], [trashItem("/".padEnd(4097, "x"), fileEntry("a", a))]],
    "trash path not NFC": [[], [], [trashItem("/e\u0301", fileEntry("a", a))]],
    "trash entry with a bad name": [[], [], [trashItem("/a", fileEntry("a/b", a))]],
  };
  for (const [what, [es, ts, tr]] of Object.entries(bad)) {
    assert.throws(() => core.decodeManifestBody(body(es, ts, tr), { allowTrash: true }), core.FormatError, what);
  }
  // the longest path is fine
  const long = body([], [], [trashItem("/".padEnd(4096, "x"), fileEntry("a", a))]);
  assert.equal(core.decodeManifestBody(long, { allowTrash: true }).trash[0].path.length, 4096);
});

test("manifest: openManifest passes allowTrash through", async () => {
  const key = rand(32);
  const node = rand(16);
  const a = new Uint8Array(16).fill(1);
  const sealed = await sealManifest(key, node, body([], [tomb(a)], [trashItem("/a", fileEntry("a", a))]));
  await assert.rejects(core.openManifest(sealed, key, node), core.IntegrityError);
  const m = await core.openManifest(sealed, key, node, { allowTrash: true });
  assert.equal(m.trash[0].path, "/a");
});

test("manifest: version 1 needs a zero prev_hash, later versions a real one", async () => {
  const key = rand(32);
  const node = rand(16);
  const plain = body([]);
  await assert.rejects(core.openManifest(await sealManifest(key, node, plain, { prev: rand(32) }), key, node), core.IntegrityError);
  await assert.rejects(core.openManifest(await sealManifest(key, node, plain, { version: 2 }), key, node), core.IntegrityError);
  await assert.rejects(core.openManifest(await sealManifest(key, node, plain, { version: 0 }), key, node), core.IntegrityError);
  const ok = await core.openManifest(await sealManifest(key, node, plain, { version: 2, prev: rand(32) }), key, node);
  assert.equal(ok.version, 2);
});

// ------------------------------------------------------------------ links, encodings

test("base64url: only the canonical text of exactly the right length", () => {
  const id = core.b64urlDecode("LoEAFpfrViZOsGfbmO28NQ", 16);
  assert.equal(core.b64urlEncode(id), "LoEAFpfrViZOsGfbmO28NQ");
  for (const bad of ["LoEAFpfrViZOsGfbmO28NR", "LoEAFpfrViZOsGfbmO28N", "LoEAFpfrViZOsGfbmO28NQA", "LoEAFpfrViZOsGfbmO28N=", "LoEAFpfrViZOsGfbmO28+Q", "LoEAFpfrViZOsGfbmO28N/", " LoEAFpfrViZOsGfbmO28N"]) {
    assert.throws(() => core.b64urlDecode(bad, 16), core.FormatError, bad);
  }
  const secret = "xjMGnKzTpKfec9Gb3UOhJD4i4ajX-y6EGmM3osCoQkY";
  assert.equal(core.b64urlEncode(core.b64urlDecode(secret, 32)), secret);
});

test("parseLink: structure as links.parse_link", () => {
  const good = "https://h.example/s/LoEAFpfrViZOsGfbmO28NQ#v1.xjMGnKzTpKfec9Gb3UOhJD4i4ajX-y6EGmM3osCoQkY";
  const l = core.parseLink(`  ${good}.p `);
  assert.equal(l.base, "https://h.example");
  assert.equal(l.needsPassword, true);
  assert.equal(core.parseLink(good).needsPassword, false);
  for (const bad of [
    good.replace("/s/", "/x/"),
    good.replace("/s/", "/s/a/"),
    good.replace("#", "?q#"),
    good.replace("#v1.", "#v1"),
    `${good}.q`,
    `${good}.p.p`,
    good.replace("https://h.example", ""),
  ]) {
    assert.throws(() => core.parseLink(bad), core.FormatError, bad);
  }
});

test("descriptor: wrong key, other link id, truncation", async () => {
  const linkId = rand(16);
  const secret = rand(32);
  const key = await core.linkKey(secret, linkId, null);
  const nonce = rand(12);
  const aad = core.concat(utf8.encode("BVLK"), u8(2), linkId, nonce);
  const plain = core.concat(u8(1), rand(16), rand(32), u64(4), u64(123), u64(1700000000000), text16("r.pdf"));
  const desc = core.concat(aad, await gcmSeal(key, nonce, pad(plain), aad));
  const d = await core.openDescriptor(desc, key, linkId);
  assert.deepEqual([d.kind, d.version, d.size, d.name], ["file", 4, 123, "r.pdf"]);
  await assert.rejects(core.openDescriptor(desc, await core.linkKey(secret, linkId, "pw"), linkId), core.IntegrityError);
  await assert.rejects(core.openDescriptor(desc, key, rand(16)), core.IntegrityError);
  await assert.rejects(core.openDescriptor(desc.subarray(0, 20), key, linkId), core.FormatError);
  // Authenticated but malformed plaintext (a bad name) is still an integrity failure.
  const badPlain = core.concat(plain.subarray(0, plain.length - 7), text16("a/b"));
  const badDesc = core.concat(aad, await gcmSeal(key, nonce, pad(badPlain), aad));
  await assert.rejects(core.openDescriptor(badDesc, key, linkId), core.IntegrityError);
  // Unpadded plaintext, and a version-1 descriptor, are refused.
  const unpadded = core.concat(aad, await gcmSeal(key, nonce, plain, aad));
  await assert.rejects(core.openDescriptor(unpadded, key, linkId), core.IntegrityError);
  const v1 = core.concat(utf8.encode("BVLK"), u8(1), desc.subarray(5));
  await assert.rejects(core.openDescriptor(v1, key, linkId), core.FormatError);
});

test("password: NFKC before PBKDF2", async () => {
  const linkId = rand(16);
  const secret = rand(32);
  const a = await core.linkKey(secret, linkId, "\uFB01le", 1000); // "ﬁle" (ligature)
  const b = await core.linkKey(secret, linkId, "file", 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(b, await core.linkKey(secret, linkId, "File", 1000));
});

test("blob id and padme", async () => {
  const node = core.fromHex("0ebac4e1f37a18e1e090f0a2c68edbe5");
  const id = await core.blobId(node, 2);
  const want = (await core.sha256(core.concat(utf8.encode("blindvault/v1/blob-id"), u8(0), node, u64(2)))).subarray(0, 16);
  assert.equal(id, core.toHex(want));
  assert.notEqual(id, await core.blobId(node, 3));
  assert.equal(core.padmeLength(2 ** 40 + 1), 2 ** 40 + 2 ** 34); // exact past 2^32
});

test("manifest: a paged folder (BVMF version 2, spec §7a) is refused with a clear message", async () => {
  // the pinned vector of a paged root: its head says version 2; this page reads §7 only
  const { readFileSync } = await import("node:fs");
  const v = JSON.parse(readFileSync(new URL("../vectors/v1/manifest-paged/v1.json", import.meta.url)));
  const sealed = Uint8Array.from(Buffer.from(v.data, "hex"));
  assert.equal(sealed[4], 2);
  const key = Uint8Array.from(Buffer.from(v.inputs.folder_key, "hex"));
  const node = Uint8Array.from(Buffer.from(v.inputs.node_id, "hex"));
  await assert.rejects(core.openManifest(sealed, key, node), (e) => {
    assert.ok(e instanceof core.FormatError);
    assert.equal(e.message, core.PAGED_UNSUPPORTED);
    assert.match(e.message, /more than 2,048 entries/);
    return true;
  });
  // a whole manifest (version 1) still opens: the refusal is for paged roots only
  const whole = await sealManifest(key, node, body([fileEntry("a", rand(16))]));
  assert.equal((await core.openManifest(whole, key, node)).entries.length, 1);
});
