// The vault app's page logic: sign in, browse, transfers, links and devices. Crypto and
// verification live in the modules it imports; this file only wires them to the page.
import { Api } from "./api.js";
import { normalizeEmail, workerArgon2 } from "./kdf.js";
import { verifiedText, verifiedWorker } from "./loader.js";
import { signUp } from "./signup.js";
import { changePassword } from "./passwd.js";
import { checkNewPassword, workerEstimate } from "./strength.js";
import { child, list, mkdir, moveEntry, removeEntry, renameEntry, uploadFiles, uploadTree } from "./ops.js";
import { IntegrityError, blobId, sealedContentSize } from "/s/assets/linkcore.js";
import { connect } from "/sw/client.js";
import { createFileLink } from "./links.js";
import { emptyTrashClicked, showTrash, showVersions } from "./history-view.js";
import { fetchFile, scope } from "./transfer.js";
import { showShared } from "./share-view.js";
import { folderArchive } from "./archive.js";
import { ROLE_WRITE } from "./sharing.js";
import { idbStore } from "./store.js";
import { $, el, message, size, status, transfer, when } from "./ui.js";
import { Vault } from "./vault.js";

const KDF_WORKER = ["/app/vendor/hash-wasm-argon2.umd.min.js", "/app/kdf-worker.js"];
const SEAL_WORKER = ["/app/seal-worker.js"];
const STRENGTH_WORKER = [
  "/app/vendor/zxcvbn-ts-core.js", "/app/vendor/zxcvbn-ts-language-common.js", "/app/vendor/zxcvbn-ts-language-en.js",
  "/app/strength-worker.js",
];
const sealer = () => verifiedWorker(SEAL_WORKER);
const api = new Api();
let vault = null;
let path = []; // folders from the root: [{nodeId, key, keyVersion, name}]

const here = () => path[path.length - 1];

async function guarded(fn) {
  try {
    await fn();
  } catch (e) {
    status(message(e), "error");
  }
}

// ---------------------------------------------------------------- sign in / out

async function signIn(event) {
  event.preventDefault();
  $("sign-in-submit").disabled = true;
  status("Checking the server's sign-in parameters…");
  try {
    vault = await Vault.signIn({
      api, store: idbStore, email: $("email").value, password: $("password").value,
      argon2: workerArgon2(() => verifiedWorker(KDF_WORKER)), deviceName: `browser (${navigator.platform || "web"})`,
      onStep: (text) => status(text),
    });
    $("password").value = "";
    await opened(vault);
    status("Signed in. Everything below was verified in this browser.", "ok");
  } catch (e) {
    api.token = "";
    status(message(e), "error");
  } finally {
    $("sign-in-submit").disabled = false;
  }
}

async function opened(v) {
  vault = v;
  $("sign-in").hidden = true;
  $("sign-up").hidden = true;
  $("vault").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = vault.email;
  path = [vault.rootFolder];
  await render();
}

async function createAccount(event) {
  event.preventDefault();
  if ($("su-password").value !== $("su-password2").value) {
    status("The two passwords differ.", "error");
    return;
  }
  $("sign-up-submit").disabled = true;
  try {
    status("Checking the password's strength…");
    await checkNewPassword($("su-password").value, normalizeEmail($("su-email").value),
      workerEstimate(() => verifiedWorker(STRENGTH_WORKER)), { acceptWeak: $("su-accept-weak").checked });
    const wordlist = (await verifiedText("/app/vendor/bip39-english.txt")).trim().split("\n");
    const { vault: v, words } = await signUp({
      api, store: idbStore, email: $("su-email").value, password: $("su-password").value, wordlist,
      argon2: workerArgon2(() => verifiedWorker(KDF_WORKER)), deviceName: `browser (${navigator.platform || "web"})`,
      onStep: (text) => status(text),
    });
    $("su-password").value = $("su-password2").value = "";
    $("sign-up").hidden = true;
    $("word-list").replaceChildren(...words.map((w) => el("li", { text: w })));
    $("words").hidden = false;
    status("Account created. Write down your recovery words.", "ok");
    $("words-done").onclick = async () => {
      $("word-list").replaceChildren();
      $("words").hidden = true;
      await guarded(() => opened(v));
      status("Signed in. Everything below was verified in this browser.", "ok");
    };
  } catch (e) {
    api.token = "";
    status(message(e), "error");
  } finally {
    $("sign-up-submit").disabled = false;
  }
}

