"""Entry point of the `blindvault` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch: `server`, `admin`, `bench` (their own parsers), or a client command."""
    args = sys.argv[1:] if argv is None else argv
    from blindvault.client.agent.forward import forward

    code = forward(args)  # unlocked: a short command runs in the agent (issue 18)
    if code is not None:
        return code
    from blindvault.cli.server import delegate

    done = delegate(args)
    if done is not None:
        return done
    from blindvault.cli.app import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
