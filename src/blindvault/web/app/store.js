// This browser's memory of each account (pins and high-water marks), in IndexedDB:
// the KDF pin, the own identity fingerprint, the highest key-bundle version, the signed
// root's sequence and hash, and every folder's highest (version, hash); for shares, the
// sharers' pinned fingerprints, each share's highest key version and roster (version,
// hash), and the `@` names bound to (owner, node); the records of interrupted uploads
// (resume.js: their file keys wrapped under the vault key). No key is kept in the clear.
const DB = "blindvault";
const STORE = "accounts";

export function emptyState() {
  return { kdfPin: null, ownFingerprint: "", bundleVersion: 0, rootSequence: 0, rootHash: "", heads: {},
    peers: {}, keyVersions: {}, rosterHeads: {}, mounts: {}, uploads: {} };
}

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function run(mode, fn) {
  return open().then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = fn(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(req.result);
        };
        tx.onerror = () => reject(tx.error);
      }),
  );
}

export const idbStore = {
  async load(email) {
    return { ...emptyState(), ...((await run("readonly", (s) => s.get(email))) || {}) };
  },
  save(email, state) {
    return run("readwrite", (s) => s.put(structuredClone(state), email));
  },
};

/** The same interface in memory (Node tests). */
export function memoryStore() {
  const map = new Map();
  return {
    async load(email) {
      return structuredClone(map.get(email) || emptyState());
    },
    async save(email, state) {
      map.set(email, structuredClone(state));
    },
  };
}
