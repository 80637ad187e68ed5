"""A peer's identity bundle as the server publishes it: self-signed, trusted by nothing.

Trust comes from this device's pins and the owner-signed roster (P-PEERKEY); this module
only fetches and checks that the bundle is well formed and names the asked-for email.
"""

from __future__ import annotations

from blindvault.client.http import ApiClient, b64d
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import normalize_email
from blindvault.errors import IntegrityError

__all__ = ["fetch_bundle"]


def fetch_bundle(api: ApiClient, email: str) -> IdentityBundle:
    email = normalize_email(email)
    served = api.get_json(f"/v1/identities/{email}")
    bundle = IdentityBundle.decode(b64d(served["identity_bundle"]))  # self-signature checked
    if bundle.email != email:
        raise IntegrityError("the server returned another user's identity")
    return bundle
