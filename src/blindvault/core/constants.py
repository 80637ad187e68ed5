"""Every magic, version, label and size of format v1, named in one place.

docs/spec/format-v1.md is the prose of this file; keep the two in step.
"""

from __future__ import annotations

from typing import Final

FORMAT_VERSION: Final = 1

# --- magics (4 ASCII bytes, always followed by the one-byte format version) ---
MAGIC_WRAPPED_KEY: Final = b"BVWK"
MAGIC_CONTENT: Final = b"BVCT"
MAGIC_IDENTITY: Final = b"BVID"
MAGIC_MANIFEST: Final = b"BVMF"
MAGIC_MANIFEST_BODY: Final = b"BVMB"
MAGIC_ROOT: Final = b"BVRT"
MAGIC_ENVELOPE: Final = b"BVSE"
MAGIC_KDF_PARAMS: Final = b"BVKP"
MAGIC_LINK: Final = b"BVLK"
MAGIC_KEY_BUNDLE: Final = b"BVKB"
MAGIC_ROSTER: Final = b"BVRS"
# social recovery (issue 17): the owner's signed setup, a contact's sealed share, a share
# re-sealed to a recovering device, an owner device's veto; the organisation recovery key
MAGIC_SOCIAL_SETUP: Final = b"BVSR"
MAGIC_SOCIAL_SHARE: Final = b"BVSH"
MAGIC_SOCIAL_APPROVAL: Final = b"BVSA"
MAGIC_SOCIAL_VETO: Final = b"BVSV"
MAGIC_ORG_KEY: Final = b"BVOK"
MAGIC_ORG_ESCROW: Final = b"BVOE"
MAGIC_PAIRING: Final = b"BVPR"
MAGIC_CA: Final = b"BVCA"
MAGIC_CERTIFICATE: Final = b"BVCC"
# upload-only links (issue 19): the holder's descriptor, the owner's note, a sealed drop
MAGIC_DROP_LINK: Final = b"BVDL"
MAGIC_DROP_NOTE: Final = b"BVDN"
MAGIC_DROP: Final = b"BVDP"
MAGIC_GROUP_ROSTER: Final = b"BVGR"  # issue 19: groups
# re-shares (issue 19): a member's signed addition to a roster, and a folder's list of them
MAGIC_RESHARE: Final = b"BVRA"
MAGIC_RESHARE_LIST: Final = b"BVRL"
MAGIC_MANIFEST_ROOT: Final = b"BVMR"  # body of a paged manifest root (issue 18)
MAGIC_PAGE: Final = b"BVMG"  # a sealed manifest page (issue 18)
MAGIC_PAGE_BODY: Final = b"BVMP"  # a manifest page's plaintext (issue 18)

# Object versions that differ from FORMAT_VERSION (issue 11): manifest bodies lost the
# unauthenticated `author` and gained Padmé padding; rosters chain to their predecessor and
# pad the folder name; roots carry roster heads; link descriptors pad and name a snapshot.
# Manifest bodies 3 (issue 14): file entries carry their earlier versions (history);
# 4 (issue 14): the folder's trash.
# Objects with any other version byte are refused (no migration: pre-1.0).
OBJECT_VERSIONS: Final = {
    MAGIC_MANIFEST_BODY: 4,
    MAGIC_ROSTER: 2,
    MAGIC_ROOT: 2,
    MAGIC_LINK: 2,
}

# --- sizes (bytes) ---
KEY_SIZE: Final = 32
ID_SIZE: Final = 16
HASH_SIZE: Final = 32
FINGERPRINT_SIZE: Final = 32
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16
ED25519_PUBLIC_SIZE: Final = 32
ED25519_SEED_SIZE: Final = 32
ED25519_SIGNATURE_SIZE: Final = 64
X25519_KEY_SIZE: Final = 32
MLKEM768_PUBLIC_SIZE: Final = 1184
MLKEM768_SEED_SIZE: Final = 64
HYBRID_PUBLIC_SIZE: Final = MLKEM768_PUBLIC_SIZE + X25519_KEY_SIZE
HYBRID_SECRET_SIZE: Final = MLKEM768_SEED_SIZE + X25519_KEY_SIZE

