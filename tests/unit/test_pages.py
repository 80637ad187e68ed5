"""Paged folder manifests (issue 18, spec §7a): the root and page format, and every way a
page can fail to be the one the signed root names."""

from __future__ import annotations

import dataclasses
import os

import pytest

from blindvault.core.constants import MANIFEST_PAGED
from blindvault.core.identity import Identity
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import (
    ZERO_HASH,
    FileEntry,
    ManifestHead,
    Tombstone,
    check_fresh,
    open_manifest,
    open_manifest_for_link,
    seal_manifest,
)
from blindvault.core.pages import (
    EMPTY_REF,
    Bucketer,
    PageRef,
    RootBody,
    choose_bits,
    open_page,
    page_hash,
    seal_page,
)
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

NODE = b"\x07" * 16
BITS = 2


def entries(n: int, tag: str = "") -> list[FileEntry]:
    return [
        FileEntry(f"file-{i:05d}{tag}.txt", os.urandom(16), FileKey.generate(), 1, i, 5)
        for i in range(n)
    ]


def paged(key: FolderKey, items: list[FileEntry], node: bytes = NODE) -> tuple[RootBody, dict]:
    """A root and its pages (bucket -> sealed page) for `items`."""
    bucketer = Bucketer(key, BITS)
    refs, pages = [], {}
    for b, group in enumerate(bucketer.split(items)):
        if not group:
            refs.append(EMPTY_REF)
            continue
        ref, sealed = seal_page(group, key, node_id=node, bits=BITS, bucket=b)
        refs.append(ref)
        pages[b] = sealed
    return RootBody(BITS, tuple(refs), (Tombstone(b"\x33" * 16, 4),)), pages


def read_all(root: RootBody, pages: dict, key: FolderKey, node: bytes = NODE) -> list[str]:
    bucketer = Bucketer(key, root.bits)
    out = []
    for b, ref in enumerate(root.refs):
        if ref.count:
            got = open_page(pages[b], ref, key, node_id=node, bucket=b, bucketer=bucketer)
            out += [e.name for e in got]
    return sorted(out)


def test_root_and_pages_round_trip(alice: Identity) -> None:
    key, items = FolderKey.generate(), entries(40)
    root, pages = paged(key, items)
    assert RootBody.decode(root.encode()) == root
    assert root.total == 40
    sealed = seal_manifest(
        root, key, node_id=NODE, version=1, key_version=1, prev_hash=ZERO_HASH, writer=alice
    )
    assert sealed[4] == MANIFEST_PAGED
    opened = open_manifest(sealed, key, NODE, {alice.bundle.fingerprint: alice.bundle})
    assert opened.paged == root
    assert opened.body.entries == ()
    assert opened.body.tombstones == root.tombstones
    assert read_all(opened.paged, pages, key) == sorted(e.name for e in items)


def test_buckets_are_keyed_by_the_folder_key() -> None:
    names = [f"n{i}" for i in range(64)]
    a, b = Bucketer(FolderKey.generate(), 4), Bucketer(FolderKey.generate(), 4)
    assert [a(n) for n in names] != [b(n) for n in names]
    wide = Bucketer(FolderKey(b"\x01" * 32), 5)  # one more bit splits each bucket in two
    narrow = Bucketer(FolderKey(b"\x01" * 32), 4)
    assert all(wide(n) >> 1 == narrow(n) for n in names)


def test_choose_bits() -> None:
    assert choose_bits(2049) == 4  # 256 * 16 >= 2049 > 256 * 8
    assert choose_bits(100_000) == 9
    assert 256 << choose_bits(1_000_000) >= 1_000_000


def test_tampered_page_refused() -> None:
    key = FolderKey.generate()
    root, pages = paged(key, entries(20))
    b = next(iter(pages))
    for i in (0, 10, 40, len(pages[b]) - 1):
        bad = bytearray(pages[b])
        bad[i] ^= 1
        with pytest.raises(IntegrityError):
            read_all(root, {**pages, b: bytes(bad)}, key)


def test_swapped_pages_refused() -> None:
    key = FolderKey.generate()
    root, pages = paged(key, entries(40))
    a, b = list(pages)[:2]
    with pytest.raises(IntegrityError):
        read_all(root, {**pages, a: pages[b], b: pages[a]}, key)


def test_an_older_version_of_the_page_is_refused() -> None:
    """The server answers with the page of the previous root: same folder, bucket and
    count, a valid AEAD; only the signed root's hash tells it is not the one named."""
    key = FolderKey.generate()
    items = entries(20)
    old_root, old_pages = paged(key, items)
    changed = [dataclasses.replace(e, size=e.size + 1) for e in items]
    root, pages = paged(key, changed)
    b = next(iter(pages))
    assert old_root.refs[b].count == root.refs[b].count
    assert len(old_pages[b]) == len(pages[b])
    with pytest.raises(IntegrityError):
        read_all(root, {**pages, b: old_pages[b]}, key)


