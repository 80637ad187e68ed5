"""How long the fuzz, load, race and fault runs are: bounded in the normal test run (CI),
longer with BLINDVAULT_LONG_TESTS=1 (the older spelling BLINDVAULT_FUZZ=long still works).

BLINDVAULT_LONG_TESTS=1 .venv/bin/python -m pytest tests/fuzz tests/load tests/server -s   # figures printed

The bounded counts are sized so that each race test still catches the bug it was written
for (see the test's docstring); the long counts search further.
"""

from __future__ import annotations

import os

LONG = os.environ.get("BLINDVAULT_LONG_TESTS") == "1" or os.environ.get("BLINDVAULT_FUZZ") == "long"
EXAMPLES = 4000 if LONG else 120  # per decoder, Hypothesis
API_EXAMPLES = 400 if LONG else 12  # per API operation, schemathesis


def rounds(ci: int, long: int) -> int:
    """`ci` rounds of a race in the normal run, `long` with BLINDVAULT_LONG_TESTS=1."""
    return long if LONG else ci
