"""Group commands (issue 19): create, add, remove, list, show; `share --with-group`.

blindvault group create team
blindvault group add team bob@example.org carol@example.org   (verified as for `share`)
blindvault share /plans --with-group team
blindvault group remove team carol@example.org                (new keys; /plans rotated)
blindvault group show team --json
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

from blindvault.cli.context import Context
from blindvault.cli.prompts import confirm_key
from blindvault.client.groups import GroupInfo
from blindvault.errors import UsageError

__all__ = ["register"]

ACTIONS = ("create", "add", "remove", "list", "show")


def _lines(g: GroupInfo) -> list[str]:
    head = f"{g.name}  (owner {g.owner_email}, version {g.version}, key {g.key_version})"
    lines = [head] + [f"  {m['email']}  {m['safety_number']}" for m in g.members]
    return lines + [f"  shared: {p}" for p in g.shares]


def cmd_group(ctx: Context) -> int:
    args = ctx.args
    action, names = args.action, list(args.names)
    if action == "list":
        if names:
            raise UsageError("group list takes no arguments")
        found = ctx.open().groups.listing()
        text = "\n".join(line for g in found for line in _lines(g)) or "No groups."
        ctx.show([dataclasses.asdict(g) for g in found], text)
        return 0
    if not names or (action in ("create", "show") and len(names) != 1):
        raise UsageError(f"usage: group {action} NAME")
    name, emails = names[0], names[1:]
    if action in ("add", "remove") and not emails:
        raise UsageError(f"usage: group {action} NAME EMAIL...")
    groups = ctx.open().groups
    tofu = args.trust_on_first_use
    rotated: list[str] = []
    if action == "create":
        g = groups.create(name)
    elif action == "add":
        g = groups.add(name, emails, trust_on_first_use=tofu, confirm=confirm_key)
    elif action == "remove":
        g, rotated = groups.remove(name, emails, trust_on_first_use=tofu, confirm=confirm_key)
    else:
        g = groups.show(name)
    text = "\n".join(_lines(g))
    if action == "remove":
        text += f"\nremoved {', '.join(emails)}; new group key; rotated: {', '.join(rotated)}"
    ctx.show({**dataclasses.asdict(g), "rotated": rotated}, text)
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("group", cmd_group, "groups of people to share with: create, add, remove, list, show")
    s.add_argument("action", choices=ACTIONS)
    s.add_argument("names", nargs="*", metavar="NAME [EMAIL ...]")
    s.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="pin members' current keys without an out-of-band check",
    )
