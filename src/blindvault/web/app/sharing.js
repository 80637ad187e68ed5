// The objects of sharing a signed-in device reads (docs/spec/format-v1.md): envelopes
// (a folder key HPKE-sealed to this identity and signed by the sharer, §15) and rosters
// (the owner-signed member list of a shared folder, §15), the safety number people
// compare (§6), and the holder of a single-file share (§15a). Ports of core/envelope.py,
// core/roster.py, core/identity.py safety_number and core/fileshare.py the_file; strict
// decoders, and every authentication failure is one IntegrityError.
//
// HPKE (RFC 9180) base mode, single-shot Open, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-256-GCM, from the RFC's §4 (LabeledExtract/LabeledExpand), §4.1 (Decap,
// ExtractAndExpand) and §5.1/§5.2 (KeySchedule, Open at sequence 0), WebCrypto only.
import { FormatError, IntegrityError, concat, hkdfExpand, toHex, unpadBlock } from "/s/assets/linkcore.js";
import { Reader, compareBytes, equalBytes, label } from "./bytes.js";
import { aesOpen, ed25519Verify, hkdfSha256, sha256 } from "./crypto.js";
import { PolicyError, RollbackError } from "./formats.js";
import { checkName } from "./manifest.js";

const subtle = globalThis.crypto.subtle;
export const ROLE_READ = 1;
export const ROLE_WRITE = 2;
const NODE_FILE = 1;
const NODE_FOLDER = 2;
const SUITE_X25519 = 1;
const SUITE_MLKEM = 2;
const MAX_SEALED = 4096;
const MAX_MEMBERS = 1000;
const MAX_EMAIL = 320;
const PAD_ROSTER_NAME = 2 + 255 + 1;
const NAME_BOX_SIZE = 12 + 272 + 16; // nonce || AEAD(Padmé(258) = 272 bytes)
const ZERO = new Uint8Array(32);

// ---------------------------------------------------------------- HPKE Open (suite 1)

const HPKE_V1 = label("HPKE-v1");
const SUITE_KEM = concat(label("KEM"), new Uint8Array([0x00, 0x20]));
const SUITE_HPKE = concat(label("HPKE"), new Uint8Array([0x00, 0x20, 0x00, 0x01, 0x00, 0x02]));
const u16 = (n) => new Uint8Array([(n >> 8) & 0xff, n & 0xff]);

async function extract(salt, ikm) {
  const k = await subtle.importKey("raw", salt.length ? salt : ZERO, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, ikm));
}
const labeledExtract = (suite, salt, lbl, ikm) => extract(salt, concat(HPKE_V1, suite, label(lbl), ikm));
const labeledExpand = (suite, prk, lbl, info, length) =>
  hkdfExpand("SHA-256", prk, concat(u16(length), HPKE_V1, suite, label(lbl), info), length);

const X25519_PKCS8 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

/** RFC 9180 single-shot Open(skR, enc || ct, info, aad = "") in mode_base. */
export async function hpkeOpen(secret, publicKey, sealed, info) {
  if (sealed.length < 32 + 16) throw new IntegrityError();
  const enc = sealed.subarray(0, 32);
  let dh;
  try {
    const sk = await subtle.importKey("pkcs8", concat(X25519_PKCS8, secret), { name: "X25519" }, false, ["deriveBits"]);
    const pk = await subtle.importKey("raw", enc, { name: "X25519" }, false, []);
    // WebCrypto refuses an all-zero shared secret (a low-order point), as RFC 9180 §7.1.4 asks
    dh = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: pk }, sk, 256));
  } catch {
    throw new IntegrityError();
  }
  const empty = new Uint8Array(0);
  const prk = await labeledExtract(SUITE_KEM, empty, "eae_prk", dh);
  const shared = await labeledExpand(SUITE_KEM, prk, "shared_secret", concat(enc, publicKey), 32);
  const pskIdHash = await labeledExtract(SUITE_HPKE, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(SUITE_HPKE, empty, "info_hash", info);
  const context = concat(new Uint8Array([0x00]), pskIdHash, infoHash);
  const s = await labeledExtract(SUITE_HPKE, shared, "secret", empty);
  const key = await labeledExpand(SUITE_HPKE, s, "key", context, 32);
  const nonce = await labeledExpand(SUITE_HPKE, s, "base_nonce", context, 12);
  return aesOpen(key, nonce, sealed.subarray(32), empty);
}

// ---------------------------------------------------------------- envelopes (§15)

/**
 * Verify the sender's signature with their *pinned* identity (`sender`: a decoded
 * identity), check the envelope is for `me` ({fingerprint, suite, hpkeSecret, hpkePublic})
 * and open it: {shareId, nodeId, kind, keyVersion, role, key}.
 */
