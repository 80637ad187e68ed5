// A signed-in vault: sign-in (P-KDFFLOOR, P-BIND, P-OWNKEY), the signed root and the
// verified folder tree (P-FRESH), with compare-and-swap writes — the same rules as the
// Python client (client/account.py, client/tree/store.py).
import { IntegrityError, b64Decode, toHex } from "/s/assets/linkcore.js";
import { b64, equalBytes } from "./bytes.js";
import { ed25519Signer, x25519Public } from "./crypto.js";
import { PolicyError, RollbackError, checkFresh, decodeIdentity, decodeKeyBundle, openKeyBundle, openRoot, sealRoot } from "./formats.js";
import { accountId, checkLoginParams, deriveKeys, normalizeEmail } from "./kdf.js";
import { manifestHash, openVerified, sealManifest } from "./manifest.js";
import { ROLE_WRITE, checkRosterFresh, openRoster } from "./sharing.js";
import { nestedSpace, writers } from "./shares.js";

const ZERO = new Uint8Array(32);
const MAX_RETRIES = 20;
const EMPTY = Object.freeze({ entries: [], tombstones: [], trash: [] });

/** Check the served key bundle and identity against the account and this browser's pins. */
export async function openAccount(account, email, state, master) {
  const bundle = decodeKeyBundle(b64Decode(account.key_bundle));
  const owner = await accountId(email);
  // mutant: web.bundle-owner
  if (!equalBytes(bundle.owner, owner) || bundle.version !== account.key_bundle_version) {
    throw new IntegrityError();
  }
  if (bundle.version < state.bundleVersion) throw new RollbackError("The server returned an older key bundle."); // mutant: web.bundle-rollback
  const opened = await openKeyBundle(bundle, master);
  if (opened.secret.length !== 64) throw new PolicyError("Post-quantum accounts cannot sign in in the browser yet: use the CLI.");
  const signer = await ed25519Signer(opened.secret.subarray(0, 32));
  const served = await decodeIdentity(b64Decode(account.identity_bundle));
  const same =
    served.suite === 1 &&
    served.email === email &&
    served.createdMs === bundle.identityCreatedMs &&
    equalBytes(served.signPublic, signer.publicKey) &&
    equalBytes(served.hpkePublic, await x25519Public(opened.secret.subarray(32, 64)));
  if (!same) throw new PolicyError("The server publishes an identity key that is not this account's."); // mutant: web.own-identity
  const fingerprint = toHex(served.fingerprint);
  if (state.ownFingerprint && state.ownFingerprint !== fingerprint) {
    throw new PolicyError("This account's identity key changed since this browser pinned it.");
  }
  return { bundle, owner, signer, identity: served, fingerprint, ...opened };
}

export class Vault {
  /** Sign in: prelogin -> KDF policy -> derive -> session -> verified bundle and root. */
  static async signIn({ api, store, email, password, argon2, deviceName = "browser", onStep = () => {} }) {
    email = normalizeEmail(email);
    const state = await store.load(email);
    const { kdf } = await api.post("/v1/prelogin", { email });
    checkLoginParams(kdf, state.kdfPin); // P-KDFFLOOR: before anything is derived
    onStep("Deriving your keys…");
    const keys = await deriveKeys(password, email, kdf, argon2);
    const session = await api.post("/v1/sessions", { email, auth_key: b64(keys.auth), device_name: deviceName });
    api.token = session.token;
    onStep("Checking your keys…");
    const account = await api.get("/v1/account");
    const opened = await openAccount(account, email, state, keys.master);
    const vault = new Vault(api, store, email, state, opened, account);
    await vault.loadRoot();
    state.ownFingerprint = opened.fingerprint;
    state.bundleVersion = opened.bundle.version;
    state.kdfPin = kdf; // pinned (or raised) only after the login succeeded
    await vault.save();
    return vault;
  }

