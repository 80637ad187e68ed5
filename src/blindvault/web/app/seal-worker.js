// Upload encryption off the main thread (a classic worker script, started by loader.js
// from the pinned, checked bytes of this file). The page derives the chunk key, nonce and
// commitment (transfer.js, C2SP chunked, §5) and hands over the File, the non-extractable
// AES-GCM key, the base nonce and the 61-byte BVCT prefix; this worker reads the file in
// 4 MiB slices (File.slice: never the whole file), pads it with zeros to its Padmé size,
// encrypts every 16 KiB chunk and posts the sealed blob in parts of exactly `partSize`
// bytes (the last shorter), each as a transferred ArrayBuffer. It holds at most `credit`
// parts not yet acknowledged: the page sends {credit: 1} when a part has been sent, so
// memory stays bounded whatever the file's size.
// Messages out: {plain: n} (progress), {part, number}, {done: true, readMs, encryptMs}
// (time spent reading and encrypting, for `blindvault bench browser`), {error: text}.
/* exported sealParts */
const SEAL_CHUNK = 16384;
const SEAL_TAG = 16;
const SEAL_SLICE_CHUNKS = 256; // 4 MiB of plaintext per read

function sealNonce(base, i) {
  const n = base.slice();
  for (let j = 11, c = i; c > 0; j--, c = Math.floor(c / 256)) n[j] ^= c % 256;
  return n;
}

/** Seal `job.file`; `post(message, transfer)` sends, `credits()` resolves when a part may go. */
async function sealParts(job, post, credits) {
  const { file, key, baseNonce, prefix, size, padded, partSize } = job;
  if (file.size !== size) throw new Error("the file changed while it was being uploaded");
  const count = Math.floor(padded / SEAL_CHUNK) + 1; // the last chunk is short (maybe empty)
  const total = prefix.length + padded + count * SEAL_TAG;
  let remaining = total;
  let part = new Uint8Array(Math.min(partSize, remaining));
  let fill = 0;
  let number = 1;
  const write = async (bytes) => {
    for (let at = 0; at < bytes.length; ) {
      const take = Math.min(bytes.length - at, part.length - fill);
      part.set(bytes.subarray(at, at + take), fill);
      fill += take;
      at += take;
      if (fill === part.length) {
        remaining -= fill;
        await credits();
        post({ part: part.buffer, number: number++ }, [part.buffer]);
        part = new Uint8Array(Math.min(partSize, remaining));
        fill = 0;
      }
    }
  };
  let readMs = 0;
  let encryptMs = 0;
  await write(prefix);
  for (let first = 0; first < count; first += SEAL_SLICE_CHUNKS) {
    const stop = Math.min(first + SEAL_SLICE_CHUNKS, count);
    const pos = first * SEAL_CHUNK;
    const end = Math.min(stop * SEAL_CHUNK, padded);
    const r0 = performance.now();
    const plain = new Uint8Array(end - pos); // zeros past the file's end: the padding
    if (pos < size) plain.set(new Uint8Array(await file.slice(pos, Math.min(end, size)).arrayBuffer()));
    const e0 = performance.now();
    readMs += e0 - r0;
    const jobs = [];
    for (let i = first; i < stop; i++) {
      const piece = plain.subarray(i * SEAL_CHUNK - pos, Math.min((i + 1) * SEAL_CHUNK, padded) - pos);
      jobs.push(crypto.subtle.encrypt({ name: "AES-GCM", iv: sealNonce(baseNonce, i), tagLength: 128 }, key, piece));
    }
    const sealed = await Promise.all(jobs);
    encryptMs += performance.now() - e0;
    for (const c of sealed) await write(new Uint8Array(c));
    post({ plain: Math.max(0, Math.min(end, size) - pos) });
  }
  if (remaining !== 0) throw new Error("sealed size mismatch");
  post({ done: true, readMs, encryptMs });
}

if (typeof self !== "undefined" && typeof self.postMessage === "function") {
  let credit = 0;
  let waiting = null;
  const credits = () =>
    credit > 0
      ? (credit--, Promise.resolve())
      : new Promise((resolve) => {
          waiting = () => {
            credit--;
            resolve();
          };
        });
  self.onmessage = (event) => {
    const data = event.data;
    if (data.credit) {
      credit += data.credit;
      if (waiting && credit > 0) {
        const w = waiting;
        waiting = null;
        w();
      }
      return;
    }
    credit = data.credit0;
    sealParts(data, (m, t) => self.postMessage(m, t || []), credits).catch((e) => {
      const unreadable = e && (e.name === "NotReadableError" || e.name === "NotFoundError");
      self.postMessage({ error: unreadable ? "the file could not be read (was it changed or removed?)" : String(e && e.message) });
    });
  };
}
