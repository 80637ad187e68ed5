// linkpage.js: the DOM side of the share-link page served at /s/<link id>.
//
// The secret is in the URL fragment, which the browser never sends. This script reads
// it once, removes it from the address bar at once, and sends the server only the
// token derived from it (X-Link-Token). Every text shown is set with textContent; no
// HTML is ever built from data. All cryptography is in linkcore.js.
import * as core from "./linkcore.js";
import * as drops from "./dropcore.js";
import { StreamError, connect } from "/sw/client.js";
import { playableKind } from "/sw/decrypt-stream.js";

// Read the fragment, then drop it from the address bar and the session history entry
// before anything else can run (no later script, extension API or screenshot of the
// URL bar sees it).
const FRAGMENT = location.hash.slice(1);
history.replaceState(null, "", location.pathname + location.search);

const $ = (id) => document.getElementById(id);

const MESSAGES = {
  malformed:
    "This link is incomplete or damaged. Check that you copied the whole link, " +
    "including everything after the # sign.",
  unknown: "This link does not exist. It may have been mistyped, or deleted by its owner.",
  expired: "This link has expired.",
  revoked: "This link was revoked by its owner.",
  exhausted: "This link has reached its download limit.",
  gone: "This link is no longer available.",
  deleted: "This file is no longer available: it was deleted or replaced.",
  "folder-gone": "This folder is no longer available: it was deleted or moved.",
  tampered:
    "The data failed its integrity check and was discarded: nothing was saved. " +
    "It may have been tampered with or damaged.",
  "wrong-password": "Wrong password",
  unreachable: "The server could not be reached. Check your connection and try again.",
  interrupted: "The download was interrupted. Try again.",
  server: "The server answered with an error. Try again later.",
  insecure: "This page needs a secure (https) connection to decrypt.",
  unexpected: "Something went wrong while opening this link.",
  "upload-exhausted": "This link has reached its upload limit.",
  "upload-too-large": "This file is larger than this link accepts.",
  "upload-no-room": "This file does not fit in the storage left to the link's owner; nothing was kept.",
  "upload-refused": "The server refused this file.",
};

class PageError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

// ------------------------------------------------------------------ display

function setStatus(state, code, text) {
  const el = $("status");
  el.dataset.state = state;
  el.dataset.code = code;
  el.textContent = text;
}

function errorCode(err) {
  if (err instanceof PageError) return err.code;
  if (err instanceof core.IntegrityError || err instanceof core.FormatError) return "tampered";
  return "unexpected";
}

