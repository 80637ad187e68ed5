"""core/drops.py (issue 19): what seals and opens an upload-only link's objects. Each
field of a drop tampered on its own, another link's keys, notes and descriptors moved
between links, and the link secret opening nothing it should not."""

from __future__ import annotations

import pytest

from blindvault.core import primitives
from blindvault.core.drops import (
    OwnerDropKeys,
    open_drop,
    open_drop_link,
    open_owner_note,
    peek_drop,
    seal_drop,
    seal_drop_link,
    seal_owner_note,
)
from blindvault.core.keys import VaultKey
from blindvault.errors import IntegrityError, UsageError
from helpers.drops import inbox, sealed_drop

VAULT = VaultKey(b"\x07" * 32)
A, B = b"\x0a" * 16, b"\x0b" * 16


def _keys(link: bytes = A) -> OwnerDropKeys:
    return OwnerDropKeys(VAULT, link)


def _drop(data: bytes = b"hello", link: bytes = A) -> bytes:
    return sealed_drop(_keys(link), link, "hi.txt", data, mtime_ms=42)


def test_round_trip_and_derivation_is_per_vault_and_link() -> None:
    header, body = open_drop(_drop(), _keys())
    assert (header.name, header.size, header.mtime_ms, body) == ("hi.txt", 5, 42, b"hello")
    assert peek_drop(_drop())[0] == A
    assert _keys(A).secret != _keys(B).secret
    assert _keys(A).recipient_public != _keys(B).recipient_public
    other = OwnerDropKeys(VaultKey(b"\x08" * 32), A)
    assert other.secret != _keys(A).secret  # another account derives other keys


@pytest.mark.parametrize(
    ("what", "at"),
    [("magic", 0), ("version", 4), ("link id", 6), ("drop id", 25), ("length", 37),
     ("enc", 45), ("header", 100), ("content prefix", -4400), ("last chunk", -1)],
)  # fmt: skip
def test_each_field_tampered_is_refused(what: str, at: int) -> None:
    data = bytearray(_drop())
    data[at] ^= 0x01
    with pytest.raises(IntegrityError):
        open_drop(bytes(data), _keys())


def test_a_drop_of_another_link_or_secret_is_refused() -> None:
    with pytest.raises(IntegrityError):
        open_drop(_drop(link=B), _keys(A))
    k = _keys()
    target = inbox(k)
    forged = seal_drop(target, primitives.random_bytes(32), A, "x.txt", b"x", mtime_ms=1)
    with pytest.raises(IntegrityError):
        open_drop(forged, k)  # the recipient key alone does not make a drop


def test_notes_and_descriptors_do_not_move_between_links() -> None:
    note = seal_owner_note("/inbox", _keys(A))
    assert open_owner_note(note, _keys(A)) == "/inbox"
    with pytest.raises(IntegrityError):
        open_owner_note(note, _keys(B))
    ka, kb = _keys(A), _keys(B)
    desc = seal_drop_link(inbox(ka, 9), ka.link_key, A)
    assert open_drop_link(desc, ka.link_key, A).max_size == 9
    with pytest.raises(IntegrityError):
        open_drop_link(desc, kb.link_key, B)
    with pytest.raises(IntegrityError):
        open_drop_link(desc, ka.link_key, B)


def test_too_big_or_badly_named_files_are_refused_before_sealing() -> None:
    k = _keys()
    small = inbox(k, 3)
    with pytest.raises(UsageError):
        seal_drop(small, k.secret, A, "a.txt", b"four", mtime_ms=1)
    big = inbox(k, 100)
    for name in ("", "a/b", "..", "x" * 256):
        with pytest.raises(UsageError):
            seal_drop(big, k.secret, A, name, b"x", mtime_ms=1)


def test_name_length_is_hidden_by_padding() -> None:
    k = _keys()
    t = inbox(k, 100)
    short = seal_drop(t, k.secret, A, "a", b"x", mtime_ms=1)
    long = seal_drop(t, k.secret, A, "n" * 200, b"x", mtime_ms=1)
    assert len(short) == len(long)


def test_a_drop_sealed_and_opened_as_a_stream() -> None:
    """The sealer gives the same bytes every time (a retried upload is the same drop, which
    the server refuses as a replay); the owner opens the head from its first bytes and the
    content piece by piece, and a drop with bytes after its content does not open."""
    from blindvault.core.content import ContentDecryptor
    from blindvault.core.drops import DROP_HEAD_MAX, drop_sealer, open_drop_head

    k = _keys()
    data = primitives.random_bytes(100_000)
    sealer = drop_sealer(inbox(k), k.secret, A, "big.bin", len(data), mtime_ms=7)

    def sealed() -> bytes:
        enc = sealer.encryptor()
        pieces = [enc.update(data[i : i + 4096]) for i in range(0, len(data), 4096)]
        return sealer.head + enc.header + b"".join(pieces) + enc.finalize()

    whole = sealed()
    assert sealed() == whole and len(whole) == sealer.sealed_size
    assert "key" not in repr(sealer) and sealer.drop_id.hex() not in repr(sealer)
    header, at = open_drop_head(whole[:DROP_HEAD_MAX], k)
    assert (header.name, header.size, header.mtime_ms, at) == ("big.bin", len(data), 7,
                                                                 len(sealer.head))  # fmt: skip
    dec = ContentDecryptor(header.file_key, header.drop_id, 1, header.size)
    out = b"".join(dec.update(whole[i : i + 1000]) for i in range(at, len(whole), 1000))
    assert out + dec.finalize() == data
    assert open_drop(whole, k)[1] == data
    with pytest.raises(IntegrityError):
        open_drop(whole + b"\x00", k)
    with pytest.raises(UsageError):
        drop_sealer(inbox(k, 10), k.secret, A, "x", 11, mtime_ms=1)
