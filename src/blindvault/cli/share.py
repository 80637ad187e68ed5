"""CLI commands for sharing with people: share, shares, accept, unshare."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from blindvault.cli.context import Context
from blindvault.cli.invite import invite_instead
from blindvault.cli.prompts import confirm_key
from blindvault.client.shares import SharedItem
from blindvault.core.group import is_group_email
from blindvault.errors import UsageError

if TYPE_CHECKING:
    from blindvault.client.vault import Vault

__all__ = ["register"]


def cmd_share(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open()
    if args.with_group is not None:  # issue 19: the key sealed to the group
        if args.with_ is not None or args.write or args.allow_reshare:
            raise UsageError("share with a person (--with) or a group (--with-group, read-only)")
        group_id = vault.groups.share(args.remote, args.with_group)
        ctx.show(
            {"remote": args.remote, "group": args.with_group, "group_id": group_id},
            f"Shared {args.remote} with group {args.with_group} (read-only)",
        )
        return 0
    if args.with_ is None:
        raise UsageError("share REMOTE --with EMAIL, or --with-group NAME")
    if args.allow_reshare and not vault.invitations.has_account(args.with_):
        raise UsageError(
            f"{args.with_} has no account yet: invite them without --allow-reshare, then "
            "share again with it once they have joined"
        )
    if invite_instead(ctx, vault):  # no account yet: a pending invitation (issue 19)
        return 0
    share_id = vault.shares.share(
        args.remote,
        args.with_,
        write=args.write,
        allow_reshare=args.allow_reshare,
        trust_on_first_use=args.trust_on_first_use,
        confirm=confirm_key,
    )
    role = "read-write" if args.write else "read-only"
    more = ", may re-share" if args.allow_reshare else ""
    ctx.show(
        {
            "id": share_id,
            "remote": args.remote,
            "with": args.with_,
            "role": role,
            "reshare": args.allow_reshare,
        },
        f"Shared {args.remote} with {args.with_} ({role}{more}); share id {share_id}",
    )
    return 0


def cmd_shares(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open()
    incoming = vault.shares.incoming()
    outgoing = vault.shares.outgoing()
    items = vault.shares.items()
    groups = _group_names(vault, items)
    lines = ["Incoming:"] if incoming else []
    for s in incoming:
        if s.problem:
            lines.append(f"  {s.id}  from {s.owner_email}  NOT VERIFIED: {s.problem}")
        else:
            state = "accepted" if s.accepted else "pending (blindvault accept ID)"
            via = f" via {s.by_email}" if s.by_email else ""
            lines.append(f"  {s.id}  @{s.name}  from {s.owner_email}{via}  {s.role}  {state}")
    if outgoing:
        lines.append("Outgoing:")
    for o in outgoing:
        state = "accepted" if o.accepted else "pending"
        lines.append(f"  {o.id}  to {o.member_email}  {o.role}  {state}")
    lines += _item_lines(items, groups)
    ctx.show(
        {
            "incoming": [dataclasses.asdict(s) for s in incoming],
            "outgoing": [dataclasses.asdict(o) for o in outgoing],
            "items": [_item_json(i, groups) for i in items],
        },
        "\n".join(lines) or "No shares.",
    )
    failed = any(s.problem for s in incoming) or any(i.problem for i in items)
    return 1 if failed and args.strict else 0


def _utc(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def _group_names(vault: Vault, items: list[SharedItem]) -> dict[str, str]:
    """Group entries of the items' signed member lists -> the group's name (asked only
    when an item is shared with a group)."""
    if not any(is_group_email(m.email) for i in items for m in i.members):
        return {}
    return vault.groups.names()


def _item_json(item: SharedItem, groups: dict[str, str]) -> dict[str, object]:
    """An item as `shares --json` gives it; a group member also names the group."""
    data = dataclasses.asdict(item)
    for m in data["members"]:
        if is_group_email(m["email"]):
            m["group"] = groups.get(m["email"], "")
    return data


def _item_lines(items: list[SharedItem], groups: dict[str, str]) -> list[str]:
    """Per shared item of one's own: each member's role (signed) and since when (server)."""
    lines = ["Shared by you:"] if items else []
    for i in items:
        lines.append(f"  {i.path or i.node}  ({i.kind})")
        if i.problem:
            lines.append(f"    NOT VERIFIED: {i.problem}")
        for m in i.members:
            if is_group_email(m.email):  # a group: its members need no `accept`
                name = groups.get(m.email) or "(unknown group)"
                lines.append(f"    group {name}  {m.role}  (every member of the group)")
                continue
            since = _utc(m.since) if m.since else "?"
            state = "accepted" if m.accepted else "pending"
            if m.role_since and m.since and m.role_since > m.since:
                state += f", {m.role} since {_utc(m.role_since)}"
            extra = "  may re-share" if m.reshare else ""
            extra += f"  added by {m.added_by}" if m.added_by else ""
            lines.append(f"    {m.email}  {m.role}  since {since}  {state}{extra}")
        lines += [f"    {e}  NOT IN THE SIGNED MEMBER LIST" for e in i.not_in_roster]
    return lines


def cmd_accept(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open()
    mount = vault.shares.accept(args.id, trust_on_first_use=args.trust_on_first_use)
    ctx.show({"id": args.id, "path": mount}, f"Accepted: it is at {mount}")
    return 0


def cmd_unshare(ctx: Context) -> int:
    """`unshare REMOTE --with EMAIL` or `--with-group NAME`: the grant ends, the keys rotate."""
    args = ctx.args
    vault = ctx.open()
    group = args.with_group is not None
    unshare = vault.groups.unshare if group else vault.shares.unshare
    who = args.with_group if group else args.with_
    strangers = unshare(
        args.remote,
        who,
        reencrypt=args.reencrypt,
        trust_on_first_use=args.trust_on_first_use,
        confirm=confirm_key,
    )
    for email in strangers:
        sys.stderr.write(
            f"warning: the server lists a grant of {args.remote} for {email}, who is not in "
            "the signed member list; the new key was not sealed to them\n"
        )
    done = "keys rotated" + (", files re-encrypted" if args.reencrypt else "")
    ctx.show(
        {
            "remote": args.remote,
            "removed_group" if group else "removed": who,
            "reencrypted": args.reencrypt,
            "not_in_roster": strangers,
        },
        f"{'group ' if group else ''}{who} removed from {args.remote}; {done}",
    )
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add(
        "share",
        cmd_share,
        "share a folder or a file: share REMOTE --with EMAIL [--write] [--allow-reshare] "
        "| --with-group NAME",
    )
    s.add_argument("remote")
    s.add_argument("--with", dest="with_", metavar="EMAIL")
    s.add_argument("--with-group", metavar="NAME", help="share with a group (read-only)")
    s.add_argument("--write", action="store_true", help="let them write too")
    s.add_argument(
        "--allow-reshare",
        action="store_true",
        help="let them share it on with others (recorded in your signed member list)",
    )
    s.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="pin their current key without an out-of-band check",
    )
    s = add("shares", cmd_shares, "list incoming and outgoing shares (and any that fail checks)")
    s.add_argument("--strict", action="store_true", help="exit 1 if an incoming share fails")
    s = add("accept", cmd_accept, "accept an incoming share after verifying it")
    s.add_argument("id")
    s.add_argument(
        "--trust-on-first-use", action="store_true", help="pin the sender's key without a check"
    )
    s = add(
        "unshare",
        cmd_unshare,
        "remove a member (--with EMAIL) or a group (--with-group NAME) and rotate the keys "
        "of what was shared",
    )
    s.add_argument("remote")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--with", dest="with_", metavar="EMAIL")
    who.add_argument("--with-group", metavar="NAME", help="end a group's share")
    s.add_argument("--reencrypt", action="store_true", help="also re-encrypt every existing file")
    s.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="pin the keys the signed member list names for members not verified here",
    )
