// Password -> keys (§3) and the KDF policy a browser login applies (P-KDFFLOOR): the
// parameters the server announces are checked against the hard floor and ceiling, this
// browser's pin, and — with no pin — the default Argon2id m=64 MiB t=3 p=4, all BEFORE the
// password is touched, so a lowered KDF sends nothing derived from it.
import { concat, hkdfSha256, sha256 } from "/s/assets/linkcore.js";
import { label, normalizeEmail as normalizeEmailOrNull, utf8Encode } from "./bytes.js";
import { PolicyError } from "./formats.js";

export const DEFAULT_KDF = { alg: "argon2id", m: 65536, t: 3, p: 4 };
const FLOOR = { m: 19456, t: 2, p: 1 };
const CEILING = { m: 4 * 1024 * 1024, t: 64, p: 64 };
const PBKDF2_FLOOR = 600_000;
const PBKDF2_CEILING = 10_000_000;

export class KdfPolicyError extends PolicyError {
  constructor(message) {
    super(message);
    this.name = "KdfPolicyError";
  }
}

export function normalizeEmail(email) {
  const norm = normalizeEmailOrNull(email);
  if (norm === null) throw new PolicyError("That is not an email address.");
  return norm;
}

export async function accountId(email) {
  return (await sha256(concat(label("blindvault/v1/account-id"), new Uint8Array([0]), utf8Encode(email)))).slice(0, 16);
}

export async function kdfSalt(email) {
  return sha256(concat(label("blindvault/v1/kdf-salt"), new Uint8Array([0]), utf8Encode(email)));
}

const describe = (k) => (k.alg === "argon2id" ? `Argon2id m=${k.m} KiB t=${k.t} p=${k.p}` : `${k.alg}`);

/** The hard floor and ceiling of §3 for either algorithm (what every device applies). */
export function checkKdfParams(kdf) {
  if (kdf?.alg === "pbkdf2-sha256") {
    if (!Number.isSafeInteger(kdf.i) || kdf.i < PBKDF2_FLOOR || kdf.i > PBKDF2_CEILING) {
      throw new KdfPolicyError(`PBKDF2 iterations out of range: ${kdf.i}`);
    }
    return;
  }
  checkArgon2(kdf);
}

/** Throws KdfPolicyError unless `kdf` (from prelogin) may be used on this browser. */
export function checkLoginParams(kdf, pinned) {
  checkArgon2(kdf);
  const floor = pinned || DEFAULT_KDF;
  // mutant: web.kdf-floor
  if (kdf.m < floor.m || kdf.t < floor.t || (!pinned && kdf.p < floor.p)) {
    throw new KdfPolicyError(
      `The server lowered the password hashing cost to ${describe(kdf)} (this browser accepts ${describe(floor)} or stronger). Nothing derived from your password was sent.`,
    );
  }
}

function checkArgon2(kdf) {
  const keys = kdf && typeof kdf === "object" ? Object.keys(kdf).join(",") : "";
  if (keys !== "alg,m,t,p" || kdf.alg !== "argon2id" || ![kdf.m, kdf.t, kdf.p].every(Number.isSafeInteger)) {
    throw new KdfPolicyError("The server asks for a password hashing scheme this app does not use (only Argon2id). Nothing was sent.");
  }
  if (kdf.m < FLOOR.m || kdf.t < FLOOR.t || kdf.p < FLOOR.p || kdf.m < 8 * kdf.p) {
    throw new KdfPolicyError(`The server asks for password hashing below the floor (${describe(kdf)}). Nothing derived from your password was sent.`);
  }
  if (kdf.m > CEILING.m || kdf.t > CEILING.t || kdf.p > CEILING.p) {
    throw new KdfPolicyError(`The server asks for password hashing above the ceiling (${describe(kdf)}).`);
  }
}

async function pbkdf2(pw, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", pw, "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
}

/**
 * stretched = Argon2id(pw, salt, m, t, p) (or PBKDF2-SHA-256 for the accounts that chose
 * it; sign-in refuses it before this point); Km and auth_key by HKDF (§3).
 */
export async function deriveKeys(password, email, kdf, argon2) {
  const pw = utf8Encode(String(password).normalize("NFKC"));
  const salt = await kdfSalt(email);
  const stretched =
    kdf.alg === "pbkdf2-sha256"
      ? await pbkdf2(pw, salt, kdf.i)
      : await argon2({ password: pw, salt, m: kdf.m, t: kdf.t, p: kdf.p });
  const empty = new Uint8Array(0);
  const master = await hkdfSha256(stretched, empty, label("blindvault/v1/master-key"), 32);
  const auth = await hkdfSha256(stretched, empty, label("blindvault/v1/auth-key"), 32);
  stretched.fill(0);
  return { master, auth };
}

/** Argon2id in the pinned worker; one worker per call, ended after. */
export function workerArgon2(makeWorker) {
  return async (args) => {
    const worker = await makeWorker();
    try {
      return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => (e.data.ok ? resolve(new Uint8Array(e.data.out)) : reject(new Error(e.data.message)));
        worker.onerror = () => reject(new Error("the key derivation worker failed"));
        worker.postMessage(args);
      });
    } finally {
      worker.terminate();
    }
  };
}
