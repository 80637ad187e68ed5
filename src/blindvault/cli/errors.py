"""The one place where a failure becomes a message and an exit code.

Exit codes (one per kind of failure; `docs/guide.md` lists them):
    0 success · 1 other error · 2 usage · 3 authentication · 4 not found · 5 conflict
    6 server unreachable or busy · 7 local file error · 8 refused by policy (KDF floor,
    pinned key changed, plain HTTP) · 9 malformed input · 10 integrity/authenticity
    failure (tampering, rollback): nothing unverified was written.

A malformed server answer is a `FormatError` raised where answers are parsed
(`blindvault.client.net`); any other exception is a bug in blindvault: its traceback is
printed with a request to report it.
"""

from __future__ import annotations

import sys
import traceback

from blindvault.errors import (
    AuthError,
    BlindvaultError,
    ConflictError,
    CredentialError,
    ForbiddenError,
    FormatError,
    IntegrityError,
    LocalError,
    NotFoundError,
    PathNotFoundError,
    PolicyError,
    UnavailableError,
    UsageError,
)

__all__ = ["EXIT_CODES", "INTERRUPTED", "exit_code", "message", "report"]

EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (IntegrityError, 10),
    (FormatError, 9),
    (PolicyError, 8),
    (LocalError, 7),
    (OSError, 7),
    (UnavailableError, 6),
    (ConflictError, 5),
    (NotFoundError, 4),
    (PathNotFoundError, 4),
    (AuthError, 3),
    (CredentialError, 3),
    (ForbiddenError, 3),
    (UsageError, 2),
    (BlindvaultError, 1),
]
INTERRUPTED = 130
REPORT_URL = "https://github.com/blindvault/blindvault/issues"


def exit_code(exc: BaseException) -> int:
    """The exit code of a failure."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def message(exc: BaseException) -> str:
    if isinstance(exc, IntegrityError):
        return f"{exc}: the data was tampered with or damaged; nothing unverified was written"
    if isinstance(exc, OSError) and not isinstance(exc, BlindvaultError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return str(exc)


def report(command: str, exc: BaseException) -> int:
    """Write what went wrong to standard error; return the exit code."""
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write(
            "interrupted; an unfinished upload resumes when you run the same put again\n"
        )
        return INTERRUPTED
    if isinstance(exc, BlindvaultError | OSError):
        sys.stderr.write(f"blindvault {command}: {message(exc)}\n")
        return exit_code(exc)
    traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(
        f"blindvault {command}: internal error ({type(exc).__name__}); this is a bug in "
        f"blindvault: please report it with the traceback above ({REPORT_URL})\n"
    )
    return 1
