// The server's HTTP API (docs/api.md). Answers are hints: nothing here decides what is
// authentic. Every failure becomes an ApiError with a message a person can act on.
import { b64Decode } from "/s/assets/linkcore.js";
import { b64 } from "./bytes.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const MESSAGES = {
  unauthorized: "Wrong email or password (or this session ended: sign in again).",
  quota_exceeded: "Your storage quota is full: nothing was saved. Delete something and try again.",
  object_limit: "Your account holds the most files allowed: nothing was saved.",
  rate_limited: "Too many attempts: wait a few minutes and try again.",
  too_large: "The server refused a request as too large.",
  forbidden: "You may not change this folder.",
  unavailable: "The server's storage is unavailable right now: try again later.",
};

export class Api {
  constructor(base = "") {
    this.base = base;
    this.token = "";
  }

  async request(method, path, { json, body, headers = {}, signal, raw = false } = {}) {
    const h = { ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let payload = body;
    if (json !== undefined) {
      h["content-type"] = "application/json";
      payload = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(this.base + path, { method, headers: h, body: payload, signal, credentials: "omit", cache: "no-store" });
    } catch (e) {
      if (e?.name === "AbortError") throw e;
      throw new ApiError(0, "offline", "The server cannot be reached: check your connection (you may be offline).");
    }
    if (res.ok) {
      if (raw) return res;
      return res.status === 204 ? null : res.json();
    }
    let code = "error";
    let message = `The server answered ${res.status}.`;
    let detail = {};
    try {
      detail = (await res.json()).error || {};
      code = detail.code || code;
      message = MESSAGES[code] || detail.message || message;
    } catch {
      // not JSON: keep the generic message
    }
    const err = new ApiError(res.status, code, message);
    err.detail = detail;
    throw err;
  }

  get(path, opts) {
    return this.request("GET", path, opts);
  }
  post(path, json, opts = {}) {
    return this.request("POST", path, { ...opts, json });
  }
  put(path, json, opts = {}) {
    return this.request("PUT", path, { ...opts, json });
  }
  del(path, opts) {
    return this.request("DELETE", path, opts);
  }

  /** A record's {version, data (bytes)}, or null when there is none; `query` scopes it to
   * a shared space ("owner=…&space=…"). */
  async record(kind, id, query = "") {
    try {
      const rec = await this.get(`/v1/records/${kind}/${id}${query ? `?${query}` : ""}`);
      return { version: rec.version, data: b64Decode(rec.data) };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  /** Compare-and-swap write; returns false when another writer won (409 stale_version). */
  async putRecord(kind, id, expectedVersion, data, query = "") {
    try {
      await this.put(`/v1/records/${kind}/${id}${query ? `?${query}` : ""}`, { expected_version: expectedVersion, data: b64(data) });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return false;
      throw e;
    }
  }
}
