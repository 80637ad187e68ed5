"""CLI for invitations (issue 19): `share REMOTE --with EMAIL` for an address without an
account records a pending invitation (nothing sealed); `share --complete EMAIL
--fingerprint NUMBER` completes it after the out-of-band check; `invitations` lists them.
Every command of the sharer's device says when an invited address has signed up."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from blindvault.cli.context import Context
from blindvault.cli.prompts import confirm_key

if TYPE_CHECKING:
    from blindvault.client.vault import Vault

__all__ = ["invite_instead", "register", "route"]


def route(argv: list[str]) -> list[str]:
    """`share --complete …` is its own command (`share-complete`)."""
    if argv[:1] == ["share"] and "--complete" in argv:
        rest = [a for a in argv[1:] if a != "--complete"]
        return ["share-complete", *rest]
    return argv


def invite_instead(ctx: Context, vault: Vault) -> bool:
    """For `share`: an address with no account gets a pending invitation (True)."""
    args = ctx.args
    if vault.invitations.has_account(args.with_):
        return False
    item = vault.invitations.create(args.remote, args.with_, write=args.write)
    ctx.show(
        {"invitation": True, **dataclasses.asdict(item)},
        f"{item.email} has no account yet: invitation to {item.remote} pending, nothing "
        "shared. Once they have signed up, compare safety numbers with them (they run "
        f"`blindvault fingerprint`), then: blindvault share --complete {item.email} "
        "--fingerprint NUMBER",
    )
    return True


def cmd_share_complete(ctx: Context) -> int:
    ctx.args.no_invite_reminder = True  # this command completes (and asks) itself
    vault = ctx.open()
    done = vault.invitations.complete(ctx.args.invitee, ctx.args.fingerprint, confirm=confirm_key)
    lines = [f"Shared {d.remote} with {d.email}; share id {d.share_id}" for d in done]
    ctx.show([dataclasses.asdict(d) for d in done], "\n".join(lines))
    return 0


def cmd_invitations(ctx: Context) -> int:
    ctx.args.no_invite_reminder = True  # never offer to complete what --cancel drops
    vault = ctx.open()
    items = vault.invitations.pending()
    if ctx.args.cancel:
        items = vault.invitations.cancel(ctx.args.cancel)
        ctx.show([dataclasses.asdict(i) for i in items], f"Cancelled {len(items)} invitation(s)")
        return 0
    ready = {i.email for i in vault.invitations.ready()}  # the server's word: a hint
    lines = [
        f"{i.email}  {i.remote}  {'read-write' if i.write else 'read-only'}"
        + (
            f"  signed up: compare safety numbers, then `blindvault share --complete {i.email} "
            "--fingerprint NUMBER`"
            if i.email in ready
            else ""
        )
        for i in items
    ]
    rows = [{**dataclasses.asdict(i), "signed_up": i.email in ready} for i in items]
    ctx.show(rows, "\n".join(lines) or "No invitations.")
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add(
        "share-complete",
        cmd_share_complete,
        "`share --complete EMAIL --fingerprint NUMBER`: finish an invitation",
    )
    s.prog = "blindvault share --complete"
    s.set_defaults(shown_as="share")
    s.add_argument("invitee", metavar="EMAIL")  # not `email`: that is the account's option
    s.add_argument(
        "--fingerprint",
        help="their safety number (or fingerprint), as they read it to you out of band",
    )
    s = add("invitations", cmd_invitations, "list pending invitations (addresses without account)")
    s.add_argument("--cancel", metavar="EMAIL", help="drop the invitations of EMAIL")
