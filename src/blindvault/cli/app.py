"""The `blindvault` command line, on the SDK (`blindvault.client.vault.Vault`).

Each command family registers its own arguments next to its handlers (`account`, `files`,
`peers`, `share`, `link`); `server`, `admin` and `bench` have their own parsers (`server`).
A handler gets the run's `Context`; `errors.report` turns whatever it raises into a
message and an exit code (listed in `cli/errors.py` and `docs/guide.md`).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from blindvault.cli import invite, link
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


# The commands each family registers, in the order `--help` lists them. A run imports only
# the family of its command (tests/unit/test_cli_families.py keeps this table true): a
# short command does not load every other command's client code, and the password's
# Argon2id (64 MiB) runs before the client is imported (cli.context), so the two never
# add up in one process's peak memory.
FAMILIES: dict[str, tuple[str, ...]] = {
    "account": ("signup", "login", "logout", "whoami", "recover", "devices", "passwd"),
    "agent": ("unlock", "lock", "status"),
    "peers": ("peers", "fingerprint", "trust"),
    "files": ("ls", "tree", "mkdir", "put", "get", "mv", "rm", "verify"),
    "history": ("versions", "restore"),
    "trash": ("trash", "forget", "prune"),
    "link": ("link", "link-revoke", "links", "open-link"),
    "drop": ("drop", "drops"),
    "share": ("share", "shares", "accept", "unshare"),
    "group": ("group",),
    "invite": ("share-complete", "invitations"),
    "sync": ("sync",),
    "apps": ("apps",),
    "totp": ("totp",),
    "recovery": ("recovery",),
    "audit": ("audit",),
}


def _families(argv: list[str] | None) -> tuple[str, ...]:
    """The family of `argv`'s command; every family for `--help`, no command or an unknown
    one (argparse then lists them all)."""
    words = iter(argv or ())
    for word in words:
        if word == "--app-credential":
            next(words, None)
        elif not word.startswith("-"):
            for family, commands in FAMILIES.items():
                if word in commands:
                    return (family,)
            break
    return tuple(FAMILIES)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given the (routed) command line, of its command's
    family only."""
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

    for family in _families(argv):
        importlib.import_module(f"blindvault.cli.{family}").register(add)
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
    routed = invite.route(link.route(argv))
    parser = parser or build_parser(routed)
    try:
        args = parser.parse_args(routed)
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
