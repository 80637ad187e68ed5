"""Fixtures of the load tests; the helpers live in loadlib.py."""

from loadlib import weed

__all__ = ["weed"]
