"""Fixtures of the fault tests; the helpers live in tests/helpers/faults.py."""

from helpers.faults import proxy, server, user

__all__ = ["proxy", "server", "user"]
