from __future__ import annotations

import pytest

from blindvault.core.identity import Identity
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import (
    MAX_HISTORY,
    ZERO_HASH,
    FileEntry,
    FileVersion,
    FolderEntry,
    ManifestBody,
    ManifestHead,
    Tombstone,
    TrashItem,
    check_fresh,
    open_manifest,
    seal_manifest,
)
from blindvault.core.padme import pad_block, unpad_block
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

NODE = b"\x01" * 16


def body(author: bytes, n: int = 3) -> ManifestBody:
    files = tuple(
        FileEntry(f"f{i}.txt", bytes([0x10 + i]) * 16, FileKey.generate(), 1, 1000 + i, 5)
        for i in range(n)
    )
    folder = FolderEntry("sub", b"\x20" * 16, FolderKey.generate(), 1, 7)
    tomb = Tombstone(b"\x30" * 16, 9)
    return ManifestBody((*files, folder), (tomb,))


def chain(alice: Identity, key: FolderKey, versions: int) -> list[bytes]:
    out: list[bytes] = []
    prev = ZERO_HASH
    for v in range(1, versions + 1):
        sealed = seal_manifest(
            body(alice.bundle.fingerprint, v),
            key,
            node_id=NODE,
            version=v,
            key_version=1,
            prev_hash=prev,
            writer=alice,
        )
        prev = open_manifest(sealed, key, NODE, {alice.bundle.fingerprint: alice.bundle}).hash
        out.append(sealed)
    return out


def test_round_trip(alice: Identity) -> None:
    key = FolderKey.generate()
    b = body(alice.bundle.fingerprint)
    sealed = seal_manifest(
        b, key, node_id=NODE, version=1, key_version=1, prev_hash=ZERO_HASH, writer=alice
    )
    opened = open_manifest(sealed, key, NODE, {alice.bundle.fingerprint: alice.bundle})
    assert opened.body.encode() == b.encode()
    assert opened.version == 1
    assert opened.writer == alice.bundle.fingerprint
    assert ManifestBody.decode(b.encode()).encode() == b.encode()
    assert opened.body.find("sub") is not None


def test_no_name_in_sealed_bytes(alice: Identity) -> None:
    sealed = chain(alice, FolderKey.generate(), 1)[0]
    assert b"f0.txt" not in sealed


def test_unauthorized_writer_rejected(alice: Identity, bob: Identity) -> None:
    key = FolderKey.generate()
    sealed = seal_manifest(
        body(bob.bundle.fingerprint),
        key,
        node_id=NODE,
        version=1,
        key_version=1,
        prev_hash=ZERO_HASH,
        writer=bob,
    )
    with pytest.raises(IntegrityError):
        open_manifest(sealed, key, NODE, {alice.bundle.fingerprint: alice.bundle})


def test_wrong_folder_or_key(alice: Identity) -> None:
    key = FolderKey.generate()
    sealed = chain(alice, key, 1)[0]
    writers = {alice.bundle.fingerprint: alice.bundle}
    with pytest.raises(IntegrityError):
        open_manifest(sealed, key, b"\x02" * 16, writers)
    with pytest.raises(IntegrityError):
        open_manifest(sealed, FolderKey.generate(), NODE, writers)


def test_freshness(alice: Identity) -> None:
    key = FolderKey.generate()
    writers = {alice.bundle.fingerprint: alice.bundle}
    seals = chain(alice, key, 3)
    opened = [open_manifest(s, key, NODE, writers) for s in seals]
    check_fresh(None, opened[0])
    check_fresh(opened[0].head, opened[1])
    check_fresh(opened[0].head, opened[2])
    check_fresh(opened[2].head, opened[2])
    with pytest.raises(RollbackError):
        check_fresh(opened[2].head, opened[1])
    # a fork: another v2 whose prev is v1 but differs from the v2 we saw
    fork = seal_manifest(
        ManifestBody(),
        key,
        node_id=NODE,
        version=2,
        key_version=1,
        prev_hash=opened[0].hash,
        writer=alice,
    )
    fork_opened = open_manifest(fork, key, NODE, writers)
    with pytest.raises(RollbackError):
        check_fresh(opened[1].head, fork_opened)
    with pytest.raises(RollbackError):
        check_fresh(ManifestHead(NODE, 1, b"\xff" * 32), opened[1])


def test_version_chain_rules(alice: Identity) -> None:
    with pytest.raises(UsageError):
        seal_manifest(
            ManifestBody(),
            FolderKey.generate(),
            node_id=NODE,
            version=2,
            key_version=1,
            prev_hash=ZERO_HASH,
            writer=alice,
        )


def test_body_is_canonical(alice: Identity) -> None:
    e1 = FileEntry("b", b"\x01" * 16, FileKey.generate(), 1, 1, 1)
    e2 = FileEntry("a", b"\x02" * 16, FileKey.generate(), 1, 1, 1)
    enc = ManifestBody((e1, e2)).encode()
    assert enc == ManifestBody((e2, e1)).encode()
    # swap the two entries' bytes: same content, wrong order -> refused
    head, rest = enc[:9], enc[9:]
    size = 1 + 2 + 1 + 16 + 32 + 8 + 8 + 8  # one file entry named "a" or "b"
    swapped = head + rest[size : 2 * size] + rest[:size] + rest[2 * size :]
    with pytest.raises(FormatError):
        ManifestBody.decode(swapped)
    with pytest.raises(UsageError):
        ManifestBody((e1, FileEntry("b", b"\x03" * 16, FileKey.generate(), 1, 1, 1))).encode()
    with pytest.raises(UsageError):
        ManifestBody((e1, FileEntry("c", b"\x01" * 16, FileKey.generate(), 1, 1, 1))).encode()


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\x00b", "x" * 256])
def test_bad_names(alice: Identity, name: str) -> None:
    e = FileEntry(name, b"\x01" * 16, FileKey.generate(), 1, 1, 1)
    with pytest.raises(UsageError):
        ManifestBody((e,)).encode()


