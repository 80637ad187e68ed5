"""The one exception tree of blindvault.

Every failure a caller can act on is one of these; library errors (cryptography,
httpx, SQLAlchemy, botocore) are translated at the edge where they occur.

    BlindvaultError
     ├── UsageError            a caller passed a value of the wrong kind or size
     ├── FormatError           bytes that do not decode: wrong magic, unknown or older
     │                         version, wrong length, non-canonical encoding, trailing data
     ├── IntegrityError        authentication failed; deliberately opaque (no detail on
     │    │                    which check failed, so a malicious server learns nothing)
     │    └── RollbackError    authenticated state older than, or forked from, state
     │                         this client has already seen (P-FRESH)
     ├── PolicyError           a value is authentic but refused by policy: KDF parameters
     │    │                    below the floor or the account's pin (P-KDFFLOOR), a key
     │    │                    that does not match its pin (P-OWNKEY, P-PEERKEY)
     │    ├── KdfPolicyError
     │    └── InsecureTransportError   plain HTTP to a host that is not loopback
     ├── RemoteError           the server answered with an error (status, code, message)
     │    ├── AuthError              401: not logged in, wrong password, revoked device
     │    ├── ForbiddenError         403: logged in but not allowed (read-only share,
     │    │                          missing proof of the current password)
     │    ├── NotFoundError          404
     │    │    └── GoneError         410: an expired, revoked or used-up link
     │    ├── ConflictError          409: stale version, existing object, held lock
     │    └── UnavailableError       network failure, 429 or 5xx after retries
     ├── PathNotFoundError     no such path, share or mount here: a fact of the verified
     │                         tree or of this device, not an answer of the server
     ├── CredentialError       not logged in on this device, or a link password that does
     │                         not open the link (decided locally; like a 401)
     └── LocalError            a local file or folder cannot be read or written

Messages never contain key material, passwords or plaintext.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BlindvaultError",
    "ConflictError",
    "CredentialError",
    "ForbiddenError",
    "FormatError",
    "GoneError",
    "InsecureTransportError",
    "IntegrityError",
    "KdfPolicyError",
    "LocalError",
    "NotFoundError",
    "PathNotFoundError",
    "PolicyError",
    "RemoteError",
    "RollbackError",
    "UnavailableError",
    "UsageError",
]


class BlindvaultError(Exception):
    """Base of every error blindvault raises on purpose."""


class UsageError(BlindvaultError, ValueError):
    """A caller passed an argument of the wrong type, size or range."""


class FormatError(BlindvaultError):
    """Input bytes are not a canonical encoding of the expected object."""


class IntegrityError(BlindvaultError):
    """Authentication of sealed or signed data failed.

    Deliberately carries no detail: a wrong key, a flipped bit, a truncated stream,
    a swapped slot and a forged signature all look the same to the caller.
    """

    def __init__(self, message: str = "integrity check failed") -> None:
        super().__init__(message)


class RollbackError(IntegrityError):
    """Authentic state that is older than, or forks from, state already seen."""

    def __init__(self, message: str = "rollback or fork detected") -> None:
        super().__init__(message)


class PolicyError(BlindvaultError):
    """Authentic or well-formed input that policy refuses."""


class KdfPolicyError(PolicyError):
    """KDF parameters below the hard floor or weaker than the account's pin."""


class InsecureTransportError(PolicyError):
    """Refusing plain HTTP to a non-loopback host (pass --insecure to override)."""


class RemoteError(BlindvaultError):
    """The server refused a request; `code` is its stable error code."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, object] | None = None
    ):
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code
        self.extra = extra or {}


class AuthError(RemoteError):
    """Not logged in, wrong credentials, or this device was revoked."""


class NotFoundError(RemoteError):
    """No such object on the server (for this account)."""


class GoneError(NotFoundError):
    """The object existed and is no more: an expired, revoked or used-up link."""


class ForbiddenError(RemoteError):
    """Logged in, but not allowed: e.g. writing to a share that is read-only for you."""


class ConflictError(RemoteError):
    """A compare-and-swap lost, the object exists, or a lock is held."""


class UnavailableError(RemoteError):
    """The server could not be reached or is overloaded, even after retries."""


class PathNotFoundError(BlindvaultError):
    """A vault path, incoming share or mount name that does not exist (CLI exit 4, like a
    404): decided from verified state, so it carries no HTTP status."""


class CredentialError(BlindvaultError):
    """Not logged in on this device, or a wrong link password (CLI exit 3, like a 401):
    decided without the server, so it carries no HTTP status."""


class LocalError(BlindvaultError):
    """A local path cannot be read or written."""
