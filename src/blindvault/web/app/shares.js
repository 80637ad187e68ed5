// Shares other people made with this account, as the CLI's `shares` / `accept` and
// `@name` paths do (client/shares.py, client/sharing/grants.py, rosters.py, mounts.py,
// client/spaces.py). The server's grant list is a hint; a share is shown, accepted or
// entered only after this browser verified it end to end (P-PEERKEY, P-ROSTER, P-BIND):
//
// - the sharer's identity key must be the one this browser pinned for their email; the
//   first accept pins it after the person compared the safety number; a changed key is
//   refused until the pin is removed on purpose;
// - the envelope is signed by that key, sealed to this identity, for the listed folder;
// - the owner-signed roster (for the owner's account id derived here from the email, for
//   that folder) names this identity with the envelope's role and key version, and is not
//   older than, or forked from, the one this browser saw (P-ROSTERFRESH);
// - manifests in the share are accepted only from the owner and the read-write members
//   whose served key is the one the roster names.
import { IntegrityError, b64Decode, toHex } from "/s/assets/linkcore.js";
import { equalBytes } from "./bytes.js";
import { PolicyError, decodeIdentity } from "./formats.js";
import { accountId, normalizeEmail } from "./kdf.js";
import { ROLE_WRITE, checkRosterFresh, openEnvelope, openRoster, rosterMember, rosterName, safetyNumber, theFile } from "./sharing.js";

export const FILES = "shared"; // `@shared/NAME`: the single files shared with this account

/** The identity the server publishes for `email` (self-signed; trusted by nothing). */
export async function servedIdentity(vault, email) {
  const served = await vault.api.get(`/v1/identities/${encodeURIComponent(email)}`);
  const id = await decodeIdentity(b64Decode(served.identity_bundle));
  if (id.email !== email) throw new IntegrityError(); // another user's identity
  return id;
}

/**
 * The sharer's identity as this browser's pin allows it: {identity, pinned}. A pinned
 * email whose served key changed is refused (as `peers.view`).
 */
export async function peer(vault, email) {
  const id = await servedIdentity(vault, email);
  const pinned = vault.state.peers?.[email];
  // mutant: web.peer-pin
  if (pinned && pinned !== toHex(id.fingerprint)) {
    throw new PolicyError(
      `The key of ${email} changed since this browser verified it. Do not accept anything from them until ` +
        "you compared safety numbers again (out of band, e.g. by phone).",
    );
  }
  return { identity: id, pinned: Boolean(pinned) };
}

const me = (vault) => ({
  fingerprint: vault.fingerprint, suite: vault.identity.suite, hpkeSecret: vault.hpkeSecret, hpkePublic: vault.identity.hpkePublic,
});

/** The verified roster of a share (P-ROSTER, P-ROSTERFRESH); remembered once checked. */
async function loadRoster(vault, query, owner, nodeId, signer) {
  const hex = toHex(nodeId);
  const rec = await vault.api.record("roster", hex, query);
  if (!rec) {
    // mutant: web.roster-disappeared
    if (vault.state.rosterHeads?.[hex]) throw new IntegrityError();
    throw new PolicyError("The share has no signed member list (yet): it cannot be verified.");
  }
  const roster = await openRoster(rec.data, owner, nodeId, signer);
  checkRosterFresh(vault.state.rosterHeads?.[hex], roster);
  return roster;
}

/** The owner and the read-write members, each with the key the roster names. */
export async function writers(vault, roster, owner) {
  const found = new Map([[toHex(owner.fingerprint), owner.signPublic]]);
  for (const m of roster.members) {
    if (m.role !== ROLE_WRITE) continue;
    if (equalBytes(m.fingerprint, vault.fingerprint)) {
      found.set(toHex(m.fingerprint), vault.identity.signPublic);
      continue;
    }
    try {
      const served = await servedIdentity(vault, m.email);
      // (defence in depth: a manifest signed by the real member fails with another key anyway)
      if (equalBytes(served.fingerprint, m.fingerprint)) found.set(toHex(m.fingerprint), served.signPublic);
    } catch {
      // a member whose served key is missing or differs is simply not accepted as a writer
    }
  }
  return found;
}

