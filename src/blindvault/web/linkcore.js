// linkcore.js: the cryptography of a blindvault share link (format v1), as a pure ES
// module that runs unchanged in a browser and in Node 20. It uses nothing but
// globalThis.crypto.subtle (WebCrypto): no third-party code, no DOM.
//
// docs/spec/format-v1.md is the byte-exact reference (sections cited below as §n);
// src/blindvault/core/{links,content,chunked,manifest,padme}.py is the Python one, and
// tests/vectors/ holds the cases both must pass.
//
// Errors: FormatError (the input is not well formed), IntegrityError (an
// authentication check failed; never says which), UsageError (the caller passed
// something impossible, e.g. a key of the wrong size). Messages never carry secrets.

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
// fatal: reject invalid UTF-8; ignoreBOM: keep a leading U+FEFF (Python keeps it too).
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------- errors

export class LinkError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
export class FormatError extends LinkError {}
export class IntegrityError extends LinkError {
  constructor() {
    super("integrity check failed");
  }
}
export class UsageError extends LinkError {}

// ---------------------------------------------------------------- constants (§2, §5)

const VERSION = 1;
// Objects whose version moved to 2 (issue 11): padded descriptors naming a snapshot, and
// padded manifest bodies without the unauthenticated `author` (spec §7, §10).
const VERSION_LINK = 2;
const VERSION_MANIFEST_BODY = 4;
const MAX_HISTORY = 64; // manifest.py MAX_HISTORY
const FINGERPRINT_SIZE = 32;
const PAD_MANIFEST_MIN = 1024;
const PAD_DESCRIPTOR_MIN = 512;
const ID_SIZE = 16;
const KEY_SIZE = 32;
const HASH_SIZE = 32;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const SIGNATURE_SIZE = 64;
const SECRET_SIZE = 32;
const MAX_NAME_BYTES = 255;
const MAX_TRASH_PATH = 4096; // trash.py MAX_TRASH_PATH
const MAX_ENTRIES = 1_000_000;
const MAX_MANIFEST_BODY = 512 * 1024 * 1024;
const NODE_FILE = 1;
const NODE_FOLDER = 2;
const PBKDF2_ITERATIONS = 600_000;

export const CHUNK_SIZE = 16384;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE; // 16,400
const C2SP_SALT_SIZE = 24;
const C2SP_COMMITMENT_SIZE = 32;
export const C2SP_HEADER_SIZE = C2SP_SALT_SIZE + C2SP_COMMITMENT_SIZE;
const MAX_CHUNKS = 2 ** 38;
const CONTENT_PREFIX_SIZE = 5; // "BVCT" || 0x01
const PAD_MIN_SIZE = 4096;

const label = (s) => utf8.encode(s);
const LABEL_LINK_KEY = label("blindvault/v1/link-key");
const LABEL_LINK_TOKEN = label("blindvault/v1/link-token");
const LABEL_LINK_PASSWORD = label("blindvault/v1/link-password");
const LABEL_MANIFEST_KEY = label("blindvault/v1/manifest-key");
const LABEL_MANIFEST_HASH = label("blindvault/v1/manifest-hash");
const LABEL_CONTENT = label("blindvault/v1/content");
const LABEL_BLOB_ID = label("blindvault/v1/blob-id");
const C2SP_INFO_PREFIX = label("c2sp.org/chunked-encryption@v1+");
const C2SP_AEAD_NAME = label("AEAD_AES_256_GCM");
const MAGIC_LINK = label("BVLK");
const MAGIC_MANIFEST = label("BVMF");
const MAGIC_MANIFEST_BODY = label("BVMB");
const MAGIC_CONTENT = label("BVCT");
const FRAGMENT_PREFIX = "v1.";
const PASSWORD_MARK = ".p";

