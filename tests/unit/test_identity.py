from __future__ import annotations

import pickle

import pytest

from blindvault.core.identity import Identity, IdentityBundle, pair_safety_number, safety_number
from blindvault.errors import FormatError, IntegrityError


def test_bundle_round_trip_and_secret_rebuild(alice: Identity, carol_pq: Identity) -> None:
    for ident in (alice, carol_pq):
        data = ident.bundle.encode()
        assert IdentityBundle.decode(data) == ident.bundle
        again = Identity(ident.secret, ident.bundle.email, ident.bundle.created_ms)
        assert again.bundle == ident.bundle
    assert len(alice.bundle.encode()) < len(carol_pq.bundle.encode())


def test_bundle_names_its_email(alice: Identity) -> None:
    assert alice.bundle.email == "alice@example.org"
    forged = alice.bundle.encode().replace(b"alice", b"alicf")
    with pytest.raises(IntegrityError):
        IdentityBundle.decode(forged)


def test_signature_checks(alice: Identity, bob: Identity) -> None:
    sig = alice.sign(b"msg")
    alice.bundle.verify(b"msg", sig)
    with pytest.raises(IntegrityError):
        bob.bundle.verify(b"msg", sig)
    with pytest.raises(IntegrityError):
        alice.bundle.verify(b"msh", sig)


def test_safety_numbers(alice: Identity, bob: Identity) -> None:
    n = safety_number(alice.bundle.fingerprint)
    groups = n.split(" ")
    assert len(groups) == 6
    assert all(len(g) == 5 and g.isdigit() for g in groups)
    assert n != safety_number(bob.bundle.fingerprint)
    ab = pair_safety_number(alice.bundle.fingerprint, bob.bundle.fingerprint)
    assert ab == pair_safety_number(bob.bundle.fingerprint, alice.bundle.fingerprint)
    assert len(ab.replace(" ", "")) == 60


def test_private_half_never_shown(alice: Identity) -> None:
    assert alice.secret.hex() not in repr(alice)
    with pytest.raises(TypeError):
        pickle.dumps(alice)


def test_trailing_and_unknown_suite(alice: Identity) -> None:
    data = alice.bundle.encode()
    with pytest.raises(FormatError):
        IdentityBundle.decode(data + b"\x00")
    with pytest.raises(FormatError):
        IdentityBundle.decode(data[:5] + b"\x07" + data[6:])
