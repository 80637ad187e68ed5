"""Said after the vault opens, for every command (issue 19): invited addresses that have
signed up since. Apart from `cli.invite` so that `cli.context` can call it without an
import cycle (`cli.invite` needs `Context`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from blindvault.cli.prompts import confirm_key
from blindvault.errors import BlindvaultError

if TYPE_CHECKING:
    from blindvault.client.vault import Vault

__all__ = ["remind"]


def remind(vault: Vault, *, ask: bool = False) -> None:
    """Invited addresses that have an account now: on a terminal (`ask`), their safety
    number is shown and, if the user confirms it matches what the person sees, the
    invitation completes; otherwise a line on standard error says what to run."""
    try:
        ready = vault.invitations.ready()
    except BlindvaultError:
        return
    for email in sorted({i.email for i in ready}):
        if ask:
            try:
                done = vault.invitations.complete(email, None, confirm=confirm_key)
            except BlindvaultError as exc:
                sys.stderr.write(f"blindvault: invitation of {email} not completed: {exc}\n")
                continue
            for d in done:
                sys.stderr.write(f"blindvault: shared {d.remote} with {d.email} (invitation)\n")
            continue
        sys.stderr.write(
            f"blindvault: {email} has signed up: compare safety numbers with them, then run "
            f"`blindvault share --complete {email} --fingerprint NUMBER`\n"
        )
