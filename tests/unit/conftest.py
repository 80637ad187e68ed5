from __future__ import annotations

import pytest

from blindvault.core.identity import Identity


@pytest.fixture(scope="session")
def alice() -> Identity:
    return Identity.generate("alice@example.org", 1_700_000_000_000)


@pytest.fixture(scope="session")
def bob() -> Identity:
    return Identity.generate("bob@example.org", 1_700_000_000_001)


@pytest.fixture(scope="session")
def carol_pq() -> Identity:
    return Identity.generate("carol@example.org", 1_700_000_000_002, post_quantum=True)
