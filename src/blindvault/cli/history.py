"""History commands (issue 14): `versions PATH`, `restore PATH --version N | --at TIME`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.client.history import parse_time

__all__ = ["register"]


def cmd_versions(ctx: Context) -> int:
    vault = ctx.open()
    versions = vault.history.versions(ctx.args.remote)
    # A writer is named by the key it signed with; a person this device pinned is shown
    # by their email (the pin, not the server, says whose key it is), anyone else by key.
    me = vault.fingerprint.hex()
    pinned = {fp: email for email, fp in vault.state.peers.items()}
    lines = [
        f"{v.version:>6} {v.size:>12} {when((v.written_ms or v.mtime_ms) / 1000)} "
        f"{'this account' if v.writer == me else pinned.get(v.writer, v.writer[:16])}"
        f"{'  (current)' if v.current else ''}"
        for v in versions
    ]
    rows = [{**asdict(v), "writer_email": pinned.get(v.writer, "")} for v in versions]
    ctx.show(rows, "\n".join(lines))
    return 0


def cmd_restore(ctx: Context) -> int:
    vault = ctx.open()
    at_ms = parse_time(ctx.args.at) if ctx.args.at is not None else None
    if ctx.args.to is not None:
        picked = vault.history.pick(ctx.args.remote, version=ctx.args.version, at_ms=at_ms)
        dest = Path(ctx.args.to)
        vault.history.fetch(ctx.args.remote, picked, dest)
        result = {"path": ctx.args.remote, "restored": picked.content_version, "to": str(dest)}
        ctx.show(result, f"wrote version {picked.content_version} to {dest}")
        return 0
    old, new = vault.history.restore(ctx.args.remote, version=ctx.args.version, at_ms=at_ms)
    result = {"path": ctx.args.remote, "restored": old, "version": new}
    ctx.show(result, f"restored version {old} of {ctx.args.remote} as version {new}")
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("versions", cmd_versions, "list a file's versions (version, size, time, device)")
    s.add_argument("remote", metavar="PATH")
    s = add("restore", cmd_restore, "restore an earlier version of a file as a new version")
    s.add_argument("remote", metavar="PATH")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=int, metavar="N", help="the version to restore")
    which.add_argument("--at", metavar="TIME", help="the version current at TIME (ISO 8601)")
    s.add_argument("--to", metavar="LOCAL", help="write it to a local file instead")
