"""Runs the Node test suite of the link page (tests/web/*.test.mjs) under pytest."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent


def test_node_vectors() -> None:
    node = shutil.which("node")
    assert node is not None, "node (20+) is required for the link-page tests"
    result = subprocess.run(
        [node, "--test", str(HERE)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", result.stdout, re.MULTILINE)
    assert passed is not None and failed is not None, result.stdout[-2000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 160  # one per vector case, and then some
