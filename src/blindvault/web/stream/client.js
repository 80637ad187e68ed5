// client.js: the page side of blindvault's streaming service worker (/sw.js).
//
//   const sw = await connect();              // null when no service worker can run here
//   await sw.download(job, {onProgress});    // streamed "Save as" of any size
//   const src = await sw.mediaUrl(job);      // "/sw-media/<id>" for <video>/<audio>
//
// job = {source: {url, headers}, file: {key, nodeId, version, size}, name, type?};
// sw.download({name, entries}, {kind: "archive"}) streams a folder as one .zip.
// The descriptor travels by postMessage on a private MessageChannel, never in a URL;
// the page then navigates a hidden <iframe> to /sw-dl/<random id>. download() resolves when
// the worker has streamed the last verified byte and rejects with StreamError(code)
// ("tampered" for a chunk that failed verification: the browser's download is then
// failed and no complete file is saved). See README.md beside this file.

const SW_URL = "/sw.js";
const PING_MS = 10_000; // keep-alive while a transfer runs

export class StreamError extends Error {
  constructor(code, status = 0, apiCode = "") {
    super(`streamed transfer failed: ${code}`);
    this.name = "StreamError";
    this.code = code;
    this.status = status; // for code "http": the HTTP status of the blob request
    this.apiCode = apiCode; // and the server's error.code (e.g. "link_exhausted")
  }
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

// Under `require-trusted-types-for 'script'`, register() takes a TrustedScriptURL: a
// policy that can only ever produce the one worker URL.
let policy = null;
function workerUrl() {
  const tt = globalThis.trustedTypes;
  if (!tt) return SW_URL;
  policy ??= tt.createPolicy("blindvault-sw", {
    createScriptURL: (u) => {
      if (u !== SW_URL) throw new TypeError("not the blindvault service worker");
      return u;
    },
  });
  return policy.createScriptURL(SW_URL);
}

function withTimeout(promise, ms, code) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StreamError(code)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class StreamClient {
  constructor(registration) {
    this.registration = registration;
  }

  get worker() {
    return this.registration.active;
  }

  /** True when this page is controlled, which in-page media (subresources) needs. */
  get controlsPage() {
    return navigator.serviceWorker.controller !== null;
  }

  async register(job, kind, listener) {
    const id = randomId();
    const channel = new MessageChannel();
    const registered = new Promise((resolve, reject) => {
      channel.port1.onmessage = (event) => {
        const msg = event.data ?? {};
        if (msg.type === "registered") resolve();
        else if (msg.type === "refused") reject(new StreamError("refused"));
        else listener?.(msg);
      };
    });
    const { source, file, name, type, entries } = job;
    const message = { type: "register", id, kind, source, file, name, contentType: type, entries };
    this.worker.postMessage(message, [channel.port2]);
    await withTimeout(registered, 10_000, "no-worker");
    return { id, port: channel.port1 };
  }

  /**
   * Stream one file to disk through the worker; resolves once it was all verified. With
   * `kind: "archive"`, `job` is {name, entries: [{path, source, file, mtimeMs} or
   * {path, dir: true}]}: a folder as one .zip (zip.js), every file verified as it streams.
   */
  async download(job, { onProgress, kind = "download" } = {}) {
    let settle;
    const finished = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    const { id, port } = await this.register(job, kind, (msg) => {
      if (msg.type === "progress") onProgress?.(msg.done, msg.total);
      else if (msg.type === "done") settle.resolve();
      else if (msg.type === "error") settle.reject(new StreamError(msg.code, msg.status, msg.apiCode));
      else if (msg.type === "cancelled") settle.reject(new StreamError("cancelled"));
    });
    const ping = setInterval(() => this.worker?.postMessage({ type: "ping" }), PING_MS);
    let frame = null;
    try {
      // A navigation, so the worker answers it (Chromium sends <a download> requests
      // past service workers); the attachment leaves the frame empty.
      frame = document.createElement("iframe");
      frame.hidden = true;
      frame.src = `/sw-dl/${id}`;
      document.body.append(frame);
      await finished;
    } finally {
      clearInterval(ping);
      port.close();
      setTimeout(() => frame?.remove(), 1000);
    }
  }

  /**
   * A same-origin URL that plays the file in place with ranged, chunk-verified
   * decryption. onError(StreamError) is called if a range fails (e.g. verification).
   */
  async mediaUrl(job, { onError } = {}) {
    if (!this.controlsPage) throw new StreamError("not-controlled");
    const { id } = await this.register(job, "media", (msg) => {
      if (msg.type === "error") onError?.(new StreamError(msg.code, msg.status, msg.apiCode));
    });
    return `/sw-media/${id}`;
  }

  forget(url) {
    const id = String(url).split("/").pop();
    this.worker?.postMessage({ type: "forget", id });
  }
}

/**
 * Register /sw.js (scope /) and wait until it is active (and, if it can be, in control
 * of this page). Resolves null where service workers are unavailable (no API, not a
 * secure context, private mode, blocked): callers then fall back to a Blob.
 */
export async function connect({ timeoutMs = 10_000 } = {}) {
  if (!("serviceWorker" in navigator) || !globalThis.isSecureContext) return null;
  try {
    const container = navigator.serviceWorker;
    await container.register(workerUrl(), { scope: "/", type: "module", updateViaCache: "none" });
    const registration = await withTimeout(container.ready, timeoutMs, "no-worker");
    if (container.controller === null) {
      // clients.claim() in the worker's activate step takes this page over shortly
      const claimed = new Promise((resolve) => container.addEventListener("controllerchange", resolve, { once: true }));
      await withTimeout(claimed, 3_000, "not-controlled").catch(() => {});
    }
    return registration.active ? new StreamClient(registration) : null;
  } catch {
    return null;
  }
}
