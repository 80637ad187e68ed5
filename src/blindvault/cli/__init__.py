"""The `blindvault` command line: one module per command family, one context per run,
one place (`errors`) turning failures into messages and exit codes."""

from blindvault.cli.app import build_parser, main
from blindvault.cli.errors import EXIT_CODES, exit_code, message

__all__ = ["EXIT_CODES", "build_parser", "exit_code", "main", "message"]
