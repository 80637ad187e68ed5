// The Trash tab and a file's Versions panel: the page side of history.js. `ctx` gives
// {vault, root (the top folder), act(label, fn, done) (runs, re-renders, reports),
// download(entry) (the page's verified download), sealer (the upload worker)}.
import { emptyTrash, restoreFromTrash, restoreVersion, trashItems, versionsOf } from "./history.js";
import { $, el, size, when } from "./ui.js";

const button = (text, action, click) => el("button", { type: "button", text, "data-action": action, on: { click } });

/** Fill the Trash tab from the signed manifests. */
export async function showTrash(ctx) {
  const items = await trashItems(ctx.vault, ctx.root);
  const rows = items.map((t) => el("tr", { "data-path": t.path, "data-kind": t.item.entry.kind },
    el("td", { text: t.item.entry.kind === "folder" ? `${t.path}/` : t.path }),
    el("td", { text: when(t.item.deletedMs) }),
    el("td", { text: t.item.entry.kind === "file" ? size(t.item.entry.size) : "" }),
    el("td", { class: "actions" }, button("Restore", "restore", () =>
      ctx.act(`Restore ${t.path}`, async () => { await restoreFromTrash(ctx.vault, t); await showTrash(ctx); }, "restored")))));
  $("trash").tBodies[0].replaceChildren(...rows);
  $("trash-empty").hidden = items.length > 0;
  $("empty-trash").disabled = items.length === 0;
}

/** Delete for good, after a confirmation. */
export function emptyTrashClicked(ctx) {
  if (!confirm("Delete everything in the trash for good? This cannot be undone.")) return;
  let gone = 0;
  ctx.act("Empty the trash", async () => {
    gone = await emptyTrash(ctx.vault, ctx.root);
    await showTrash(ctx);
  }, "done").then(() => $("trash").setAttribute("data-emptied", String(gone)));
}

/** The Versions panel of `entry` in `folder`. */
export function showVersions(ctx, folder, entry) {
  const rows = versionsOf(entry).map((v) => el("tr", { "data-version": String(v.contentVersion) },
    el("td", { text: `${v.contentVersion}${v.current ? " (current)" : ""}` }),
    el("td", { text: size(v.size) }), el("td", { text: when(v.mtimeMs) }), el("td", { text: when(v.writtenMs) }),
    el("td", { class: "actions" },
      button("Download", "download-version", () => ctx.download({ ...entry, key: v.key, contentVersion: v.contentVersion, size: v.size })),
      v.current ? "" : button("Restore", "restore-version", () => {
        $("versions").hidden = true;
        ctx.act(`Restore version ${v.contentVersion} of ${entry.name}`,
          () => restoreVersion(ctx.vault, folder, entry, v, { sealer: ctx.sealer }), "restored as a new version");
      }))));
  $("versions-of").textContent = entry.name;
  $("versions-table").tBodies[0].replaceChildren(...rows);
  $("versions").hidden = false;
}
