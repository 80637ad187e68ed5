// decrypt-stream.js: streaming, chunk-by-chunk verified decryption of a blindvault
// content blob (format v1, docs/spec/format-v1.md §5) into a ReadableStream of plaintext.
// Runs in a page, a Worker and the service worker alike. All cryptography is
// linkcore.js's: ContentDecryptor for a whole file, and its ChunkedDecryptor's header
// check (key commitment) plus per-chunk AES-GCM opening for a ranged read.
//
// Nothing unverified is ever enqueued: a chunk is released only after its tag checked,
// and a failure errors the stream with linkcore's IntegrityError (the consumer, e.g. a
// browser download, then fails instead of completing). Memory stays bounded: the
// streams are pull-based (one network read in flight, at most a few chunks queued).
//
// See README.md beside this file for the API.
import * as core from "/s/assets/linkcore.js";

const PREFIX = new Uint8Array([0x42, 0x56, 0x43, 0x54, 0x01]); // "BVCT" || version 1
const HEADER = PREFIX.length + core.C2SP_HEADER_SIZE; // 61 bytes before chunk 0

/** Failure of the transport (network, HTTP status), as opposed to an integrity failure. */
export class FetchError extends core.LinkError {
  constructor(code, status = 0, apiCode = "") {
    super(`fetch failed: ${code}`);
    this.code = code; // "unreachable" | "interrupted" | "http"
    this.status = status; // the HTTP status, for "http"
    this.apiCode = apiCode; // the server's error.code, if it sent one
  }
}

/**
 * A fetcher of ciphertext byte ranges from {url, headers}: the page passes the blob's
 * URL and the headers that authorize it (X-Link-Token for a link, Authorization for
 * the vault). fetcher(start, end) -> Response for bytes [start, end) (end null: to
 * the end of the blob). A function given instead of {url, headers} is used as is.
 */
export function makeFetcher(source) {
  if (typeof source === "function") return source;
  const { url, headers = {} } = source ?? {};
  if (typeof url !== "string" || !url.startsWith("/")) {
    throw new core.UsageError("source.url must be a same-origin path");
  }
  return async (start, end) => {
    const h = new Headers(headers);
    if (start > 0 || end !== null) h.set("Range", `bytes=${start}-${end === null ? "" : end - 1}`);
    let res;
    try {
      res = await fetch(url, {
        headers: h,
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
        redirect: "error",
      });
    } catch {
      throw new FetchError("unreachable");
    }
    const ranged = h.has("Range");
    if (res.status !== (ranged ? 206 : 200)) {
      let apiCode = "";
      if (!res.ok) {
        try {
          apiCode = String((await res.json())?.error?.code ?? "");
        } catch {
          // not JSON
        }
      }
      res.body?.cancel().catch(() => {});
      throw new FetchError("http", res.status, apiCode);
    }
    return res;
  };
}

function checkFile(file) {
  const { key, nodeId, version, size } = file ?? {};
  if (key?.length !== 32 || nodeId?.length !== 16) throw new core.UsageError("bad file key material");
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(size) || size < 0) {
    throw new core.UsageError("bad file version or size");
  }
  return { key, nodeId, version, size };
}

async function readOrFail(reader) {
  try {
    return await reader.read();
  } catch {
    throw new FetchError("interrupted");
  }
}

/**
 * The whole file: fetch the blob once and yield its verified plaintext, `file.size`
 * bytes in all. onProgress(ciphertextBytesRead, ciphertextTotal) is called as it goes.
 */
export function decryptStream(source, file, { onProgress } = {}) {
  const f = checkFile(file);
  const fetcher = makeFetcher(source);
  const total = core.sealedContentSize(f.size);
  let reader = null;
  let dec = null;
  let read = 0;
  return new ReadableStream(
    {
      async start() {
        dec = new core.ContentDecryptor(f.key, f.nodeId, f.version, f.size);
        reader = (await fetcher(0, null)).body.getReader();
      },
      async pull(controller) {
        for (;;) {
          const { done, value } = await readOrFail(reader);
          if (done) {
            const last = await dec.finish();
            if (last.length) controller.enqueue(last);
            controller.close();
            return;
          }
          read += value.length;
          if (read > total) throw new core.IntegrityError(); // stop early (finish() would too)
          const plain = await dec.update(value);
          onProgress?.(read, total);
          if (plain.length) {
            controller.enqueue(plain);
            return;
          }
        }
      },
      cancel() {
        reader?.cancel().catch(() => {});
      },
    },
    { highWaterMark: 2 },
  );
}

