"""Entry point of the `blindvault` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch: `server`, `admin`, `bench`, or a client command."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["server"]:
        from blindvault.server.cli import main as server_main

        return server_main(args[1:])
    if args[:1] == ["admin"]:
        from blindvault.server.admin import main as admin_main

        return admin_main(args[1:])
    if args[:1] == ["bench"]:
        from blindvault.bench.__main__ import main as bench_main

        return bench_main(args[1:])
    from blindvault.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