export async function openEnvelope(data, me, sender) {
  const r = new Reader(data);
  r.header("BVSE", 1);
  const suite = r.u8();
  if (suite !== SUITE_X25519 && suite !== SUITE_MLKEM) throw new FormatError("unknown envelope suite");
  const shareId = r.take(16).slice();
  const nodeId = r.take(16).slice();
  const kind = r.u8();
  const keyVersion = r.u64();
  const role = r.u8();
  if (![NODE_FILE, NODE_FOLDER].includes(kind) || ![ROLE_READ, ROLE_WRITE].includes(role)) {
    throw new FormatError("unknown envelope kind or role");
  }
  const senderFp = r.take(32);
  const recipientFp = r.take(32);
  const head = data.subarray(0, r.pos);
  const sealed = r.var16(MAX_SEALED);
  const signedLength = r.pos;
  const signature = r.take(64);
  r.finish();
  if (!equalBytes(senderFp, sender.fingerprint)) throw new IntegrityError();
  await ed25519Verify(sender.signPublic, "blindvault/v1/share-sig", data.subarray(0, signedLength), signature); // mutant: web.envelope-signature
  // mutant: web.envelope-recipient
  if (!equalBytes(recipientFp, me.fingerprint) || suite !== me.suite) throw new IntegrityError();
  if (suite !== SUITE_X25519) throw new PolicyError("Post-quantum shares cannot be opened in the browser yet: use the CLI.");
  const info = concat(label("blindvault/v1/share"), new Uint8Array([0]), head);
  const key = await hpkeOpen(me.hpkeSecret, me.hpkePublic, sealed, info);
  if (key.length !== 32) throw new IntegrityError();
  return { shareId, nodeId, kind: kind === NODE_FOLDER ? "folder" : "file", keyVersion, role, key };
}

// ---------------------------------------------------------------- rosters (§15)

/** Parse strictly and verify the owner's signature; for this owner and folder only. */
export async function openRoster(data, owner, nodeId, signer) {
  const r = new Reader(data);
  r.header("BVRS", 2);
  const gotOwner = r.take(16);
  const gotNode = r.take(16);
  const version = r.u64();
  const keyVersion = r.u64();
  const prevHash = r.take(32).slice();
  const ownerFp = r.take(32).slice();
  const count = r.u16();
  if (count > MAX_MEMBERS) throw new FormatError("too many members");
  const members = [];
  for (let i = 0; i < count; i++) {
    const fingerprint = r.take(32).slice();
    const role = r.u8();
    members.push({ fingerprint, role, email: r.text16(MAX_EMAIL) });
  }
  const nameBox = r.var16(NAME_BOX_SIZE).slice();
  const bodyLength = r.pos;
  const signature = r.take(64);
  r.finish();
  // mutant: web.roster-owner-node
  if (!equalBytes(gotOwner, owner) || !equalBytes(gotNode, nodeId) || !equalBytes(ownerFp, signer.fingerprint)) {
    throw new IntegrityError();
  }
  await ed25519Verify(signer.signPublic, "blindvault/v1/roster-sig", data.subarray(0, bodyLength), signature); // mutant: web.roster-signature
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const ordered = i === 0 || compareBytes(members[i - 1].fingerprint, m.fingerprint) < 0;
    if (![ROLE_READ, ROLE_WRITE].includes(m.role) || equalBytes(m.fingerprint, ownerFp) || !ordered) {
      throw new IntegrityError();
    }
  }
  if (version < 1 || keyVersion < 1 || nameBox.length !== NAME_BOX_SIZE) throw new IntegrityError();
  if ((version === 1) !== equalBytes(prevHash, ZERO)) throw new IntegrityError();
  const hash = await sha256(concat(label("blindvault/v1/roster-hash"), new Uint8Array([0]), data));
  return { owner, nodeId, version, keyVersion, prevHash, ownerFingerprint: ownerFp, members, nameBox, hash };
}

export const rosterMember = (roster, fingerprint) => roster.members.find((m) => equalBytes(m.fingerprint, fingerprint)) || null;

/** The folder's name, opened with the folder key of the roster's key version. */
export async function rosterName(roster, key) {
  const nameKey = await hkdfSha256(key, new Uint8Array(0), label("blindvault/v1/roster-name"), 32);
  const aad = concat(label("BVRS"), new Uint8Array([2]), roster.nodeId, u64(roster.keyVersion));
  const plain = await aesOpen(nameKey, roster.nameBox.subarray(0, 12), roster.nameBox.subarray(12), aad);
  try {
    return checkName(new TextDecoder("utf-8", { fatal: true }).decode(unpadBlock(plain, PAD_ROSTER_NAME)));
  } catch {
    throw new IntegrityError();
  }
}

function u64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/**
 * P-ROSTERFRESH: refuse a roster older than, or forked from, the one this browser saw
 * (`seen` is {version, hash (hex)}): a replay could revive a removed member.
 */
export function checkRosterFresh(seen, roster) {
  if (!seen) return;
  if (roster.version < seen.version) throw new RollbackError("The share's member list was rolled back."); // mutant: web.roster-fresh
  if (roster.version === seen.version && toHex(roster.hash) !== seen.hash) throw new RollbackError("The share's member list was forked.");
  if (roster.version === seen.version + 1 && toHex(roster.prevHash) !== seen.hash) {
    throw new RollbackError("The share's member list was forked.");
  }
}

// ---------------------------------------------------------------- safety numbers (§6)

/** 30 digits in six groups of five, derived from one fingerprint (as the CLI shows). */
export async function safetyNumber(fingerprint) {
  const digest = new Uint8Array(await subtle.digest("SHA-512", concat(label("blindvault/v1/safety-number"), new Uint8Array([0]), fingerprint)));
  const groups = [];
  for (let i = 0; i < 6; i++) {
    let v = 0;
    for (const b of digest.subarray(i * 5, i * 5 + 5)) v = v * 256 + b; // < 2^40: exact
    groups.push(String(v % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

// ---------------------------------------------------------------- single-file shares (§15a)

/** The one file of holder `nodeId`; anything else (another node's file, a folder, more
 * than one entry) is an integrity error. */
export function theFile(body, nodeId) {
  const e = body.entries;
  // mutant: web.holder-holds-its-file
  if (e.length !== 1 || e[0].kind !== "file" || !equalBytes(e[0].nodeId, nodeId)) {
    throw new IntegrityError();
  }
  return e[0];
}
