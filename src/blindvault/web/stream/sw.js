// sw.js: blindvault's service worker (served at /sw.js, scope /). It turns a download
// descriptor that a page of this origin hands it by postMessage into a streamed,
// decrypted, chunk-verified HTTP response:
//
//   /sw-dl/<id>     200, Content-Length = plaintext size, Content-Disposition attachment
//   /sw-media/<id>  200 or 206 (Range), for <video>/<audio> in place; seeks decrypt
//                   only the chunks that cover the asked range
//   /sw-dl/<id>     for an "archive" descriptor (a folder: entries, each a file like the
//                   above or a folder): one .zip, each file verified as it streams (zip.js)
//
// The descriptor (blob URL + headers, file key, node id, version, size, name) never
// appears in a URL: the id is 128 random bits made by the page, and the key stays in
// this browser (in this worker's memory until the page forgets it). If a chunk fails
// verification the response stream errors, so the browser marks the download failed
// and keeps no complete file, and the worker posts {type: "error", code: "tampered"}
// on the page's MessagePort. Every other request is left to the network.
import { FetchError, decryptRange, decryptStream, mediaType } from "/sw/decrypt-stream.js";
import { IntegrityError } from "/s/assets/linkcore.js";
import { zipPlan, zipStream } from "/sw/zip.js";

const MAX_JOBS = 64;
const ID = /^[A-Za-z0-9_-]{22}$/;
const jobs = new Map(); // id -> {kind, source, file, name, type, port}

// Static routing (Chromium 123+): every request but /sw-dl/ and /sw-media/ goes straight to
// the network without waking this worker. Without it, each request of a controlled page or
// worker (API calls, uploads with their bodies) would pass through the fetch event first,
// which made uploads several times slower. Browsers without the API use the fetch handler.
const OWN = { or: [{ urlPattern: { pathname: "/sw-dl/*" } }, { urlPattern: { pathname: "/sw-media/*" } }] };

self.addEventListener("install", (event) => {
  if (typeof event.addRoutes === "function") {
    event.waitUntil(event.addRoutes([{ condition: { not: OWN }, source: "network" }]).catch(() => {}));
  }
  self.skipWaiting();
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function post(job, message) {
  try {
    job.port?.postMessage({ id: job.id, ...message });
  } catch {
    // the page is gone
  }
}

// {code, status, apiCode} for the page: "tampered", "interrupted", "unreachable",
// "http" (with the HTTP status and the server's error code) or "unexpected".
function failure(err) {
  if (err instanceof FetchError) return { code: err.code, status: err.status, apiCode: err.apiCode };
  if (err instanceof IntegrityError || err?.name === "FormatError") return { code: "tampered" };
  return { code: "unexpected" };
}

const goodSource = (source) => typeof source?.url === "string" && source.url.startsWith("/");

function register(data, port) {
  const { id, kind, source, file, name } = data;
  if (!ID.test(id ?? "") || !["download", "media", "archive"].includes(kind)) return "bad descriptor";
  if (jobs.size >= MAX_JOBS) jobs.delete(jobs.keys().next().value); // oldest first
  if (kind === "archive") {
    const entries = data.entries;
    if (!Array.isArray(entries) || entries.some((e) => typeof e?.path !== "string" || (!e.dir && !goodSource(e.source)))) {
      return "bad entries";
    }
    try {
      jobs.set(id, { id, kind, plan: zipPlan(entries.map((e) => ({ ...e, size: e.dir ? 0 : e.file.size }))), name: String(name ?? "folder.zip"), port });
    } catch (e) {
      return e.message;
    }
    return null;
  }
  if (!goodSource(source)) return "bad source";
  const given = data.contentType;
  const type = typeof given === "string" && /^[a-z]+\/[a-z0-9.+-]+$/.test(given) ? given : mediaType(name);
  jobs.set(id, { id, kind, source, file, name: String(name ?? "download"), type, port });
  return null;
}

self.addEventListener("message", (event) => {
  const data = event.data ?? {};
  const port = event.ports?.[0] ?? null;
  if (data.type === "register") {
    const problem = register(data, port);
    port?.postMessage({ id: data.id, type: problem ? "refused" : "registered", problem });
  } else if (data.type === "forget") {
    jobs.delete(data.id);
  } else if (data.type === "ping") {
    // keep-alive during long transfers: handling a message extends this worker's life
    event.waitUntil(Promise.resolve());
    port?.postMessage({ type: "pong" });
  }
});

// RFC 6266 / 5987: an ASCII fallback and the UTF-8 name.
function disposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

const BASE_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; sandbox",
};

function notFound() {
  const text = "This download is no longer available: start it again from the page.";
  return new Response(text, {
    status: 404,
    headers: { ...BASE_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
  });
}

// Pipe a plaintext stream to the response, reporting the end or the failure to the page.
function watched(job, stream, what) {
  const reader = stream.getReader();
  return new ReadableStream(
    {
      async pull(controller) {
        let step;
        try {
          step = await reader.read();
        } catch (err) {
          post(job, { type: "error", what, ...failure(err) });
          controller.error(err);
          return;
        }
        if (step.done) {
          if (what === "download") post(job, { type: "done" });
          controller.close();
        } else {
          controller.enqueue(step.value);
        }
      },
      cancel(reason) {
        reader.cancel(reason).catch(() => {});
        if (what === "download") post(job, { type: "cancelled" });
      },
    },
    { highWaterMark: 1 },
  );
}

function download(job) {
  jobs.delete(job.id); // a download id is good for one response
  let last = 0;
  const onProgress = (done, total) => {
    if (done - last >= 1 << 20 || done === total) {
      last = done;
      post(job, { type: "progress", done, total });
    }
  };
  const plain = decryptStream(job.source, job.file, { onProgress });
  return new Response(watched(job, plain, "download"), {
    status: 200,
    headers: {
      ...BASE_HEADERS,
      "Content-Type": "application/octet-stream",
      "Content-Length": String(job.file.size),
      "Content-Disposition": disposition(job.name),
    },
  });
}

// One "bytes=a-b" / "bytes=a-" / "bytes=-n" range of a file of `size` bytes, or null
// (whole file); "invalid" when it cannot be satisfied.
function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  let start;
  let end;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size : Math.min(size, Number(m[2]) + 1);
  }
  if (!(start < end)) return "invalid";
  return [start, end];
}