/**
 * Verify an incoming share end to end (see the top of this file); with `pin`, the sharer's
 * current key is pinned (the person compared the safety number). Returns the mount:
 * {nodeId, key, keyVersion, role, name, owner email, space: {query, writers}}.
 */
export async function openIncoming(vault, item, { pin = false } = {}) {
  const ownerEmail = normalizeEmail(String(item.owner_email));
  const owner = await accountId(ownerEmail); // the roster must be signed for this very owner
  const { identity: sender, pinned } = await peer(vault, ownerEmail);
  if (!pinned && !pin) {
    const e = new PolicyError(`${ownerEmail} is not verified in this browser yet: compare safety numbers to open the share.`);
    e.unpinned = true; // the page offers to verify (share-view.js)
    throw e;
  }
  const env = await openEnvelope(b64Decode(item.envelope), me(vault), sender);
  // mutant: web.envelope-for-this-folder
  if (env.kind !== "folder" || toHex(env.nodeId) !== item.space) throw new IntegrityError();
  const query = `owner=${encodeURIComponent(item.owner)}&space=${toHex(env.nodeId)}`;
  const roster = await loadRoster(vault, query, owner, env.nodeId, sender);
  const mine = rosterMember(roster, vault.fingerprint);
  // mutant: web.roster-confirms-envelope
  if (!mine || mine.role !== env.role || roster.keyVersion !== env.keyVersion) {
    throw new IntegrityError();
  }
  const hex = toHex(env.nodeId);
  const seen = vault.state.keyVersions?.[hex] || 0;
  if (env.keyVersion < seen) throw new IntegrityError(); // (the roster's freshness refuses it first)
  const name = await rosterName(roster, env.key);
  // everything verified: remember what was seen (never backwards) and, if asked, the pin
  vault.state.peers = { ...vault.state.peers };
  if (pin && !pinned) vault.state.peers[ownerEmail] = toHex(sender.fingerprint);
  vault.state.keyVersions = { ...vault.state.keyVersions, [hex]: env.keyVersion };
  vault.state.rosterHeads = { ...vault.state.rosterHeads, [hex]: { version: roster.version, hash: toHex(roster.hash) } };
  // ownerEmail: verified (the roster is signed for it with its pinned key); `owner` is the
  // server's account id, a routing hint
  const space = { query, writers: await writers(vault, roster, sender), role: env.role, owner: String(item.owner), ownerEmail };
  return { nodeId: env.nodeId, key: env.key, keyVersion: env.keyVersion, role: env.role, name, ownerEmail, space };
}

const NESTED_TTL_MS = 30_000; // the grant list is read again after this, or on the Shared tab

/**
 * The space of sub-folder `nodeId` of a folder in another account's share (`around`, the
 * space that folder is read in) — client/spaces.py `Spaces.below`: the folder's own space
 * if this account holds a grant on that very folder from the same owner that opens and
 * verifies like any incoming share (`openIncoming`: envelope from the pinned owner,
 * confirmed by the owner-signed roster) — accepted or not: the owner grants the members of
 * a shared folder every folder shared inside it (issue 19) — else `around`. A grant the
 * server hides leaves the folder in `around`, where its manifest is not found: an
 * integrity error, never a guess.
 */
