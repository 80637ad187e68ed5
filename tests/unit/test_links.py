from __future__ import annotations

import pytest

from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.links import (
    LinkDescriptor,
    b64url_decode,
    format_link,
    link_key,
    link_token,
    new_link,
    open_link_descriptor,
    parse_link,
    seal_link_descriptor,
)
from blindvault.errors import FormatError, IntegrityError

FAST = 1000  # PBKDF2 iterations for tests only; the default is 600,000


def test_format_and_parse() -> None:
    link_id, secret = new_link()
    url = format_link("https://vault.example/", link_id, secret, password=False)
    assert url.startswith("https://vault.example/s/")
    parsed = parse_link(url)
    assert (parsed.base, parsed.link_id, parsed.secret, parsed.needs_password) == (
        "https://vault.example",
        link_id,
        secret,
        False,
    )
    assert secret.hex() not in repr(parsed)
    assert parse_link(format_link("http://h", link_id, secret, password=True)).needs_password


@pytest.mark.parametrize(
    "url",
    [
        "https://h/s/abc",
        "https://h/x/AAAAAAAAAAAAAAAAAAAAAA#v1.AAAA",
        "https://h/s/AAAAAAAAAAAAAAAAAAAAAA#v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "https://h/s/AAAAAAAAAAAAAAAAAAAAAA#v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
        "https://h/s/AAAAAAAAAAAAAAAAAAAAAA=#v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_bad_links(url: str) -> None:
    with pytest.raises(FormatError):
        parse_link(url)


def test_non_canonical_base64_refused() -> None:
    with pytest.raises(FormatError):
        b64url_decode("AB", 1)  # canonical form of b"\x00" is "AA"


def test_token_is_independent_of_key_and_password() -> None:
    link_id, secret = new_link()
    token = link_token(secret, link_id)
    assert token != link_key(secret, link_id, None).material
    assert link_key(secret, link_id, "pw", iterations=FAST) != link_key(secret, link_id, None)
    assert link_key(secret, link_id, "pw", iterations=FAST) != link_key(
        secret, link_id, "pw2", iterations=FAST
    )


@pytest.mark.parametrize("kind", [FileKey, FolderKey])
def test_descriptor(kind: type[FileKey] | type[FolderKey]) -> None:
    link_id, secret = new_link()
    key = link_key(secret, link_id, None)
    desc = LinkDescriptor(b"\x07" * 16, kind.generate(), 3, 1234, 99, "report.pdf")
    sealed = seal_link_descriptor(desc, key, link_id)
    assert open_link_descriptor(sealed, key, link_id) == desc
    assert b"report" not in sealed
    with pytest.raises(IntegrityError):
        open_link_descriptor(sealed, key, new_link()[0])
    with pytest.raises(IntegrityError):
        open_link_descriptor(sealed, link_key(secret, link_id, "pw", iterations=FAST), link_id)


def test_version_1_descriptors_are_refused() -> None:
    from blindvault.core.keys import FileKey, LinkKey
    from blindvault.core.links import LinkDescriptor, open_link_descriptor, seal_link_descriptor
    from blindvault.errors import FormatError

    key, lid = LinkKey(bytes(32)), bytes(16)
    data = seal_link_descriptor(
        LinkDescriptor(bytes(16), FileKey.generate(), 1, 1, 0, "a"), key, lid
    )
    assert data[:5] == b"BVLK\x02"
    with pytest.raises(FormatError):
        open_link_descriptor(data[:4] + b"\x01" + data[5:], key, lid)
