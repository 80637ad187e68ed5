// Resuming an upload cut short by a reload (or a closed tab), as the CLI's resume records
// do (client/net/transfer.py, resume_proof.py): when the same file (same folder, name,
// size and last-modified time) is picked again, the upload continues from the parts the
// server already has instead of starting over.
//
// The record (in this browser's IndexedDB, with the account's pins) holds the server's
// upload id, the part size, the node id, version and salt, and the file key *wrapped under
// the vault key* (BVWK kind 5, §4): at rest it opens only after a sign-in. The stream is
// sealed again with the same key and salt, so every part comes out the same; parts the
// server has are not sent again.
//
// P-NONCE: a file changed meanwhile but with the same size and time would put two
// plaintexts under one nonce. So before a part leaves the browser, a keyed hash of its
// exact bytes goes into the record (written ahead of the send); on resume every recorded
// part must hash the same, or the upload starts over with a fresh key (StaleResumeError).
// The hash key is derived from the file key, so the record reveals nothing of the content.
import { concat, fromHex, toHex } from "/s/assets/linkcore.js";
import { label } from "./bytes.js";
import { hkdfSha256 } from "./crypto.js";
import { WRAP, unwrapKey } from "./formats.js";
import { wrapKey } from "./signup.js";

const subtle = globalThis.crypto.subtle;

export class StaleResumeError extends Error {
  constructor() {
    super("the file changed since the interrupted upload: it starts over");
    this.name = "StaleResumeError";
  }
}

/** Which interrupted upload a picked file continues: its folder, name, size and time. */
export const resumeId = (folder, file) => `${toHex(folder.nodeId)}/${file.size}/${file.lastModified}/${file.name}`;

/** The record of an interrupted upload of this file, with its key unwrapped, or null. */
export async function pendingUpload(vault, id) {
  const rec = vault.state.uploads?.[id];
  if (!rec || !vault.vaultKey) return null;
  const nodeId = fromHex(rec.nodeId);
  try {
    const key = await unwrapKey(vault.vaultKey, fromHex(rec.wrapped), { kind: WRAP.fileKey, owner: vault.owner, object: nodeId, version: rec.version });
    return { ...rec, nodeId, key, salt: fromHex(rec.salt) };
  } catch {
    await forgetUpload(vault, id);
    return null;
  }
}

/** Remember a started upload (before its first part is sent). */
export async function rememberUpload(vault, id, { uploadId, partSize, nodeId, version, key, salt }) {
  if (!vault.vaultKey) return;
  const wrapped = await wrapKey(vault.vaultKey, WRAP.fileKey, key, vault.owner, nodeId, version);
  const rec = { uploadId, partSize, nodeId: toHex(nodeId), version, salt: toHex(salt), wrapped: toHex(wrapped), parts: {} };
  vault.state.uploads = { ...vault.state.uploads, [id]: rec };
  await vault.save();
}

export async function forgetUpload(vault, id) {
  if (!vault.state.uploads?.[id]) return;
  const { [id]: _, ...rest } = vault.state.uploads;
  vault.state.uploads = rest;
  await vault.save();
}

/**
 * The part guard of upload `id`: `guard(number, bytes)` records the part's keyed hash
 * before it is sent the first time, and refuses (StaleResumeError) a part that differs
 * from the one recorded.
 */
export async function partGuard(vault, id, key) {
  const macKey = await hkdfSha256(key, new Uint8Array(0), label("blindvault/v1/resume-part"), 32);
  const hmac = await subtle.importKey("raw", macKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return async (number, bytes) => {
    const rec = vault.state.uploads?.[id];
    if (!rec) return;
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigUint64(0, BigInt(number));
    const mac = toHex(new Uint8Array(await subtle.sign("HMAC", hmac, concat(n, bytes))));
    const old = rec.parts[number];
    if (old === undefined) {
      rec.parts[number] = mac;
      await vault.save(); // before the part is sent
      return;
    }
    if (old !== mac) throw new StaleResumeError(); // mutant: web.resume-same-parts
  };
}