/**
 * Plaintext bytes [start, end) of the file (end clamped to file.size), decrypting only
 * the chunks that cover them, each verified on its own: the key commitment in the
 * header first, then every covering chunk's tag, its exact length (full-size, or the
 * short last chunk where the authenticated size says it ends) and zero padding.
 */
export function decryptRange(source, file, start, end) {
  const f = checkFile(file);
  const fetcher = makeFetcher(source);
  const padded = core.padmeLength(f.size);
  const stop = Math.min(end ?? f.size, f.size);
  if (!Number.isSafeInteger(start) || start < 0 || start > stop) throw new core.UsageError("bad range");
  const lastChunk = Math.floor(padded / core.CHUNK_SIZE); // index of the short final chunk
  const first = Math.floor(start / core.CHUNK_SIZE);
  const last = stop === start ? first - 1 : Math.floor((stop - 1) / core.CHUNK_SIZE);
  let opener = null;
  let reader = null;
  let index = first;
  const pending = [];
  let pendingBytes = 0;

  const sealedLength = (i) => (i < lastChunk ? core.SEALED_CHUNK_SIZE : (padded % core.CHUNK_SIZE) + 16);
  const take = (n) => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = pending[0];
      const k = Math.min(head.length, n - at);
      out.set(head.subarray(0, k), at);
      at += k;
      if (k === head.length) pending.shift();
      else pending[0] = head.subarray(k);
    }
    pendingBytes -= n;
    return out;
  };

  async function openChunk(i, sealed) {
    let plain;
    try {
      plain = await opener.inner.openChunk(i, sealed);
    } catch {
      throw new core.IntegrityError();
    }
    const from = i * core.CHUNK_SIZE;
    // the part past the true size is padding and must be zero (§5)
    let nonzero = 0;
    for (let j = Math.max(0, f.size - from); j < plain.length; j++) nonzero |= plain[j];
    if (nonzero) throw new core.IntegrityError(); // mutant: stream.range-padding
    const lo = Math.max(start, from) - from;
    const hi = Math.min(stop, from + plain.length) - from;
    return plain.subarray(lo, hi);
  }

  return new ReadableStream(
    {
      async start() {
        if (last < first) return;
        const headRes = await fetcher(0, HEADER);
        const head = new Uint8Array(await headRes.arrayBuffer());
        if (head.length !== HEADER) throw new core.IntegrityError();
        for (let i = 0; i < PREFIX.length; i++) {
          // mutant: stream.range-prefix
          if (head[i] !== PREFIX[i]) throw new core.FormatError("not a blindvault v1 content blob");
        }
        opener = new core.ChunkedDecryptor(f.key, core.contentContext(f.nodeId, f.version));
        // constant-time key-commitment check (linkcore); a wrong key, context or blob fails
        await opener.openHeader(head.subarray(PREFIX.length));
        const from = HEADER + first * core.SEALED_CHUNK_SIZE;
        const to = HEADER + last * core.SEALED_CHUNK_SIZE + sealedLength(last);
        reader = (await fetcher(from, to)).body.getReader();
      },
      async pull(controller) {
        if (index > last) {
          controller.close();
          return;
        }
        const need = sealedLength(index);
        while (pendingBytes < need) {
          const { done, value } = await readOrFail(reader);
          // the server sent less than asked
          if (done) throw new core.IntegrityError(); // mutant: stream.range-truncated
          pending.push(value);
          pendingBytes += value.length;
        }
        const plain = await openChunk(index, take(need));
        index += 1;
        if (plain.length) controller.enqueue(plain);
        if (index > last) controller.close();
      },
      cancel() {
        reader?.cancel().catch(() => {});
      },
    },
    { highWaterMark: 2 },
  );
}

/** Media type to announce for a file name (the server never sees names). */
export function mediaType(name) {
  const ext = String(name).toLowerCase().split(".").pop();
  const types = {
    webm: "video/webm",
    mp4: "video/mp4",
    m4v: "video/mp4",
    mov: "video/quicktime",
    ogv: "video/ogg",
    mp3: "audio/mpeg",
    m4a: "audio/mp4",
    ogg: "audio/ogg",
    oga: "audio/ogg",
    opus: "audio/ogg",
    wav: "audio/wav",
    flac: "audio/flac",
  };
  return types[ext] ?? "application/octet-stream";
}

/** "video" or "audio" when the browser can likely play the file in place, else null. */
export function playableKind(name) {
  const type = mediaType(name);
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return null;
}
