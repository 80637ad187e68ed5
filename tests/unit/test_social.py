"""Pure policy and formats of social recovery (core/social.py)."""

from __future__ import annotations

import os

import pytest

from blindvault.core import primitives, social
from blindvault.core.identity import Identity
from blindvault.core.keys import RecoveryKey
from blindvault.core.recovery import combine_recovery_shares, share_info, split_recovery_key
from blindvault.errors import FormatError, IntegrityError, UsageError


def people() -> tuple[Identity, Identity, Identity]:
    return (Identity.generate("o@example.org", 1), Identity.generate("a@example.org", 1),
            Identity.generate("b@example.org", 1))  # fmt: skip


def make_setup(owner: Identity, *contacts: Identity, wait_s: int = 60) -> social.Setup:
    return social.sign_setup(
        owner, [c.bundle for c in contacts], threshold=len(contacts), printed=0,
        wait_s=wait_s, created_ms=5, setup_id=os.urandom(16),
    )  # fmt: skip


def test_parse_wait() -> None:
    assert social.parse_wait("72h") == 72 * 3600
    assert social.parse_wait("0s") == 0
    assert social.parse_wait("2d") == 172800
    assert social.parse_wait(" 30m ") == 1800
    for bad in ("", "1w", "-1h", "1.5h", "91d", "h"):
        with pytest.raises(UsageError):
            social.parse_wait(bad)


def test_wait_over_uses_the_local_first_seen_time() -> None:
    assert social.wait_over(1000, 1000, 0)
    assert not social.wait_over(1000, 1000 + 59_999, 60)
    assert social.wait_over(1000, 1000 + 60_000, 60)
    assert not social.wait_over(1000, 0, 60)  # a clock that went back counts as no time


def test_setup_is_signed_by_the_owner() -> None:
    owner, a, b = people()
    setup = make_setup(owner, a, b)
    assert social.Setup.decode(setup.encoded, owner.bundle).threshold == 2
    with pytest.raises(IntegrityError):
        social.Setup.decode(setup.encoded, a.bundle)  # not the owner's key
    raw = bytearray(setup.encoded)
    raw[-70] ^= 1
    with pytest.raises((IntegrityError, FormatError)):
        social.Setup.decode(bytes(raw), owner.bundle)
    with pytest.raises(UsageError):
        make_setup(owner, a, a)  # a contact twice


def test_share_opens_only_for_its_contact_and_setup() -> None:
    owner, a, b = people()
    setup = make_setup(owner, a, b)
    sealed = social.seal_share("share words", setup, owner, a.bundle)
    assert social.open_share(sealed, setup, a, owner.bundle) == "share words"
    with pytest.raises(IntegrityError):
        social.open_share(sealed, setup, b, owner.bundle)
    with pytest.raises(IntegrityError):
        social.open_share(sealed, make_setup(owner, a, b), a, owner.bundle)  # another setup
    with pytest.raises(IntegrityError):
        social.open_share(sealed, setup, a, b.bundle)  # not signed by this owner


def test_code_binds_the_device_key_and_approval_opens_only_there() -> None:
    rid, secret = os.urandom(16), os.urandom(32)
    key = primitives.x25519_public_key(secret)
    code = social.request_code(rid, "o@example.org", key)
    assert len(code) == 23 and code.count("-") == 3
    other = primitives.x25519_public_key(os.urandom(32))
    assert social.request_code(rid, "o@example.org", other) != code
    assert social.same_code(code.replace("-", " "), code)
    assert not social.same_code("0" * 20, code)
    approval = social.seal_approval(
        "s", request_id=rid, owner_email="o@example.org", device_key=key, contact_fp=b"\1" * 32
    )
    assert social.open_approval(
        approval, request_id=rid, owner_email="o@example.org", device_secret=secret
    ) == (b"\1" * 32, "s")
    with pytest.raises(IntegrityError):
        social.open_approval(approval, request_id=os.urandom(16), owner_email="o@example.org",
                             device_secret=secret)  # fmt: skip
    with pytest.raises(IntegrityError):
        social.open_approval(approval, request_id=rid, owner_email="o@example.org",
                             device_secret=os.urandom(32))  # fmt: skip


def test_veto_is_the_owners_for_this_request() -> None:
    owner, a, _ = people()
    rid = os.urandom(16)
    veto = social.sign_veto(owner, rid)
    assert social.check_veto(veto, owner.bundle, rid)
    assert not social.check_veto(veto, owner.bundle, os.urandom(16))
    assert not social.check_veto(social.sign_veto(a, rid), owner.bundle, rid)
    assert not social.check_veto(veto[:-1] + bytes([veto[-1] ^ 1]), owner.bundle, rid)


def test_share_info_and_threshold() -> None:
    key = RecoveryKey.generate()
    shares = split_recovery_key(key, 2, 3)
    infos = [share_info(s) for s in shares]
    assert {i[0] for i in infos} == {infos[0][0]} and {i[2] for i in infos} == {2}
    assert combine_recovery_shares(shares[1:]) == key
    with pytest.raises(IntegrityError):
        combine_recovery_shares(shares[:1])
