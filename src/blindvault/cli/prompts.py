"""Everything the CLI asks on a terminal, and the one time format it prints."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from blindvault.core.identity import safety_number
from blindvault.errors import UsageError

__all__ = ["ask_secret", "confirm_key", "when", "words_block"]


def ask_secret(prompt: str, *, repeat: bool = False) -> str:
    """A secret typed on the terminal (twice with `repeat`)."""
    first = getpass.getpass(prompt)
    if repeat and getpass.getpass("Repeat it: ") != first:
        raise UsageError("the passwords differ")
    return first


def confirm_key(email: str, fingerprint: bytes) -> bool:
    """On a terminal, show a peer's safety number and ask; never asked without one."""
    if not sys.stdin.isatty():
        return False
    sys.stderr.write(
        f"{email} is not verified yet. Their safety number:\n  {safety_number(fingerprint)}\n"
        "Compare it with what they see (`blindvault fingerprint`) over another channel.\n"
    )
    return input("Does it match? [y/N] ").strip().lower() == "y"


def when(seconds: float | None) -> str:
    """A point in time as the CLI prints it (UTC, to the minute); None is `never`."""
    if seconds is None:
        return "never"
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


def words_block(words: list[str]) -> str:
    """24 recovery words as four lines of six."""
    return "\n  ".join(" ".join(words[i : i + 6]) for i in range(0, len(words), 6))
