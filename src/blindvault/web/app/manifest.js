// Folder manifests (§7): the body encoder, sealing and signing, and a verified open that
// checks the writer's signature before anything is decrypted (linkcore.js's openManifest
// cannot: a link holder pins nobody; a signed-in device knows its writers).
import { FormatError, IntegrityError, concat, decodeManifestBody, openManifest, refusePaged, toHex } from "/s/assets/linkcore.js";
import { Reader, Writer, compareBytes, label, randomBytes, utf8Encode } from "./bytes.js";
import { aesSeal, ed25519Verify, hkdfSha256, sha256 } from "./crypto.js";

export const MAX_HISTORY = 64;
const HEAD_SIZE = 113;
const WRITER_AT = 4 + 1 + 16 + 8 + 8 + 32;

function padmeRaw(size) {
  if (size < 2) return size;
  const e = size.toString(2).length - 1;
  const s = e.toString(2).length;
  const mask = 2 ** (e - s) - 1;
  return Math.ceil(size / (mask + 1)) * (mask + 1);
}

/** pad(x, floor) = x || 0x80 || 0x00… to padme(max(len(x) + 1, floor)) bytes (§5). */
export function padBlock(x, floor) {
  const out = new Uint8Array(padmeRaw(Math.max(x.length + 1, floor)));
  out.set(x);
  out[x.length] = 0x80;
  return out;
}

export function checkName(name) {
  const size = utf8Encode(name).length;
  if (typeof name !== "string" || name.normalize("NFC") !== name || !size || size > 255 || name === "." || name === ".." || /[/\0]/.test(name)) {
    throw new FormatError(`not a valid name: ${JSON.stringify(name)}`);
  }
  return name;
}

function writeEntry(w, e) {
  w.u8(e.kind === "file" ? 1 : 2).text16(checkName(e.name)).fixed(e.nodeId, 16).fixed(e.key, 32);
  if (e.kind === "file") {
    w.u64(e.contentVersion).u64(e.size).u64(e.mtimeMs).u64(e.writtenMs).fixed(e.writer, 32);
    const history = e.history.slice(0, MAX_HISTORY);
    w.u8(history.length);
    for (const h of history) {
      w.u64(h.contentVersion).fixed(h.key, 32).u64(h.size).u64(h.mtimeMs).u64(h.writtenMs).fixed(h.writer, 32);
    }
  } else {
    w.u64(e.keyVersion).u64(e.mtimeMs);
  }
}

/**
 * BVMB v4 body: entries sorted by UTF-8 name, tombstones by node id, then the folder's
 * trash (core/trash.py) by node id, each item's entry written as a live entry is; padded
 * to ≥ 1024.
 */
export function encodeBody({ entries, tombstones, trash = [] }) {
  const es = [...entries].sort((a, b) => compareBytes(utf8Encode(a.name), utf8Encode(b.name)));
  const ts = [...tombstones].sort((a, b) => compareBytes(a.nodeId, b.nodeId));
  const tr = [...trash].sort((a, b) => compareBytes(a.entry.nodeId, b.entry.nodeId));
  const w = new Writer().header("BVMB", 4).u32(es.length);
  for (const e of es) writeEntry(w, e);
  w.u32(ts.length);
  for (const t of ts) w.fixed(t.nodeId, 16).u64(t.deletedMs);
  w.u32(tr.length);
  for (const t of tr) {
    w.u64(t.deletedMs).text16(t.path);
    writeEntry(w, t.entry);
  }
  const body = padBlock(w.bytes(), 1024);
  // the same canonical rules a reader applies (duplicates, order, trash paths, trash apart)
  decodeManifestBody(body, { allowTrash: true });
  return body;
}

export async function manifestHash(sealed) {
  return sha256(concat(label("blindvault/v1/manifest-hash"), new Uint8Array([0]), sealed));
}

/** Seal and sign a body (§7) as `signer` (whose fingerprint is `writer`). */
export async function sealManifest(body, folderKey, { nodeId, version, keyVersion, prevHash, writer, signer }) {
  const head = new Writer()
    .header("BVMF", 1)
    .fixed(nodeId, 16)
    .u64(version)
    .u64(keyVersion)
    .fixed(prevHash, 32)
    .fixed(writer, 32)
    .raw(randomBytes(12))
    .bytes();
  const mk = await hkdfSha256(folderKey, new Uint8Array(0), label("blindvault/v1/manifest-key"), 32);
  const ct = await aesSeal(mk, head.subarray(HEAD_SIZE - 12), encodeBody(body), head);
  const signed = new Writer().raw(head).var32(ct).bytes();
  return concat(signed, await signer.sign("blindvault/v1/manifest-sig", signed));
}

/**
 * Open a sealed manifest written by one of `writers` (fingerprint hex -> Ed25519 public
 * key): the signature is verified first, then linkcore.js checks structure, AEAD and body.
 */
export async function openVerified(sealed, folderKey, nodeId, writers) {
  // a paged folder (§7a): a clear refusal, not a bad-version error
  refusePaged(sealed); // mutant: web.manifest-paged-refused
  const r = new Reader(sealed); // the structure first: a malformed object is a FormatError
  r.header("BVMF", 1);
  r.take(HEAD_SIZE - 5);
  r.var32(512 * 1024 * 1024);
  r.take(64);
  r.finish();
  const writer = toHex(sealed.subarray(WRITER_AT, WRITER_AT + 32));
  const signPublic = writers.get(writer);
  if (!signPublic) throw new IntegrityError(); // mutant: web.manifest-writer
  const signed = sealed.subarray(0, sealed.length - 64);
  // mutant: web.manifest-signature
  await ed25519Verify(signPublic, "blindvault/v1/manifest-sig", signed, sealed.subarray(sealed.length - 64));
  return openManifest(sealed, folderKey, nodeId, { allowTrash: true }); // its own folders: the trash too
}
