"""Fixtures of the adversarial harness; the helpers live in tests/helpers/adversarial.py."""

from helpers.adversarial import _proxy, bv, proxy, upstream, victim

__all__ = ["_proxy", "bv", "proxy", "upstream", "victim"]