function showError(err) {
  const code = errorCode(err);
  setStatus("error", code, MESSAGES[code]);
  return code;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function formatSize(n) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} ${n === 1 ? "byte" : "bytes"}` : `${v.toFixed(1)} ${units[i]}`;
}

function formatDate(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

// ------------------------------------------------------------------ server API

async function api(path, token, notFound) {
  let res;
  try {
    res = await fetch(path, {
      headers: { "X-Link-Token": token },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      redirect: "error",
    });
  } catch {
    throw new PageError("unreachable");
  }
  if (res.ok) return res;
  let code = "";
  try {
    code = (await res.json())?.error?.code ?? "";
  } catch {
    // not JSON: a proxy's error page
  }
  throw httpError(res.status, code, notFound);
}

function httpError(status, code, notFound) {
  if (status === 404) return new PageError(notFound);
  if (status === 410) {
    const gone = { link_expired: "expired", link_revoked: "revoked", link_exhausted: "exhausted" };
    return new PageError(gone[code] ?? "gone");
  }
  if (status === 502 || status === 503 || status === 504) return new PageError("unreachable");
  return new PageError("server");
}

// ------------------------------------------------------------------ password

function askPassword(link, descriptor) {
  const form = $("password-form");
  const input = $("password");
  const button = $("password-submit");
  form.hidden = false;
  setStatus("info", "password", "Enter the password you were given with this link.");
  input.focus();
  return new Promise((resolve, reject) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      $("password-error").textContent = "";
      setStatus("loading", "password", "Checking the password…");
      try {
        const key = await core.linkKey(link.secret, link.linkId, input.value);
        const desc = await core.openDescriptor(descriptor, key, link.linkId);
        form.hidden = true;
        resolve(desc);
      } catch (err) {
        if (!(err instanceof core.IntegrityError)) {
          reject(err);
          return;
        }
        input.value = "";
        $("password-error").textContent = MESSAGES["wrong-password"];
        setStatus("error", "wrong-password", "Wrong password. Try again.");
        input.focus();
      } finally {
        button.disabled = false;
      }
    });
  });
}

// ------------------------------------------------------------------ download

let busy = false;
let objectUrl = null;

function setDownloadButtons(enabled) {
  for (const b of document.querySelectorAll("button.download")) b.disabled = !enabled;
}

// Files above this size stream to disk through the service worker (/sw.js); smaller
// ones, or all when no worker can run, are decrypted into a Blob first.
const STREAM_ABOVE = 16 * 1024 * 1024;
let streamer = null;
const streaming = () => (streamer ??= connect());

function blobSource(link, blob) {
  return { url: `/v1/l/${link.idText}/blob/${blob}`, headers: { "X-Link-Token": link.token } };
}

function streamFailure(err) {
  if (!(err instanceof StreamError)) return err;
  if (err.code === "http") return httpError(err.status, err.apiCode ?? "", "deleted");
  if (err.code === "tampered" || err.code === "interrupted" || err.code === "unreachable") {
    return new PageError(err.code);
  }
  return new PageError(err.code === "server" ? "server" : "unexpected");
}

/** The service worker streams, decrypts and verifies the file straight to disk. */
async function streamedDownload(sw, link, file) {
  const blob = await core.blobId(file.nodeId, file.version);
  const progress = $("progress");
  const job = { source: blobSource(link, blob), file, name: file.name };
  try {
    await sw.download(job, { onProgress: (done, total) => (progress.value = Math.min(done / total, 1)) });
  } catch (err) {
    throw streamFailure(err);
  }
  progress.value = 1;
  $("transfer-label").textContent = `${file.name}: ${formatSize(file.size)}, decrypted and verified.`;
  setStatus("done", "downloaded", `Downloaded ${file.name}. Its integrity was verified.`);
}

/** Stream, decrypt and verify one file, then hand it to the browser as a download. */
async function download(link, file) {
  if (busy) return;
  busy = true;
  setDownloadButtons(false);
  const save = $("save-link");
  save.hidden = true;
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = null;
  $("transfer").hidden = false;
  $("transfer-label").textContent = `Downloading and decrypting ${file.name}…`;
  const progress = $("progress");
  progress.value = 0;
  setStatus("loading", "downloading", `Downloading ${file.name}…`);
  let parts = [];
  try {
    const sw = file.size > STREAM_ABOVE ? await streaming() : null;
    if (sw) {
      await streamedDownload(sw, link, file);
      return;
    }
    const blob = await core.blobId(file.nodeId, file.version);
    const res = await api(`/v1/l/${link.idText}/blob/${blob}`, link.token, "deleted");
    const total = core.sealedContentSize(file.size);
    const dec = new core.ContentDecryptor(file.key, file.nodeId, file.version, file.size);
    const reader = res.body.getReader();
    let received = 0;
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          throw new PageError("interrupted");
        }
        if (chunk.done) break;
        received += chunk.value.length;
        const plain = await dec.update(chunk.value);
        if (plain.length) parts.push(plain);
        progress.value = Math.min(received / total, 1);
      }
      const last = await dec.finish();
      if (last.length) parts.push(last);
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
    objectUrl = URL.createObjectURL(new Blob(parts, { type: "application/octet-stream" }));
    parts = [];
    save.href = objectUrl;
    save.download = file.name;
    save.textContent = `Save ${file.name} again`;
    save.hidden = false;
    progress.value = 1;
    $("transfer-label").textContent = `${file.name}: ${formatSize(file.size)}, decrypted and verified.`;
    setStatus("done", "downloaded", `Downloaded ${file.name}. Its integrity was verified.`);
    save.click();
  } catch (err) {
    parts = []; // nothing unverified, nor any part of a failed file, is kept
    $("transfer").hidden = true;
    showError(err);
  } finally {
    busy = false;
    setDownloadButtons(true);
  }
}

// ------------------------------------------------------------------ views

function showFile(link, desc) {
  $("file-view").hidden = false;
  $("file-name").textContent = desc.name;
  $("file-meta").textContent = `${formatSize(desc.size)} · modified ${formatDate(desc.mtimeMs)}`;
  const button = $("file-download");
  button.classList.add("download");
  button.addEventListener("click", () => download(link, desc));
  setStatus("ready", "file", "A file was shared with you.");
  const kind = playableKind(desc.name);
  if (kind) showPlayer(link, desc, kind).catch(() => {}); // no worker: download only
}

/** Audio and video play in place: the worker decrypts the ranges the element asks for. */
async function showPlayer(link, file, kind) {
  const sw = await streaming();
  if (!sw?.controlsPage) return;
  const blob = await core.blobId(file.nodeId, file.version);
  const job = { source: blobSource(link, blob), file, name: file.name };
  const src = await sw.mediaUrl(job, {
    onError: (err) => showError(streamFailure(err)),
  });
  const player = el(kind);
  player.id = "media";
  player.controls = true;
  player.preload = "metadata";
  player.src = src;
  $("player").replaceChildren(player);
  $("player").hidden = false;
}

// Highest manifest version seen per folder during this visit: a lower one is refused
// (a page without storage cannot do more for freshness; see openManifest).
const seenVersions = new Map();

async function openFolder(link, path) {
  const here = path[path.length - 1];
  const nodeHex = core.toHex(here.nodeId);
  setStatus("loading", "folder", `Opening ${here.name}…`);
  try {
    const res = await api(`/v1/l/${link.idText}/manifest/${nodeHex}`, link.token, "folder-gone");
    const record = await res.json();
    const m = await core.openManifest(core.b64Decode(record.data), here.key, here.nodeId);
    if (record.version !== m.version || m.version < (seenVersions.get(nodeHex) ?? 0)) {
      throw new core.IntegrityError();
    }
    seenVersions.set(nodeHex, m.version);
    renderFolder(link, path, m.entries);
  } catch (err) {
    showError(err);
  }
}

function renderFolder(link, path, entries) {
  $("folder-view").hidden = false;
  const crumbs = $("breadcrumb");
  crumbs.replaceChildren();
  path.forEach((step, i) => {
    if (i > 0) crumbs.append(el("span", "/", "sep"));
    if (i === path.length - 1) {
      crumbs.append(el("strong", step.name));
    } else {
      const b = el("button", step.name, "link crumb");
      b.type = "button";
      b.addEventListener("click", () => openFolder(link, path.slice(0, i + 1)));
      crumbs.append(b);
    }
  });
  const rows = [];
  const ordered = [...entries.filter((e) => e.kind === "folder"), ...entries.filter((e) => e.kind === "file")];
  for (const e of ordered) {
    const tr = el("tr");
    tr.dataset.kind = e.kind;
    tr.dataset.name = e.name;
    const name = el("td");
    const action = el("td");
    if (e.kind === "folder") {
      const open = el("button", `${e.name}/`, "link open-folder");
      open.type = "button";
      open.addEventListener("click", () =>
        openFolder(link, [...path, { name: e.name, nodeId: e.nodeId, key: e.key }]),
      );
      name.append(open);
    } else {
      name.textContent = e.name;
      const b = el("button", "Download", "download");
      b.type = "button";
      const file = { name: e.name, nodeId: e.nodeId, key: e.key, version: e.contentVersion, size: e.size };
      b.addEventListener("click", () => download(link, file));
      action.append(b);
    }
    tr.append(name, el("td", e.kind === "file" ? formatSize(e.size) : "", "num"), el("td", formatDate(e.mtimeMs)), action);
    rows.push(tr);
  }
  const body = $("listing").tBodies[0];
  body.replaceChildren(...rows);
  const count = entries.length === 1 ? "1 item" : `${entries.length} items`;
  setStatus("ready", "folder", entries.length ? `${path[path.length - 1].name}: ${count}` : "This folder is empty.");
}

// ------------------------------------------------------------------ upload-only links

/** POST one sealed drop; a refusal becomes a PageError naming what happened. */
async function postDrop(link, sealed) {
  let res;
  try {
    res = await fetch(`/v1/l/${link.idText}/drops`, {
      method: "POST",
      body: sealed,
      headers: { "X-Link-Token": link.token, "Content-Type": "application/octet-stream" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      redirect: "error",
    });
  } catch {
    throw new PageError("unreachable");
  }
  if (res.ok || res.status === 409) return; // 409: a retried request whose first one landed
  let code = "";
  try {
    code = (await res.json())?.error?.code ?? "";
  } catch {
    // not JSON
  }
  if (res.status === 410 && code === "link_exhausted") throw new PageError("upload-exhausted");
  if (res.status === 413) throw new PageError("upload-too-large");
  if (res.status === 507) throw new PageError("upload-no-room");
  if (res.status === 400 || res.status === 403) throw new PageError("upload-refused");
  throw httpError(res.status, code, "unknown");
}

function showDrop(link, target, info) {
  $("drop-view").hidden = false;
  $("drop-title").textContent = `Send files to “${target.name}”`;
  const left = info.uploads_left;
  const limit = left === null || left === undefined ? "" : ` · ${left} more file${left === 1 ? "" : "s"} accepted`;
  $("drop-meta").textContent = `Up to ${formatSize(target.maxSize)} per file${limit}`;
  const input = $("drop-files");
  const send = $("drop-send");
  input.addEventListener("change", () => (send.disabled = input.files.length === 0));
  send.addEventListener("click", () => sendDrops(link, target, [...input.files]));
  setStatus("ready", "drop", "You can send files through this link. You cannot see what is stored there.");
}

async function sendDrops(link, target, files) {
  if (busy || files.length === 0) return;
  busy = true;
  const send = $("drop-send");
  const progress = $("drop-progress");
  send.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  let sent = 0;
  try {
    for (const [i, file] of files.entries()) {
      setStatus("loading", "dropping", `Encrypting and sending ${file.name} (${i + 1} of ${files.length})…`);
      if (file.size > target.maxSize) throw new PageError("upload-too-large");
      // read, sealed and kept a MiB at a time (a Blob the browser may keep on disk), never whole
      const step = (f) => (progress.value = (i + f) / files.length);
      const sealed = await drops.sealDropBlob(target, link.secret, link.linkId, file.name.normalize("NFC"), file, file.lastModified, step);
      await postDrop(link, sealed);
      sent += 1;
      progress.value = sent / files.length;
      const item = el("li", `${file.name}: sent (${formatSize(file.size)})`);
      item.dataset.name = file.name;
      $("drop-done").append(item);
    }
    setStatus("done", "dropped", `Sent ${sent} file${sent === 1 ? "" : "s"}, encrypted for the link's owner.`);
  } catch (err) {
    if (err instanceof core.UsageError) setStatus("error", "upload-refused", err.message);
    else showError(err);
  } finally {
    busy = false;
    send.disabled = false;
  }
}