// ---------------------------------------------------------------- bytes

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new FormatError("not lowercase hex");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Compares two equal-length secrets without an early exit (§5: the commitment is
// checked in constant time). JavaScript gives no hard guarantee, but nothing here
// branches on the data.
function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function u64(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError("u64 out of range");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

// ---------------------------------------------------------------- base64url (§10)

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function b64urlEncode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += B64U[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** Strict unpadded base64url of exactly `size` bytes: one accepted text per value. */
export function b64urlDecode(text, size) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new FormatError("not base64url");
  }
  if (text.length !== Math.ceil((size * 4) / 3)) {
    throw new FormatError("wrong length of base64url");
  }
  const out = new Uint8Array(size);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const ch of text) {
    acc = (acc << 6) | B64U.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  // Leftover bits must be zero, or two texts would decode to the same bytes.
  if (acc !== 0) throw new FormatError("non-canonical base64url");
  return out;
}

/** Standard base64 (with padding), as the link API sends binary fields in JSON. */
export function b64Decode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new FormatError("not base64");
  }
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// ---------------------------------------------------------------- links (§10)

/** The 16-byte link id of its 22-character form in a URL path. */
export function parseLinkId(text) {
  return b64urlDecode(text, ID_SIZE);
}

/** "v1." b64u(secret[32]) [".p"] -> {secret, needsPassword}; FormatError otherwise. */
export function parseFragment(fragment) {
  if (typeof fragment !== "string" || !fragment.startsWith(FRAGMENT_PREFIX)) {
    throw new FormatError("unknown link version");
  }
  let body = fragment.slice(FRAGMENT_PREFIX.length);
  const needsPassword = body.endsWith(PASSWORD_MARK);
  if (needsPassword) body = body.slice(0, -PASSWORD_MARK.length);
  return { secret: b64urlDecode(body, SECRET_SIZE), needsPassword };
}

/** Split a share URL as links.parse_link does: {base, linkId, secret, needsPassword}. */
export function parseLink(url) {
  if (typeof url !== "string") throw new FormatError("not a link");
  const text = url.trim();
  const hash = text.indexOf("#");
  if (hash < 0) throw new FormatError("not a blindvault link");
  const rest = text.slice(0, hash);
  const marker = rest.lastIndexOf("/s/");
  const base = marker < 0 ? "" : rest.slice(0, marker);
  const id = marker < 0 ? "" : rest.slice(marker + 3);
  if (!base || id.includes("?") || id.includes("/")) {
    throw new FormatError("not a blindvault link");
  }
  const { secret, needsPassword } = parseFragment(text.slice(hash + 1));
  return { base, linkId: parseLinkId(id), secret, needsPassword };
}

// HKDF-SHA-256, Extract then Expand (RFC 5869 §2.2-2.3), by WebCrypto. An empty salt is
// RFC 5869's default (HashLen zero bytes): HMAC pads a short key with zeros anyway.
export async function hkdfSha256(ikm, salt, info, length) {
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, length * 8);
  return new Uint8Array(bits);
}

/** token = HKDF(secret, link_id, "blindvault/v1/link-token", 32): all the server sees. */
export async function linkToken(secret, linkId) {
  checkSizes(secret, linkId);
  return hkdfSha256(secret, linkId, LABEL_LINK_TOKEN, KEY_SIZE);
}

/**
 * link_key = HKDF(secret [|| pwk], link_id, "blindvault/v1/link-key", 32) with
 * pwk = PBKDF2-SHA-256(UTF-8(NFKC(password)), "blindvault/v1/link-password" || 0x00 ||
 * link_id, 600,000, 32) when the link has a password (null otherwise).
 */
export async function linkKey(secret, linkId, password, iterations = PBKDF2_ITERATIONS) {
  checkSizes(secret, linkId);
  let ikm = secret;
  if (password !== null && password !== undefined) {
    const pw = utf8.encode(String(password).normalize("NFKC"));
    const salt = concat(LABEL_LINK_PASSWORD, new Uint8Array([0]), linkId);
    const base = await subtle.importKey("raw", pw, "PBKDF2", false, ["deriveBits"]);
    const bits = await subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations },
      base,
      KEY_SIZE * 8,
    );
    ikm = concat(secret, new Uint8Array(bits));
  }
  return hkdfSha256(ikm, linkId, LABEL_LINK_KEY, KEY_SIZE);
}

