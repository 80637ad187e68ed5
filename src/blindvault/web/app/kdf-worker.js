// Argon2id off the main thread (a classic worker script). The app builds this worker from
// the vendored hash-wasm file and this file after checking both against the SHA-384
// hashes the page pins (loader.js), so the worker runs only code the page vouches for.
/* global hashwasm */
self.onmessage = async (event) => {
  const { password, salt, m, t, p } = event.data;
  try {
    const out = await hashwasm.argon2id({
      password,
      salt,
      parallelism: p,
      iterations: t,
      memorySize: m,
      hashLength: 32,
      outputType: "binary",
    });
    self.postMessage({ ok: true, out }, [out.buffer]);
  } catch (e) {
    self.postMessage({ ok: false, message: String(e && e.message) });
  }
};