def test_a_page_of_another_folder_is_refused() -> None:
    """Even named by its hash (a writer holding the key copied it): the head binds the page
    to its folder and bucket."""
    key = FolderKey.generate()
    other = b"\x08" * 16
    root, pages = paged(key, entries(20), node=other)
    with pytest.raises(IntegrityError):
        read_all(root, pages, key, node=NODE)


def test_a_page_at_another_bucket_is_refused() -> None:
    key = FolderKey.generate()
    root, pages = paged(key, entries(40))
    a, b = list(pages)[:2]
    moved = list(root.refs)
    moved[a] = root.refs[b]
    with pytest.raises(IntegrityError):
        read_all(dataclasses.replace(root, refs=tuple(moved)), {**pages, a: pages[b]}, key)


def test_a_page_holding_names_of_another_bucket_is_refused() -> None:
    key = FolderKey.generate()
    bucketer = Bucketer(key, BITS)
    items = entries(20)
    assert len({bucketer(e.name) for e in items}) > 1
    ref, sealed = seal_page(items, key, node_id=NODE, bits=BITS, bucket=0)  # all in 0
    with pytest.raises(IntegrityError):
        open_page(sealed, ref, key, node_id=NODE, bucket=0, bucketer=bucketer)


def test_a_count_other_than_the_roots_is_refused() -> None:
    key = FolderKey.generate()
    bucketer = Bucketer(key, BITS)
    mine = [e for e in entries(40) if bucketer(e.name) == 1]
    ref, sealed = seal_page(mine, key, node_id=NODE, bits=BITS, bucket=1)
    assert open_page(sealed, ref, key, node_id=NODE, bucket=1, bucketer=bucketer)
    wrong = dataclasses.replace(ref, count=ref.count + 1)
    with pytest.raises(IntegrityError):
        open_page(sealed, wrong, key, node_id=NODE, bucket=1, bucketer=bucketer)


def test_missing_page_is_not_an_empty_bucket() -> None:
    """A root names a page by a non-zero count and hash; an empty bucket is all zero, and
    a root that says otherwise does not decode."""
    key = FolderKey.generate()
    root, _ = paged(key, entries(20))
    raw = bytearray(root.encode())
    b = next(i for i, r in enumerate(root.refs) if r.count)
    at = 6 + b * 40
    raw[at : at + 4] = bytes(4)  # count 0, hash still set
    with pytest.raises(FormatError):
        RootBody.decode(bytes(raw))
    with pytest.raises(UsageError):
        RootBody(BITS, (PageRef(0, 10, ZERO_HASH),) * 4).encode()


def test_rolled_back_root_refused(alice: Identity) -> None:
    """The root is the manifest: signed and chained like a whole one, so P-FRESH holds."""
    key = FolderKey.generate()
    writers = {alice.bundle.fingerprint: alice.bundle}
    r1, _ = paged(key, entries(10))
    s1 = seal_manifest(r1, key, node_id=NODE, version=1, key_version=1, prev_hash=ZERO_HASH,
                       writer=alice)  # fmt: skip
    o1 = open_manifest(s1, key, NODE, writers)
    r2, _ = paged(key, entries(11))
    s2 = seal_manifest(r2, key, node_id=NODE, version=2, key_version=1, prev_hash=o1.hash,
                       writer=alice)  # fmt: skip
    o2 = open_manifest(s2, key, NODE, writers)
    check_fresh(ManifestHead(NODE, 1, o1.hash), o2)
    with pytest.raises(RollbackError):
        check_fresh(o2.head, o1)


def test_paged_head_byte_is_signed(alice: Identity) -> None:
    """A whole manifest cannot be presented as paged (or back): the version byte is in the
    signed, authenticated head."""
    key = FolderKey.generate()
    root, _ = paged(key, entries(10))
    sealed = bytearray(seal_manifest(root, key, node_id=NODE, version=1, key_version=1,
                                     prev_hash=ZERO_HASH, writer=alice))  # fmt: skip
    sealed[4] = 1
    with pytest.raises(IntegrityError):
        open_manifest(bytes(sealed), key, NODE, {alice.bundle.fingerprint: alice.bundle})
    sealed[4] = 3
    with pytest.raises(FormatError):
        open_manifest(bytes(sealed), key, NODE, {alice.bundle.fingerprint: alice.bundle})


def test_link_holder_refuses_a_paged_manifest(alice: Identity) -> None:
    key = FolderKey.generate()
    root, _ = paged(key, entries(10))
    sealed = seal_manifest(
        root, key, node_id=NODE, version=1, key_version=1, prev_hash=ZERO_HASH, writer=alice
    )
    with pytest.raises(FormatError):
        open_manifest_for_link(sealed, key, NODE)


def test_page_hash_covers_every_byte() -> None:
    key = FolderKey.generate()
    _, sealed = seal_page(entries(3), key, node_id=NODE, bits=1, bucket=0)
    assert page_hash(sealed) != page_hash(sealed[:-1] + bytes([sealed[-1] ^ 1]))