function checkSizes(secret, linkId) {
  if (secret?.length !== SECRET_SIZE || linkId?.length !== ID_SIZE) {
    throw new UsageError("wrong link id or secret size");
  }
}

// ---------------------------------------------------------------- canonical reader (§1)

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }
  remaining() {
    return this.bytes.length - this.pos;
  }
  take(n) {
    if (n < 0 || this.pos + n > this.bytes.length) throw new FormatError("truncated input");
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u16() {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }
  u32() {
    const b = this.take(4);
    return ((b[0] << 24) >>> 0) + ((b[1] << 16) | (b[2] << 8) | b[3]);
  }
  // Integers above 2^53 - 1 cannot be held exactly by a JavaScript number: refused.
  u64() {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError("integer too large");
    return Number(v);
  }
  var16(max) {
    const n = this.u16();
    if (n > max) throw new FormatError("field too long");
    return this.take(n);
  }
  var32(max) {
    const n = this.u32();
    if (n > max) throw new FormatError("field too long");
    return this.take(n);
  }
  // text16: strict UTF-8 in NFC (§1).
  text16(max) {
    let text;
    try {
      text = strictUtf8.decode(this.var16(max));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError("invalid UTF-8");
    }
    if (text.normalize("NFC") !== text) throw new FormatError("text not in NFC");
    return text;
  }
  header(magic, version = VERSION) {
    if (!equalBytes(this.take(4), magic)) throw new FormatError("wrong magic");
    if (this.u8() !== version) throw new FormatError("unsupported format version");
  }
  finish() {
    if (this.pos !== this.bytes.length) throw new FormatError("trailing data");
  }
}

// Entry names (§7): NFC UTF-8 of 1-255 bytes, not "." or "..", no "/" and no NUL.
function checkName(name) {
  const size = utf8.encode(name).length;
  if (!size || size > MAX_NAME_BYTES || name === "." || name === ".." || /[/\0]/.test(name)) {
    throw new FormatError("invalid entry name");
  }
  return name;
}

async function aesGcmOpen(rawKey, nonce, sealed, aad) {
  try {
    const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
    const opts = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
    return new Uint8Array(await subtle.decrypt(opts, key, sealed));
  } catch {
    throw new IntegrityError();
  }
}

// ---------------------------------------------------------------- descriptor (§10)

/**
 * Open a BVLK descriptor: {kind: "file"|"folder", nodeId, key, version, size, mtimeMs,
 * name}. For a folder, `version` is the key version and `size` is 0.
 */
export async function openDescriptor(data, key, linkId) {
  const r = new Reader(data);
  r.header(MAGIC_LINK, VERSION_LINK);
  const gotId = r.take(ID_SIZE);
  const nonce = r.take(NONCE_SIZE);
  const sealed = r.take(r.remaining());
  if (!equalBytes(gotId, linkId)) throw new IntegrityError();
  const aad = data.subarray(0, 5 + ID_SIZE + NONCE_SIZE);
  const plain = await aesGcmOpen(key, nonce, sealed, aad);
  // Authenticated but malformed plaintext is still an integrity failure (as links.py).
  try {
    const p = new Reader(unpadBlock(plain, PAD_DESCRIPTOR_MIN));
    const kind = p.u8();
    const nodeId = p.take(ID_SIZE).slice();
    const nodeKey = p.take(KEY_SIZE).slice();
    const version = p.u64();
    const size = p.u64();
    const mtimeMs = p.u64();
    const name = checkName(p.text16(MAX_NAME_BYTES));
    p.finish();
    if (kind !== NODE_FILE && kind !== NODE_FOLDER) throw new FormatError("unknown kind");
    const kindName = kind === NODE_FILE ? "file" : "folder";
    return { kind: kindName, nodeId, key: nodeKey, version, size, mtimeMs, name };
  } catch (e) {
    if (e instanceof FormatError) throw new IntegrityError();
    throw e;
  }
}

// ---------------------------------------------------------------- manifests (§7)

