"""Every decoder of the core under Hypothesis: structure-aware mutations of valid objects
(bit flips, overwritten length fields, cuts, insertions, splices between objects of the same
type and of other types) and raw garbage behind a valid magic. The only allowed outcomes are
a value, or an exception of the typed family (BlindvaultError); nothing may take long.
"""

from __future__ import annotations

import contextlib
import json
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindvault.core import wrap
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.content import ContentDecryptor, ContentRangeReader, open_content, seal_content
from blindvault.core.drops import (
    OwnerDropKeys,
    open_drop,
    open_drop_link,
    open_owner_note,
    peek_drop,
    seal_drop_link,
    seal_owner_note,
)
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import KdfParams, normalize_email
from blindvault.core.keybundle import KeyBundle, new_account_bundle
from blindvault.core.keys import FileKey, FolderKey, MasterKey, RecoveryKey, VaultKey
from blindvault.core.links import (
    LinkDescriptor,
    b64url_decode,
    format_link,
    link_key,
    open_link_descriptor,
    parse_link,
    seal_link_descriptor,
)
from blindvault.core.manifest import (
    ZERO_HASH,
    FileEntry,
    FileVersion,
    FolderEntry,
    ManifestBody,
    Tombstone,
    check_name,
    open_manifest,
    seal_manifest,
)
from blindvault.core.recovery import (
    combine_recovery_shares,
    recovery_key_from_words,
    recovery_words,
    split_recovery_key,
)
from blindvault.core.root import open_root, seal_root
from blindvault.core.roster import Member, open_roster, seal_roster
from blindvault.errors import BlindvaultError
from helpers.budgets import EXAMPLES
from helpers.drops import inbox, sealed_drop

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # measured below instead: a slow example fails with its time, never flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
HANG = 5.0  # seconds: far beyond any decoder's honest cost on this machine

ALICE = Identity.generate("alice@example.org", 1)
BOB = Identity.generate("bob@example.org", 2)
PQ = Identity.generate("carol@example.org", 3, post_quantum=True)
OWNER, NODE, LINK_ID = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
MASTER, VAULT, FOLDER, FILE = (
    MasterKey.generate(),
    VaultKey.generate(),
    FolderKey.generate(),
    FileKey.generate(),
)
RECOVERY = RecoveryKey.generate()
LKEY = link_key(b"s" * 32, LINK_ID, None)
DROP_KEYS = OwnerDropKeys(VAULT, LINK_ID)
BODY = ManifestBody(
    (
        FileEntry(
            "a.txt",
            b"\x04" * 16,
            FileKey.generate(),
            3,
            10,
            1,
            5,
            b"\x07" * 32,
            (FileVersion(2, FileKey.generate(), 9, 1, 4, b"\x08" * 32),),  # issue 14: history
        ),
        FolderEntry("docs", b"\x05" * 16, FolderKey.generate(), 1, 2),
    ),
    (Tombstone(b"\x06" * 16, 7),),
)
CONTENT = bytes(range(256)) * 100  # 25,600 bytes: two chunks after padding
BLOB = seal_content(FILE, NODE, 1, CONTENT)
OPENED = new_account_bundle(
    OWNER, "alice@example.org", MASTER, RECOVERY, ALICE, b"\x07" * 16, b"\x08" * 16
)


def _content(b: bytes) -> object:
    return open_content(FILE, NODE, 1, len(CONTENT), b)


def _content_streamed(b: bytes) -> object:
    dec = ContentDecryptor(FILE, NODE, 1, len(CONTENT))
    out = bytearray(dec.output_bound(len(b)) + 16400)
    for i in range(0, len(b), 7000):  # uneven pieces across chunk boundaries
        dec.update_into(b[i : i + 7000], out)
    return dec.finalize()


def _content_range(b: bytes) -> object:
    reader = ContentRangeReader(
        FILE, NODE, 1, len(CONTENT), lambda off, n: b[off : off + n], len(b)
    )
    reader.authenticate_length()
    return reader.read(16000, 1000)


