"""Suite `kdf`: PBKDF2-SHA-256 by iteration count next to the Cozy seed's browser figures,
Argon2id at the account presets, and a login timed end to end against a real server."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.core import primitives
from blindvault.core.constants import (
    ARGON2_DEFAULT_ITERATIONS,
    ARGON2_DEFAULT_LANES,
    ARGON2_DEFAULT_MEMORY_KIB,
    ARGON2_FLOOR_ITERATIONS,
    ARGON2_FLOOR_MEMORY_KIB,
    PBKDF2_DEFAULT_ITERATIONS,
)

__all__ = ["SEED_PBKDF2_MS", "run_kdf"]

# Cozy seed: Firefox 70 (WebCrypto) on an i7-8550U
SEED_PBKDF2_MS = {1_000: 3.0, 10_000: 25.0, 100_000: 253.0, 1_000_000: 2_398.0}
ARGON2_PRESETS = {
    "floor": (ARGON2_FLOOR_MEMORY_KIB, ARGON2_FLOOR_ITERATIONS, 1),
    "default": (ARGON2_DEFAULT_MEMORY_KIB, ARGON2_DEFAULT_ITERATIONS, ARGON2_DEFAULT_LANES),
}


def _best_ms(fn: Any, repeat: int) -> float:
    """Median of `repeat` runs, in ms."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _login(work: Path, quick: bool) -> dict[str, Any]:
    """Log in from a fresh device state (prelogin, Argon2id, session, key bundle, root), in
    process and through the CLI (`blindvault login`, a new Python process)."""
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault

    repeat = 1 if quick else 5
    with util.server(work / "server") as srv:
        util.signup(srv.url, work / "home", "kdf@example.org")
        sdk: list[float] = []
        for i in range(repeat):
            store = StateStore(work / f"fresh-{i}")
            t0 = time.perf_counter()
            Vault.open(srv.url, "kdf@example.org", util.PASSWORD, store=store).close()
            sdk.append(time.perf_counter() - t0)
        cli: list[float] = []
        for i in range(repeat):
            home = work / f"cli-{i}"
            cmd = util.cli("login", "--server", srv.url, "--email", "kdf@example.org")
            cli.append(util.run_measured(cmd, env=util.cli_env(home)).seconds)
        startup = util.run_measured(util.cli("--help")).seconds
    return {
        "login_sdk_ms": statistics.median(sdk) * 1000,
        "login_cli_ms": statistics.median(cli) * 1000,
        "python_startup_ms": startup * 1000,
    }


def run_kdf(work: Path, *, quick: bool = False) -> dict[str, Any]:
    iterations = (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    iterations = (*iterations, PBKDF2_DEFAULT_ITERATIONS) if not quick else iterations
    repeat = 1 if quick else 3
    pbkdf2 = {
        str(i): _best_ms(
            lambda i=i: primitives.pbkdf2_sha256(b"pw", b"\x00" * 32, iterations=i, length=32),
            repeat,
        )
        for i in sorted(iterations)
    }
    argon = {
        name: {
            "memory_kib": m,
            "iterations": t,
            "lanes": p,
            "ms": _best_ms(
                lambda m=m, t=t, p=p: primitives.argon2id(
                    b"pw", b"\x00" * 32, memory_kib=m, iterations=t, lanes=p
                ),
                repeat,
            ),
        }
        for name, (m, t, p) in ARGON2_PRESETS.items()
    }
    return {
        "pbkdf2_ms": pbkdf2,
        "seed_pbkdf2_ms": {str(k): v for k, v in SEED_PBKDF2_MS.items()},
        "argon2id": argon,
        **_login(work, quick),
    }
