// Format v1 objects a signed-in device reads and writes (docs/spec/format-v1.md):
// wrapped keys (§4), identity bundles (§6), signed roots (§8), key bundles (§12).
// Decoders are strict; every authentication failure is one IntegrityError.
import { FormatError, IntegrityError, concat, toHex } from "/s/assets/linkcore.js";
import { Reader, Writer, compareBytes, equalBytes, label, normalizeEmail } from "./bytes.js";
import { aesOpen, ed25519Verify, hkdfSha256, sha256 } from "./crypto.js";

export class RollbackError extends Error {
  constructor(message = "the server returned older or forked state than this browser has seen") {
    super(message);
    this.name = "RollbackError";
  }
}
export class PolicyError extends Error {
  constructor(message) {
    super(message);
    this.name = "PolicyError";
  }
}

const ZERO = new Uint8Array(32);
export const WRAP = { vaultByMaster: 1, vaultByRecovery: 2, identity: 3, folderKey: 4, fileKey: 5 };
const WRAP_NAMES = { 1: "vault-by-master", 2: "vault-by-recovery", 3: "identity-by-vault", 4: "folder-key", 5: "file-key" };
const WRAP_SIZES = { 1: [32], 2: [32], 3: [64, 128], 4: [32], 5: [32] };

/** Open a BVWK wrapped key of the expected kind, owner, object and version (§4). */
export async function unwrapKey(wrappingKey, data, { kind, owner, object, version }) {
  const r = new Reader(data);
  r.header("BVWK", 1);
  const gotKind = r.u8();
  const gotVersion = r.u64();
  const gotOwner = r.take(16);
  const gotObject = r.take(16);
  const head = data.subarray(0, r.pos);
  const nonce = r.take(12);
  const sealed = data.subarray(r.pos);
  if (!WRAP_NAMES[gotKind] || !WRAP_SIZES[gotKind].includes(sealed.length - 16)) {
    throw new FormatError("wrapped key of unknown kind or size");
  }
  if (gotKind !== kind || gotVersion !== version || !equalBytes(gotOwner, owner) || !equalBytes(gotObject, object)) {
    throw new IntegrityError();
  }
  const subkey = await hkdfSha256(wrappingKey, new Uint8Array(0), label(`blindvault/v1/wrap/${WRAP_NAMES[kind]}`), 32);
  return aesOpen(subkey, nonce, sealed, head);
}

/** BVKB (§12): the clear fields and the four wrapped parts. */
export function decodeKeyBundle(data) {
  const r = new Reader(data);
  r.header("BVKB", 1);
  const b = {
    owner: r.take(16).slice(),
    version: r.u64(),
    recoveryVersion: r.u64(),
    identityId: r.take(16).slice(),
    identityCreatedMs: r.u64(),
    rootNode: r.take(16).slice(),
  };
  [b.vaultByMaster, b.vaultByRecovery, b.identityByVault, b.rootKeyByVault] = [0, 1, 2, 3].map(() =>
    r.var16(4096).slice(),
  );
  r.finish();
  return b;
}

/**
 * Unwrap Kvault, the identity secret and the root folder key with the master key (or,
 * with `recovery`, with the recovery key).
 */
export async function openKeyBundle(b, master, { recovery = false } = {}) {
  const owner = b.owner;
  const vault = recovery
    ? await unwrapKey(master, b.vaultByRecovery, { kind: 2, owner, object: owner, version: b.recoveryVersion })
    : await unwrapKey(master, b.vaultByMaster, { kind: 1, owner, object: owner, version: b.version });
  const secret = await unwrapKey(vault, b.identityByVault, { kind: 3, owner, object: b.identityId, version: 1 });
  const rootKey = await unwrapKey(vault, b.rootKeyByVault, { kind: 4, owner, object: b.rootNode, version: 1 });
  return { vault, secret, rootKey };
}

const HPKE_PUBLIC = { 1: 32, 2: 1184 + 32 };

