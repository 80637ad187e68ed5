"""The agent process as `unlock` starts it: `python -m blindvault.cli.agent_worker DIR`.

It is the key agent (`blindvault.client.agent.daemon`) plus the runner of forwarded
commands (`blindvault.client.agent.forward`): the CLI and the SDK are imported once, here,
and each forwarded command runs in a fork with `forwarded=True`, which makes a command that
would need the password give up before it does anything (the caller then runs it itself)."""

from __future__ import annotations

import os
import sys

import blindvault.client.vault  # noqa: F401 (loaded once, before the forks)
from blindvault.cli.app import build_parser
from blindvault.cli.app import main as cli_main
from blindvault.cli.context import NeedsPasswordError
from blindvault.client.agent import daemon
from blindvault.client.net.http import tls_context

__all__ = ["main", "run"]

_PARSER = build_parser()  # ~55 ms of argparse, paid once by the agent, not by each fork


def run(argv: list[str], keys: daemon.KeyLookup) -> int | None:
    """In the fork: the command's exit code, or None if it needs the password."""
    try:
        return cli_main(argv, forwarded=True, parser=_PARSER, keys=keys)
    except NeedsPasswordError:
        return None


def main(argv: list[str]) -> int:
    tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))  # warm
    return daemon.main(argv, runner=run)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
