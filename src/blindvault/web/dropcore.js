// dropcore.js: sealing a file for an upload-only link (file drop, issue 19), format v1
// §10a, as a pure ES module for the browser and Node 20. WebCrypto only: X25519, HKDF,
// HMAC, AES-GCM. src/blindvault/core/drops.py is the Python reference (the owner's side
// opens what this seals; tests/web/test_dropcore.py checks the two against each other).
//
// HPKE (RFC 9180) base mode, single shot, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-256-GCM, written from the RFC's §4 (LabeledExtract/LabeledExpand), §4.1 (DHKEM
// Encap, ExtractAndExpand), §5.1 (KeySchedule, mode_base) and §5.2 (Seal, seq 0).
import {
  FormatError,
  IntegrityError,
  UsageError,
  chunkedDerive,
  concat,
  contentContext,
  hkdfExpand,
  hkdfSha256,
  padmeLength,
  unpadBlock,
} from "./linkcore.js";

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const label = (s) => utf8.encode(s);

const ID_SIZE = 16;
const KEY_SIZE = 32;
const NONCE_SIZE = 12;
const X25519_SIZE = 32;
const PAD_DESCRIPTOR_MIN = 512;
const PAD_DROP_HEADER_MIN = 512;
const MAX_NAME_BYTES = 255;
const CHUNK_SIZE = 16384;
const C2SP_SALT_SIZE = 24;
const BATCH = 64; // chunks encrypted concurrently
const MAGIC_DROP_LINK = label("BVDL");
const MAGIC_DROP = label("BVDP");
const MAGIC_CONTENT = label("BVCT");
const VERSION = 1;
const LABEL_DROP_BIND = label("blindvault/v1/drop/bind-key");
const LABEL_DROP_TAG = label("blindvault/v1/drop/tag");
const LABEL_DROP_INFO = label("blindvault/v1/drop/hpke-info");

// RFC 9180 identifiers: KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256,
// AEAD 0x0002 AES-256-GCM.
const HPKE_V1 = label("HPKE-v1");
const SUITE_KEM = concat(label("KEM"), new Uint8Array([0x00, 0x20]));
const SUITE_HPKE = concat(label("HPKE"), new Uint8Array([0x00, 0x20, 0x00, 0x01, 0x00, 0x02]));
const ZERO_SALT = new Uint8Array(32); // RFC 5869: an empty salt is HashLen zero bytes

const u16 = (n) => new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
function u64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}
const text16 = (s) => {
  const b = utf8.encode(s);
  return concat(u16(b.length), b);
};

async function hmacSha256(key, message) {
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, message));
}

// HKDF-Extract (RFC 5869 §2.2): HMAC-Hash(salt, IKM); an empty salt is HashLen zeros
// (WebCrypto refuses an empty HMAC key; HMAC pads a short key with zeros, so the two agree).
const extract = (salt, ikm) => hmacSha256(salt.length ? salt : ZERO_SALT, ikm);
const labeledExtract = (suite, salt, lbl, ikm) => extract(salt, concat(HPKE_V1, suite, label(lbl), ikm));
const labeledExpand = (suite, prk, lbl, info, length) =>
  hkdfExpand("SHA-256", prk, concat(u16(length), HPKE_V1, suite, label(lbl), info), length);

/** RFC 9180 §4.1 Encap with a given ephemeral key pair (tests) or a fresh one. */
async function encap(recipient, ephemeral) {
  const eph = ephemeral ?? (await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]));
  const enc = new Uint8Array(await subtle.exportKey("raw", eph.publicKey));
  let pk;
  try {
    pk = await subtle.importKey("raw", recipient, { name: "X25519" }, false, []);
  } catch {
    throw new IntegrityError();
  }
  let dh;
  try {
    // WebCrypto refuses an all-zero shared secret (a low-order point), as RFC 9180 §7.1.4 asks
    dh = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: pk }, eph.privateKey, 256));
  } catch {
    throw new IntegrityError();
  }
  const prk = await labeledExtract(SUITE_KEM, new Uint8Array(0), "eae_prk", dh);
  const shared = await labeledExpand(SUITE_KEM, prk, "shared_secret", concat(enc, recipient), 32);
  return { enc, shared };
}

