"""Where `open-link` takes the link from, so the secret need not be in argv (shell history,
`ps`): `open-link - [LOCAL]` reads it from standard input; with `BLINDVAULT_LINK_URL` set,
`open-link [LOCAL]` uses that."""

from __future__ import annotations

import os

from blindvault.cli.context import Context
from blindvault.errors import UsageError

ENV = "BLINDVAULT_LINK_URL"


def link_url(ctx: Context) -> tuple[str, str]:
    """The link URL and the local destination for `open-link`."""
    url, local = ctx.args.url, ctx.args.local
    if url == "-":
        line = ctx.stdin_line().strip()
        if not line:
            raise UsageError("open-link -: expected the link on standard input")
        return line, local
    env = os.environ.get(ENV, "").strip()
    if url is not None and ("://" in url or not env):
        return url, local  # a link in argv (a malformed one is refused as such, exit 9)
    if not env:
        raise UsageError(f"give the link as an argument, as `-` (standard input) or in {ENV}")
    if url is not None:  # `open-link LOCAL` with the link in the environment
        if local is not None:
            raise UsageError(f"{url} is not a link (with {ENV} set, give only LOCAL)")
        local = url
    return env, local