export async function sha256(data) {
  return new Uint8Array(await subtle.digest("SHA-256", data));
}

/** A sealed manifest of version 2 is a paged folder root (§7a, issue 18: a folder of more
 * than 2,048 entries), which this code does not read: say so plainly, not "unsupported
 * format version". */
export const PAGED_UNSUPPORTED =
  "this folder has more than 2,048 entries and is stored as a paged manifest, which the web " +
  "page cannot open yet; use the blindvault command-line client";

export function refusePaged(sealed) {
  if (sealed.length > 4 && equalBytes(sealed.subarray(0, 4), MAGIC_MANIFEST) && sealed[4] === 2) {
    throw new FormatError(PAGED_UNSUPPORTED);
  }
}

/**
 * Open a sealed folder manifest (BVMF) with the folder key.
 *
 * LIMIT: a link holder has no pinned writer identities, so this does NOT verify the
 * writer's Ed25519 signature (§7) and cannot tell which member of the folder wrote
 * it. What it does check: the structure, the node id, the version / prev_hash rule,
 * the AES-GCM tag under the key derived from the folder key (which covers the whole
 * head as AAD), and every canonical-form rule of the body. So the server, which has no
 * folder key, can neither forge nor alter a manifest; someone who holds the folder key
 * (any member) could. Freshness across visits (P-FRESH) is likewise not available to a
 * page without memory; the page only refuses a lower version within one visit.
 */
