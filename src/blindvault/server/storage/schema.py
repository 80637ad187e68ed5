"""The metadata schema: the only module that knows tables and columns.

No table names a parent, a child, a file name or a plaintext size: records and blobs are
keyed by (owner, random client-chosen id) and hold opaque bytes; `size` is the size of
the stored ciphertext.

Sharing: a record or blob may belong to a *space* (a random id the owner's client picks
for a shared folder; "" = private). `grants` lets another account read (or write) the
owner's objects of one space — the server learns which accounts share a space, never
which folder it is or what it holds. `links` and `link_items` let a link holder, proving
a token derived from the fragment secret, read the listed objects of the link's owner.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("kdf", Text, nullable=False),
    Column("auth_hash", Text, nullable=False),
    Column("recovery_hash", Text, nullable=True),
    Column("key_bundle", LargeBinary, nullable=False),
    Column("key_bundle_version", BigInteger, nullable=False),
    Column("identity_bundle", LargeBinary, nullable=False),
    Column("totp_secret", String(64), nullable=True),
    Column("quota_bytes", BigInteger, nullable=False),
    Column("used_bytes", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("revoked", Boolean, nullable=False),
    # an app credential's token (issue 16): confined to one app container (its space)
    Column("app_id", String(253), nullable=True),
    Column("app_space", String(32), nullable=True),
)

records = Table(
    "records",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("space", String(32), nullable=False, server_default=""),
)

blobs = Table(
    "blobs",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("storage_key", String(80), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("space", String(32), nullable=False, server_default=""),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False, index=True),
    Column("blob_id", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("part_size", Integer, nullable=False),
    Column("storage_key", String(80), nullable=False),
    Column("store_handle", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("space", String(32), nullable=False, server_default=""),
)

upload_parts = Table(
    "upload_parts",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("etag", String(200), nullable=False),
)

locks = Table(
    "locks",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    # who took it and when (issue 14: "prune already running on device NAME since TIME")
    Column("device_id", String(32), nullable=True),
    Column("since", Float, nullable=True),
)

audit = Table(
    "audit",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("at", Float, nullable=False),
    Column("event", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False),
    Column("at", Float, nullable=False),
)
Index("ix_login_failures_key_at", login_failures.c.key, login_failures.c.at)

grants = Table(
    "grants",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False),
    Column("space", String(32), nullable=False),
    Column("member", String(32), nullable=False, index=True),
    Column("role", String(8), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # issue 19: the owner lets the member re-share; the member who made a re-share grant
    Column("reshare", Boolean, nullable=False, server_default=false()),
    Column("granted_by", String(32), nullable=True),
)
Index("ux_grants_owner_space_member", grants.c.owner, grants.c.space, grants.c.member, unique=True)

links = Table(
    "links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("descriptor", LargeBinary, nullable=False),
    Column("password", Boolean, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("max_downloads", BigInteger, nullable=True),
    Column("downloads", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
)

link_items = Table(
    "link_items",
    metadata,
    Column("link_id", String(32), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("item", String(32), primary_key=True),
)

# --- accounts hardening (revision 0005) -------------------------------------------------
# `key_history`: the bundles, KDFs and credential hashes a key change replaced, so that an
# operator can undo a bad write (`blindvault admin restore-keys`). `totp_steps`: the last
# TOTP time step accepted per account (a code is never accepted twice). `invites`: single-use
# signup codes (`--signup invite`), stored as SHA-256 of the code.

key_history = Table(
    "key_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("version", BigInteger, nullable=False),
    Column("key_bundle", LargeBinary, nullable=False),
    Column("kdf", Text, nullable=False),
    Column("auth_hash", Text, nullable=False),
    Column("recovery_hash", Text, nullable=True),
    Column("replaced_at", Float, nullable=False),
)

totp_steps = Table(
    "totp_steps",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("last_step", BigInteger, nullable=False),
)

invites = Table(
    "invites",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_by", String(32), nullable=True),
    Column("used_at", Float, nullable=True),
)

# A folder link's snapshot (issue 11, item 4): the folder's manifests as they were when the
# link was made, re-sealed by the owner's client under keys of the link's own. Opaque bytes
# under random snapshot ids; a link holder reads only these, never the live manifests.
link_records = Table(
    "link_records",
    metadata,
    Column("link_id", String(32), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# --- revision 0003 (storage hardening): columns added to existing tables -----------------
# uploads.state: "open" (parts arrive; abort allowed) → "committing" (one commit holds the
# claim since claimed_at) → "committed" (the blob row owns the bytes and the quota; the row
# stays until the upload TTL so a repeated commit answers the same). link_items.served: the
# bytes of that blob served through the link, which its download limit counts.
uploads.append_column(Column("state", String(12), nullable=False, server_default="open"))
uploads.append_column(Column("claimed_at", Float, nullable=True))
link_items.append_column(Column("served", BigInteger, nullable=False, server_default="0"))

# --- revision 0006 (issue 14): the blind change feed ----------------------------------
# One row per record write or delete, written in the same transaction as the write: the
# record's kind, id, new version and space, in write order (`seq`). Nothing else: no size,
# no device, no time. `feed_horizons` holds, per owner, the highest seq compaction may have
# dropped an entry at or below; a reader asking from before it must walk everything again.
changes = Table(
    "changes",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("owner", String(32), nullable=False),
    Column("space", String(32), nullable=False, server_default=""),
    Column("kind", String(32), nullable=False),
    Column("id", String(32), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False),
    sqlite_autoincrement=True,  # a seq is never reused, even after compaction
)
Index("ix_changes_owner_seq", changes.c.owner, changes.c.seq)
Index("ix_changes_record", changes.c.owner, changes.c.kind, changes.c.id)

feed_horizons = Table(
    "feed_horizons",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("horizon", BigInteger, nullable=False),
)

# Per-app containers (issue 16). One row per (account, app): the app's reverse-DNS id,
# the container's space id (random-looking, derived by the client from a secret), the app
# credential's public identity bundle and the account identity's signature over it, and
# the container key sealed to that key (the server can verify and open none of them).
apps = Table(
    "apps",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("app_id", String(253), primary_key=True),
    Column("space", String(32), nullable=False),
    Column("bundle", LargeBinary, nullable=False),
    Column("attestation", LargeBinary, nullable=False),
    # the container key (current key version) sealed to the app's key, signed by the account
    Column("envelope", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ux_apps_owner_space", apps.c.owner, apps.c.space, unique=True)

# A grant of app `to_app`'s container to app `from_app` (same account), read or write. The
# envelope (the container key sealed to from_app's credential key, signed by the account
# identity) is opaque here: a grant row the server makes up opens nothing.
app_grants = Table(
    "app_grants",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("from_app", String(253), primary_key=True),
    Column("to_app", String(253), primary_key=True),
    Column("role", String(8), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

# --- issue 17 (recovery): social recovery and the organisation recovery key -----------
# All payloads are opaque to the server: the owner-signed setup, each contact's share sealed
# to that contact, each approval sealed to the requesting device, the owner-signed veto.
# The server learns who are whose contacts, and when a recovery is asked for and approved.
recovery_setups = Table(
    "recovery_setups",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("setup", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

recovery_shares = Table(
    "recovery_shares",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("contact", String(32), primary_key=True),
    Column("share", LargeBinary, nullable=False),
)
Index("ix_recovery_shares_contact", recovery_shares.c.contact)

recovery_requests = Table(
    "recovery_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False, index=True),
    Column("device_key", LargeBinary, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # open, vetoed, cancelled, finished
    Column("veto", LargeBinary, nullable=True),
    Column("created_at", Float, nullable=False),
)

recovery_approvals = Table(
    "recovery_approvals",
    metadata,
    Column("request", String(32), primary_key=True),
    Column("contact", String(32), primary_key=True),
    Column("approval", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

# The organisation recovery key: at most one active row (the newest); its public key
# document is signed by itself. Escrows: an account's vault key sealed to that key.
org_keys = Table(
    "org_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("document", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

org_escrows = Table(
    "org_escrows",
    metadata,
    Column("owner", String(32), primary_key=True),
    Column("org_key", String(32), nullable=False),
    Column("escrow", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

# --- issue 17, part 4: pairing a device by code -------------------------------------------
# One relay mailbox per `blindvault devices add`: the signed-in device's SPAKE2 message, the
# new device's message and key-confirmation tag, then the payload sealed under the SPAKE2
# key — opaque bytes only. `state`: open → joined (one join, ever) → accepted (the new
# device's row exists) → sealed → delivered; or failed / expired. The channel is the digits
# of the code; a channel is not reused while its row exists (rows go a day after expiry).
pairings = Table(
    "pairings",
    metadata,
    Column("channel", String(12), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("state", String(12), nullable=False),
    Column("message_a", LargeBinary, nullable=False),
    Column("message_b", LargeBinary, nullable=True),
    Column("confirm_b", LargeBinary, nullable=True),
    Column("claim_hash", String(64), nullable=True),
    Column("device_name", String(200), nullable=True),
    Column("device_id", String(32), nullable=True),
    Column("payload", LargeBinary, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# --- issue 19: upload-only links (file drops) ----------------------------------------------
# links.kind "drop": holders may only upload. max_uploads / uploads: the count limit and the
# drops accepted so far; max_drop_size: the largest drop (sealed bytes) the link accepts;
# owner_note: the owner's sealed note naming the target folder (opaque here). link_drops: one
# row per accepted drop (server-chosen `id`), its bytes under its own storage key, counted in
# the owner's quota but never a blob (prune and the blob routes never see it); `drop_id` is
# the id inside the sealed drop, unique per link (a replayed upload is refused).
links.append_column(Column("max_uploads", BigInteger, nullable=True))
links.append_column(Column("uploads", BigInteger, nullable=False, server_default="0"))
links.append_column(Column("max_drop_size", BigInteger, nullable=True))
links.append_column(Column("owner_note", LargeBinary, nullable=True))

link_drops = Table(
    "link_drops",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("link_id", String(32), nullable=False),
    Column("drop_id", String(32), nullable=False),
    Column("owner", String(32), nullable=False, index=True),
    Column("storage_key", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ux_link_drops_link_drop", link_drops.c.link_id, link_drops.c.drop_id, unique=True)

# --- issue 19: groups ------------------------------------------------------------------------
# A group (client-chosen random id) of one owner: its owner-signed roster (opaque), a row per
# member with the group key sealed to them (opaque), and the spaces shared with the group,
# each with the space's key sealed to the group's key pair (opaque). A member of a group
# reaches the spaces shared with it (`deps.resolve_scope`) with the role of the group share.
groups = Table(
    "groups",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False, index=True),
    Column("version", BigInteger, nullable=False),
    Column("roster", LargeBinary, nullable=False),
    Column("updated_at", Float, nullable=False),
)
group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(32), primary_key=True),
    Column("member", String(32), primary_key=True, index=True),
    Column("envelope", LargeBinary, nullable=False),
)
group_spaces = Table(
    "group_spaces",
    metadata,
    Column("group_id", String(32), primary_key=True),
    Column("space", String(32), primary_key=True),
    Column("owner", String(32), nullable=False),
    Column("role", String(8), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ix_group_spaces_owner_space", group_spaces.c.owner, group_spaces.c.space)