# --- C2SP chunked encryption, Cobblestone-256 (https://c2sp.org/chunked-encryption) ---
C2SP_AEAD_NAME: Final = b"AEAD_AES_256_GCM"
C2SP_INFO_PREFIX: Final = b"c2sp.org/chunked-encryption@v1+"
C2SP_SALT_SIZE: Final = 24
C2SP_COMMITMENT_SIZE: Final = 32
C2SP_HEADER_SIZE: Final = C2SP_SALT_SIZE + C2SP_COMMITMENT_SIZE
CHUNK_SIZE: Final = 16384
SEALED_CHUNK_SIZE: Final = CHUNK_SIZE + GCM_TAG_SIZE
MAX_CHUNKS: Final = 1 << 38
CONTENT_PREFIX_SIZE: Final = len(MAGIC_CONTENT) + 1
CONTENT_HEADER_SIZE: Final = CONTENT_PREFIX_SIZE + C2SP_HEADER_SIZE

PAD_MIN_SIZE: Final = 4096
# Padmé floors for sealed metadata (plaintext bytes, before the AEAD tag)
PAD_MANIFEST_MIN: Final = 1024  # 512 before issue 14: file entries grew by 41 bytes
PAD_DESCRIPTOR_MIN: Final = 512
PAD_ROSTER_NAME: Final = 2 + 255 + 1  # u16 length + longest name + the 0x80 marker

