// The vector files of tests/vectors/v1 that a signed-in device reads, applied to the vault
// app's modules (src/blindvault/web/app/). Shared by Node (app.test.mjs) and Chromium
// (test_vault_app.py): the caller hands in the modules, the vector files ({relative path:
// parsed JSON}) and an Argon2id function, and gets back one result per case.

export const APP_TYPES = ["identity-bundle", "key-bundle", "wrapped-key", "kdf", "root", "manifest", "envelope", "roster"];

const hex = (m, s) => m.core.fromHex(s);

function same(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`mismatch: ${what}: got ${g.slice(0, 300)}, want ${w.slice(0, 300)}`);
}

async function expectError(m, name, fn) {
  const classes = {
    IntegrityError: m.core.IntegrityError, FormatError: m.core.FormatError, KdfPolicyError: m.kdf.KdfPolicyError, PolicyError: m.formats.PolicyError,
  };
  try {
    await fn();
  } catch (e) {
    if (classes[name] && e instanceof classes[name]) return;
    throw new Error(`expected ${name}, got ${e?.name}: ${e?.message}`);
  }
  throw new Error(`expected ${name}, got success`);
}

function entryJson(m, e) {
  const h = m.core.toHex;
  if (e.kind === "folder") {
    return { key: h(e.key), key_version: e.keyVersion, kind: "folder", mtime_ms: e.mtimeMs, name: e.name, node_id: h(e.nodeId) };
  }
  const version = (v) => ({ content_version: v.contentVersion, key: h(v.key), mtime_ms: v.mtimeMs, size: v.size, writer: h(v.writer), written_ms: v.writtenMs });
  return { ...version(e), history: e.history.map(version), kind: "file", name: e.name, node_id: h(e.nodeId) };
}

const sortKeys = (o) =>
  Array.isArray(o) ? o.map(sortKeys) : o && typeof o === "object" ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])])) : o;