export async function openManifest(sealed, folderKey, nodeId, { allowTrash = false } = {}) {
  refusePaged(sealed);
  const r = new Reader(sealed);
  r.header(MAGIC_MANIFEST);
  const gotNode = r.take(ID_SIZE);
  const version = r.u64();
  const keyVersion = r.u64();
  const prevHash = r.take(HASH_SIZE).slice();
  const writer = r.take(HASH_SIZE).slice();
  const nonce = r.take(NONCE_SIZE);
  const head = sealed.subarray(0, r.pos);
  const ct = r.var32(MAX_MANIFEST_BODY);
  r.take(SIGNATURE_SIZE); // present but not verifiable here (see above)
  r.finish();
  const zeroPrev = prevHash.every((b) => b === 0);
  if (!equalBytes(gotNode, nodeId) || version < 1 || (version === 1) !== zeroPrev) {
    throw new IntegrityError();
  }
  // mk = HKDF(folder key, "", "blindvault/v1/manifest-key", 32); aad = head (113 bytes).
  const mk = await hkdfSha256(folderKey, new Uint8Array(0), LABEL_MANIFEST_KEY, KEY_SIZE);
  const body = await aesGcmOpen(mk, nonce, ct, head);
  let decoded;
  try {
    decoded = decodeManifestBody(body, { allowTrash });
  } catch (e) {
    if (e instanceof FormatError) throw new IntegrityError();
    throw e;
  }
  const hash = await sha256(concat(LABEL_MANIFEST_HASH, new Uint8Array([0]), sealed));
  return { nodeId: gotNode.slice(), version, keyVersion, prevHash, writer, body, hash, ...decoded };
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function readCount(r) {
  const n = r.u32();
  if (n > MAX_ENTRIES || n > r.remaining()) throw new FormatError("entry count out of range");
  return n;
}

/** A file's earlier versions (issue 14): newest first, strictly below the live one, bounded. */
function readHistory(r, live) {
  const history = [];
  let last = live;
  for (let i = r.u8(); i > 0; i--) {
    const contentVersion = r.u64();
    const key = r.take(KEY_SIZE).slice();
    const size = r.u64();
    const mtimeMs = r.u64();
    const writtenMs = r.u64();
    const writer = r.take(FINGERPRINT_SIZE).slice();
    if (contentVersion >= last) throw new FormatError("file history not in canonical order");
    last = contentVersion;
    history.push({ contentVersion, key, size, mtimeMs, writtenMs, writer });
  }
  if (history.length > MAX_HISTORY) throw new FormatError("file history too long");
  return history;
}

/** One entry (core/entries.py): a file with its kept versions, or a folder. */
function readEntry(r) {
  const kind = r.u8();
  const name = checkName(r.text16(MAX_NAME_BYTES));
  const nodeId = r.take(ID_SIZE).slice();
  const key = r.take(KEY_SIZE).slice();
  if (kind === NODE_FILE) {
    const contentVersion = r.u64();
    const size = r.u64();
    const mtimeMs = r.u64();
    const writtenMs = r.u64();
    const writer = r.take(FINGERPRINT_SIZE).slice();
    const history = readHistory(r, contentVersion);
    return { kind: "file", name, nodeId, key, contentVersion, size, mtimeMs, writtenMs, writer, history };
  }
  if (kind === NODE_FOLDER) {
    const keyVersion = r.u64();
    const mtimeMs = r.u64();
    return { kind: "folder", name, nodeId, key, keyVersion, mtimeMs };
  }
  throw new FormatError("unknown entry kind");
}

/** A trash item (core/trash.py): deleted_ms u64 || path text16 (1..4096 bytes, no NUL) || entry. */
function readTrashItem(r) {
  const deletedMs = r.u64();
  const path = r.text16(MAX_TRASH_PATH);
  if (!path.length || path.includes("\0")) throw new FormatError("invalid trash path");
  return { deletedMs, path, entry: readEntry(r) };
}

function checkAscending(list, what) {
  for (let i = 1; i < list.length; i++) {
    if (compareBytes(list[i - 1], list[i]) >= 0) throw new FormatError(`${what} not in order`);
  }
}

/**
 * BVMB body -> {entries, tombstones, trash}; every canonical-form rule of manifest.py.
 * A link snapshot never carries a trash: unless `allowTrash` (the signed-in vault app,
 * reading its own folders), a non-empty trash is refused.
 */
export function decodeManifestBody(data, { allowTrash = false } = {}) {
  new Reader(data).header(MAGIC_MANIFEST_BODY, VERSION_MANIFEST_BODY);
  const r = new Reader(unpadBlock(data, PAD_MANIFEST_MIN));
  r.take(5);
  const entries = [];
  for (let i = readCount(r); i > 0; i--) entries.push(readEntry(r));
  const tombstones = [];
  for (let i = readCount(r); i > 0; i--) {
    const nodeId = r.take(ID_SIZE).slice();
    const deletedMs = r.u64();
    tombstones.push({ nodeId, deletedMs });
  }
  // Body 4 (issue 14) ends with the folder's trash.
  const trash = [];
  for (let i = readCount(r); i > 0; i--) trash.push(readTrashItem(r));
  if (trash.length && !allowTrash) throw new FormatError("a link snapshot carries no trash");
  r.finish();
  // Canonical: names strictly ascending by UTF-8 bytes (so also unique), tombstones and
  // trash items strictly ascending by node id, no node id twice across entries and
  // tombstones, and no trash item with a live entry's node id (a tombstone's is fine:
  // the delete that put it there).
  checkAscending(entries.map((e) => utf8.encode(e.name)), "entries");
  checkAscending(tombstones.map((t) => t.nodeId), "tombstones");
  checkAscending(trash.map((t) => t.entry.nodeId), "trash items");
  const ids = new Set([...entries, ...tombstones].map((x) => toHex(x.nodeId)));
  if (ids.size !== entries.length + tombstones.length) throw new FormatError("duplicate node id");
  const live = new Set(entries.map((e) => toHex(e.nodeId)));
  if (trash.some((t) => live.has(toHex(t.entry.nodeId)))) throw new FormatError("a live entry is also in the trash");
  return { entries, tombstones, trash };
}

// ---------------------------------------------------------------- layout (§13), padding (§5)

/** Hex blob id of a file version: SHA-256(label || 0x00 || node_id || u64 version)[:16]. */
export async function blobId(nodeId, contentVersion) {
  if (nodeId?.length !== ID_SIZE) throw new UsageError("node id must be 16 bytes");
  const digest = await sha256(concat(LABEL_BLOB_ID, new Uint8Array([0]), nodeId, u64(contentVersion)));
  return toHex(digest.subarray(0, ID_SIZE));
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

function padmeRaw(size) {
  if (size < 2) return size;
  const L = BigInt(size);
  const e = bitLength(L) - 1;
  const s = bitLength(BigInt(e));
  const mask = (1n << BigInt(e - s)) - 1n;
  return Number((L + mask) & ~mask);
}

/**
 * Padded metadata (§5): x || 0x80 || 0x00... to Padmé(max(len(x) + 1, floor)) bytes;
 * anything else (a missing marker, a wrong total length) is a FormatError.
 */
export function unpadBlock(padded, floor) {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80 || padded.length !== padmeRaw(Math.max(end + 1, floor))) {
    throw new FormatError("bad padding");
  }
  return padded.subarray(0, end);
}

/**
 * Padmé with a 4 KiB floor (§5): 4096 up to 4096, else round L up with
 * E = floor(log2 L), S = floor(log2 E) + 1, mask = 2^(E - S) - 1. BigInt, so sizes
 * past 2^32 are exact.
 */
export function padmeLength(size) {
  if (!Number.isSafeInteger(size) || size < 0) throw new UsageError("size out of range");
  if (size <= PAD_MIN_SIZE) return PAD_MIN_SIZE;
  const L = BigInt(size);
  const e = bitLength(L) - 1;
  const s = bitLength(BigInt(e));
  const mask = (1n << BigInt(e - s)) - 1n;
  return Number((L + mask) & ~mask);
}

/** Length of the C2SP ciphertext (with header) of an n-byte message. */
export function chunkedCiphertextSize(n) {
  const full = Math.floor(n / CHUNK_SIZE);
  return C2SP_HEADER_SIZE + full * SEALED_CHUNK_SIZE + (n % CHUNK_SIZE) + TAG_SIZE;
}

/** Length of the BVCT blob of a file of `size` bytes. */
export function sealedContentSize(size) {
  return CONTENT_PREFIX_SIZE + chunkedCiphertextSize(padmeLength(size));
}

// ---------------------------------------------------------------- C2SP chunked (§5)

/**
 * HKDF-Expand alone (RFC 5869 §2.3) with HMAC from WebCrypto. WebCrypto's own "HKDF"
 * always runs Extract first, and Cobblestone uses the input key directly as the PRK:
 *   T(0) = empty; T(i) = HMAC-Hash(PRK, T(i-1) || info || i); OKM = first L bytes.
 */
export async function hkdfExpand(hash, prk, info, length) {
  const hashLen = hash === "SHA-512" ? 64 : hash === "SHA-256" ? 32 : 0;
  if (!hashLen || length < 0 || length > 255 * hashLen) throw new UsageError("bad HKDF-Expand");
  const key = await subtle.importKey("raw", prk, { name: "HMAC", hash }, false, ["sign"]);
  const out = new Uint8Array(length);
  let t = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    t = new Uint8Array(await subtle.sign("HMAC", key, concat(t, info, new Uint8Array([i]))));
    out.set(t.subarray(0, length - at), at);
    at += t.length;
  }
  return out;
}

