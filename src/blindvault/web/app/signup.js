// Sign up in the browser (§3, §4, §6, §11, §12), as `blindvault signup` does: keys from
// the password with the default Argon2id, a fresh vault key, identity and root folder,
// a 256-bit recovery key shown once as 24 BIP39 words, and the account's first (empty)
// root folder manifest and signed root. Only the auth key and recovery auth key (slow-
// hashed by the server), the sealed key bundle and the public identity bundle are sent.
import { concat, hkdfSha256, sha256, toHex } from "/s/assets/linkcore.js";
import { Writer, b64, label, randomBytes } from "./bytes.js";
import { aesSeal, ed25519Signer, x25519Public } from "./crypto.js";
import { decodeIdentity, decodeKeyBundle, openKeyBundle } from "./formats.js";
import { DEFAULT_KDF, accountId, deriveKeys, normalizeEmail } from "./kdf.js";
import { Vault } from "./vault.js";

const WRAP_NAMES = { 1: "vault-by-master", 2: "vault-by-recovery", 3: "identity-by-vault", 4: "folder-key", 5: "file-key" };

export async function wrapKey(wrapping, kind, payload, owner, object, version) {
  const head = new Writer().header("BVWK", 1).u8(kind).u64(version).fixed(owner, 16).fixed(object, 16).bytes();
  const subkey = await hkdfSha256(wrapping, new Uint8Array(0), label(`blindvault/v1/wrap/${WRAP_NAMES[kind]}`), 32);
  const nonce = randomBytes(12);
  return concat(head, nonce, await aesSeal(subkey, nonce, payload, head));
}

/** 24 BIP39 words of a 32-byte key: 256 bits and the first 8 bits of its SHA-256. */
export async function recoveryWords(key, wordlist) {
  const bits = [...key, (await sha256(key))[0]].map((b) => b.toString(2).padStart(8, "0")).join("");
  return Array.from({ length: 24 }, (_, i) => wordlist[parseInt(bits.slice(11 * i, 11 * i + 11), 2)]);
}

async function identityBundle(email, createdMs, seed, xSecret) {
  const signer = await ed25519Signer(seed);
  const body = new Writer().header("BVID", 1).u8(1).text16(email).u64(createdMs)
    .fixed(signer.publicKey, 32).fixed(await x25519Public(xSecret), 32).bytes();
  return concat(body, await signer.sign("blindvault/v1/identity-sig", body));
}

/** Create the account; returns {vault, words}. `wordlist` is the pinned BIP39 list. */
export async function signUp({ api, store, email, password, argon2, wordlist, deviceName = "browser", onStep = () => {} }) {
  email = normalizeEmail(email);
  const state = await store.load(email);
  onStep("Deriving your keys…");
  const keys = await deriveKeys(password, email, DEFAULT_KDF, argon2);
  const owner = await accountId(email);
  const recovery = randomBytes(32);
  const words = await recoveryWords(recovery, wordlist);
  const recoveryAuth = await hkdfSha256(recovery, new Uint8Array(0), label("blindvault/v1/recovery-auth"), 32);
  const [vaultKey, rootKey, seed, xSecret] = [randomBytes(32), randomBytes(32), randomBytes(32), randomBytes(32)];
  const [identityId, rootNode] = [randomBytes(16), randomBytes(16)];
  const createdMs = Date.now();
  const identity = await identityBundle(email, createdMs, seed, xSecret);
  const bundle = new Writer().header("BVKB", 1).fixed(owner, 16).u64(1).u64(1).fixed(identityId, 16)
    .u64(createdMs).fixed(rootNode, 16)
    .var16(await wrapKey(keys.master, 1, vaultKey, owner, owner, 1))
    .var16(await wrapKey(recovery, 2, vaultKey, owner, owner, 1))
    .var16(await wrapKey(vaultKey, 3, concat(seed, xSecret), owner, identityId, 1))
    .var16(await wrapKey(vaultKey, 4, rootKey, owner, rootNode, 1))
    .bytes();
  onStep("Creating the account…");
  await api.post("/v1/accounts", {
    email, kdf: DEFAULT_KDF, auth_key: b64(keys.auth), recovery_auth_key: b64(recoveryAuth),
    key_bundle: b64(bundle), identity_bundle: b64(identity),
  });
  const session = await api.post("/v1/sessions", { email, auth_key: b64(keys.auth), device_name: deviceName });
  api.token = session.token;
  // The vault as a sign-in would open it, from what was just made (nothing to verify yet).
  const decoded = decodeKeyBundle(bundle);
  const opened = await openKeyBundle(decoded, keys.master);
  const id = await decodeIdentity(identity);
  const fingerprint = toHex(id.fingerprint);
  const vault = new Vault(api, store, email, state, {
    bundle: decoded, owner, signer: await ed25519Signer(seed), identity: id, fingerprint, ...opened,
  }, null);
  vault.mayLackRoot = true; // only until the first signed root is written
  await vault.update(vault.rootFolder, (b) => b, { create: true });
  Object.assign(state, { kdfPin: DEFAULT_KDF, ownFingerprint: fingerprint, bundleVersion: 1 });
  await vault.save();
  recovery.fill(0);
  return { vault, words };
}