async function passwd(event) {
  event.preventDefault();
  if ($("pw-new").value !== $("pw-new2").value) {
    status("The two new passwords differ.", "error");
    return;
  }
  $("passwd-submit").disabled = true;
  try {
    await changePassword(vault, {
      current: $("pw-current").value, next: $("pw-new").value, acceptWeak: $("pw-accept-weak").checked,
      argon2: workerArgon2(() => verifiedWorker(KDF_WORKER)), estimate: workerEstimate(() => verifiedWorker(STRENGTH_WORKER)),
      onStep: (text) => status(text),
    });
    $("passwd").reset();
    status("Password changed. Use the new one on every device from now on.", "ok");
  } catch (e) {
    status(message(e), "error");
  } finally {
    $("passwd-submit").disabled = false;
  }
}

async function signOut() {
  await guarded(() => vault.signOut());
  vault = null;
  path = [];
  location.reload();
}

// ---------------------------------------------------------------- files

function crumbs() {
  const nav = $("breadcrumb");
  nav.replaceChildren();
  if (path[0].space) nav.append(el("a", { text: "My files", on: { click: () => { path = [vault.rootFolder]; guarded(render); } } }), " · ");
  path.forEach((f, i) => {
    const name = i === 0 && !f.space ? "My files" : f.name;
    nav.append(i < path.length - 1 ? el("a", { text: name, on: { click: () => go(i) } }) : el("strong", { text: name }), " / ");
  });
}

function go(depth) {
  path = path.slice(0, depth + 1);
  guarded(render);
}

const openShared = (folder) => {
  path = [folder];
  tab("files");
};

async function render() {
  crumbs();
  const entries = (await list(vault, here())).sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "folder" ? -1 : 1));
  const space = here().space; // a shared space (known once read): its role decides what is offered
  const writable = !space || space.role === ROLE_WRITE;
  for (const id of ["new-folder", "upload-files-label", "upload-folder-label", "drop"]) $(id).hidden = !writable;
  const rows = entries.map((e) => {
    const name = e.kind === "folder"
      ? el("a", { class: "folder", text: `${e.name}/`, on: { click: () => { path.push(child(e, here())); guarded(render); } } })
      : el("span", { text: e.name });
    const actions = el("td", { class: "actions" });
    if (e.kind === "file") {
      actions.append(el("button", { type: "button", text: "Download", "data-action": "download", on: { click: () => download(e, space) } }));
      if (!space) {
        actions.append(
          el("button", { type: "button", text: "Link", "data-action": "link", on: { click: () => makeLink(e) } }),
          el("button", { type: "button", text: "Versions", "data-action": "versions", on: { click: () => showVersions(views(), here(), e) } }),
        );
      }
    }
    if (e.kind === "folder") {
      actions.append(el("button", { type: "button", text: "Download .zip", "data-action": "zip", on: { click: () => downloadZip(e) } }));
    }
    if (writable) actions.append(
      el("button", { type: "button", text: "Rename", "data-action": "rename", on: { click: () => rename(e) } }),
      el("button", { type: "button", text: "Move", "data-action": "move", on: { click: () => move(e) } }),
      el("button", { type: "button", text: "Delete", "data-action": "delete", on: { click: () => remove(e) } }),
    );
    return el("tr", { "data-name": e.name, "data-kind": e.kind }, el("td", {}, name),
      el("td", { text: e.kind === "file" ? size(e.size) : "" }), el("td", { text: when(e.mtimeMs) }), actions);
  });
  $("listing").tBodies[0].replaceChildren(...rows);
}

async function act(label, fn, done = "done") {
  status(`${label}…`);
  try {
    await fn();
    await render();
    status(`${label}: ${done}.`, "ok");
  } catch (e) {
    status(`${label}: ${message(e)}`, "error");
  }
}

const views = () => ({ vault, root: path[0], act, sealer, download });

const newFolder = () => {
  const name = prompt("Name of the new folder");
  if (name) act(`New folder ${name}`, () => mkdir(vault, here(), name.normalize("NFC")));
};

const rename = (e) => {
  const name = prompt(`New name for ${e.name}`, e.name);
  if (name && name !== e.name) act(`Rename ${e.name}`, () => renameEntry(vault, here(), e, name.normalize("NFC")));
};

