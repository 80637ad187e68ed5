// The trash and versions logic of the web vault (app/history.js) against an in-memory
// vault (read/update/drop and the blob API), in Node: the CLI's semantics of
// client/trash.py and client/history.py. The real thing runs in test_vault_views.py.
import assert from "node:assert/strict";
import { register } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, "..", "..", "src", "blindvault", "web");
const hook = `
const target = ${JSON.stringify(pathToFileURL(join(web, "linkcore.js")).href)};
export async function resolve(specifier, context, next) {
  return specifier === "/s/assets/linkcore.js" ? { url: target, shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const core = await import(pathToFileURL(join(web, "linkcore.js")).href);
const h = await import(pathToFileURL(join(web, "app", "history.js")).href);
const { toTrash } = await import(pathToFileURL(join(web, "app", "edits.js")).href);

const id = (n) => new Uint8Array(16).fill(n);
const hex = (b) => Buffer.from(b).toString("hex");

function fakeVault() {
  const folders = new Map();
  const deleted = [];
  const dropped = [];
  const vault = {
    folders,
    deleted,
    dropped,
    async read(f) {
      return { ...f, body: structuredClone(folders.get(hex(f.nodeId))) };
    },
    async update(f, change) {
      const before = folders.get(hex(f.nodeId));
      folders.set(hex(f.nodeId), change(structuredClone(before)));
      return { before, after: folders.get(hex(f.nodeId)) };
    },
    async drop(nodeId) {
      dropped.push(hex(nodeId));
      folders.delete(hex(nodeId));
    },
    async save() {},
    api: { del: async (path) => deleted.push(path) },
  };
  return vault;
}

const file = (n, name, versions = [1]) => ({
  kind: "file", name, nodeId: id(n), key: new Uint8Array(32), contentVersion: versions[0], size: 10, mtimeMs: 1, writtenMs: 1,
  writer: "w", history: versions.slice(1).map((v) => ({ contentVersion: v, key: new Uint8Array(32), size: 5, mtimeMs: 0, writtenMs: 0, writer: "w" })),
});
const folder = (n, name) => ({ kind: "folder", name, nodeId: id(n), key: new Uint8Array(32), keyVersion: 1, mtimeMs: 1 });
const empty = () => ({ entries: [], tombstones: [], trash: [] });

function setup() {
  const v = fakeVault();
  const root = { nodeId: id(1), key: new Uint8Array(32), keyVersion: 1, name: "" };
  let body = { ...empty(), entries: [file(2, "a.txt", [2, 1]), folder(3, "sub"), file(5, "live.txt")] };
  body = toTrash(body, "a.txt", { deletedMs: 100, path: "/a.txt", entry: body.entries[0] });
  v.folders.set(hex(id(1)), body);
  let sub = { ...empty(), entries: [folder(4, "deep")] };
  sub = toTrash(sub, "deep", { deletedMs: 200, path: "/sub/deep", entry: sub.entries[0] });
  v.folders.set(hex(id(3)), sub);
  v.folders.set(hex(id(4)), { ...empty(), entries: [file(6, "in-deep.txt")] });
  return { v, root };
}

test("trashItems lists every folder's trash, the most recently deleted first", async () => {
  const { v, root } = setup();
  const items = await h.trashItems(v, root);
  assert.deepEqual(items.map((t) => t.path), ["/sub/deep", "/a.txt"]);
});

test("restore puts the entry back (tombstone and trash item gone); a taken name is refused", async () => {
  const { v, root } = setup();
  const [, a] = await h.trashItems(v, root);
  v.folders.get(hex(id(1))).entries.push(file(9, "a.txt"));
  await assert.rejects(h.restoreFromTrash(v, a), /exists already/);
  v.folders.get(hex(id(1))).entries.pop();
  await h.restoreFromTrash(v, a);
  const body = v.folders.get(hex(id(1)));
  assert.ok(body.entries.some((e) => e.name === "a.txt"));
  assert.equal(body.trash.length, 0);
  assert.equal(body.tombstones.length, 0);
  await assert.rejects(h.restoreFromTrash(v, a), /no longer in the trash/);
});

test("empty deletes every version's blob and a trashed folder's subtree, and nothing live", async () => {
  const { v, root } = setup();
  assert.equal(await h.emptyTrash(v, root), 2);
  const blob = async (n, ver) => `/v1/blobs/${await core.blobId(id(n), ver)}`;
  assert.deepEqual(new Set(v.deleted), new Set([await blob(2, 2), await blob(2, 1), await blob(6, 1)]));
  assert.deepEqual(v.dropped, [hex(id(4))]);
  assert.equal((await h.trashItems(v, root)).length, 0);
  assert.ok(v.folders.get(hex(id(1))).entries.some((e) => e.name === "live.txt"));
});

test("a trashed node that is live again elsewhere keeps its blobs", async () => {
  const { v, root } = setup();
  v.folders.get(hex(id(3))).entries.push(file(2, "a-again.txt", [2, 1]));
  await h.emptyTrash(v, root);
  const blob = async (n, ver) => `/v1/blobs/${await core.blobId(id(n), ver)}`;
  assert.ok(!v.deleted.includes(await blob(2, 2)));
});

test("versionsOf: the current version first; restoring the current one is refused", async () => {
  const versions = h.versionsOf(file(2, "a.txt", [3, 2, 1]));
  assert.deepEqual(versions.map((x) => [x.contentVersion, x.current]), [[3, true], [2, false], [1, false]]);
  await assert.rejects(h.restoreVersion(fakeVault(), null, file(2, "a.txt"), versions[0]), /current one already/);
});
