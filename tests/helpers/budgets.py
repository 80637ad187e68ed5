"""How long the fuzz, load and fault runs are: bounded in the normal test run, longer with
BLINDVAULT_FUZZ=long.

BLINDVAULT_FUZZ=long .venv/bin/python -m pytest tests/fuzz tests/load -s   # figures printed
"""

from __future__ import annotations

import os

LONG = os.environ.get("BLINDVAULT_FUZZ") == "long"
EXAMPLES = 4000 if LONG else 120  # per decoder, Hypothesis
API_EXAMPLES = 400 if LONG else 12  # per API operation, schemathesis
