"""Fixtures of the client tests; they live in tests/helpers/client.py."""

from helpers.client import cli, server

__all__ = ["cli", "server"]
