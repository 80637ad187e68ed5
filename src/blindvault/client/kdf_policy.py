"""The KDF parameters a login accepts from the server (P-KDFFLOOR).

A device that pinned an account's parameters accepts those or stronger (`check_kdf_params`).
A device with no pin has nothing to compare with, so the server could otherwise pick cheap
parameters and receive an auth key that is an offline guessing oracle at a fraction of the
cost. Its floor is therefore the default, Argon2id m=64 MiB t=3 p=4: only parameters at least
as strong in every dimension are accepted, and PBKDF2 (an account option for browser login)
is refused for logins by this client. The check runs before anything is derived from the
password, so nothing derived is ever sent when it fails.

`min_kdf` is an SDK-only override of the unpinned floor (tests use fast parameters); it can
only be used by code that calls the SDK, never by a server answer or a CLI flag.
"""

from __future__ import annotations

from blindvault.core.constants import KDF_ARGON2ID
from blindvault.core.kdf import KdfParams, check_kdf_params
from blindvault.errors import KdfPolicyError

__all__ = ["UNPINNED_FLOOR", "check_login_params"]

UNPINNED_FLOOR = KdfParams.argon2id()  # m=64 MiB, t=3, p=4 (RFC 9106, second choice)


def check_login_params(
    params: KdfParams, pinned: KdfParams | None, min_kdf: KdfParams | None = None
) -> None:
    """Raise `KdfPolicyError` unless `params` may be used to log in on this device."""
    check_kdf_params(params, pinned)  # the hard floor, the ceiling, and the pin if any
    if params.algorithm != KDF_ARGON2ID:
        raise KdfPolicyError("this client logs in with Argon2id only (PBKDF2 is for browsers)")
    if pinned is not None:
        return
    floor = min_kdf or UNPINNED_FLOOR
    if (
        params.memory_kib < floor.memory_kib
        or params.iterations < floor.iterations
        or params.lanes < floor.lanes
    ):
        raise KdfPolicyError(
            f"the server asks for KDF parameters weaker than this device accepts without a "
            f"pin ({floor}): {params}; nothing derived from the password was sent"
        )
