"""Trash commands (issue 14): `trash [--json]`, `trash restore PATH [--to REMOTE]`,
`trash empty [--older-than 30d]`, `forget [--keep-*]`, `prune` (`rm --permanent` is in
`cli/files.py`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict

from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.client.retention import Policy
from blindvault.client.trash import TrashEntry, parse_age
from blindvault.errors import UsageError

__all__ = ["register"]


def _lines(entries: list[TrashEntry]) -> str:
    return "\n".join(
        f"{when(t.deleted_at / 1000)} {t.kind:<6} {t.size:>12}  {t.path}  ({t.id[:12]})"
        for t in entries
    )


def cmd_trash(ctx: Context) -> int:
    action, path = ctx.args.action, ctx.args.path
    if action == "restore":
        if path is None:
            raise UsageError("usage: blindvault trash restore PATH [--to REMOTE]")
        where = ctx.open().trash_restore(path, to=ctx.args.to)
        ctx.show({"path": path, "restored_to": where}, f"restored {path} to {where}")
        return 0
    if path is not None:
        raise UsageError(f"`trash {action}` takes no PATH")
    if action == "empty":
        age = parse_age(ctx.args.older_than) if ctx.args.older_than else None
        gone = ctx.open().trash_empty(older_than_ms=age)
        ctx.show([asdict(t) for t in gone], f"deleted {len(gone)} item(s) for good")
        return 0
    entries = ctx.open().trash()
    ctx.show([asdict(t) for t in entries], _lines(entries) or "the trash is empty")
    return 0


def cmd_forget(ctx: Context) -> int:
    a = ctx.args
    policy = Policy(parse_age(a.keep_within), a.keep_daily, a.keep_weekly, a.keep_monthly)
    result = ctx.open().forget(policy, dry_run=a.dry_run)
    verb = "would drop" if a.dry_run else "dropped"
    text = [f"{verb} version {v['version']} of {v['path']}" for v in result["versions"]]
    text += [f"{verb} {t['path']} from the trash" for t in result["trash"]]
    ctx.show(result, "\n".join(text) or "nothing to forget")
    return 0


def cmd_prune(ctx: Context) -> int:
    result = ctx.open().prune(dry_run=ctx.args.dry_run)
    verb = "would delete" if result.dry_run else "deleted"
    text = (
        f"{verb} {len(result.deleted)} of {len(result.listed)} blob(s), {result.freed} bytes; "
        f"kept {len(result.kept_recent)} recent and {len(result.kept_in_link)} in live links"
    )
    ctx.show(asdict(result), text)
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add(
        "trash",
        cmd_trash,
        "the trash: trash | trash restore PATH [--to REMOTE] | trash empty [--older-than 30d]",
    )
    s.add_argument("action", nargs="?", choices=["list", "restore", "empty"], default="list")
    s.add_argument("path", nargs="?", metavar="PATH", help="restore: original path or id")
    s.add_argument("--to", metavar="REMOTE", help="restore: to this path instead")
    s.add_argument("--older-than", metavar="AGE", help="empty: only items deleted AGE ago")
    s = add("forget", cmd_forget, "drop old versions and trash items (restic's forget policy)")
    s.add_argument("--keep-within", default="30d", metavar="AGE", help="keep all younger (30d)")
    for unit in ("daily", "weekly", "monthly"):
        s.add_argument(f"--keep-{unit}", type=int, default=0, metavar="N", help=f"keep {unit} N")
    s.add_argument("--dry-run", action="store_true", help="show what would be dropped")
    s = add("prune", cmd_prune, "delete the blobs no kept version, trash item or link needs")
    s.add_argument("--dry-run", action="store_true", help="show what would be deleted")
