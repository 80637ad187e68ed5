// Password change in the browser (the CLI's `passwd`, client/account_keys.py
// replace_keys): the new password must pass the strength rule first; the current one
// is proven by re-opening this account's served key bundle with it (checked as at
// sign-in: owner, version, identity pins), then only the vault key's master wrap is
// replaced: the next bundle version, one object, whatever the number of files.
import { Writer, b64 } from "./bytes.js";
import { PolicyError } from "./formats.js";
import { DEFAULT_KDF, checkKdfParams, deriveKeys } from "./kdf.js";
import { wrapKey } from "./signup.js";
import { checkNewPassword } from "./strength.js";
import { openAccount } from "./vault.js";

/** The key bundle `b` (decoded) at its next version, Kvault wrapped under `master`. */
export async function rewrappedBundle(b, vaultKey, master) {
  const version = b.version + 1;
  return new Writer().header("BVKB", 1).fixed(b.owner, 16).u64(version).u64(b.recoveryVersion)
    .fixed(b.identityId, 16).u64(b.identityCreatedMs).fixed(b.rootNode, 16)
    .var16(await wrapKey(master, 1, vaultKey, b.owner, b.owner, version))
    .var16(b.vaultByRecovery).var16(b.identityByVault).var16(b.rootKeyByVault)
    .bytes();
}

export async function changePassword(vault, { current, next, argon2, estimate, acceptWeak = false, onStep = () => {} }) {
  onStep("Checking the new password's strength…");
  await checkNewPassword(next, vault.email, estimate, { acceptWeak });
  const kdf = vault.state.kdfPin || DEFAULT_KDF; // this browser's pin, as the CLI keeps its own
  checkKdfParams(kdf);
  onStep("Checking the current password…");
  const old = await deriveKeys(current, vault.email, kdf, argon2);
  let opened;
  try {
    opened = await openAccount(await vault.api.get("/v1/account"), vault.email, vault.state, old.master);
  } catch (e) {
    if (e?.name === "IntegrityError") throw new PolicyError("The current password is wrong (or the key bundle the server sent does not verify): nothing was changed.");
    throw e;
  }
  onStep("Deriving the new keys…");
  const keys = await deriveKeys(next, vault.email, kdf, argon2);
  const bundle = await rewrappedBundle(opened.bundle, opened.vault, keys.master);
  await vault.api.put("/v1/account/keys", {
    expected_version: opened.bundle.version, key_bundle: b64(bundle), kdf, auth_key: b64(keys.auth),
    proof: { auth_key: b64(old.auth) },
  });
  vault.state.bundleVersion = opened.bundle.version + 1;
  vault.state.kdfPin = kdf;
  await vault.save();
}
