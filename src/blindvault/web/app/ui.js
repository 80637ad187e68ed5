// Small DOM helpers (no innerHTML anywhere: Trusted Types allow no HTML sinks) and the
// one message shown for each kind of failure.
import { FormatError, IntegrityError } from "/s/assets/linkcore.js";
import { ApiError } from "./api.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function size(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export const when = (ms) => (ms ? new Date(ms).toLocaleString() : "");

export function message(e) {
  if (e?.name === "AbortError") return "Cancelled: nothing was saved.";
  if (e instanceof IntegrityError || e instanceof FormatError) {
    return "Integrity check failed: the server sent data that does not verify (tampered or corrupted). Nothing was saved.";
  }
  if (e?.name === "RollbackError") return `Refused: ${e.message} (possible replay of old data by the server).`;
  if (e instanceof ApiError) return e.message;
  return e?.message || String(e);
}

export function status(text, state = "info") {
  const s = $("status");
  s.textContent = text;
  s.dataset.state = state;
}

/** A transfer row: progress bar, cancel button, final message. */
export function transfer(label, total) {
  const controller = new AbortController();
  const bar = el("progress", { max: String(Math.max(total, 1)), value: "0" });
  const msg = el("span", { class: "msg", text: `${label}: starting…` });
  const cancel = el("button", { type: "button", text: "Cancel", on: { click: () => controller.abort() } });
  const row = el("div", { class: "transfer" }, bar, cancel, msg);
  $("transfers").prepend(row);
  let done = 0;
  const started = performance.now();
  return {
    signal: controller.signal,
    step(n) {
      done += n;
      bar.value = done;
      const secs = (performance.now() - started) / 1000;
      msg.textContent = `${label}: ${size(done)} of ${size(total)} (${size(done / Math.max(secs, 0.001))}/s)`;
    },
    finish(text) {
      cancel.remove();
      bar.value = bar.max;
      const secs = (performance.now() - started) / 1000;
      row.dataset.state = "done";
      row.dataset.seconds = secs.toFixed(3);
      msg.textContent = `${label}: ${text} (${secs.toFixed(1)} s)`;
    },
    fail(e) {
      cancel.remove();
      row.classList.add("error");
      row.dataset.state = "error";
      msg.textContent = `${label}: ${message(e)}`;
    },
  };
}