  constructor(api, store, email, state, opened, account) {
    this.api = api;
    this.store = store;
    this.email = email;
    this.state = state;
    this.owner = opened.owner;
    this.ownerHex = toHex(opened.owner);
    this.signer = opened.signer;
    this.fingerprint = opened.identity.fingerprint;
    this.identity = opened.identity; // this account's own (decoded, checked) identity
    this.hpkeSecret = opened.secret.slice(32, 64); // opens envelopes of shares (sharing.js)
    this.vaultKey = opened.vault; // wraps the file keys of interrupted uploads (resume.js)
    this.writers = new Map([[opened.fingerprint, opened.identity.signPublic]]);
    this.rootFolder = { nodeId: opened.bundle.rootNode, key: opened.rootKey, keyVersion: 1, name: "" };
    this.account = account;
    this.root = null;
    this.rootVersion = 0;
    this.mayLackRoot = false;
    this.nested = null; // the grant list nested shares are looked up in (shares.js)
  }

  save() {
    return this.store.save(this.email, this.state);
  }

  async signOut() {
    try {
      await this.api.del("/v1/sessions/current");
    } finally {
      this.api.token = "";
    }
  }

  // ---------------------------------------------------------------- the signed root (§8)

  async loadRoot() {
    const rec = await this.api.record("root", this.ownerHex);
    if (!rec) {
      if (this.state.rootSequence) throw new RollbackError("The account's signed root disappeared.");
      if (this.mayLackRoot) return null; // sign-up, before its first root
      throw new IntegrityError();
    }
    const root = await openRoot(rec.data, this.owner, this.writers.get(toHex(this.fingerprint)));
    const seen = this.state.rootSequence ? { version: this.state.rootSequence, hash: this.state.rootHash } : null;
    checkFresh(seen, root.sequence, root.prevHash, root.hash); // mutant: web.root-fresh
    this.root = root;
    this.rootVersion = rec.version;
    this.state.rootSequence = root.sequence;
    this.state.rootHash = toHex(root.hash);
    return root;
  }

  headOf(nodeId) {
    return this.root?.heads.find((h) => equalBytes(h.nodeId, nodeId)) || null;
  }

  async advanceRoot(head, removed = null) {
    for (let i = 0; i < MAX_RETRIES; i++) {
      const root = (await this.loadRoot()) || { sequence: 0, hash: ZERO, heads: [], rosters: [] };
      const heads = new Map(root.heads.map((h) => [toHex(h.nodeId), h]));
      if (head) {
        const old = heads.get(toHex(head.nodeId));
        if (old && old.version > head.version) return; // another device went further
        heads.set(toHex(head.nodeId), head);
      }
      if (removed) heads.delete(toHex(removed));
      const data = await sealRoot(this.owner, root.sequence + 1, root.hash, [...heads.values()], root.rosters, this.signer);
      if (await this.api.putRecord("root", this.ownerHex, root.sequence ? this.rootVersion : 0, data)) {
        this.mayLackRoot = false;
        await this.loadRoot();
        return;
      }
    }
    throw new Error("The signed root kept changing: try again.");
  }

  // ---------------------------------------------------------------- folders (§7)