Opener = Callable[[bytes], object]
DECODERS: dict[str, tuple[bytes, Opener]] = {
    "kdf-params": (KdfParams.argon2id().encode(), KdfParams.decode),
    "wrapped-key": (
        wrap.wrap_file_key(FOLDER, FILE, OWNER, NODE, 1),
        lambda b: wrap.unwrap_file_key(FOLDER, b, OWNER, NODE, 1),
    ),
    "wrapped-key-decode": (
        wrap.wrap_identity_secret(VAULT, ALICE.secret, OWNER, NODE, 1),
        wrap.WrappedKey.decode,
    ),
    "identity-bundle": (ALICE.bundle.encode(), IdentityBundle.decode),
    "identity-bundle-pq": (PQ.bundle.encode(), IdentityBundle.decode),
    "manifest-body": (BODY.encode(), ManifestBody.decode),
    "manifest": (
        seal_manifest(
            BODY,
            FOLDER,
            node_id=NODE,
            version=2,
            key_version=1,
            prev_hash=b"\x09" * 32,
            writer=ALICE,
        ),
        lambda b: open_manifest(b, FOLDER, NODE, {ALICE.bundle.fingerprint: ALICE.bundle}),
    ),
    "root": (
        seal_root(OWNER, 1, ZERO_HASH, [], ALICE),
        lambda b: open_root(b, OWNER, ALICE.bundle),
    ),
    "envelope": (
        seal_envelope(
            FolderKey.generate(),
            share_id=LINK_ID,
            node_id=NODE,
            key_version=1,
            role=ROLE_WRITE,
            sender=ALICE,
            recipient=BOB.bundle,
        ),
        lambda b: open_envelope(b, BOB, ALICE.bundle),
    ),
    "link-descriptor": (
        seal_link_descriptor(LinkDescriptor(NODE, FILE, 1, 5, 6, "x.bin"), LKEY, LINK_ID),
        lambda b: open_link_descriptor(b, LKEY, LINK_ID),
    ),
    "key-bundle": (OPENED.bundle.encode(), KeyBundle.decode),
    "key-bundle-open": (
        OPENED.bundle.encode(),
        lambda b: KeyBundle.decode(b).open(MASTER, "alice@example.org"),
    ),
    "key-bundle-recovery": (
        OPENED.bundle.encode(),
        lambda b: KeyBundle.decode(b).open_with_recovery(RECOVERY, "alice@example.org"),
    ),
    "roster": (
        seal_roster(
            owner=OWNER,
            node_id=NODE,
            version=1,
            key_version=1,
            members=[Member(BOB.bundle.fingerprint, ROLE_READ, "bob@example.org")],
            name="team",
            key=FOLDER,
            signer=ALICE,
        ),
        lambda b: open_roster(b, OWNER, NODE, ALICE.bundle),
    ),
    "content-header": (BLOB[:61], _content),
    "content": (BLOB, _content),
    "content-streamed": (BLOB, _content_streamed),
    "content-range": (BLOB, _content_range),
    # upload-only links (issue 19)
    "drop-link": (
        seal_drop_link(inbox(DROP_KEYS, 99), LKEY, LINK_ID),
        lambda b: open_drop_link(b, LKEY, LINK_ID),
    ),
    "drop-note": (seal_owner_note("/inbox", DROP_KEYS), lambda b: open_owner_note(b, DROP_KEYS)),
    "drop": (
        sealed_drop(DROP_KEYS, LINK_ID, "a.txt", b"drop", mtime_ms=1),
        lambda b: open_drop(b, DROP_KEYS),
    ),
    "drop-peek": (
        sealed_drop(DROP_KEYS, LINK_ID, "a.txt", b"", mtime_ms=1),
        peek_drop,
    ),
}
SAMPLES = [v for v, _ in DECODERS.values()]


def _typed_or_value(opener: Callable[[Any], object], data: Any) -> None:
    start = time.perf_counter()
    with contextlib.suppress(BlindvaultError):
        opener(data)
    took = time.perf_counter() - start
    assert took < HANG, f"{took:.1f} s on {data!r:.200}"


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid object with 1-4 structure-aware changes."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        pos = draw(st.integers(0, max(n - 1, 0)))
        op = draw(
            st.sampled_from(["flip", "byte", "length", "cut", "insert", "delete", "splice", "dup"])
        )
        if op == "flip" and n:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and n:
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "length":  # a u16/u32/u64 field set to an edge value
            width = draw(st.sampled_from([2, 4, 8]))
            value = draw(st.sampled_from([0, 1, 2**15, 2 ** (8 * width) - 1]))
            data[pos : pos + width] = value.to_bytes(width, "big")
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif op == "splice":  # a piece of another valid object (same or other type)
            other = draw(st.sampled_from(SAMPLES))
            a = draw(st.integers(0, len(other)))
            piece = other[a : a + draw(st.integers(1, 200))]
            data[pos : pos + len(piece)] = piece
        elif op == "dup":
            data += bytes(data[pos : pos + draw(st.integers(1, 200))])
    return bytes(data)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_valid_sample_opens(name: str) -> None:
    valid, opener = DECODERS[name]
    if name == "content-header":
        return  # a header alone is not a valid blob
    opener(valid)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_mutated_objects_raise_only_typed_errors(name: str) -> None:
    valid, opener = DECODERS[name]

    @FUZZ
    @given(data=mutated(valid))
    def run(data: bytes) -> None:
        _typed_or_value(opener, data)

    run()


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_garbage_behind_a_valid_magic(name: str) -> None:
    valid, opener = DECODERS[name]

    @FUZZ
    @given(rest=st.binary(max_size=600), keep=st.integers(0, 8))
    def run(rest: bytes, keep: int) -> None:
        _typed_or_value(opener, valid[:keep] + rest)

    run()