/**
 * Cobblestone-256 per-message values: key || base nonce || commitment =
 * HKDF-Expand-SHA-512(input key, "c2sp.org/chunked-encryption@v1+" ||
 * "AEAD_AES_256_GCM" || 0x00 || salt || context, 32 + 12 + 32).
 */
export async function chunkedDerive(key, salt, context) {
  if (key?.length !== KEY_SIZE) throw new UsageError("input key must be 32 bytes");
  if (salt?.length !== C2SP_SALT_SIZE) throw new UsageError("salt must be 24 bytes");
  const info = concat(C2SP_INFO_PREFIX, C2SP_AEAD_NAME, new Uint8Array([0]), salt, context);
  const out = await hkdfExpand("SHA-512", key, info, KEY_SIZE + NONCE_SIZE + C2SP_COMMITMENT_SIZE);
  return {
    aeadKey: out.slice(0, KEY_SIZE),
    baseNonce: out.slice(KEY_SIZE, KEY_SIZE + NONCE_SIZE),
    commitment: out.slice(KEY_SIZE + NONCE_SIZE),
  };
}

// A FIFO of byte arrays that hands out exact-length slices without quadratic copying.
class ByteQueue {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  push(bytes) {
    if (bytes.length) {
      this.parts.push(bytes);
      this.length += bytes.length;
    }
  }
  shift(n) {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = this.parts[0];
      const take = Math.min(head.length, n - at);
      out.set(head.subarray(0, take), at);
      at += take;
      if (take === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(take);
    }
    this.length -= n;
    return out;
  }
  clear() {
    this.parts = [];
    this.length = 0;
  }
}

