"""The `blindvault` command line: one module per command family, one context per run,
one place (`errors`) turning failures into messages and exit codes.

The names below load on first use (PEP 562), so that importing one family (`cli.files`)
or the context does not import every command's client code: a command's password
derivation then runs while the process is still small (see `cli.context`)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXIT_CODES", "build_parser", "exit_code", "main", "message"]


def __getattr__(name: str) -> Any:
    if name in ("build_parser", "main"):
        from blindvault.cli import app

        return getattr(app, name)
    if name in ("EXIT_CODES", "exit_code", "message"):
        from blindvault.cli import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'blindvault.cli' has no attribute {name!r}")
