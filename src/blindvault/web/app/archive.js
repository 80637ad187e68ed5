// A folder as one .zip (issue 15): the page walks the verified tree below the folder (every
// manifest checked as in browsing, in whichever space it lives) and hands the service
// worker one descriptor per file; the worker streams the archive to disk, decrypting and
// verifying each file as it goes (/sw/zip.js). No file is held in memory whole.
import { blobId } from "/s/assets/linkcore.js";
import { zipPlan } from "/sw/zip.js";
import { child, list } from "./ops.js";
import { scope } from "./transfer.js";

/** Every file and folder below `folder`, as archive entries under `prefix` ("name/"). */
export async function archiveEntries(vault, folder, prefix, token) {
  const out = [{ path: prefix, dir: true, mtimeMs: 0 }];
  for (const e of await list(vault, folder)) {
    const path = `${prefix}${e.name}`;
    if (e.kind === "folder") {
      out.push(...(await archiveEntries(vault, child(e, folder), `${path}/`, token)));
      continue;
    }
    const url = `/v1/blobs/${await blobId(e.nodeId, e.contentVersion)}${scope(folder.space)}`;
    out.push({
      path, mtimeMs: e.mtimeMs,
      source: { url, headers: { Authorization: `Bearer ${token}` } },
      file: { key: e.key, nodeId: e.nodeId, version: e.contentVersion, size: e.size },
    });
  }
  return out;
}

/** The archive's entries and length (ZipTooLargeError past what a plain .zip holds). */
export async function folderArchive(vault, folder, name, token) {
  const entries = await archiveEntries(vault, folder, `${name}/`, token);
  const plan = zipPlan(entries.map((e) => ({ ...e, size: e.dir ? 0 : e.file.size })));
  return { entries, size: plan.size };
}
