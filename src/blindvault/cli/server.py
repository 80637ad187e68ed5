"""Commands with parsers of their own: `server` (run a server), `admin` (its accounts and
invitations), `bench` (measurements) and `webapp-hashes` (the web app's release hashes).
Each loads only when asked for, so the client commands never import the server stack."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["DELEGATED", "delegate"]


def _server(argv: list[str]) -> int:
    from blindvault.server.cli import main

    return main(argv)


def _admin(argv: list[str]) -> int:
    from blindvault.cli import org_admin

    if org_admin.handles(argv):  # the organisation recovery key needs the crypto core
        return org_admin.main(argv)
    from blindvault.server.admin import main

    return main(argv)


def _webapp_hashes(argv: list[str]) -> int:
    from blindvault.server.webapp_hashes import main

    return main(argv)


def _bench(argv: list[str]) -> int:
    from blindvault.bench.__main__ import main

    return main(argv)


DELEGATED: dict[str, Callable[[list[str]], int]] = {
    "server": _server,
    "admin": _admin,
    "bench": _bench,
    "webapp-hashes": _webapp_hashes,
}


def delegate(argv: list[str]) -> int | None:
    """Run `argv` if it names a delegated command; None otherwise."""
    run = DELEGATED.get(argv[0]) if argv else None
    return run(argv[1:]) if run is not None else None