# --- text and JSON decoders ----------------------------------------------------------------------

WORDS = recovery_words(RECOVERY)
SHARES = split_recovery_key(RECOVERY, 2, 3)
LINK = format_link("https://h.example", LINK_ID, b"s" * 32, password=True)
text_like = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.sampled_from(["", " ", "\x00", "\u212b", "a\u0301", "\ud7ff", "🔑" * 30, "a" * 5000]),
)


def _edit_words(words: list[str], draw: st.DrawFn) -> str:
    w = list(words)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(w) - 1))
        op = draw(st.sampled_from(["swap", "drop", "dup", "replace", "case", "unicode"]))
        if op == "swap" and len(w) > 1:
            j = draw(st.integers(0, len(w) - 1))
            w[i], w[j] = w[j], w[i]
        elif op == "drop" and len(w) > 1:
            del w[i]
        elif op == "dup":
            w.insert(i, w[i])
        elif op == "replace":
            w[i] = draw(st.sampled_from(["abandon", "zoo", "", "xyzzy", "ábandon", "academic"]))
        elif op == "case":
            w[i] = w[i].upper()
        elif op == "unicode":
            w[i] = unicodedata.normalize("NFD", w[i] + "\u0301")
    return draw(st.sampled_from([" ", "  ", "\n", "\t", ","])).join(w)


@FUZZ
@given(data=st.data())
def test_recovery_words(data: st.DataObject) -> None:
    text = data.draw(
        st.one_of(
            text_like,
            st.builds(lambda: None).flatmap(
                lambda _: st.composite(lambda d: _edit_words(WORDS, d))()
            ),
        )
    )
    _typed_or_value(recovery_key_from_words, text)
    _typed_or_value(recovery_key_from_words, text.split())


@FUZZ
@given(data=st.data())
def test_recovery_shares(data: st.DataObject) -> None:
    shares = list(SHARES)
    pick = data.draw(st.lists(st.sampled_from(range(len(shares))), max_size=4))
    chosen = [shares[i] for i in pick]
    if chosen and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(chosen) - 1))
        chosen[i] = data.draw(st.composite(lambda d: _edit_words(chosen[i].split(), d))())
    if data.draw(st.booleans()):
        chosen.append(data.draw(text_like))
    _typed_or_value(combine_recovery_shares, chosen)


@FUZZ
@given(data=st.data())
def test_links(data: st.DataObject) -> None:
    url = data.draw(
        st.one_of(
            text_like,
            st.builds(
                lambda a, b, c: LINK[:a] + c + LINK[b:],
                st.integers(0, len(LINK)),
                st.integers(0, len(LINK)),
                st.sampled_from(["", "=", "#", ".p", ".x", "v2.", "%41", "+/", "A", "\n", "é"]),
            ),
        )
    )
    _typed_or_value(parse_link, url)
    size = data.draw(st.sampled_from([16, 32]))
    _typed_or_value(lambda t: b64url_decode(t, size), url.rsplit("#", 1)[-1][3:])


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True),
        st.text(max_size=20),
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=12,
)
kdf_like = st.fixed_dictionaries(
    {"alg": st.sampled_from(["argon2id", "pbkdf2-sha256", "ARGON2ID", "", "scrypt"])},
    optional={
        "m": json_values,
        "t": json_values,
        "p": json_values,
        "i": json_values,
        "salt": json_values,
    },
)


@FUZZ
@given(obj=st.one_of(json_values, kdf_like))
def test_kdf_params_from_json(obj: Any) -> None:
    _typed_or_value(KdfParams.from_json, obj)
    _typed_or_value(KdfParams.from_json, json.loads(json.dumps(obj, allow_nan=True)))


@FUZZ
@given(text=text_like)
def test_emails_and_names(text: str) -> None:
    _typed_or_value(normalize_email, text)
    _typed_or_value(check_name, text)
