// What the app does with a vault, folder by folder: list, mkdir, rename, move, delete,
// upload (files and folder trees) — the Python client's rules (client/files.py, uploads.py,
// trash.py).
import { blobId } from "/s/assets/linkcore.js";
import { equalBytes, randomBytes } from "./bytes.js";
import { add, find, remove, rename, replaced, toTrash, upsert, UsageError } from "./edits.js";
import { checkName } from "./manifest.js";
import { SMALL_BLOB, scope, sendFile } from "./transfer.js";
import { ApiError } from "./api.js";
import { StaleResumeError, forgetUpload, partGuard, pendingUpload, rememberUpload, resumeId } from "./resume.js";

const PARALLEL = 4;

// A sub-folder of `parent` (read already): its space is decided when it is read, from the
// space around it (`within`): the same one, unless the folder is shared on its own (a
// nested share, issue 19: vault.js `spaceBelow`).
export const child = (entry, parent = null) => ({
  nodeId: entry.nodeId, key: entry.key, keyVersion: entry.keyVersion, name: entry.name, space: null, within: parent?.space || null,
});

export async function list(vault, folder) {
  const f = await vault.read(folder);
  await vault.save();
  return f.body.entries;
}

export async function mkdir(vault, parent, name, { existOk = false } = {}) {
  checkName(name);
  const folder = { nodeId: randomBytes(16), key: randomBytes(32), keyVersion: 1, name, space: parent.space || null };
  await vault.update(folder, (b) => b, { create: true }); // before anything names it
  const entry = { kind: "folder", name, nodeId: folder.nodeId, key: folder.key, keyVersion: 1, mtimeMs: Date.now() };
  let existing = null;
  try {
    await vault.update(parent, (body) => {
      existing = find(body, name);
      if (existing?.kind === "folder" && existOk) return body;
      return add(body, entry);
    });
  } catch (e) {
    await vault.drop(folder.nodeId, folder.space);
    throw e;
  }
  if (existing) {
    await vault.drop(folder.nodeId, folder.space); // named by nothing
    return child(existing, parent);
  }
  return folder;
}

export async function renameEntry(vault, parent, entry, newName) {
  checkName(newName);
  await vault.update(parent, (body) => {
    const cur = find(body, entry.name);
    if (!cur) throw new UsageError(`${entry.name} is gone`);
    return rename(body, cur, newName);
  });
}

/**
 * Move into another folder: add there first, then remove here (a crash leaves a copy).
 * Only within one space: an item moving between your own folders and a shared folder must
 * be re-encrypted and its blobs moved into the other space, which `blindvault mv` does and
 * the browser does not (yet); its blobs would otherwise stay where the other side's
 * members cannot read them.
 */
export async function moveEntry(vault, parent, entry, target) {
  const spaceOf = async (folder) => (await vault.read(folder), folder.space?.query || "");
  // mutant: web.move-one-space
  if ((await spaceOf(parent)) !== (await spaceOf(target))) {
    throw new UsageError("Moving between a shared folder and your other folders re-encrypts what moves: use `blindvault mv` for that.");
  }
  await vault.update(target, (body) => add(body, entry));
  await vault.update(parent, (body) => remove(body, entry.name, entry.nodeId));
}

