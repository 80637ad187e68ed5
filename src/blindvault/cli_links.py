"""CLI commands for share links: link, links, link revoke, open-link."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import getpass
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from blindvault.cli import _open, _print
from blindvault.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """'7d', '12h', '30m', '45s', '2w' → seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text or "")
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"not a duration: {text!r} (use e.g. 30m, 12h, 7d, 2w)")
    return float(int(m.group(1)) * _UNITS[m.group(2)])


def _link_password(*, confirm: bool) -> str:
    env = os.environ.get("BLINDVAULT_LINK_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise UsageError("no link password: set BLINDVAULT_LINK_PASSWORD or run on a terminal")
    first = getpass.getpass("Link password: ")
    if confirm and getpass.getpass("Repeat it: ") != first:
        raise UsageError("the passwords differ")
    return first


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def cmd_link(args: argparse.Namespace) -> int:
    from blindvault.client.links import create_link, revoke_link

    words = list(args.target)
    if words[0] == "revoke":
        if len(words) != 2:
            raise UsageError("usage: blindvault link revoke ID")
        revoke_link(_open(args), words[1])
        _print(args, {"revoked": words[1]}, f"Revoked {words[1]}")
        return 0
    if len(words) != 1:
        raise UsageError("usage: blindvault link REMOTE [--expires 7d] [--max-downloads N]")
    vault = _open(args)
    url = create_link(
        vault,
        words[0],
        expires_in=parse_duration(args.expires) if args.expires else None,
        max_downloads=args.max_downloads,
        password=_link_password(confirm=True) if args.password else None,
    )
    link_id = url.rsplit("/s/", 1)[1].split("#", 1)[0]
    _print(args, {"url": url, "id": link_id}, url)
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    from blindvault.client.links import list_links

    items = list_links(_open(args))
    lines = []
    for i in items:
        state = "revoked" if i.revoked else "active"
        limit = f"{i.downloads}/{i.max_downloads}" if i.max_downloads else f"{i.downloads}/-"
        pw = " password" if i.password else ""
        lines.append(
            f"{i.id}  {i.kind:6}  {state:7}  downloads {limit:7}  expires {_when(i.expires_at)}{pw}"
        )
    _print(args, [dataclasses.asdict(i) for i in items], "\n".join(lines) or "No links.")
    return 0


def cmd_open_link(args: argparse.Namespace) -> int:
    from blindvault.cli_link_source import link_url
    from blindvault.client.links import open_link

    url, local = link_url(args)  # argv, `-` for standard input, or BLINDVAULT_LINK_URL
    needs = url.strip().endswith(".p")
    written = open_link(
        url,
        Path(local or "."),
        password=_link_password(confirm=False) if needs else None,
        insecure=args.insecure,
        progress=None,
    )
    _print(args, [str(p) for p in written], "\n".join(str(p) for p in written))
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("link", cmd_link, "make a share link: link REMOTE; or `link revoke ID`")
    s.add_argument("target", nargs="+", metavar="REMOTE")
    s.add_argument("--expires", help="lifetime: 30m, 12h, 7d, 2w (default: no expiry)")
    s.add_argument("--max-downloads", type=int, help="stop after N downloads")
    s.add_argument(
        "--password",
        action="store_true",
        help="also require a password (BLINDVAULT_LINK_PASSWORD or a prompt); never sent",
    )
    add("links", cmd_links, "list your share links")
    s = add("open-link", cmd_open_link, "download what a share link points to (no account)")
    s.add_argument("url", nargs="?", help="the link, or - to read it from standard input")
    s.add_argument("local", nargs="?")
