"""Load and concurrency runs: bounded in time and requests, loopback only.

BLINDVAULT_FUZZ=long .venv/bin/python -m pytest tests/load -s   # longer runs, figures printed
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))
from realprocs import Weed

LONG = os.environ.get("BLINDVAULT_FUZZ") == "long"


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Overrides tests/conftest.py's: same SeaweedFS, without the fixed-port listeners."""
    w = Weed(tmp_path_factory.mktemp("weed-load"))
    w.start()
    try:
        yield w.url
    finally:
        w.stop()
