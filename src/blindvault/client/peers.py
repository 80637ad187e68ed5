"""Peers' identity keys: what the server publishes (self-signed, trusted by nothing) and
this device's pins, from which all trust comes (P-PEERKEY)."""

from __future__ import annotations

from blindvault.client.net.http import ApiClient, b64d
from blindvault.client.session import Session
from blindvault.core.identity import IdentityBundle, safety_number
from blindvault.core.kdf import normalize_email
from blindvault.errors import IntegrityError, PolicyError
from blindvault.wire.accounts import Identity

__all__ = ["fetch_bundle", "peer", "trust"]


def fetch_bundle(api: ApiClient, email: str) -> IdentityBundle:
    """The bundle the server publishes for `email`: well formed, self-signed, for `email`."""
    email = normalize_email(email)
    served = api.get_as(Identity, f"/v1/identities/{email}")
    bundle = IdentityBundle.decode(b64d(served.identity_bundle))  # self-signature checked
    if bundle.email != email:
        raise IntegrityError("the server returned another user's identity")
    return bundle


def peer(session: Session, email: str) -> tuple[IdentityBundle, bool]:
    """A peer's verified bundle and whether it matches this device's pin.

    Raises `PolicyError` if the peer is pinned and the server now serves another key:
    sharing with them stays blocked until `trust` is run again after an out-of-band check.
    """
    email = normalize_email(email)
    bundle = fetch_bundle(session.api, email)
    pinned = session.state.peers.get(email)
    if pinned is not None and pinned != bundle.fingerprint.hex():
        raise PolicyError(
            f"the key of {email} changed since you verified it; compare safety numbers "
            "out of band, then run `blindvault trust` again"
        )
    return bundle, pinned is not None


def trust(
    session: Session, email: str, fingerprint: str | None = None, *, replace: bool = False
) -> IdentityBundle:
    """Pin a peer's key after comparing `fingerprint` (hex or safety number) out of band."""
    email = normalize_email(email)
    if replace:
        session.state.peers.pop(email, None)
    bundle, _ = peer(session, email)
    if fingerprint is not None:
        given = fingerprint.replace(" ", "").lower()
        expected = {
            bundle.fingerprint.hex(),
            safety_number(bundle.fingerprint).replace(" ", ""),
        }
        if given not in expected:
            raise PolicyError(f"{email}'s key does not match the fingerprint you gave")
    session.state.peers[email] = bundle.fingerprint.hex()
    session.save()
    return bundle
