// File content up and down (§5, §13). Uploads are sealed in a Web Worker (seal-worker.js):
// this thread derives the chunk key, base nonce and commitment under a fresh key, hands
// the worker the File and a non-extractable AES-GCM key, and only sends what comes back,
// whole (≤ 8 MiB) or as resumable parts of the server's part size, three sending while
// the worker fills the fourth. Downloads authenticate every chunk and hand out the file
// only after the last one verified.
import {
  ContentDecryptor, blobId, chunkedDerive, concat, contentContext, padmeLength, sealedContentSize,
} from "/s/assets/linkcore.js";
import { label, randomBytes } from "./bytes.js";
import { StaleResumeError } from "./resume.js";

const subtle = globalThis.crypto.subtle;
export const SMALL_BLOB = 8 << 20;
const PART_RETRIES = 3;
const PARTS_IN_FLIGHT = 3; // with the one filling: at most 4 parts (32 MiB) in memory

export class ReadError extends Error {
  constructor(message) {
    super(`Upload failed: ${message}. Nothing was saved.`);
    this.name = "ReadError";
  }
}

/** What the seal worker needs for one blob: the prefix and key of a fresh C2SP derivation. */
export async function sealJob(file, key, nodeId, version, partSize, salt = randomBytes(24)) {
  const { aeadKey, baseNonce, commitment } = await chunkedDerive(key, salt, contentContext(nodeId, version));
  const cryptoKey = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["encrypt"]);
  aeadKey.fill(0);
  const prefix = concat(label("BVCT"), new Uint8Array([1]), salt, commitment);
  return { file, key: cryptoKey, baseNonce, prefix, size: file.size, padded: padmeLength(file.size), partSize };
}

/**
 * Run `job` in `worker`: `onPart(number, bytes)` sends each sealed part (a promise); at
 * most `inFlight` parts are out at once. Resolves with the worker's {readMs, encryptMs}
 * when every part was sent; the worker is ended in every case.
 */
export function runSealer(worker, job, { onPart, onPlain = () => {}, signal, inFlight = PARTS_IN_FLIGHT }) {
  return new Promise((resolve, reject) => {
    const sending = new Set();
    let over = false;
    const end = (fn, value) => {
      if (over) return;
      over = true;
      worker.terminate();
      fn(value);
    };
    const fail = (e) => end(reject, e);
    if (signal?.aborted) return fail(signal.reason);
    signal?.addEventListener("abort", () => fail(signal.reason), { once: true });
    worker.onerror = () => fail(new ReadError("the encryption worker stopped"));
    worker.onmessage = ({ data }) => {
      if (over) return;
      if (data.error) return fail(new ReadError(data.error));
      if (data.done) return Promise.all(sending).then(() => end(resolve, { readMs: data.readMs, encryptMs: data.encryptMs }), fail);
      if (!data.part) return onPlain(data.plain);
      const sent = onPart(data.number, new Uint8Array(data.part));
      sending.add(sent);
      sent.then(() => {
        sending.delete(sent);
        if (!over) worker.postMessage({ credit: 1 });
      }, fail);
    };
    worker.postMessage({ ...job, credit0: inFlight });
  });
}

// Request bodies go as a Blob: Chromium hands a Blob to its network process by reference,
// while an ArrayBuffer body is copied through IPC in small pieces (measured on 8 MiB
// parts: 64 MiB in 2.2 s as Blobs, 24.7 s as Uint8Arrays).
async function putPart(api, uploadId, number, bytes, signal, q = "") {
  const body = new Blob([bytes]);
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.request("PUT", `/v1/uploads/${uploadId}/parts/${number}${q}`, {
        body, headers: { "content-type": "application/octet-stream" }, signal,
      });
    } catch (e) {
      const retry = e?.name !== "AbortError" && (e.status === 0 || e.status >= 500) && attempt < PART_RETRIES;
      if (!retry) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** "?owner=…&space=…" for a folder of an accepted share (its blobs live there), else "". */
export const scope = (space) => (space ? `?${space.query}` : "");

/**
 * Encrypt (in a worker from `sealer()`) and send one file version; returns (with the
 * worker's read and encrypt times) when the blob exists on the server. `space`: the
 * shared space of an accepted share the file goes into. A resumable upload (resume.js):
 * `resume` continues an interrupted one ({uploadId, partSize, salt}; StaleResumeError if
 * the server no longer has it as it was), `onStart({uploadId, partSize, salt})` records a
 * new one before any part is sent, `guard(number, bytes)` sees every part before it goes
 * and `onEnd()` runs once the upload is committed or given up.
 */
export async function sendFile(api, file, opts) {
  const { key, nodeId, version, signal, onPlain, sealer, space = null } = opts;
  const { resume = null, onStart = async () => {}, guard = async () => {}, onEnd = async () => {} } = opts;
  const id = await blobId(nodeId, version);
  const q = scope(space);
  const total = sealedContentSize(file.size);
  if (total <= SMALL_BLOB) {
    const job = await sealJob(file, key, nodeId, version, total);
    let whole = null;
    const times = await runSealer(await sealer(), job, { onPlain, signal, onPart: async (_, bytes) => { whole = bytes; } });
    await api.request("PUT", `/v1/blobs/${id}${q}`, {
      body: new Blob([whole]), headers: { "content-type": "application/octet-stream" }, signal,
    });
    return times;
  }
  let up;
  let salt;
  let have = new Set(); // parts the server has already (a resumed upload)
  if (resume) {
    const st = await api.get(`/v1/uploads/${resume.uploadId}${q}`).catch((e) => {
      if (e.status === 404) return null;
      throw e;
    });
    if (!st || st.state !== "open" || st.blob_id !== id || st.size !== total || st.part_size !== resume.partSize) {
      throw new StaleResumeError();
    }
    up = { upload_id: resume.uploadId, part_size: st.part_size };
    salt = resume.salt;
    have = new Set(st.received.map((p) => p.number));
  } else {
    // Not abortable: a cancel while the server creates the upload would leave it open
    // without the client knowing its id. It is deleted below instead.
    up = await api.post(`/v1/uploads${q}`, { blob_id: id, size: total });
    salt = randomBytes(24);
  }
  try {
    if (!resume) await onStart({ uploadId: up.upload_id, partSize: up.part_size, salt });
    signal?.throwIfAborted();
    const job = await sealJob(file, key, nodeId, version, up.part_size, salt);
    const onPart = async (number, bytes) => {
      await guard(number, bytes); // recorded (or checked) before it may leave
      if (!have.has(number)) await putPart(api, up.upload_id, number, bytes, signal, q);
    };
    const times = await runSealer(await sealer(), job, { onPlain, signal, onPart });
    await api.request("POST", `/v1/uploads/${up.upload_id}/commit${q}`, { signal });
    await onEnd();
    return times;
  } catch (e) {
    await api.del(`/v1/uploads/${up.upload_id}${q}`).catch(() => {});
    await onEnd();
    throw e;
  }
}

/** Download and authenticate a file entry; returns a Blob only once all of it verified. */
export async function fetchFile(api, entry, { signal, onPlain = () => {}, space = null } = {}) {
  const id = await blobId(entry.nodeId, entry.contentVersion);
  const res = await api.request("GET", `/v1/blobs/${id}${scope(space)}`, { raw: true, signal });
  const dec = new ContentDecryptor(entry.key, entry.nodeId, entry.contentVersion, entry.size);
  const reader = res.body.getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const plain = await dec.update(value);
    if (plain.length) parts.push(plain);
    onPlain(plain.length);
  }
  parts.push(await dec.finish());
  return new Blob(parts, { type: "application/octet-stream" });
}