// ------------------------------------------------------------------ start

async function start() {
  if (!globalThis.crypto?.subtle) throw new PageError("insecure");
  const idText = location.pathname.split("/").pop();
  let link;
  try {
    link = { idText, linkId: core.parseLinkId(idText), ...core.parseFragment(FRAGMENT) };
  } catch {
    throw new PageError("malformed");
  }
  link.token = core.b64urlEncode(await core.linkToken(link.secret, link.linkId));
  setStatus("loading", "descriptor", "Opening the link…");
  const info = await (await api(`/v1/l/${idText}`, link.token, "unknown")).json();
  const descriptor = core.b64Decode(info.descriptor);
  if (info.kind === "drop") {
    const key = await core.linkKey(link.secret, link.linkId, null);
    showDrop(link, await drops.openDropLink(descriptor, key, link.linkId), info);
    return;
  }
  let desc;
  if (link.needsPassword || info.password === true) {
    desc = await askPassword(link, descriptor);
  } else {
    desc = await core.openDescriptor(descriptor, await core.linkKey(link.secret, link.linkId, null), link.linkId);
  }
  if (desc.kind === "file") showFile(link, desc);
  else await openFolder(link, [{ name: desc.name, nodeId: desc.nodeId, key: desc.key }]);
}

function run() {
  start().catch((err) => {
    if (showError(err) === "unreachable") {
      const retry = el("button", "Try again");
      retry.type = "button";
      retry.id = "retry";
      retry.addEventListener("click", () => {
        retry.remove();
        run();
      });
      $("status").append(" ", retry);
    }
  });
}

run();
