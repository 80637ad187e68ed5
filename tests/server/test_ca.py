"""The server's CA (issue 17, part 3) on a real SoftHSM2 token: what it signs is exactly
what the client's core verifies; a missing or wrong PIN stops the server at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindvault.core.certificate import CaDescriptor, IdentityCertificate, check_certificate
from blindvault.core.identity import Identity
from blindvault.errors import IntegrityError
from blindvault.server import ca
from helpers.softhsm import make_token


def test_certificates_from_the_token_verify_in_the_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make_token(tmp_path / "hsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(token.conf))
    config = ca.create(token.module, token.label, token.pin, "blindvault-ca", "re-verify")
    config.save(tmp_path / "data" / "ca.json")
    monkeypatch.delenv(ca.PIN_ENV, raising=False)
    with pytest.raises(ca.CaError, match=ca.PIN_ENV):
        ca.from_data(tmp_path / "data")
    monkeypatch.setenv(ca.PIN_ENV, "9999")
    with pytest.raises(ca.CaError) as wrong:
        ca.from_data(tmp_path / "data")
    assert "9999" not in str(wrong.value)
    monkeypatch.setenv(ca.PIN_ENV, token.pin)
    signer = ca.from_data(tmp_path / "data")
    assert signer is not None
    assert token.pin not in repr(signer)
    descriptor = CaDescriptor.decode(signer.descriptor)
    assert descriptor.public_key.hex() == config.public_key
    assert not descriptor.accepts_certified_changes
    alice = Identity.generate("alice@example.org", 1).bundle
    other = Identity.generate("alice@example.org", 2).bundle
    cert = signer.certificate(alice.email, alice.encode(), now_ms=1234)
    parsed = IdentityCertificate.decode(cert)
    assert (parsed.email, parsed.fingerprint, parsed.issued_ms) == (
        alice.email, alice.fingerprint, 1234,
    )  # fmt: skip
    check_certificate(descriptor, cert, alice)
    with pytest.raises(IntegrityError):
        check_certificate(descriptor, cert, other)  # a certificate for another key
    forged = bytearray(cert)
    forged[-1] ^= 1
    with pytest.raises(IntegrityError):
        check_certificate(descriptor, bytes(forged), alice)
    # a CA descriptor whose policy byte was changed no longer verifies
    changed = bytearray(signer.descriptor)
    changed[5 + 32] = 1
    with pytest.raises(IntegrityError):
        CaDescriptor.decode(bytes(changed))
    assert ca.load(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ca.CaError):
        ca.load(tmp_path / "bad.json")