  /**
   * Fetch, verify and freshness-check a folder: {nodeId, key, keyVersion, version, hash, body}.
   * A folder of an accepted share carries its `space` ({query, writers}, shares.js): its
   * records live there and only the roster's writers may have signed it (P-ROSTER).
   */
  async read(folder, { create = false } = {}) {
    const hex = toHex(folder.nodeId);
    if (!folder.space) folder.space = await this.spaceBelow(folder.within || null, folder.nodeId); // the subtree follows it
    const rec = await this.api.record("manifest", hex, folder.space?.query);
    if (!rec) {
      if (this.state.heads[hex] || this.headOf(folder.nodeId)) {
        throw new RollbackError("A folder this browser has seen disappeared.");
      }
      if (!create) throw new IntegrityError(); // named by its signed parent, so it must exist
      return { ...folder, version: 0, hash: null, body: EMPTY };
    }
    const m = await openVerified(rec.data, folder.key, folder.nodeId, folder.space?.writers || this.writers);
    if (rec.version !== m.version) throw new IntegrityError();
    checkFresh(this.state.heads[hex], m.version, m.prevHash, m.hash); // mutant: web.manifest-fresh
    const rootHead = this.headOf(folder.nodeId);
    // mutant: web.manifest-root-fresh
    if (rootHead) checkFresh({ version: rootHead.version, hash: toHex(rootHead.hash) }, m.version, m.prevHash, m.hash);
    this.state.heads[hex] = { version: m.version, hash: toHex(m.hash) };
    return { ...folder, keyVersion: m.keyVersion, version: m.version, hash: m.hash, body: { entries: m.entries, tombstones: m.tombstones, trash: m.trash } };
  }

  /** Apply `change` (body -> body) to the folder's current body; retry on a lost race. */
  async update(folder, change, { create = false } = {}) {
    for (let i = 0; i < MAX_RETRIES; i++) {
      const cur = await this.read(folder, { create });
      const body = change(cur.body);
      const sealed = await sealManifest(body, folder.key, {
        nodeId: folder.nodeId,
        version: cur.version + 1,
        keyVersion: cur.keyVersion,
        prevHash: cur.hash || ZERO,
        writer: this.fingerprint,
        signer: this.signer,
      });
      if (!(await this.api.putRecord("manifest", toHex(folder.nodeId), cur.version, sealed, folder.space?.query))) continue;
      const hash = await manifestHash(sealed);
      this.state.heads[toHex(folder.nodeId)] = { version: cur.version + 1, hash: toHex(hash) };
      await this.advanceRoot({ nodeId: folder.nodeId, version: cur.version + 1, hash });
      await this.save();
      return { before: cur.body, after: body };
    }
    throw new Error("The folder kept changing: try again.");
  }

  /**
   * The space of a folder, from the space of the folder around it (`around`; null in the
   * private tree) — client/spaces.py `Spaces.below`. One of this account's own folders is
   * in a shared space of its own when its own signed root names its roster (a folder
   * shared inside a shared folder too: a nested share, issue 19), else in `around`; a
   * folder in another account's share, see shares.js `nestedSpace`.
   */
  async spaceBelow(around, nodeId) {
    if (!around) return this.ownSpace(nodeId);
    // mutant: web.nested-own-space
    if (!around.owner) return (await this.ownSpace(nodeId)) || around;
    return nestedSpace(this, around, nodeId);
  }

  /**
   * The shared space of one of this account's own folders that the CLI shared (its signed
   * root names the folder's roster), or null: its subtree's records live there, and the
   * read-write members the owner-signed roster names may write it (P-ROSTER).
   */
  async ownSpace(nodeId) {
    const bound = this.root?.rosters.find((h) => equalBytes(h.nodeId, nodeId));
    if (!bound) return null;
    const hex = toHex(nodeId);
    const rec = await this.api.record("roster", hex);
    if (!rec) throw new IntegrityError(); // the signed root names it
    const roster = await openRoster(rec.data, this.owner, nodeId, this.identity);
    checkRosterFresh({ version: bound.version, hash: toHex(bound.hash) }, roster); // mutant: web.own-roster-fresh
    const found = await writers(this, roster, this.identity);
    return { query: `space=${hex}`, writers: found, role: ROLE_WRITE };
  }

  /** Delete a folder's manifest record (its entry already has a tombstone). */
  async drop(nodeId, space = null) {
    const hex = toHex(nodeId);
    const rec = await this.api.record("manifest", hex, space?.query);
    if (rec) await this.api.del(`/v1/records/manifest/${hex}?expected_version=${rec.version}${space ? `&${space.query}` : ""}`);
    delete this.state.heads[hex];
    await this.advanceRoot(null, nodeId);
    await this.save();
  }
}