/**
 * Streaming decryption of C2SP chunks in raw mode (AEAD key and base nonce given).
 *
 * chunk_i = AES-256-GCM(k, base_nonce XOR u96(i), plain_i, aad = ""). Every chunk
 * but the last holds exactly 16 KiB; the last is always shorter (maybe empty), which
 * authenticates the end of the stream. A full-size chunk is released only once more
 * bytes follow it (so it cannot be the last one). After the first failure every call
 * throws IntegrityError again (sticky). Calls must not overlap.
 */
export class ChunkDecryptor {
  static async fromRaw(aeadKey, baseNonce) {
    const key = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["decrypt"]);
    return new ChunkDecryptor(key, baseNonce);
  }

  constructor(cryptoKey, baseNonce) {
    this.key = cryptoKey;
    this.baseNonce = Uint8Array.from(baseNonce);
    this.counter = 0;
    this.pending = new ByteQueue();
    this.failed = false;
    this.done = false;
    this.busy = false;
  }

  nonce(i) {
    const n = this.baseNonce.slice();
    // XOR the counter, as a 96-bit big-endian integer, into the last bytes.
    for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) n[j] ^= c % 256;
    return n;
  }

  async openChunk(i, sealed) {
    if (i >= MAX_CHUNKS) throw new IntegrityError();
    const opts = { name: "AES-GCM", iv: this.nonce(i), tagLength: 128 };
    return new Uint8Array(await subtle.decrypt(opts, this.key, sealed));
  }

  enter() {
    if (this.failed) throw new IntegrityError();
    if (this.done) throw new UsageError("decryptor already finished");
    if (this.busy) throw new UsageError("overlapping calls");
    this.busy = true;
  }

  fail() {
    this.failed = true;
    this.pending.clear();
    return new IntegrityError();
  }

  /** Feed ciphertext; returns the plaintext of every chunk known not to be the last. */
  async update(bytes) {
    this.enter();
    try {
      this.pending.push(bytes);
      const jobs = [];
      while (this.pending.length > SEALED_CHUNK_SIZE) {
        jobs.push(this.openChunk(this.counter++, this.pending.shift(SEALED_CHUNK_SIZE)));
      }
      const plains = await Promise.all(jobs); // all of a batch, or nothing
      return plains.length === 1 ? plains[0] : concat(...plains);
    } catch {
      throw this.fail();
    } finally {
      this.busy = false;
    }
  }

  /** Open the final, short chunk; a missing, full-size or forged one fails. */
  async finish() {
    this.enter();
    try {
      const n = this.pending.length;
      if (n < TAG_SIZE || n >= SEALED_CHUNK_SIZE) throw new IntegrityError();
      const plain = await this.openChunk(this.counter, this.pending.shift(n));
      this.done = true;
      return plain;
    } catch {
      throw this.fail();
    } finally {
      this.busy = false;
    }
  }
}

/**
 * A whole C2SP message: salt[24] || commitment[32] || chunks. The commitment is
 * compared (constant time) before any chunk is touched, so a wrong key or context
 * fails at once and no chunk is ever opened under a key the sender did not commit to.
 */
export class ChunkedDecryptor {
  constructor(key, context) {
    if (key?.length !== KEY_SIZE) throw new UsageError("input key must be 32 bytes");
    this.key = Uint8Array.from(key);
    this.context = Uint8Array.from(context);
    this.head = new ByteQueue();
    this.inner = null;
    this.failed = false;
  }