async function deleteBlob(vault, nodeId, version, space = null) {
  try {
    await vault.api.del(`/v1/blobs/${await blobId(nodeId, version)}${scope(space)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
}

/**
 * Delete = move to the trash, as the CLI's `rm` does: the entry (a file with every kept
 * version, a folder with its key and its subtree left in place) goes into its folder's
 * signed trash under `path` (where it was, for display); nothing leaves the server until
 * the trash is emptied.
 */
export async function removeEntry(vault, parent, entry, path) {
  await vault.update(parent, (body) => {
    const cur = find(body, entry.name);
    if (!cur || !equalBytes(cur.nodeId, entry.nodeId)) throw new UsageError(`${entry.name} is gone`);
    return toTrash(body, entry.name, { deletedMs: Date.now(), path, entry: cur });
  });
}

async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** Send one job; a large one is resumable (resume.js) and starts over if it went stale. */
async function sendResumable(vault, j, opts) {
  const base = { ...opts, key: j.key, nodeId: j.nodeId, version: j.version };
  const resumable = {
    guard: await partGuard(vault, j.id, j.key),
    onEnd: () => forgetUpload(vault, j.id),
  };
  if (j.resume) {
    try {
      return await sendFile(vault.api, j.file, { ...base, ...resumable, resume: j.resume });
    } catch (e) {
      if (!(e instanceof StaleResumeError)) throw e;
      await vault.api.del(`/v1/uploads/${j.resume.uploadId}${scope(opts.space)}`).catch(() => {});
      await forgetUpload(vault, j.id);
      j.key = base.key = randomBytes(32); // a fresh key and salt for the new upload (P-NONCE)
      resumable.guard = await partGuard(vault, j.id, j.key);
    }
  }
  const onStart = (up) => rememberUpload(vault, j.id, { ...up, nodeId: j.nodeId, version: j.version, key: j.key });
  return sendFile(vault.api, j.file, { ...base, ...resumable, onStart });
}

/**
 * Upload `files` (Blob/File with a `name`) into one folder: send every blob (small ones
 * four at a time, large ones alone), then one manifest write names them all.
 */
export async function uploadFiles(vault, folder, files, { signal, onPlain, sealer } = {}) {
  files.forEach((f) => checkName(f.name));
  const cur = await vault.read(folder);
  const jobs = [];
  for (const file of files) {
    const found = find(cur.body, file.name);
    if (found?.kind === "folder") throw new UsageError(`${file.name} is a folder`);
    const job = {
      file,
      nodeId: found ? found.nodeId : randomBytes(16),
      version: found ? found.contentVersion + 1 : 1,
      key: randomBytes(32), // a fresh key for every version (P-NONCE)
      id: resumeId(folder, file),
      resume: null,
    };
    const rec = await pendingUpload(vault, job.id); // the same file, interrupted before
    const same = rec && (found ? equalBytes(found.nodeId, rec.nodeId) && found.contentVersion + 1 === rec.version : rec.version === 1);
    if (same) Object.assign(job, { nodeId: rec.nodeId, version: rec.version, key: rec.key, resume: rec });
    else if (rec) await forgetUpload(vault, job.id); // the folder moved on: start over
    jobs.push(job);
  }
  const small = jobs.filter((j) => j.file.size < SMALL_BLOB / 2);
  const large = jobs.filter((j) => j.file.size >= SMALL_BLOB / 2);
  const space = folder.space || null;
  const send = (j) => sendResumable(vault, j, { signal, onPlain, sealer, space });
  const forget = async () => {
    for (const j of jobs) await deleteBlob(vault, j.nodeId, j.version, space).catch(() => {});
  };
  try {
    await pool(small, PARALLEL, send);
    for (const j of large) await send(j);
  } catch (e) {
    await forget(); // cancelled or failed: nothing names what was sent, so it goes
    throw e;
  }
  const at = Date.now();
  const entries = jobs.map((j) => ({
    kind: "file", name: j.file.name, nodeId: j.nodeId, key: j.key, contentVersion: j.version, size: j.file.size,
    mtimeMs: j.file.lastModified || at, writtenMs: at, writer: vault.fingerprint, history: [],
  }));
  let done;
  try {
    done = await vault.update(folder, (body) => upsert(body, entries));
  } catch (e) {
    await forget();
    throw e;
  }
  for (const [node, version] of replaced(done.before, entries)) await deleteBlob(vault, node, version, space);
}

/**
 * Upload a folder tree: `items` are {path: "a/b/c.txt", file}. Folders are made (or
 * reused) first, then each folder's files go up together.
 */
export async function uploadTree(vault, folder, items, opts = {}) {
  const byDir = new Map();
  for (const { path, file } of items) {
    const parts = path.split("/").filter(Boolean);
    const dir = parts.slice(0, -1).join("/");
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push(new File([file], parts.at(-1), { lastModified: file.lastModified }));
  }
  const made = new Map([["", folder]]);
  const folderOf = async (dir) => {
    if (made.has(dir)) return made.get(dir);
    const parts = dir.split("/");
    const parent = await folderOf(parts.slice(0, -1).join("/"));
    const f = await mkdir(vault, parent, parts.at(-1), { existOk: true });
    made.set(dir, f);
    return f;
  };
  for (const dir of [...byDir.keys()].sort()) {
    await uploadFiles(vault, await folderOf(dir), byDir.get(dir), opts);
  }
}