const RUN = {
  async "identity-bundle"(m, v) {
    const id = await m.formats.decodeIdentity(hex(m, v.data));
    const h = m.core.toHex;
    same(h(id.fingerprint), v.output.fingerprint, "fingerprint");
    same([h(id.signPublic), h(id.hpkePublic), id.email], [v.output.sign_public, v.output.hpke_public, v.output.email], "fields");
  },
  async "key-bundle"(m, v) {
    const b = m.formats.decodeKeyBundle(hex(m, v.data));
    const opened = await m.formats.openKeyBundle(b, hex(m, v.inputs.key), { recovery: v.inputs.open_with === "recovery" });
    const h = m.core.toHex;
    same([h(opened.vault), h(opened.rootKey), h(b.rootNode)], [v.output.vault_key, v.output.root_folder_key, v.output.root_node], "keys");
    if (opened.secret.length === 64) {
      const signer = await m.crypto.ed25519Signer(opened.secret.subarray(0, 32));
      const x = await m.crypto.x25519Public(opened.secret.subarray(32, 64));
      const fp = await m.formats.identityFingerprint(v.inputs.email, b.identityCreatedMs, signer.publicKey, x);
      same(h(fp), v.output.identity_fingerprint, "identity fingerprint");
    }
  },
  async "wrapped-key"(m, v) {
    const i = v.inputs;
    const key = await m.formats.unwrapKey(hex(m, i.wrapping_key), hex(m, v.data), {
      kind: i.kind, owner: hex(m, i.owner), object: hex(m, i.object), version: i.version,
    });
    same(m.core.toHex(key), v.output.key, "key");
  },
  async kdf(m, v, argon2) {
    const i = v.inputs;
    const params = i.params.alg === "argon2id" ? { alg: "argon2id", m: i.params.m, t: i.params.t, p: i.params.p } : i.params;
    m.kdf.checkKdfParams(params);
    const email = m.kdf.normalizeEmail(i.email);
    const keys = await m.kdf.deriveKeys(i.password, email, i.params, argon2);
    const h = m.core.toHex;
    same(
      [h(await m.kdf.kdfSalt(email)), h(await m.kdf.accountId(email)), h(keys.master), h(keys.auth)],
      [v.output.salt, v.output.account_id, v.output.master_key, v.output.auth_key],
      "derived",
    );
  },
  async root(m, v) {
    const signer = await m.formats.decodeIdentity(hex(m, v.inputs.signer));
    const root = await m.formats.openRoot(hex(m, v.data), hex(m, v.inputs.owner), signer.signPublic);
    const h = m.core.toHex;
    const heads = (list) => list.map((x) => ({ hash: h(x.hash), node_id: h(x.nodeId), version: x.version }));
    same(
      { heads: heads(root.heads), prev_hash: h(root.prevHash), rosters: heads(root.rosters), sequence: root.sequence },
      sortKeys({ heads: v.output.heads, prev_hash: v.output.prev_hash, rosters: v.output.rosters, sequence: v.output.sequence }),
      "root",
    );
  },
  async envelope(m, v) {
    const i = v.inputs;
    const h = m.core.toHex;
    const data = hex(m, v.data);
    const sender = await m.formats.decodeIdentity(hex(m, i.sender));
    if (data[5] !== 1) {
      // post-quantum (suite 2): the browser refuses it with a clear message (the CLI opens it)
      const me = { suite: 2, fingerprint: data.subarray(80, 112), hpkeSecret: null, hpkePublic: null };
      await expectError(m, "PolicyError", () => m.sharing.openEnvelope(data, me, sender));
      return;
    }
    const secret = hex(m, i.recipient_secret);
    const signer = await m.crypto.ed25519Signer(secret.subarray(0, 32));
    const x = await m.crypto.x25519Public(secret.subarray(32, 64));
    const fingerprint = await m.formats.identityFingerprint(i.recipient_email, i.recipient_created_ms, signer.publicKey, x);
    const me = { suite: 1, fingerprint, hpkeSecret: secret.subarray(32, 64), hpkePublic: x };
    const env = await m.sharing.openEnvelope(data, me, sender);
    same(
      { key: h(env.key), key_version: env.keyVersion, kind: env.kind, node_id: h(env.nodeId), role: env.role, share_id: h(env.shareId) },
      sortKeys(v.output),
      "envelope",
    );
    // the same envelope for anyone else (another fingerprint, even with the right secret) is refused
    const other = { ...me, fingerprint: new Uint8Array(32).fill(7) };
    await expectError(m, "IntegrityError", () => m.sharing.openEnvelope(data, other, sender));
    // and so is one whose signature is not the sender's (the sealed key itself intact)
    const forged = data.slice();
    forged[forged.length - 1] ^= 1;
    await expectError(m, "IntegrityError", () => m.sharing.openEnvelope(forged, me, sender));
  },
  async roster(m, v) {
    const i = v.inputs;
    const h = m.core.toHex;
    const signer = await m.formats.decodeIdentity(hex(m, i.signer));
    const r = await m.sharing.openRoster(hex(m, v.data), hex(m, i.owner), hex(m, i.node_id), signer);
    // a roster is good only for the owner and the folder it names (its signature is valid)
    for (const which of ["owner", "node_id"]) {
      const asked = { owner: hex(m, i.owner), node: hex(m, i.node_id) };
      (which === "owner" ? asked.owner : asked.node)[0] ^= 1;
      await expectError(m, "IntegrityError", () => m.sharing.openRoster(hex(m, v.data), asked.owner, asked.node, signer));
    }
    const name = await m.sharing.rosterName(r, hex(m, i.folder_key));
    same(
      sortKeys({
        hash: h(r.hash), key_version: r.keyVersion, name, owner_fingerprint: h(r.ownerFingerprint), prev_hash: h(r.prevHash), version: r.version,
        members: r.members.map((x) => ({ email: x.email, fingerprint: h(x.fingerprint), role: x.role })),
      }),
      sortKeys(v.output),
      "roster",
    );
  },
  async manifest(m, v) {
    const writers = new Map();
    for (const w of v.inputs.writers) {
      const id = await m.formats.decodeIdentity(hex(m, w));
      writers.set(m.core.toHex(id.fingerprint), id.signPublic);
    }
    const opened = await m.manifest.openVerified(hex(m, v.data), hex(m, v.inputs.folder_key), hex(m, v.inputs.node_id), writers);
    const h = m.core.toHex;
    same(h(opened.body), v.output.body, "body");
    same(
      sortKeys({ entries: opened.entries.map((e) => entryJson(m, e)), hash: h(opened.hash), version: opened.version, writer: h(opened.writer) }),
      sortKeys({ entries: v.output.entries, hash: v.output.hash, version: v.output.version, writer: v.output.writer }),
      "manifest",
    );
    // the app's encoder writes the very body the Python side wrote
    same(h(m.manifest.encodeBody({ entries: opened.entries, tombstones: opened.tombstones, trash: opened.trash })), v.output.body, "re-encoded body");
  },
};

export async function runApp(m, files, argon2) {
  const results = [];
  for (const [path, v] of Object.entries(files)) {
    const type = path.split("/")[1];
    if (!APP_TYPES.includes(type)) continue;
    try {
      if (v.expect === "valid") await RUN[type](m, v, argon2);
      else await expectError(m, v.expect, () => RUN[type](m, v, argon2));
      results.push({ path, ok: true });
    } catch (e) {
      results.push({ path, ok: false, error: String(e?.message || e) });
    }
  }
  return { results, passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok) };
}