  async update(bytes) {
    if (this.failed) throw new IntegrityError();
    if (this.inner === null) {
      const take = Math.min(C2SP_HEADER_SIZE - this.head.length, bytes.length);
      this.head.push(bytes.subarray(0, take));
      bytes = bytes.subarray(take);
      if (this.head.length < C2SP_HEADER_SIZE) return new Uint8Array(0);
      await this.openHeader(this.head.shift(C2SP_HEADER_SIZE));
    }
    return this.inner.update(bytes);
  }

  async openHeader(head) {
    const salt = head.subarray(0, C2SP_SALT_SIZE);
    const { aeadKey, baseNonce, commitment } = await chunkedDerive(this.key, salt, this.context);
    if (!constantTimeEqual(head.subarray(C2SP_SALT_SIZE), commitment)) {
      this.failed = true;
      throw new IntegrityError();
    }
    this.inner = await ChunkDecryptor.fromRaw(aeadKey, baseNonce);
  }

  async finish() {
    if (this.failed || this.inner === null) {
      this.failed = true;
      throw new IntegrityError();
    }
    return this.inner.finish();
  }
}

// ---------------------------------------------------------------- file content (§5)

/** context = "blindvault/v1/content" || 0x00 || 0x01 || node_id[16] || u64 version. */
export function contentContext(nodeId, contentVersion) {
  if (nodeId?.length !== ID_SIZE) throw new UsageError("node id must be 16 bytes");
  return concat(LABEL_CONTENT, new Uint8Array([0, VERSION]), nodeId, u64(contentVersion));
}

/**
 * Streaming decryption of a BVCT blob of a file whose true size the manifest (or the
 * link descriptor) gives. Returns only authenticated file bytes: the stream's
 * plaintext must be exactly padmeLength(size) long, and everything past `size` (the
 * padding) must be zero. Sticky: after one failure, every call fails.
 */
export class ContentDecryptor {
  constructor(fileKey, nodeId, contentVersion, size) {
    this.inner = new ChunkedDecryptor(fileKey, contentContext(nodeId, contentVersion));
    this.size = size;
    this.padded = padmeLength(size);
    this.pos = 0;
    this.prefix = new ByteQueue();
    this.started = false; // the 5-byte prefix has been read and checked
    this.failed = false;
  }

  async update(bytes) {
    if (this.failed) throw new IntegrityError();
    if (!this.started) {
      const take = Math.min(CONTENT_PREFIX_SIZE - this.prefix.length, bytes.length);
      this.prefix.push(bytes.subarray(0, take));
      bytes = bytes.subarray(take);
      if (this.prefix.length < CONTENT_PREFIX_SIZE) return new Uint8Array(0);
      const prefix = this.prefix.shift(CONTENT_PREFIX_SIZE);
      this.started = true;
      if (!equalBytes(prefix.subarray(0, 4), MAGIC_CONTENT) || prefix[4] !== VERSION) {
        this.failed = true;
        throw new FormatError("not a blindvault v1 content blob");
      }
    }
    return this.accept(await this.guard(this.inner.update(bytes)));
  }

  async finish() {
    if (this.failed || !this.started) {
      this.failed = true;
      throw new IntegrityError();
    }
    const tail = this.accept(await this.guard(this.inner.finish()));
    if (this.pos !== this.padded) {
      this.failed = true;
      throw new IntegrityError();
    }
    return tail;
  }

  async guard(promise) {
    try {
      return await promise;
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  // Count n authenticated plaintext bytes; check the padding among them; return the
  // part that belongs to the file.
  accept(plain) {
    const start = this.pos;
    this.pos += plain.length;
    const keep = Math.max(0, Math.min(plain.length, this.size - start));
    let nonzero = 0;
    for (let i = keep; i < plain.length; i++) nonzero |= plain[i];
    if (this.pos > this.padded || nonzero) {
      this.failed = true;
      plain.fill(0);
      throw new IntegrityError();
    }
    return keep === plain.length ? plain : plain.subarray(0, keep);
  }
}