def test_non_nfc_name_refused(alice: Identity) -> None:
    e = FileEntry("e\u0301", b"\x01" * 16, FileKey.generate(), 1, 1, 1)
    with pytest.raises(UsageError):
        ManifestBody((e,)).encode()


def test_version_1_bodies_are_refused_and_entries_carry_no_author() -> None:
    """Issue 11, item 9: the body version moved to 2 when the unauthenticated `author` was
    removed; a version-1 body is a FormatError (no silent reading of the old layout)."""
    enc = body(b"", 1).encode()
    assert enc[:5] == b"BVMB\x04"
    # issue 14: version-2 bodies (no history) and version-3 bodies (no trash) are refused too
    for old in (b"\x01", b"\x02", b"\x03"):
        with pytest.raises(FormatError):
            ManifestBody.decode(enc[:4] + old + enc[5:])
    assert "author" not in FileEntry.__slots__ and "author" not in Tombstone.__slots__


def _history(*versions: int) -> tuple[FileVersion, ...]:
    return tuple(
        FileVersion(v, FileKey.generate(), v * 10, v, v + 1, b"\x05" * 32) for v in versions
    )


def test_file_history_round_trips_inside_the_signed_body() -> None:
    """Issue 14: earlier versions (key, size, times, writer) live in the signed body."""
    e = FileEntry(
        "a", b"\x01" * 16, FileKey.generate(), 5, 50, 5, 6, b"\x07" * 32, _history(4, 2, 1)
    )
    got = ManifestBody.decode(ManifestBody((e,)).encode()).entries[0]
    assert isinstance(got, FileEntry)
    assert got.writer == b"\x07" * 32 and got.written_ms == 6
    assert [h.content_version for h in got.history] == [4, 2, 1]
    assert [h.file_key.material for h in got.history] == [h.file_key.material for h in e.history]


@pytest.mark.parametrize("versions", [(2, 4), (5,), (4, 4), tuple(range(MAX_HISTORY + 1, 0, -1))])
def test_file_history_out_of_order_or_too_long_is_refused(versions: tuple[int, ...]) -> None:
    """Newest first, strictly below the live version, bounded; anything else is refused on
    write (UsageError) and on read (FormatError: a writer cannot smuggle a second order)."""
    live = max(versions) if len(versions) > MAX_HISTORY else 5
    e = FileEntry("a", b"\x01" * 16, FileKey.generate(), live, 1, 1, history=_history(*versions))
    with pytest.raises(UsageError):
        ManifestBody((e,)).encode()
    good = FileEntry("a", b"\x01" * 16, FileKey.generate(), 5, 1, 1, history=_history(4, 3))
    enc = ManifestBody((good,)).encode()
    swapped = enc.replace(b"\x00" * 7 + b"\x04", b"\x00" * 7 + b"\x09", 1)  # version 4 -> 9
    with pytest.raises(FormatError):
        ManifestBody.decode(swapped)


def _trashed(name: str, node: bytes, deleted: int = 7) -> TrashItem:
    e = FileEntry(name, node, FileKey.generate(), 3, 30, 3, 4, b"\x07" * 32, _history(2, 1))
    return TrashItem(deleted, f"/docs/{name}", e)


def test_trash_round_trips_inside_the_signed_body() -> None:
    """Issue 14: a trash item (deletion time, original path, the entry with its versions)
    is part of the signed body; it may share its node id with the delete's tombstone."""
    node = b"\x09" * 16
    folder = FolderEntry("sub", b"\x0a" * 16, FolderKey.generate(), 2, 5)
    items = (_trashed("a.txt", node), TrashItem(8, "/docs/sub", folder))
    enc = ManifestBody((), (Tombstone(node, 7),), items).encode()
    got = ManifestBody.decode(enc)
    assert [t.path for t in got.trash] == ["/docs/a.txt", "/docs/sub"]
    first = got.trash[0].entry
    assert isinstance(first, FileEntry) and [h.content_version for h in first.history] == [2, 1]
    assert got.trash[1].entry == folder and got.trash[1].deleted_ms == 8


def test_trash_must_be_canonical_and_apart_from_live_entries() -> None:
    """Trash items strictly ascending by node id (no duplicates); a live entry is never also
    in the trash; an empty or NUL path is refused, on write and on read."""
    a = _trashed("a.txt", b"\x01" * 16)
    with pytest.raises(UsageError):
        ManifestBody(trash=(a, a)).encode()
    with pytest.raises(UsageError):
        ManifestBody((a.entry,), (), (a,)).encode()
    with pytest.raises(UsageError):
        ManifestBody(trash=(TrashItem(1, "", a.entry),)).encode()
    one, two = _trashed("a", b"\x01" * 16), _trashed("b", b"\x02" * 16)
    good = ManifestBody(trash=(one, two)).encode()
    swapped = ManifestBody.decode(good)
    assert [t.entry.name for t in swapped.trash] == ["a", "b"]
    raw = unpad_block(good, 1024)
    head = raw[:13]
    items = raw[13 + 4 :]
    half = len(items) // 2
    bad = head + (2).to_bytes(4, "big") + items[half:] + items[:half]
    with pytest.raises(FormatError):
        ManifestBody.decode(pad_block(bad, 1024))
