// Canonical byte encoding of format v1 (docs/spec/format-v1.md §1): a strict reader and a
// writer. Decoders refuse a wrong magic or version, short input, lengths out of range and
// trailing bytes with FormatError (the class linkcore.js defines, so callers see one type).
import { FormatError, UsageError, concat } from "/s/assets/linkcore.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const label = (s) => utf8.encode(s);
export const utf8Encode = (s) => utf8.encode(s);

/** email' of §3: NFKC, trimmed, lower-cased, one "@" with text on both sides; or null. */
export function normalizeEmail(email) {
  const norm = String(email).normalize("NFKC").trim().toLowerCase();
  const at = norm.indexOf("@");
  const bad =
    at < 1 || at === norm.length - 1 || norm.indexOf("@", at + 1) !== -1 ||
    utf8.encode(norm).length > 320 || /[\s\u0000-\u001f]/.test(norm);
  return bad ? null : norm;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }
  take(n) {
    if (n < 0 || this.pos + n > this.bytes.length) throw new FormatError("truncated input");
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u16() {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }
  u32() {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  u64() {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError("integer too large");
    return Number(v);
  }
  var16(max) {
    const n = this.u16();
    if (n > max) throw new FormatError("field too long");
    return this.take(n);
  }
  var32(max) {
    const n = this.u32();
    if (n > max) throw new FormatError("field too long");
    return this.take(n);
  }
  text16(max) {
    let text;
    try {
      text = strictUtf8.decode(this.var16(max));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError("invalid UTF-8");
    }
    if (text.normalize("NFC") !== text) throw new FormatError("text not in NFC");
    return text;
  }
  header(magic, version) {
    if (!equalBytes(this.take(4), label(magic))) throw new FormatError("wrong magic");
    if (this.u8() !== version) throw new FormatError("unsupported format version");
  }
  finish() {
    if (this.pos !== this.bytes.length) throw new FormatError("trailing data");
  }
}

export class Writer {
  constructor() {
    this.parts = [];
  }
  raw(bytes) {
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }
  header(magic, version) {
    return this.raw(label(magic)).u8(version);
  }
  fixed(bytes, n) {
    if (bytes.length !== n) throw new UsageError(`field must be ${n} bytes`);
    return this.raw(bytes);
  }
  u8(v) {
    return this.int(v, 1);
  }
  u16(v) {
    return this.int(v, 2);
  }
  u32(v) {
    return this.int(v, 4);
  }
  u64(v) {
    if (!Number.isSafeInteger(v) || v < 0) throw new UsageError("u64 out of range");
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(v));
    return this.raw(out);
  }
  int(v, n) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * n)) throw new UsageError("int out of range");
    const out = new Uint8Array(n);
    for (let i = n - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x % 256;
    return this.raw(out);
  }
  var16(bytes) {
    return this.u16(bytes.length).raw(bytes);
  }
  var32(bytes) {
    return this.u32(bytes.length).raw(bytes);
  }
  text16(s) {
    return this.var16(utf8.encode(s));
  }
  bytes() {
    return concat(...this.parts);
  }
}
