"""The server's certificate authority as this device pinned it (issue 17, part 3).

A certificate is an extra signal shown as "certified" next to a safety number; it never
replaces a pin. The CA descriptor (its key and the organisation's policy) is pinned the
first time this device sees it; a different one later is refused (`PolicyError`, exit 8),
so a server cannot swap the CA or loosen the policy. A server without a CA (404) just
certifies nothing."""

from __future__ import annotations

from blindvault.client.net.http import b64d
from blindvault.client.session import Session
from blindvault.core.certificate import CaDescriptor, check_certificate
from blindvault.core.identity import IdentityBundle
from blindvault.errors import FormatError, IntegrityError, NotFoundError, PolicyError
from blindvault.wire.accounts import CaInfo

__all__ = ["certified", "pinned_ca"]


def pinned_ca(session: Session) -> CaDescriptor | None:
    """The server's CA, pinned now if this is the first contact; None if it has none."""
    try:
        answer = session.api.get_as(CaInfo, "/v1/ca")
    except NotFoundError:
        return None
    ca = CaDescriptor.decode(b64d(answer.descriptor))  # self-signature checked
    state = session.state
    if not state.ca_pin:
        state.ca_pin = ca.pin
        session.save()
    elif ca.pin != state.ca_pin:  # mutant: certs.ca-pin
        raise PolicyError(
            "the server's certificate authority (its key or its policy) changed since this "
            "device pinned it; nothing certified is trusted from it"
        )
    return ca


def certified(ca: CaDescriptor | None, certificate: str | None, bundle: IdentityBundle) -> bool:
    """Whether `certificate` is the pinned CA's certificate of exactly this bundle."""
    if ca is None or certificate is None:
        return False
    try:
        check_certificate(ca, b64d(certificate), bundle)
    except (IntegrityError, FormatError):
        return False  # shown as not certified; a pin decides anyway
    return True