/** RFC 9180 single-shot Seal(pkR, info, aad = "", pt) in mode_base: enc || ciphertext. */
export async function hpkeSeal(recipient, info, plaintext, ephemeral = null) {
  if (recipient?.length !== X25519_SIZE) throw new UsageError("recipient must be 32 bytes");
  const { enc, shared } = await encap(recipient, ephemeral);
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(SUITE_HPKE, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(SUITE_HPKE, empty, "info_hash", info);
  const context = concat(new Uint8Array([0x00]), pskIdHash, infoHash);
  const secret = await labeledExtract(SUITE_HPKE, shared, "secret", empty);
  const key = await labeledExpand(SUITE_HPKE, secret, "key", context, KEY_SIZE);
  const nonce = await labeledExpand(SUITE_HPKE, secret, "base_nonce", context, NONCE_SIZE);
  const aesKey = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const opts = { name: "AES-GCM", iv: nonce, additionalData: empty, tagLength: 128 };
  return concat(enc, new Uint8Array(await subtle.encrypt(opts, aesKey, plaintext)));
}

// ---------------------------------------------------------------- the link (§10a)

function checkName(name) {
  const size = utf8.encode(name).length;
  if (!size || size > MAX_NAME_BYTES || name === "." || name === ".." || /[/\0]/.test(name)) {
    throw new UsageError("this file name cannot be stored (1-255 bytes, no / or NUL)");
  }
  if (name.normalize("NFC") !== name) throw new UsageError("file name not in Unicode NFC");
  return name;
}

function padBlock(data, floor) {
  // x || 0x80 || 0x00... to the Padmé length of max(len(x) + 1, floor)
  const want = padmeRaw(Math.max(data.length + 1, floor));
  const out = new Uint8Array(want);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

function padmeRaw(size) {
  if (size < 2) return size;
  const L = BigInt(size);
  const e = L.toString(2).length - 1;
  const s = BigInt(e).toString(2).length;
  const mask = (1n << BigInt(e - s)) - 1n;
  return Number((L + mask) & ~mask);
}

/** Open a BVDL descriptor with the link key: {recipient, maxSize, name}. */
export async function openDropLink(data, linkKey, linkId) {
  const head = 5 + ID_SIZE + NONCE_SIZE;
  // short before the nonce: a FormatError; a short AEAD part fails to open (IntegrityError), as in core/drops.py
  if (data.length < head) throw new FormatError("truncated descriptor");
  for (let i = 0; i < 4; i++) if (data[i] !== MAGIC_DROP_LINK[i]) throw new FormatError("wrong magic");
  if (data[4] !== VERSION) throw new FormatError("unsupported format version");
  const aad = concat(data.subarray(0, 5), linkId, data.subarray(5 + ID_SIZE, head));
  let plain;
  try {
    const key = await subtle.importKey("raw", linkKey, "AES-GCM", false, ["decrypt"]);
    const opts = { name: "AES-GCM", iv: data.subarray(5 + ID_SIZE, head), additionalData: aad, tagLength: 128 };
    plain = new Uint8Array(await subtle.decrypt(opts, key, data.subarray(head)));
  } catch {
    throw new IntegrityError();
  }
  try {
    const p = unpadBlock(plain, PAD_DESCRIPTOR_MIN);
    const recipient = p.slice(0, X25519_SIZE);
    const view = new DataView(p.buffer, p.byteOffset + X25519_SIZE, 10);
    const maxSize = view.getBigUint64(0);
    const n = view.getUint16(8);
    if (p.length !== X25519_SIZE + 10 + n || n === 0 || n > MAX_NAME_BYTES) throw new FormatError("bad");
    // the name rules of core/drops.py (check_name: NFC, no "/" or NUL, not "." or ".."):
    // a name the owner's side could not have sealed is not shown
    const name = checkName(strictUtf8.decode(p.subarray(X25519_SIZE + 10)));
    return { recipient, maxSize: Number(maxSize), name };
  } catch {
    throw new IntegrityError();
  }
}

// ---------------------------------------------------------------- content (§5, sealing)

/**
 * A BVCT blob of `size` bytes, sealed a batch of chunks at a time: yields arrays of
 * Uint8Array in blob order. `read(offset, length)` gives the plaintext (a promise of a
 * Uint8Array of exactly `length` bytes), one batch (BATCH chunks, 1 MiB) at a time, so a
 * file of any size is never whole in memory. Padmé-padded, C2SP chunked under fileKey.
 */
export async function* sealContentParts(fileKey, nodeId, contentVersion, size, read, salt = null) {
  const s = salt ?? crypto.getRandomValues(new Uint8Array(C2SP_SALT_SIZE));
  const { aeadKey, baseNonce, commitment } = await chunkedDerive(fileKey, s, contentContext(nodeId, contentVersion));
  const key = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["encrypt"]);
  const paddedLength = padmeLength(size);
  yield [MAGIC_CONTENT, new Uint8Array([VERSION]), s, commitment];
  // every chunk but the last is full; the last is shorter (maybe empty): the end is sealed
  const full = Math.floor(paddedLength / CHUNK_SIZE);
  const sealOne = async (i, chunk) => {
    const nonce = baseNonce.slice();
    for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) nonce[j] ^= c % 256;
    const opts = { name: "AES-GCM", iv: nonce, tagLength: 128 };
    return new Uint8Array(await subtle.encrypt(opts, key, chunk));
  };
  for (let i = 0; i <= full; i += BATCH) { // a batch of chunks at once, in order
    const last = Math.min(full, i + BATCH - 1);
    const start = i * CHUNK_SIZE;
    const plain = new Uint8Array(Math.min((last + 1) * CHUNK_SIZE, paddedLength) - start); // zeros: the padding
    if (start < size) {
      const got = await read(start, Math.min(start + plain.length, size) - start);
      if (got.length !== Math.min(start + plain.length, size) - start) throw new UsageError("the file changed while it was read");
      plain.set(got);
    }
    const batch = [];
    for (let k = i; k <= last; k++) {
      const at = (k - i) * CHUNK_SIZE;
      batch.push(sealOne(k, plain.subarray(at, Math.min(at + CHUNK_SIZE, plain.length))));
    }
    yield await Promise.all(batch);
  }
}