async function resolveFolder(text) {
  let folder = path[0];
  for (const part of text.split("/").filter(Boolean)) {
    const found = (await list(vault, folder)).find((x) => x.name === part && x.kind === "folder");
    if (!found) throw new Error(`No folder ${text}`);
    folder = child(found, folder);
  }
  return folder;
}

const move = (e) => {
  const dest = prompt(`Move ${e.name} into which folder? (a path from the top, like /photos/2026)`, "/");
  if (dest === null) return;
  act(`Move ${e.name}`, async () => {
    const target = await resolveFolder(dest);
    if (target.nodeId.every((b, i) => b === here().nodeId[i])) throw new Error("It is in that folder already.");
    if (e.kind === "folder" && (await isInside(target, e))) throw new Error("A folder cannot move into itself.");
    await moveEntry(vault, here(), e, target);
  });
};

async function isInside(target, entry) {
  const walk = async (folder) => {
    if (folder.nodeId.every((b, i) => b === target.nodeId[i])) return true;
    for (const x of await list(vault, folder)) if (x.kind === "folder" && (await walk(child(x, folder)))) return true;
    return false;
  };
  return walk(child(entry, here()));
}

const makeLink = (e) => {
  const password = prompt(`Share link to ${e.name}: a password for it too? (leave empty for none)`, "");
  if (password === null) return;
  act(`Link to ${e.name}`, async () => {
    $("link-url").value = await createFileLink(vault, e, { password: password || null });
    $("link-made").hidden = false;
  });
};

const remove = (e) => {
  if (confirm(`Delete ${e.name}${e.kind === "folder" ? " and everything in it" : ""}?`)) {
    const where = `/${[...path.slice(1).map((f) => f.name), e.name].join("/")}`; // as `rm` records it
    act(`Delete ${e.name}`, () => removeEntry(vault, here(), e, where), "moved to the trash");
  }
};

const STREAM_ABOVE = 16 << 20; // larger files stream through the service worker
let streaming; // the service worker client (null where none can run), made once

async function streamed(e, space) {
  streaming ??= await connect();
  if (!streaming) return false;
  const t = transfer(`Download ${e.name}`, sealedContentSize(e.size));
  let done = 0;
  try {
    const job = {
      source: { url: `/v1/blobs/${await blobId(e.nodeId, e.contentVersion)}${scope(space)}`, headers: { Authorization: `Bearer ${api.token}` } },
      file: { key: e.key, nodeId: e.nodeId, version: e.contentVersion, size: e.size },
      name: e.name,
    };
    await streaming.download(job, { onProgress: (d) => { t.step(d - done); done = d; } });
    t.finish("saved");
  } catch (err) {
    t.fail(err?.code === "tampered" ? new IntegrityError() : err?.code ? new Error(`The download failed (${err.code}).`) : err);
  }
  return true;
}

async function download(e, space = null) {
  if (e.size > STREAM_ABOVE && (await streamed(e, space))) return;
  const t = transfer(`Download ${e.name}`, e.size);
  try {
    const blob = await fetchFile(api, e, { signal: t.signal, onPlain: (n) => t.step(n), space });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: e.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    t.finish("saved");
  } catch (err) {
    t.fail(err);
  }
}

/** A folder and everything in it as one .zip, streamed to disk by the service worker. */
async function downloadZip(e) {
  const label = `Download ${e.name}.zip`;
  status(`${label}: listing the folder…`);
  let job;
  try {
    const { entries, size: total } = await folderArchive(vault, child(e, here()), e.name, api.token);
    job = { entries, total };
    streaming ??= await connect();
    if (!streaming) throw new Error("This browser cannot stream an archive here (no service worker): use `blindvault get`.");
  } catch (err) {
    status(`${label}: ${message(err)}`, "error");
    return;
  }
  status(`${label}: started.`, "ok");
  const t = transfer(label, job.total);
  let done = 0;
  try {
    await streaming.download({ name: `${e.name}.zip`, entries: job.entries }, {
      kind: "archive", onProgress: (d) => { t.step(d - done); done = d; },
    });
    t.step(job.total - done);
    t.finish("saved");
  } catch (err) {
    t.fail(err?.code === "tampered" ? new IntegrityError() : err?.code ? new Error(`The download failed (${err.code}).`) : err);
  }
}

