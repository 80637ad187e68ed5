"""The organisation recovery key, on the user's side (issue 17, part 2; P-ESCROW).

Before signup the client fetches the key the server publishes and tells the user; only with
consent (`--accept-org-recovery`) does it pin that key (exactly the document shown) and seal
the vault key to it. Afterwards the served key is compared with the pin: a key swapped, or
added after a signup that had none, is refused (exit 8) and nothing is ever sealed to it.
"""

from __future__ import annotations

from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.session import Session
from blindvault.core.orgkey import OrgPublic, consented_key, seal_escrow
from blindvault.errors import IntegrityError, NotFoundError, PolicyError
from blindvault.wire.recovery import Escrow, OrgKey

__all__ = ["check", "consent", "served", "warning"]


def served(api: ApiClient) -> OrgPublic | None:
    """The organisation key the server publishes (self-signed; trusted by nothing yet)."""
    answer = api.get_as(OrgKey, "/v1/org-key")
    if answer.document is None:
        return None
    public = OrgPublic.decode(b64d(answer.document))
    if answer.org_key != public.key_id:
        raise IntegrityError("the organisation key's id does not match its document")
    return public


def warning(public: OrgPublic) -> str:
    return (
        f"This server has an ORGANISATION RECOVERY KEY ({public.name!r}, id {public.key_id}).\n"
        "With your consent your vault key is also sealed to it: whoever holds that key (the "
        "server's operator) can then open your vault and set you a new password. Every use "
        "is written to your account's audit log (`blindvault audit`)."
    )


def consent(session: Session, public: OrgPublic, *, totp: str | None = None) -> None:
    """Pin `public` (the document the user was shown) and seal the vault key to it."""
    state = session.state
    if state.org_key_pin and state.org_key_pin != public.fingerprint.hex():
        raise PolicyError("this account consented to another organisation key; escrow refused")
    escrow = seal_escrow(
        session.keys().vault, public, session.owner, state.email, session.keys().identity
    )
    proof = dict(session.proof)
    if totp:
        proof["totp"] = totp
    body = {"org_key": public.key_id, "escrow": b64e(escrow), "proof": proof}
    session.api.request("PUT", "/v1/account/escrow", json=body)
    state.org_key_pin = public.fingerprint.hex()
    session.save()


def check(session: Session) -> OrgPublic | None:
    """The organisation key in force for this account (None: none), checked against the pin.

    A served key that is not the pinned one — swapped, or added after a signup without
    one — is refused: `PolicyError`, and no escrow is made to it."""
    public = served(session.api)
    if public is None:
        return None
    pin = session.state.org_key_pin or _consent_on_record(session)
    # mutant: org.pin
    if public.fingerprint.hex() != pin:
        what = "changed" if pin else "was added after you signed up"
        raise PolicyError(
            f"WARNING: the server's organisation recovery key {what} (now id {public.key_id}); "
            "you never consented to it: nothing is sealed to it. Ask the operator why."
        )
    if not session.state.org_key_pin:
        session.state.org_key_pin = pin
        session.save()
    return public


def _consent_on_record(session: Session) -> str:
    """On a device without a pin: the key this account's identity signed its consent to
    (the escrow's signature), or "" when there is none."""
    try:
        answer = session.api.get_as(Escrow, "/v1/account/escrow")
    except NotFoundError:
        return ""
    user = session.keys().identity.bundle
    return consented_key(b64d(answer.escrow), user, session.owner).hex()
