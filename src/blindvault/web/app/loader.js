// Workers cannot carry Subresource Integrity, so the page builds them itself: it fetches
// each part, checks its SHA-384 against the hash the HTML pins (the same hashes the server
// put in the import map and `blindvault webapp-hashes` prints), and starts the worker from
// a blob: URL of exactly the checked bytes. Trusted Types: the only script URLs this page
// ever creates are those blob: URLs, through the one policy the CSP allows.
import { IntegrityError } from "/s/assets/linkcore.js";

let policy = null;
const made = new Set();

function trusted(url) {
  if (!policy) {
    const tt = globalThis.trustedTypes;
    policy = tt
      ? tt.createPolicy("blindvault-worker", {
          createScriptURL: (u) => {
            if (!made.has(u)) throw new TypeError("not a verified worker URL");
            return u;
          },
        })
      : { createScriptURL: (u) => u };
  }
  return policy.createScriptURL(url);
}

export function pinnedHashes() {
  const meta = document.querySelector('meta[name="blindvault-assets"]');
  return meta ? JSON.parse(meta.content) : {};
}

async function sri384(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  return "sha384-" + btoa(String.fromCharCode(...d));
}

async function fetchVerified(path, pins) {
  const expected = pins[path];
  if (!expected) throw new IntegrityError();
  const res = await fetch(path, { cache: "no-store", credentials: "omit" });
  if (!res.ok) throw new IntegrityError();
  const bytes = new Uint8Array(await res.arrayBuffer());
  if ((await sri384(bytes)) !== expected) throw new IntegrityError(); // mutant: web.worker-sri
  return bytes;
}

/** The text of a pinned data file (the BIP39 word list). */
export async function verifiedText(path) {
  return new TextDecoder().decode(await fetchVerified(path, pinnedHashes()));
}

const verifiedUrls = new Map(); // paths -> promise of the blob: URL of the checked bytes

/** A classic worker made of the given pinned files, concatenated in order (checked once). */
export async function verifiedWorker(paths) {
  const id = paths.join("\n");
  if (!verifiedUrls.has(id)) {
    const making = (async () => {
      const pins = pinnedHashes();
      const parts = [];
      for (const p of paths) parts.push(await fetchVerified(p, pins), new TextEncoder().encode("\n;\n"));
      const url = URL.createObjectURL(new Blob(parts, { type: "text/javascript" }));
      made.add(url);
      return url;
    })();
    verifiedUrls.set(id, making);
    making.catch(() => verifiedUrls.delete(id)); // a failed check is tried again next time
  }
  return new Worker(trusted(await verifiedUrls.get(id)));
}
