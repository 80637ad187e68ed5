// The primitives the vault app needs beyond linkcore.js, all from WebCrypto (no
// home-made crypto): AES-256-GCM seal/open, Ed25519 from a seed, sign and verify.
import { IntegrityError, concat, hkdfSha256, sha256 } from "/s/assets/linkcore.js";
import { label, randomBytes } from "./bytes.js";

const subtle = globalThis.crypto.subtle;
export { hkdfSha256, sha256 };

export async function aesSeal(rawKey, nonce, plain, aad) {
  const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);
  const opts = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
  return new Uint8Array(await subtle.encrypt(opts, key, plain));
}

export async function aesOpen(rawKey, nonce, sealed, aad) {
  try {
    const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
    const opts = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
    return new Uint8Array(await subtle.decrypt(opts, key, sealed));
  } catch {
    throw new IntegrityError();
  }
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), so WebCrypto can import it.
const ED25519_PKCS8 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function fromB64url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** A signer from an Ed25519 seed: {publicKey (32 bytes), sign(domain, message)}. */
export async function ed25519Signer(seed) {
  const key = await subtle.importKey("pkcs8", concat(ED25519_PKCS8, seed), "Ed25519", true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", key);
  const publicKey = fromB64url(jwk.x);
  const signer = await subtle.importKey("jwk", { ...jwk, key_ops: ["sign"] }, "Ed25519", false, ["sign"]);
  return {
    publicKey,
    sign: async (domain, message) =>
      new Uint8Array(await subtle.sign("Ed25519", signer, concat(label(domain), new Uint8Array([0]), message))),
  };
}

/** Verify `sig` over domain || 0x00 || message; any failure is one IntegrityError. */
export async function ed25519Verify(publicKey, domain, message, sig) {
  let ok = false;
  try {
    const key = await subtle.importKey("raw", publicKey, "Ed25519", false, ["verify"]);
    ok = await subtle.verify("Ed25519", key, sig, concat(label(domain), new Uint8Array([0]), message));
  } catch {
    ok = false;
  }
  if (!ok) throw new IntegrityError();
}

/** The X25519 public key of a 32-byte secret (to check an identity against its bundle). */
export async function x25519Public(secret) {
  const pkcs8 = concat(
    Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]),
    secret,
  );
  const key = await subtle.importKey("pkcs8", pkcs8, "X25519", true, ["deriveBits"]);
  return fromB64url((await subtle.exportKey("jwk", key)).x);
}

export { randomBytes };