/** A BVCT blob of `data` in one piece (small files, test vectors). */
export async function sealContent(fileKey, nodeId, contentVersion, data, salt = null) {
  const parts = [];
  const read = async (offset, length) => data.subarray(offset, offset + length);
  for await (const batch of sealContentParts(fileKey, nodeId, contentVersion, data.length, read, salt)) parts.push(...batch);
  return concat(...parts);
}

// ---------------------------------------------------------------- a drop (§10a)

/**
 * Seal one file of `size` bytes for the link's owner, as a stream of parts (arrays of
 * Uint8Array): preamble || u16 len || HPKE(header), then the content a batch at a time
 * from `read(offset, length)` (see sealContentParts). The tag, keyed from the link
 * secret, tells the owner this drop came through the link.
 */
export async function* sealDropParts(target, secret, linkId, name, size, read, mtimeMs, fixed = {}) {
  if (size > target.maxSize) throw new UsageError("larger than this link accepts");
  const dropId = fixed.dropId ?? crypto.getRandomValues(new Uint8Array(ID_SIZE));
  const fileKey = fixed.fileKey ?? crypto.getRandomValues(new Uint8Array(KEY_SIZE));
  const preamble = concat(MAGIC_DROP, new Uint8Array([VERSION]), linkId, dropId);
  const fields = concat(fileKey, u64(size), u64(mtimeMs), text16(checkName(name)));
  const bind = await hkdfSha256(secret, linkId, LABEL_DROP_BIND, KEY_SIZE);
  const tag = await hmacSha256(bind, concat(LABEL_DROP_TAG, new Uint8Array([0]), preamble, fields));
  const info = concat(LABEL_DROP_INFO, new Uint8Array([0]), preamble);
  const sealed = await hpkeSeal(target.recipient, info, padBlock(concat(fields, tag), PAD_DROP_HEADER_MIN), fixed.ephemeral);
  yield [preamble, u16(sealed.length), sealed];
  yield* sealContentParts(fileKey, dropId, 1, size, read, fixed.salt);
}

/** One file's whole drop in one piece (small files, test vectors). */
export async function sealDrop(target, secret, linkId, name, data, mtimeMs, fixed = {}) {
  const parts = [];
  const read = async (offset, length) => data.subarray(offset, offset + length);
  for await (const batch of sealDropParts(target, secret, linkId, name, data.length, read, mtimeMs, fixed)) parts.push(...batch);
  return concat(...parts);
}

/**
 * A File (or Blob) sealed into a Blob, read and sealed a MiB at a time: each batch goes
 * into the browser's blob storage (which may keep it on disk), so the page never holds
 * the file, or its drop, whole in memory; `progress(fraction)` after each batch.
 */
export async function sealDropBlob(target, secret, linkId, name, file, mtimeMs, progress = () => {}) {
  const read = async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
  const parts = [];
  let done = 0;
  for await (const batch of sealDropParts(target, secret, linkId, name, file.size, read, mtimeMs)) {
    parts.push(new Blob(batch));
    done += batch.reduce((n, b) => n + b.length, 0);
    progress(Math.min(1, done / Math.max(1, file.size)));
  }
  return new Blob(parts, { type: "application/octet-stream" });
}
