"""Fixtures of the client tests; they live in tests/client_support.py (a unique module
name, so test modules can import `Cli` whatever folders pytest is given)."""

from client_support import cli, server

__all__ = ["cli", "server"]
