"""Peers' identity keys: what the server publishes (self-signed, trusted by nothing) and
this device's pins, from which all trust comes (P-PEERKEY)."""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.client.certs import certified, pinned_ca
from blindvault.client.net.http import ApiClient, b64d
from blindvault.client.session import Session
from blindvault.core.identity import IdentityBundle, safety_number
from blindvault.core.kdf import normalize_email
from blindvault.errors import IntegrityError, PolicyError
from blindvault.wire.accounts import Identity

__all__ = ["PeerView", "fetch_bundle", "fetch_identity", "peer", "trust", "view"]


@dataclass(frozen=True, slots=True)
class PeerView:
    """A peer's key as this device sees it: pinned? certified by the pinned CA? re-pinned
    just now because the organisation's policy accepts a certified change?"""

    bundle: IdentityBundle
    pinned: bool
    certified: bool
    changed_by_ca: bool = False


def fetch_identity(api: ApiClient, email: str) -> tuple[IdentityBundle, str | None]:
    """The bundle the server publishes for `email` (well formed, self-signed, for `email`)
    and the certificate it serves with it, if any (checked by `certs`, not here)."""
    email = normalize_email(email)
    served = api.get_as(Identity, f"/v1/identities/{email}")
    bundle = IdentityBundle.decode(b64d(served.identity_bundle))  # self-signature checked
    if bundle.email != email:
        raise IntegrityError("the server returned another user's identity")
    return bundle, served.certificate


def fetch_bundle(api: ApiClient, email: str) -> IdentityBundle:
    return fetch_identity(api, email)[0]


def view(session: Session, email: str) -> PeerView:
    """A peer's verified bundle, whether it matches this device's pin, whether it is
    certified.

    Raises `PolicyError` if the peer is pinned and the server now serves another key —
    certified or not — unless the organisation's policy, pinned with the CA, accepts
    certified changes: sharing stays blocked until `trust` is run again after an
    out-of-band check.
    """
    email = normalize_email(email)
    bundle, certificate = fetch_identity(session.api, email)
    ca = pinned_ca(session) if certificate is not None else None
    is_certified = certified(ca, certificate, bundle)
    pinned = session.state.peers.get(email)
    if pinned is not None and pinned != bundle.fingerprint.hex():
        # mutant: peers.certified-change-policy [accept]
        if ca is not None and is_certified and ca.accepts_certified_changes:
            session.state.peers[email] = bundle.fingerprint.hex()
            session.save()
            return PeerView(bundle, True, True, changed_by_ca=True)
        note = (
            " (the server's CA certifies the new key, but a certificate does not replace "
            "your check)"
            if is_certified
            else ""
        )
        raise PolicyError(
            f"the key of {email} changed since you verified it{note}; compare safety "
            "numbers out of band, then run `blindvault trust` again"
        )
    return PeerView(bundle, pinned is not None, is_certified)


def peer(session: Session, email: str) -> tuple[IdentityBundle, bool]:
    """A peer's verified bundle and whether it matches this device's pin (see `view`)."""
    seen = view(session, email)
    return seen.bundle, seen.pinned


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