export async function nestedSpace(vault, around, nodeId) {
  const hex = toHex(nodeId);
  if (!vault.nested || Date.now() - vault.nested.at > NESTED_TTL_MS) {
    const { incoming: items } = await vault.api.get("/v1/shares");
    vault.nested = { at: Date.now(), items, opened: new Map() };
  }
  const { items, opened } = vault.nested;
  const key = `${around.ownerEmail}/${hex}`;
  if (!opened.has(key)) {
    let found = null;
    for (const item of items) {
      // only a grant naming the owner of the share around it (it opens only if that owner,
      // pinned here, sealed it and signed its roster): another account's grant on a folder
      // of the same node id, listed first under this owner's id, is never opened here
      if (item.space !== hex) continue;
      if (normalizeEmail(String(item.owner_email)) !== around.ownerEmail) continue; // mutant: web.nested-same-owner
      try {
        found = await openIncoming(vault, item);
        break;
      } catch {
        // a grant that does not verify is never entered (the Shared tab says why)
      }
    }
    opened.set(key, found);
  }
  const mount = opened.get(key);
  if (mount) return mount.space; // mutant: web.nested-grant-space
  return around;
}

/** Every incoming share, each verified or with the reason it does not verify. */
export async function incoming(vault) {
  vault.nested = null; // read again: a new nested share is entered without a reload
  const { incoming: items } = await vault.api.get("/v1/shares");
  const out = [];
  for (const item of items) {
    try {
      out.push({ item, mount: await openIncoming(vault, item), problem: "" });
    } catch (e) {
      out.push({ item, mount: null, problem: e });
    }
  }
  await bindAll(vault, out);
  await vault.save();
  return out;
}

/** What the person compares before the first accept: the sharer's safety number. */
export async function sharerSafetyNumber(vault, item) {
  const { identity, pinned } = await peer(vault, normalizeEmail(String(item.owner_email)));
  return { number: await safetyNumber(identity.fingerprint), pinned };
}

/** Accept after verifying (pinning the sharer on first use); returns its `@` name. */
export async function accept(vault, item) {
  const mount = await openIncoming(vault, item, { pin: true });
  await vault.api.post(`/v1/shares/${item.id}/accept`, {});
  const name = await bind(vault, mount);
  await vault.save();
  return `@${name}`;
}

// ---------------------------------------------------------------- mount names

function boundName(bindings, owner, hex) {
  for (const [name, [o, n]] of Object.entries(bindings)) if (o === owner && n === hex) return name;
  return null;
}

/** The top folder of a share: the one file of a holder ({file}) or a folder ({folder}). */
export async function top(vault, mount) {
  const folder = { nodeId: mount.nodeId, key: mount.key, keyVersion: mount.keyVersion, name: mount.name, space: mount.space };
  const read = await vault.read(folder);
  try {
    return { file: theFile(read.body, mount.nodeId), folder };
  } catch {
    return { file: null, folder };
  }
}

/** The name (owner, node) is bound to in this browser (mounts.py's rules). */
async function bind(vault, mount) {
  const bindings = (vault.state.mounts ||= {});
  const hex = toHex(mount.nodeId);
  const found = boundName(bindings, mount.ownerEmail, hex);
  if (found) return found;
  const isFile = (await top(vault, mount)).file !== null;
  let unique = mount.name;
  if (isFile) {
    const dot = mount.name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [mount.name.slice(0, dot), mount.name.slice(dot)] : [mount.name, ""];
    for (let n = 2; `${FILES}/${unique}` in bindings; n++) unique = `${stem}-${n}${ext}`;
    unique = `${FILES}/${unique}`;
  } else {
    for (let n = 2; unique in bindings || unique === FILES; n++) unique = `${mount.name}-${n}`;
  }
  bindings[unique] = [mount.ownerEmail, hex];
  return unique;
}

/** Bind the accepted, verified shares first seen together in (owner, node) order. */
async function bindAll(vault, shares) {
  const accepted = shares.filter((s) => s.mount && s.item.accepted);
  const key = (s) => [s.mount.ownerEmail, toHex(s.mount.nodeId)];
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
  accepted.sort((a, b) => cmp(key(a)[0], key(b)[0]) || cmp(key(a)[1], key(b)[1]));
  for (const s of accepted) {
    try {
      s.name = await bind(vault, s.mount);
    } catch (e) {
      s.mount = null; // its top folder does not verify: never shown
      s.problem = e;
    }
  }
}
