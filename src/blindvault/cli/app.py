"""The `blindvault` command line, on the SDK (`blindvault.client.vault.Vault`).

Each command family registers its own arguments next to its handlers (`account`, `files`,
`peers`, `share`, `link`); `server`, `admin` and `bench` have their own parsers (`server`).
A handler gets the run's `Context`; `errors.report` turns whatever it raises into a
message and an exit code (listed in `cli/errors.py` and `docs/guide.md`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from blindvault.cli import (
    account,
    agent,
    apps,
    audit,
    drop,
    files,
    group,
    history,
    invite,
    link,
    peers,
    recovery,
    share,
    sync,
    totp,
    trash,
)
from blindvault.cli.context import Context, NeedsPasswordError
from blindvault.cli.errors import report

if TYPE_CHECKING:
    from blindvault.client.agent.daemon import KeyLookup

__all__ = ["build_parser", "main"]

Handler = Callable[[Context], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", help="server URL (default: the logged-in one)")
    common.add_argument("--email", help="account email (default: the logged-in one)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument(
        "--password-stdin", action="store_true", help="read the password(s) from stdin"
    )
    common.add_argument(
        "--insecure", action="store_true", help="allow plain HTTP to a non-loopback host"
    )
    _app_credential(common, argparse.SUPPRESS)  # also after the command name
    return common


def _app_credential(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--app-credential",
        metavar="FILE",
        default=default,
        help="run as an app: its container only (see `apps authorize`)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    p = argparse.ArgumentParser(
        prog="blindvault",
        description="End-to-end encrypted storage.",
        epilog="Also: `blindvault server`, `blindvault bench`, `blindvault webapp-hashes`.",
    )
    _app_credential(p, None)  # `blindvault --app-credential FILE ls …`
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Handler, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    families = (
        account,
        agent,
        peers,
        files,
        history,
        trash,
        link,
        drop,
        share,
        group,
        invite,
        sync,
        apps,
        totp,
        recovery,
    )
    for family in (*families, audit):
        family.register(add)
    return p


def main(
    argv: list[str],
    *,
    forwarded: bool = False,
    parser: argparse.ArgumentParser | None = None,
    keys: KeyLookup | None = None,
) -> int:
    """Run one command; `forwarded`: in the agent's fork, with the `parser` it built once
    and its `keys` (see `cli.agent_worker`)."""
    parser = parser or build_parser()
    try:
        args = parser.parse_args(invite.route(link.route(argv)))
    except SystemExit as exc:
        return int(exc.code or 0)
    ctx = Context(args, forwarded=forwarded, agent_keys=keys)
    try:
        return int(args.func(ctx))
    except BaseException as exc:  # every failure is reported in one place
        if isinstance(exc, SystemExit | GeneratorExit | NeedsPasswordError):
            raise
        return report(getattr(args, "shown_as", args.command), exc)
    finally:
        ctx.finish()
