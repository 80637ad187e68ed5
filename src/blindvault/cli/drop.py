"""CLI commands for upload-only links (issue 19): `drop URL FILE…` (anyone with the link)
and `drops` (the owner: import pending drops now). `link REMOTE --upload-only` makes the
link (`cli.link`); every later command of the device that made one imports drops first."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.errors import UsageError

__all__ = ["register"]


def cmd_drop(ctx: Context) -> int:
    from blindvault.client.drops import drop_files

    url = ctx.args.url
    if url == "-":
        url = ctx.stdin_line().strip()
        if not url:
            raise UsageError("drop -: expected the link on standard input")
    files = [Path(f) for f in ctx.args.files]
    quiet = ctx.args.json or not sys.stderr.isatty()
    total = len(files)
    count = [0]

    def progress(name: str, size: int) -> None:
        count[0] += 1
        if not quiet:
            sys.stderr.write(f"[{count[0]}/{total}] {name} ({size} bytes) sealed and sent\n")

    done = drop_files(url, files, insecure=ctx.args.insecure, progress=progress)
    lines = [f"dropped {d['name']} ({d['size']} bytes)" for d in done]
    ctx.show({"dropped": done}, "\n".join(lines))
    return 0


def cmd_drops(ctx: Context) -> int:
    ctx.args.no_drop_import = True  # this command reports the import itself
    vault = ctx.open()
    report = vault.drops.collect()
    lines = [f"imported {p}" for p in report.imported]
    lines += [f"quarantined (did not verify): {p}" for p in report.quarantined]
    if report.replayed:
        lines.append(f"ignored {report.replayed} drop(s) imported before")
    if report.busy:
        lines.append("another device of this account is importing the drops right now")
    data = {
        "imported": report.imported,
        "quarantined": report.quarantined,
        "replayed": report.replayed,
        "busy": report.busy,
    }
    ctx.show(data, "\n".join(lines) or "No new drops.")
    return 10 if report.quarantined else 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("drop", cmd_drop, "upload files through an upload-only link (no account needed)")
    s.add_argument("url", metavar="URL", help="the link, or - to read it from standard input")
    s.add_argument("files", metavar="FILE", nargs="+")
    add("drops", cmd_drops, "import the files dropped through your upload-only links now")
