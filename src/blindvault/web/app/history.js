// The trash and a file's versions (issue 14's semantics, client/trash.py and
// client/history.py): the trash lives in each folder's signed manifest (body 4), so what
// is listed here is as authentic and fresh as the folder listing itself.
import { blobId } from "/s/assets/linkcore.js";
import { ApiError } from "./api.js";
import { equalBytes } from "./bytes.js";
import { UsageError, find } from "./edits.js";
import { child, uploadFiles } from "./ops.js";
import { fetchFile, scope } from "./transfer.js";

const isNode = (node) => (t) => equalBytes(t.entry.nodeId, node);

/** Every live folder from `root` down: [{folder, parts}] (parts: names from the root). */
async function folders(vault, root) {
  const out = [];
  const walk = async (folder, parts) => {
    const f = await vault.read(folder);
    out.push({ folder, parts, body: f.body });
    for (const e of f.body.entries) if (e.kind === "folder") await walk(child(e, folder), [...parts, e.name]);
  };
  await walk(root, []);
  await vault.save();
  return out;
}

/** Everything in the trash, the most recently deleted first: [{folder, path, item}]. */
export async function trashItems(vault, root) {
  const found = [];
  for (const { folder, parts, body } of await folders(vault, root)) {
    for (const item of body.trash || []) {
      found.push({ folder, path: `/${[...parts, item.entry.name].join("/")}`, item });
    }
  }
  return found.sort((a, b) => b.item.deletedMs - a.item.deletedMs || a.path.localeCompare(b.path));
}

/** Back where it was (the CLI's `trash restore PATH`): a name taken meanwhile is refused. */
export async function restoreFromTrash(vault, { folder, path, item }) {
  const node = item.entry.nodeId;
  await vault.update(folder, (body) => {
    if (!(body.trash || []).some(isNode(node))) throw new UsageError("That item is no longer in the trash.");
    if (find(body, item.entry.name)) throw new UsageError(`${path} exists already: rename or move it first.`);
    return {
      entries: [...body.entries, item.entry],
      tombstones: body.tombstones.filter((t) => !equalBytes(t.nodeId, node)),
      trash: body.trash.filter((t) => !isNode(node)(t)),
    };
  });
}

async function deleteBlob(vault, nodeId, version, space) {
  try {
    await vault.api.del(`/v1/blobs/${await blobId(nodeId, version)}${scope(space)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
}

/** The server objects of an entry nothing names any more (client/trash.py destroy). */
async function destroy(vault, entry, space = null) {
  if (entry.kind === "file") {
    for (const v of [entry, ...entry.history]) await deleteBlob(vault, entry.nodeId, v.contentVersion, space);
    return;
  }
  const folder = child(entry, { space });
  const f = await vault.read(folder);
  for (const e of [...f.body.entries, ...(f.body.trash || []).map((t) => t.entry)]) await destroy(vault, e, folder.space);
  await vault.drop(entry.nodeId, folder.space);
}

/** Delete for good everything in the trash (the CLI's `trash empty`); returns how many. */
export async function emptyTrash(vault, root) {
  const all = await folders(vault, root);
  const live = all.flatMap(({ body }) => body.entries.map((e) => e.nodeId));
  let gone = 0;
  for (const { folder, body } of all) {
    const items = body.trash || [];
    if (!items.length) continue;
    const nodes = items.map((t) => t.entry.nodeId);
    await vault.update(folder, (b) => ({ ...b, trash: (b.trash || []).filter((t) => !nodes.some((n) => equalBytes(n, t.entry.nodeId))) }));
    for (const { entry } of items) {
      if (!live.some((n) => equalBytes(n, entry.nodeId))) await destroy(vault, entry, folder.space); // else still named: kept
      gone++;
    }
  }
  await vault.save();
  return gone;
}

/** A file's versions, the current one first (the CLI's `versions PATH`). */
export function versionsOf(entry) {
  return [entry, ...entry.history].map((v, i) => ({
    contentVersion: v.contentVersion, key: v.key, size: v.size, mtimeMs: v.mtimeMs, writtenMs: v.writtenMs,
    writer: v.writer, current: i === 0,
  }));
}

/**
 * Write version `v` of `entry` (in `folder`) as a new version of the file (the CLI's
 * `restore PATH --version N`): downloaded and verified first, then uploaded again.
 */
export async function restoreVersion(vault, folder, entry, v, { signal, sealer } = {}) {
  if (v.current) throw new UsageError(`Version ${v.contentVersion} is the current one already.`);
  const old = { ...entry, key: v.key, contentVersion: v.contentVersion, size: v.size };
  const blob = await fetchFile(vault.api, old, { signal });
  const file = new File([blob], entry.name, { lastModified: v.mtimeMs });
  await uploadFiles(vault, folder, [file], { signal, sealer });
}