async function upload(label, items, total, send) {
  const t = transfer(label, total);
  try {
    await send({ signal: t.signal, onPlain: (n) => t.step(n), sealer });
    t.finish(`uploaded ${items} file${items === 1 ? "" : "s"}`);
  } catch (err) {
    t.fail(err);
  }
  await guarded(render);
}

function uploadPicked(files) {
  const list = [...files];
  const total = list.reduce((n, f) => n + f.size, 0);
  const where = here();
  return upload(`Upload ${list.length === 1 ? list[0].name : `${list.length} files`}`, list.length, total,
    (opts) => uploadFiles(vault, where, list, opts));
}

function uploadItems(items) {
  const total = items.reduce((n, i) => n + i.file.size, 0);
  const where = here();
  const top = items[0]?.path.split("/")[0] || "folder";
  return upload(`Upload ${top}`, items.length, total, (opts) => uploadTree(vault, where, items, opts));
}

async function entriesOf(entry, prefix, out) {
  if (entry.isFile) {
    out.push({ path: prefix + entry.name, file: await new Promise((ok, ko) => entry.file(ok, ko)) });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
      if (!batch.length) break;
      for (const e of batch) await entriesOf(e, `${prefix}${entry.name}/`, out);
    }
  }
}

async function dropped(event) {
  event.preventDefault();
  $("drop").classList.remove("over");
  const roots = [...event.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  const items = [];
  for (const r of roots) await entriesOf(r, "", items);
  const loose = items.filter((i) => !i.path.includes("/"));
  const nested = items.filter((i) => i.path.includes("/"));
  if (loose.length) await uploadPicked(loose.map((i) => i.file));
  if (nested.length) await uploadItems(nested);
}

// ---------------------------------------------------------------- links and devices

async function showLinks() {
  const { links } = await api.get("/v1/links");
  $("links").tBodies[0].replaceChildren(...links.map((l) => el("tr", { "data-id": l.id },
    el("td", { text: l.id }), el("td", { text: l.kind }), el("td", { text: l.created_at }),
    el("td", { text: l.expires_at || "never" }), el("td", { text: `${l.downloads}${l.max_downloads ? ` of ${l.max_downloads}` : ""}` }),
    el("td", { class: "actions" }, l.revoked ? "revoked" : el("button", { type: "button", text: "Revoke",
      on: { click: () => guarded(async () => { await api.del(`/v1/links/${l.id}`); await showLinks(); }) } })))));
}

async function showDevices() {
  const { devices } = await api.get("/v1/devices");
  $("devices").tBodies[0].replaceChildren(...devices.map((d) => el("tr", {},
    el("td", { text: `${d.name}${d.current ? " (this browser)" : ""}${d.revoked ? " — revoked" : ""}` }),
    el("td", { text: d.created_at }), el("td", { text: d.last_seen || "" }),
    el("td", { class: "actions" }, d.current || d.revoked ? "" : el("button", { type: "button", text: "Sign out",
      on: { click: () => guarded(async () => { await api.del(`/v1/devices/${d.id}`); await showDevices(); }) } })))));
}

function tab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of ["files", "shared", "trash", "links", "devices"]) $(`tab-${t}`).hidden = t !== name;
  const shared = () => showShared({ vault, openFolder: openShared, download });
  const show = { links: showLinks, devices: showDevices, trash: () => showTrash(views()), shared }[name] || render;
  guarded(show);
}

// ---------------------------------------------------------------- wiring

$("sign-in").addEventListener("submit", signIn);
$("sign-up").addEventListener("submit", createAccount);
$("passwd").addEventListener("submit", passwd);
$("show-sign-up").addEventListener("click", () => { $("sign-in").hidden = true; $("sign-up").hidden = false; });
$("sign-out").addEventListener("click", signOut);
$("new-folder").addEventListener("click", newFolder);
$("refresh").addEventListener("click", () => guarded(render));
$("empty-trash").addEventListener("click", () => emptyTrashClicked(views()));
$("versions-close").addEventListener("click", () => { $("versions").hidden = true; });
$("upload-files").addEventListener("change", (e) => { uploadPicked(e.target.files); e.target.value = ""; });
$("upload-folder").addEventListener("change", (e) => {
  const items = [...e.target.files].map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
  e.target.value = "";
  if (items.length) uploadItems(items);
});
$("drop").addEventListener("dragover", (e) => { e.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (e) => guarded(() => dropped(e)));
for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => tab(b.dataset.tab));
$("sign-in").hidden = false;
status("Sign in to open your vault.");