# --- labels: HKDF info strings and signature / hash domains ---
LABEL_KDF_SALT: Final = b"blindvault/v1/kdf-salt"
LABEL_ACCOUNT_ID: Final = b"blindvault/v1/account-id"
LABEL_MASTER_KEY: Final = b"blindvault/v1/master-key"
LABEL_AUTH_KEY: Final = b"blindvault/v1/auth-key"
LABEL_RECOVERY_AUTH: Final = b"blindvault/v1/recovery-auth"
LABEL_BLOB_ID: Final = b"blindvault/v1/blob-id"
LABEL_WRAP: Final = b"blindvault/v1/wrap/"
LABEL_CONTENT: Final = b"blindvault/v1/content"
LABEL_RESUME_PART: Final = b"blindvault/v1/resume-part"
LABEL_MANIFEST_KEY: Final = b"blindvault/v1/manifest-key"
LABEL_MANIFEST_SIG: Final = b"blindvault/v1/manifest-sig"
LABEL_MANIFEST_HASH: Final = b"blindvault/v1/manifest-hash"
LABEL_PAGE_KEY: Final = b"blindvault/v1/manifest-page-key"
LABEL_BUCKET_KEY: Final = b"blindvault/v1/manifest-bucket-key"
LABEL_PAGE_HASH: Final = b"blindvault/v1/manifest-page-hash"
LABEL_PAGE_ID: Final = b"blindvault/v1/manifest-page-id"
LABEL_ROOT_SIG: Final = b"blindvault/v1/root-sig"
LABEL_ROOT_HASH: Final = b"blindvault/v1/root-hash"
LABEL_IDENTITY_SIG: Final = b"blindvault/v1/identity-sig"
LABEL_FINGERPRINT: Final = b"blindvault/v1/fingerprint"
LABEL_SAFETY_NUMBER: Final = b"blindvault/v1/safety-number"
LABEL_ENVELOPE_INFO: Final = b"blindvault/v1/share"
LABEL_ENVELOPE_SIG: Final = b"blindvault/v1/share-sig"
LABEL_LINK_KEY: Final = b"blindvault/v1/link-key"
LABEL_LINK_TOKEN: Final = b"blindvault/v1/link-token"
LABEL_LINK_PASSWORD: Final = b"blindvault/v1/link-password"
LABEL_ROSTER_HASH: Final = b"blindvault/v1/roster-hash"
LABEL_ROSTER_SIG: Final = b"blindvault/v1/roster-sig"
LABEL_ROSTER_NAME: Final = b"blindvault/v1/roster-name"
LABEL_FILE_SHARE_KEY: Final = b"blindvault/v1/file-share-key"
LABEL_GROUP_KEY: Final = b"blindvault/v1/group-key"
LABEL_GROUP_IDENTITY: Final = b"blindvault/v1/group-identity"
LABEL_GROUP_NAME: Final = b"blindvault/v1/group-name"
LABEL_GROUP_SIG: Final = b"blindvault/v1/group-roster-sig"
LABEL_GROUP_HASH: Final = b"blindvault/v1/group-roster-hash"
MAX_ROSTER_MEMBERS: Final = 1000
LABEL_RESHARE_SIG: Final = b"blindvault/v1/reshare-sig"
LABEL_SOCIAL_SETUP_SIG: Final = b"blindvault/v1/social-setup-sig"
LABEL_SOCIAL_SETUP_HASH: Final = b"blindvault/v1/social-setup-hash"
LABEL_SOCIAL_SHARE: Final = b"blindvault/v1/social-share"
LABEL_SOCIAL_SHARE_SIG: Final = b"blindvault/v1/social-share-sig"
LABEL_SOCIAL_CODE: Final = b"blindvault/v1/social-code"
LABEL_SOCIAL_APPROVAL: Final = b"blindvault/v1/social-approval"
LABEL_SOCIAL_VETO_SIG: Final = b"blindvault/v1/social-veto-sig"
LABEL_ORG_KEY_SIG: Final = b"blindvault/v1/org-key-sig"
LABEL_ORG_ESCROW: Final = b"blindvault/v1/org-escrow"
LABEL_PAIRING_OLD: Final = b"blindvault/v1/pairing/signed-in-device"
LABEL_PAIRING_NEW: Final = b"blindvault/v1/pairing/new-device"
LABEL_PAIRING_KEYS: Final = b"blindvault/v1/pairing/keys"
LABEL_PAIRING_CONFIRM: Final = b"blindvault/v1/pairing/confirm"
LABEL_CA_SIG: Final = b"blindvault/v1/ca-sig"
LABEL_CERTIFICATE_SIG: Final = b"blindvault/v1/identity-cert-sig"
LABEL_DROP_ROOT: Final = b"blindvault/v1/drop/root"
LABEL_DROP_SECRET: Final = b"blindvault/v1/drop/link-secret"
LABEL_DROP_KEY: Final = b"blindvault/v1/drop/recipient-key"
LABEL_DROP_NOTE: Final = b"blindvault/v1/drop/owner-note"
LABEL_DROP_BIND: Final = b"blindvault/v1/drop/bind-key"
LABEL_DROP_TAG: Final = b"blindvault/v1/drop/tag"
LABEL_DROP_INFO: Final = b"blindvault/v1/drop/hpke-info"

# --- key-wrap kinds (one byte in every wrapped key; also selects the wrapping subkey) ---
WRAP_VAULT_BY_MASTER: Final = 1
WRAP_VAULT_BY_RECOVERY: Final = 2
WRAP_IDENTITY_BY_VAULT: Final = 3
WRAP_FOLDER_KEY: Final = 4
WRAP_FILE_KEY: Final = 5
WRAP_KIND_NAMES: Final = {
    WRAP_VAULT_BY_MASTER: b"vault-by-master",
    WRAP_VAULT_BY_RECOVERY: b"vault-by-recovery",
    WRAP_IDENTITY_BY_VAULT: b"identity-by-vault",
    WRAP_FOLDER_KEY: b"folder-key",
    WRAP_FILE_KEY: b"file-key",
}

