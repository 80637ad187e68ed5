// browser_upload.js: the upload leg of `blindvault bench browser`, run in a module Worker.
// Reads a File in slices, pads it (Padmé, §5), encrypts it in the C2SP chunked format
// (Cobblestone-256: linkcore.js's chunkedDerive for key, nonce and commitment;
// AES-256-GCM per 16 KiB chunk by WebCrypto) with the content context of a fresh node
// id, and sends the BVCT blob through the public resumable-upload API the CLI uses
// (POST /v1/uploads, PUT .../parts/N, POST .../commit) with the session's bearer token.
// The blob is not named in any manifest: this measures read + encrypt + upload only.
// The download leg decrypts it back through the service worker, which checks it.
import * as core from "/s/assets/linkcore.js";

const CHUNK = core.CHUNK_SIZE;
const SLICE = 4 * 1024 * 1024; // plaintext read per step (a multiple of CHUNK)
const IN_FLIGHT = 3; // parts being sent at once

function nonce(base, i) {
  const n = base.slice();
  for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) n[j] ^= c % 256;
  return n;
}

async function api(path, token, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${res.status}`);
  return res;
}

// Collects sealed bytes into parts of exactly part_size and sends each as a Blob (Chromium
// sends a Blob body ~35% faster than an ArrayBuffer on this machine), IN_FLIGHT at once.
class PartSink {
  constructor(uploadId, partSize, token) {
    this.base = `/v1/uploads/${uploadId}/parts/`;
    this.partSize = partSize;
    this.token = token;
    this.pieces = [];
    this.fill = 0;
    this.number = 1;
    this.sending = new Set();
  }
  async write(bytes) {
    let at = 0;
    while (at < bytes.length) {
      const k = Math.min(bytes.length - at, this.partSize - this.fill);
      this.pieces.push(k === bytes.length ? bytes : bytes.subarray(at, at + k));
      this.fill += k;
      at += k;
      if (this.fill === this.partSize) await this.flush();
    }
  }
  async flush() {
    if (this.fill === 0) return;
    const body = new Blob(this.pieces);
    this.pieces = [];
    this.fill = 0;
    const put = api(this.base + this.number++, this.token, { method: "PUT", body });
    this.sending.add(put);
    put.finally(() => this.sending.delete(put)).catch(() => {});
    if (this.sending.size >= IN_FLIGHT) await Promise.race(this.sending);
  }
  async close() {
    await this.flush();
    await Promise.all(this.sending);
  }
}

async function upload({ file, token, blobId, key, nodeId, version }) {
  const t0 = performance.now();
  const size = file.size;
  const padded = core.padmeLength(size);
  const sealed = core.sealedContentSize(size);
  const started = await (
    await api("/v1/uploads", token, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ blob_id: blobId, size: sealed }),
    })
  ).json();
  const sink = new PartSink(started.upload_id, started.part_size, token);
  const salt = crypto.getRandomValues(new Uint8Array(24));
  const { aeadKey, baseNonce, commitment } = await core.chunkedDerive(key, salt, core.contentContext(nodeId, version));
  const aes = await crypto.subtle.importKey("raw", aeadKey, "AES-GCM", false, ["encrypt"]);
  await sink.write(core.concat(new Uint8Array([0x42, 0x56, 0x43, 0x54, 0x01]), salt, commitment));
  let readMs = 0;
  let encryptMs = 0;
  // Chunk i holds plaintext [i * CHUNK, min((i + 1) * CHUNK, padded)): every chunk but
  // the last is full, the last is short (maybe empty), which marks the end (§5).
  const count = Math.floor(padded / CHUNK) + 1;
  const perSlice = SLICE / CHUNK;
  for (let first = 0; first < count; first += perSlice) {
    const stop = Math.min(first + perSlice, count);
    const pos = first * CHUNK;
    const end = Math.min(stop * CHUNK, padded);
    const r0 = performance.now();
    const plain = new Uint8Array(end - pos); // zeros past the file's end: the padding
    if (pos < size) plain.set(new Uint8Array(await file.slice(pos, Math.min(end, size)).arrayBuffer()));
    const e0 = performance.now();
    readMs += e0 - r0;
    const jobs = [];
    for (let i = first; i < stop; i++) {
      const piece = plain.subarray(i * CHUNK - pos, Math.min((i + 1) * CHUNK, padded) - pos);
      jobs.push(crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce(baseNonce, i) }, aes, piece));
    }
    const out = await Promise.all(jobs);
    encryptMs += performance.now() - e0;
    for (const c of out) await sink.write(new Uint8Array(c));
  }
  await sink.close();
  await api(`/v1/uploads/${started.upload_id}/commit`, token, { method: "POST" });
  return { seconds: (performance.now() - t0) / 1000, readMs, encryptMs, chunks: count, sealed };
}

self.onmessage = async (event) => {
  try {
    self.postMessage({ ok: true, ...(await upload(event.data)) });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err) });
  }
};
