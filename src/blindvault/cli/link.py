"""CLI commands for share links: link, links, link revoke, open-link."""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.cli.link_source import link_url
from blindvault.cli.prompts import when
from blindvault.errors import UsageError

__all__ = ["parse_duration", "register", "route"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """'7d', '12h', '30m', '45s', '2w' → seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text or "")
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"not a duration: {text!r} (use e.g. 30m, 12h, 7d, 2w)")
    return float(int(m.group(1)) * _UNITS[m.group(2)])


def route(argv: list[str]) -> list[str]:
    """`link revoke ID` is its own command (`link-revoke`), so argparse parses its ID. A
    link id is URL-safe base64 and may start with "-" (1 in 64): argparse would read it as
    an option, so such an id moves after a "--" at the end."""
    if argv[:2] == ["link", "revoke"]:
        argv = ["link-revoke", *argv[2:]]
    if argv[:1] == ["link-revoke"] and len(argv) > 1:
        first = argv[1]
        if first.startswith("-") and not first.startswith("--") and len(first) > 2:
            return ["link-revoke", *argv[2:], "--", first]
    return argv


def cmd_link_revoke(ctx: Context) -> int:
    ctx.open().links.revoke(ctx.args.id)
    ctx.show({"revoked": ctx.args.id}, f"Revoked {ctx.args.id}")
    return 0


def cmd_link(ctx: Context) -> int:
    args = ctx.args
    if args.upload_only and (args.password or args.max_downloads is not None):
        raise UsageError("an upload-only link has no password and no download limit")
    if args.max_uploads is not None and not args.upload_only:
        raise UsageError("--max-uploads is for --upload-only links")
    vault = ctx.open()
    if args.upload_only:
        url = vault.drops.create(
            args.remote,
            expires_in=parse_duration(args.expires) if args.expires else None,
            max_uploads=args.max_uploads,
        )
        link_id = url.rsplit("/s/", 1)[1].split("#", 1)[0]
        ctx.show({"url": url, "id": link_id, "upload_only": True}, url)
        return 0
    url = vault.links.create(
        args.remote,
        expires_in=parse_duration(args.expires) if args.expires else None,
        max_downloads=args.max_downloads,
        password=ctx.link_password(confirm=True) if args.password else None,
    )
    link_id = url.rsplit("/s/", 1)[1].split("#", 1)[0]
    ctx.show({"url": url, "id": link_id}, url)
    return 0


def cmd_links(ctx: Context) -> int:
    items = ctx.open().links.listing()
    lines = []
    for i in items:
        state = "revoked" if i.revoked else "active"
        limit = f"{i.downloads}/{i.max_downloads}" if i.max_downloads else f"{i.downloads}/-"
        if i.kind == "drop":
            cap = i.max_uploads if i.max_uploads is not None else "-"
            limit = f"uploads {i.uploads}/{cap}"
        else:
            limit = f"downloads {limit}"
        pw = " password" if i.password else ""
        lines.append(f"{i.id}  {i.kind:6}  {state:7}  {limit:17}  expires {when(i.expires_at)}{pw}")
    ctx.show([dataclasses.asdict(i) for i in items], "\n".join(lines) or "No links.")
    return 0


def cmd_open_link(ctx: Context) -> int:
    from blindvault.client.links import open_link

    url, local = link_url(ctx)  # argv, `-` for standard input, or BLINDVAULT_LINK_URL
    needs = url.strip().endswith(".p")
    written = open_link(
        url,
        Path(local or "."),
        password=ctx.link_password(confirm=False) if needs else None,
        insecure=ctx.args.insecure,
        progress=None,
    )
    ctx.show([str(p) for p in written], "\n".join(str(p) for p in written))
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("link", cmd_link, "make a share link: link REMOTE; or `link revoke ID`")
    s.add_argument("remote", metavar="REMOTE")
    s.add_argument("--expires", help="lifetime: 30m, 12h, 7d, 2w (default: no expiry)")
    s.add_argument("--max-downloads", type=int, help="stop after N downloads")
    s.add_argument(
        "--upload-only",
        action="store_true",
        help="a file drop: holders may upload into the folder REMOTE and see nothing there",
    )
    s.add_argument("--max-uploads", type=int, metavar="N", help="upload-only: stop after N")
    s.add_argument(
        "--password",
        action="store_true",
        help="also require a password (--password-stdin, BLINDVAULT_LINK_PASSWORD or a "
        "prompt); never sent",
    )
    s = add("link-revoke", cmd_link_revoke, "`link revoke ID`: revoke a share link")
    s.prog = "blindvault link revoke"
    s.set_defaults(shown_as="link")
    s.add_argument("id", metavar="ID")
    add("links", cmd_links, "list your share links")
    s = add("open-link", cmd_open_link, "download what a share link points to (no account)")
    s.add_argument("url", nargs="?", help="the link, or - to read it from standard input")
    s.add_argument("local", nargs="?")