# --- KDF policy (P-KDFFLOOR) ---
KDF_ARGON2ID: Final = 1
KDF_PBKDF2_SHA256: Final = 2
ARGON2_DEFAULT_MEMORY_KIB: Final = 65536
ARGON2_DEFAULT_ITERATIONS: Final = 3
ARGON2_DEFAULT_LANES: Final = 4
ARGON2_FLOOR_MEMORY_KIB: Final = 19456
ARGON2_FLOOR_ITERATIONS: Final = 2
ARGON2_CEILING_MEMORY_KIB: Final = 4 * 1024 * 1024
ARGON2_CEILING_ITERATIONS: Final = 64
ARGON2_CEILING_LANES: Final = 64
PBKDF2_FLOOR_ITERATIONS: Final = 600_000
PBKDF2_DEFAULT_ITERATIONS: Final = 600_000
PBKDF2_CEILING_ITERATIONS: Final = 10_000_000

# --- manifests ---
NODE_FILE: Final = 1
NODE_FOLDER: Final = 2
MAX_NAME_BYTES: Final = 255
MAX_MANIFEST_ENTRIES: Final = 1_000_000
# paged manifests (issue 18): a sealed manifest (BVMF) of version 2 is a paged root
MANIFEST_WHOLE: Final = 1  # BVMF version byte: the whole body inside (BVMB)
MANIFEST_PAGED: Final = 2  # BVMF version byte: a root (BVMR) naming sealed pages (BVMG)
PAGE_SPLIT: Final = 2_048  # a whole manifest with more entries is written paged
PAGE_MERGE: Final = 1_024  # a paged folder with at most this many is written whole again
PAGE_TARGET: Final = 256  # entries per page a (re)split aims at
PAGE_MAX: Final = 1_024  # a write that fills a page beyond this re-splits the folder
MAX_PAGE_BITS: Final = 16  # at most 2**16 pages

# --- sharing ---
SUITE_X25519: Final = 1
SUITE_MLKEM768_X25519: Final = 2
ROLE_READ: Final = 1
ROLE_WRITE: Final = 2

# --- links ---
LINK_SECRET_SIZE: Final = 32
LINK_FRAGMENT_PREFIX: Final = "v1."
LINK_PASSWORD_MARK: Final = ".p"  # noqa: S105 - a marker, not a password
# --- upload-only links (file drops) ---
PAD_DROP_HEADER_MIN: Final = 512  # the sealed drop header: file key, size, mtime, name, tag
MAX_DROP_PATH_BYTES: Final = 4096  # the owner's note: the target folder's path
DROP_HEADER_MAX: Final = 4096  # the HPKE ciphertext of a drop header, at most

# --- recovery ---
RECOVERY_WORDS: Final = 24
SLIP39_ITERATION_EXPONENT: Final = 1
SLIP39_MAX_SHARES: Final = 16

# per-app containers (issue 16, spec apps.md)
LABEL_APP_NODE: Final = b"blindvault/v1/app-container-node"
LABEL_APP_KEY: Final = b"blindvault/v1/app-container-key"
LABEL_APP_ATTEST: Final = b"blindvault/v1/app-attestation"
LABEL_APP_LOCAL: Final = b"blindvault/v1/app-local-key"
LABEL_APP_ENVELOPE: Final = b"blindvault/v1/app-envelope-id"
APP_EMAIL_DOMAIN: Final = "app.invalid"
SOCIAL_MAX_WAIT_S: Final = 90 * 24 * 3600  # the longest waiting period a setup may name
SOCIAL_CODE_GROUPS: Final = 4  # the request code: 4 groups of 5 digits (~66 bits)
# --- pairing a device by code (SPAKE2) ---
PAIRING_WORDS: Final = 3  # BIP39 English words, 11 bits each: one online guess per code
PAIRING_CHANNEL_DIGITS: Final = 5

# --- identity certificates (issue 17, part 3): the organisation's policy, in the CA ---
CA_POLICY_REVERIFY: Final = 0  # a certified key change of a pinned peer still needs `trust`
CA_POLICY_ACCEPT_CERTIFIED: Final = 1  # a certified key change replaces the pin