function media(job, request) {
  const size = job.file.size;
  const range = parseRange(request.headers.get("Range"), size);
  const headers = { ...BASE_HEADERS, "Content-Type": job.type, "Accept-Ranges": "bytes" };
  if (range === "invalid") {
    return new Response(null, { status: 416, headers: { ...headers, "Content-Range": `bytes */${size}` } });
  }
  const [start, end] = range ?? [0, size];
  const plain = decryptRange(job.source, job.file, start, end);
  headers["Content-Length"] = String(end - start);
  if (range === null) return new Response(watched(job, plain, "media"), { status: 200, headers });
  headers["Content-Range"] = `bytes ${start}-${end - 1}/${size}`;
  return new Response(watched(job, plain, "media"), { status: 206, headers });
}

function archive(job) {
  jobs.delete(job.id); // good for one response
  const { plan } = job;
  let base = 0;
  let last = 0;
  const open = (e) => {
    base = e.offset;
    const onProgress = (done) => {
      if (base + done - last >= 1 << 20) {
        last = base + done;
        post(job, { type: "progress", done: last, total: plan.size });
      }
    };
    return decryptStream(e.source, e.file, { onProgress });
  };
  return new Response(watched(job, zipStream(plan, open), "download"), {
    status: 200,
    headers: {
      ...BASE_HEADERS,
      "Content-Type": "application/zip",
      "Content-Length": String(plan.size),
      "Content-Disposition": disposition(job.name),
    },
  });
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  const m = /^\/sw-(dl|media)\/([A-Za-z0-9_-]{22})$/.exec(url.pathname);
  if (!m) return; // everything else goes to the network untouched
  const job = jobs.get(m[2]);
  const kind = m[1] === "dl" ? "download" : "media";
  if (!job || (job.kind !== kind && !(kind === "download" && job.kind === "archive"))) {
    event.respondWith(notFound());
    return;
  }
  if (job.kind === "archive") event.respondWith(archive(job));
  else event.respondWith(kind === "download" ? download(job) : media(job, event.request));
});
