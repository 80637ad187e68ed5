// zip.js: a folder as one ZIP archive, streamed (APPNOTE 6.3.x, "stored": no compression,
// which encrypted-then-decrypted files rarely gain from). Each file's bytes come from a
// verified, decrypted stream (decrypt-stream.js); its CRC-32 is computed as it passes and
// written after it in a data descriptor (general purpose bit 3), so nothing is buffered
// and the archive's length is known before the first byte (Content-Length). Names are
// UTF-8 (bit 11). No ZIP64: an archive of 4 GiB or more, or of 65,535 entries or more,
// is refused (ZipTooLargeError) — `blindvault get` fetches such folders.
//
//   const plan = zipPlan([{path: "a/b.txt", size, mtimeMs}, {path: "a/", dir: true}]);
//   const stream = zipStream(plan, (entry) => readableStreamOfItsBytes);

const utf8 = new TextEncoder();
const LIMIT = 0xffffffff;
const MAX_ENTRIES = 0xffff;
const LOCAL = 30;
const DESCRIPTOR = 16;
const CENTRAL = 46;
const END = 22;
const FLAG_UTF8 = 0x0800;
const FLAG_DESCRIPTOR = 0x0008;

export class ZipTooLargeError extends Error {
  constructor() {
    super("This folder is too large for one .zip (4 GiB or 65,535 entries): use `blindvault get`.");
    this.name = "ZipTooLargeError";
  }
}

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309) of `bytes`, continuing from `crc` (0 to start). */
export function crc32(crc, bytes) {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// MS-DOS date and time (local fields of the UTC time: archives carry no zone).
function dos(ms) {
  const d = new Date(Number.isFinite(ms) && ms > 0 ? ms : 0);
  if (d.getUTCFullYear() < 1980) return { time: 0, date: (1 << 5) | 1 };
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** Where every entry goes and how long the archive is; refuses what needs ZIP64. */
export function zipPlan(entries) {
  if (entries.length >= MAX_ENTRIES) throw new ZipTooLargeError();
  let offset = 0;
  let central = 0;
  const planned = entries.map((e) => {
    const name = utf8.encode(e.dir && !e.path.endsWith("/") ? `${e.path}/` : e.path);
    const size = e.dir ? 0 : e.size;
    const p = { ...e, name, size, dir: Boolean(e.dir), offset, crc: 0, ...dos(e.mtimeMs) };
    offset += LOCAL + name.length + size + (p.dir ? 0 : DESCRIPTOR);
    central += CENTRAL + name.length;
    return p;
  });
  if (offset + central + END > LIMIT) throw new ZipTooLargeError();
  return { entries: planned, centralOffset: offset, centralSize: central, size: offset + central + END };
}

function bytes(n, fill) {
  const out = new Uint8Array(n);
  fill(new DataView(out.buffer));
  return out;
}

const flags = (e) => FLAG_UTF8 | (e.dir ? 0 : FLAG_DESCRIPTOR);

function localHeader(e) {
  const out = bytes(LOCAL + e.name.length, (v) => {
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true); // version needed: 2.0
    v.setUint16(6, flags(e), true);
    v.setUint16(8, 0, true); // stored
    v.setUint16(10, e.time, true);
    v.setUint16(12, e.date, true);
    // CRC-32 and sizes are zero here and follow the data (bit 3); a folder has none
    v.setUint16(26, e.name.length, true);
  });
  out.set(e.name, LOCAL);
  return out;
}

function descriptor(e) {
  return bytes(DESCRIPTOR, (v) => {
    v.setUint32(0, 0x08074b50, true);
    v.setUint32(4, e.crc, true);
    v.setUint32(8, e.size, true);
    v.setUint32(12, e.size, true);
  });
}

function centralDirectory(plan) {
  const out = new Uint8Array(plan.centralSize + END);
  let at = 0;
  for (const e of plan.entries) {
    const v = new DataView(out.buffer, at, CENTRAL);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0
    v.setUint16(6, 20, true);
    v.setUint16(8, flags(e), true);
    v.setUint16(10, 0, true);
    v.setUint16(12, e.time, true);
    v.setUint16(14, e.date, true);
    v.setUint32(16, e.crc, true);
    v.setUint32(20, e.size, true);
    v.setUint32(24, e.size, true);
    v.setUint16(28, e.name.length, true);
    v.setUint32(38, e.dir ? ((0o40755 << 16) | 0x10) >>> 0 : (0o100644 << 16) >>> 0, true);
    v.setUint32(42, e.offset, true);
    out.set(e.name, at + CENTRAL);
    at += CENTRAL + e.name.length;
  }
  const v = new DataView(out.buffer, at, END);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, plan.entries.length, true);
  v.setUint16(10, plan.entries.length, true);
  v.setUint32(12, plan.centralSize, true);
  v.setUint32(16, plan.centralOffset, true);
  return out;
}

/**
 * The archive as a stream: `open(entry)` gives each file's bytes (a ReadableStream of
 * Uint8Array); a stream that fails (a chunk that did not verify) fails the archive, and a
 * file whose length is not the one planned is an error too.
 */
export function zipStream(plan, open) {
  let i = 0;
  let reader = null;
  let got = 0;
  return new ReadableStream(
    {
      async pull(controller) {
        const e = plan.entries[i];
        if (reader) {
          const step = await reader.read();
          if (!step.done) {
            e.crc = crc32(e.crc, step.value);
            got += step.value.length;
            controller.enqueue(step.value);
            return;
          }
          reader = null;
          if (got !== e.size) throw new Error("a file's length is not the one listed");
          controller.enqueue(descriptor(e));
          i++;
          return;
        }
        if (e) {
          controller.enqueue(localHeader(e));
          if (e.dir) i++;
          else [reader, got, e.crc] = [open(e).getReader(), 0, 0];
          return;
        }
        controller.enqueue(centralDirectory(plan));
        controller.close();
      },
      cancel(reason) {
        reader?.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 1 },
  );
}
