"""One default TLS context for every httpx client of the test process.

httpx builds a fresh `ssl.SSLContext` for each client and loads the whole CA bundle into it
(about 150 certificates: 20 ms on a quiet machine, 150-250 ms on a busy one), even for the
plain-HTTP loopback URLs the tests use. The suite makes thousands of clients: every CLI
command run in-process, every `httpx.get` of a helper, every poll of a starting server.
`install()` makes the default case (`verify=True`, no client certificate) build that
context once per process and share it; it is never modified after it is built. A client
given its own context or CA (tests/server/test_tls.py) or `verify=False` still gets exactly
what it asked for."""

from __future__ import annotations

import os
import ssl
from typing import Any

__all__ = ["install"]

_cache: dict[tuple[bool, str | None, str | None], ssl.SSLContext] = {}


def install() -> None:
    """Patch httpx's transports to reuse the default context (no-op on other httpx versions,
    which then simply build their own as before)."""
    try:
        from httpx._transports import default
    except ImportError:
        return
    build = getattr(default, "create_ssl_context", None)
    if build is None or getattr(build, "_blindvault_cached", False):
        return

    def cached(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is not True or cert is not None:
            return build(verify=verify, cert=cert, trust_env=trust_env)  # type: ignore[no-any-return]
        env = os.environ
        key = (trust_env, env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR"))
        if key not in _cache:
            _cache[key] = build(verify=True, cert=None, trust_env=trust_env)
        return _cache[key]

    cached._blindvault_cached = True  # type: ignore[attr-defined]
    default.create_ssl_context = cached  # type: ignore[attr-defined]
