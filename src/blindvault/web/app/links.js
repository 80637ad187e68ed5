// Share links to files (§10): a fresh secret and link id, the descriptor sealed under the
// link key, and only the token (derived separately from the secret) sent to the server.
// The secret lives only in the URL fragment the page shows. (Folder links need a
// snapshot of the subtree: the CLI makes those.)
import { b64urlEncode, blobId, concat, linkKey, linkToken } from "/s/assets/linkcore.js";
import { Writer, b64, label, randomBytes } from "./bytes.js";
import { aesSeal } from "./crypto.js";
import { padBlock } from "./manifest.js";

export async function createFileLink(vault, entry, { password = null, expiresInSeconds = null, maxDownloads = null } = {}) {
  const linkId = randomBytes(16);
  const secret = randomBytes(32);
  const plain = new Writer()
    .u8(1)
    .fixed(entry.nodeId, 16)
    .fixed(entry.key, 32)
    .u64(entry.contentVersion)
    .u64(entry.size)
    .u64(entry.mtimeMs)
    .text16(entry.name)
    .bytes();
  const nonce = randomBytes(12);
  const aad = concat(label("BVLK"), new Uint8Array([2]), linkId, nonce);
  const key = await linkKey(secret, linkId, password);
  const descriptor = concat(aad, await aesSeal(key, nonce, padBlock(plain, 512), aad));
  await vault.api.post("/v1/links", {
    id: b64urlEncode(linkId),
    token: b64urlEncode(await linkToken(secret, linkId)),
    descriptor: b64(descriptor),
    kind: "file",
    password: password !== null,
    snapshot: {},
    blobs: [await blobId(entry.nodeId, entry.contentVersion)],
    expires_at: expiresInSeconds === null ? null : Date.now() / 1000 + expiresInSeconds,
    max_downloads: maxDownloads,
  });
  const origin = globalThis.location?.origin || "";
  return `${origin}/s/${b64urlEncode(linkId)}#v1.${b64urlEncode(secret)}${password !== null ? ".p" : ""}`;
}