/** BVID (§6): parsed, self-signature verified, with its fingerprint. */
export async function decodeIdentity(data) {
  const r = new Reader(data);
  r.header("BVID", 1);
  const suite = r.u8();
  if (!HPKE_PUBLIC[suite]) throw new FormatError("unknown identity suite");
  const email = r.text16(320);
  if (normalizeEmail(email) !== email) throw new FormatError("identity email not normalized");
  const createdMs = r.u64();
  const signPublic = r.take(32).slice();
  const hpkePublic = r.take(HPKE_PUBLIC[suite]).slice();
  const body = data.subarray(0, r.pos);
  const signature = r.take(64);
  r.finish();
  await ed25519Verify(signPublic, "blindvault/v1/identity-sig", body, signature); // mutant: web.identity-signature
  return { suite, email, createdMs, signPublic, hpkePublic, fingerprint: await fingerprintOf(body) };
}

const fingerprintOf = async (body) => sha256(concat(label("blindvault/v1/fingerprint"), new Uint8Array([0]), body));

/** The fingerprint of the suite-1 identity with these public keys (rebuilt, as §6 writes it). */
export async function identityFingerprint(email, createdMs, signPublic, hpkePublic) {
  const body = new Writer().header("BVID", 1).u8(1).text16(email).u64(createdMs).fixed(signPublic, 32).fixed(hpkePublic, 32);
  return fingerprintOf(body.bytes());
}

function readHeads(r) {
  const n = r.u32();
  if (n > 1_000_000 || n > r.bytes.length - r.pos) throw new FormatError("too many heads");
  const heads = [];
  for (let i = 0; i < n; i++) heads.push({ nodeId: r.take(16).slice(), version: r.u64(), hash: r.take(32).slice() });
  for (let i = 1; i < n; i++) {
    if (compareBytes(heads[i - 1].nodeId, heads[i].nodeId) >= 0) throw new FormatError("heads not in order");
  }
  return heads;
}

/** BVRT (§8): parse, verify the owner's signature, check owner and chain start. */
export async function openRoot(data, owner, signPublic) {
  const r = new Reader(data);
  r.header("BVRT", 2);
  const gotOwner = r.take(16);
  const sequence = r.u64();
  const prevHash = r.take(32).slice();
  const heads = readHeads(r);
  const rosters = readHeads(r);
  const body = data.subarray(0, r.pos);
  const signature = r.take(64);
  r.finish();
  await ed25519Verify(signPublic, "blindvault/v1/root-sig", body, signature); // mutant: web.root-signature
  if (!equalBytes(gotOwner, owner) || sequence < 1 || (sequence === 1) !== equalBytes(prevHash, ZERO)) {
    throw new IntegrityError();
  }
  const hash = await sha256(concat(label("blindvault/v1/root-hash"), new Uint8Array([0]), data));
  return { sequence, prevHash, heads, rosters, hash };
}

export async function sealRoot(owner, sequence, prevHash, heads, rosters, signer) {
  const sorted = (list) => [...list].sort((a, b) => compareBytes(a.nodeId, b.nodeId));
  const w = new Writer().header("BVRT", 2).fixed(owner, 16).u64(sequence).fixed(prevHash, 32);
  for (const list of [sorted(heads), sorted(rosters)]) {
    w.u32(list.length);
    for (const h of list) w.fixed(h.nodeId, 16).u64(h.version).fixed(h.hash, 32);
  }
  const body = w.bytes();
  return concat(body, await signer.sign("blindvault/v1/root-sig", body));
}

/**
 * Freshness (P-FRESH): refuse a lower version, another hash at the same version, and
 * version n+1 whose prev_hash is not the hash seen at n. `seen` is {version, hash(hex)}.
 */
export function checkFresh(seen, version, prevHash, hash) {
  if (!seen) return;
  if (version < seen.version) throw new RollbackError();
  if (version === seen.version && toHex(hash) !== seen.hash) throw new RollbackError();
  if (version === seen.version + 1 && toHex(prevHash) !== seen.hash) throw new RollbackError();
}
