"""Fixtures of the fault tests; the helpers live in faultlib.py."""

from faultlib import proxy, server, user, weed

__all__ = ["proxy", "server", "user", "weed"]
