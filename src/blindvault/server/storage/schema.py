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
