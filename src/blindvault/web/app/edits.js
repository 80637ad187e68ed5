// Pure edits of a folder body (client/tree/edits.py): each a function from the current
// body to the next, so Vault.update can re-apply it after a lost compare-and-swap race.
import { MAX_HISTORY } from "./manifest.js";
import { equalBytes } from "./bytes.js";

export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = "UsageError";
  }
}
export class NewerError extends Error {
  constructor() {
    super("A newer version was written meanwhile by another device: upload again.");
    this.name = "NewerError";
  }
}

export const find = (body, name) => body.entries.find((e) => e.name === name) || null;

const asVersion = (e) => ({
  contentVersion: e.contentVersion, key: e.key, size: e.size, mtimeMs: e.mtimeMs, writtenMs: e.writtenMs, writer: e.writer,
});

/** `files` in the folder, replacing files of the same names (keeping their history). */
export function upsert(body, files) {
  for (const f of files) {
    const cur = find(body, f.name);
    if (cur?.kind === "folder") throw new UsageError(`${f.name} is a folder`);
    if (cur?.kind === "file" && equalBytes(cur.nodeId, f.nodeId) && cur.contentVersion >= f.contentVersion) {
      throw new NewerError();
    }
  }
  const names = new Set(files.map((f) => f.name));
  const kept = files.map((f) => {
    const cur = find(body, f.name);
    if (cur?.kind !== "file" || !equalBytes(cur.nodeId, f.nodeId)) return f;
    return { ...f, history: [asVersion(cur), ...cur.history].slice(0, MAX_HISTORY) };
  });
  return { ...body, entries: [...body.entries.filter((e) => !names.has(e.name)), ...kept] };
}

/** (node id, content version) of every blob an upsert of `files` dropped from `before`. */
export function replaced(before, files) {
  const out = [];
  for (const f of files) {
    const cur = find(before, f.name);
    if (cur?.kind !== "file") continue;
    const every = [cur, ...cur.history].map((v) => [cur.nodeId, v.contentVersion]);
    out.push(...(equalBytes(cur.nodeId, f.nodeId) ? every.slice(MAX_HISTORY) : every));
  }
  return out;
}

export function add(body, entry) {
  if (find(body, entry.name)) throw new UsageError(`${entry.name} exists already`);
  return { ...body, entries: [...body.entries, entry] };
}

export function remove(body, name, nodeId) {
  return { ...body, entries: body.entries.filter((e) => e.name !== name || !equalBytes(e.nodeId, nodeId)) };
}

export function rename(body, entry, newName) {
  return add(remove(body, entry.name, entry.nodeId), { ...entry, name: newName });
}

/**
 * Into the trash (client/trash.py to_trash): the entry `name` out of the listing, a
 * tombstone for its node, and a trash item {deletedMs, path, entry}; the rest of the
 * trash is carried through unchanged.
 */
export function toTrash(body, name, item) {
  const node = item.entry.nodeId;
  return {
    entries: body.entries.filter((e) => e.name !== name),
    tombstones: [...body.tombstones.filter((t) => !equalBytes(t.nodeId, node)), { nodeId: node, deletedMs: item.deletedMs }],
    trash: [...(body.trash || []).filter((t) => !equalBytes(t.entry.nodeId, node)), item],
  };
}
