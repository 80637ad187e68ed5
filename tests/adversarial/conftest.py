"""Fixtures of the adversarial harness; the helpers live in advlib.py (imported by name from
the tests, which a module called `conftest` cannot safely be)."""

from advlib import _proxy, bv, proxy, upstream, victim

__all__ = ["_proxy", "bv", "proxy", "upstream", "victim"]
